"""Thin Celery task for jobs the API started: take the id, call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from app.api.services import api_job_run


@shared_task(
    name="api.run_job",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def run_job(job_id: int) -> None:
    api_job_run(job_id=job_id)
