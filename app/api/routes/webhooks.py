"""Webhook endpoints of the caller's organisation and their delivery log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from pydantic import Field, StrictStr

from app.accounts.models import Role
from app.api.http import ApiContext, ApiError, ErrorOut, context
from app.api.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from app.fetching.messages import fetch_error_text
from app.lib.http import FetchRefused

router = Router(tags=["webhooks"])


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None = Field(description="When the secret was last rotated.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are also signed with the secret before the last rotation."
    )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (Standard Webhooks, whsec_...). Shown only now.")


class WebhookIn(Body):
    url: StrictStr = Field(max_length=2000, description="https:// address of your system.")
    events: list[StrictStr] = Field(
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        json_schema_extra={"items": {"enum": list(WEBHOOK_EVENTS)}},
    )
    description: StrictStr = Field("", max_length=200)


class WebhookPatch(Body):
    active: bool | None = Field(None, description="false: send nothing more (what was waiting is given up).")
    events: list[StrictStr] | None = Field(
        None,
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        json_schema_extra={"items": {"enum": list(WEBHOOK_EVENTS)}},
    )


class RotateIn(Body):
    overlap_hours: int = Field(
        24,
        ge=0,
        le=168,
        description="How long the old secret keeps signing too (0: stop it at once, e.g. if it leaked).",
    )


class RotatedOut(Schema):
    secret: str = Field(description="The new signing secret. Shown only now.")
    previous_secret_expires_at: datetime | None


class PingOut(Schema):
    delivery_id: int
    message_id: str


class DeliveryOut(Schema):
    id: int
    message_id: str
    event: str
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status: int | None
    last_error: str
    error_code: str = Field(description="Stable code of the last failure, empty when there was none.")
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried again.")
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


def _out(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.pk,
        "url": e.url,
        "events": e.events,
        "description": e.description,
        "active": e.active,
        "created_at": e.created_at,
        "secret_rotated_at": e.secret_rotated_at,
        "previous_secret_expires_at": e.previous_secret_expires_at,
    }


def _admin(api: ApiContext) -> None:
    if api.membership.role != Role.ADMIN:
        raise ApiError(403, "forbidden", _("Only an administrator of your organisation can change this."))


def _endpoint(api: ApiContext, webhook_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=webhook_id, organization=api.membership.organization).first()
    if endpoint is None:
        raise ApiError(404, "not_found", _("Not found."))
    return endpoint


@router.get("webhooks/", response={200: list[WebhookOut], **ERRORS}, summary="List webhook endpoints")
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    api = context(request)
    audit(api, "api.webhook.list")
    return [_out(e) for e in WebhookEndpoint.objects.filter(organization=api.membership.organization)]


@router.post("webhooks/", response={201: WebhookCreated, **ERRORS}, summary="Register a webhook endpoint")
def webhook_create(request: HttpRequest, payload: WebhookIn) -> Status[Any]:
    """Organisation admins only. Each event is POSTed as JSON with the Standard Webhooks headers
    ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``; verify them with the secret."""
    api = context(request)
    _admin(api)
    parts = urlsplit(payload.url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        message = _("Not a web address we can check.")
        raise ApiError(400, "invalid", message, fields={"url": [message]})
    unknown = sorted(set(payload.events) - set(WEBHOOK_EVENTS))
    if unknown:
        message = _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(WEBHOOK_EVENTS)}
        raise ApiError(400, "invalid", message, fields={"events": [message]})
    try:
        endpoint = webhook_endpoint_create(
            organization=api.membership.organization,
            actor=api.user,
            url=payload.url,
            events=payload.events,
            description=payload.description,
        )
    except FetchRefused as exc:
        message = fetch_error_text(exc.code, exc.reason)
        raise ApiError(400, "refused_address", message, fields={"url": [message]}) from None
    audit(api, "api.webhook.create", webhook=endpoint.pk)
    return Status(201, {**_out(endpoint), "secret": str(endpoint.secret)})


@router.patch(
    "webhooks/{int:webhook_id}/", response={200: WebhookOut, **ERRORS}, summary="Turn off/on or change events"
)
def webhook_update(
    request: HttpRequest, payload: WebhookPatch, webhook_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    api = context(request)
    _admin(api)
    endpoint = _endpoint(api, webhook_id)
    if payload.events is not None and set(payload.events) - set(WEBHOOK_EVENTS):
        message = _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(WEBHOOK_EVENTS)}
        raise ApiError(400, "invalid", message, fields={"events": [message]})
    webhook_endpoint_update(endpoint=endpoint, actor=api.user, active=payload.active, events=payload.events)
    audit(api, "api.webhook.update", webhook=endpoint.pk)
    return _out(endpoint)


@router.post(
    "webhooks/{int:webhook_id}/rotate-secret/",
    response={200: RotatedOut, **ERRORS},
    summary="Rotate the signing secret",
)
def webhook_rotate_secret(
    request: HttpRequest, payload: RotateIn, webhook_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """Organisation admins only. Returns the new secret once. For ``overlap_hours`` (default 24)
    every delivery carries two signatures in ``webhook-signature`` (new and old secret, separated
    by a space), so your system can switch to the new secret whenever it likes in that window."""
    api = context(request)
    _admin(api)
    endpoint = _endpoint(api, webhook_id)
    secret = webhook_endpoint_rotate_secret(
        endpoint=endpoint, actor=api.user, overlap=timedelta(hours=payload.overlap_hours)
    )
    audit(api, "api.webhook.rotate", webhook=endpoint.pk)
    return {"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at}


@router.post(
    "webhooks/{int:webhook_id}/test/",
    response={202: PingOut, 409: ErrorOut, **ERRORS},
    summary="Send a test message",
)
def webhook_ping(request: HttpRequest, webhook_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[Any]:
    """Queues a ``webhook.test`` event to this endpoint, signed like any other; see the delivery log."""
    api = context(request)
    _admin(api)
    endpoint = _endpoint(api, webhook_id)
    if not endpoint.active:
        raise ApiError(409, "webhook_off", _("This address is turned off. Turn it on first."))
    delivery = webhook_endpoint_ping(endpoint=endpoint, actor=api.user)
    audit(api, "api.webhook.ping", webhook=endpoint.pk)
    return Status(202, {"delivery_id": delivery.pk, "message_id": delivery.message_id})


@router.delete(
    "webhooks/{int:webhook_id}/", response={204: None, **ERRORS}, summary="Remove a webhook endpoint"
)
def webhook_delete(request: HttpRequest, webhook_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[Any]:
    api = context(request)
    _admin(api)
    webhook_endpoint_delete(endpoint=_endpoint(api, webhook_id), actor=api.user)
    audit(api, "api.webhook.delete", webhook=webhook_id)
    return Status(204, None)


@router.get(
    "webhooks/{int:webhook_id}/deliveries/",
    response={200: list[DeliveryOut], **ERRORS},
    summary="Delivery log of an endpoint",
)
def webhook_deliveries(
    request: HttpRequest, webhook_id: int = Path(..., ge=1, le=MAX_ID)
) -> list[dict[str, Any]]:
    """The latest 100 deliveries, newest first, with each one's attempts and last answer."""
    api = context(request)
    endpoint = _endpoint(api, webhook_id)
    audit(api, "api.webhook.deliveries", webhook=endpoint.pk)
    return [
        dict(row)
        for row in WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("-id")
        .values(
            "id", "message_id", "event", "state", "attempts", "last_status", "last_error", "error_code",
            "next_attempt_at", "created_at", "last_attempt_at", "delivered_at",
        )[:100]
    ]  # fmt: skip
