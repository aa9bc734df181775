"""vPDQ, Meta's video fingerprint: PDQ of one frame per second, matched as a bag of frame hashes.

Pure module: no Django. The ``vpdq`` package on PyPI ships only a source archive that needs
FFmpeg's development libraries and a C++ build (docs/vpdq.md), so this follows Meta's
description of the algorithm (facebook/ThreatExchange, ``vpdq/README.md``) on top of what Jium
already has: PyAV for decoding and our PDQ (``fingerprint.pdq_hash``, checked against Meta's
reference vectors). What must interoperate does:

* hashing: frames are counted in decoding order and frame ``n`` is hashed when
  ``n % int(seconds_per_hash * frame_rate) == 0`` (the average frame rate, as Meta's hasher reads
  it); its timestamp is ``n / frame_rate``;
* the text format of Meta's tools, one frame per line: ``frame_number,quality,pdq_hex,timestamp``
  (timestamp with 3 decimals);
* the signal string of Hasher-Matcher-Actioner's ``vpdq`` signal type: a JSON list of
  ``"pdq_hex,quality,timestamp"`` strings;
* the match rule of python-threatexchange: both sides de-duplicated (identical hashes) and
  filtered (quality >= 50), a frame matches when some frame of the other side is within 31 bits,
  and the result is two percentages, of the query's frames and of the compared video's frames.

Which percentage must pass is a policy, not part of the format: ``vpdq_is_match`` explains ours.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .decode import DEFAULT_MAX_PIXELS, DEFAULT_MAX_VIDEO_SECONDS, DecodeError, sniff_mime, video_stream
from .fingerprint import pdq_hash

SECONDS_PER_HASH = 1.0  # Meta's default: one frame hashed per second of video
DISTANCE = 31  # VPDQ_DISTANCE_THRESHOLD: a frame matches within this many bits (inclusive)
QUALITY = 50  # VPDQ_QUALITY_THRESHOLD: frames below this quality are never compared
MATCH_PERCENT = 80.0  # HMA's default for the query side (VPDQ_QUERY_MATCH_THRESHOLD_PERCENT)
BETWEEN = 5  # reference videos: frames hashed a second in all (vpdq_hash_reference)
# Bounds on what we read from outside (hash files, hash lists): an hour at one frame a second.
MAX_FEATURES = 3600
VERSION = f"vpdq-1 (every {SECONDS_PER_HASH:g} s, Jium's PDQ over PyAV)"

_HEX = re.compile(r"[0-9a-f]{64}")
_MAGIC = b"JVQ"
_FORMAT = 1
_ROW = struct.Struct("<IB32sI")  # frame number, quality, PDQ, timestamp in milliseconds


class VpdqFormatError(ValueError):
    """A vPDQ hash (text, JSON or bytes) that cannot be read; the message says where (English),
    ``line`` is the line or list item (from 1) of the first problem when there is one."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class VpdqFeature:
    """One hashed frame."""

    frame_number: int
    quality: int  # 0-100
    pdq: bytes  # 32 bytes
    timestamp: float  # seconds from the start

    @property
    def pdq_hex(self) -> str:
        return self.pdq.hex()


# ----------------------------------------------------------------------------- hashing


def _frame_rate(stream: object) -> float:
    # Meta's hasher: the average frame rate, else the stream's base ("r_frame_rate").
    for name in ("average_rate", "guessed_rate", "base_rate"):
        rate = getattr(stream, name, None)
        if rate is not None and float(rate) > 0:
            return float(rate)
    return 0.0


def _hash_side(width: int, height: int, side: int = 512) -> tuple[int, int]:
    # pdq_hash shrinks to 512 px anyway; letting FFmpeg's scaler do it while it converts to RGB
    # saves converting (and copying) full-size frames.
    if max(width, height) <= side:
        return width, height
    s = side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def vpdq_hash_video(
    data: bytes,
    *,
    seconds_per_hash: float = SECONDS_PER_HASH,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_video_seconds: float = DEFAULT_MAX_VIDEO_SECONDS,
) -> list[VpdqFeature]:
    """The vPDQ hash of a video held in memory: one feature per hashed frame, in frame order.

    Raises ``DecodeError`` (the same codes as ``decode_media``) for anything that is not a
    readable video or yields no frame. A video cut short still gives the frames before the cut.
    Only the first ``max_video_seconds`` are hashed, like the keyframes.
    """
    return _hash_video(data, seconds_per_hash, 1, max_pixels, max_video_seconds)[0]


