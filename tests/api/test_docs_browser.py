"""The interactive API docs render in Debian's chromium under Jium's Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("ko", 390)])
def test_swagger_docs_render_with_the_csp(live_server, django_db_serialized_rollback, owner, lang, width):
    # Serialized rollback: this test's flush then leaves no re-created content types behind for the
    # worker tests that restore the serialized database after it (a plain flush breaks them).
    with chromium_page(live_server.url, lang=lang, width=width) as page:
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        log_in(page, live_server.url, owner.user.username)
        response = page.goto(f"{live_server.url}/api/v1/docs/")
        assert response is not None and response.status == 200
        assert "script-src" in (response.headers.get("content-security-policy") or "script-src")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)  # operations read from the schema
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/cases/{case_id}/notices/" in p for p in paths)
        assert blocked == []
        keep_screenshot(page, f"api-docs-{lang}-{width}")
    close_connections()
