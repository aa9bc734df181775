"""The webhooks page walked in chromium, in Korean and English, on a phone and a desk: add one (a refused
address first), copy the secret, send a test message that a local receiver checks with the old and the
new secret after a rotation, and read the delivery log. JIUM_SCREENSHOTS=1 refreshes docs/screenshots/
(webhooks-*, webhook-detail-*, webhook-secret-*) at 390 and 1280 px."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook

from app.api.models import WebhookDelivery, WebhookEndpoint
from app.api.webhooks import webhook_deliver
from tests.api.test_webhooks import receiver
from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

WORDS = {
    "ko": {"add": "웹훅 추가하기", "refused": "내부망", "copied": "복사했습니다", "done": "복사를 마쳤습니다",
           "ping": "시험 메시지 보내기", "rotate": "새 비밀키 만들기", "delivered": "전달됨", "log": "전송 기록"},
    "en": {"add": "Add webhook", "refused": "private or reserved network", "copied": "Copied",
           "done": "Done, I copied it", "ping": "Send a test message", "rotate": "Make a new secret",
           "delivered": "Delivered", "log": "Delivery log"},
}  # fmt: skip


def _fits(page, width: int, where: object) -> None:
    assert page.title() == "Jium", where
    assert page.evaluate("document.documentElement.scrollWidth") <= width, where


def _seed_log(endpoint: WebhookEndpoint) -> None:
    """Earlier messages, so the log shows each kind of row."""
    now = timezone.now()
    made = {"payload": {}, "endpoint": endpoint}
    WebhookDelivery.objects.create(
        message_id=f"msg_a{endpoint.pk}", event="url.matched", state="delivered", attempts=1, last_status=204,
        **made,
    )  # fmt: skip
    WebhookDelivery.objects.create(
        message_id=f"msg_b{endpoint.pk}", event="notice.sent", state="pending", attempts=2,
        error_code="connect", next_attempt_at=now + timedelta(minutes=2), **made,
    )  # fmt: skip
    WebhookDelivery.objects.create(
        message_id=f"msg_c{endpoint.pk}", event="url.removed", state="failed", attempts=1, last_status=410,
        error_code="http_status", **made,
    )  # fmt: skip


def test_webhooks_page_in_both_languages_at_both_widths(live_server, owner, settings):
    call_command("compilemessages", locale=["ko"], verbosity=0)
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_RETRIES = 0
    base = live_server.url
    keep = bool(os.environ.get("JIUM_SCREENSHOTS"))
    widths = (1280, 390) if keep else (390,)
    try:
        with receiver() as (hook_url, received):
            for lang in ("ko", "en"):
                for width in widths:
                    where = (lang, width)
                    words = WORDS[lang]
                    WebhookEndpoint.objects.all().delete()
                    with chromium_page(base, lang=lang, width=width) as page:
                        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
                        log_in(page, base, owner.user.username)
                        page.goto(f"{base}/org/webhooks/")
                        _fits(page, width, where)

                        # A refused address first: a plain, translated error, nothing stored.
                        page.fill("#id_url", "http://169.254.169.254/latest/meta-data")
                        page.check("input[value='url.matched']")
                        with page.expect_navigation():
                            page.click(f"text={words['add']}")
                        assert words["refused"] in page.inner_text("#webhook-form"), where
                        assert not WebhookEndpoint.objects.exists()
                        _fits(page, width, where)
                        keep_screenshot(page, f"webhooks-refused-{lang}-{width}")

                        # Then our receiver: the secret is shown once and the copy button copies it.
                        page.fill("#id_url", hook_url)
                        page.check("input[value='notice.sent']")
                        page.fill("#id_description", "Case system (test)")
                        with page.expect_navigation():
                            page.click(f"text={words['add']}")
                        endpoint = WebhookEndpoint.objects.get()
                        first_secret = str(endpoint.secret)
                        assert page.input_value("#webhook-secret") == first_secret, where
                        page.click("[data-copy-button]")
                        page.wait_for_function(
                            "t => document.querySelector('[data-copy-button]').textContent === t",
                            arg=words["copied"],
                        )
                        assert page.evaluate("navigator.clipboard.readText()") == first_secret, where
                        _fits(page, width, where)
                        keep_screenshot(page, f"webhook-added-{lang}-{width}")
                        with page.expect_navigation():
                            page.click(f"text={words['done']}")

                        # Rotate with the overlap: the new secret is shown once.
                        _seed_log(endpoint)
                        with page.expect_navigation():
                            page.click(f"text={words['rotate']}")
                        new_secret = page.input_value("#webhook-secret")
                        assert new_secret.startswith("whsec_") and new_secret != first_secret, where
                        _fits(page, width, where)
                        keep_screenshot(page, f"webhook-secret-{lang}-{width}")
                        with page.expect_navigation():
                            page.click(f"text={words['done']}")

                        # A test message; the worker's step runs here, then the log shows it delivered.
                        with page.expect_navigation():
                            page.click(f"text={words['ping']}")
                        assert page.locator("#delivery-waiting").is_visible(), where  # says it is busy
                        test = WebhookDelivery.objects.get(endpoint=endpoint, event="webhook.test")
                        webhook_deliver(delivery_id=test.pk)
                        headers, body = received[-1]
                        Webhook(first_secret).verify(body, headers)  # a receiver not yet switched over
                        Webhook(new_secret).verify(body, headers)  # and one that already is
                        # No reload: the log refreshes by itself once the message has gone.
                        page.wait_for_selector("#delivery-waiting", state="detached")
                        log = page.inner_text("#delivery-log")
                        newest = page.inner_text("#delivery-log tbody tr:first-child")
                        assert "webhook.test" in newest and words["delivered"] in newest, (where, newest)
                        assert " KST" in log, where
                        assert page.locator("#overlap-note").is_visible(), where
                        _fits(page, width, where)
                        keep_screenshot(page, f"webhook-detail-{lang}-{width}")

                        page.goto(f"{base}/org/webhooks/")
                        assert "Case system (test)" in page.inner_text("#webhook-list"), where
                        _fits(page, width, where)
                        keep_screenshot(page, f"webhooks-{lang}-{width}")
                        close_connections()  # the ones opened inside Playwright's event loop
    finally:
        close_connections()