def vpdq_hash_reference(
    data: bytes,
    *,
    between: int = BETWEEN,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_video_seconds: float = DEFAULT_MAX_VIDEO_SECONDS,
) -> tuple[list[VpdqFeature], list[VpdqFeature]]:
    """A reference video's vPDQ hash (one frame a second, exactly as ``vpdq_hash_video``) and the
    frames ``between`` those, so that ``between`` frames a second are hashed in all, in one pass.

    Why: a cut of the video starts at any frame, so its frames a second apart fall between the
    reference's. In moving scenes they can then all be more than 31 bits from every reference frame
    (``bench/video_matching.py``: a cut of a panning video matched 0 % at 1 hash a second, 100 %
    at 5). The extra frames are only ever compared with, never exported: the vPDQ hash itself
    stays Meta's.
    """
    return _hash_video(data, SECONDS_PER_HASH, max(1, between), max_pixels, max_video_seconds)


def _hash_video(
    data: bytes, seconds_per_hash: float, between: int, max_pixels: int, max_video_seconds: float
) -> tuple[list[VpdqFeature], list[VpdqFeature]]:
    hasher = VpdqFrames(
        seconds_per_hash=seconds_per_hash,
        between=between,
        max_pixels=max_pixels,
        max_video_seconds=max_video_seconds,
    )
    if not data:
        raise DecodeError("empty file", "decode_empty")
    mime = sniff_mime(data)
    if mime is None or not mime.startswith("video/"):
        raise DecodeError("not a video", "not_media")
    import av  # imported lazily, as in decode.py: FFmpeg start-up is only paid for videos

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = video_stream(container, max_pixels)
            offer = hasher.start(stream)
            for number, frame in enumerate(container.decode(stream)):
                if not offer(number, frame):
                    break
    except DecodeError:
        raise
    except MemoryError as exc:
        raise DecodeError("video too large", "decode_too_large") from exc
    except Exception as exc:  # PyAV raises many FFmpeg error classes
        hasher.decoding_failed(exc)
    return hasher.result()


