"""Fingerprints of images: PDQ hashes (stage 1) and ORB local features (stage 2).

Pure module: no Django. A reference's fingerprint is all Jium keeps of a victim's image
once the original is discarded, so it must be enough to find crops, rotations, screenshots
and collages later. Fingerprints serialise to a compact, versioned byte string.
"""

from __future__ import annotations

import importlib.metadata
import struct
from dataclasses import dataclass, field

import cv2
import numpy as np
import pdqhash
from PIL import Image

FORMAT_VERSION = 1
_MAGIC = b"JFP"

PDQ_SIDE = 512  # Meta's reference tools hash the image shrunk to at most 512x512
PDQ_MIN_QUALITY = 50  # below this a PDQ hash describes a flat image: never match on it alone
FEATURE_SIDE = 800  # long side of the grey image that local features are computed on
REFERENCE_FEATURES = 1500
CANDIDATE_FEATURES = 2000
# Fetched images are often pages or collages in which the reference is a small part.
CANDIDATE_FEATURE_SIDE = 800
# Small images are enlarged only a little: upscaling adds no detail, only blurry keypoints.
MAX_UPSCALE = 2.5
GRID = 8  # keypoints are spread over a GRID x GRID layout so one textured corner cannot hog them

_FLAG_DIHEDRAL = 1
_FLAG_TRIM = 2
_FLAG_FEATURES = 4


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


