"""Fetch once per organisation and re-check window: the shared fetch of a reported address.

When several cases of one organisation report the same address, the first scan (or re-check)
stores its outcome and candidate features as a ``SharedFetch``; the others, within the window,
match those features against their own references instead of fetching the address again.
Concurrent scans of one address in one organisation wait for each other (a PostgreSQL advisory
lock held while the first one fetches), so they coalesce into one request. The rules of who may
read and who may write one are in ``services.reported_url_fetch_and_match`` and docs/pipeline.md.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q, Subquery
from django.utils import timezone

from app.fetching.models import FetchStatus, SharedFetch

if TYPE_CHECKING:
    from app.cases.models import Case
    from app.fetching.scan import ScanOutcome

log = logging.getLogger(__name__)

# How long an outcome with a failure in it (page or any media file) is reused: long enough to
# coalesce a burst of cases reporting one address, short enough that a passing outage is not
# taken for the state of the page for hours.
FAILURE_REUSE = timedelta(minutes=10)
_LOCK_POLL = 0.2


def shared_fetch_window() -> timedelta:
    """The re-check window: ``FETCH_REUSE_WINDOW_HOURS`` (default 6 h, the shortest interval
    between two re-checks of one URL in app/tracking/schedule.py); zero switches reuse off."""
    return timedelta(hours=float(getattr(settings, "FETCH_REUSE_WINDOW_HOURS", 6.0)))


def _lock_key(organization_id: int, url_key: str) -> int:
    digest = hashlib.blake2b(f"jium-fetch:{organization_id}:{url_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def shared_fetch_single_flight(*, organization_id: int, url_key: str) -> Iterator[bool]:
    """Hold the organisation's lock on this address while the block fetches it, so concurrent
    scans of the same address wait and then reuse the outcome instead of fetching it too.

    A session-level PostgreSQL advisory lock: no transaction stays open during the fetch, and the
    lock goes with the connection if the worker dies. Waits at most the scan's own time budget
    (plus a minute), then goes ahead without it. Yields whether the lock is held; SQLite (quick
    start, one worker) has no such lock and does not coalesce.
    """
    if connection.vendor != "postgresql":
        yield False
        return
    key = _lock_key(organization_id, url_key)
    deadline = time.monotonic() + float(getattr(settings, "FETCH_SCAN_TIME_BUDGET", 300.0)) + 60.0
    held = False
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = bool(cursor.fetchone()[0])
            if held or time.monotonic() >= deadline:
                break
            time.sleep(_LOCK_POLL)
    if not held:
        log.warning("shared fetch lock of organisation %s not obtained in time", organization_id)
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def shared_fetch_fresh(*, organization_id: int, url_key: str, reported_url_id: int) -> SharedFetch | None:
    """The organisation's unexpired shared fetch of this address made after the newest evidence
    the asking URL already holds (a re-check always learns something new). One query."""
    from app.fetching.models import FetchRecord

    seen = Subquery(
        FetchRecord.objects.filter(reported_url_id=reported_url_id)
        .values("reported_url_id")
        .annotate(last=Max("fetched_at"))
        .values("last")[:1]
    )
    return (
        SharedFetch.objects.filter(
            organization_id=organization_id, url_key=url_key, expires_at__gt=timezone.now()
        )
        .annotate(seen=seen)
        .filter(Q(seen__isnull=True) | Q(fetched_at__gt=F("seen")))
        .first()
    )


def _cacheable_for(outcome: ScanOutcome, window: timedelta) -> timedelta:
    clean = outcome.status == FetchStatus.OK and all(m.status == FetchStatus.OK for m in outcome.media)
    return window if clean else min(window, FAILURE_REUSE)


def shared_fetch_store(
    *, case: Case, url_key: str, outcome: ScanOutcome, window: timedelta
) -> SharedFetch | None:
    """Keep this scan's outcome for the organisation's other cases (replacing an older one).

    Only when another case of the organisation reports the address too. None otherwise, or when
    the case was erased meanwhile or became a minor's case (nothing of it is kept).
    """
    from app.fetching.scan import outcome_to_bytes

    fetched_at = outcome.page.fetched_at if outcome.page is not None else timezone.now()
    values = {
        "created_by_case_id": case.pk,
        "fetched_at": fetched_at,
        "expires_at": fetched_at + _cacheable_for(outcome, window),
        "data": outcome_to_bytes(outcome),
    }
    from app.cases.models import AgeGroup, Case

    entry = SharedFetch(organization_id=case.organization_id, url_key=url_key, **values)
    from app.cases.models import ReportedUrl

    if not (
        ReportedUrl.objects.filter(url_key=url_key, case__organization_id=case.organization_id)
        .exclude(case_id=case.pk)
        .exists()
    ):
        # No other case of the organisation reports it: nothing is kept that no one would reuse
        # (the next case to report it fetches it again, and shares that fetch).
        return None
    with transaction.atomic():
        # Locked: an age change (which deletes the case's shared fetches) waits, or went first.
        if not Case.objects.select_for_update().filter(pk=case.pk, age_group=AgeGroup.ADULT).exists():
            return None
        # One upsert: it replaces the organisation's older shared fetch of the address, if any.
        SharedFetch.objects.bulk_create(
            [entry],
            update_conflicts=True,
            unique_fields=["organization", "url_key"],
            update_fields=list(values),
        )
    return entry if entry.pk is not None else None


def shared_fetches_expire(*, now: datetime | None = None) -> int:
    """Delete every expired shared fetch (features of other people's media are not kept longer
    than they can be used). Records that pointed to them keep their own evidence."""
    deleted, _ = SharedFetch.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def shared_fetches_forget_case(*, case: Case) -> int:
    """Delete the shared fetches a case made (it became a minor's case, or its media are purged).
    Other cases' records that reused them keep their own evidence; they fetch again next time."""
    deleted, _ = SharedFetch.objects.filter(created_by_case=case).delete()
    return deleted