class VpdqFrames:
    """vPDQ hashing of a video's frames as they are decoded: ``vpdq_hash_video`` feeds it from its
    own decoding, and the scan from the decoding that also takes the keyframes
    (``decode.decode_media(frame_sink=...)``), so a fetched video is decoded once for both.

    ``start(stream)`` returns the function to call with each decoded frame and its number in
    decoding order; it answers False when no more frames are wanted, and never raises (a frame it
    cannot use ends the hashing; ``result`` then raises what ``vpdq_hash_video`` would)."""

    def __init__(
        self,
        *,
        seconds_per_hash: float = SECONDS_PER_HASH,
        between: int = 1,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_video_seconds: float = DEFAULT_MAX_VIDEO_SECONDS,
    ) -> None:
        if seconds_per_hash <= 0:
            raise ValueError("seconds_per_hash must be positive")
        self.seconds_per_hash = seconds_per_hash
        self.between = max(1, between)
        self.max_pixels = max_pixels
        self.max_video_seconds = max_video_seconds
        self.features: list[VpdqFeature] = []
        self.extra: list[VpdqFeature] = []
        self.error: DecodeError | None = None
        self._rate = 0.0
        self._every = self._step = 0
        self._due = 0.0  # without a declared rate: the frame's own time, one frame per period

    def start(self, stream: object) -> Callable[[int, Any], bool]:
        self._rate = _frame_rate(stream)
        # Meta truncates seconds x rate to an integer and never lets it reach 0.
        self._every = max(1, int(self.seconds_per_hash * self._rate)) if self._rate > 0 else 0
        self._step = max(1, self._every // self.between) if self._every else 0
        return self.offer

    def offer(self, number: int, frame: Any) -> bool:
        try:
            return self._offer(number, frame)
        except DecodeError as exc:
            self.error = exc
        except MemoryError:
            self.error = DecodeError("video too large", "decode_too_large")
        except Exception as exc:  # a frame PyAV could not convert: as a decoding error
            self.decoding_failed(exc)
        return False

    def _offer(self, number: int, frame: Any) -> bool:
        rate = self._rate
        timestamp = number / rate if rate > 0 else float(frame.time or 0.0)
        if timestamp > self.max_video_seconds:
            return False
        main = True
        if self._every:
            if number % self._every:
                if number % self._step:
                    return True
                main = False
        elif timestamp < self._due:
            return True
        else:
            self._due = timestamp + self.seconds_per_hash
        if frame.width * frame.height > self.max_pixels:
            raise DecodeError("video frame too large", "decode_too_large")
        w, h = _hash_side(frame.width, frame.height)
        pixels = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
        pdq, quality = pdq_hash(pixels)
        (self.features if main else self.extra).append(VpdqFeature(number, quality, pdq, round(timestamp, 3)))
        return len(self.features) < MAX_FEATURES and len(self.extra) < MAX_FEATURES * self.between

    def decoding_failed(self, exc: BaseException) -> None:
        """Decoding stopped on an error: a video cut short keeps the frames hashed before it."""
        if not self.features and self.error is None:
            self.error = DecodeError(f"corrupt or truncated video ({type(exc).__name__})", "decode_corrupt")

    def result(self) -> tuple[list[VpdqFeature], list[VpdqFeature]]:
        """(the vPDQ hash, the frames hashed between) or the ``DecodeError`` of the video."""
        if self.error is not None:
            raise self.error
        if not self.features:
            raise DecodeError("video has no decodable frames", "decode_corrupt")
        return self.features, self.extra


# ----------------------------------------------------------------------------- formats


def _feature(
    frame: object, quality: object, pdq_hex: object, timestamp: object, where: str, line: int | None = None
) -> VpdqFeature:
    try:
        number = int(str(frame).strip())
        q = int(str(quality).strip())
        t = float(str(timestamp).strip())
    except ValueError:
        raise VpdqFormatError(f"{where}: frame number, quality or timestamp is not a number", line) from None
    text = str(pdq_hex).strip().lower()
    if not _HEX.fullmatch(text):
        raise VpdqFormatError(f"{where}: not a 64-digit PDQ hash", line)
    if number < 0 or not 0 <= q <= 100 or not math.isfinite(t) or t < 0:
        raise VpdqFormatError(f"{where}: value out of range", line)
    return VpdqFeature(number, q, bytes.fromhex(text), round(t, 3))


def _bounded(features: list[VpdqFeature]) -> list[VpdqFeature]:
    if not features:
        raise VpdqFormatError("no frames")
    if len(features) > MAX_FEATURES:
        raise VpdqFormatError(f"more than {MAX_FEATURES} frames")
    return features


def vpdq_to_text(features: Iterable[VpdqFeature]) -> str:
    """Meta's vPDQ hash file: ``frame_number,quality,pdq_hex,timestamp`` per line."""
    return "".join(f"{f.frame_number},{f.quality},{f.pdq_hex},{f.timestamp:.3f}\n" for f in features)


def vpdq_from_text(text: str) -> list[VpdqFeature]:
    """Read Meta's vPDQ hash file (blank lines ignored). Raises ``VpdqFormatError``."""
    features: list[VpdqFeature] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != 4:
            raise VpdqFormatError(f"line {number}: expected frame_number,quality,pdq_hex,timestamp", number)
        features.append(_feature(cells[0], cells[1], cells[2], cells[3], where=f"line {number}", line=number))
        if len(features) > MAX_FEATURES:
            break
    return _bounded(features)


def vpdq_to_signal(features: Iterable[VpdqFeature]) -> str:
    """The signal string of HMA's ``vpdq`` signal type: JSON list of "pdq_hex,quality,timestamp"."""
    return json.dumps([f"{f.pdq_hex},{f.quality},{f.timestamp:.3f}" for f in features])


def vpdq_from_signal(signal: str) -> list[VpdqFeature]:
    """Read an HMA ``vpdq`` signal string. The compact form carries no frame numbers: frames are
    numbered in list order. The older form (an object keyed by frame number, each with quality,
    hash and timestamp) is read too. Raises ``VpdqFormatError``."""
    try:
        payload = json.loads(signal or "[]")
    except (json.JSONDecodeError, RecursionError):
        raise VpdqFormatError("not JSON") from None
    features: list[VpdqFeature] = []
    if isinstance(payload, list):
        for number, item in enumerate(payload[: MAX_FEATURES + 1]):
            cells = item.split(",") if isinstance(item, str) else []
            if len(cells) != 3:
                raise VpdqFormatError(f'item {number + 1}: expected "pdq_hex,quality,timestamp"', number + 1)
            features.append(
                _feature(number, cells[1], cells[0], cells[2], where=f"item {number + 1}", line=number + 1)
            )
    elif isinstance(payload, dict):
        for frame, item in list(payload.items())[: MAX_FEATURES + 1]:
            if not isinstance(item, dict):
                raise VpdqFormatError(f"frame {frame}: expected quality, hash and timestamp")
            features.append(
                _feature(
                    frame,
                    item.get("quality"),
                    item.get("hash"),
                    item.get("timestamp"),
                    where=f"frame {frame}",
                )
            )
        features.sort(key=lambda f: f.frame_number)
    else:
        raise VpdqFormatError("expected a JSON list")
    return _bounded(features)


def vpdq_to_bytes(features: Sequence[VpdqFeature]) -> bytes:
    """Compact storage form (41 bytes a frame)."""
    head = _MAGIC + struct.pack("<BI", _FORMAT, len(features))
    return head + b"".join(
        _ROW.pack(f.frame_number, f.quality, f.pdq, min(round(f.timestamp * 1000), 2**32 - 1))
        for f in features
    )


def vpdq_from_bytes(blob: bytes) -> list[VpdqFeature]:
    if blob[:3] != _MAGIC or len(blob) < 8:
        raise VpdqFormatError("not a stored vPDQ hash")
    version, count = struct.unpack_from("<BI", blob, 3)
    if version != _FORMAT:
        raise VpdqFormatError(f"unsupported vPDQ storage version {version}")
    if len(blob) != 8 + count * _ROW.size:
        raise VpdqFormatError("stored vPDQ hash has trailing or missing bytes")
    return [
        VpdqFeature(n, q, bytes(pdq), ms / 1000)
        for n, q, pdq, ms in (_ROW.unpack_from(blob, 8 + i * _ROW.size) for i in range(count))
    ]


# ----------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class VpdqComparison:
    """How two vPDQ hashes compare. "Query" is the video looked at (a fetched video), "compared"
    the one it is compared with (a reference), as in python-threatexchange."""

    query_percent: float  # of the query's usable frames, how many have a match in the other
    compared_percent: float
    query_frames: int  # usable frames: distinct hashes of quality >= QUALITY
    compared_frames: int
    query_matched: int
    compared_matched: int
    mean_distance: float  # over the query's matched frames, each to its nearest frame (bits)
    query_from: float | None  # first and last matched query frame (seconds), for evidence
    query_to: float | None


def _usable(features: Sequence[VpdqFeature], quality: int) -> tuple[np.ndarray, list[float]]:
    # python-threatexchange de-duplicates identical hashes, then drops low-quality frames.
    seen: dict[bytes, VpdqFeature] = {}
    for f in features:
        seen.setdefault(f.pdq, f)
    kept = [f for f in seen.values() if f.quality >= quality]
    rows = np.frombuffer(b"".join(f.pdq for f in kept), dtype=np.uint64).reshape(-1, 4)
    return rows, [f.timestamp for f in kept]


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distance between every row of a and every row of b, (len(a), len(b))."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)), np.int32)
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int32)


