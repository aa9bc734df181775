"""Video hashes (vPDQ) in the database: made for reference videos and fetched videos, read back as
a case's video matcher and as exchangeable hash lists.

The hashing and matching math is in ``app/matching/vpdq.py`` (no Django); this module only stores
and reads. Writes are ``video_hash_*`` services, reads are ``case_video_*`` selectors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet

from app.cases.models import Case, Reference
from app.fetching.models import MediaItem
from app.lib.lru import BuiltCache
from app.matching.models import VideoHash
from app.matching.vpdq import (
    VERSION,
    VpdqFeature,
    VpdqFormatError,
    VpdqMatcher,
    vpdq_from_bytes,
    vpdq_to_bytes,
    vpdq_to_signal,
    vpdq_to_text,
)

if TYPE_CHECKING:
    from app.fetching.scan import ScanOutcome

log = logging.getLogger(__name__)

_matchers: BuiltCache[VpdqMatcher] = BuiltCache(32)


def _row(features: Sequence[VpdqFeature], between: Sequence[VpdqFeature] = (), **owner: object) -> VideoHash:
    return VideoHash(
        features=vpdq_to_bytes(features),
        between=vpdq_to_bytes(between) if between else None,
        frames=len(features),
        seconds=max((f.timestamp for f in features), default=0.0),
        version=VERSION,
        **owner,
    )


def video_hash_for_reference(
    *, reference: Reference, features: Sequence[VpdqFeature], between: Sequence[VpdqFeature] = ()
) -> VideoHash:
    """Store (or replace) a reference's vPDQ hash (and the frames hashed between its frames)."""
    VideoHash.objects.filter(reference=reference).delete()
    row = _row(features, between, reference=reference)
    row.save()
    return row


def video_hashes_for_references(
    *, pairs: Sequence[tuple[Reference, Sequence[VpdqFeature]]]
) -> list[VideoHash]:
    """Store the vPDQ hashes of references that have none yet, in multi-row INSERTs: a partner's
    hash list can hold thousands of videos."""
    rows = [_row(features, reference=reference) for reference, features in pairs]
    return VideoHash.objects.bulk_create(rows, batch_size=500)


def video_features_of_bytes(data: bytes) -> tuple[list[VpdqFeature], list[VpdqFeature]] | None:
    """The vPDQ hash of an uploaded reference video and its in-between frames
    (``vpdq_hash_reference``), or None when the bytes are not a video, or a video whose frames
    cannot be read (the reason is logged, never the bytes)."""
    from app.matching.decode import DEFAULT_MAX_PIXELS, DecodeError, sniff_media_kind
    from app.matching.vpdq import vpdq_hash_reference

    if sniff_media_kind(data) != "video":
        return None
    try:
        return vpdq_hash_reference(
            data, max_pixels=int(getattr(settings, "FETCH_MAX_PIXELS", DEFAULT_MAX_PIXELS))
        )
    except DecodeError as exc:
        log.info("no vPDQ hash for an uploaded video (%s)", exc.code)
        return None


def video_hashes_record(*, media: Sequence[MediaItem], outcome: ScanOutcome) -> int:
    """Store the vPDQ hash of every fetched video that got one (the rows of ``media`` are in the
    order of ``outcome.media``); how many were stored."""
    rows = [
        _row(item.video_hash, media_item_id=row.pk)
        for row, item in zip(media, outcome.media, strict=True)
        if item.video_hash
    ]
    VideoHash.objects.bulk_create(rows)
    return len(rows)


def _features(blob: bytes | memoryview | None) -> list[VpdqFeature]:
    if not blob:
        return []
    try:
        return vpdq_from_bytes(bytes(blob))
    except VpdqFormatError:
        return []


def case_video_matcher(*, case: Case) -> VpdqMatcher | None:
    """The vPDQ hashes of the case's reference videos, ready to match; None when it has none.
    Cached per worker process while the case's video hashes stay the same."""
    ids = tuple(VideoHash.objects.filter(reference__case=case).order_by("id").values_list("id", flat=True))
    return video_matcher_for_ids(case=case, ids=ids)


def video_matcher_for_ids(*, case: Case, ids: tuple[int, ...]) -> VpdqMatcher | None:
    """``case_video_matcher`` for the case's reference-video hash ids already read (ascending)."""
    if not ids:
        return None

    def build() -> VpdqMatcher:
        rows = list(
            VideoHash.objects.filter(id__in=ids)
            .order_by("id")
            .values_list("reference_id", "features", "between")
        )
        return VpdqMatcher(
            [(ref_id, _features(blob)) for ref_id, blob, _ in rows],
            {ref_id: _features(extra) for ref_id, _, extra in rows if extra},
        )

    return _matchers.get_or_build((case.pk, ids), build)


def video_hash_features(*, video_hash: VideoHash) -> list[VpdqFeature]:
    return _features(video_hash.features)


@dataclass(frozen=True)
class VideoHashExport:
    reference_id: int
    label: str
    frames: int
    text: str  # Meta's vPDQ hash file: frame_number,quality,pdq_hex,timestamp per line
    signal: str  # HMA's "vpdq" signal string: JSON list of "pdq_hex,quality,timestamp"


def case_video_hashes_export(*, case: Case) -> list[VideoHashExport]:
    """The vPDQ hashes of a case's reference videos, in both exchange formats.

    For the hash-list exchange (HMA's ``vpdq`` signal type; StopNCII has no video-PDQ type).
    A minor's case is exported like its image hashes are: the caller applies the same rules.
    """
    return video_hashes_export(cases=Case.objects.filter(pk=case.pk))


def video_hashes_export(*, cases: QuerySet[Case]) -> list[VideoHashExport]:
    """The vPDQ hashes of the reference videos of these cases (an organisation's list), in both
    exchange formats: only the one-a-second frames of Meta's rule, never the frames hashed between
    them. Which cases may be shared (not minors' for an organisation's list) is the caller's rule."""
    rows = (
        VideoHash.objects.filter(reference__case__in=cases)
        .select_related("reference")
        .order_by("reference_id")
    )
    out = []
    for row in rows:
        features = _features(row.features)
        if not features or row.reference is None:
            continue
        out.append(
            VideoHashExport(
                reference_id=row.reference.pk,
                label=row.reference.label,
                frames=len(features),
                text=vpdq_to_text(features),
                signal=vpdq_to_signal(features),
            )
        )
    return out
