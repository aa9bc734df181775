"""Scan one reported URL: fetch it, find its images and videos, fingerprint and match them.

Framework-free core shared by the ``scan_url`` command and the Celery pipeline; the database side
(evidence records) lives in ``services.py``. Every network access goes through
``app.lib.http.fetch``, including each media link a page points to, so every hop of every link is
checked again.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import struct
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.fetching.extract import MediaLink, extract_media_links, looks_like_html, page_title
from app.lib.http import FetchFailed, FetchPolicy, FetchRefused, FetchResponse, fetch
from app.matching.decode import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    DecodeError,
    decode_media,
    sniff_media_kind,
)

if TYPE_CHECKING:
    from PIL import Image

    from app.matching.engine import Matcher, MatchResult
    from app.matching.faces import FaceMatcher, FaceMatchResult
    from app.matching.fingerprint import Fingerprint
    from app.matching.vpdq import VpdqFeature, VpdqFrames, VpdqMatcher

__all__ = [
    "MediaOutcome",
    "RematchNeedsPixels",
    "ScanOutcome",
    "matcher_from_files",
    "outcome_as_json",
    "outcome_from_bytes",
    "outcome_rematch",
    "outcome_to_bytes",
    "scan_url",
]

DEFAULT_TIME_BUDGET = 300.0
# Links collected from a page beyond the ones fetched, only to tell people how many there were.
_LINKS_COUNTED = 5000
_MAX_HTML_BYTES = 8 * 1024 * 1024

_HTTP_REASONS = {
    400: "bad request",
    401: "login required",
    403: "access denied",
    404: "not found",
    410: "gone",
    451: "unavailable for legal reasons",
}


@dataclass
class MediaOutcome:
    url: str
    source: str  # how it was found: "direct" (the URL itself) or an extract.MediaLink source
    kind: str | None = None  # "image" | "video", from the bytes
    mime: str | None = None
    sha256: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    # One per decoded frame: a single one for an image.
    fingerprints: list[Fingerprint] = field(default_factory=list)
    match: MatchResult | None = None
    match_frame: int | None = None
    status: str = "ok"  # "ok" | "refused" | "error"
    error: str | None = None
    error_code: str | None = None
    fetch: FetchResponse | None = None  # evidence, always without the body
    content: bytes | None = None  # the fetched bytes, only with keep_bytes
    # Face stage (only for cases that consented, only when no image matched): the nearest face
    # and a JPEG of that face's region alone, for a person to judge.
    face_match: FaceMatchResult | None = None
    face_crop: bytes | None = None
    # vPDQ of a video (one PDQ a second), made only when the case has reference videos to match.
    video_hash: list[VpdqFeature] | None = None

    @property
    def fingerprint(self) -> Fingerprint | None:
        return self.fingerprints[0] if self.fingerprints else None


@dataclass
class ScanOutcome:
    url: str
    status: str  # "ok" | "refused" | "error"
    error: str | None = None
    error_code: str | None = None
    page: FetchResponse | None = None  # body only with keep_bytes
    page_kind: str | None = None  # "html" | "image" | "video" | None
    media: list[MediaOutcome] = field(default_factory=list)
    links_found: int = 0
    page_title: str = ""  # <title> or og:title, for notices that name the post
    truncated: bool = False
    elapsed: float = 0.0

    @property
    def final_url(self) -> str | None:
        return self.page.final_url if self.page else None

    @property
    def http_status(self) -> int | None:
        return self.page.http_status if self.page else None

    @property
    def matches(self) -> list[MediaOutcome]:
        return [m for m in self.media if m.match is not None]


def _rank(result: MatchResult) -> tuple[int, float]:
    # Hash matches are exact-copy evidence and outrank feature matches; then smaller distance.
    return (0 if result.method.startswith("pdq") else 1, result.distance)


def _http_problem(status: int) -> str:
    label = _HTTP_REASONS.get(status)
    if label:
        return f"The site answered with HTTP {status} ({label})."
    return f"The site answered with HTTP {status}."


class _Analyser:
    """Decodes, fingerprints and matches bytes; identical bytes are analysed once per scan."""

    def __init__(
        self,
        matcher: Matcher | None,
        max_pixels: int,
        max_frames: int,
        face_matcher: FaceMatcher | None = None,
        video_matcher: VpdqMatcher | None = None,
    ) -> None:
        self.matcher = matcher
        self.face_matcher = face_matcher
        self.video_matcher = video_matcher
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self._done: dict[str, MediaOutcome] = {}
        self._lock = threading.Lock()

    def analyse(self, item: MediaOutcome, data: bytes) -> None:
        item.sha256 = hashlib.sha256(data).hexdigest()
        item.size = len(data)
        with self._lock:
            earlier = self._done.get(item.sha256)
        if earlier is not None:
            self._copy(earlier, item)
            return
        self._analyse(item, data)
        with self._lock:
            self._done.setdefault(item.sha256, item)

    @staticmethod
    def _copy(source: MediaOutcome, target: MediaOutcome) -> None:
        for name in ("kind", "mime", "width", "height", "match", "match_frame", "status", "error"):
            setattr(target, name, getattr(source, name))
        target.error_code = source.error_code
        target.fingerprints = list(source.fingerprints)
        target.face_match, target.face_crop = source.face_match, source.face_crop
        target.video_hash = source.video_hash

    def _analyse(self, item: MediaOutcome, data: bytes) -> None:
        from app.matching.fingerprint import fingerprint_candidate

        if not data:
            _fail(item, "The file is empty.", "empty")
            return
        sniffed = sniff_media_kind(data)
        if sniffed == "svg":
            # SVG can carry scripts and external references: never rendered.
            item.kind, item.mime = "image", "image/svg+xml"
            _fail(item, "SVG drawings are not opened, for safety.", "svg")
            return
        if sniffed is None:
            _fail(item, "This is not an image or a video.", "not_media")
            return
        video_frames = None
        if self.video_matcher is not None and sniffed == "video":
            from app.matching.vpdq import VpdqFrames

            # vPDQ hashes the frames of the same decoding as the keyframes: one pass, not two.
            video_frames = VpdqFrames(max_pixels=self.max_pixels)
        try:
            decoded = decode_media(
                data,
                max_pixels=self.max_pixels,
                max_frames=self.max_frames,
                frame_sink=video_frames.start if video_frames is not None else None,
            )
        except DecodeError as exc:
            item.kind = sniffed
            _fail(item, f"The file could not be read: {exc.reason}.", exc.code)
            return
        item.kind, item.mime = decoded.kind, decoded.mime
        item.width, item.height = decoded.width, decoded.height
        item.fingerprints.extend(fingerprint_candidate(frame) for frame in decoded.frames)
        _match_item(item, self.matcher, decoded.frames)
        if decoded.kind == "video" and self.video_matcher is not None and video_frames is not None:
            _video_stage(item, video_frames, self.video_matcher)
        if item.match is None and self.face_matcher is not None:
            _face_stage(item, decoded.frames, self.face_matcher)
        decoded.frames.clear()


def _faces_of(frame: Image.Image) -> Callable[[Fingerprint], object]:
    from app.matching.fingerprint import candidate_face_boxes

    return lambda fp: candidate_face_boxes(fp, frame)


class RematchNeedsPixels(ValueError):
    """A stored outcome cannot decide a match without looking at the picture again: a fit on a
    reference never looked at for faces needs the candidate's face boxes, which the stored
    fingerprint does not hold (engine.Matcher.match_features). Fetch and scan again."""


def _match_item(item: MediaOutcome, matcher: Matcher | None, frames: Sequence[Image.Image] = ()) -> None:
    """The best match of any of the item's frames (hash matches first, then smallest distance).
    ``frames``: the decoded pictures the fingerprints were made of, when at hand; without them a
    match that needs the candidate's faces raises RematchNeedsPixels."""
    best: MatchResult | None = None
    item.match, item.match_frame = None, None
    if matcher is None:
        return
    for index, fingerprint in enumerate(item.fingerprints):
        frame = frames[index] if index < len(frames) else None
        result = matcher.match(fingerprint, faces=None if frame is None else _faces_of(frame))
        if result is not None and result.details.get("faces_unchecked"):
            raise RematchNeedsPixels("the candidate's faces are needed")
        if result is not None and (best is None or _rank(result) < _rank(best)):
            best, item.match_frame = result, index
    item.match = best
    if best is None:
        item.match_frame = None


