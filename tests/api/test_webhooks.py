"""Webhooks: registration (admins), Standard Webhooks signatures, delivery through the SSRF-safe
client, retries for a dead endpoint that never hold up the others, and the delivery log."""

from __future__ import annotations

import contextlib
import json
import socket
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.accounts.models import AuditEvent
from app.api.models import WebhookDelivery, WebhookEndpoint
from app.api.webhooks import WebhookRetry, webhook_deliver, webhook_secrets_expire, webhooks_emit
from app.notices.services import notice_drafts_for_case
from tests.notices.conftest import matched_case  # noqa: F401 -- a fixture
from tests.servers import Received, machine_name_on_a_private_address, receive_posts


def receiver(status: int = 204) -> contextlib.AbstractContextManager[tuple[str, Received]]:
    """A receiver that answers every message with ``status``."""
    return receive_posts(lambda _n: status, "/hooks/jium")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deliver_all() -> list[WebhookDelivery]:
    """What the worker's tasks do, one delivery at a time; a retry is left pending."""
    for delivery in WebhookDelivery.objects.order_by("id"):
        with contextlib.suppress(WebhookRetry):
            webhook_deliver(delivery_id=delivery.pk)
    return list(WebhookDelivery.objects.select_related("endpoint").order_by("id"))


def test_signed_delivery_and_a_dead_endpoint(
    api_for,
    settings,
    matched_case,
    owner,
    teammate,
    django_capture_on_commit_callbacks,
):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    settings.FETCH_RETRIES = 0
    case = matched_case("https://i.imgur.com/AbCdEf.jpg", authorised_on=date(2026, 11, 20))
    admin = api_for(owner)
    events = ["notice.signed", "notice.sent"]
    with receiver() as (url, received):
        assert api_for(teammate).post("/api/v1/webhooks/", {"url": url, "events": events}).status_code == 403
        live = admin.post("/api/v1/webhooks/", {"url": url, "events": events})
        assert live.status_code == 201, live.content
        secret = live.json()["secret"]
        assert secret.startswith("whsec_")
        dead = admin.post(
            "/api/v1/webhooks/", {"url": f"http://127.0.0.1:{_closed_port()}/x", "events": events}
        )
        metadata = admin.post("/api/v1/webhooks/", {"url": "http://169.254.169.254/latest", "events": events})
        assert metadata.status_code == 400 and metadata.json()["error"]["code"] == "refused_address"
        assert "private or reserved network" in metadata.json()["error"]["message"]
        # Allowed when it was registered, no longer allowed when it is delivered (the setting changed).
        narrowed = admin.post("/api/v1/webhooks/", {"url": "http://127.0.0.2:9/hook", "events": events})
        assert narrowed.status_code == 201
        other = admin.post("/api/v1/webhooks/", {"url": url, "events": ["url.removed"]})
        assert admin.post("/api/v1/webhooks/", {"url": url, "events": ["case.opened"]}).status_code == 400
        assert (
            admin.post("/api/v1/webhooks/", {"url": "ftp://x.example/", "events": events}).status_code == 400
        )
        assert "secret" not in admin.get("/api/v1/webhooks/").json()[0]

        [notice] = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            signed = admin.post(
                f"/api/v1/cases/{case.pk}/notices/{notice.pk}/sign/",
                {"signer_name": "Alice", "confirm": True},
            )
        assert signed.status_code == 200, signed.content
        assert len(callbacks) == 1  # deliveries are queued once the signature is committed
        settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
        deliveries = _deliver_all()

    by_endpoint = {d.endpoint_id: d for d in deliveries}
    assert other.json()["id"] not in by_endpoint  # not subscribed to notice.signed
    assert by_endpoint[live.json()["id"]].state == "delivered"
    [(headers, body)] = received
    payload = Webhook(secret).verify(body, headers)  # raises if the signature is wrong
    assert payload["type"] == "notice.signed"
    assert payload["data"] == {
        "case_id": case.pk, "notice_id": notice.pk, "state": "signed",
        "recipient": notice.recipient_name, "deadline_at": None,
    }  # fmt: skip
    assert "김지은" not in body.decode()  # nothing naming the person
    with pytest.raises(Exception):  # noqa: B017 -- any verification failure
        Webhook("whsec_" + "A" * 44).verify(body, headers)

    # The dead endpoint is retried later; it held nothing up.
    dead_delivery = by_endpoint[dead.json()["id"]]
    assert (dead_delivery.state, dead_delivery.attempts) == ("pending", 1) and dead_delivery.last_error
    # ... at a time the delivery log shows: 30 s after the first try, less a little jitter.
    wait = (dead_delivery.next_attempt_at - dead_delivery.last_attempt_at).total_seconds()
    assert 24 <= wait <= 30 and dead_delivery.error_code == "connect", (wait, dead_delivery.error_code)
    # An address Jium may not contact is never contacted, and never retried.
    refused = by_endpoint[narrowed.json()["id"]]
    assert (refused.state, refused.attempts, refused.error_code) == ("failed", 1, "private_address")
    assert refused.next_attempt_at is None

    log = admin.get(f"/api/v1/webhooks/{dead.json()['id']}/deliveries/").json()
    assert [(d["event"], d["state"], d["attempts"]) for d in log] == [("notice.signed", "pending", 1)]
    assert log[0]["next_attempt_at"] is not None


