from __future__ import annotations

from celery import shared_task

from app.fetching.reuse import shared_fetches_expire


@shared_task(name="fetching.expire_shared_fetches")
def expire_shared_fetches() -> int:
    return shared_fetches_expire()
