"""Re-checks: dispatching due ones, fetching the link again and deciding whether it is gone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from app.accounts.services import audit_record
from app.cases.models import CaseStatus
from app.fetching.models import FetchRecord, FetchStatus
from app.notices.models import NoticeState
from app.tracking import schedule
from app.tracking.models import (
    AlertKind,
    CheckReason,
    NoticeStatus,
    NoticeTracking,
    RemovalMarker,
    UrlCheck,
    UrlStatus,
    UrlTracking,
)
from app.tracking.services.alerts import _alert
from app.tracking.services.base import _now
from app.tracking.services.starting import _set_notice_status

GONE_STATUSES = (404, 410)
# Fallbacks when no RemovalMarker rows exist (a fresh database before migrations seeded them).
GENERIC_TEXT_MARKERS = (
    "this content has been removed",
    "this content is no longer available",
    "this post has been removed",
    "this post was removed",
    "this page isn't available",
    "게시물이 삭제되었습니다",
    "삭제된 게시물입니다",
    "존재하지 않는 게시물입니다",
)
_HTTP_IN_ERROR = re.compile(r"HTTP (\d{3})")


# ---- dispatching due re-checks -------------------------------------------------------------------


def _enqueue_rechecks(ids: list[int]) -> None:
    from app.tracking.tasks import recheck_url

    for pk in ids:
        recheck_url.delay(pk)


def rechecks_dispatch_due(
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    max_batches: int = 20,
    enqueue: Callable[[list[int]], None] | None = None,
) -> int:
    """Hand every due URL to a worker, in bounded batches read from the next_check_at index.

    Each batch is claimed (pushed out by a lease) in the same transaction that reads it, so a
    second beat or a slow worker never re-dispatches it; a URL whose worker died falls due again
    when the lease ends.
    """
    now = now or _now()
    send = enqueue or _enqueue_rechecks
    total = 0
    for _i in range(max_batches):
        with transaction.atomic():
            qs = UrlTracking.objects.filter(next_check_at__lte=now).order_by("next_check_at")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            ids = list(qs.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            UrlTracking.objects.filter(pk__in=ids).update(next_check_at=now + schedule.LEASE)
            transaction.on_commit(partial(send, ids))
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total


# ---- one re-check --------------------------------------------------------------------------------


@dataclass
class Decision:
    status: str | None  # None: inconclusive, keep the current status
    reason: str
    still_matching: bool
    matched_media: int
    marker: str = ""
    error: str = ""


def _markers(platform_id: int | None) -> tuple[list[str], list[str]]:
    rows = list(
        RemovalMarker.objects.filter(active=True)
        .filter(platform_id__isnull=True)
        .values_list("kind", "pattern")
    )
    if platform_id is not None:
        rows += list(
            RemovalMarker.objects.filter(active=True, platform_id=platform_id).values_list("kind", "pattern")
        )
    texts = [p.lower() for k, p in rows if k == "text" and p.strip()] or list(GENERIC_TEXT_MARKERS)
    urls = [p.lower() for k, p in rows if k == "url" and p.strip()]
    return texts, urls


def removal_marker_in(
    *, text: str, final_url: str, text_markers: Iterable[str], url_markers: Iterable[str]
) -> str:
    """The marker that says the content was removed, or ""."""
    low_url = final_url.lower()
    for marker in url_markers:
        if marker and marker in low_url:
            return marker
    low = " ".join(text.lower().split())
    for marker in text_markers:
        if marker and marker in low:
            return marker
    return ""


def _page_text(url: str) -> tuple[str, str]:
    """(visible-ish text, final URL) of a page, fetched through the one network door."""
    from app.lib.http import FetchError, fetch, policy_from_settings

    try:
        response = fetch(url, policy=policy_from_settings(max_bytes=2 * 1024 * 1024, retries=0))
    except FetchError:
        return "", ""
    text = response.body.decode("utf-8", errors="replace")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", text), response.final_url


def _gone_error(error: str) -> bool:
    found = _HTTP_IN_ERROR.search(error or "")
    return bool(found and int(found.group(1)) in GONE_STATUSES)


def _decide(tracking: UrlTracking, record: FetchRecord) -> Decision:
    from app.matching.models import Match
    from app.platforms.resolve import platform_id_for_host

    reported = tracking.reported_url
    baseline = list(
        Match.objects.filter(reported_url=reported, media_item__fetch__purpose="scan").values_list(
            "reference_id", "media_item__url"
        )
    )
    baseline_refs = {ref for ref, _url in baseline}
    baseline_urls = {url for _ref, url in baseline}
    now_refs = set(Match.objects.filter(media_item__fetch=record).values_list("reference_id", flat=True))
    matched = Match.objects.filter(media_item__fetch=record).count()
    http = record.http_status
    was_removed = tracking.status == UrlStatus.REMOVED

    def marker_check() -> str:
        if was_removed:
            return ""  # already known; no second request every week
        texts, urls = _markers(platform_id_for_host(reported.host))
        found = removal_marker_in(text="", final_url=record.final_url, text_markers=(), url_markers=urls)
        if found:
            return found
        text, final_url = _page_text(reported.normalized_url)
        return removal_marker_in(text=text, final_url=final_url, text_markers=texts, url_markers=urls)

    if record.status == FetchStatus.OK:
        if now_refs:
            partly = bool(baseline_refs) and not baseline_refs <= now_refs
            return Decision(
                status=UrlStatus.PARTLY if partly else UrlStatus.OPEN,
                reason=CheckReason.PARTLY if partly else CheckReason.STILL_UP,
                still_matching=True, matched_media=matched,
            )  # fmt: skip
        transient = [
            m.error
            for m in record.media.all()
            if m.url in baseline_urls and m.error and not _gone_error(m.error)
        ]
        if transient:
            return Decision(
                status=None, reason=CheckReason.INCONCLUSIVE, still_matching=False, matched_media=0,
                error=transient[0][:500],
            )  # fmt: skip
        marker = marker_check()
        return Decision(
            status=UrlStatus.REMOVED, reason=CheckReason.REMOVED_PAGE if marker else CheckReason.NO_MATCH,
            still_matching=False, matched_media=0, marker=marker[:200],
        )  # fmt: skip
    if http in GONE_STATUSES:
        return Decision(
            status=UrlStatus.REMOVED, reason=CheckReason.GONE_STATUS, still_matching=False, matched_media=0
        )
    if record.status == FetchStatus.ERROR and http is not None:
        marker = marker_check()
        if marker:
            return Decision(
                status=UrlStatus.REMOVED, reason=CheckReason.REMOVED_PAGE, still_matching=False,
                matched_media=0, marker=marker[:200],
            )  # fmt: skip
    return Decision(
        status=None, reason=CheckReason.INCONCLUSIVE, still_matching=False, matched_media=0,
        error=(record.error or "")[:500],
    )  # fmt: skip


def url_recheck(*, tracking_id: int, actor: User | None = None) -> UrlCheck | None:
    """Fetch a tracked URL again, keep the evidence, and decide whether its content is still up."""
    from app.fetching.services import reported_url_fetch_and_match

    tracking = UrlTracking.objects.select_related("reported_url__case").filter(pk=tracking_id).first()
    if tracking is None:
        return None
    reported = tracking.reported_url
    if reported.case.status == CaseStatus.CLOSED:
        UrlTracking.objects.filter(pk=tracking.pk).update(next_check_at=None)
        return None
    last = (
        FetchRecord.objects.filter(reported_url=reported).order_by("-id").values_list("pk", flat=True).first()
        or 0
    )
    reported_url_fetch_and_match(reported_url=reported, purpose="recheck")
    record = (
        FetchRecord.objects.filter(reported_url=reported, purpose="recheck", pk__gt=last)
        .order_by("-id")
        .first()
    )
    if record is None:  # erased while fetching
        return None
    decision = _decide(tracking, record)
    return _record_check(tracking, decision, record=record, actor=actor)


def _record_check(
    tracking: UrlTracking, decision: Decision, *, record: FetchRecord | None, actor: User | None
) -> UrlCheck:
    now = _now()
    alerts: list[str] = []
    with transaction.atomic():
        tracking = UrlTracking.objects.select_for_update().select_related("reported_url").get(pk=tracking.pk)
        before = tracking.status
        if decision.status == UrlStatus.REMOVED:
            if before != UrlStatus.REMOVED:
                tracking.removed_at = now
                alerts.append(AlertKind.REMOVED)
            tracking.status = UrlStatus.REMOVED
        elif decision.status is not None:
            if before == UrlStatus.REMOVED:
                tracking.status = UrlStatus.REAPPEARED
                tracking.flagged = True
                tracking.reappeared_at = now
                tracking.removed_at = None
                alerts.append(AlertKind.REAPPEARED)
            elif before != UrlStatus.REAPPEARED:
                tracking.status = decision.status
        tracking.last_checked_at = now
        tracking.last_http_status = record.http_status if record else None
        tracking.last_error = decision.error
        if decision.status is not None:
            tracking.still_matching = decision.still_matching
        tracking.check_count += 1
        removed_since = tracking.removed_at if tracking.status == UrlStatus.REMOVED else None
        if decision.status is None:
            # Could not tell: look again in an hour or so rather than waiting a full interval.
            tracking.next_check_at = now + schedule.jittered(schedule.HOUR)
        else:
            tracking.next_check_at = schedule.next_check(
                now=now, started_at=tracking.started_at, removed_since=removed_since
            )
        tracking.save()
        check = UrlCheck.objects.create(
            tracking=tracking, fetch=record, checked_at=now, status=tracking.status, reason=decision.reason,
            http_status=record.http_status if record else None, still_matching=decision.still_matching,
            matched_media=decision.matched_media, marker=decision.marker, error=decision.error, actor=actor,
        )  # fmt: skip
        for kind in alerts:
            _alert(case=tracking.case, kind=kind, reported_url=tracking.reported_url)
        _notices_refresh(reported_url_id=tracking.reported_url_id, actor=actor, at=now)
        if alerts:
            from app.api.webhooks import webhooks_emit

            webhooks_emit(
                organization_id=tracking.organization_id,
                event="url.removed" if tracking.status == UrlStatus.REMOVED else "url.reappeared",
                data={
                    "case_id": tracking.case_id,
                    "url_id": tracking.reported_url_id,
                    "status": tracking.status,
                },
            )
    return check


def _notices_refresh(*, reported_url_id: int, actor: User | None, at: datetime) -> None:
    """A notice's status follows its URLs: all removed, some removed, or back to waiting."""
    for tracking in NoticeTracking.objects.filter(
        notice__items__reported_url_id=reported_url_id
    ).select_related("notice"):
        statuses = list(
            UrlTracking.objects.filter(reported_url__notice_items__notice_id=tracking.notice_id).values_list(
                "status", flat=True
            )
        )
        removed = sum(1 for s in statuses if s == UrlStatus.REMOVED)
        partly = any(s == UrlStatus.PARTLY for s in statuses)
        target: str
        if statuses and removed == len(statuses):
            target = NoticeStatus.REMOVED
        elif removed or partly:
            target = NoticeStatus.PARTLY
        elif tracking.status in (NoticeStatus.REMOVED, NoticeStatus.PARTLY):
            target = (
                NoticeStatus.ACKNOWLEDGED if tracking.acknowledged_at else tracking_initial_status(tracking)
            )
        else:
            continue
        if tracking.status == NoticeStatus.REFUSED and target != NoticeStatus.REMOVED:
            continue  # a refusal stands until the content is actually gone
        _set_notice_status(
            tracking, target, actor=actor, at=at, note=gettext_noop("after a check of the links")
        )


def tracking_initial_status(tracking: NoticeTracking) -> str:
    return NoticeStatus.SUBMITTED if tracking.notice.state == NoticeState.SUBMITTED else NoticeStatus.SENT


def url_mark_removed(*, tracking: UrlTracking, actor: User | None) -> UrlCheck:
    """A person saw the content gone (e.g. behind a login Jium cannot pass)."""
    check = _record_check(
        tracking,
        Decision(status=UrlStatus.REMOVED, reason=CheckReason.MANUAL, still_matching=False, matched_media=0),
        record=None,
        actor=actor,
    )
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.url_removed", case_id=tracking.case_id,
        object_type="reported_url", object_id=tracking.reported_url_id,
    )  # fmt: skip
    return check


def url_clear_flag(*, tracking: UrlTracking, actor: User | None) -> None:
    UrlTracking.objects.filter(pk=tracking.pk).update(flagged=False)
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.url_flag_clear", case_id=tracking.case_id,
        object_type="reported_url", object_id=tracking.reported_url_id,
    )  # fmt: skip
