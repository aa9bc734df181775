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
References without a face box (none found, device-made, or fingerprinted before the boxes
existed) are matched as before.
"""

from __future__ import annotations

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
