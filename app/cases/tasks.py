from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from app.cases.services import reported_url_scan, reported_urls_enqueue_scans, reported_urls_recover_stuck


@shared_task(
    name="cases.scan_reported_url",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def scan_reported_url(reported_url_id: int) -> None:
    reported_url_scan(reported_url_id=reported_url_id)


@shared_task(name="cases.enqueue_scans")
def enqueue_scans(reported_url_ids: list[int]) -> int:
    return reported_urls_enqueue_scans(reported_url_ids=reported_url_ids)


@shared_task(name="cases.recover_stuck_scans")
def recover_stuck_scans() -> int:
    return reported_urls_recover_stuck()