def vpdq_compare(
    query: Sequence[VpdqFeature],
    compared: Sequence[VpdqFeature],
    *,
    compared_between: Sequence[VpdqFeature] = (),
    distance: int = DISTANCE,
    quality: int = QUALITY,
) -> VpdqComparison:
    """Compare two vPDQ hashes (python-threatexchange's brute-force rule).

    ``compared_between``: frames of the compared video between its vPDQ frames
    (``vpdq_hash_reference``). A query frame also matches when one of them is near; the compared
    video's own percentage still counts its vPDQ frames only.
    """
    q_rows, q_times = _usable(query, quality)
    c_rows, _ = _usable(compared, quality)
    b_rows, _ = _usable(compared_between, quality)
    return _compare_rows(q_rows, q_times, c_rows, b_rows, distance)


def _compare_rows(
    q_rows: np.ndarray, q_times: list[float], c_rows: np.ndarray, b_rows: np.ndarray, distance: int
) -> VpdqComparison:
    d = _distances(q_rows, c_rows)
    c_hit = (d <= distance).any(axis=0) if d.size else np.zeros(len(c_rows), bool)
    if len(b_rows):
        d = np.concatenate([d, _distances(q_rows, b_rows)], axis=1)
    q_hit = (d <= distance).any(axis=1) if d.size else np.zeros(len(q_rows), bool)
    q_matched, c_matched = int(q_hit.sum()), int(c_hit.sum())
    times = [q_times[i] for i in np.flatnonzero(q_hit).tolist()]
    return VpdqComparison(
        query_percent=q_matched * 100.0 / len(q_rows) if len(q_rows) else 0.0,
        compared_percent=c_matched * 100.0 / len(c_rows) if len(c_rows) else 0.0,
        query_frames=len(q_rows),
        compared_frames=len(c_rows),
        query_matched=q_matched,
        compared_matched=c_matched,
        mean_distance=float(d.min(axis=1)[q_hit].mean()) if q_matched else float(distance + 1),
        query_from=min(times) if times else None,
        query_to=max(times) if times else None,
    )


