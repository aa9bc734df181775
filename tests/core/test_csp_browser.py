"""In real Chromium no page breaks the Content-Security-Policy: no blocked script, style or fetch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.browser import chromium_page, close_connections, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]


def test_pages_run_under_the_policy_without_violations(live_server, case, owner):
    base = live_server.url
    pages = [reverse("case_list"), reverse("case_detail", args=[case.pk]), reverse("case_edit", args=[case.pk]),
             reverse("organization_settings"), reverse("organization_tokens"), reverse("fingerprint"), "/api/v1/docs/"]  # fmt: skip
    violations: list[str] = []
    try:
        with chromium_page(base, lang="en") as page:
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
            )
            log_in(page, base, owner.user.username)
            for path in pages:
                response = page.goto(f"{base}{path}")
                assert response is not None and response.status == 200, path
                assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
                page.wait_for_load_state("networkidle")
            # Swagger UI ran (from our static files): its operations are on the page.
            page.goto(f"{base}/api/v1/docs/")
            page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
            # The language menu's handler lives in static/jium.js now: changing it still switches.
            page.goto(f"{base}{reverse('case_list')}")
            with page.expect_navigation():
                page.select_option("select[name=language]", "ko")
            assert page.locator("html").get_attribute("lang") == "ko"
    finally:
        close_connections()
    assert violations == []
