"""Webhook endpoints of the caller's organisation and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from pydantic import Field, StrictStr

from app.accounts.models import Role
from app.api.http import ApiContext, ApiError, context
from app.api.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.webhooks import webhook_endpoint_create, webhook_endpoint_delete

router = Router(tags=["webhooks"])


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime


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


class DeliveryOut(Schema):
    id: int
    message_id: str
    event: str
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status: int | None
    last_error: str
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
    endpoint = webhook_endpoint_create(
        organization=api.membership.organization,
        actor=api.user,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    audit(api, "api.webhook.create", webhook=endpoint.pk)
    return Status(201, {**_out(endpoint), "secret": str(endpoint.secret)})


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
            "id", "message_id", "event", "state", "attempts", "last_status", "last_error",
            "created_at", "last_attempt_at", "delivered_at",
        )[:100]
    ]  # fmt: skip
