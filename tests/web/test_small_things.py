"""The smaller things a shared screen shows (issue 11.12)."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import REPO
from tests.web.helpers import make_evidence


def test_favicon_is_served(client, owner):
    for logged_in in (False, True):
        if logged_in:
            client.force_login(owner.user)
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/x-icon"
        assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'rel="icon"' in client.get(reverse("case_list")).content.decode()


def _messages(response) -> str:
    html = response.content.decode()
    start = html.find('class="messages"')
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def test_adding_links_says_what_happened(client, case, owner):
    client.force_login(owner.user)
    url = reverse("case_urls_add", args=[case.pk])
    client.cookies["django_language"] = "en"
    one = _messages(client.post(url, {"urls": "https://pics.example/a/1"}, follow=True))
    assert "1 link added" in one and "addresses" not in one
    again = _messages(client.post(url, {"urls": "https://pics.example/a/1"}, follow=True))
    assert "1 link was already on this case" in again and "added" not in again
    client.cookies["django_language"] = "ko"
    nothing = _messages(client.post(url, {"urls": "not a link at all"}, follow=True))
    assert "추가된 링크가 없습니다" in nothing
    assert "0개를 추가" not in nothing and 'class="success"' not in nothing
    two = _messages(
        client.post(url, {"urls": "https://pics.example/b/1\nhttps://pics.example/b/2"}, follow=True)
    )
    assert "링크 2개를 추가했습니다" in two


def test_a_failed_link_page_says_what_to_do(client, case, owner):
    from app.cases.models import UrlState

    reported, _media, _match = make_evidence(case)
    reported.state = UrlState.FAILED
    reported.save(update_fields=["state"])
    client.force_login(owner.user)
    page = reverse("case_url_detail", args=[case.pk, reported.pk])
    for lang, words in (("en", "What you can do"), ("ko", "이렇게 해 보세요")):
        client.cookies["django_language"] = lang
        html = client.get(page).content.decode()
        assert words in html and reverse("case_urls_retry", args=[case.pk]) in html, lang


def test_slow_buttons_say_work_is_under_way(client, case, owner):
    from tests.tracking.helpers import seed_notice

    seed_notice(case, platform="Alpha", regime="kr", status="sent", n=1)
    client.force_login(owner.user)
    for lang, words in (("en", "Checking the links…"), ("ko", "링크를 확인하고 있습니다…")):
        client.cookies["django_language"] = lang
        html = client.get(reverse("tracking_case", args=[case.pk])).content.decode()
        assert f'data-busy="{words}' in html, lang
    script = (REPO / "static" / "jium.js").read_text()
    assert "form[data-busy]" in script
