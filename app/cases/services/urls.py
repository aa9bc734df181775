"""Reported URLs: adding them, queueing their scans, and recovering scans that were lost."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from app.accounts.services import audit_record
from app.cases.models import (
    Case,
    ReportedUrl,
    UrlState,
)
from app.cases.services.cases import _Whitelist
from app.lib.urls import InvalidUrl, normalize_url, url_host

log = logging.getLogger(__name__)


@dataclass
class UrlReportResult:
    added: list[ReportedUrl] = field(default_factory=list)
    duplicates: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)


def url_key(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def reported_urls_add(
    *, case: Case, actor: User | None, urls: Iterable[str], enqueue: bool = True
) -> UrlReportResult:
    """Add URLs to a case (normalised, de-duplicated) and queue each one for scanning once saved.

    ``enqueue=False``: the caller scans them itself, in-process (the ``takedown`` command).
    """
    result = UrlReportResult()
    whitelist = _Whitelist.of(case)
    seen: set[str] = set()
    pending: list[ReportedUrl] = []
    for raw in urls:
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            normalized = normalize_url(raw)
        except InvalidUrl as exc:
            result.invalid.append((raw[:200], str(exc)))
            continue
        key = url_key(normalized)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        pending.append(
            ReportedUrl(
                case=case,
                url=raw[:4000],
                normalized_url=normalized[:4000],
                url_key=key,
                host=url_host(normalized)[:255],
                state=UrlState.WHITELISTED if whitelist.covers(normalized) else UrlState.QUEUED,
            )
        )
    existing = _existing_keys(case=case, keys=[p.url_key for p in pending])
    fresh = [item for item in pending if item.url_key not in existing]
    result.duplicates += len(pending) - len(fresh)
    with transaction.atomic():
        result.added = _insert_new(fresh)
        result.duplicates += len(fresh) - len(result.added)
        queued_ids = [u.pk for u in result.added if u.state == UrlState.QUEUED]
        if queued_ids and enqueue:
            transaction.on_commit(lambda: _enqueue_scans(queued_ids))
    if result.added:
        audit_record(
            organization=case.organization,
            actor=actor,
            action="case.urls_add",
            case_id=case.pk,
            detail={
                "added": len(result.added),
                "duplicates": result.duplicates,
                "invalid": len(result.invalid),
            },
        )
    return result


# Rows per INSERT and keys per IN (...): well inside PostgreSQL's 65,535 parameters per statement.
_BATCH = 1000


def _existing_keys(*, case: Case, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _BATCH):
        found.update(
            ReportedUrl.objects.filter(case=case, url_key__in=keys[start : start + _BATCH]).values_list(
                "url_key", flat=True
            )
        )
    return found


def _insert_new(items: list[ReportedUrl]) -> list[ReportedUrl]:
    """Insert the rows in a few multi-row INSERTs; the caller holds a transaction.

    One row at a time (a savepoint, an INSERT and a release each) made 1,000 URLs cost 3,000 round
    trips. If another request added one of the same URLs since the duplicate check, the batch's
    savepoint is rolled back and only that batch is inserted row by row, so the newcomer is
    counted as a duplicate exactly as before.
    """
    added: list[ReportedUrl] = []
    for start in range(0, len(items), _BATCH):
        batch = items[start : start + _BATCH]
        try:
            with transaction.atomic():
                added.extend(ReportedUrl.objects.bulk_create(batch))
            continue
        except IntegrityError:
            for item in batch:
                item.pk = None
                item._state.adding = True
        for item in batch:
            try:
                with transaction.atomic():
                    item.save()
            except IntegrityError:
                continue
            added.append(item)
    return added


# Up to this many scans are queued by the request itself. Each publish costs Celery about a millisecond
# (a few under load), so a bulk add of thousands hands its ids to fan-out tasks, one per chunk, that
# queue the same one-task-per-URL scans from a worker: the request answers in time that does not
# depend on the broker.
DIRECT_ENQUEUE_MAX = 50
FANOUT_CHUNK = 500


def _enqueue_scans(ids: list[int]) -> None:
    from app.cases.tasks import enqueue_scans

    if len(ids) <= DIRECT_ENQUEUE_MAX:
        reported_urls_enqueue_scans(reported_url_ids=ids)
        return
    for start in range(0, len(ids), FANOUT_CHUNK):
        enqueue_scans.delay(ids[start : start + FANOUT_CHUNK])


def reported_urls_enqueue_scans(*, reported_url_ids: list[int]) -> int:
    """Queue one scan task per URL. Run again (a redelivered fan-out task), a URL is queued twice and
    still scanned and recorded once: the scan skips URLs that are gone or already final."""
    from app.cases.tasks import scan_reported_url

    for pk in reported_url_ids:
        scan_reported_url.delay(pk)
    return len(reported_url_ids)


def reported_urls_requeue(*, case: Case, actor: User | None, only_failed: bool = True) -> int:
    qs = case.urls.all()
    qs = qs.filter(state=UrlState.FAILED) if only_failed else qs.exclude(state=UrlState.WHITELISTED)
    ids = list(qs.values_list("pk", flat=True))
    with transaction.atomic():
        ReportedUrl.objects.filter(pk__in=ids).update(
            state=UrlState.QUEUED, error="", updated_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_scans(ids))
    audit_record(
        organization=case.organization,
        actor=actor,
        action="case.urls_requeue",
        case_id=case.pk,
        detail={"count": len(ids)},
    )
    return len(ids)


def reported_url_scan(*, reported_url_id: int) -> ReportedUrl | None:
    """Fetch one reported URL, extract its media, match them against the case and keep the evidence.

    Safe to run again for the same URL (a redelivered task after a worker died): the previous
    attempt's evidence for this scan is replaced in one transaction, so no match is ever counted twice.
    """
    from app.fetching.services import reported_url_fetch_and_match

    # One conditional UPDATE claims the URL (2 queries where a locked read and a write in a
    # transaction took 4): not when whitelisted, nor when already final (a duplicate delivery of
    # the same task). It is atomic, as the locked read was.
    claimed = (
        ReportedUrl.objects.filter(pk=reported_url_id)
        .exclude(state=UrlState.WHITELISTED)
        .exclude(
            state__in=(UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED), last_scanned_at__isnull=False
        )
        .update(state=UrlState.FETCHING, scan_attempts=F("scan_attempts") + 1, updated_at=timezone.now())
    )
    reported = ReportedUrl.objects.select_related("case").filter(pk=reported_url_id).first()
    if not claimed or reported is None:
        return reported
    try:
        result: ReportedUrl | None = reported_url_fetch_and_match(reported_url=reported)
    except Exception:
        # Never leave a URL stuck in "checking": record a plain failure and keep the details in the log.
        log.exception("scan of reported URL %s failed", reported_url_id)
        ReportedUrl.objects.filter(pk=reported_url_id).update(
            state=UrlState.FAILED,
            error="internal error while checking this address",
            last_scanned_at=timezone.now(),
            updated_at=timezone.now(),
        )
        result = ReportedUrl.objects.filter(pk=reported_url_id).first()
    if result is not None and result.state in (UrlState.MATCHED, UrlState.FAILED):
        from app.api.webhooks import webhooks_emit

        webhooks_emit(
            organization_id=reported.case.organization_id,
            event="url.matched" if result.state == UrlState.MATCHED else "url.failed",
            data={"case_id": result.case_id, "url_id": result.pk, "url": result.url, "state": result.state},
        )
    return result


def reported_urls_recover_stuck(*, fetching_older_than_s: int = 900, queued_older_than_s: int = 3600) -> int:
    """Queue again the URLs whose task was lost: a worker died mid-scan on a broker that cannot redeliver.

    Redis redelivers unacknowledged tasks by itself; the SQLite quick-start broker does not, and a
    database restored from backup can hold URLs whose tasks never existed. Scanning is idempotent,
    so a URL queued twice is checked once and recorded once.
    """
    now = timezone.now()
    stuck = list(
        ReportedUrl.objects.filter(
            _stuck_filter(
                now - timedelta(seconds=fetching_older_than_s), now - timedelta(seconds=queued_older_than_s)
            )
        ).values_list("pk", flat=True)[:10_000]
    )
    if stuck:
        ReportedUrl.objects.filter(pk__in=stuck).update(updated_at=now)
        transaction.on_commit(lambda: _enqueue_scans(stuck))
        log.warning("re-queued %d reported URLs whose scan was lost", len(stuck))
    return len(stuck)


def _stuck_filter(fetching_before: datetime, queued_before: datetime) -> Q:
    return Q(state=UrlState.FETCHING, updated_at__lt=fetching_before) | Q(
        state=UrlState.QUEUED, updated_at__lt=queued_before
    )


# ---- the age of the person depicted ----------------------------------------------------------
