"""Debian's chromium through Playwright, for the screen tests of tests/web (a live server, one page)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import PASSWORD, REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "docs" / "screenshots"


@contextmanager
def chromium_page(base: str, *, lang: str, width: int = 1280, height: int = 900) -> Iterator:
    """A fresh browser showing Jium in `lang` at `width` px."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM is only used between steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def keep_screenshot(page, name: str) -> None:
    """Written into docs/screenshots/ only when asked (JIUM_SCREENSHOTS=1), to refresh the docs."""
    if os.environ.get("JIUM_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def close_connections() -> None:
    # With Playwright's event loop running, Django keeps this test's connection per async context,
    # which the test-database teardown never sees: close it, or PostgreSQL cannot drop the database.
    from django.db import connections

    connections.close_all()
