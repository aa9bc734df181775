"""ORB local features (stage 2's evidence), spread over the picture. Pure module: no Django."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from .pixels import as_array, as_gray

FEATURE_SIDE = 800  # long side of the grey image that local features are computed on
# Small images are enlarged only a little: upscaling adds no detail, only blurry keypoints.
MAX_UPSCALE = 2.5
GRID = 8  # keypoints are spread over a GRID x GRID layout so one textured corner cannot hog them


def _feature_gray(pixels: np.ndarray, side: int) -> np.ndarray:
    gray = as_gray(pixels)
    h, w = gray.shape
    scale = min(side / max(h, w), MAX_UPSCALE)
    if abs(scale - 1) > 0.02:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
    return gray


FAST_THRESHOLD = 12
# Candidates only: a soft picture (an inpainting model's re-render, a blurred or upscaled
# repost) yields few corners at FAST_THRESHOLD, sometimes under 300 of the 2,000 wanted; such
# a candidate is detected again at this lower threshold. References keep FAST_THRESHOLD.
LOW_FAST_THRESHOLD = 6
LOW_KEYPOINT_FRACTION = 0.5

_orb_cache: dict[tuple[int, int], cv2.ORB] = {}


def _orb(n: int, threshold: int = FAST_THRESHOLD) -> cv2.ORB:
    if (n, threshold) not in _orb_cache:
        _orb_cache[n, threshold] = cv2.ORB_create(  # type: ignore[attr-defined]
            nfeatures=n * 3,
            scaleFactor=1.2,
            nlevels=8,
            edgeThreshold=19,
            patchSize=31,
            fastThreshold=threshold,
        )
    return _orb_cache[n, threshold]


def orb_features(
    img: Image.Image | np.ndarray, n: int, side: int = FEATURE_SIDE, *, adaptive: bool = False
) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """Up to n ORB keypoints spread over a grid: (feature image size, xy n x 2, descriptors n x 32).

    ``adaptive``: when fewer than half of n corners pass FAST_THRESHOLD, detect again at
    LOW_FAST_THRESHOLD (candidates only)."""
    gray = _feature_gray(as_array(img), side)
    h, w = gray.shape
    orb = _orb(n)
    kps = orb.detect(gray, None)
    if adaptive and len(kps) < n * LOW_KEYPOINT_FRACTION and LOW_FAST_THRESHOLD < FAST_THRESHOLD:
        orb = _orb(n, LOW_FAST_THRESHOLD)
        kps = orb.detect(gray, None)
    if not kps:
        return (w, h), np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    if len(kps) > n:
        resp = np.array([k.response for k in kps], dtype=np.float32)
        pts = np.array([k.pt for k in kps], dtype=np.float32)
        cell = (
            np.minimum(pts[:, 1] * GRID // h, GRID - 1) * GRID + np.minimum(pts[:, 0] * GRID // w, GRID - 1)
        ).astype(int)
        order = np.lexsort((-resp, cell))
        # rank of each keypoint within its cell, strongest first
        rank = np.empty(len(kps), dtype=np.int64)
        sorted_cells = cell[order]
        starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
        rank[order] = np.arange(len(kps)) - starts
        # Round-robin over cells, strongest first within each: every textured cell gets an
        # equal share, so a photo inside a page full of text still keeps its keypoints.
        take = np.lexsort((-resp, rank))[:n]
        chosen = np.zeros(len(kps), bool)
        chosen[take] = True
        kps = [kps[int(i)] for i in np.flatnonzero(chosen)]
    kps, desc = orb.compute(gray, kps)
    if desc is None or not kps:
        return (w, h), np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    xy = np.array([k.pt for k in kps], dtype=np.float32)
    return (w, h), xy, desc
