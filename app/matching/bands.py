"""Band hashes: evidence that survives an "undress" edit of the lower centre of a photo.

An undress (nudify) edit regenerates the body: a region over the lower centre of the photo,
about half of it, is replaced, and the whole picture is re-rendered. The face, the hair and
the background above and beside that region stay. Keypoints there are often too few or too
clumped for the ordinary verification (soft branches, a re-render that blurs corners away),
and the whole-image hash changes completely.

So a fingerprint also keeps a DCT hash of a few bands such an edit keeps: the top of the
picture at several heights, and its left and right edges (PDQ's bit layout and quality
metric, on a 64x64 area average of the band). A close band only *nominates* a reference for a
guided verification aligned with the whole frame (engine.Matcher._banded); it never matches on
its own, and a plain band (sky, a white table) is never evidence. A candidate also keeps the
bands of its mirror image: an edit flipped left to right (a common evasion) keeps the
reference's bands only flipped. Pure module: no Django.
"""

from __future__ import annotations

import cv2
import numpy as np

# (left, top, right, bottom) as fractions of the picture. The edit's top band keeps 14-56 % of
# the height and its side strips 3-15 % of the width (bench/matching_accuracy.py _undress), so
# several heights and widths: whatever the edit's size, one of them is mostly kept.
BANDS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 1.0, 0.10),
    (0.0, 0.0, 1.0, 0.15),
    (0.0, 0.0, 1.0, 0.20),
    (0.0, 0.0, 1.0, 0.30),
    (0.0, 0.0, 1.0, 0.40),
    (0.0, 0.0, 0.08, 1.0),
    (0.0, 0.0, 0.12, 1.0),
    (0.92, 0.0, 1.0, 1.0),
    (0.88, 0.0, 1.0, 1.0),
)
N_BANDS = len(BANDS)
HASH_BYTES = 32
MIN_QUALITY = 50  # as for PDQ: below this a band is (nearly) plain and never counts

_DCT = (np.sqrt(2 / 64) * np.cos(np.pi / 2 / 64 * np.outer(np.arange(1, 17), 2 * np.arange(64) + 1))).astype(
    np.float32
)


def _hash_buffers(bufs: np.ndarray) -> tuple[bytes, bytes]:
    """PDQ's hash and quality steps (pdqhashing.cpp, after its 64x64 buffer) for a stack of
    (k, 64, 64) float32 luma buffers at once: (k * 32 hash bytes, k quality bytes)."""
    dct = _DCT @ bufs @ _DCT.T  # (k, 16, 16)
    flat = dct.reshape(len(bufs), 256)
    median = np.partition(flat, 127, axis=1)[:, 127:128]
    codes = np.packbits(flat[:, ::-1] > median, axis=1)  # bit 255 first, like the PDQ hex form
    grad = np.abs(np.trunc((bufs[:, :-1] - bufs[:, 1:]) * 100 / 255)).sum(axis=(1, 2)) + np.abs(
        np.trunc((bufs[:, :, :-1] - bufs[:, :, 1:]) * 100 / 255)
    ).sum(axis=(1, 2))
    quality = np.minimum(grad.astype(np.int64) // 90, 100).astype(np.uint8)
    return codes.tobytes(), quality.tobytes()


def _gray(small: np.ndarray) -> np.ndarray:
    if small.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(small[:, :, :3]), cv2.COLOR_RGB2GRAY)
    return small


def _buffers(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    bufs = np.empty((N_BANDS, 64, 64), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(BANDS):
        left, top = min(round(x0 * w), w - 1), min(round(y0 * h), h - 1)
        band = gray[top : max(round(y1 * h), top + 1), left : max(round(x1 * w), left + 1)]
        # Area average (and along a thin strip's short side, a linear stretch) to 64x64.
        bufs[i] = cv2.resize(band, (64, 64), interpolation=cv2.INTER_AREA)
    return bufs


def band_hashes(small: np.ndarray) -> tuple[bytes, bytes]:
    """(N_BANDS hashes of 32 bytes, N_BANDS quality bytes) of a picture already shrunk for PDQ
    (RGB or grey uint8, long side <= 512): cheap enough to compute for every candidate."""
    return _hash_buffers(_buffers(_gray(small)))


def band_hashes_with_mirror(small: np.ndarray) -> tuple[bytes, bytes, bytes, bytes]:
    """band_hashes of the picture and of its mirror image (flipped left to right): (hashes,
    qualities, mirror hashes, mirror qualities). For candidates: a mirrored undress edit keeps
    the reference's bands only flipped. The mirror's hashes are computed from the flipped pixels:
    they cannot be derived from the picture's bits (flipping negates the DCT's odd columns, which
    moves the median the bits are cut at; and OpenCV resizes a band under 64 px on one side
    linearly, not by area, picking columns off-centre. Derived ones were a median 8 bits off the
    real ones on photos-dev, 10 % of bands over 68)."""
    gray = _gray(small)
    bufs = np.concatenate([_buffers(gray), _buffers(np.ascontiguousarray(gray[:, ::-1]))])
    codes, qualities = _hash_buffers(bufs)
    n = N_BANDS * HASH_BYTES
    return codes[:n], qualities[:N_BANDS], codes[n:], qualities[N_BANDS:]


def band_table(entries: list[tuple[bytes, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """Stack references' (hashes, qualities) for band_distances; an empty entry (a fingerprint
    made before bands existed, on the server or on the person's device) gets quality 0: never
    nominated."""
    hashes = np.zeros((len(entries), N_BANDS, 4), np.uint64)
    qualities = np.zeros((len(entries), N_BANDS), np.uint8)
    for i, (h, q) in enumerate(entries):
        if len(h) == N_BANDS * HASH_BYTES and len(q) == N_BANDS:
            hashes[i] = np.frombuffer(h, np.uint64).reshape(N_BANDS, 4)
            qualities[i] = np.frombuffer(q, np.uint8)
    return hashes, qualities


def band_distances(table: tuple[np.ndarray, np.ndarray], hashes: bytes, qualities: bytes) -> np.ndarray:
    """Each reference's best band distance (bits) to the candidate, same band against same band,
    over the bands plain in neither; 256 where there is none."""
    ref_hashes, ref_qualities = table
    if len(hashes) != N_BANDS * HASH_BYTES or len(qualities) != N_BANDS:
        return np.full(len(ref_hashes), 256, np.int32)
    c = np.frombuffer(hashes, np.uint64).reshape(1, N_BANDS, 4)
    cq = np.frombuffer(qualities, np.uint8).reshape(1, N_BANDS)
    d = np.bitwise_count(ref_hashes ^ c).sum(axis=2, dtype=np.int32)
    usable = (ref_qualities >= MIN_QUALITY) & (cq >= MIN_QUALITY)
    return np.where(usable, d, 256).min(axis=1, initial=256)
