"""Webhooks: an organisation's endpoints are told about events, signed per Standard Webhooks.

``webhooks_emit`` is what other rooms' services call when something happened; it writes one delivery
row per subscribed endpoint and queues one Celery task per delivery once the transaction commits, so
a slow or dead endpoint only ever delays its own deliveries. Delivery goes through app/lib/http.py
(SSRF rules, the allowed-private-networks setting) and is retried with exponential backoff.

Secrets can be rotated without a gap: for an overlap window (WEBHOOK_SECRET_OVERLAP_HOURS, 24 h by
default) every delivery carries two signatures in ``webhook-signature``, one per secret, separated by
a space as the Standard Webhooks spec allows; a receiver checking either secret accepts it. Then the
old secret is erased.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.api.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint
from app.lib.http import FetchError, FetchRefused, destination_check, policy_from_settings
from app.lib.http import post as http_post

log = logging.getLogger(__name__)

# Attempts before a delivery is given up: with retry_delay, the last comes about an hour after the first.
MAX_ATTEMPTS = 8
# The event of a test message an admin sends from the page; never subscribed to, never emitted.
TEST_EVENT = "webhook.test"


class WebhookRetry(Exception):
    """This attempt failed in a way worth trying again, in ``countdown`` seconds."""

    def __init__(self, reason: str, *, countdown: float) -> None:
        super().__init__(reason)
        self.countdown = countdown


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 30 s (WEBHOOK_RETRY_BASE_SECONDS)
    doubling up to an hour, less a little jitter so endpoints that failed together do not all come
    back at once."""
    base = min(float(settings.WEBHOOK_RETRY_BASE_SECONDS) * 2 ** max(attempts - 1, 0), 3600.0)
    return float(base * random.uniform(0.8, 1.0))  # spreading load, not a secret


def webhook_destination_check(*, url: str) -> None:
    """Raise FetchRefused (with its stable code) for an address Jium never contacts. The host name
    is looked up too, under the same rule delivery applies at connect time, so a name that leads to
    a private machine is refused when it is typed in rather than failing at every delivery."""
    destination_check(url, policy=policy_from_settings(), resolve=True)


def webhook_endpoint_create(
    *, organization: Organization, actor: User | None, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not events:
        raise ValueError(f"unknown events: {unknown}")
    webhook_destination_check(url=url.strip())
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


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: User | None,
    active: bool | None = None,
    events: list[str] | None = None,
) -> WebhookEndpoint:
    """Turn an endpoint off or on, or change its events. A turned-off endpoint gets nothing new, and
    what was still waiting for it is given up when its turn comes (not sent later by surprise), unless
    the endpoint is on again by then."""
    changed: dict[str, Any] = {}
    if events is not None:
        unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
        if unknown or not events:
            raise ValueError(f"unknown events: {unknown}")
        if sorted(set(events)) != endpoint.events:
            endpoint.events = changed["events"] = sorted(set(events))
    if active is not None and active != endpoint.active:
        endpoint.active = changed["active"] = active
    if not changed:
        return endpoint
    endpoint.save(update_fields=sorted(changed))
    audit_record(
        organization=endpoint.organization, actor=actor, action="webhook.update", object_type="webhook",
        object_id=endpoint.pk, detail=changed,
    )  # fmt: skip
    return endpoint


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User | None, overlap: timedelta | None = None
) -> str:
    """Give the endpoint a new secret and return it (it is shown once). Until ``overlap`` has passed
    (default WEBHOOK_SECRET_OVERLAP_HOURS) deliveries are signed with the old secret as well; with
    no overlap (a secret that leaked) the old one stops at once. Rotating again during an overlap
    drops the oldest secret: only the two newest ever sign."""
    if overlap is None:
        overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        keep_old = overlap > timedelta(0)
        locked.previous_secret = locked.secret if keep_old else ""
        locked.previous_secret_expires_at = now + overlap if keep_old else None
        locked.secret = webhook_secret_new()
        locked.secret_rotated_at = now
        locked.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "secret_rotated_at"]
        )
        audit_record(
            organization=locked.organization, actor=actor, action="webhook.rotate", object_type="webhook",
            object_id=locked.pk, detail={"overlap_hours": round(overlap.total_seconds() / 3600, 2)},
        )  # fmt: skip
    for name in ("secret", "previous_secret", "previous_secret_expires_at", "secret_rotated_at"):
        setattr(endpoint, name, getattr(locked, name))
    return str(locked.secret)