def outcome_rematch(outcome: ScanOutcome, matcher: Matcher | None) -> ScanOutcome:
    """Match the candidate features of an earlier scan (``outcome_from_bytes``) against
    ``matcher``: the same decision the scan itself takes, without fetching or decoding.
    Raises RematchNeedsPixels when that decision needs the pictures again."""
    done: dict[str, MediaOutcome] = {}
    for item in outcome.media:
        # Identical bytes were analysed once by the scan (same fingerprints): match them once.
        earlier = done.get(item.sha256) if item.sha256 else None
        if earlier is not None:
            item.match, item.match_frame = earlier.match, earlier.match_frame
            continue
        _match_item(item, matcher)
        if item.sha256:
            done.setdefault(item.sha256, item)
    return outcome


_SNAPSHOT_VERSION = 1
_RESPONSE_FIELDS = (
    "requested_url", "redirect_chain", "final_url", "resolved_ip", "http_status", "headers",
    "sha256", "size", "elapsed", "attempts",
)  # fmt: skip
_MEDIA_FIELDS = (
    "url",
    "source",
    "kind",
    "mime",
    "sha256",
    "size",
    "width",
    "height",
    "status",
    "error",
    "error_code",
)
_OUTCOME_FIELDS = (
    "url",
    "status",
    "error",
    "error_code",
    "page_kind",
    "links_found",
    "page_title",
    "truncated",
    "elapsed",
)


