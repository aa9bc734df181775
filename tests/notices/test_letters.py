"""Issue 11.4 (and 11.3 for DC Inside): letters say what they mean, once, in plain words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.fetching.extract import page_title
from app.fetching.models import FetchRecord
from app.notices.drafting import recipient_for, url_evidence
from app.notices.services import notice_drafts_for_case, notice_edit, notice_sign
from app.platforms.models import ChannelKind, Platform


@pytest.mark.parametrize(
    ("lang", "authorisation"),
    [
        ("en", "(authorisation dated 2026-11-20; how it was given: Recorded phone call)"),
        ("ko", "(위임일: 2026-11-20, 위임 방법: Recorded phone call)"),
    ],
)
def test_authorisation_and_person_lines_do_not_contradict_or_repeat(matched_case, owner, lang, authorisation):
    case = matched_case(
        "https://www.reddit.com/r/x/comments/abc/",
        authorised_on=date(2026, 11, 20), authorisation_method="Recorded phone call",
    )  # fmt: skip
    [n] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang=lang, with_pdf=False
    )
    n = notice_edit(notice=n, actor=owner.user, lang=lang)
    signed = notice_sign(notice=n, actor=owner.user, signer_name="Alice Admin")
    assert authorisation in signed.body
    assert "written authorisation" not in signed.body and "given by Recorded" not in signed.body
    assert "Person depicted: the person depicted" not in signed.body


@pytest.mark.parametrize(
    ("lang", "asks", "never"),
    [
        ("en", "from your search results", ["delete or block", "Please remove the depiction"]),
        ("ko", "검색 결과에서 삭제", ["삭제 또는 접속차단", "접속을 차단"]),
    ],
)
def test_search_engine_gets_its_own_delisting_letter(matched_case, owner, lang, asks, never):
    case = matched_case("https://www.google.com/search?q=someone", authorised_on=date(2026, 11, 20))
    [n] = notice_drafts_for_case(case=case, actor=owner.user, regime="kr", lang=lang, with_pdf=False)
    n = notice_edit(notice=n, actor=owner.user, lang=lang)
    assert n.platform.slug == "google-search"
    text = n.subject + "\n" + n.body
    assert asks in text
    for phrase in never:
        assert phrase not in text


@pytest.mark.parametrize(("lang", "label"), [("en", "Page title: "), ("ko", "게시물 제목: ")])
def test_page_titles_are_picked_up(matched_case, owner, lang, label):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    FetchRecord.objects.filter(reported_url__case=case).update(page_title=b"")
    record = FetchRecord.objects.get(reported_url__case=case)
    record.page_title = "A post about a holiday"
    record.save(update_fields=["page_title"])
    [n] = notice_drafts_for_case(case=case, actor=owner.user, regime="kr", lang=lang, with_pdf=False)
    n = notice_edit(notice=n, actor=owner.user, lang=lang)
    assert f"{label}A post about a holiday" in n.body
    assert "확인되지 않음" not in n.body and "not known (identified by URL)" not in n.body


def test_title_extraction_prefers_og_title():
    html = (
        b"<html><head><title>Forum | A post</title><meta property='og:title' content='A post'></head></html>"
    )
    assert page_title(html) == "A post"
    assert page_title(b"<title>\n  Only   a title </title><p>x</p>") == "Only a title"
    assert page_title(b"<p>no title</p>") == ""


@pytest.mark.parametrize(("lang", "plain"), [("en", "Same photo (Certain;"), ("ko", "같은 사진 — 확실함")])
def test_letters_say_in_plain_words_how_the_copy_was_identified(matched_case, owner, lang, plain):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    [n] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang=lang, with_pdf=False
    )
    n = notice_edit(notice=n, actor=owner.user, lang=lang)
    assert plain in n.body
    for internal in ("distance", "거리", "pdq", "orb-", "similarity"):
        assert internal not in n.body


def test_dc_inside_notices_name_its_real_channel_not_an_empty_email(matched_case):
    dc = Platform.objects.get(slug="dcinside")
    assert dc.channels.exists()
    case = matched_case("https://gall.dcinside.com/board/view/?id=x&no=1")
    recipient, platform = recipient_for(
        url_evidence(case.urls.get()), case=case, regime_override="auto", preferred_lang="ko", policy=None
    )
    assert platform == dc
    assert recipient.channel_address and recipient.channel_kind != ChannelKind.EMAIL


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_submit_helper_speaks_the_readers_language(client, matched_case, owner, lang):
    from django.urls import reverse

    case = matched_case("https://gall.dcinside.com/board/view/?id=x&no=1", authorised_on=date(2026, 11, 20))
    [n] = notice_drafts_for_case(case=case, actor=owner.user, lang="ko", with_pdf=False)
    assert n.lang == "ko" and n.channel_kind == ChannelKind.IN_APP
    notice_sign(notice=n, actor=owner.user, signer_name="Alice Admin")
    channel = Platform.objects.get(slug="dcinside").channels.get()
    client.force_login(owner.user)
    url = reverse("notice_helper", args=[case.pk, n.pk])
    client.post(reverse("set_language"), {"language": lang, "next": url})
    page = client.get(url).content.decode()
    mine, other = (
        (channel.instructions_en, channel.instructions_ko)
        if lang == "en"
        else (channel.instructions_ko, channel.instructions_en)
    )
    assert mine[:25] in page and other[:25] not in page


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_letter_times_are_in_the_organisations_zone_in_both_languages(matched_case, owner, lang):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    assert case.organization.time_zone == "Asia/Seoul"
    [n] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang=lang, with_pdf=False
    )
    n = notice_edit(notice=n, actor=owner.user, lang=lang)
    assert "2026-11-26 17:00 KST" in n.body and "UTC" not in n.body  # checked 08:00 UTC


def test_a_file_found_again_by_a_re_check_is_named_once(matched_case, owner):
    """A re-check fetches the same image again and records a second match; the letter lists it once."""
    from app.cases.models import ReportedUrl
    from app.fetching.models import MediaItem
    from app.matching.models import Match

    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20))
    reported = ReportedUrl.objects.get(case=case)
    first = Match.objects.get(reported_url=reported)
    again = FetchRecord.objects.create(
        reported_url=reported,
        requested_url=reported.normalized_url,
        redirect_chain=[reported.normalized_url],
        final_url=reported.normalized_url,
        http_status=200,
        fetched_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        size=1234,
        status="ok",
        purpose="scan",
    )
    media = MediaItem.objects.create(
        fetch=again, url=first.media_item.url, kind="image", mime="image/jpeg", sha256=first.media_item.sha256
    )
    Match.objects.create(
        reported_url=reported,
        media_item=media,
        reference=first.reference,
        method="pdq",
        distance=4.0,
        details={},
    )
    [n] = notice_drafts_for_case(
        case=case, actor=owner.user, regime="take-it-down", lang="en", with_pdf=False
    )
    assert n.body.count(first.media_item.sha256) == 1
