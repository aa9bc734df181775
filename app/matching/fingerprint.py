"""Fingerprints of images: PDQ hashes (stage 1) and ORB local features (stage 2).

Pure module: no Django. A reference's fingerprint is all Jium keeps of a victim's image
once the original is discarded, so it must be enough to find crops, rotations, screenshots
and collages later. Fingerprints serialise to a compact, versioned byte string.
"""

from __future__ import annotations

import functools
import importlib.metadata
import struct
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from .bands import HASH_BYTES, N_BANDS, band_hashes, band_hashes_with_mirror
from .decode import DEFAULT_MAX_PIXELS, decode_jpeg_blocks, decode_media
from .faces import face_boxes
from .orb import FEATURE_SIDE, orb_features
from .pixels import as_array, as_gray

FORMAT_VERSION = 1
_MAGIC = b"JFP"

PDQ_SIDE = 512  # Meta's reference tools hash the image shrunk to at most 512x512
PDQ_MIN_QUALITY = 50  # below this a PDQ hash describes a flat image: never match on it alone
REFERENCE_FEATURES = 1500
CANDIDATE_FEATURES = 2000
# Fetched images are often pages or collages in which the reference is a small part.
CANDIDATE_FEATURE_SIDE = 800

_FLAG_DIHEDRAL = 1
_FLAG_TRIM = 2
_FLAG_FEATURES = 4
_FLAG_MIRROR = 8
_FLAG_BANDS = 16
_FLAG_MIRROR_BANDS = 32
_FLAG_FACE_BOXES = 64
# Face detection ran on the picture (face_boxes holds what it found, perhaps nothing). Without it
# an empty face_boxes says nothing: the picture was never looked at (device-made, or older).
_FLAG_FACES_CHECKED = 128


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


HASH_VERSIONS: dict[str, str] = {
    "fingerprint": f"jium-fp-{FORMAT_VERSION}",
    "pdq": f"pdq-256 (Meta's algorithm in numpy, image area-shrunk to {PDQ_SIDE}px)",
    "features": (
        f"orb-{REFERENCE_FEATURES}/{CANDIDATE_FEATURES}@{FEATURE_SIDE}px, references also mirrored "
        f"(opencv {cv2.__version__})"
    ),
    "pillow": _version("pillow"),
}