def _response_json(response: FetchResponse | None) -> dict[str, Any] | None:
    if response is None:
        return None
    value = {name: getattr(response, name) for name in _RESPONSE_FIELDS}
    value["fetched_at"] = response.fetched_at.isoformat()
    return value


def _response_from(value: dict[str, Any] | None) -> FetchResponse | None:
    if value is None:
        return None
    from datetime import datetime

    fields = {name: value[name] for name in _RESPONSE_FIELDS}
    return FetchResponse(body=b"", fetched_at=datetime.fromisoformat(value["fetched_at"]), **fields)


def outcome_to_bytes(outcome: ScanOutcome) -> bytes:
    """What another case needs to reuse this scan: the evidence fields of the page and of each
    media item and every frame's candidate fingerprint. No bytes of any page or file, no match
    (matches belong to the case that scanned), no face-stage result."""
    blobs: list[bytes] = []
    media = []
    for item in outcome.media:
        entry: dict[str, Any] = {name: getattr(item, name) for name in _MEDIA_FIELDS}
        entry["fetch"] = _response_json(item.fetch)
        encoded = [fp.to_bytes() for fp in item.fingerprints]
        entry["frames"] = [len(b) for b in encoded]
        blobs.extend(encoded)
        media.append(entry)
    head: dict[str, Any] = {name: getattr(outcome, name) for name in _OUTCOME_FIELDS}
    head.update(v=_SNAPSHOT_VERSION, page=_response_json(outcome.page), media=media)
    raw = json.dumps(head, separators=(",", ":")).encode()
    return struct.pack("<I", len(raw)) + raw + b"".join(blobs)


def outcome_from_bytes(data: bytes) -> ScanOutcome:
    """The outcome ``outcome_to_bytes`` stored, with no matches yet (``outcome_rematch``)."""
    from app.matching.fingerprint import Fingerprint

    (size,) = struct.unpack_from("<I", data)
    head = json.loads(data[4 : 4 + size])
    if head.get("v") != _SNAPSHOT_VERSION:
        raise ValueError("unsupported snapshot version")
    pos = 4 + size
    outcome = ScanOutcome(**{name: head[name] for name in _OUTCOME_FIELDS})
    outcome.page = _response_from(head["page"])
    for entry in head["media"]:
        item = MediaOutcome(**{name: entry[name] for name in _MEDIA_FIELDS})
        item.fetch = _response_from(entry["fetch"])
        for length in entry["frames"]:
            item.fingerprints.append(Fingerprint.from_bytes(data[pos : pos + length]))
            pos += length
        outcome.media.append(item)
    return outcome


def _video_stage(item: MediaOutcome, video_frames: VpdqFrames, video_matcher: VpdqMatcher) -> None:
    # vPDQ compares the whole video, a frame a second, with the case's reference videos: it
    # matches when keyframes do not (the reference video's own keyframe is only its best frame),
    # and backs up a keyframe match with how much of the video is the same.
    from app.matching.engine import MatchResult
    from app.matching.vpdq import comparison_details

    try:
        item.video_hash = video_frames.result()[0]
    except DecodeError:
        return  # the keyframes were read; frames beyond them could not be: nothing to add
    found = video_matcher.match(item.video_hash)
    if found is None:
        return
    key, comparison = found
    details = comparison_details(comparison)
    if item.match is None:
        item.match, item.match_frame = MatchResult(key, "vpdq", comparison.mean_distance, details), None
    else:
        item.match.details["vpdq"] = {"reference": key, **details}


