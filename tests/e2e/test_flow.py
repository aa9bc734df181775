"""The whole casework flow in Debian's chromium, against a live server and real Celery workers.

A local web site on 127.0.0.1 shows transformed copies of some reference photos (resized,
cropped, re-encoded) and unrelated photos. The test logs in, opens a case, uploads the references,
pastes the links, watches the progress bar finish and checks that exactly the right links match,
first in English and then again in Korean.

Set JIUM_SCREENSHOTS=1 to also write screenshots of the main pages into docs/screenshots/.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from app.accounts.models import Role
from app.accounts.services import member_create, organization_create
from tests.conftest import PASSWORD, REPO, photo_paths

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = REPO / "docs" / "screenshots"

# Reference photos (by index into photos-dev) and the pages of the local site.
REFERENCES = [0, 10, 20, 30]
UNRELATED = [60, 75, 90]


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _photo(index: int) -> Image.Image:
    img = Image.open(photo_paths()[index])
    img.load()
    return img.convert("RGB")


def build_site() -> tuple[dict[str, tuple[str, bytes]], dict[str, bool]]:
    """Files of the local site, and for each page whether it shows one of the references."""
    files: dict[str, tuple[str, bytes]] = {}
    expected: dict[str, bool] = {}

    def page(name: str, image_name: str, data: bytes, matches: bool) -> None:
        files[f"/img/{image_name}"] = ("image/jpeg", data)
        html = f"<!doctype html><html><body><h1>Post</h1><p>Some text.</p><img src='/img/{image_name}' alt=''></body></html>"
        files[f"/{name}.html"] = ("text/html; charset=utf-8", html.encode())
        expected[f"/{name}.html"] = matches

    a, b, c = (_photo(i) for i in REFERENCES[:3])
    page("resized", "r.jpg", _jpeg(a.resize((a.width // 2, a.height // 2))), True)
    w, h = b.size
    page("cropped", "c.jpg", _jpeg(b.crop((w // 10, h // 10, w - w // 10, h - h // 10))), True)
    page("reencoded", "e.jpg", _jpeg(c, quality=35), True)
    for n, index in enumerate(UNRELATED):
        page(f"unrelated{n}", f"u{n}.jpg", _jpeg(_photo(index)), False)
    return files, expected


@pytest.fixture
def local_site() -> Iterator[tuple[str, dict[str, bool]]]:
    files, expected = build_site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            entry = files.get(self.path)
            if entry is None:
                self.send_error(404)
                return
            ctype, body = entry
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", expected
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def compiled_translations() -> None:
    """The .mo files are build artefacts (gitignored): compile them when a checkout has none."""
    from django.core.management import call_command

    mo = REPO / "locale" / "ko" / "LC_MESSAGES" / "django.mo"
    po = mo.with_suffix(".po")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        call_command("compilemessages", locale=["ko", "en"], verbosity=0)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM is only used between steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shot(page, name: str) -> None:
    if os.environ.get("JIUM_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def run_flow(page, base: str, site: str, expected: dict[str, bool], *, alias: str, lang: str) -> None:
    page.goto(f"{base}/")
    page.click("#new-case")
    shot(page, f"{lang}-2-new-case")
    page.fill("#id_alias", alias)
    page.select_option("#id_jurisdiction", "KR")
    page.check("#id_age_group_0")  # an adult: the no-media rules of a minor's case do not apply
    page.fill("#id_authorised_on", "2025-05-01")
    page.fill("#id_authorisation_method", "signed letter")
    page.check("#id_keep_evidence")
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("#reference-form")

    page.set_input_files("#reference-form input[type=file]", [str(photo_paths()[i]) for i in REFERENCES])
    page.click("#reference-form button[type=submit]")
    page.wait_for_selector("#reference-count")
    assert page.locator(".refs li").count() == len(REFERENCES)
    assert page.locator("#references img").count() == 0  # references are never shown

    links = "\n".join(f"{site}{path}" for path in expected)
    page.fill("#id_urls", links + "\n" + f"{site}/resized.html#again\n")  # a duplicate, after normalising
    page.click("#url-form button[type=submit]")
    page.wait_for_selector("#progress progress")
    shot(page, f"{lang}-3-checking")
    # The page polls the progress fragment, then reloads itself once every link is final.
    page.wait_for_selector("#progress [data-finished]", timeout=90_000)
    shot(page, f"{lang}-4-case-done")

    rows = page.locator("#url-table tbody tr")
    assert rows.count() == len(expected)
    states = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        url = row.locator("td.url").inner_text().strip()
        states[url.removeprefix(site)] = row.get_attribute("data-state")
    assert states == {path: ("matched" if m else "no_match") for path, m in expected.items()}, states

    page.click("#see-matches")
    page.wait_for_selector(".host-group")
    matched_refs = sorted(page.locator("li.match").evaluate_all("els => els.map(e => e.dataset.reference)"))
    assert matched_refs == sorted(photo_paths()[i].name for i in REFERENCES[:3])
    assert page.locator(".host-group").count() == 1  # all on one local "platform"
    # Previews are blurred server-side; nothing is revealed without asking.
    assert page.locator("img.thumb.revealed-img").count() == 0
    assert page.locator("img.thumb").count() == 3
    shot(page, f"{lang}-5-results")
    page.locator("li.match a[href*='reveal']").first.click()
    page.wait_for_selector("#confirm-reveal")
    shot(page, f"{lang}-6-reveal-confirm")
    page.click("#confirm-reveal")
    page.wait_for_selector("img.revealed-img")


def test_whole_flow_in_english_and_korean(
    live_server, workers, local_site, browser_page, compiled_translations, settings
):
    from django.db import connections

    from app.accounts.models import AuditEvent
    from app.cases.models import Case, ReportedUrl

    site, expected = local_site
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    org = organization_create(name="E2E Support Centre")
    member_create(organization=org, username="caseworker", password=PASSWORD, role=Role.ADMIN)
    workers.start(concurrency=2)
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/login/")
    shot(page, "en-0-login")
    page.fill("input[name=username]", "caseworker")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#new-case")
    shot(page, "en-1-cases")
    if os.environ.get("JIUM_SCREENSHOTS"):
        for path, name in (("/org/members/", "en-7-team"), ("/account/two-factor/", "en-8-two-step-login")):
            page.goto(f"{base}{path}")
            shot(page, name)

    try:
        run_flow(page, base, site, expected, alias="Case Camellia", lang="en")
        assert "Matches by website" in page.content()

        # Again in Korean: the language switch is on every page.
        with page.expect_navigation():
            page.select_option("#language-form select", "ko")
        assert page.locator("html").get_attribute("lang") == "ko"
        run_flow(page, base, site, expected, alias="사례 동백", lang="ko")
        html = page.content()
        assert "Matches by website" not in html
        assert "웹사이트별" in html
    except Exception:
        print(workers.output())
        raise

    try:
        assert Case.objects.count() == 2
        assert ReportedUrl.objects.filter(state="fetching").count() == 0
        assert AuditEvent.objects.filter(action="evidence.reveal").count() == 2
    finally:
        # With Playwright's event loop running, Django keeps this test's connection per async
        # context, which the test-database teardown never sees: close it here, or it outlives
        # the test and PostgreSQL refuses to drop the test database.
        connections.close_all()