@dataclass
class Fingerprint:
    pdq: bytes  # 32 bytes, PDQ of the image as given
    pdq_quality: int
    # The other 7 rotations/flips of the image (references only), so mirrors and 90° turns match.
    pdq_dihedral: list[bytes] = field(default_factory=list)
    # PDQ of the image with uniform borders (letterbox, frames) cut off, when it had any.
    pdq_trim: bytes | None = None
    pdq_trim_quality: int = 0
    # ORB features on the image scaled to FEATURE_SIDE: keypoint xy (float32, n x 2) and
    # descriptors (uint8, n x 32). Empty for hash-only references.
    feature_size: tuple[int, int] = (0, 0)
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    descriptors: np.ndarray = field(default_factory=lambda: np.zeros((0, 32), np.uint8))
    # References only: the same features computed on the image mirrored left to right (xy in
    # the mirrored image). ORB descriptors are not mirror-invariant, and reposts are often
    # mirrored *and* cropped, which no hash catches.
    mirror_keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    mirror_descriptors: np.ndarray = field(default_factory=lambda: np.zeros((0, 32), np.uint8))
    # Hashes of the top and side bands of the picture and their qualities (bands.py): what an
    # "undress" edit keeps. Empty for hash-only fingerprints, and for device-made ones from
    # before the page computed them.
    bands: bytes = b""
    band_qualities: bytes = b""
    # Candidates only: the same for the image mirrored left to right, so a mirrored undress edit
    # is nominated too. Kept in the serialised candidate, since a kept candidate is matched
    # again later (a shared fetch, scan.outcome_rematch) and must decide as the scan did; the
    # references' are not needed (their mirror view's features suffice), so none grows.
    mirror_bands: bytes = b""
    mirror_band_qualities: bytes = b""
    # Where faces are (left, top, right, bottom at feature_size; faces.face_boxes), so that a
    # fit on nothing but the face is not taken for a copy of the picture (fitcheck). References
    # made on the server have them; a candidate gets them only when a fit needs them
    # (candidate_face_boxes: a reference that was never looked at for faces). ``faces_checked``
    # says detection ran, so an empty list means "no face" rather than "not looked".
    face_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    faces_checked: bool = False

    @property
    def has_features(self) -> bool:
        return len(self.descriptors) > 0

    @property
    def faces_known(self) -> bool:
        """Whether face_boxes says where the faces are (boxes from before the flag count too)."""
        return self.faces_checked or bool(self.face_boxes)

    def pdq_hex(self) -> str:
        return self.pdq.hex()

    def to_bytes(self) -> bytes:
        flags = 0
        if self.pdq_dihedral:
            flags |= _FLAG_DIHEDRAL
        if self.pdq_trim is not None:
            flags |= _FLAG_TRIM
        if self.has_features:
            flags |= _FLAG_FEATURES
        if len(self.mirror_descriptors):
            flags |= _FLAG_MIRROR
        if self.bands:
            flags |= _FLAG_BANDS
        if self.mirror_bands:
            flags |= _FLAG_MIRROR_BANDS
        if self.face_boxes:
            flags |= _FLAG_FACE_BOXES
        if self.faces_checked:
            flags |= _FLAG_FACES_CHECKED
        out = [_MAGIC, struct.pack("<BB", FORMAT_VERSION, flags), self.pdq, bytes([self.pdq_quality])]
        if self.pdq_dihedral:
            out.append(bytes([len(self.pdq_dihedral)]))
            out.extend(self.pdq_dihedral)
        if self.pdq_trim is not None:
            out.append(self.pdq_trim)
            out.append(bytes([self.pdq_trim_quality]))
        if self.has_features:
            out.append(struct.pack("<HH", self.feature_size[0], self.feature_size[1]))
            out.extend(_features_bytes(self.keypoints, self.descriptors))
        if len(self.mirror_descriptors):
            out.extend(_features_bytes(self.mirror_keypoints, self.mirror_descriptors))
        if self.bands:
            out.append(self.bands)
            out.append(self.band_qualities)
        if self.mirror_bands:
            out.append(self.mirror_bands)
            out.append(self.mirror_band_qualities)
        if self.face_boxes:
            out.append(bytes([len(self.face_boxes)]))
            out.extend(struct.pack("<4H", *box) for box in self.face_boxes)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, b: bytes) -> Fingerprint:
        if b[:3] != _MAGIC:
            raise ValueError("not a Jium fingerprint")
        version, flags = struct.unpack_from("<BB", b, 3)
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported fingerprint version {version}")
        pos = 5
        pdq = bytes(b[pos : pos + 32])
        quality = b[pos + 32]
        pos += 33
        fp = cls(pdq=pdq, pdq_quality=quality)
        if flags & _FLAG_DIHEDRAL:
            count = b[pos]
            pos += 1
            fp.pdq_dihedral = [bytes(b[pos + 32 * i : pos + 32 * (i + 1)]) for i in range(count)]
            pos += 32 * count
        if flags & _FLAG_TRIM:
            fp.pdq_trim = bytes(b[pos : pos + 32])
            fp.pdq_trim_quality = b[pos + 32]
            pos += 33
        if flags & _FLAG_FEATURES:
            fp.feature_size = struct.unpack_from("<HH", b, pos)
            fp.keypoints, fp.descriptors, pos = _features_from(b, pos + 4)
        if flags & _FLAG_MIRROR:
            fp.mirror_keypoints, fp.mirror_descriptors, pos = _features_from(b, pos)
        if flags & _FLAG_BANDS:
            fp.bands, fp.band_qualities, pos = _bands_from(b, pos)
        if flags & _FLAG_MIRROR_BANDS:
            fp.mirror_bands, fp.mirror_band_qualities, pos = _bands_from(b, pos)
        if flags & _FLAG_FACE_BOXES:
            count = b[pos] if pos < len(b) else 0
            if not count or pos + 1 + 8 * count > len(b):
                raise ValueError("fingerprint has trailing or missing bytes")
            fp.face_boxes = [struct.unpack_from("<4H", b, pos + 1 + 8 * i) for i in range(count)]
            pos += 1 + 8 * count
        fp.faces_checked = bool(flags & _FLAG_FACES_CHECKED)
        if pos != len(b):
            raise ValueError("fingerprint has trailing or missing bytes")
        return fp

    @classmethod
    def from_pdq_hex(cls, hex_: str, quality: int = 100) -> Fingerprint:
        raw = bytes.fromhex(hex_.strip())
        if len(raw) != 32:
            raise ValueError("a PDQ hash is 64 hex digits")
        return cls(pdq=raw, pdq_quality=int(quality))


