"""Quick exit ends the session: Back after it shows the login page, never the case."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.browser import chromium_page, close_connections, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]


def test_exit_ends_the_session_on_the_server(client, case, owner, settings):
    settings.QUICK_EXIT_URL = "https://www.google.com/search?q=weather"
    client.force_login(owner.user)
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    response = client.get(reverse("exit"))
    assert response.status_code == 302 and response["Location"].startswith("https://www.google.com/")
    assert "cache" in response["Clear-Site-Data"]
    after = client.get(reverse("case_detail", args=[case.pk]))
    assert after.status_code == 302 and after["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("how", ["button", "escape"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_back_after_quick_exit_shows_the_login_page(live_server, case, owner, settings, lang, how):
    settings.QUICK_EXIT_URL = ""  # our neutral page: the test has no internet
    base = live_server.url
    try:
        with chromium_page(base, lang=lang) as page:
            log_in(page, base, owner.user.username)
            page.goto(f"{base}/cases/{case.pk}/")
            assert case.alias in page.content()
            with page.expect_navigation():
                if how == "button":
                    page.click("#quick-exit")
                else:
                    page.keyboard.press("Escape")
                    page.keyboard.press("Escape")
            assert page.url.endswith("/exit/")
            page.go_back()
            page.wait_for_url("**/login/**")
            page.wait_for_selector("input[name=password]")
            assert case.alias not in page.content()
            # Forward again: the neutral page, and the case is still not reachable.
            page.goto(f"{base}/cases/{case.pk}/")
            assert "/login/" in page.url and case.alias not in page.content()
    finally:
        close_connections()


def test_logging_out_says_so(client, owner):
    for lang, words in (("en", "You are logged out"), ("ko", "로그아웃했습니다")):
        client.force_login(owner.user)
        client.cookies["django_language"] = lang
        response = client.post(reverse("logout"), follow=True)
        assert words in response.content.decode(), lang
