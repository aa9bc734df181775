"""The organisation's webhooks page (issue 15): admins add, turn off, remove, rotate, test, and read
the delivery log; nobody else reaches any of it; every change needs the CSRF token and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from app.accounts.models import AuditEvent
from app.api.models import WebhookDelivery, WebhookEndpoint
from app.api.webhooks import webhook_endpoint_create
from tests.servers import machine_name_on_a_private_address
from tests.web.helpers import status_for


@pytest.fixture
def korean() -> None:
    call_command("compilemessages", locale=["ko"], verbosity=0)


@pytest.fixture
def hook(owner) -> WebhookEndpoint:
    return webhook_endpoint_create(
        organization=owner.organization, actor=owner.user, url="https://ngo.example/hook",
        events=["url.matched", "notice.sent"], description="case system",
    )  # fmt: skip


def _add(client, url: str, events: list[str] | None = None):  # type: ignore[no-untyped-def]
    return client.post(reverse("webhook_list"), {"url": url, "events": events or ["url.removed"]})


def test_admin_adds_a_webhook_and_sees_its_secret_once(client, owner):
    client.force_login(owner.user)
    assert "Webhooks" in client.get(reverse("organization_settings")).content.decode()
    response = _add(client, "https://ngo.example/jium", ["url.removed", "deadline.passed"])
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(organization=owner.organization)
    page = response.content.decode()
    assert str(endpoint.secret) in page and "shown only this once" in page
    assert response["Cache-Control"] == "no-store, private"
    assert endpoint.events == ["deadline.passed", "url.removed"]
    assert AuditEvent.objects.filter(
        action="webhook.create", object_id=endpoint.pk, actor=owner.user
    ).exists()
    listing = client.get(reverse("webhook_list")).content.decode()
    assert "https://ngo.example/jium" in listing and "A platform&#x27;s deadline passed" in listing
    assert str(endpoint.secret) not in listing
    assert (
        str(endpoint.secret) not in client.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("url", "english"),
    [
        ("http://169.254.169.254/latest/meta-data", "private or reserved network"),
        ("http://10.0.0.5/hook", "private or reserved network"),
        ("https://intranet.local/hook", "private or reserved network"),
        ("ftp://ngo.example/hook", "starting with https://"),
        ("ngo.example/hook", "starting with https://"),
    ],
)
def test_an_address_jium_would_never_contact_is_refused_in_plain_words(client, owner, url, english):
    client.force_login(owner.user)
    page = _add(client, url).content.decode()
    assert english in page
    assert not WebhookEndpoint.objects.exists()


def test_refusals_and_missing_events_in_korean(client, owner, korean):
    client.force_login(owner.user)
    client.cookies["django_language"] = "ko"
    page = _add(client, "http://169.254.169.254/latest").content.decode()
    assert "사설" in page or "내부" in page, page[-3000:]
    page = client.post(reverse("webhook_list"), {"url": "https://ngo.example/h"}).content.decode()
    assert "하나 이상" in page
    assert not WebhookEndpoint.objects.exists()
    page = client.get(reverse("webhook_list")).content.decode()
    assert "웹훅" in page and "Webhooks" not in page


def test_rotation_from_the_page(client, owner, hook):
    old = str(hook.secret)
    client.force_login(owner.user)
    response = client.post(reverse("webhook_rotate", args=[hook.pk]), {"old_secret": "overlap"})
    hook.refresh_from_db()
    page = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    assert str(hook.secret) in page and str(hook.secret) != old and old not in page
    assert str(hook.previous_secret) == old
    assert (
        timedelta(hours=23, minutes=59)
        < hook.previous_secret_expires_at - timezone.now()
        <= timedelta(hours=24)
    )
    assert "two signatures" in page
    detail = client.get(reverse("webhook_detail", args=[hook.pk])).content.decode()
    assert 'id="overlap-note"' in detail

    # A secret that leaked: the old one stops at once.
    page = client.post(reverse("webhook_rotate", args=[hook.pk]), {"old_secret": "now"}).content.decode()
    hook.refresh_from_db()
    assert (hook.previous_secret, hook.previous_secret_expires_at) == ("", None)
    assert "no longer works" in page
    assert AuditEvent.objects.filter(action="webhook.rotate", object_id=hook.pk).count() == 2


def test_test_message_turning_off_and_removing(client, owner, hook, django_capture_on_commit_callbacks):
    client.force_login(owner.user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("webhook_ping", args=[hook.pk]), follow=True)
    assert "A test message is on its way" in response.content.decode()
    [test] = WebhookDelivery.objects.filter(endpoint=hook)
    assert test.event == "webhook.test" and len(callbacks) == 1  # queued for the worker

    client.post(reverse("webhook_active", args=[hook.pk]))
    hook.refresh_from_db()
    assert not hook.active
    page = client.post(reverse("webhook_ping", args=[hook.pk]), follow=True).content.decode()
    assert "Turn it on first" in page and WebhookDelivery.objects.filter(endpoint=hook).count() == 1
    client.post(reverse("webhook_active", args=[hook.pk]), {"active": "on"})
    hook.refresh_from_db()
    assert hook.active

    response = client.post(reverse("webhook_delete", args=[hook.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("webhook_list")
    assert not WebhookEndpoint.objects.filter(pk=hook.pk).exists()
    actions = set(AuditEvent.objects.filter(object_id=hook.pk).values_list("action", flat=True))
    assert {"webhook.ping", "webhook.update", "webhook.delete"} <= actions


def test_delivery_log_in_plain_words_with_times_and_their_zone(client, owner, hook, korean):
    now = timezone.now()
    made = {"payload": {}, "endpoint": hook}
    WebhookDelivery.objects.create(
        message_id="msg_1", event="url.matched", state="delivered", attempts=1, last_status=204, **made
    )
    WebhookDelivery.objects.create(
        message_id="msg_2", event="notice.sent", state="pending", attempts=2, error_code="connect",
        last_error="ConnectError", next_attempt_at=now + timedelta(minutes=2), **made,
    )  # fmt: skip
    WebhookDelivery.objects.create(
        message_id="msg_3", event="url.removed", state="failed", attempts=1, last_status=404,
        error_code="http_status", last_error="HTTP 404", **made,
    )  # fmt: skip
    client.force_login(owner.user)
    page = client.get(reverse("webhook_detail", args=[hook.pk])).content.decode()
    for text in (
        "A link showed one of the person&#x27;s images",
        "Delivered",
        "Will try again",
        "The site could not be reached.",
        "Not delivered",
        "Your system answered 404.",
    ):
        assert text in page, text
    assert page.count(" KST") >= 4  # each time says its zone (the organisation's, Asia/Seoul)
    assert AuditEvent.objects.filter(action="webhook.view", object_id=hook.pk).count() == 1
    # The page's own refreshes (while a message waits) are not logged again and again.
    client.get(reverse("webhook_detail", args=[hook.pk]), headers={"X-Requested-With": "fetch"})
    assert AuditEvent.objects.filter(action="webhook.view", object_id=hook.pk).count() == 1

    client.cookies["django_language"] = "ko"
    page = client.get(reverse("webhook_detail", args=[hook.pk])).content.decode()
    for text in ("전송 기록", "전달됨", "다시 시도"):
        assert text in page, text


def _views(hook: WebhookEndpoint) -> list[tuple[str, str]]:
    return [
        ("get", reverse("webhook_list")),
        ("post", reverse("webhook_list")),
        ("get", reverse("webhook_detail", args=[hook.pk])),
        ("post", reverse("webhook_active", args=[hook.pk])),
        ("post", reverse("webhook_rotate", args=[hook.pk])),
        ("post", reverse("webhook_ping", args=[hook.pk])),
        ("post", reverse("webhook_delete", args=[hook.pk])),
    ]


def test_only_the_organisations_admins_reach_any_of_it(client, owner, teammate, victim, outsider, hook):
    secret = str(hook.secret)
    for method, url in _views(hook):
        # The list is every admin's own organisation's: the outsider has one too (checked below).
        members = (teammate, victim) if url == reverse("webhook_list") else (teammate, victim, outsider)
        for member in members:
            data = {"url": "https://evil.example/", "events": ["url.matched"], "active": ""}
            assert status_for(client, member, url, method, data) == 404, (member.user.username, method, url)
    hook.refresh_from_db()
    assert (str(hook.secret), hook.active) == (secret, True)
    assert WebhookEndpoint.objects.count() == 1 and not WebhookDelivery.objects.exists()
    # The outsider's own list does not show ours.
    client.force_login(outsider.user)
    assert "ngo.example" not in client.get(reverse("webhook_list")).content.decode()
    client.logout()
    for method, url in _views(hook)[:-1]:
        assert status_for(client, owner, url, method) in (200, 302), url


def test_every_change_needs_the_csrf_token(owner, hook):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    secret = str(hook.secret)
    for method, url in _views(hook):
        if method == "post":
            assert (
                strict.post(url, {"url": "https://x.example/", "events": ["url.matched"]}).status_code == 403
            )
    hook.refresh_from_db()
    assert (str(hook.secret), hook.active) == (secret, True)
    assert WebhookEndpoint.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_a_name_that_leads_to_a_private_machine_is_refused_on_the_page(client, owner, settings, korean):
    """The page's form goes through the same registration check as the API: the host name is looked
    up, and this machine's own name (a local address) is refused in plain words, in both languages."""
    name = machine_name_on_a_private_address()
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = []
    client.force_login(owner.user)
    page = _add(client, f"https://{name}/hook").content.decode()
    assert "private or reserved network" in page
    client.cookies["django_language"] = "ko"
    page = _add(client, f"https://{name}/hook").content.decode()
    assert "내부망" in page and "private or reserved" not in page
    assert not WebhookEndpoint.objects.exists()
