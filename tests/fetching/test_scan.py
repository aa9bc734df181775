"""Scanning whole URLs against real local servers: real pages, real photos, hostile sites."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from app.fetching.scan import scan_url
from app.matching.decode import decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import fingerprint_reference
from tests.fetching.servers import (
    CDN_HOST,
    SITE_HOST,
    Internet,
    drip_body,
    encoded,
    gzip_bomb,
    internet,  # noqa: F401 - fixture
    oversized_undeclared,
    photo_bytes,
    photo_names,
    png_pixel_bomb,
    send,
    sha256,
    test_policy,
    truncated_jpeg,
    video_from_photos,
)

REPO = Path(__file__).resolve().parents[2]
NAMES = photo_names()


def matcher_for(*names: str) -> Matcher:
    refs = []
    for name in names:
        media = decode_media(photo_bytes(name), max_frames=1)
        refs.append((name, fingerprint_reference(media.frames[0])))
    return Matcher(refs)


def size_of(name: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(photo_bytes(name))).size


# ---- real pages ------------------------------------------------------------------------------


def test_direct_image_url(internet: Internet) -> None:
    name = NAMES[0]
    outcome = scan_url(internet.site.url(f"/photos/{name}"), policy=test_policy())
    assert outcome.status == "ok" and outcome.error is None
    assert outcome.page_kind == "image"
    assert outcome.http_status == 200
    assert outcome.page is not None and outcome.page.body == b""  # evidence kept, bytes not
    [item] = outcome.media
    assert item.source == "direct" and item.kind == "image" and item.mime == "image/jpeg"
    assert item.sha256 == sha256(photo_bytes(name))
    assert (item.width, item.height) == size_of(name)
    assert item.fingerprint is not None and len(item.fingerprint.pdq) == 32
    assert item.content is None and item.match is None


def test_content_sniffing_beats_content_type(internet: Internet) -> None:
    name = NAMES[1]
    internet.site.file("/looks-like-a-page", photo_bytes(name), content_type="text/html")
    outcome = scan_url(internet.site.url("/looks-like-a-page"), policy=test_policy())
    assert outcome.status == "ok" and outcome.page_kind == "image"
    assert outcome.media[0].sha256 == sha256(photo_bytes(name))


def test_page_with_every_kind_of_media_link(internet: Internet) -> None:
    site, cdn = internet.site, internet.cdn
    n = NAMES
    html = f"""<!doctype html><html><head>
      <meta property="og:image" content="{cdn.url("/photos/" + n[0])}">
      <meta name="twitter:image" content="/photos/{n[1]}">
      <base href="{site.url("/photos/")}">
    </head><body>
      <img src="{n[2]}">
      <img src="{n[3]}" srcset="{n[3]} 400w, {cdn.url("/photos/" + n[4])} 1600w">
      <picture><source srcset="{n[5]} 1x, {n[6]} 2x"><img src="{n[7]}"></picture>
      <video src="/videos/clip.mp4" poster="{n[8]}"><source src="/videos/other.mp4"></video>
      <a class="tgme_widget_message_photo_wrap" style="background-image:url('{cdn.url("/photos/" + n[9])}')"></a>
      <a href="{n[10]}">full size</a>
      <a href="/about.html">about</a>
      <img src="data:image/png;base64,iVBORw0KGgo=">
    </body></html>"""
    site.page("/gallery/index.html", html)
    site.file("/videos/clip.mp4", video_from_photos((n[11], n[12])), content_type="video/mp4")
    site.file("/videos/other.mp4", video_from_photos((n[13],)), content_type="video/mp4")
    outcome = scan_url(site.url("/gallery/index.html"), policy=test_policy())
    assert outcome.status == "ok", outcome.error
    assert outcome.page_kind == "html"
    got = [(m.url, m.source, m.kind, m.status) for m in outcome.media]
    p = site.url("/photos/")
    assert got == [
        (cdn.url("/photos/" + n[0]), "og:image", "image", "ok"),
        (p + n[1], "twitter:image", "image", "ok"),
        (p + n[2], "img", "image", "ok"),
        (cdn.url("/photos/" + n[4]), "srcset", "image", "ok"),
        (p + n[3], "img", "image", "ok"),
        (p + n[6], "picture", "image", "ok"),
        (p + n[7], "img", "image", "ok"),
        (site.url("/videos/clip.mp4"), "video", "video", "ok"),
        (p + n[8], "video-poster", "image", "ok"),
        (site.url("/videos/other.mp4"), "video-source", "video", "ok"),
        (cdn.url("/photos/" + n[9]), "background-image", "image", "ok"),
        (p + n[10], "a-href", "image", "ok"),
    ]
    by_url = {m.url: m for m in outcome.media}
    assert by_url[p + n[2]].sha256 == sha256(photo_bytes(n[2]))
    assert (by_url[p + n[2]].width, by_url[p + n[2]].height) == size_of(n[2])
    clip = by_url[site.url("/videos/clip.mp4")]
    assert clip.mime == "video/mp4" and len(clip.fingerprints) >= 2
    assert all(m.fetch is not None and m.fetch.http_status == 200 for m in outcome.media)
    assert outcome.media[0].fetch is not None and outcome.media[0].fetch.resolved_ip == CDN_HOST


def test_matches_found_in_images_and_video_frames(internet: Internet) -> None:
    target_photo, target_frame = NAMES[20], NAMES[21]
    internet.site.file(
        "/v.mp4", video_from_photos((NAMES[30], target_frame, NAMES[31])), content_type="video/mp4"
    )
    internet.site.page(
        "/post",
        f'<img src="/photos/{NAMES[22]}"><img src="/photos/{target_photo}"><video src="/v.mp4"></video>',
    )
    outcome = scan_url(
        internet.site.url("/post"), policy=test_policy(), matcher=matcher_for(target_photo, target_frame)
    )
    assert outcome.status == "ok"
    matches = {m.url.rsplit("/", 1)[1]: m.match for m in outcome.media}
    assert matches[NAMES[22]] is None
    assert matches[target_photo] is not None and matches[target_photo].reference_key == target_photo
    assert matches[target_photo].method.startswith("pdq")
    video_match = matches["v.mp4"]
    assert video_match is not None and video_match.reference_key == target_frame
    video = next(m for m in outcome.media if m.url.endswith("v.mp4"))
    assert video.match_frame is not None and video.match_frame > 0


def test_telegram_style_preview_through_names(internet: Internet) -> None:
    names = {"t.me": [SITE_HOST], "cdn4.cdn-telegram.org": [CDN_HOST]}
    policy = test_policy(resolver=lambda host, port: names[host])
    cdn_port, site_port = internet.cdn.port, internet.site.port
    items = "".join(
        f'<div class="tgme_widget_message"><a class="tgme_widget_message_photo_wrap" '
        f"style=\"width:720px;background-image:url('http://cdn4.cdn-telegram.org:{cdn_port}/photos/{name}')\"></a></div>"
        for name in NAMES[40:44]
    )
    internet.site.page("/s/somechannel", f"<html><body>{items}</body></html>")
    outcome = scan_url(f"http://t.me:{site_port}/s/somechannel", policy=policy)
    assert outcome.status == "ok"
    assert [m.sha256 for m in outcome.media] == [sha256(photo_bytes(name)) for name in NAMES[40:44]]
    assert all(m.fetch and m.fetch.resolved_ip == CDN_HOST for m in outcome.media)


def test_keep_bytes_only_when_asked(internet: Internet) -> None:
    internet.site.page("/p", f'<img src="/photos/{NAMES[0]}">')
    kept = scan_url(internet.site.url("/p"), policy=test_policy(), keep_bytes=True)
    assert kept.media[0].content == photo_bytes(NAMES[0])
    assert kept.page is not None and kept.page.body.startswith(b"<img")
    dropped = scan_url(internet.site.url("/p"), policy=test_policy())
    assert dropped.media[0].content is None and dropped.page is not None and dropped.page.body == b""


def test_identical_bytes_are_analysed_once(internet: Internet) -> None:
    internet.site.file("/copy-a.jpg", photo_bytes(NAMES[5]))
    internet.site.file("/copy-b", photo_bytes(NAMES[5]), content_type="application/octet-stream")
    internet.site.page("/p", '<img src="/copy-a.jpg"><img src="/copy-b">')
    outcome = scan_url(internet.site.url("/p"), policy=test_policy(), workers=1)
    a, b = outcome.media
    assert a.sha256 == b.sha256 and a.fingerprints[0].pdq == b.fingerprints[0].pdq
    assert (a.width, a.height) == (b.width, b.height)


# ---- hostile pages: the page is fine, its media are not --------------------------------------


def test_hostile_media_on_a_page_end_as_item_errors(internet: Internet) -> None:
    site = internet.site
    site.file("/bomb.png", png_pixel_bomb(), content_type="image/png")
    site.file("/truncated.jpg", truncated_jpeg())
    site.file(
        "/html-as.jpg", b"<!doctype html><html><body>not a photo</body></html>", content_type="image/jpeg"
    )
    site.file("/empty.jpg", b"")
    site.file(
        "/drawing.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
    )
    site.route("/broken.jpg", lambda h: send(h, b"oops", status=500, content_type="text/plain"))
    site.route("/gzip-bomb.jpg", encoded(gzip_bomb, "gzip", "image/jpeg"))
    refused = [
        url
        for label, url in internet.refused_spellings()
        if label in ("decimal", "hex-short", "userinfo", "ipv4-mapped", "loopback-127.0.0.1")
    ]
    site.route(
        "/redirect-to-canary.jpg", lambda h: send(h, b"", status=302, headers={"Location": refused[0]})
    )
    images = ["/bomb.png", "/truncated.jpg", "/html-as.jpg", "/empty.jpg", "/drawing.svg", "/missing.jpg",
              "/broken.jpg", "/gzip-bomb.jpg", "/redirect-to-canary.jpg", *refused, f"/photos/{NAMES[3]}"]  # fmt: skip
    site.page("/hostile", "".join(f'<img src="{src}">' for src in images))
    # No item here may end by the clock: the time budget is far beyond what any of them needs, so
    # each must end by its own limit (bytes, pixels, status) however loaded the machine is.
    # Timeouts have their own test below.
    outcome = scan_url(
        site.url("/hostile"), policy=test_policy(total_timeout=120.0, max_bytes=2 * 1024 * 1024)
    )
    assert outcome.status == "ok"
    by_path = {
        m.url.split(str(site.port), 1)[-1] if str(site.port) in m.url else m.url: m for m in outcome.media
    }
    expected = {
        "/bomb.png": ("error", "decode_too_large"),
        "/truncated.jpg": ("error", "decode_truncated"),
        "/html-as.jpg": ("error", "not_media"),
        "/empty.jpg": ("error", "empty"),
        "/drawing.svg": ("error", "svg"),
        "/missing.jpg": ("error", "http_status"),
        "/broken.jpg": ("error", "http_error"),
        "/gzip-bomb.jpg": ("error", "too_large"),
        "/redirect-to-canary.jpg": ("refused", "private_address"),
    }
    for path, (status, code) in expected.items():
        assert (by_path[path].status, by_path[path].error_code) == (status, code), path
        assert by_path[path].error
    assert "decompression bomb" in (by_path["/bomb.png"].error or "")
    assert "truncated" in (by_path["/truncated.jpg"].error or "")
    for url in refused:
        item = next(m for m in outcome.media if m.url.split("/photos/")[0] in url)
        assert item.status == "refused"
    assert outcome.media[-1].status == "ok" and outcome.media[-1].sha256 == sha256(photo_bytes(NAMES[3]))
    assert internet.canary_contacts() == 0


def test_dripping_media_on_a_page_ends_as_timeout(internet: Internet) -> None:
    # The drip lasts a minute; a slow machine only makes the 2 s timeout come sooner, never later.
    internet.site.route("/drip.jpg", drip_body)
    internet.site.page("/dripping", f'<img src="/drip.jpg"><img src="/photos/{NAMES[3]}">')
    started = time.monotonic()
    outcome = scan_url(internet.site.url("/dripping"), policy=test_policy(total_timeout=2.0))
    assert [(m.status, m.error_code) for m in outcome.media] == [("error", "timeout"), ("ok", None)]
    assert time.monotonic() - started < 45  # cut off, not served to the end


def test_page_with_5000_images_is_capped(internet: Internet) -> None:
    small = sorted(NAMES, key=lambda n: len(photo_bytes(n)))[0]
    internet.site.page("/huge", "".join(f'<img src="/photos/{small}?n={i}">' for i in range(5000)))
    started = time.monotonic()
    outcome = scan_url(internet.site.url("/huge"), policy=test_policy(), max_media=40)
    assert outcome.status == "ok"
    assert outcome.links_found == 5000 and outcome.truncated
    assert len(outcome.media) == 40
    assert all(m.status == "ok" for m in outcome.media)
    assert internet.site.hits(f"/photos/{small}") == 40
    assert time.monotonic() - started < 20


def test_scan_time_budget_marks_the_rest_as_not_checked(internet: Internet) -> None:
    internet.site.route("/slow.jpg", drip_body)
    internet.site.page("/p", "".join(f'<img src="/slow.jpg?{i}">' for i in range(6)))
    started = time.monotonic()
    outcome = scan_url(
        internet.site.url("/p"), policy=test_policy(total_timeout=1.0), workers=2, time_budget=1.5
    )
    assert time.monotonic() - started < 4
    codes = [m.error_code for m in outcome.media]
    assert codes[:2] == ["timeout", "timeout"] and "scan_time_limit" in codes


# ---- hostile URLs: the reported URL itself ---------------------------------------------------


def hostile_cases(net: Internet) -> dict[str, tuple[str, set[str]]]:
    """label -> (URL, acceptable statuses). Every one must end as refused or error."""
    site = net.site
    site.file("/bomb.png", png_pixel_bomb(), content_type="image/png")
    site.file("/truncated.jpg", truncated_jpeg())
    site.file(
        "/html-as-jpeg",
        b"<!doctype html><html><body><img src='/photos/x.jpg'></body></html>",
        content_type="image/jpeg",
    )
    site.file("/empty", b"", content_type="text/html")
    site.route("/e500", lambda h: send(h, b"oops", status=500, content_type="text/plain"))
    site.route("/drip", drip_body)
    site.route("/oversized", oversized_undeclared)
    site.route("/gzip-bomb", encoded(gzip_bomb, "gzip"))
    site.route("/loop", lambda h: send(h, b"", status=302, headers={"Location": "/loop2"}))
    site.route("/loop2", lambda h: send(h, b"", status=302, headers={"Location": "/loop"}))
    site.route(
        "/to-canary", lambda h: send(h, b"", status=302, headers={"Location": net.refused_spellings()[1][1]})
    )
    return {
        "decompression-bomb image": (site.url("/bomb.png"), {"error"}),
        "truncated JPEG": (site.url("/truncated.jpg"), {"error"}),
        "HTML served as image/jpeg": (site.url("/html-as-jpeg"), {"error"}),
        "0-byte body": (site.url("/empty"), {"error"}),
        "404": (site.url("/nothing-here"), {"error"}),
        "500": (site.url("/e500"), {"error"}),
        "slow drip": (site.url("/drip"), {"error"}),
        "oversized body": (site.url("/oversized"), {"error"}),
        "gzip bomb": (site.url("/gzip-bomb"), {"error"}),
        "redirect loop": (site.url("/loop"), {"error"}),
        "redirect to canary": (site.url("/to-canary"), {"refused"}),
        "private address": (net.refused_spellings()[0][1], {"refused"}),
    }


def test_hostile_reported_urls_end_refused_or_error(internet: Internet) -> None:
    # Only the drip may end by the clock (its 2 s can only come sooner on a slow machine); every
    # other case has a time budget it never needs, so it ends by its own limit whatever the load.
    for label, (url, statuses) in hostile_cases(internet).items():
        timeout = 2.0 if label == "slow drip" else 120.0
        started = time.monotonic()
        outcome = scan_url(url, policy=test_policy(total_timeout=timeout, max_bytes=2 * 1024 * 1024))
        elapsed = time.monotonic() - started
        assert outcome.status in statuses, (label, outcome.status, outcome.error)
        assert outcome.error, label
        assert outcome.error_code != "timeout" or label == "slow drip", label
        assert elapsed < 45, label  # the drip lasts 60 s: it was cut off
    assert internet.canary_contacts() == 0


@pytest.mark.slow
def test_hostile_bench_bounded_time_and_memory() -> None:
    """bench/hostile_fetch.py in its own process: each case < 30 s, peak RSS < 1 GB, no canary contact."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "hostile_fetch.py"), "--json", "--total-timeout", "4"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["canary_contacts"] == 0
    assert report["peak_rss_mb"] < 1024
    hostile = [c for c in report["cases"] if not c["case"].startswith("page:")]
    assert len(hostile) >= 60
    for case in report["cases"]:
        assert case["status"] in case["expected"], case
        assert case["seconds"] < 30, case
    for case in hostile:
        assert case["status"] in ("refused", "error"), case