def vpdq_is_match(result: VpdqComparison, *, percent: float = MATCH_PERCENT) -> bool:
    """Jium's rule: at least ``percent`` of the fetched video's frames are in the reference (HMA's
    default rule: a cut or a re-encode of the reference), *or* at least ``percent`` of the
    reference's frames are in the fetched video (the reference inside a longer video, which HMA's
    rule misses). Every frame counted is a PDQ match at Meta's own threshold."""
    if not result.query_matched:
        return False
    return result.query_percent >= percent or result.compared_percent >= percent


class VpdqMatcher:
    """A case's reference videos, ready to compare fetched videos against (brute force: a case
    has few videos, and one comparison of two 600-frame hashes takes milliseconds)."""

    def __init__(
        self,
        references: Sequence[tuple[Hashable, Sequence[VpdqFeature]]],
        between: Mapping[Hashable, Sequence[VpdqFeature]] | None = None,
    ) -> None:
        """``references``: (key, vPDQ hash); ``between``: a reference's in-between frames by key."""
        between = between or {}
        self._refs = [
            (key, _usable(features, QUALITY)[0], _usable(between.get(key, ()), QUALITY)[0])
            for key, features in references
        ]

    def __len__(self) -> int:
        return len(self._refs)

    def compare(self, query: Sequence[VpdqFeature]) -> list[tuple[Hashable, VpdqComparison]]:
        """Every reference against ``query``, best first (matches first)."""
        q_rows, q_times = _usable(query, QUALITY)
        out = [
            (key, _compare_rows(q_rows, q_times, rows, extra, DISTANCE)) for key, rows, extra in self._refs
        ]
        out.sort(key=lambda kc: (not vpdq_is_match(kc[1]), -max(kc[1].query_percent, kc[1].compared_percent)))
        return out

    def match(self, query: Sequence[VpdqFeature]) -> tuple[Hashable, VpdqComparison] | None:
        """The best matching reference and how it compares, or None."""
        ranked = self.compare(query)
        if ranked and vpdq_is_match(ranked[0][1]):
            return ranked[0]
        return None


def comparison_details(result: VpdqComparison) -> dict[str, object]:
    """Match details to store and show: candidate = the fetched video, reference = ours."""
    return {
        "candidate_percent": round(result.query_percent, 1),
        "reference_percent": round(result.compared_percent, 1),
        "candidate_frames": result.query_frames,
        "reference_frames": result.compared_frames,
        "frames_matched": result.query_matched,
        "pdq_distance": round(result.mean_distance, 1),
        "from_seconds": result.query_from,
        "to_seconds": result.query_to,
    }
