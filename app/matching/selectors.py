"""Reads: ready-to-use matchers from stored fingerprints, and lookups in the NGO-wide PDQ index."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models.functions import Length

from app.cases.models import Case, Reference
from app.fetching.models import MediaItem
from app.lib.lru import BuiltCache
from app.matching.engine import Matcher
from app.matching.fingerprint import PDQ_MIN_QUALITY, Fingerprint

if TYPE_CHECKING:
    from app.matching.vpdq import VpdqMatcher

_matchers: BuiltCache[Matcher] = BuiltCache(32)


def case_matcher(*, case: Case) -> Matcher | None:
    """The case's matcher, cached per worker process while the case's references stay the same."""
    rows = (
        Reference.objects.filter(case=case)
        .order_by("id")
        .values_list("id", Length("fingerprint"), "fingerprint_rev")
    )
    return _matcher_for_ids(case, tuple((r, (n, v)) for r, n, v in rows))


def case_matchers(*, case: Case) -> tuple[Matcher | None, VpdqMatcher | None]:
    """The case's image matcher (``case_matcher``) and video matcher (``videos.case_video_matcher``),
    both checked against the case's current references in one query, for the scan of each URL."""
    from app.matching.videos import video_matcher_for_ids

    rows = list(
        Reference.objects.filter(case=case)
        .order_by("id")
        .values_list("id", Length("fingerprint"), "fingerprint_rev", "video_hash__id")
    )
    video_ids = tuple(sorted(v for *_, v in rows if v is not None))
    matcher = _matcher_for_ids(case, tuple((r, (n, rev)) for r, n, rev, _ in rows))
    return matcher, video_matcher_for_ids(case=case, ids=video_ids)


def _matcher_for_ids(case: Case, refs: tuple[tuple[int, tuple[int, int]], ...]) -> Matcher | None:
    """``refs``: (id, (fingerprint length, fingerprint_rev)) of each reference. Both are in the
    cache key because a reference's fingerprint can change in place: the same picture sent again
    brings what the stored one lacks (features, band hashes, face boxes;
    cases.services.references), and a worker must not go on matching with the old one. The
    revision counts such changes; the length of the encrypted column alone need not change."""
    if not refs:
        return None
    ids = tuple(ref_id for ref_id, _ in refs)

    def build() -> Matcher:
        references = [
            (ref_id, Fingerprint.from_bytes(bytes(blob)))
            for ref_id, blob in Reference.objects.filter(id__in=ids)
            .order_by("id")
            .values_list("id", "fingerprint")
        ]
        return Matcher(references)

    return _matchers.get_or_build((case.pk, refs), build)


def references_near(
    *, organization_id: int, pdq: bytes, radius: int = 31, case_ids: Iterable[int] | None = None
) -> list[tuple[int, int, int]]:
    """The organisation's references whose PDQ hash (or a rotation, flip or trimmed variant of it)
    is within ``radius`` bits of ``pdq``: (reference id, case id, distance), nearest first.

    ``case_ids`` narrows the answer to those cases (the ones a person may see); the index holds
    only this organisation's references, so nothing from another organisation can come back.
    """
    from app.matching.services import VARIANTS, pdq_index_refresh

    if len(pdq) != 32:
        raise ValueError("a PDQ hash is 32 bytes")
    state = pdq_index_refresh(organization_id=organization_id)
    allowed = None if case_ids is None else {int(c) for c in case_ids}
    best: dict[int, int] = {}
    for entry_id, distance in state.query(pdq, radius):
        ref_id = entry_id // VARIANTS
        if ref_id not in best:  # hits come nearest first
            best[ref_id] = distance
    out = []
    for ref_id, distance in best.items():
        case_id = state.case_of(ref_id)
        if case_id is not None and (allowed is None or case_id in allowed):
            out.append((ref_id, case_id, distance))
    return sorted(out, key=lambda t: (t[2], t[0]))


def media_item_other_case_hits(
    *, media_item: MediaItem, user: AbstractBaseUser | AnonymousUser, radius: int = 31
) -> list[tuple[int, int, int]]:
    """References in *other* cases of the same organisation that this fetched image is near.

    Only cases the user may see are searched, and nothing at all if the user may not see the
    media item's own case. (reference id, case id, PDQ distance), nearest first.
    """
    from app.cases.selectors import case_list_for

    case = media_item.fetch.reported_url.case
    visible = case_list_for(user=user)
    if not visible.filter(pk=case.pk).exists():
        return []
    case_ids = set(visible.exclude(pk=case.pk).values_list("id", flat=True))
    if not case_ids:
        return []
    probes: list[bytes] = []
    fp = None
    if media_item.fingerprint:
        try:
            fp = Fingerprint.from_bytes(bytes(media_item.fingerprint))
        except ValueError:
            fp = None
    if fp is not None:
        if fp.pdq_quality >= PDQ_MIN_QUALITY:
            probes.append(fp.pdq)
        if fp.pdq_trim is not None and fp.pdq_trim_quality >= PDQ_MIN_QUALITY:
            probes.append(fp.pdq_trim)
    elif len(media_item.pdq_hex) == 64:
        probes.append(bytes.fromhex(media_item.pdq_hex))
    # Video frames: every frame hash looked at (the stored fingerprint is one frame's).
    probes.extend(
        bytes.fromhex(h) for h in media_item.frame_hashes or [] if isinstance(h, str) and len(h) == 64
    )
    best: dict[int, tuple[int, int]] = {}
    organization_id = case.organization_id
    for pdq in dict.fromkeys(probes):
        for ref_id, case_id, distance in references_near(
            organization_id=organization_id, pdq=pdq, radius=radius, case_ids=case_ids
        ):
            if ref_id not in best or distance < best[ref_id][1]:
                best[ref_id] = (case_id, distance)
    return sorted(((r, c, d) for r, (c, d) in best.items()), key=lambda t: (t[2], t[0]))
