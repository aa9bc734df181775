"""Link rows and the case page point staff to possible deepfakes (face matches) waiting for a check."""

from __future__ import annotations

import pytest
from django.urls import reverse

from app.faces.models import FaceMatchState
from app.faces.services import face_match_decide
from tests.faces.helpers import consent
from tests.faces.test_pipeline import _face_only_url
from tests.web.browser import chromium_page, close_connections, keep_screenshot, log_in
from tests.web.helpers import make_evidence

PENDING_ONE = "Possible deepfake: 1 face to check"


@pytest.fixture
def two_links(case, owner):  # type: ignore[no-untyped-def]
    """One link with an image match, one with a possible deepfake only."""
    make_evidence(case, url="https://pics.example/p/1")
    consent(case, owner.user)
    return _face_only_url(case, "https://x.com/someone/status/1")


def _page(client, who, case, query: str = "", lang: str = "en") -> str:  # type: ignore[no-untyped-def]
    client.force_login(who.user)
    client.cookies["django_language"] = lang
    return client.get(reverse("case_detail", args=[case.pk]) + query).content.decode()


@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_staff_see_which_links_have_faces_to_check(client, case, two_links, who, request) -> None:  # type: ignore[no-untyped-def]
    member = request.getfixturevalue(who)
    page = _page(client, member, case)
    assert page.count(PENDING_ONE) == 1 and 'class="face-to-check"' in page
    assert 'id="faces-to-check"' in page and "1 link may show a deepfake" in page
    assert reverse("faces_page", args=[case.pk]) + "#face-matches" in page
    # The filter lists only the link with a face to check; the live rows say the same.
    filtered = _page(client, member, case, "?state=faces")
    assert "x.com/someone" in filtered and "pics.example" not in filtered
    rows = client.get(reverse("case_url_rows", args=[case.pk]) + "?state=faces").content.decode()
    assert PENDING_ONE in rows and "pics.example" not in rows
    detail = client.get(
        reverse("case_url_detail", args=[case.pk, two_links.reported_url_id])
    ).content.decode()
    assert 'id="url-faces"' in detail and "waiting for a person to check it" in detail


def test_korean_words_and_counts(client, case, owner, two_links) -> None:  # type: ignore[no-untyped-def]
    from app.faces.models import FaceMatch
    from app.fetching.models import MediaItem

    # A second face on the same link: the row counts both.
    media = MediaItem.objects.create(
        fetch=two_links.media_item.fetch, url="https://x.com/b.jpg", kind="image", sha256="ab" * 32
    )
    FaceMatch.objects.create(
        reported_url=two_links.reported_url, media_item=media, face=two_links.face, distance=0.44
    )
    page = _page(client, owner, case, lang="ko")
    assert "딥페이크 의심: 확인할 얼굴 2개" in page
    assert "링크 1개에 당사자 얼굴로 만든 딥페이크가 있을 수 있습니다." in page
    assert "확인할 딥페이크 의심" in page  # the filter
    english = _page(client, owner, case)
    assert "Possible deepfake: 2 faces to check" in english and "2 faces are waiting" in english


def test_victim_account_never_sees_unconfirmed_face_matches(client, case, victim, two_links) -> None:  # type: ignore[no-untyped-def]
    page = _page(client, victim, case)
    assert "Possible deepfake" not in page and 'id="faces-to-check"' not in page
    assert "face-filter" not in page
    # The staff-only filter does nothing for the person: all their links, as without it.
    filtered = _page(client, victim, case, "?state=faces")
    assert "pics.example" in filtered and "x.com/someone" in filtered
    rows = client.get(reverse("case_url_rows", args=[case.pk])).content.decode()
    assert "Possible deepfake" not in rows
    detail = client.get(
        reverse("case_url_detail", args=[case.pk, two_links.reported_url_id])
    ).content.decode()
    assert 'id="url-faces"' not in detail


def test_outsider_gets_nothing(client, case, outsider, two_links) -> None:  # type: ignore[no-untyped-def]
    client.force_login(outsider.user)
    assert client.get(reverse("case_detail", args=[case.pk]) + "?state=faces").status_code == 404
    assert client.get(reverse("case_url_rows", args=[case.pk]) + "?state=faces").status_code == 404


def test_confirmed_face_match_reads_as_a_deepfake_for_everyone(
    client, case, owner, victim, two_links
) -> None:  # type: ignore[no-untyped-def]
    face_match_decide(face_match=two_links, actor=owner.user, confirm=True)
    assert two_links.state == FaceMatchState.CONFIRMED
    for who in (owner, victim):
        page = _page(client, who, case)
        assert "Deepfake made with the person's face (1 picture)" in page
        assert PENDING_ONE not in page and 'id="faces-to-check"' not in page
        detail = client.get(
            reverse("case_url_detail", args=[case.pk, two_links.reported_url_id])
        ).content.decode()
        assert 'id="url-faces"' in detail and "confirmed to show the person" in detail
    # Rejected: nothing face-related is left on the row.
    face_match_decide(face_match=two_links, actor=owner.user, confirm=False)
    page = _page(client, owner, case)
    assert "Deepfake made with" not in page and "Possible deepfake" not in page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_link_rows_in_the_browser(live_server, case, owner, two_links, lang) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    try:
        for width in (1280, 390):
            with chromium_page(base, lang=lang, width=width, height=900) as page:
                log_in(page, base, owner.user.username)
                page.goto(f"{base}/cases/{case.pk}/")
                note = page.locator("#faces-to-check")
                assert note.is_visible()
                row = page.locator(f"tr[data-url-id='{two_links.reported_url_id}'] .face-to-check")
                assert row.is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.locator("#links").scroll_into_view_if_needed()
                keep_screenshot(page, f"link-rows-faces-{lang}-{width}")
                page.goto(f"{base}/cases/{case.pk}/urls/{two_links.reported_url_id}/")
                assert page.locator("#url-faces").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                keep_screenshot(page, f"link-detail-faces-{lang}-{width}")
                page.goto(f"{base}/cases/{case.pk}/")
                page.click("#review-faces")
                page.wait_for_url(f"**/cases/{case.pk}/faces/**")
                assert page.locator(f"#face-match-{two_links.pk}").is_visible()
    finally:
        close_connections()