def _face_stage(item: MediaOutcome, frames: Sequence[Any], face_matcher: FaceMatcher) -> None:
    # Image matches take precedence: this runs only for media that matched no reference image.
    import io

    from app.matching.faces import face_crop

    item.face_match = face_matcher.match_frames(frames)
    if item.face_match is not None:
        buf = io.BytesIO()
        face_crop(frames[item.face_match.frame], item.face_match.box).save(buf, "JPEG", quality=85)
        item.face_crop = buf.getvalue()


def _fail(item: MediaOutcome, reason: str, code: str, status: str = "error") -> None:
    item.status, item.error, item.error_code = status, reason, code


class _Clock:
    def __init__(self, budget: float) -> None:
        self.start = time.monotonic()
        self.budget = budget

    def expired(self) -> bool:
        return time.monotonic() - self.start >= self.budget


def _fetch_media(
    link: MediaLink,
    *,
    policy: FetchPolicy,
    analyser: _Analyser,
    keep_bytes: bool,
    clock: _Clock,
) -> MediaOutcome:
    item = MediaOutcome(url=link.url, source=link.source)
    if link.kind_hint in ("image", "video"):
        item.kind = link.kind_hint
    if clock.expired():
        _fail(item, "Not checked: the scan ran out of time.", "scan_time_limit")
        return item
    try:
        response = fetch(link.url, policy=policy)
    except FetchRefused as exc:
        _fail(item, exc.reason, exc.code, status="refused")
        return item
    except FetchFailed as exc:
        item.fetch = exc.partial.without_body() if exc.partial else None
        _fail(item, exc.reason, exc.code)
        return item
    item.fetch = response.without_body()
    if not 200 <= response.http_status < 300:
        _fail(item, _http_problem(response.http_status), "http_status")
        return item
    analyser.analyse(item, response.body)
    if keep_bytes and item.status == "ok":
        item.content = response.body
    return item


def scan_url(
    url: str,
    *,
    policy: FetchPolicy,
    matcher: Matcher | None = None,
    face_matcher: FaceMatcher | None = None,
    video_matcher: VpdqMatcher | None = None,
    max_media: int = 200,
    keep_bytes: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    workers: int = 4,
    time_budget: float = DEFAULT_TIME_BUDGET,
) -> ScanOutcome:
    """Fetch ``url`` and every image/video it shows (at most ``max_media``), fingerprint, match.

    Never raises for anything a remote site does: refusals and failures end up in ``status`` and
    ``error`` (plain language) of the outcome or of each media item.
    ``time_budget`` bounds the whole scan: media not started by then are reported as not checked.
    """
    clock = _Clock(time_budget)
    outcome = ScanOutcome(url=url, status="ok")
    analyser = _Analyser(matcher, max_pixels, max_frames, face_matcher, video_matcher)
    try:
        page = fetch(url, policy=policy)
    except FetchRefused as exc:
        outcome.status, outcome.error, outcome.error_code = "refused", exc.reason, exc.code
        return _finish(outcome, clock)
    except FetchFailed as exc:
        outcome.status, outcome.error, outcome.error_code = "error", exc.reason, exc.code
        if exc.partial is not None:
            outcome.page = exc.partial if keep_bytes else exc.partial.without_body()
        return _finish(outcome, clock)

    outcome.page = page if keep_bytes else page.without_body()
    body = page.body
    if not 200 <= page.http_status < 300:
        outcome.status, outcome.error = "error", _http_problem(page.http_status)
        outcome.error_code = "http_status"
        return _finish(outcome, clock)
    if not body:
        outcome.status, outcome.error = "error", "The address returned an empty answer."
        outcome.error_code = "empty"
        return _finish(outcome, clock)

    sniffed = sniff_media_kind(body)
    declared = page.content_type
    if sniffed is not None:
        # The URL is itself an image or a video (whatever the server called it).
        outcome.page_kind = "image" if sniffed == "svg" else sniffed
        item = MediaOutcome(url=page.final_url, source="direct", fetch=page.without_body())
        analyser.analyse(item, body)
        if keep_bytes and item.status == "ok":
            item.content = body
        outcome.media.append(item)
        if item.status != "ok":
            outcome.status, outcome.error, outcome.error_code = "error", item.error, item.error_code
        return _finish(outcome, clock)
    if declared.startswith(("image/", "video/")):
        outcome.status = "error"
        outcome.error = "The address says it is an image or a video, but what it sent is neither."
        outcome.error_code = "not_media"
        return _finish(outcome, clock)
    if not (declared in ("text/html", "application/xhtml+xml") or looks_like_html(body)):
        outcome.status = "error"
        outcome.error = "The address did not return a web page, an image or a video."
        outcome.error_code = "not_a_page"
        return _finish(outcome, clock)

    outcome.page_kind = "html"
    # Parsing is bounded too: the media of a real page are in its first megabytes.
    links = extract_media_links(body[:_MAX_HTML_BYTES], base_url=page.final_url, max_items=_LINKS_COUNTED)
    outcome.page_title = page_title(body[:_MAX_HTML_BYTES])
    del body
    outcome.links_found = len(links)
    outcome.truncated = len(links) > max_media
    links = links[: max(max_media, 0)]
    if links:
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(workers, len(links))), thread_name_prefix="jium-scan"
        ) as pool:
            futures = [
                pool.submit(
                    _fetch_media,
                    link,
                    policy=policy,
                    analyser=analyser,
                    keep_bytes=keep_bytes,
                    clock=clock,
                )
                for link in links
            ]
            outcome.media = [f.result() for f in futures]
    return _finish(outcome, clock)


