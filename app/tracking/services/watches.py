"""Re-upload watches: pages re-scanned on a schedule for new copies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, CaseStatus, ReportedUrl
from app.tracking import schedule
from app.tracking.models import (
    AlertKind,
    Watch,
)
from app.tracking.services.alerts import _alert
from app.tracking.services.base import TrackingError, _now

# ---- re-upload watches -----------------------------------------------------------------------------


def watch_add(*, case: Case, actor: User | None, url: str, interval_hours: int = 24) -> Watch:
    from app.lib.urls import InvalidUrl, normalize_url

    try:
        normalized = normalize_url(url.strip())
    except InvalidUrl as exc:
        raise TrackingError(_("This address cannot be used: %(reason)s") % {"reason": exc}) from exc
    if interval_hours < 1:
        raise TrackingError(_("Check at most once an hour."))
    watch = Watch.objects.create(
        case=case, url=url.strip()[:4000], normalized_url=normalized[:4000], interval_hours=interval_hours,
        next_scan_at=_now() + schedule.jittered(timedelta(minutes=5)), created_by=actor,
    )  # fmt: skip
    audit_record(
        organization=case.organization, actor=actor, action="tracking.watch_add", case_id=case.pk,
        object_type="watch", object_id=watch.pk,
    )  # fmt: skip
    return watch


def watch_remove(*, watch: Watch, actor: User | None) -> None:
    case = watch.case
    pk = watch.pk
    watch.delete()
    audit_record(
        organization=case.organization, actor=actor, action="tracking.watch_remove", case_id=case.pk,
        object_type="watch", object_id=pk,
    )  # fmt: skip


def _enqueue_watch_scans(ids: list[int]) -> None:
    from app.tracking.tasks import scan_watch

    for pk in ids:
        scan_watch.delay(pk)


def watches_dispatch_due(
    *, now: datetime | None = None, limit: int = 500, enqueue: Callable[[list[int]], None] | None = None
) -> int:
    now = now or _now()
    with transaction.atomic():
        ids = list(
            Watch.objects.filter(active=True, next_scan_at__lte=now)
            .order_by("next_scan_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Watch.objects.filter(pk__in=ids).update(next_scan_at=now + schedule.LEASE)
            transaction.on_commit(partial(enqueue or _enqueue_watch_scans, ids))
    return len(ids)


def watch_scan(*, watch_id: int) -> list[ReportedUrl]:
    """Scan a watched page; every matching image not yet in the case becomes a reported URL and an alert."""
    from app.cases.services import reported_urls_add
    from app.fetching.scan import scan_url
    from app.lib.http import policy_from_settings
    from app.matching.selectors import case_matcher

    watch = Watch.objects.select_related("case").filter(pk=watch_id).first()
    if watch is None:
        return []
    case = watch.case
    now = _now()
    if case.status == CaseStatus.CLOSED or not watch.active:
        Watch.objects.filter(pk=watch.pk).update(next_scan_at=None)
        return []
    matcher = case_matcher(case=case)
    outcome = scan_url(
        watch.normalized_url,
        policy=policy_from_settings(),
        matcher=matcher,
        max_media=settings.FETCH_MAX_MEDIA_PER_PAGE,
    )
    found = [m.url for m in outcome.matches]
    added: list[ReportedUrl] = []
    with transaction.atomic():
        if found:
            added = reported_urls_add(case=case, actor=None, urls=found).added
            for reported in added:
                _alert(case=case, kind=AlertKind.REUPLOAD, reported_url=reported, watch=watch)
        Watch.objects.filter(pk=watch.pk).update(
            last_scanned_at=now, last_http_status=outcome.http_status, last_error=(outcome.error or "")[:500],
            scan_count=watch.scan_count + 1,
            next_scan_at=now + schedule.jittered(timedelta(hours=watch.interval_hours)),
        )  # fmt: skip
        if added:
            audit_record(
                organization=case.organization, actor=None, action="tracking.watch_found", case_id=case.pk,
                object_type="watch", object_id=watch.pk, detail={"added": len(added)},
            )  # fmt: skip
    return added
