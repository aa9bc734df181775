"""The hash-list import page walked in chromium, in Korean and English, on a phone and a desk: from the
case list to the page, a ThreatExchange list pasted, and the list's own case. JIUM_SCREENSHOTS=1 also
walks 1280 px and refreshes docs/screenshots/hashlist-import-*."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from app.cases.models import Case, Reference
from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

A, B = "a" * 64, "0123456789abcdef" * 4
WORDS = {
    "ko": {"link": "해시 목록 가져오기", "submit": "목록 가져오기", "done": "해시 2개를 가져왔습니다", "skipped": "건너뛰었습니다",
           "badge": "해시 목록", "not_person": "한 사람의 사례가 아니에요"},
    "en": {"link": "Import a hash list", "submit": "Import the list", "done": "2 hashes imported", "skipped": "was skipped",
           "badge": "Hash list", "not_person": "not a person's case"},
}  # fmt: skip


def test_hashlist_import_page_in_both_languages(live_server, owner, case):
    call_command("compilemessages", locale=["ko"], verbosity=0)
    base = live_server.url
    widths = (1280, 390) if os.environ.get("JIUM_SCREENSHOTS") else (390,)
    try:
        for lang in ("ko", "en"):
            for width in widths:
                where = (lang, width)
                words = WORDS[lang]
                name = f"Partner list {lang} {width}"
                with chromium_page(base, lang=lang, width=width) as page:
                    log_in(page, base, owner.user.username)
                    page.goto(f"{base}/")
                    keep_screenshot(page, f"hashlist-import-list-{lang}-{width}")
                    with page.expect_navigation():
                        page.click(f"text={words['link']}")
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
                    keep_screenshot(page, f"hashlist-import-{lang}-{width}")
                    page.fill("#id_name", name)
                    page.fill(
                        "#id_list_text", f"pdq {A}\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\npdq {B}\n"
                    )
                    with page.expect_navigation():
                        page.click(f"button:has-text('{words['submit']}')")
                    text = page.inner_text("main")
                    assert words["done"] in text and words["skipped"] in text and name in text, where
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
                    keep_screenshot(page, f"hashlist-import-done-{lang}-{width}")
                    # The list's case says what it is, and offers nothing that needs a person.
                    assert page.inner_text("#kind-badge") == words["badge"], where
                    assert words["not_person"] in page.inner_text("#hash-list-card"), where
                    assert page.locator("#faces, #next-steps, #reference-form").count() == 0, where
                    page.goto(f"{base}/")
                    row = page.locator("#case-table tr", has_text=name)
                    assert row.locator(".kind-list").inner_text() == words["badge"], where
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
                    keep_screenshot(page, f"hashlist-case-list-{lang}-{width}")
                listed = Case.objects.get(alias=name)
                assert set(Reference.objects.filter(case=listed).values_list("pdq_hex", flat=True)) == {A, B}
    finally:
        close_connections()
