"""The fingerprint document made on a person's own device (the /fingerprint/ page).

Pure module: no Django. The page (static/fingerprint/core.js) writes, and the server, the
``match_images --reference-fingerprints`` command and the API read::

    {"format": "jium-fingerprints", "version": 1, "made_by": "...", "created_at": "...",
     "fingerprints": [{"name": "Image 1", "level": "features" | "hash", "pdq": "<64 hex>",
                       "quality": 0-100, "features": <n>, "width": w, "height": h,
                       "fingerprint": "<base64 of Fingerprint.to_bytes()>"}]}

``fingerprint`` is the server's own binary layout, so a device-made fingerprint is read and
matched exactly like one made on the server: at the "features" level it carries the band hashes
(bands.py) too, so an undress edit of it is found as one of a server-made reference is; one made
before the page computed them has none and is read all the same. Everything is bounded: the document comes from
outside (an anonymous intake link, a file someone sends).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from .fingerprint import REFERENCE_FEATURES, Fingerprint

DOCUMENT_FORMAT = "jium-fingerprints"
DOCUMENT_VERSION = 1
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_FINGERPRINTS = 100
# A reference with features is ~110 KB (2 x 1,500 keypoints of 36 bytes); base64 adds a third.
MAX_FINGERPRINT_BYTES = 400_000
MAX_NAME = 200
_HEX64 = re.compile(r"[0-9a-f]{64}")


class DocumentError(ValueError):
    """A document that cannot be used. ``code`` is stable, for messages in the reader's language."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class DeviceFingerprint:
    name: str
    level: str  # "hash" or "features"
    fingerprint: Fingerprint
    width: int | None
    height: int | None


def _check(fp: Fingerprint) -> None:
    """Shape limits a real fingerprint always meets (so a crafted one cannot bloat the index)."""
    if len(fp.pdq_dihedral) not in (0, 7):
        raise ValueError("a fingerprint holds 0 or 7 rotated hashes")
    for xy, desc in ((fp.keypoints, fp.descriptors), (fp.mirror_keypoints, fp.mirror_descriptors)):
        if len(desc) > REFERENCE_FEATURES:
            raise ValueError("too many features")
        if len(xy) and xy.max(initial=0) > max(fp.feature_size) + 1:
            raise ValueError("keypoints outside the image")
    if fp.has_features and (min(fp.feature_size) < 1 or max(fp.feature_size) > 4096):
        raise ValueError("feature image size out of range")
    if fp.pdq_quality > 100 or (fp.pdq_trim is not None and fp.pdq_trim_quality > 100):
        raise ValueError("hash quality out of range")
    # Band hashes (from_bytes has checked their length) only nominate a reference for a
    # verification with its features: without features they could only crowd real ones out of
    # the few nominations (engine.BAND_MAX_REFS). The page never makes such a fingerprint.
    if fp.bands and not fp.has_features:
        raise ValueError("band hashes without features")
    if fp.band_qualities and max(fp.band_qualities) > 100:
        raise ValueError("band quality out of range")
    # The mirror image's bands are a fetched picture's (a mirrored edit is found from its side);
    # a reference never uses them, so none is stored.
    if fp.mirror_bands:
        raise ValueError("mirror band hashes belong to fetched pictures, not references")


def _item(raw: Any, position: int) -> DeviceFingerprint:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    blob = raw.get("fingerprint")
    if not isinstance(blob, str) or len(blob) > MAX_FINGERPRINT_BYTES:
        raise ValueError("missing or oversized fingerprint")
    try:
        fp = Fingerprint.from_bytes(base64.b64decode(blob, validate=True))
    except (binascii.Error, ValueError, IndexError) as exc:
        raise ValueError(f"unreadable fingerprint ({exc})") from exc
    _check(fp)
    # Where the faces are is the server's finding (fitcheck.face_details): a device's claim that
    # its picture holds no face would switch that check off, so none is taken from a document.
    fp.face_boxes, fp.faces_checked = [], False
    pdq = raw.get("pdq")
    if pdq is not None and (not isinstance(pdq, str) or pdq.lower() != fp.pdq.hex()):
        raise ValueError("the PDQ hash does not agree with the fingerprint")
    name = raw.get("name")
    name = name.strip()[:MAX_NAME] if isinstance(name, str) and name.strip() else f"Image {position}"
    dims = [raw.get("width"), raw.get("height")]
    width: int | None = None
    height: int | None = None
    if all(isinstance(d, int) and not isinstance(d, bool) and 0 < d < 1_000_000 for d in dims):
        width, height = int(dims[0] or 0), int(dims[1] or 0)
    return DeviceFingerprint(
        name=name,
        level="features" if fp.has_features else "hash",
        fingerprint=fp,
        width=width,
        height=height,
    )


def parse_document(data: bytes | str | dict[str, Any]) -> tuple[list[DeviceFingerprint], list[str]]:
    """The usable fingerprints of a document, and a short reason for each one skipped.

    Raises ``DocumentError`` when the document as a whole is unusable.
    """
    if isinstance(data, dict):
        payload: Any = data
    else:
        if len(data) > MAX_DOCUMENT_BYTES:
            raise DocumentError("the fingerprint file is too large", "too_large")
        try:
            payload = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DocumentError("not a fingerprint file (not JSON)", "not_json") from None
    if not isinstance(payload, dict) or payload.get("format") != DOCUMENT_FORMAT:
        raise DocumentError("not a Jium fingerprint file", "not_document")
    if payload.get("version") != DOCUMENT_VERSION:
        raise DocumentError("a fingerprint file from another version of Jium", "version")
    items = payload.get("fingerprints")
    if not isinstance(items, list) or not items:
        raise DocumentError("the fingerprint file holds no fingerprints", "empty")
    if len(items) > MAX_FINGERPRINTS:
        raise DocumentError(f"at most {MAX_FINGERPRINTS} fingerprints at once", "too_many")
    out: list[DeviceFingerprint] = []
    skipped: list[str] = []
    for position, raw in enumerate(items, start=1):
        try:
            out.append(_item(raw, position))
        except ValueError as exc:
            skipped.append(f"#{position}: {exc}")
    return out, skipped


def is_document(text: str) -> bool:
    """Cheap test whether pasted or uploaded text is a fingerprint document (not a hash list)."""
    head = text.lstrip()[:4096]
    return head.startswith("{") and f'"{DOCUMENT_FORMAT}"' in head
