"""Webhooks: an organisation's endpoints are told about events, signed per Standard Webhooks.

``webhooks_emit`` is what other rooms' services call when something happened; it writes one delivery
row per subscribed endpoint and queues one Celery task per delivery once the transaction commits, so
a slow or dead endpoint only ever delays its own deliveries. Delivery goes through app/lib/http.py
(SSRF rules, the allowed-private-networks setting) and is retried with exponential backoff.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.api.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint
from app.lib.http import FetchError, FetchRefused, policy_from_settings
from app.lib.http import post as http_post

log = logging.getLogger(__name__)

# Attempts before a delivery is given up (Celery retries with backoff up to ~1 hour between tries).
MAX_ATTEMPTS = 8


class WebhookRetry(Exception):
    """This attempt failed in a way worth trying again later."""


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_endpoint_create(
    *, organization: Organization, actor: User | None, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not events:
        raise ValueError(f"unknown events: {unknown}")
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url.strip(),
        events=sorted(set(events)),
        secret=webhook_secret_new(),
        description=description.strip()[:200],
        created_by=actor,
    )
    audit_record(
        organization=organization, actor=actor, action="webhook.create", object_type="webhook",
        object_id=endpoint.pk, detail={"events": endpoint.events},
    )  # fmt: skip
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    organization, pk = endpoint.organization, endpoint.pk
    endpoint.delete()
    audit_record(
        organization=organization, actor=actor, action="webhook.delete", object_type="webhook", object_id=pk
    )


def webhooks_emit(*, organization_id: int, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Record ``event`` for every active endpoint of the organisation that asked for it; deliver later."""
    from app.api.tasks import deliver_webhook

    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    deliveries = []
    now = timezone.now()
    for endpoint in WebhookEndpoint.objects.filter(organization_id=organization_id, active=True):
        if event not in endpoint.events:
            continue
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
        deliveries.append(
            WebhookDelivery.objects.create(
                endpoint=endpoint, message_id=message_id, event=event, payload=payload
            )
        )
    ids = [d.pk for d in deliveries]
    if ids:
        transaction.on_commit(lambda: [deliver_webhook.delay(i) for i in ids])
    return deliveries


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt. Raises WebhookRetry when it should be tried again; a refused address is final."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != WebhookDeliveryState.PENDING:
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    sent_at = datetime.now(UTC)
    signature = Webhook(str(delivery.endpoint.secret)).sign(delivery.message_id, sent_at, body.decode())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    retry = False
    try:
        status = http_post(
            delivery.endpoint.url, content=body, headers=headers, policy=policy_from_settings(retries=0)
        )
    except FetchRefused as exc:
        delivery.last_status, delivery.last_error = None, str(exc)[:300]
        delivery.state = WebhookDeliveryState.FAILED  # not an address Jium may contact: never retried
    except FetchError as exc:
        delivery.last_status, delivery.last_error = None, str(exc)[:300]
        retry = True
    else:
        delivery.last_status = status
        if 200 <= status < 300:
            delivery.state, delivery.delivered_at, delivery.last_error = (
                WebhookDeliveryState.DELIVERED,
                timezone.now(),
                "",
            )
        else:
            delivery.last_error = f"HTTP {status}"
            retry = status >= 500 or status in (408, 429)
            if not retry:
                delivery.state = WebhookDeliveryState.FAILED
    if retry and delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, retry = WebhookDeliveryState.FAILED, False
    delivery.save(
        update_fields=["attempts", "last_attempt_at", "last_status", "last_error", "state", "delivered_at"]
    )
    if retry:
        raise WebhookRetry(delivery.last_error)
    return delivery
