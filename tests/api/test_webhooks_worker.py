"""Webhook delivery by a real Celery worker: a refused first answer is retried when the service said,
and after a rotation every attempt is signed with both secrets (the worker decrypts them itself)."""

from __future__ import annotations

import contextlib

import pytest
from standardwebhooks import Webhook

from app.api.models import WebhookDelivery
from app.api.webhooks import webhook_endpoint_create, webhook_endpoint_ping, webhook_endpoint_rotate_secret
from tests.conftest import wait_until
from tests.servers import Received, receive_posts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def busy_then_ready() -> contextlib.AbstractContextManager[tuple[str, Received]]:
    """A receiver that answers 503 to the first message, then 204."""
    return receive_posts(lambda n: 503 if n == 1 else 204)


def test_worker_retries_and_signs_with_both_secrets_during_the_overlap(workers, owner, settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    workers.start(env={"WEBHOOK_RETRY_BASE_SECONDS": "1", "FETCH_RETRIES": "0"})
    with busy_then_ready() as (url, received):
        endpoint = webhook_endpoint_create(
            organization=owner.organization, actor=owner.user, url=url, events=["url.matched"]
        )
        old = str(endpoint.secret)
        new = webhook_endpoint_rotate_secret(endpoint=endpoint, actor=owner.user)
        delivery = webhook_endpoint_ping(endpoint=endpoint, actor=owner.user)  # queued on commit

        def delivered() -> bool:
            delivery.refresh_from_db()
            return delivery.state == "delivered"

        wait_until(delivered, timeout=90, message=workers.output)
    assert delivery.attempts == 2 and delivery.last_status == 204 and delivery.next_attempt_at is None
    assert len(received) == 2
    for headers, body in received:
        Webhook(old).verify(body, headers)
        Webhook(new).verify(body, headers)
    assert WebhookDelivery.objects.count() == 1
