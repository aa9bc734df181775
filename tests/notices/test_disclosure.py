"""Issue 11.1: nothing about the person leaves Jium by default, and the review page says what does."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from app.notices.models import NoticeState
from app.notices.services import (
    NoticeError,
    case_notice_name_set,
    notice_drafts_for_case,
    notice_edit,
    notice_sign,
    submit_helper_fields,
)

PERSON = "김지은"
PERSON_CONTACT = "Kim Jieun, 010-1234-5678, jieun@example.org"
URL = "https://www.reddit.com/r/x/comments/abc/"


@pytest.fixture
def quick_start_notice(matched_case, owner):  # type: ignore[no-untyped-def]
    """The quick-start default: the organisation has no reply address."""
    case = matched_case(
        URL, real_name=PERSON, contact=PERSON_CONTACT, org_reply="",
        authorised_on=date(2026, 11, 20), authorisation_method="signed consent form",
    )  # fmt: skip
    [n] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang="en", with_pdf=False
    )
    return n


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_person_contact_never_in_notice_and_signing_blocked_without_reply_address(
    quick_start_notice, owner, lang
):
    notice = notice_edit(notice=quick_start_notice, actor=owner.user, lang=lang)
    for text in (notice.body, *[v for _l, v in submit_helper_fields(notice=notice)]):
        assert "010-1234-5678" not in text and "jieun@example.org" not in text
    with translation.override("en"), pytest.raises(NoticeError, match="reply"):
        notice_sign(notice=notice, actor=owner.user, signer_name="Alice Admin")
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT
    # A caseworker-chosen address makes it signable, and it is what the notice gives.
    notice = notice_edit(notice=notice, actor=owner.user, contact_email="cases@alpha.example")
    signed = notice_sign(notice=notice, actor=owner.user, signer_name="Alice Admin")
    assert "cases@alpha.example" in signed.body and "jieun@example.org" not in signed.body


def test_person_contact_only_when_chosen_explicitly(quick_start_notice, owner):
    notice = notice_edit(notice=quick_start_notice, actor=owner.user, use_person_contact=True)
    assert notice.contact_source == "person" and "jieun@example.org" in notice.body
    assert "010-1234-5678" not in notice.body  # only the email address, never the rest


@pytest.mark.parametrize(
    ("lang", "named", "not_named"),
    [
        ("en", "Person depicted: 김지은", "not named here"),
        ("ko", "가. 피해자: 김지은", "개인정보 보호를 위해 적지 않음"),
    ],
)
def test_name_only_where_the_law_requires_it_unless_the_case_chooses(
    matched_case, owner, lang, named, not_named
):
    case = matched_case(URL, real_name=PERSON, authorised_on=date(2026, 11, 20))
    [tid] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang=lang, with_pdf=False
    )
    tid = notice_edit(notice=tid, actor=owner.user, lang=lang)
    assert PERSON not in tid.body and not_named in tid.body  # TAKE IT DOWN: the name is not required
    kr = notice_edit(notice=tid, actor=owner.user, regime="kr")
    assert named in kr.body  # the Korean request form asks for the victim
    case_notice_name_set(case=case, actor=owner.user, choice="omit")
    kr.refresh_from_db()
    assert PERSON not in kr.body
    case_notice_name_set(case=case, actor=owner.user, choice="include")
    tid = notice_edit(notice=kr, actor=owner.user, regime="take-it-down")
    assert named in tid.body
    from app.accounts.models import AuditEvent

    assert AuditEvent.objects.filter(action="case.notice_name", case_id=case.pk).count() == 2


@pytest.mark.parametrize(
    ("lang", "missing", "name_out", "settings_link"),
    [
        (
            "en",
            "This notice needs an address for replies",
            "Not included.",
            "Set your organisation's reply address",
        ),
        ("ko", "회신받을 주소가 필요합니다", "포함하지 않습니다", "설정에서 기관의 회신 주소"),
    ],
)
def test_review_page_explains_and_shows_disclosure(
    client, quick_start_notice, owner, lang, missing, name_out, settings_link
):
    client.force_login(owner.user)
    url = reverse("notice_detail", args=[quick_start_notice.case_id, quick_start_notice.pk])
    client.post(reverse("set_language"), {"language": lang, "next": url})
    page = client.get(url).content.decode()
    assert missing in page and name_out in page and settings_link in page
    assert reverse("organization_settings") in page
    assert "010-1234-5678" not in page.split('class="card disclosure"')[1].split("</section>")[0]
    # Signing through the page is refused with the reason.
    response = client.post(
        reverse("notice_sign", args=[quick_start_notice.case_id, quick_start_notice.pk]),
        {"signer_name": "Alice Admin", "confirm": "on"},
        follow=True,
    )
    quick_start_notice.refresh_from_db()
    assert quick_start_notice.state == NoticeState.DRAFT
    assert missing.split()[0] in response.content.decode() or "회신" in response.content.decode()


def test_takedown_contact_email_is_the_contact_element(matched_case):
    case = matched_case(URL, real_name=PERSON, contact="someone-else@example.org", org_reply="")
    [n] = notice_drafts_for_case(
        case=case,
        actor=None,
        regime="take-it-down",
        lang="en",
        with_pdf=False,
        contact_email="cli@ngo.example",
    )
    assert "Email: cli@ngo.example" in n.body and "someone-else@example.org" not in n.body
