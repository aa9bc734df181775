"""At 390 px the header wraps between words, and quick exit stays in the top corner."""

from __future__ import annotations

import pytest

from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

# Lines each header item's text is laid out on (a word broken per syllable takes several).
LINES_PER_ITEM = """
() => [...document.querySelectorAll('.topbar nav a, .topbar nav button, .brand')].map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top).sort((a, b) => a - b);
  // Pieces of one line can sit a few pixels apart (another font); a new line is a line-height lower.
  const lines = tops.filter((t, i) => i === 0 || t - tops[i - 1] > 8).length;
  return [el.textContent.trim(), lines];
})
"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_header_at_every_width(live_server, case, owner, lang, width):
    base = live_server.url
    try:
        with chromium_page(base, lang=lang, width=width, height=700) as page:
            log_in(page, base, owner.user.username)  # an admin: the longest menu
            page.goto(f"{base}/cases/{case.pk}/")
            assert page.locator("html").get_attribute("lang") == lang
            broken = [(text, n) for text, n in page.evaluate(LINES_PER_ITEM) if n != 1]
            assert broken == [], broken
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            for scrolled in (False, True):
                if scrolled:
                    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                box = page.locator("#quick-exit").bounding_box()
                assert box is not None
                assert box["y"] >= 0 and box["y"] + box["height"] <= 60, (scrolled, box)
                assert width - 24 <= box["x"] + box["width"] <= width, (scrolled, box)
                # Nothing covers it: the top-most element at its centre is the button itself.
                hit = page.evaluate(
                    "([x, y]) => document.elementFromPoint(x, y).closest('#quick-exit') !== null",
                    [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
                )
                assert hit, scrolled
            page.evaluate("window.scrollTo(0, 0)")
            png = page.screenshot(full_page=False)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            keep_screenshot(page, f"header-{lang}-{width}")
    finally:
        close_connections()