def test_webhooks_are_the_organisations_own(api_for, owner, outsider, victim):
    created = api_for(owner).post(
        "/api/v1/webhooks/", {"url": "https://ngo.example/hook", "events": ["url.matched"]}
    )
    hook = created.json()["id"]
    assert api_for(outsider).get("/api/v1/webhooks/").json() == []
    assert api_for(outsider).get(f"/api/v1/webhooks/{hook}/deliveries/").status_code == 404
    assert api_for(outsider).call("delete", f"/api/v1/webhooks/{hook}/").status_code == 404
    assert api_for(victim).get("/api/v1/webhooks/").status_code == 403
    assert api_for(owner).call("delete", f"/api/v1/webhooks/{hook}/").status_code == 204


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_rotation_keeps_the_old_secret_signing_for_the_overlap_then_drops_it(
    api_for, settings, owner, teammate, outsider, victim
):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_RETRIES = 0
    admin = api_for(owner)
    with receiver() as (url, received):
        created = admin.post("/api/v1/webhooks/", {"url": url, "events": ["url.removed"]}).json()
        hook, old = created["id"], created["secret"]
        rotate = f"/api/v1/webhooks/{hook}/rotate-secret/"
        assert api_for(teammate).post(rotate, {}).status_code == 403
        assert api_for(victim).post(rotate, {}).status_code == 403
        assert api_for(outsider).post(rotate, {}).status_code == 404
        assert WebhookEndpoint.objects.get(pk=hook).secret == old  # nothing changed by them

        before = timezone.now()
        rotated = admin.post(rotate, {})
        assert rotated.status_code == 200, rotated.content
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old
        expires = WebhookEndpoint.objects.get(pk=hook).previous_secret_expires_at
        assert timedelta(hours=24) <= expires - before <= timedelta(hours=24, minutes=1)  # the documented day
        listed = admin.get("/api/v1/webhooks/").json()[0]
        assert listed["secret_rotated_at"] and "secret" not in listed
        # Both secrets are encrypted at rest.
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret, previous_secret FROM api_webhookendpoint WHERE id = %s", [hook])
            stored = b"".join(bytes(v) for v in cursor.fetchone())
        assert old.encode() not in stored and new.encode() not in stored
        assert old.removeprefix("whsec_").encode() not in stored

        # During the overlap: a receiver still on the old secret and one already on the new both accept.
        assert admin.post(f"/api/v1/webhooks/{hook}/test/").status_code == 202
        [delivery] = _deliver_all()
        assert delivery.state == "delivered", delivery.last_error
        headers, body = received[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert _verifies(old, body, headers) and _verifies(new, body, headers)
        assert json.loads(body)["type"] == "webhook.test"

        # After the overlap only the new secret signs, and the old one is erased.
        with time_machine.travel(expires + timedelta(minutes=1), tick=True):
            assert admin.post(f"/api/v1/webhooks/{hook}/test/").status_code == 202
            _deliver_all()
            headers, body = received[-1]
            assert len(headers["webhook-signature"].split(" ")) == 1
            assert _verifies(new, body, headers) and not _verifies(old, body, headers)
            assert webhook_secrets_expire() == 1
        endpoint = WebhookEndpoint.objects.get(pk=hook)
        assert (endpoint.previous_secret, endpoint.previous_secret_expires_at) == ("", None)

        # A leaked secret: rotate with no overlap, the old one stops at once.
        leaked = admin.post(rotate, {"overlap_hours": 0}).json()
        assert leaked["previous_secret_expires_at"] is None
        admin.post(f"/api/v1/webhooks/{hook}/test/")
        _deliver_all()
        headers, body = received[-1]
        assert _verifies(leaked["secret"], body, headers) and not _verifies(new, body, headers)
        assert admin.post(rotate, {"overlap_hours": 200}).status_code == 400

    log = admin.get(f"/api/v1/webhooks/{hook}/deliveries/").json()
    assert [d["event"] for d in log] == ["webhook.test"] * 3
    assert AuditEvent.objects.filter(action="webhook.rotate", object_id=hook).count() == 2


def test_a_turned_off_endpoint_gets_nothing(api_for, settings, owner, teammate):
    admin = api_for(owner)
    hook = admin.post(
        "/api/v1/webhooks/", {"url": "https://ngo.example/hook", "events": ["url.removed"]}
    ).json()["id"]
    waiting = webhooks_emit(organization_id=owner.organization_id, event="url.removed", data={"url_id": 1})
    patch = f"/api/v1/webhooks/{hook}/"
    assert api_for(teammate).call("patch", patch, {"active": False}).status_code == 403
    off = admin.call("patch", patch, {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert admin.post(f"/api/v1/webhooks/{hook}/test/").status_code == 409
    assert webhooks_emit(organization_id=owner.organization_id, event="url.removed", data={}) == []
    [given_up] = _deliver_all()
    assert given_up.pk == waiting[0].pk and (given_up.state, given_up.error_code) == ("failed", "disabled")
    assert given_up.attempts == 0  # nothing was sent
    assert admin.call("patch", patch, {"events": ["url.matched", "notice.sent"]}).json()["events"] == [
        "notice.sent",
        "url.matched",
    ]


def test_a_name_that_leads_to_a_private_machine_is_refused_when_registered_and_when_delivered(
    api_for, settings, owner
):
    """Registration looks the host name up under the rule delivery applies (FETCH_ALLOWED_PRIVATE_
    NETWORKS): this machine's own name, which resolves to a local address, is refused in the
    reader's language. One registered before that check (or whose name changed since) is still
    refused by the connect-time guard when a message is delivered, and nothing reaches the receiver."""
    name = machine_name_on_a_private_address()
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = []
    settings.FETCH_RETRIES = 0
    admin = api_for(owner)
    with receiver() as (local_url, received):
        url = local_url.replace("127.0.0.1", name)
        body = {"url": url, "events": ["url.removed"]}
        refused = admin.post("/api/v1/webhooks/", body)
        assert refused.status_code == 400, refused.content
        assert refused.json()["error"]["code"] == "refused_address"
        assert "private or reserved network" in refused.json()["error"]["fields"]["url"][0]
        korean = admin.client.post(
            "/api/v1/webhooks/",
            json.dumps(body),
            content_type="application/json",
            headers={**admin._headers(), "Accept-Language": "ko"},
        )
        assert korean.status_code == 400 and "내부망" in korean.json()["error"]["message"]
        assert not WebhookEndpoint.objects.exists()

        endpoint = WebhookEndpoint.objects.create(
            organization=owner.organization, url=url, events=["url.removed"], secret="whsec_" + "A" * 44
        )
        webhooks_emit(organization_id=owner.organization.pk, event="url.removed", data={"case_id": 1})
        [delivery] = _deliver_all()
        assert delivery.endpoint == endpoint
        assert delivery.state == "failed" and delivery.error_code == "private_address"
        assert received == []

        # The same name is accepted where the organisation allowed the network it is on.
        settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["0.0.0.0/0", "::/0"]
        assert admin.post("/api/v1/webhooks/", body).status_code == 201
