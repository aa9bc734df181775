"""Guided matching: once a geometry is known, pair features by where they land.

Pure module: no Django. Used by engine.Matcher for near misses (a clean but small fit) and for
band-nominated references (undress edits), which it verifies again from a known alignment.
"""

from __future__ import annotations

import cv2
import numpy as np

from .fingerprint import Fingerprint

GUIDED_PX = 6.0  # at the candidate's feature size (800 px)
GUIDED_MAX_HAMMING = 50


def guided_pairs(
    ref_xy: np.ndarray, ref_desc: np.ndarray, offset: int, candidate: Fingerprint, model: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every reference feature (positions ``ref_xy`` at the reference's feature size,
    descriptors ``ref_desc``), carried into the candidate by ``model``, paired with the
    closest-described candidate keypoint within GUIDED_PX of where it lands (descriptor
    distance <= GUIDED_MAX_HAMMING, each candidate keypoint used once).

    The nearest-neighbour search with its ratio test keeps only distinctive matches, which is
    right for finding a hypothesis but starves a picture of which only a part survives (an
    undress edit keeps the top band and side strips); once the geometry is known, the position
    itself is the distinctive part. Returns (cand idx, feature idx + ``offset``, distance)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if not len(candidate.keypoints) or not len(ref_xy):
        return empty
    r_px = GUIDED_PX
    proj = cv2.perspectiveTransform(
        ref_xy.reshape(-1, 1, 2).astype(np.float64), model.astype(np.float64)
    ).reshape(-1, 2)
    cw, ch = candidate.feature_size
    ok = (
        np.isfinite(proj).all(axis=1)
        & (proj[:, 0] > -r_px)
        & (proj[:, 1] > -r_px)
        & (proj[:, 0] < cw + r_px)
        & (proj[:, 1] < ch + r_px)
    )
    f_all = np.flatnonzero(ok)
    p = proj[ok]
    cxy = candidate.keypoints.astype(np.float64)
    # Candidate keypoints bucketed in r_px cells; each projected point looks in the 3x3
    # cells around its own. Bucket ids may alias across rows at the edges: harmless, the
    # real distance is checked below.
    ncols = int(cw // r_px) + 3
    c_cell = (
        (np.floor(cxy[:, 1] / r_px).astype(np.int64) + 1) * ncols
        + np.floor(cxy[:, 0] / r_px).astype(np.int64)
        + 1
    )
    order = np.argsort(c_cell, kind="stable")
    sorted_cells = c_cell[order]
    px = np.floor(p[:, 0] / r_px).astype(np.int64) + 1
    py = np.floor(p[:, 1] / r_px).astype(np.int64) + 1
    rr_parts, cc_parts = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            cell = (py + dy) * ncols + px + dx
            lo = np.searchsorted(sorted_cells, cell, "left")
            cnt = np.searchsorted(sorted_cells, cell, "right") - lo
            total = int(cnt.sum())
            if not total:
                continue
            offsets = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            rr_parts.append(np.repeat(np.arange(len(p)), cnt))
            cc_parts.append(order[np.repeat(lo, cnt) + offsets])
    if not rr_parts:
        return empty
    rr, cc = np.concatenate(rr_parts), np.concatenate(cc_parts)
    near = np.hypot(*(cxy[cc] - p[rr]).T) <= r_px
    rr, cc = rr[near], cc[near]
    f = f_all[rr]
    d = np.bitwise_count(ref_desc[f] ^ candidate.descriptors[cc]).sum(axis=1)
    good = d <= GUIDED_MAX_HAMMING
    f, cc, d = f[good], cc[good], d[good]
    # Best pair per reference feature, then per candidate keypoint.
    for by_candidate in (False, True):
        key = cc if by_candidate else f
        o = np.lexsort((d, key))
        first = np.ones(len(o), bool)
        first[1:] = key[o][1:] != key[o][:-1]
        f, cc, d = f[o[first]], cc[o[first]], d[o[first]]
    return cc, f + offset, d.astype(np.float32)
