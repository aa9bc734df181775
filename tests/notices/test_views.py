"""Access on every notice view: owner, teammate, victim, outsider (404), unknown ids (404), CSRF."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from app.notices.models import Notice, NoticeState
from app.notices.services import notice_drafts_for_case, notice_sign
from tests.web.helpers import assert_not_found_for_outsider


@pytest.fixture
def notice(matched_case, owner):  # type: ignore[no-untyped-def]
    case = matched_case(
        "https://www.reddit.com/r/x/comments/abc/",
        authorised_on=date(2026, 11, 20),
        authorisation_method="form",
    )
    [n] = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    return n


def urls_for(n: Notice) -> dict[str, tuple[str, str]]:
    c, i = n.case_id, n.pk
    return {
        "case_notices": ("get", reverse("case_notices", args=[c])),
        "case_notices_draft": ("post", reverse("case_notices_draft", args=[c])),
        "notice_detail": ("get", reverse("notice_detail", args=[c, i])),
        "notice_edit": ("post", reverse("notice_edit", args=[c, i])),
        "notice_sign": ("post", reverse("notice_sign", args=[c, i])),
        "notice_send": ("post", reverse("notice_send", args=[c, i])),
        "notice_helper": ("get", reverse("notice_helper", args=[c, i])),
        "notice_submitted": ("post", reverse("notice_submitted", args=[c, i])),
        "notice_pdf": ("get", reverse("notice_pdf", args=[c, i])),
        "notice_name_choice": ("post", reverse("notice_name_choice", args=[c, i])),
        "evidence_pdf": ("get", reverse("case_evidence", args=[c, "pdf"])),
        "evidence_zip": ("get", reverse("case_evidence", args=[c, "zip"])),
    }


STAFF_ONLY = {
    "case_notices_draft",
    "notice_edit",
    "notice_sign",
    "notice_send",
    "notice_helper",
    "notice_submitted",
    "notice_name_choice",
    "evidence_pdf",
    "evidence_zip",
}


def test_outsider_gets_404_everywhere(client, notice, outsider):
    for method, url in urls_for(notice).values():
        assert_not_found_for_outsider(client, outsider, url, method)


def test_other_orgs_notice_id_under_own_case_is_404(client, notice, owner, other_org):
    from app.cases.services import case_create

    other_case = case_create(organization=other_org, actor=None, alias="other", jurisdiction="US")
    client.force_login(owner.user)
    # Own notice id under another org's case, and own case with an unknown notice id.
    assert client.get(reverse("notice_detail", args=[other_case.pk, notice.pk])).status_code == 404
    assert client.get(reverse("notice_detail", args=[notice.case_id, 999999])).status_code == 404
    assert client.get(reverse("case_evidence", args=[notice.case_id, "exe"])).status_code == 404


def test_owner_and_teammate_can_open_every_page(client, notice, owner, teammate):
    for member in (owner, teammate):
        client.force_login(member.user)
        for name, (method, url) in urls_for(notice).items():
            if method == "get":
                response = client.get(url)
                assert response.status_code == 200, (member.user.username, name)


def test_victim_reads_but_cannot_act(client, notice, victim):
    client.force_login(victim.user)
    for name, (method, url) in urls_for(notice).items():
        response = getattr(client, method)(url, {})
        if name in STAFF_ONLY:
            assert response.status_code == 404, name
        else:
            assert response.status_code == 200, name
    body = client.get(reverse("notice_detail", args=[notice.case_id, notice.pk])).content.decode()
    assert reverse("notice_sign", args=[notice.case_id, notice.pk]) not in body


def test_anonymous_is_sent_to_login(client, notice):
    for name, (method, url) in urls_for(notice).items():
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_post_views_need_csrf(notice, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    for name, (method, url) in urls_for(notice).items():
        if method == "post":
            assert client.post(url, {"signer_name": "X", "confirm": "on"}).status_code == 403, name
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT


def test_review_edit_sign_then_submit_through_the_web(client, notice, teammate):
    client.force_login(teammate.user)
    c, i = notice.case_id, notice.pk
    client.post(
        reverse("notice_edit", args=[c, i]),
        {"statement": "Posted by an ex-partner on 3 Nov.", "regime": "take-it-down", "lang": "en"},
    )
    notice.refresh_from_db()
    assert "Posted by an ex-partner on 3 Nov." in notice.body
    # Unconfirmed reading: no signature.
    client.post(reverse("notice_sign", args=[c, i]), {"signer_name": "Bob Caseworker"})
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT
    # Submitting before signing is refused.
    client.post(reverse("notice_submitted", args=[c, i]), {})
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT
    helper = client.get(reverse("notice_helper", args=[c, i])).content.decode()
    assert "Sign the notice first" in helper
    client.post(
        reverse("notice_sign", args=[c, i]),
        {"signer_name": "Bob Caseworker", "signer_role": "Caseworker", "confirm": "on"},
    )
    notice.refresh_from_db()
    assert notice.state == NoticeState.SIGNED and notice.signed_by == teammate.user
    assert "/s/ Bob Caseworker" in notice.body
    helper = client.get(reverse("notice_helper", args=[c, i])).content.decode()
    assert "https://www.reddit.com/r/x/comments/abc/" in helper and "https://www.reddit.com/report" in helper
    # A web-form notice is never emailed.
    client.post(reverse("notice_send", args=[c, i]))
    notice.refresh_from_db()
    assert notice.state == NoticeState.SIGNED and notice.sent_at is None
    client.post(reverse("notice_submitted", args=[c, i]), {})
    notice.refresh_from_db()
    assert notice.state == NoticeState.SUBMITTED and notice.submitted_at is not None


def test_evidence_package_has_chain_of_custody_and_no_images(client, notice, owner):
    notice_sign(notice=notice, actor=owner.user, signer_name="Alice Admin")
    client.force_login(owner.user)
    response = client.get(reverse("case_evidence", args=[notice.case_id, "zip"]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "case.json",
        "evidence.pdf",
        "manifest.json",
        "notices.json",
        "urls.json",
    ]
    urls = json.loads(archive.read("urls.json"))
    assert urls[0]["fetches"][0]["sha256"] and urls[0]["fetches"][0]["redirect_chain"]
    assert urls[0]["matches"][0]["method"] == "pdq" and urls[0]["matches"][0]["distance"] == 6.0
    notices = json.loads(archive.read("notices.json"))
    assert notices[0]["state"] == "signed" and notices[0]["pdf_sha256"]
    assert not any(name.lower().endswith((".jpg", ".jpeg", ".png", ".webp")) for name in archive.namelist())
    assert b"/Subtype /Image" not in archive.read("evidence.pdf")


def test_caseworker_gives_the_address_when_none_was_found(client, matched_case, owner, teammate, settings):
    settings.RDAP_BASE_URL = "http://127.0.0.1:9/"  # nothing listens: no abuse contact is found
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    case = matched_case(
        "https://tiny-forum.example/t/1", authorised_on=date(2026, 11, 20), authorisation_method="form"
    )
    drafts = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    notice = next(d for d in drafts if d.channel_kind == "email")
    assert notice.channel_address == ""
    client.force_login(teammate.user)
    detail = reverse("notice_detail", args=[case.pk, notice.pk])
    assert "No address to write to was found" in client.get(detail).content.decode()
    client.post(
        reverse("notice_edit", args=[case.pk, notice.pk]),
        {"statement": "", "regime": notice.regime, "lang": "en", "channel_address": "not an address"},
    )
    notice.refresh_from_db()
    assert notice.channel_address == ""
    client.post(
        reverse("notice_edit", args=[case.pk, notice.pk]),
        {
            "statement": "",
            "regime": notice.regime,
            "lang": "en",
            "channel_address": "abuse@tiny-forum.example",
        },
    )
    notice.refresh_from_db()
    assert notice.channel_address == "abuse@tiny-forum.example" and notice.channel_confirmed


def test_web_form_notices_have_no_address_field(client, notice, teammate):
    client.force_login(teammate.user)
    body = client.get(reverse("notice_detail", args=[notice.case_id, notice.pk])).content.decode()
    assert notice.channel_kind == "web_form"
    assert 'name="channel_address"' not in body


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(document.cookie)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
     "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example/form", "https:alert(1)"],
)  # fmt: skip
def test_submit_helper_links_only_web_and_mail_addresses(client, notice, owner, address):
    notice_sign(notice=notice, actor=owner.user, signer_name="Alice Admin")
    client.force_login(owner.user)
    url = reverse("notice_helper", args=[notice.case_id, notice.pk])
    Notice.objects.filter(pk=notice.pk).update(channel_address=address)
    page = client.get(url).content.decode()
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert not [
        h
        for h in hrefs
        if "alert" in h or "evil" in h or h.lower().lstrip().startswith(("java", "data", "vb"))
    ]
    for good in ("https://www.reddit.com/report", "mailto:abuse@example.org"):
        Notice.objects.filter(pk=notice.pk).update(channel_address=good)
        assert f'href="{good}"' in client.get(url).content.decode()


def test_the_real_name_in_the_submit_helper_is_logged(client, matched_case, owner, teammate):
    case = matched_case("https://www.reddit.com/r/x/comments/abc/", authorised_on=date(2026, 11, 20), authorisation_method="form")  # fmt: skip
    [n] = notice_drafts_for_case(case=case, actor=owner.user, lang="ko", regime="kr", with_pdf=False)
    notice_sign(notice=n, actor=owner.user, signer_name="Alice Admin")
    client.force_login(teammate.user)
    page = client.get(reverse("notice_helper", args=[case.pk, n.pk])).content.decode()
    from app.accounts.models import AuditEvent

    shown = "김지은" in page
    events = AuditEvent.objects.filter(action="notice.identity_view", object_id=n.pk, actor=teammate.user)
    assert shown and events.count() == 1
