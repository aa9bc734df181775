"""Thin Celery task for jobs the API started: take the id, call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from app.api.services import api_job_run
from app.api.webhooks import WebhookRetry, webhook_deliver, webhook_secrets_expire


@shared_task(
    name="api.run_job",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def run_job(job_id: int) -> None:
    api_job_run(job_id=job_id)


@shared_task(
    bind=True,
    name="api.deliver_webhook",
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    # The service counts attempts and gives up after MAX_ATTEMPTS; Celery need not count too.
    max_retries=None,
)
def deliver_webhook(self: Any, delivery_id: int) -> None:
    try:
        webhook_deliver(delivery_id=delivery_id)
    except WebhookRetry as exc:
        # The service chose when (and recorded it for the delivery log): wait exactly that long.
        raise self.retry(countdown=exc.countdown) from None


@shared_task(name="api.expire_webhook_secrets")
def expire_webhook_secrets() -> None:
    webhook_secrets_expire()
