"""Thin Celery task for jobs the API started: take the id, call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from app.api.services import api_job_run
from app.api.webhooks import MAX_ATTEMPTS, WebhookRetry, webhook_deliver


@shared_task(
    name="api.run_job",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def run_job(job_id: int) -> None:
    api_job_run(job_id=job_id)


@shared_task(
    name="api.deliver_webhook",
    autoretry_for=(WebhookRetry, OperationalError),
    retry_backoff=30,  # 30 s, 1 min, 2 min ... capped below
    retry_backoff_max=3600,
    retry_jitter=True,
    retry_kwargs={"max_retries": MAX_ATTEMPTS},
)
def deliver_webhook(delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)
