"""The organisation's webhooks as a page (admins only): add, turn off, remove, rotate the secret,
send a test message, and read the delivery log. The same services as the API (app/api/webhooks.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from app.accounts.services import audit_record
from app.api.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint
from app.api.selectors import webhook_delivery_list, webhook_endpoint_get, webhook_endpoint_list
from app.api.webhooks import (
    TEST_EVENT,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from app.fetching.messages import fetch_error_text
from app.lib.http import FetchRefused
from app.web.decorators import admin_required

# What each event means, in words; the code stays visible for whoever builds the receiving side.
EVENT_LABELS: dict[str, Promise] = {
    "url.matched": gettext_lazy("A link showed one of the person's images"),
    "url.failed": gettext_lazy("A link could not be checked"),
    "notice.signed": gettext_lazy("A request was signed"),
    "notice.sent": gettext_lazy("A request was sent"),
    "url.removed": gettext_lazy("A link was taken down"),
    "url.reappeared": gettext_lazy("A link came back online"),
    "deadline.passed": gettext_lazy("A platform's deadline passed"),
    TEST_EVENT: gettext_lazy("Test message"),
}
# How many deliveries the log shows.
LOG_LENGTH = 50


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _organization(request: HttpRequest) -> Any:
    return request.membership.organization  # type: ignore[attr-defined]


def _endpoint(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_get(organization=_organization(request), webhook_id=webhook_id)
    if endpoint is None:
        raise Http404("No such webhook")
    return endpoint


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address of your system"),
        max_length=2000,
        help_text=gettext_lazy("The web address (https://…) where your system receives the messages."),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Send a message when"),
        choices=[(code, EVENT_LABELS[code]) for code in WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one thing to be told about.")},
    )
    description = forms.CharField(
        label=gettext_lazy("Note for your team (optional)"), max_length=200, required=False
    )

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError(_("Write the whole address, starting with https://."))
        return url


def _secret_page(
    request: HttpRequest, endpoint: WebhookEndpoint, secret: str, *, created: bool
) -> HttpResponse:
    """The secret, once: the page is not cached and the secret is never shown again."""
    response = render(
        request,
        "webhooks/secret.html",
        {"endpoint": endpoint, "secret": secret, "created": created},
    )
    response["Cache-Control"] = "no-store, private"
    return response


@admin_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_endpoint_create(
                organization=organization,
                actor=_actor(request),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except FetchRefused as exc:
            form.add_error("url", fetch_error_text(exc.code, exc.reason))
        else:
            return _secret_page(request, endpoint, str(endpoint.secret), created=True)
    endpoints = list(webhook_endpoint_list(organization=organization))
    for endpoint in endpoints:
        endpoint.event_labels = [EVENT_LABELS.get(e, e) for e in endpoint.events]  # type: ignore[attr-defined]
    return render(request, "webhooks/list.html", {"endpoints": endpoints, "form": form})


def _outcome(delivery: WebhookDelivery) -> tuple[str, str]:
    """(state in words, why) for one row of the delivery log."""
    if delivery.state == WebhookDeliveryState.DELIVERED:
        return _("Delivered"), (_("Your system answered %(status)s.") % {"status": delivery.last_status})
    if delivery.error_code == "http_status":
        why = _("Your system answered %(status)s.") % {"status": delivery.last_status}
    elif delivery.error_code == "disabled":
        why = _("The webhook was turned off before it could be sent.")
    elif delivery.error_code:
        why = fetch_error_text(delivery.error_code, delivery.last_error)
    else:
        why = ""
    if delivery.state == WebhookDeliveryState.FAILED:
        return _("Not delivered"), why
    if delivery.attempts:
        return _("Will try again"), why
    return _("Waiting to be sent"), why


@admin_required
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    deliveries = webhook_delivery_list(endpoint=endpoint, limit=LOG_LENGTH)
    rows = []
    for delivery in deliveries:
        state, why = _outcome(delivery)
        rows.append(
            {
                "delivery": delivery,
                "event": EVENT_LABELS.get(delivery.event, delivery.event),
                "state": state,
                "why": why,
            }
        )
    # The page refreshes its log by itself while a message waits for its first try; those
    # refreshes show nothing new about anyone, so only the page itself is written to the log.
    if request.headers.get("X-Requested-With") != "fetch":
        audit_record(
            organization=endpoint.organization, actor=_actor(request), action="webhook.view",
            object_type="webhook", object_id=endpoint.pk,
        )  # fmt: skip
    return render(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "event_labels": [EVENT_LABELS.get(e, e) for e in endpoint.events],
            "rows": rows,
            "waiting": any(d.state == WebhookDeliveryState.PENDING and not d.attempts for d in deliveries),
            "log_length": LOG_LENGTH,
            "overlap_hours": settings.WEBHOOK_SECRET_OVERLAP_HOURS,
        },
    )


@require_POST
@admin_required
def webhook_active(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    turn_on = request.POST.get("active") == "on"
    webhook_endpoint_update(endpoint=endpoint, actor=_actor(request), active=turn_on)
    if turn_on:
        messages.success(request, _("The webhook is on again. New events will be sent."))
    else:
        messages.success(request, _("The webhook is off. Nothing more will be sent until you turn it on."))
    return redirect("webhook_detail", webhook_id=endpoint.pk)


@require_POST
@admin_required
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    webhook_endpoint_delete(endpoint=endpoint, actor=_actor(request))
    messages.success(request, _("The webhook was removed, with its delivery log."))
    return redirect("webhook_list")


@require_POST
@admin_required
def webhook_rotate(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    # "now": the old secret leaked, so it must stop at once; otherwise the documented overlap.
    overlap = timedelta(0) if request.POST.get("old_secret") == "now" else None
    secret = webhook_endpoint_rotate_secret(endpoint=endpoint, actor=_actor(request), overlap=overlap)
    return _secret_page(request, endpoint, secret, created=False)


@require_POST
@admin_required
def webhook_ping(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    if not endpoint.active:
        messages.error(request, _("This webhook is off. Turn it on first."))
    else:
        webhook_endpoint_ping(endpoint=endpoint, actor=_actor(request))
        messages.success(
            request,
            _("A test message is on its way. Its result appears in the delivery log below."),
        )
    return redirect("webhook_detail", webhook_id=endpoint.pk)
