"""The /fingerprint/ page in Debian's chromium: images are fingerprinted in the browser, work
goes on with the network cut, and nothing but the fingerprint document ever leaves the page."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from django.urls import reverse

from app.cases import services
from app.cases.models import Reference, ReferenceSource
from app.matching.bands import MIN_QUALITY, N_BANDS
from app.matching.decode import decode_media
from app.matching.document import parse_document
from app.matching.fingerprint import fingerprint_reference
from tests.conftest import REPO, photo_paths
from tests.web.helpers import assert_not_found_for_outsider, status_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SHOTS = REPO / "docs" / "screenshots"


def _bits(a: bytes, b: bytes) -> int:
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_intake_link_sends_fingerprints_only(live_server, case, owner, tmp_path, settings):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _intake, token = services.fingerprint_intake_create(case=case, actor=owner.user)
    url = live_server.url + reverse("fingerprint_intake", args=[token])
    photo = photo_paths()[5]
    data = photo.read_bytes()
    heic = tmp_path / "IMG_0001.HEIC"  # a phone photo the browser cannot decode
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    requests: list[dict] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(60_000)

        def record(route, request):  # every request the page (and its worker) makes
            requests.append(
                {"url": request.url, "method": request.method, "body": request.post_data_buffer or b""}
            )
            route.continue_()

        context.route("**/*", record)
        page.goto(url)
        page.wait_for_selector("#fp-status.ready")
        loaded = len(requests)
        context.set_offline(True)  # hashing needs no server
        page.set_input_files("#fp-files", [str(photo), str(heic)])
        page.wait_for_selector(
            "#fp-results li:nth-child(2)"
        )  # (the page's CSP forbids wait_for_function's eval)
        items = page.locator("#fp-results li").all_inner_texts()
        assert "Fingerprint made" in items[0] and "HEIC" in items[1]
        assert photo.name not in " ".join(items)  # names are not kept unless asked
        assert len(requests) == loaded, "the page made requests while fingerprinting"
        if os.environ.get("JIUM_SCREENSHOTS"):
            page.screenshot(path=str(SHOTS / "fingerprint-en-390.png"), full_page=True)
        context.set_offline(False)
        page.click("#fp-send")
        page.wait_for_selector("#fp-sent:has-text('added to the case')")
        if os.environ.get("JIUM_SCREENSHOTS"):
            _screenshots(browser, live_server.url, [str(photo), str(heic)])
        browser.close()

    sent = requests[loaded:]
    assert [(r["method"], r["url"]) for r in sent] == [("POST", url)]
    body = sent[0]["body"]
    assert len(body) < 300_000  # one fingerprint with features is ~150 KB of base64
    for offset in range(0, len(data) - 64, len(data) // 16):  # no slice of the image file
        assert data[offset : offset + 64] not in body
    assert photo.name.encode() not in body and b"Exif" not in body
    start = body.index(b"{")
    items, skipped = parse_document(body[start : body.rindex(b"}") + 1])
    assert len(items) == 1 and not skipped

    ref = Reference.objects.get(case=case)
    assert ref.source == ReferenceSource.DEVICE and ref.label == "Image 1"
    server = fingerprint_reference(decode_media(data).frames[0])
    assert _bits(bytes.fromhex(ref.pdq_hex), server.pdq) <= 10
    # The browser's ORB features are the server's (static/fingerprint/core.js mirrors
    # fingerprint.py): the same keypoints chosen, in both views; a change on one side shows here.
    made = items[0].fingerprint
    assert made.feature_size == server.feature_size and len(made.descriptors) > 500
    for mine, theirs in (
        (made.keypoints, server.keypoints),
        (made.mirror_keypoints, server.mirror_keypoints),
    ):
        at = {tuple(xy) for xy in np.round(mine * 4).astype(int)}
        shared = sum(tuple(xy) in at for xy in np.round(theirs * 4).astype(int))
        assert shared >= 0.95 * len(theirs)
    # And its band hashes (bands.py), which find undress edits of the reference: every band that
    # counts (quality >= 50) as the server's, from the browser's own decoding of the file.
    assert len(made.bands) == 32 * N_BANDS and len(made.band_qualities) == N_BANDS
    for k in range(N_BANDS):
        assert abs(made.band_qualities[k] - server.band_qualities[k]) <= 1
        if server.band_qualities[k] >= MIN_QUALITY:
            assert _bits(made.bands[32 * k : 32 * (k + 1)], server.bands[32 * k : 32 * (k + 1)]) <= 4
    # Single use: the link is gone now.
    from django.test import Client

    assert Client().get(reverse("fingerprint_intake", args=[token])).status_code == 410


def _screenshots(browser, base: str, files: list[str]) -> None:
    """What a person sees, in Korean and English, on a phone and on a computer (stand-alone page)."""
    for lang, width in (("ko", 390), ("en", 1280), ("ko", 1280)):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=lang)
        context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
        page = context.new_page()
        page.goto(base + reverse("fingerprint"))
        page.wait_for_selector("#fp-status.ready", timeout=60_000)
        page.set_input_files("#fp-files", files)
        page.wait_for_selector("#fp-results li:nth-child(2)", timeout=60_000)
        page.screenshot(path=str(SHOTS / f"fingerprint-{lang}-{width}.png"), full_page=True)
        context.close()


def test_standalone_page_needs_no_account_and_sets_its_own_policy(client, db):
    response = client.get(reverse("fingerprint"))
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    config = json.loads(
        response.content.decode()
        .split('id="fingerprint-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["mode"] == "standalone" and config["submit"] == ""


def test_case_page_access(client, case, owner, victim, outsider):
    url = reverse("fingerprint_case", args=[case.pk])
    assert status_for(client, victim, url) == 200  # the person, inside their own case
    assert status_for(client, owner, url) == 200
    assert_not_found_for_outsider(client, outsider, url)
    assert_not_found_for_outsider(client, outsider, url, "post", {})


def test_only_staff_create_intake_links(client, case, owner, victim, outsider):
    url = reverse("case_fingerprint_intake_create", args=[case.pk])
    assert status_for(client, victim, url, "post") == 404
    assert_not_found_for_outsider(client, outsider, url, "post")
    client.force_login(owner.user)
    response = client.post(url)
    assert response.status_code == 200 and "/fingerprint/i/" in response.content.decode()
    assert case.fingerprint_intakes.count() == 1


def test_unknown_link_is_gone(client, db):
    assert client.get(reverse("fingerprint_intake", args=["nope"])).status_code == 410
    assert client.post(reverse("fingerprint_intake", args=["nope"]), {}).status_code == 400
