"""Scanning reported URLs and keeping the evidence of what was found."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from app.cases.models import ReportedUrl, UrlState
from app.fetching.models import FetchRecord, FetchStatus, MediaItem, SharedFetch

if TYPE_CHECKING:
    from app.fetching.scan import MediaOutcome, ScanOutcome
    from app.matching.engine import Matcher
    from app.matching.faces import FaceMatcher
    from app.matching.vpdq import VpdqMatcher

log = logging.getLogger(__name__)


def url_scan(
    *,
    url: str,
    matcher: Matcher | None = None,
    keep_bytes: bool = False,
    face_matcher: FaceMatcher | None = None,
    video_matcher: VpdqMatcher | None = None,
) -> ScanOutcome:
    """Scan one URL with the configured limits (FETCH_* settings). Touches no database.

    The one place where settings become scan limits, shared by the Celery pipeline, the
    ``scan_url`` command and tracking re-checks.
    """
    from app.fetching.scan import DEFAULT_TIME_BUDGET, scan_url
    from app.lib.http import policy_from_settings
    from app.matching.decode import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS

    return scan_url(
        url,
        policy=policy_from_settings(),
        matcher=matcher,
        face_matcher=face_matcher,
        video_matcher=video_matcher,
        max_media=int(getattr(settings, "FETCH_MAX_MEDIA_PER_PAGE", 200)),
        keep_bytes=keep_bytes,
        max_pixels=int(getattr(settings, "FETCH_MAX_PIXELS", DEFAULT_MAX_PIXELS)),
        max_frames=int(getattr(settings, "FETCH_MAX_VIDEO_FRAMES", DEFAULT_MAX_FRAMES)),
        workers=int(getattr(settings, "FETCH_MEDIA_WORKERS", 4)),
        time_budget=float(getattr(settings, "FETCH_SCAN_TIME_BUDGET", DEFAULT_TIME_BUDGET)),
    )


def _media_item(record: FetchRecord, item: MediaOutcome, *, keep_bytes: bool) -> MediaItem:
    from app.matching.fingerprint import HASH_VERSIONS, Fingerprint

    fingerprints = item.fingerprints
    chosen = None
    if fingerprints and item.match is not None:
        # The full fingerprint (local features too) backs up the match as evidence.
        chosen = fingerprints[item.match_frame or 0]
    elif fingerprints:
        # Other people's pictures that matched nothing: their hashes are enough to re-match them
        # against references added later; their ~70 KB of local features need not be kept.
        first = fingerprints[0]
        chosen = Fingerprint(
            pdq=first.pdq,
            pdq_quality=first.pdq_quality,
            pdq_trim=first.pdq_trim,
            pdq_trim_quality=first.pdq_trim_quality,
        )
    evidence = item.fetch
    return MediaItem(
        fetch=record,
        url=item.url[:4000],
        source=item.source[:30],
        kind=item.kind or "",
        mime=(item.mime or "")[:100],
        sha256=item.sha256 or "",
        width=item.width,
        height=item.height,
        size=item.size,
        pdq_hex=chosen.pdq.hex() if chosen is not None else "",
        fingerprint=chosen.to_bytes() if chosen is not None else None,
        frame_hashes=[fp.pdq.hex() for fp in fingerprints] if item.kind == "video" else [],
        match_frame=item.match_frame if item.match is not None else None,
        hash_versions=dict(HASH_VERSIONS) if chosen is not None else {},
        status=item.status,
        error=(item.error or "")[:500],
        error_code=(item.error_code or "")[:40],
        redirect_chain=list(evidence.redirect_chain) if evidence else [],
        final_url=(evidence.final_url if evidence else "")[:4000],
        resolved_ip=(evidence.resolved_ip or "") if evidence else "",
        http_status=evidence.http_status if evidence else None,
        headers=dict(evidence.headers) if evidence else {},
        fetched_at=evidence.fetched_at if evidence else None,
        content=item.content if keep_bytes and item.content else None,
    )


def fetch_record_create(
    *,
    reported_url: ReportedUrl,
    outcome: ScanOutcome,
    purpose: str = "scan",
    keep_bytes: bool = False,
    shared_fetch: SharedFetch | None = None,
    reused: bool = False,
) -> tuple[FetchRecord, list[MediaItem]]:
    """Store the evidence of one scan: the page fetch and every media item found on it (in order).

    ``reused``: no request was made, the outcome is ``shared_fetch``'s (another case's fetch).
    """
    page = outcome.page
    record = FetchRecord.objects.create(
        reused=reused,
        shared_fetch=shared_fetch,
        reported_url=reported_url,
        requested_url=outcome.url[:4000],
        redirect_chain=list(page.redirect_chain) if page else [],
        final_url=(page.final_url if page else "")[:4000],
        resolved_ip=(page.resolved_ip or "") if page else "",
        http_status=page.http_status if page else None,
        headers=dict(page.headers) if page else {},
        fetched_at=page.fetched_at if page else timezone.now(),
        size=page.size if page else None,
        sha256=page.sha256 if page else "",
        status=outcome.status,
        error=(outcome.error or "")[:500],
        error_code=(outcome.error_code or "")[:40],
        purpose=purpose,
        page_kind=outcome.page_kind or "",
        links_found=outcome.links_found,
        page_title=outcome.page_title,
        truncated=outcome.truncated,
        elapsed_ms=int(outcome.elapsed * 1000),
        content=page.body if keep_bytes and page is not None and page.body else None,
    )
    items = [_media_item(record, item, keep_bytes=keep_bytes) for item in outcome.media]
    created = MediaItem.objects.bulk_create(items)
    # PostgreSQL and SQLite >= 3.35 return the new ids; others need them read back.
    if any(item.pk is None for item in created):
        created = list(record.media.order_by("id"))
    return record, created


def reported_url_fetch_and_match(*, reported_url: ReportedUrl, purpose: str = "scan") -> ReportedUrl:
    """Scan a reported URL against its case's references and record evidence and matches.

    For purpose "scan" the URL's state becomes matched / no_match / failed; a redelivered task
    replaces its own earlier attempt, so evidence and matches are never counted twice.
    "recheck" (tracking) only adds a new record.
    """
    from app.faces.selectors import face_matcher_for_case
    from app.faces.services import face_matches_record
    from app.matching.models import Match
    from app.matching.selectors import case_matchers
    from app.matching.videos import video_hashes_record

    case = reported_url.case
    # The video matcher is None unless the case has reference videos: fetched videos are then also
    # compared whole (vPDQ).
    matcher, video_matcher = case_matchers(case=case)
    # A minor's case keeps no bytes whatever its (switched-off) opt-in says: matching runs in memory.
    keep = case.keep_evidence and case.may_keep_media
    # None unless the person consented to the face stage and gave face photos: no cost otherwise.
    face_matcher = face_matcher_for_case(case=case)
    outcome, shared, reused = _scan_or_reuse(
        reported_url=reported_url,
        matcher=matcher,
        keep_bytes=keep,
        face_matcher=face_matcher,
        video_matcher=video_matcher,
    )
    with transaction.atomic():
        if purpose == "scan":
            locked, replace = _scan_result_record(reported_url=reported_url, outcome=outcome)
        else:
            locked = ReportedUrl.objects.select_for_update().filter(pk=reported_url.pk).first()
            replace = False
        if locked is None:  # the case was erased while we were fetching
            return reported_url
        if keep:
            # The case may have become a minor's while this page was fetched: its row is locked by
            # the age change (cases.services.case_set_age_group), so read the settled answer.
            from app.cases.models import AgeGroup, Case

            fresh = (
                Case.objects.select_for_update()
                .filter(pk=case.pk)
                .values("age_group", "keep_evidence")
                .first()
            )
            keep = bool(fresh and fresh["age_group"] == AgeGroup.ADULT and fresh["keep_evidence"])
        if replace:
            FetchRecord.objects.filter(reported_url=locked, purpose="scan").delete()
        if shared is not None and not SharedFetch.objects.select_for_update().filter(pk=shared.pk).exists():
            shared = None  # expired or erased meanwhile: the record keeps its own copy of the evidence
        _record, media = fetch_record_create(
            reported_url=locked,
            outcome=outcome,
            purpose=purpose,
            keep_bytes=keep and not reused,
            shared_fetch=shared,
            reused=reused,
        )
        matches = [
            Match(
                reported_url=locked,
                media_item_id=row.pk,
                reference_id=int(str(item.match.reference_key)),
                method=item.match.method,
                distance=float(item.match.distance),
                details=_plain(item.match.details),
            )
            for row, item in zip(media, outcome.media, strict=True)
            if item.match is not None
        ]
        Match.objects.bulk_create(matches)
        video_hashes_record(media=media, outcome=outcome)
        if face_matcher is not None and purpose == "scan":
            face_matches_record(reported_url=locked, media=media, outcome=outcome)
    return locked


def _scan_result_record(
    *, reported_url: ReportedUrl, outcome: ScanOutcome
) -> tuple[ReportedUrl | None, bool]:
    """In the scan's final transaction: write the URL's new state, which also locks its row
    (an erasure or a duplicate delivery finishing meanwhile waits, or went first). Returns the
    URL as written (None if it was erased meanwhile) and whether an earlier scan's evidence may
    exist and must be replaced.

    One UPDATE, instead of a locked read, a write and a look for earlier evidence, on a URL's first
    scan: its first attempt (``reported_url_scan`` counts them before it calls this) with no scan
    recorded yet holds no scan evidence, since the evidence and ``last_scanned_at`` are written
    together, here. The UPDATE checks that ``last_scanned_at`` is still empty, so a duplicate
    delivery that recorded its scan meanwhile sends this one down the replacing path; any later
    attempt (a redelivery after a worker died, a requeue) always takes it."""
    if outcome.status != FetchStatus.OK:
        state = UrlState.FAILED
    else:
        state = (
            UrlState.MATCHED if any(item.match is not None for item in outcome.media) else UrlState.NO_MATCH
        )
    now = timezone.now()
    values = {"state": state, "error": (outcome.error or "")[:500], "last_scanned_at": now, "updated_at": now}
    rows = ReportedUrl.objects.filter(pk=reported_url.pk)
    replace = reported_url.scan_attempts != 1 or reported_url.last_scanned_at is not None
    written = 0 if replace else rows.filter(last_scanned_at__isnull=True).update(**values)
    if not written:
        replace = True
        written = rows.update(**values)
    if not written:
        return None, False
    for name, value in values.items():
        setattr(reported_url, name, value)
    return reported_url, replace


def _scan_or_reuse(
    *,
    reported_url: ReportedUrl,
    matcher: Matcher | None,
    keep_bytes: bool,
    face_matcher: FaceMatcher | None,
    video_matcher: VpdqMatcher | None = None,
) -> tuple[ScanOutcome, SharedFetch | None, bool]:
    """Scan the URL, or reuse the organisation's shared fetch of it: (outcome, shared fetch, reused).

    Who may reuse one: a case that keeps no evidence copies (a shared fetch holds no bytes) and
    runs no face stage (a shared fetch holds no pixels and no face embeddings) and has no
    reference videos (a shared fetch holds no vPDQ hashes of the videos it found). Who may store
    one: an adult's case. A minor's case reuses but never stores: its scan keeps in memory
    the local features of every file it found, which its own records never hold.
    """
    from app.fetching.reuse import (
        shared_fetch_fresh,
        shared_fetch_single_flight,
        shared_fetch_store,
        shared_fetch_window,
    )
    from app.fetching.scan import RematchNeedsPixels, outcome_from_bytes, outcome_rematch

    case = reported_url.case
    window = shared_fetch_window()
    may_reuse = window > timedelta(0) and not keep_bytes and face_matcher is None and video_matcher is None
    may_store = window > timedelta(0) and case.may_keep_media

    def scan() -> ScanOutcome:
        return url_scan(
            url=reported_url.normalized_url,
            matcher=matcher,
            keep_bytes=keep_bytes,
            face_matcher=face_matcher,
            video_matcher=video_matcher,
        )

    if not (may_reuse or may_store):
        return scan(), None, False
    with shared_fetch_single_flight(organization_id=case.organization_id, url_key=reported_url.url_key):
        if may_reuse:
            entry = shared_fetch_fresh(
                organization_id=case.organization_id,
                url_key=reported_url.url_key,
                reported_url_id=reported_url.pk,
            )
            if entry is not None:
                try:
                    return outcome_rematch(outcome_from_bytes(bytes(entry.data or b"")), matcher), entry, True
                except RematchNeedsPixels:
                    # A fit that only the picture's faces can decide: scanned again (rare).
                    log.info("shared fetch %s: the pictures are needed again", entry.pk)
                except ValueError:
                    log.warning("shared fetch %s unreadable: fetching again", entry.pk)
        outcome = scan()
        stored = None
        if may_store:
            stored = shared_fetch_store(
                case=case, url_key=reported_url.url_key, outcome=outcome, window=window
            )
        return outcome, stored, False


def _plain(details: dict[str, object]) -> dict[str, object]:
    from app.fetching.scan import json_safe

    value = json_safe(details)  # numpy scalars from the matcher are not JSON
    assert isinstance(value, dict)
    return value
