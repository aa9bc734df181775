"""Stage-1 hashes for matching, straight from file bytes, with JPEGs decoded at 1/2-1/8 scale.

Pure module: no Django. Meta's PDQ (``fingerprint.pdq_hash``) shrinks the image to 512 px,
box-filters it twice and samples a 64x64 grid; every grid value is a fixed weighted sum of
pixels spanning 10-20 pixels of a 1 MP photo, and only the 16x16 lowest frequencies of that
grid make the hash. So a JPEG is decoded here at the smallest DCT scale that keeps both sides
>= MIN_SIDE px (1/8 for phone photos, 1/4 for 1 MP, 1/2 for 320 px thumbnails): at 1/8 libjpeg
keeps only each 8x8 block's DC coefficient (the block's mean) and does no IDCT at all, at 1/4
and 1/2 a cheap reduced one. The same PDQ weights are applied with every pixel
replaced by its block's mean, folded into one (64 x blocks) matrix per axis. The hash is the
canonical PDQ of that blocky image: a few bits from Meta's on photos (measured in
docs/benchmarks.md), well inside the match distance.

These hashes are for *matching* candidates against references. A hash that leaves Jium
(exports, hash lists) comes from ``fingerprint.fingerprint_hash_only_bytes``, which agrees
with Meta's tools.
"""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np

from .decode import DEFAULT_MAX_PIXELS, DecodedMedia, JpegBlocks, decode_jpeg_blocks, decode_media
from .fingerprint import (
    PDQ_MIN_QUALITY,
    PDQ_SIDE,
    Fingerprint,
    _border_widths,
    _pdq_of_buffer,
    _pdq_taps,
    fingerprint_hash_only,
    fingerprint_hash_only_bytes,
)

# Decoded pixels per PDQ grid step (64 per axis): at one (64 px, 1/8 scale for a 1024x576
# photo) the blocks blur the grid enough to move 5 bits on average and up to 24 from Meta's
# hash on photos-dev, and hash-stage recall fell on two transformations of
# bench/stage1_accuracy.py; at 1.75 (112 px) 2.7 on average and at most 10, and no
# transformation loses a match. 112 rather than 128 lets 320x240 thumbnails (half of
# photos-dev, and common on the web) decode at 1/2 instead of in full (docs/benchmarks.md).
MIN_SIDE = 112
# Near PDQ_MIN_QUALITY the approximate quality could decide whether a hash may match at all;
# such (near-flat) images are hashed the exact way instead.
QUALITY_MARGIN = 10
BORDER_TOLERANCE = 14  # as fingerprint.trim_box


