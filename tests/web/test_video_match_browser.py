"""A video found by vPDQ, as a caseworker reads it: plain words first, the percentages under
"Technical details", in Korean and English, at 1280 and 390 px (issue 15 point 4)."""

from __future__ import annotations

import os

import pytest

from app.fetching.models import MediaItem
from app.matching.models import Match
from app.matching.vpdq import VpdqComparison, comparison_details
from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in
from tests.web.helpers import make_evidence


def _vpdq_evidence(case):  # type: ignore[no-untyped-def]
    reported, media, match = make_evidence(case, url="https://videos.example/watch/1")
    MediaItem.objects.filter(pk=media.pk).update(
        kind="video", mime="video/mp4", url=media.url[:-7] + "clip.mp4"
    )
    details = comparison_details(VpdqComparison(100.0, 38.5, 6, 13, 6, 5, 4.2, 1.0, 6.0))
    Match.objects.filter(pk=match.pk).update(method="vpdq", distance=4.2, details=details)
    return reported


def test_vpdq_match_details_are_labelled(client, case, owner):  # type: ignore[no-untyped-def]
    reported = _vpdq_evidence(case)
    client.force_login(owner.user)
    client.cookies["django_language"] = "ko"
    html = client.get(f"/cases/{case.pk}/urls/{reported.pk}/").content.decode()
    assert "같은 영상" in html and "같은 영상 (프레임별 비교)" in html
    assert "찾은 영상의 프레임 중 피해자 영상과 같은 비율(%)" in html and "256비트 중 4" in html
    assert "candidate percent" not in html


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_vpdq_match_reads_well_in_korean_and_english(live_server, case, owner):  # type: ignore[no-untyped-def]
    reported = _vpdq_evidence(case)
    base = live_server.url
    expected = {
        "ko": ("같은 영상", "프레임별 비교", "피해자 영상의 프레임 중 찾은 영상에 있는 비율(%)"),
        "en": (
            "Same video",
            "compared frame by frame",
            "Share of the person's video's frames in the found video (%)",
        ),
    }
    try:
        for lang, (what, method, label) in expected.items():
            for width in (1280, 390):
                with chromium_page(base, lang=lang, width=width) as page:
                    log_in(page, base, owner.user.username)
                    page.goto(f"{base}/cases/{case.pk}/urls/{reported.pk}/")
                    match = page.locator("li.match").first
                    assert what in match.locator(".conclusion .what").inner_text()
                    match.locator("details.tech summary").click()
                    tech = match.locator("details.tech").inner_text()
                    assert label in tech and method in tech and "vpdq" in tech, tech
                    # Nothing wider than the screen at 390 px.
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width + 1, (lang, width, scroll)
                    keep_screenshot(page, f"vpdq-match-{lang}-{width}")
                    if os.environ.get("JIUM_SHOTS_TMP"):
                        page.screenshot(
                            path=f"{os.environ['JIUM_SHOTS_TMP']}/vpdq-{lang}-{width}.png", full_page=True
                        )
    finally:
        close_connections()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_caseworker_uploads_a_reference_video_in_the_browser(live_server, case, owner, tmp_path):  # type: ignore[no-untyped-def]
    from app.cases.models import Reference
    from app.matching.models import VideoHash
    from tests.matching.test_videos import SCENES, _img, _video

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(_video([_img(n) for n in SCENES[:3]], fade_in=True))
    base = live_server.url
    hints = {
        "ko": "영상(MP4, WebM, MOV)도 올릴 수 있습니다",
        "en": "Videos (MP4, WebM, MOV) work too",
    }
    try:
        for lang, hint in hints.items():
            for width in (1280, 390):
                with chromium_page(base, lang=lang, width=width) as page:
                    log_in(page, base, owner.user.username)
                    page.goto(f"{base}/cases/{case.pk}/")
                    form = page.locator("#reference-form")
                    assert hint in form.inner_text()
                    assert "video/mp4" in (form.locator("input[type=file]").get_attribute("accept") or "")
                    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
                    if os.environ.get("JIUM_SHOTS_TMP"):
                        form.screenshot(path=f"{os.environ['JIUM_SHOTS_TMP']}/upload-{lang}-{width}.png")
                    if lang == "ko" and width == 1280:
                        form.locator("input[type=file]").set_input_files(str(clip))
                        with page.expect_navigation():
                            form.locator("button[type=submit]").click()
                        assert "1" in page.locator("ul.messages").inner_text()
        reference = Reference.objects.get(case=case)
        assert reference.label == "clip.mp4" and reference.pdq_quality >= 50
        assert VideoHash.objects.get(reference=reference).frames == 7  # 1 s fade + 3 scenes of 2 s
    finally:
        close_connections()
