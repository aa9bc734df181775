"""Every main page at 390 px in both languages: neutral tab title, nothing wider than the screen,
quick exit in the top corner (issue 11.11). JIUM_SCREENSHOTS=1 also refreshes docs/screenshots/
at 390 and 1280 px, with the quick-exit and log-out endings."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from app.cases.models import UrlState
from tests.tracking.helpers import seed_notice
from tests.web.browser import SHOTS, chromium_page, close_connections, log_in
from tests.web.helpers import make_evidence

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

PAGES = [
    ("cases", "/"),
    ("case", "/cases/{c}/"),
    ("results", "/cases/{c}/results/"),
    ("failed-link", "/cases/{c}/urls/{f}/"),
    ("tracking", "/cases/{c}/tracking/"),
    ("notices", "/cases/{c}/notices/"),
    ("history", "/cases/{c}/history/"),
    ("settings", "/org/settings/"),
]


def _seed(case):
    case.keep_evidence = True
    case.save(update_fields=["keep_evidence"])
    make_evidence(case)
    failed, _media, _match = make_evidence(case, url="https://broken.example/p/2", index=1)
    failed.state = UrlState.FAILED
    failed.save(update_fields=["state"])
    failed.matches.all().delete()
    seed_notice(case, platform="Alpha", regime="kr", status="removed", hours_to_removal=5, n=1)
    seed_notice(
        case, platform="Beta", regime="kr", status="sent", n=2, sent_at=timezone.now() - timedelta(hours=30)
    )
    seed_notice(
        case, platform="Gamma", regime="kr", status="sent", n=3, sent_at=timezone.now() - timedelta(hours=2)
    )
    return failed


def test_every_page_fits_a_phone_with_quick_exit_in_the_corner(live_server, case, owner, settings):
    settings.QUICK_EXIT_URL = ""
    failed = _seed(case)
    base = live_server.url
    keep = bool(os.environ.get("JIUM_SCREENSHOTS"))
    widths = (390, 1280) if keep else (390,)
    try:
        for lang in ("ko", "en"):
            for width in widths:
                with chromium_page(base, lang=lang, width=width, height=900) as page:
                    log_in(page, base, owner.user.username)
                    for name, path in PAGES:
                        page.goto(base + path.format(c=case.pk, f=failed.pk))
                        where = (lang, width, name)
                        assert page.title() == "Jium", where  # nothing about the case in the tab
                        assert page.evaluate("document.documentElement.scrollWidth") <= width, where
                        box = page.locator("#quick-exit").bounding_box()
                        assert (
                            box is not None
                            and box["y"] < 20
                            and width - 24 <= box["x"] + box["width"] <= width
                        ), where
                        if keep:
                            page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
                    if keep:
                        page.goto(f"{base}/cases/{case.pk}/")
                        page.click("#quick-exit")
                        page.wait_for_url("**/exit/")
                        page.go_back()
                        page.wait_for_url("**/login/**")
                        page.screenshot(
                            path=str(SHOTS / f"after-quick-exit-{lang}-{width}.png"), full_page=True
                        )
                        log_in(page, base, owner.user.username)
                        page.click("text=" + ("로그아웃" if lang == "ko" else "Log out"))
                        page.wait_for_url("**/login/**")
                        page.screenshot(path=str(SHOTS / f"logged-out-{lang}-{width}.png"), full_page=True)
    finally:
        close_connections()
