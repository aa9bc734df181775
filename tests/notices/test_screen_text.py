"""What the notice pages say (issue 11.12): sign-again only after a signature, empty states, busy text."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from app.notices.services import notice_drafts_for_case


def _messages(response) -> str:
    html = response.content.decode()
    start = html.find('class="messages"')
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def test_sign_again_only_after_a_signature(client, matched_case, owner):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    [notice] = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    client.force_login(owner.user)
    edit = reverse("notice_edit", args=[case.pk, notice.pk])
    form = {"statement": "Posted on 3 Nov.", "regime": notice.regime, "lang": "en"}
    for lang, sign_again in (("en", "signed again"), ("ko", "다시 서명해야")):
        client.cookies["django_language"] = lang
        shown = _messages(client.post(edit, form, follow=True))
        assert sign_again not in shown, lang
        assert "Saved." in shown or "저장했습니다" in shown, lang
    notice.refresh_from_db()
    notice.signed_at = notice.created_at  # as notice_sign leaves it
    notice.signer_name = "Alice"
    notice.state = "signed"
    notice.save(update_fields=["signed_at", "signer_name", "state"])
    client.cookies["django_language"] = "ko"
    assert "다시 서명해야" in _messages(client.post(edit, form, follow=True))


def test_empty_notice_list_says_what_to_do_when_matches_exist(client, matched_case, owner):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    client.force_login(owner.user)
    for lang, words, busy in (
        ("en", "1 link shows the person's images", "Drafting the notices…"),
        ("ko", "이미지가 있는 링크가 1개 있습니다", "요청서 초안을 만들고 있습니다…"),
    ):
        client.cookies["django_language"] = lang
        html = client.get(reverse("case_notices", args=[case.pk])).content.decode()
        assert words in html and "once links are found" not in html, lang
        assert f'data-busy="{busy}' in html, lang