def _finish(outcome: ScanOutcome, clock: _Clock) -> ScanOutcome:
    outcome.elapsed = time.monotonic() - clock.start
    return outcome


def matcher_from_files(paths: Sequence[Path]) -> tuple[Matcher | None, list[tuple[str, str]]]:
    """A matcher keyed by file name for the reference images among ``paths``.

    Returns (matcher or None when no usable image, [(file name, reason)] for skipped files).
    """
    from app.matching.engine import Matcher
    from app.matching.fingerprint import fingerprint_reference

    references: list[tuple[Hashable, Fingerprint]] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(paths):
        if not path.is_file():
            continue
        try:
            media = decode_media(path.read_bytes(), max_frames=1)
        except DecodeError as exc:
            skipped.append((path.name, exc.reason))
            continue
        except OSError as exc:
            skipped.append((path.name, str(exc)))
            continue
        references.append((path.name, fingerprint_reference(media.frames[0])))
    return (Matcher(references) if references else None), skipped


def json_safe(value: Any) -> Any:
    """Match details hold numpy scalars and tuples; JSON wants plain values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def outcome_as_json(outcome: ScanOutcome) -> dict[str, Any]:
    """The ``scan_url --json`` object: the contract keys first, then extra evidence.

    ``media`` lists the images and videos that were read; files that could not be fetched or
    read are listed in ``skipped_media`` with the reason.
    """
    media = []
    skipped = []
    for item in outcome.media:
        if item.status == "ok" and item.kind in ("image", "video"):
            matches = []
            if item.match is not None:
                matches.append(
                    {
                        "reference": json_safe(item.match.reference_key),
                        "method": item.match.method,
                        "distance": float(item.match.distance),
                        "frame": item.match_frame,
                        "details": json_safe(item.match.details),
                    }
                )
            media.append(
                {
                    "url": item.url,
                    "kind": item.kind,
                    "sha256": item.sha256,
                    "width": item.width,
                    "height": item.height,
                    "matches": matches,
                    "mime": item.mime,
                    "size": item.size,
                    "source": item.source,
                    "frames": len(item.fingerprints),
                    "pdq": item.fingerprint.pdq.hex() if item.fingerprint else None,
                    "final_url": item.fetch.final_url if item.fetch else None,
                }
            )
        else:
            skipped.append(
                {
                    "url": item.url,
                    "status": item.status,
                    "error": item.error,
                    "error_code": item.error_code,
                    "source": item.source,
                }
            )
    page = outcome.page
    return {
        "url": outcome.url,
        "final_url": outcome.final_url,
        "status": outcome.status,
        "error": outcome.error if outcome.status != "ok" else None,
        "http_status": outcome.http_status,
        "media": media,
        "error_code": outcome.error_code if outcome.status != "ok" else None,
        "page_kind": outcome.page_kind,
        "redirect_chain": list(page.redirect_chain) if page else [],
        "resolved_ip": page.resolved_ip if page else None,
        "fetched_at": page.fetched_at.isoformat() if page else None,
        "sha256": page.sha256 if page else None,
        "size": page.size if page else None,
        "headers": dict(page.headers) if page else {},
        "links_found": outcome.links_found,
        "truncated": outcome.truncated,
        "skipped_media": skipped,
        "elapsed_seconds": round(outcome.elapsed, 3),
    }
