"""Thin Celery tasks: beat dispatchers that select only what is due, and one task per unit of work."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from app.tracking import services


@shared_task(name="tracking.dispatch_due_rechecks")
def dispatch_due_rechecks() -> int:
    return services.rechecks_dispatch_due()


@shared_task(
    name="tracking.recheck_url",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def recheck_url(tracking_id: int) -> None:
    services.url_recheck(tracking_id=tracking_id)


@shared_task(name="tracking.dispatch_due_watches")
def dispatch_due_watches() -> int:
    return services.watches_dispatch_due()


@shared_task(
    name="tracking.scan_watch",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def scan_watch(watch_id: int) -> None:
    services.watch_scan(watch_id=watch_id)


@shared_task(name="tracking.sweep")
def sweep() -> int:
    return services.tracking_sweep()


@shared_task(name="tracking.escalate_notice")
def escalate_notice(tracking_id: int) -> None:
    services.notice_escalate(tracking_id=tracking_id)