def webhook_secrets_expire() -> int:
    """Erase old secrets whose overlap has ended (the periodic task); returns how many."""
    return WebhookEndpoint.objects.filter(previous_secret_expires_at__lte=timezone.now()).update(
        previous_secret=b"", previous_secret_expires_at=None
    )


def webhook_signing_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with right now: the current one, and the old one during its overlap."""
    now = now or timezone.now()
    found = [str(endpoint.secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(str(endpoint.previous_secret))
    return found


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint, actor: User | None) -> WebhookDelivery:
    """Queue a test message to one endpoint, signed like any event: for checking the receiving side."""
    if not endpoint.active:
        raise ValueError("the endpoint is turned off")
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event=TEST_EVENT,
        payload={
            "type": TEST_EVENT,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"webhook_id": endpoint.pk},
        },
    )
    audit_record(
        organization=endpoint.organization, actor=actor, action="webhook.ping", object_type="webhook",
        object_id=endpoint.pk,
    )  # fmt: skip
    _queue([delivery.pk])
    return delivery


def _queue(ids: list[int]) -> None:
    from app.api.tasks import deliver_webhook

    if ids:
        transaction.on_commit(lambda: [deliver_webhook.delay(i) for i in ids])


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    organization, pk = endpoint.organization, endpoint.pk
    endpoint.delete()
    audit_record(
        organization=organization, actor=actor, action="webhook.delete", object_type="webhook", object_id=pk
    )


def webhooks_emit(*, organization_id: int, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Record ``event`` for every active endpoint of the organisation that asked for it; deliver later."""
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
    _queue([d.pk for d in deliveries])
    return deliveries


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt. Raises WebhookRetry when it should be tried again; a refused address is final."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != WebhookDeliveryState.PENDING:
        return delivery
    fields = ["attempts", "last_attempt_at", "last_status", "last_error", "error_code", "state",
              "delivered_at", "next_attempt_at"]  # fmt: skip
    endpoint = delivery.endpoint
    if not endpoint.active:
        delivery.state, delivery.error_code, delivery.next_attempt_at = (
            WebhookDeliveryState.FAILED,
            "disabled",
            None,
        )
        delivery.last_error = "The endpoint was turned off."
        delivery.save(update_fields=fields)
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    sent_at = datetime.now(UTC)
    # One signature per live secret, space-separated (Standard Webhooks): the new secret's first.
    signature = " ".join(
        Webhook(secret).sign(delivery.message_id, sent_at, body)
        for secret in webhook_signing_secrets(endpoint)
    )
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.next_attempt_at = None
    retry = False
    try:
        status = http_post(
            endpoint.url, content=body, headers=headers, policy=policy_from_settings(retries=0)
        )
    except FetchRefused as exc:
        delivery.last_status, delivery.last_error, delivery.error_code = None, str(exc)[:300], exc.code
        delivery.state = WebhookDeliveryState.FAILED  # not an address Jium may contact: never retried
    except FetchError as exc:
        delivery.last_status, delivery.last_error, delivery.error_code = None, str(exc)[:300], exc.code
        retry = True
    else:
        delivery.last_status = status
        if 200 <= status < 300:
            delivery.state, delivery.delivered_at = WebhookDeliveryState.DELIVERED, timezone.now()
            delivery.last_error = delivery.error_code = ""
        else:
            delivery.last_error, delivery.error_code = f"HTTP {status}", "http_status"
            retry = status >= 500 or status in (408, 429)
            if not retry:
                delivery.state = WebhookDeliveryState.FAILED
    if retry and delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, retry = WebhookDeliveryState.FAILED, False
    countdown = retry_delay(delivery.attempts) if retry else 0.0
    if retry:
        delivery.next_attempt_at = delivery.last_attempt_at + timedelta(seconds=countdown)
    delivery.save(update_fields=fields)
    if retry:
        raise WebhookRetry(delivery.last_error, countdown=countdown)
    return delivery
