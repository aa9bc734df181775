"""Checks on a fitted geometry (engine.Matcher._fit): is the homography's frame sane, and is the
fit a copy of the picture or only another photo of the same face. Pure module: no Django.

Another photo of the same face is not a copy of the picture. A face keeps its shape from photo to
photo and has texture enough for 20-100 ORB inliers, so with one reference (no other faces among
the ratio test's rivals) the feature rules matched 128 of 3,328 pairs of different LFW photos of
one person (docs/benchmarks.md, "Another photo of the same face"). A copy's inliers lie all over
the picture (background, clothes, the face); such a fit's lie on the face. A fit is therefore
taken for another photo when at least FACE_ONLY_SHARE of its inliers lie in one face box of the
reference (Fingerprint.face_boxes) *and* their convex hull holds less than FACE_ONLY_COVERAGE of
the reference's features that the fit carries into the candidate's frame: in a close-up, where
the face is most of the picture, a copy's inliers are on the face too, but they cover it. An
undress edit keeps the background and hair around the face, which carry its inliers.

On faces-dev (the thresholds were chosen there, so the figures are optimistic) the rule removes 80
of the 128 and none of 2,712 feature matches of transformed copies (LFW photo 1s with the
accuracy bench's 30 transformations, undress edits included, and photos-dev, which has no face
boxes). Its price: a copy reduced to little more than the face (a tight crop, a small collage
tile) is refused too; on LFW, 2 collage tiles of a news photo that two people's crops share.

A reference that was never looked at for faces (device-made: the person's device has no face
detector; or fingerprinted before the boxes existed, its picture long discarded) borrows the
candidate's boxes instead: the inliers' share inside a face box is then counted on the
candidate's side of the fit, which holds the same face in a copy and in another photo alike.
Detecting them costs tens of milliseconds, so it is done only when the fit that would be accepted
covers too little to be told from another photo without them (``face_details``;
engine.Matcher.match_features): 128 of 4,500 LFW candidates. It removes 84 of the 128 (44 left,
against 48 with the reference's boxes) and loses no copy on LFW (docs/benchmarks.md, "Device-made
references"). A reference looked at and found to hold no face is matched as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

FACE_ONLY_SHARE = 0.8
FACE_ONLY_COVERAGE = 0.4


def convex(quad: np.ndarray) -> bool:
    signs = []
    for i in range(4):
        a, b, c = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        u, v = b - a, c - b
        signs.append(u[0] * v[1] - u[1] * v[0])
    return all(s > 0 for s in signs) or all(s < 0 for s in signs)


def polygon_area(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def sane_homography(hom: np.ndarray, ref_size: tuple[int, int], cand_size: tuple[int, int]) -> bool:
    """A homography that keeps the reference's frame a convex quadrilateral of a plausible size
    in the candidate (not folded, not vanishing to a point or blown up past the picture)."""
    w, h = ref_size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32).reshape(-1, 1, 2)
    try:
        quad = cv2.perspectiveTransform(corners, hom).reshape(-1, 2)
    except cv2.error:
        return False
    if not np.all(np.isfinite(quad)) or not convex(quad):
        return False
    area_ratio = polygon_area(quad) / max(w * h, 1)
    cw, ch = cand_size
    cand_ratio = polygon_area(quad) / max(cw * ch, 1)
    return 0.005 <= area_ratio <= 150 and cand_ratio >= 0.01


def mirrored_boxes(boxes: np.ndarray, width: float) -> np.ndarray:
    """Face boxes (left, top, right, bottom) of the picture mirrored left to right."""
    return np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)


def face_share(boxes: np.ndarray | None, pts: np.ndarray) -> float | None:
    """The largest share of the points (reference coordinates) inside one of the boxes, or None
    when there is no box."""
    if boxes is None or not len(boxes) or not len(pts):
        return None
    x, y = pts[:, 0:1], pts[:, 1:2]
    inside = (x >= boxes[:, 0]) & (x <= boxes[:, 2]) & (y >= boxes[:, 1]) & (y <= boxes[:, 3])
    return float(inside.mean(axis=0).max())


def coverage(
    ref_xy: np.ndarray, pts: np.ndarray, model: np.ndarray, candidate_size: tuple[int, int]
) -> float:
    """Share of the reference's features (``ref_xy``) that ``model`` carries into the candidate's
    frame and that lie inside the convex hull of the inliers ``pts`` (reference coordinates)."""
    if len(pts) < 3 or not len(ref_xy):
        return 0.0
    xy = ref_xy.astype(np.float64)
    cw, ch = candidate_size
    try:
        moved = cv2.perspectiveTransform(xy.reshape(-1, 1, 2), model.astype(np.float64)).reshape(-1, 2)
    except cv2.error:
        return 0.0
    visible = xy[(moved[:, 0] >= 0) & (moved[:, 0] < cw) & (moved[:, 1] >= 0) & (moved[:, 1] < ch)]
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if not len(visible) or len(hull) < 3:
        return 0.0
    a, b = hull, np.roll(hull, -1, axis=0)
    # The sign of cross(b - a, p - a) for every hull edge and point: inside a convex polygon it
    # is the same for every edge (convexHull gives one orientation, whichever it is).
    cross = (b[None, :, 0] - a[None, :, 0]) * (visible[:, 1:2] - a[None, :, 1]) - (
        b[None, :, 1] - a[None, :, 1]
    ) * (visible[:, 0:1] - a[None, :, 0])
    inside = (cross >= -1e-6).all(axis=1) | (cross <= 1e-6).all(axis=1)
    return float(inside.mean())


def face_details(
    *,
    ref_boxes: np.ndarray | None,
    ref_known: bool,
    cand_boxes: list[tuple[int, int, int, int]],
    cand_known: bool,
    ref_pts: np.ndarray,
    cand_pts: np.ndarray,
    coverage_of: Callable[[], float],
) -> dict[str, Any]:
    """What the face-only rule needs of one fit: ``face_share`` (and on which side it was
    counted), ``coverage`` when the share is high enough to matter, or ``faces_unknown`` when
    neither side's faces are known and the fit covers too little to pass without them.
    ``ref_pts``/``cand_pts``: the inliers in reference and candidate coordinates."""
    out: dict[str, Any] = {}
    share = face_share(ref_boxes, ref_pts)
    if share is None and not ref_known:
        if cand_known:
            share = face_share(np.array(cand_boxes, np.float32).reshape(-1, 4), cand_pts)
            out["face_side"] = "candidate"
        else:
            cover = coverage_of()
            if cover < FACE_ONLY_COVERAGE:
                out["coverage"] = round(cover, 3)
                out["faces_unknown"] = True
            return out
    if share is not None:
        out["face_share"] = round(share, 3)
        if share >= FACE_ONLY_SHARE:
            out["coverage"] = round(coverage_of(), 3)
    return out
