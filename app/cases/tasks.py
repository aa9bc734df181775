from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from app.cases.services import reported_url_scan


@shared_task(
    name="cases.scan_reported_url",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def scan_reported_url(reported_url_id: int) -> None:
    reported_url_scan(reported_url_id=reported_url_id)