HASH_VERSIONS: dict[str, str] = {
    "fingerprint": f"jium-fp-{FORMAT_VERSION}",
    "pdq": f"pdq-256 (pdqhash {_version('pdqhash')}, {PDQ_SIDE}px bilinear)",
    "features": (
        f"orb-{REFERENCE_FEATURES}/{CANDIDATE_FEATURES}@{FEATURE_SIDE}px (opencv {cv2.__version__})"
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

    @property
    def has_features(self) -> bool:
        return len(self.descriptors) > 0

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
        out = [_MAGIC, struct.pack("<BB", FORMAT_VERSION, flags), self.pdq, bytes([self.pdq_quality])]
        if self.pdq_dihedral:
            out.append(bytes([len(self.pdq_dihedral)]))
            out.extend(self.pdq_dihedral)
        if self.pdq_trim is not None:
            out.append(self.pdq_trim)
            out.append(bytes([self.pdq_trim_quality]))
        if self.has_features:
            n = len(self.descriptors)
            out.append(struct.pack("<HHI", self.feature_size[0], self.feature_size[1], n))
            # Quarter-pixel fixed point is far finer than the RANSAC tolerance.
            xy = np.clip(np.round(self.keypoints * 4), 0, 65535).astype("<u2")
            out.append(xy.tobytes())
            out.append(np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes())
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
            w, h, n = struct.unpack_from("<HHI", b, pos)
            pos += 8
            xy = np.frombuffer(b, dtype="<u2", count=2 * n, offset=pos).reshape(n, 2)
            pos += 4 * n
            desc = np.frombuffer(b, dtype=np.uint8, count=32 * n, offset=pos).reshape(n, 32)
            pos += 32 * n
            fp.feature_size = (w, h)
            fp.keypoints = xy.astype(np.float32) / 4
            fp.descriptors = desc.copy()
        if pos != len(b):
            raise ValueError("fingerprint has trailing or missing bytes")
        return fp

    @classmethod
    def from_pdq_hex(cls, hex_: str, quality: int = 100) -> Fingerprint:
        raw = bytes.fromhex(hex_.strip())
        if len(raw) != 32:
            raise ValueError("a PDQ hash is 64 hex digits")
        return cls(pdq=raw, pdq_quality=int(quality))


# ---------------------------------------------------------------------------- PDQ


def _bits_to_bytes(bits: np.ndarray) -> bytes:
    # pdqhash returns 256 bits, most significant first, matching Meta's hex notation.
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def _rgb(img: Image.Image) -> np.ndarray:
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _shrink(a: np.ndarray, side: int) -> np.ndarray:
    """Shrink so the long side is at most ``side`` (area averaging, as a thumbnail would)."""
    h, w = a.shape[:2]
    if max(h, w) <= side:
        return a
    s = side / max(h, w)
    return cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _pdq_of_small(small: np.ndarray) -> tuple[bytes, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(small))
    return _bits_to_bytes(bits), int(quality)


def pdq_hash(img: Image.Image) -> tuple[bytes, int]:
    """PDQ hash (32 bytes) and quality (0-100) of an image, as Meta's tools compute it."""
    return _pdq_of_small(_shrink(_rgb(img), PDQ_SIDE))


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


def pdq_hash_dihedral(img: Image.Image) -> tuple[list[bytes], int]:
    """The 8 PDQ hashes of the image's rotations and flips; the first is the image as given.

    Each variant is hashed from the really transposed pixels: pdqhash's DCT-domain shortcut
    is up to ~30 bits off on mirrors, which is the whole PDQ threshold.
    """
    return _pdq_dihedral_of_small(_shrink(_rgb(img), PDQ_SIDE))


def _trim_box_array(rgb: np.ndarray, tolerance: int = 14) -> tuple[int, int, int, int] | None:
    full_h, full_w = rgb.shape[:2]
    small = _shrink(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY), 256)
    a = small.astype(np.int16)
    h, w = a.shape
    if h < 16 or w < 16:
        return None
    scale = full_w / w

    def _uniform(lines: np.ndarray, colour: float) -> np.ndarray:
        # A border line: nearly all of it within tolerance of the border colour.
        return np.mean(np.abs(lines - colour) <= tolerance, axis=1) >= 0.98

    corners = np.array([a[0, 0], a[0, -1], a[-1, 0], a[-1, -1]], dtype=np.float32)
    top = bottom = left = right = 0
    for colour in np.unique(np.round(corners)):
        rows = _uniform(a, colour)
        cols = _uniform(a.T, colour)
        if rows.all() or cols.all():
            return None  # a flat image: nothing inside to keep
        top = max(top, int(np.argmin(rows)))
        bottom = max(bottom, int(np.argmin(rows[::-1])))
        left = max(left, int(np.argmin(cols)))
        right = max(right, int(np.argmin(cols[::-1])))
    if top + bottom + left + right < 2:
        return None
    if h - top - bottom < h * 0.3 or w - left - right < w * 0.3:
        return None
    # One line inward removes the soft edge left by resampling/JPEG at the bar boundary.
    pad = int(np.ceil(scale))
    box = (
        min(int(left * scale) + (pad if left else 0), full_w - 1),
        min(int(top * scale) + (pad if top else 0), full_h - 1),
        max(round((w - right) * scale) - (pad if right else 0), 1),
        max(round((h - bottom) * scale) - (pad if bottom else 0), 1),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return box


def trim_box(img: Image.Image, *, tolerance: int = 14) -> tuple[int, int, int, int] | None:
    """Box (l, t, r, b) inside uniform borders (letterbox bars, frames), or None if none."""
    return _trim_box_array(_rgb(img), tolerance)


# ---------------------------------------------------------------------------- ORB


def _feature_gray(rgb: np.ndarray, side: int) -> np.ndarray:
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    scale = min(side / max(h, w), MAX_UPSCALE)
    if abs(scale - 1) > 0.02:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
    return gray


_orb_cache: dict[int, cv2.ORB] = {}


def _orb(n: int) -> cv2.ORB:
    if n not in _orb_cache:
        _orb_cache[n] = cv2.ORB_create(  # type: ignore[attr-defined]
            nfeatures=n * 3, scaleFactor=1.2, nlevels=8, edgeThreshold=19, patchSize=31, fastThreshold=12
        )
    return _orb_cache[n]


def orb_features(
    img: Image.Image | np.ndarray, n: int, side: int = FEATURE_SIDE
) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """Up to n ORB keypoints spread over a grid: (feature image size, xy n x 2, descriptors n x 32)."""
    gray = _feature_gray(_rgb(img) if isinstance(img, Image.Image) else img, side)
    h, w = gray.shape
    orb = _orb(n)
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


# ---------------------------------------------------------------------------- fingerprints


def _hashes(rgb: np.ndarray, *, dihedral: bool) -> Fingerprint:
    small = _shrink(rgb, PDQ_SIDE)
    if dihedral:
        hashes, quality = _pdq_dihedral_of_small(small)
        fp = Fingerprint(pdq=hashes[0], pdq_quality=quality, pdq_dihedral=hashes[1:])
    else:
        h, quality = _pdq_of_small(small)
        fp = Fingerprint(pdq=h, pdq_quality=quality)
    box = _trim_box_array(small)
    if box is not None:
        fp.pdq_trim, fp.pdq_trim_quality = _pdq_of_small(small[box[1] : box[3], box[0] : box[2]])
    return fp


def fingerprint_reference(img: Image.Image) -> Fingerprint:
    """Everything needed to recognise this reference image later (the image itself is not kept)."""
    rgb = _rgb(img)
    fp = _hashes(rgb, dihedral=True)
    fp.feature_size, fp.keypoints, fp.descriptors = orb_features(rgb, REFERENCE_FEATURES, FEATURE_SIDE)
    return fp


def fingerprint_candidate(img: Image.Image) -> Fingerprint:
    """Fingerprint of a fetched image or video frame, to compare against references."""
    rgb = _rgb(img)
    fp = _hashes(rgb, dihedral=False)
    fp.feature_size, fp.keypoints, fp.descriptors = orb_features(
        rgb, CANDIDATE_FEATURES, CANDIDATE_FEATURE_SIDE
    )
    return fp


def fingerprint_hash_only(img: Image.Image) -> Fingerprint:
    """Stage-1 fingerprint only (PDQ and trimmed PDQ): for the NGO-wide hash index."""
    return _hashes(_rgb(img), dihedral=False)