# Bytes at the start of a serialised fingerprint that hold every PDQ hash (header, hash,
# quality, the 7 rotations/flips and the trimmed hash): the NGO-wide index reads only these.
PDQ_PREFIX_BYTES = 5 + 33 + 1 + 7 * 32 + 33


def pdq_hashes_from_prefix(b: bytes) -> Fingerprint:
    """The hash-only part of a serialised fingerprint, from its first PDQ_PREFIX_BYTES bytes
    (or all of them): PDQ, quality, rotations/flips and trimmed hash; no features."""
    if b[:3] != _MAGIC or len(b) < 38:
        raise ValueError("not a Jium fingerprint")
    version, flags = struct.unpack_from("<BB", b, 3)
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported fingerprint version {version}")
    fp = Fingerprint(pdq=bytes(b[5:37]), pdq_quality=b[37])
    pos = 38
    if flags & _FLAG_DIHEDRAL:
        count = b[pos]
        pos += 1
        fp.pdq_dihedral = [bytes(b[pos + 32 * i : pos + 32 * (i + 1)]) for i in range(count)]
        pos += 32 * count
    if flags & _FLAG_TRIM:
        fp.pdq_trim = bytes(b[pos : pos + 32])
        fp.pdq_trim_quality = b[pos + 32]
        pos += 33
    if (
        pos > len(b)
        or any(len(h) != 32 for h in fp.pdq_dihedral)
        or (fp.pdq_trim is not None and len(fp.pdq_trim) != 32)
    ):
        raise ValueError("fingerprint prefix too short")
    return fp


def _bands_from(b: bytes, pos: int) -> tuple[bytes, bytes, int]:
    end = pos + N_BANDS * (HASH_BYTES + 1)
    if end > len(b):
        raise ValueError("fingerprint has trailing or missing bytes")
    return bytes(b[pos : pos + N_BANDS * HASH_BYTES]), bytes(b[end - N_BANDS : end]), end


def _features_bytes(keypoints: np.ndarray, descriptors: np.ndarray) -> list[bytes]:
    # Quarter-pixel fixed point is far finer than the RANSAC tolerance.
    xy = np.clip(np.round(keypoints * 4), 0, 65535).astype("<u2")
    return [
        struct.pack("<I", len(descriptors)),
        xy.tobytes(),
        np.ascontiguousarray(descriptors, np.uint8).tobytes(),
    ]


def _features_from(b: bytes, pos: int) -> tuple[np.ndarray, np.ndarray, int]:
    (n,) = struct.unpack_from("<I", b, pos)
    pos += 4
    if pos + 36 * n > len(b):
        raise ValueError("fingerprint has trailing or missing bytes")
    xy = np.frombuffer(b, dtype="<u2", count=2 * n, offset=pos).reshape(n, 2)
    pos += 4 * n
    desc = np.frombuffer(b, dtype=np.uint8, count=32 * n, offset=pos).reshape(n, 32)
    return xy.astype(np.float32) / 4, desc.copy(), pos + 32 * n


