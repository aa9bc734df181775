"""A minor's case in Debian's chromium, Korean and English, 1280 and 390 px: no image, no upload."""

from __future__ import annotations

import pytest

from app.cases.services import case_set_age_group
from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in
from tests.web.helpers import make_evidence

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_minor_case_page(live_server, case, owner, victim, directory, lang):  # type: ignore[no-untyped-def]
    case.keep_evidence = True
    case.save()
    make_evidence(case)
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    base = live_server.url
    try:
        for who, width in ((owner, 1280), (owner, 390), (victim, 390)):
            with chromium_page(base, lang=lang, width=width, height=900) as page:
                log_in(page, base, who.user.username)
                page.goto(f"{base}/cases/{case.pk}/")
                assert page.locator("#minor-notice").is_visible()
                assert page.locator("#routing .hotline").count() >= 3
                assert page.locator("main img").count() == 0
                assert page.locator("input[type=file][accept^='image']").count() == 0
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                role = "staff" if who is owner else "victim"
                keep_screenshot(page, f"minor-case-{role}-{lang}-{width}")
                if who is owner and width == 1280:
                    page.goto(f"{base}/cases/{case.pk}/results/")
                    assert page.locator("main img").count() == 0
                    keep_screenshot(page, f"minor-results-{lang}-{width}")
    finally:
        close_connections()