@functools.lru_cache(maxsize=1024)
def _block_edges(n_full: int, scale: int, reverse: bool) -> np.ndarray:
    """File-pixel edges [e0, e1, ...] of the decoded pixels along an axis of the shown image.

    libjpeg counts blocks from the stored top-left corner, so after an EXIF flip the partial
    block is the first one."""
    n_blocks = -(-n_full // scale)
    edges = np.minimum(np.arange(n_blocks + 1) * scale, n_full)
    return n_full - edges[::-1] if reverse else edges


@functools.lru_cache(maxsize=1024)
def _area_weights(n_full: int, n_pdq: int, scale: int, reverse: bool) -> np.ndarray:
    """(n_pdq, blocks): each pixel of PDQ's area-shrunk image (n_full -> n_pdq, as
    ``fingerprint._shrink``) as a weighted sum of decoded block means."""
    edges = _block_edges(n_full, scale, reverse)
    ratio = n_full / n_pdq
    out_lo = np.arange(n_pdq)[:, None] * ratio
    overlap = np.minimum(out_lo + ratio, edges[None, 1:]) - np.maximum(out_lo, edges[None, :-1])
    return np.clip(overlap, 0, None) / ratio


def _banded(weights: np.ndarray, idx: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PDQ's taps (idx, weights: 64 x k over the area-shrunk axis) composed with ``source``
    (shrunk axis x blocks), as taps over the blocks: (64 x kb) indices and float32 weights.

    Gathered rows and a batched product, as in fingerprint._pdq_of_small: a dense matrix
    product here would go through multi-threaded BLAS, which is slower on a busy machine."""
    dense = np.einsum("ik,ikb->ib", weights.astype(np.float64), source[idx])  # (64, blocks)
    nonzero = dense > 1e-9
    first = nonzero.argmax(axis=1)
    last = dense.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1)
    width = int((last - first).max()) + 1
    start = np.clip(first, 0, dense.shape[1] - width)
    band = start[:, None] + np.arange(width)[None, :]
    return band, np.take_along_axis(dense, band, axis=1).astype(np.float32)


@functools.lru_cache(maxsize=1024)
def _axis_taps(n_full: int, n_pdq: int, scale: int, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """The whole of PDQ's pixel pipeline along one axis (area shrink, two box filters,
    decimation), as taps over the decoded block means."""
    idx, weights = _pdq_taps(n_pdq)
    return _banded(weights, idx, _area_weights(n_full, n_pdq, scale, reverse))


def _pdq_of_blocks(
    blocks: np.ndarray, rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray]
) -> tuple[bytes, int]:
    (ri, rw), (ci, cw) = rows, cols
    gathered = blocks[ri.ravel()].astype(np.float32).reshape(64, ri.shape[1], -1)
    filtered = np.matmul(rw[:, None, :], gathered)[:, 0]  # (64, block columns)
    columns = cv2.transpose(np.ascontiguousarray(filtered))[ci]
    return _pdq_of_buffer(np.matmul(cw[:, None, :], columns)[:, 0].T)


# Whether the shown image's rows and columns run against the stored file's, by EXIF
# orientation (1-8); 5-8 also swap the axes (then the rows come from the stored columns).
_REVERSED_AXES = {
    1: (False, False), 2: (False, True), 3: (True, True), 4: (True, False),
    5: (False, False), 6: (False, True), 7: (True, True), 8: (True, False),
}  # fmt: skip


def _reversed_axes(orientation: int) -> tuple[bool, bool]:
    return _REVERSED_AXES[orientation]


def _trimmed(
    blocks: np.ndarray,
    dims: tuple[int, int],
    pdq_dims: tuple[int, int],
    scale: int,
    reverse: tuple[bool, bool],
) -> tuple[bytes, int] | None:
    """PDQ of the image inside its uniform borders, as ``fingerprint._hashes`` computes it (the
    box is found on the block means, then cut from PDQ's 512 px image), or None."""
    widths = _border_widths(blocks, BORDER_TOLERANCE, min_lines=1 if scale > 1 else 2)
    if widths is None:
        return None
    top, bottom, left, right = widths
    # fingerprint._trim_box_array looks at 256-511 px and cuts this far inside the border.
    pad = max(max(pdq_dims) // 256, 2)
    taps = []
    for n_full, n_pdq, rev, before, after in (
        (dims[0], pdq_dims[0], reverse[0], top, bottom),
        (dims[1], pdq_dims[1], reverse[1], left, right),
    ):
        edges = _block_edges(n_full, scale, rev)
        ratio = n_full / n_pdq
        lo = min(round(edges[before] / ratio) + pad, n_pdq - 1) if before else 0
        hi = max(round(edges[len(edges) - 1 - after] / ratio) - pad, 1) if after else n_pdq
        if hi <= lo:
            return None
        taps.append(_cut_taps(n_full, n_pdq, scale, rev, lo, hi))
    return _pdq_of_blocks(blocks, taps[0], taps[1])


@functools.lru_cache(maxsize=1024)
def _cut_taps(
    n_full: int, n_pdq: int, scale: int, reverse: bool, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """As ``_axis_taps`` for the part lo:hi of PDQ's shrunk axis (a border cut off). Letterbox
    bars come in a few standard sizes, so the same cuts recur."""
    idx, weights = _pdq_taps(hi - lo)
    return _banded(weights, idx, _area_weights(n_full, n_pdq, scale, reverse)[lo:hi])


def fingerprint_stage1_bytes(data: bytes, **limits: Any) -> list[Fingerprint]:
    """Stage-1 fingerprints (PDQ and trimmed PDQ) of an image or video's frames, for matching.

    JPEGs are hashed from their reduced-scale DCT image (see the module's docstring); other
    formats and near-flat images exactly as ``fingerprint.fingerprint_hash_only_bytes``.
    Raises ``DecodeError`` like ``decode_media``.
    """
    fps = stage1_of_decoded(stage1_decode(data, **limits))
    return fingerprint_hash_only_bytes(data, **limits) if fps is None else fps


def stage1_decode(data: bytes, **limits: Any) -> JpegBlocks | DecodedMedia:
    """What stage 1 hashes: most JPEGs as block means (``decode.decode_jpeg_blocks``), the rest
    decoded by ``decode_media`` (luma; JPEGs at reduced DCT scale where Pillow can do it)."""
    blocks = decode_jpeg_blocks(
        data, min_side=MIN_SIDE, max_pixels=limits.get("max_pixels", DEFAULT_MAX_PIXELS)
    )
    if blocks is not None:
        return blocks
    return decode_media(data, draft_size=PDQ_SIDE, mode="L", min_side=MIN_SIDE, **limits)


def stage1_of_decoded(media: JpegBlocks | DecodedMedia) -> list[Fingerprint] | None:
    """Stage-1 fingerprints of what ``stage1_decode`` returned; None for a near-flat image,
    whose hash must be computed the exact way (it will not match anyway)."""
    if isinstance(media, JpegBlocks) and media.scale == 1:
        # Small JPEGs (a side under 2 * MIN_SIDE) are decoded in full: hashed the exact way, on
        # the same pixels Pillow decodes (tested), without Pillow's parsing and set-up.
        fp = fingerprint_hash_only(media.pixels)
        return None if fp.pdq_quality < PDQ_MIN_QUALITY else [fp]
    if isinstance(media, JpegBlocks):
        return _stage1_of_blocks(media.pixels, (media.height, media.width), media.scale, media.orientation)
    if media.kind != "image" or media.scale == 1:
        fps = [fingerprint_hash_only(frame) for frame in media.frames]
        return None if media.kind == "image" and fps[0].pdq_quality < PDQ_MIN_QUALITY else fps
    return _stage1_of_blocks(
        np.asarray(media.frames[0]), (media.height, media.width), media.scale, media.orientation
    )


def _stage1_of_blocks(
    blocks: np.ndarray, dims: tuple[int, int], scale: int, orientation: int
) -> list[Fingerprint] | None:
    """Stage-1 fingerprint from the block means of a JPEG decoded at 1/scale, as shown (EXIF
    ``orientation`` applied; ``dims``: the shown image's height and width in file pixels);
    None for a near-flat image."""
    long_side = max(dims)
    shrink = min(1.0, PDQ_SIDE / long_side)  # as fingerprint._shrink
    pdq_dims = dims if shrink == 1 else (max(1, round(dims[0] * shrink)), max(1, round(dims[1] * shrink)))
    reverse = _reversed_axes(orientation)
    code, quality = _pdq_of_blocks(
        blocks,
        _axis_taps(dims[0], pdq_dims[0], scale, reverse[0]),
        _axis_taps(dims[1], pdq_dims[1], scale, reverse[1]),
    )
    if quality < PDQ_MIN_QUALITY + QUALITY_MARGIN:
        return None
    fp = Fingerprint(pdq=code, pdq_quality=quality)
    trimmed = _trimmed(blocks, dims, pdq_dims, scale, reverse)
    if trimmed is not None:
        fp.pdq_trim, fp.pdq_trim_quality = trimmed
    return [fp]