# ---------------------------------------------------------------------------- PDQ
#
# Meta's PDQ algorithm (github.com/facebook/ThreatExchange, pdq/cpp/hashing/pdqhashing.cpp),
# in numpy. Everything before the DCT is linear: luma, two passes of the "Jarosz" box filter
# along each axis and the decimation to 64x64. So each of the 64 output rows is a fixed
# weighted sum of at most 2 * window - 1 input rows (and likewise for columns): we gather just
# those rows instead of filtering the whole 512x512 image. Same result as pdqhash to float
# rounding, ~10x faster. Tested against Meta's reference vectors.

_PDQ_DCT = (
    np.sqrt(2 / 64) * np.cos(np.pi / 2 / 64 * np.outer(np.arange(1, 17), 2 * np.arange(64) + 1))
).astype(np.float32)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # PDQ's luma weights (same as JPEG's Y)


@functools.lru_cache(maxsize=512)
def _pdq_taps(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(64, k) input indices and weights giving PDQ's filtered + decimated samples along an axis of n."""
    full = max(1, (n + 2 * 64 - 1) // (2 * 64))  # computeJaroszFilterWindowSize(n, 64)
    half = (full + 2) // 2
    behind, ahead = full - half, half - 1  # box1DFloat's window around each output position
    j = np.arange(n)
    lo, hi = np.maximum(0, j - behind), np.minimum(n - 1, j + ahead)
    box = ((j[None, :] >= lo[:, None]) & (j[None, :] <= hi[:, None])) / (hi - lo + 1)[:, None]
    sel = ((np.arange(64) + 0.5) * n / 64).astype(np.int64)  # decimateFloat
    both = (box @ box)[sel]  # two Jarosz passes (PDQ_NUM_JAROSZ_XY_PASSES), then decimation
    k = min(2 * full - 1, n)
    start = np.clip(sel - 2 * behind, 0, n - k)
    idx = start[:, None] + np.arange(k)[None, :]
    return idx, np.take_along_axis(both, idx, axis=1).astype(np.float32)


def _pdq_of_small(small: np.ndarray) -> tuple[bytes, int]:
    """PDQ hash and quality of an RGB (h, w, 3) or luma (h, w) uint8 array."""
    h, w = small.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("empty image")
    ri, rw = _pdq_taps(h)
    ci, cw = _pdq_taps(w)
    rows = small[ri.ravel()].astype(np.float32).reshape(64, ri.shape[1], -1)
    filtered = np.matmul(rw[:, None, :], rows)[:, 0]  # (64, w) or (64, w * 3)
    if small.ndim == 3:
        # Luma after filtering rows (all linear): 64 rows to convert instead of 512.
        filtered = filtered.reshape(64, w, small.shape[2])[:, :, :3] @ _LUMA
    # (64, k, 64): gathering rows is fast; OpenCV transposes ~10x faster than numpy's copy.
    columns = cv2.transpose(np.ascontiguousarray(filtered))[ci]
    return _pdq_of_buffer(np.matmul(cw[:, None, :], columns)[:, 0].T)


def _pdq_of_buffer(a: np.ndarray) -> tuple[bytes, int]:
    """PDQ hash and quality from the filtered, decimated 64x64 luma buffer."""
    dct = _PDQ_DCT @ a @ _PDQ_DCT.T
    flat = dct.ravel()
    median = np.partition(flat, 127)[127]  # torben(): the 128th smallest
    # Hash256.setBit(i * 16 + j) and its hex form (word 15 first) put bit 255 first.
    code = np.packbits(flat[::-1] > median).tobytes()
    # computePDQImageDomainQualityMetric: truncated per-pixel gradients |d| * 100 / 255,
    # summed, / 90. Each term is the same float32 value as Meta's (|d| * 100 / 255 rounds as
    # |d * 100 / 255| does), and they are integers <= 100, so their float32 sum is exact in
    # any order: both directions go into one buffer, taken from the buffer's memory order (a
    # transposed view swaps the two directions, not the terms), in place: fewer numpy calls.
    c = a.T if a.flags.f_contiguous and not a.flags.c_contiguous else a
    h, w = c.shape
    grads = np.empty((h - 1) * w + h * (w - 1), np.float32)
    np.subtract(c[:-1], c[1:], out=grads[: (h - 1) * w].reshape(h - 1, w))
    np.subtract(c[:, :-1], c[:, 1:], out=grads[(h - 1) * w :].reshape(h, w - 1))
    np.abs(grads, out=grads)
    # Most buffers clear the quality cap (100, i.e. a truncated sum >= 9,000) by far, and then
    # the terms need not be scaled: each truncated term is > |d| * 100 / 255 * (1 - 2^-23) - 1,
    # so the truncated sum is > S / 2.55 * (1 - 2^-23) - n for the plain sum S of the n |d|,
    # which is > 9,000 once S >= 2.551 * (9,000 + n) (S's float32 rounding, < 1e-5 relative,
    # is far inside the margin). Saves three of the calls on 92 % of photos-dev's buffers.
    if grads.sum() >= 2.551 * (9000 + grads.size):
        return code, 100
    grads *= 100
    grads /= 255
    return code, min(int(np.trunc(grads, out=grads).sum()) // 90, 100)


def _shrink(a: np.ndarray, side: int) -> np.ndarray:
    """Shrink so the long side is at most ``side`` (area averaging, as a thumbnail would)."""
    h, w = a.shape[:2]
    if max(h, w) <= side:
        return a
    s = side / max(h, w)
    return cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def pdq_hash(img: Image.Image | np.ndarray) -> tuple[bytes, int]:
    """PDQ hash (32 bytes) and quality (0-100) of an image, as Meta's tools compute it."""
    return _pdq_of_small(_shrink(as_array(img), PDQ_SIDE))


_DIHEDRAL = [
    lambda a: np.rot90(a, 1),
    lambda a: np.rot90(a, 2),
    lambda a: np.rot90(a, 3),
    lambda a: a[:, ::-1],
    lambda a: a[::-1, :],
    lambda a: np.rot90(a[:, ::-1], 1),
    lambda a: np.rot90(a[:, ::-1], 3),
]


def _pdq_dihedral_of_small(small: np.ndarray) -> tuple[list[bytes], int]:
    first, quality = _pdq_of_small(small)
    return [first] + [_pdq_of_small(t(small))[0] for t in _DIHEDRAL], quality


def pdq_hash_dihedral(img: Image.Image | np.ndarray) -> tuple[list[bytes], int]:
    """The 8 PDQ hashes of the image's rotations and flips; the first is the image as given.

    Each variant is hashed from the really transposed pixels: a DCT-domain shortcut is up
    to ~30 bits off on mirrors (the box filter is not symmetric), the whole PDQ threshold.
    """
    return _pdq_dihedral_of_small(_shrink(as_array(img), PDQ_SIDE))


@functools.lru_cache(maxsize=1024)
def _edge_spans(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the top, bottom, left and right lines start in ``_edge_colours``' concatenated
    edges, and 49 x their lengths (the 98 % rule in integers)."""
    return np.array([0, w, 2 * w, 2 * w + h]), 49 * np.array([w, w, h, h])


def _edge_colours(gray: np.ndarray, tolerance: int) -> list[int]:
    """Corner colours (ascending) in which at least one outermost row or column is a border
    line: at least 98 % of its pixels within tolerance of the colour.

    Runs on every hashed image (most have no border), so in few numpy calls: no np.unique,
    no fancy indexing (stage 1's cost is mostly per-call overhead on small arrays)."""
    h, w = gray.shape
    corners = sorted(set(gray[:: h - 1, :: w - 1].ravel().tolist()))  # h, w >= 16
    edges = np.concatenate((gray[0], gray[-1], gray[:, 0], gray[:, -1]), dtype=np.int16)
    near = np.abs(edges - np.array(corners, np.int16)[:, None]) <= tolerance  # (colours, 2w + 2h)
    starts, need = _edge_spans(h, w)
    sums: np.ndarray = np.add.reduceat(near, starts, axis=1, dtype=np.int64)
    uniform: np.ndarray = np.greater_equal(50 * sums, need).any(axis=1)
    keep: list[bool] = uniform.tolist()
    return [c for c, kept in zip(corners, keep, strict=True) if kept]


def _trim_box_array(pixels: np.ndarray, tolerance: int = 14) -> tuple[int, int, int, int] | None:
    full_h, full_w = pixels.shape[:2]
    # Borders are looked for at 256-511 px: an integer shrink factor keeps OpenCV on its fast
    # area-averaging path (~20x cheaper than a fractional one, where this cost more than PDQ).
    k = max(1, max(full_h, full_w) // 256)
    small = as_gray(pixels)
    if k > 1:
        small = cv2.resize(
            small[: full_h // k * k, : full_w // k * k],
            (full_w // k, full_h // k),
            interpolation=cv2.INTER_AREA,
        )
    edges = _border_widths(small, tolerance)
    if edges is None:
        return None
    top, bottom, left, right = edges
    h, w = small.shape
    # A little inward removes the soft edge left by resampling/JPEG at the bar boundary.
    pad = max(k, 2)
    box = (
        min(left * k + (pad if left else 0), full_w - 1),
        min(top * k + (pad if top else 0), full_h - 1),
        max((w - right) * k - pad, 1) if right else full_w,
        max((h - bottom) * k - pad, 1) if bottom else full_h,
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return box


def _border_widths(small: np.ndarray, tolerance: int, min_lines: int = 2) -> tuple[int, int, int, int] | None:
    """How many uniform border lines (top, bottom, left, right) a grey image has, or None when
    it has fewer than min_lines in all, too many to leave a picture, or is flat."""
    h, w = small.shape
    if h < 16 or w < 16:
        return None
    # Most images have no border: unless an outermost line is uniform in a corner's colour,
    # the full scan below would find nothing, so only those colours are scanned.
    colours = _edge_colours(small, tolerance)
    if not colours:
        return None
    # A line is a border line of a colour when >= 98 % of its pixels are within tolerance of
    # it: 50 * sum >= 49 * 255 * n in integers (inRange gives 0 or 255), i.e. sum >= these.
    row_need, col_need = -(-49 * 255 * w // 50), -(-49 * 255 * h // 50)
    top = bottom = left = right = 0
    for colour in colours:
        near = cv2.inRange(small, max(colour - tolerance, 0), min(colour + tolerance, 255))
        rows = cv2.reduce(near, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() >= row_need
        cols = cv2.reduce(near, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() >= col_need
        # argmin of a bool array: the first non-border line (0 when all are border lines).
        first_row, first_col = int(rows.argmin()), int(cols.argmin())
        if rows[first_row] or cols[first_col]:
            return None  # a flat image: nothing inside to keep
        top, left = max(top, first_row), max(left, first_col)
        bottom = max(bottom, int(rows[::-1].argmin()))
        right = max(right, int(cols[::-1].argmin()))
    if top + bottom + left + right < min_lines:
        return None
    if h - top - bottom < h * 0.3 or w - left - right < w * 0.3:
        return None
    return top, bottom, left, right


def trim_box(img: Image.Image, *, tolerance: int = 14) -> tuple[int, int, int, int] | None:
    """Box (l, t, r, b) inside uniform borders (letterbox bars, frames), or None if none."""
    return _trim_box_array(as_array(img), tolerance)


# ---------------------------------------------------------------------------- fingerprints


def _hashes(
    pixels: np.ndarray, *, dihedral: bool, bands: bool = False, mirror_bands: bool = False
) -> Fingerprint:
    small = _shrink(pixels, PDQ_SIDE)
    if dihedral:
        hashes, quality = _pdq_dihedral_of_small(small)
        fp = Fingerprint(pdq=hashes[0], pdq_quality=quality, pdq_dihedral=hashes[1:])
    else:
        h, quality = _pdq_of_small(small)
        fp = Fingerprint(pdq=h, pdq_quality=quality)
    box = _trim_box_array(small)
    if box is not None:
        fp.pdq_trim, fp.pdq_trim_quality = _pdq_of_small(small[box[1] : box[3], box[0] : box[2]])
    if mirror_bands:
        fp.bands, fp.band_qualities, fp.mirror_bands, fp.mirror_band_qualities = band_hashes_with_mirror(
            small
        )
    elif bands:
        fp.bands, fp.band_qualities = band_hashes(small)
    return fp


def fingerprint_reference(img: Image.Image) -> Fingerprint:
    """Everything needed to recognise this reference image later (the image itself is not kept)."""
    pixels = as_array(img)
    fp = _hashes(pixels, dihedral=True, bands=True)
    fp.feature_size, fp.keypoints, fp.descriptors = orb_features(pixels, REFERENCE_FEATURES, FEATURE_SIDE)
    if fp.has_features:
        _, fp.mirror_keypoints, fp.mirror_descriptors = orb_features(
            np.ascontiguousarray(pixels[:, ::-1]), REFERENCE_FEATURES, FEATURE_SIDE
        )
        _set_face_boxes(fp, img)
    return fp


def _set_face_boxes(fp: Fingerprint, img: Image.Image) -> None:
    k = fp.feature_size[0] / max(img.width, 1)
    fp.face_boxes = [
        (round(x0 * k), round(y0 * k), round(x1 * k), round(y1 * k)) for x0, y0, x1, y1 in face_boxes(img)
    ]
    fp.faces_checked = True


def candidate_face_boxes(fp: Fingerprint, img: Image.Image) -> Fingerprint:
    """Add where the faces are to a candidate's fingerprint (``img`` is the picture it was made
    of). Tens of milliseconds, so the matcher asks for it only when a fit must be told apart from
    another photo of the same face and the reference's own faces are not known
    (engine.Matcher.match). Returns ``fp``."""
    if fp.has_features and not fp.faces_checked:
        _set_face_boxes(fp, img)
    return fp


def fingerprint_candidate(img: Image.Image) -> Fingerprint:
    """Fingerprint of a fetched image or video frame, to compare against references."""
    pixels = as_array(img)
    fp = _hashes(pixels, dihedral=False, bands=True, mirror_bands=True)
    fp.feature_size, fp.keypoints, fp.descriptors = orb_features(
        pixels, CANDIDATE_FEATURES, CANDIDATE_FEATURE_SIDE, adaptive=True
    )
    return fp


def fingerprint_hash_only(img: Image.Image | np.ndarray) -> Fingerprint:
    """Stage-1 fingerprint only (PDQ and trimmed PDQ): for the NGO-wide hash index."""
    return _hashes(as_array(img), dihedral=False)


def fingerprint_hash_only_bytes(data: bytes, **limits: Any) -> list[Fingerprint]:
    """Stage 1 straight from file bytes: one hash-only fingerprint per image or video frame.

    Decodes luma only, JPEGs at the smallest DCT scale that still gives >= PDQ_SIDE pixels.
    Raises ``DecodeError`` like ``decode_media``.
    """
    frames, is_image = _draft_frames(data, "L", limits)
    fps = [fingerprint_hash_only(frame) for frame in frames]
    if is_image and fps[0].pdq_quality < PDQ_MIN_QUALITY:
        # On a near-flat image the 8-bit rounding of the decoded luma decides many bits of
        # the hash (up to 36 on one of Meta's vectors); such hashes never match here, but one
        # we export must agree with Meta's tools, which take luma in float from RGB.
        fps = [fingerprint_hash_only(_draft_frames(data, "RGB", limits)[0][0])]
    return fps


def _draft_frames(data: bytes, mode: str, limits: dict[str, Any]) -> tuple[list[Any], bool]:
    """decode_media's frames at PDQ's draft size (and whether it is an image): ordinary JPEGs
    through simplejpeg, the very pixels Pillow decodes (tested) without its per-file set-up,
    which costs as much as hashing a small photo; the rest, and every error, by decode_media."""
    jpeg = decode_jpeg_blocks(
        data, draft_size=PDQ_SIDE, mode=mode, max_pixels=limits.get("max_pixels", DEFAULT_MAX_PIXELS)
    )
    if jpeg is not None:
        return [jpeg.pixels], True
    media = decode_media(data, draft_size=PDQ_SIDE, mode=mode, **limits)
    return list(media.frames), media.kind == "image"
