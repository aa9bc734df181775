"""Webhooks: registration (admins), Standard Webhooks signatures, delivery through the SSRF-safe
client, retries for a dead endpoint that never hold up the others, and the delivery log."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from app.api.models import WebhookDelivery
from app.api.webhooks import WebhookRetry, webhook_deliver
from app.notices.services import notice_drafts_for_case
from tests.notices.conftest import matched_case  # noqa: F401 -- a fixture


@contextlib.contextmanager
def receiver(status: int = 204) -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/jium", received
    finally:
        server.shutdown()
        server.server_close()


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
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
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
    # A cloud metadata address is never contacted, and never retried.
    refused = by_endpoint[metadata.json()["id"]]
    assert refused.state == "failed" and refused.attempts == 1

    log = admin.get(f"/api/v1/webhooks/{dead.json()['id']}/deliveries/").json()
    assert [(d["event"], d["state"], d["attempts"]) for d in log] == [("notice.signed", "pending", 1)]


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
