"""Routing a minor's case: hotlines from directory data on the case page and in the evidence package."""

from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse

from app.cases.models import HotlineReport
from app.cases.services import case_set_age_group
from app.notices.evidence import evidence_pdf, evidence_zip
from app.platforms.models import Hotline
from tests.notices.conftest import pdf_text, squash
from tests.web.helpers import status_for


def test_adult_case_shows_no_routing(client, case, owner, directory):  # type: ignore[no-untyped-def]
    client.force_login(owner.user)
    assert 'id="routing"' not in client.get(reverse("case_detail", args=[case.pk])).content.decode()


def test_minor_case_page_lists_the_countrys_hotlines_from_directory_data(
    client, case, owner, victim, directory
):  # type: ignore[no-untyped-def]
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    # An NGO's correction in the directory shows up at once: the contacts are data, not template text.
    Hotline.objects.filter(slug="kr-d4u").update(url_or_phone="https://d4u.example.kr 02-000-0000")
    client.force_login(owner.user)
    body = client.get(reverse("case_detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'id="routing"' in body
    for slug in ("kr-d4u", "kr-1366", "kr-police"):
        assert f'data-slug="{slug}"' in body
    assert "https://d4u.example.kr" in body and "02-735-8994" not in body
    assert 'data-slug="us-cybertipline"' not in body
    assert 'name="reported_at"' in body
    # The young person sees the same places, in plain words, without the caseworker's record form.
    client.force_login(victim.user)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'data-slug="kr-d4u"' in body and 'name="reported_at"' not in body


def test_other_countries_fall_back_to_inhope(client, case, owner, directory):  # type: ignore[no-untyped-def]
    case.jurisdiction = "other"
    case.save()
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    client.force_login(owner.user)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'data-slug="inhope"' in body


def test_recording_a_report_and_the_evidence_package(
    client, case, owner, teammate, outsider, victim, directory, tmp_path
):  # type: ignore[no-untyped-def]
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    d4u = Hotline.objects.get(slug="kr-d4u")
    url = reverse("case_hotline_report", args=[case.pk])
    data = {"hotline": d4u.pk, "reported_at": "2026-12-01T10:30", "reference": "D4U-2026-77"}
    for member in (outsider, victim):
        assert status_for(client, member, url, "post", data) == 404
    assert (
        status_for(client, teammate, url, "post", {**data, "hotline": Hotline.objects.get(slug="uk-iwf").pk})
        == 302
    )
    assert not HotlineReport.objects.exists()  # not one of this case's places
    assert status_for(client, teammate, url, "post", data) == 302
    report = HotlineReport.objects.get()
    assert (report.hotline, report.reference, report.recorded_by) == (d4u, "D4U-2026-77", teammate.user)
    client.force_login(teammate.user)
    assert "D4U-2026-77" in client.get(reverse("case_detail", args=[case.pk])).content.decode()

    with zipfile.ZipFile(io.BytesIO(evidence_zip(case=case))) as zf:
        routing = json.loads(zf.read("routing.json"))
    first = routing[0]
    assert set(first) >= {"name", "url_or_phone", "country", "verified_on", "source", "reported"}
    assert first["reported"][0]["reference"] == "D4U-2026-77" and first["verified_on"]
    text = squash(pdf_text(evidence_pdf(case=case, lang="ko"), tmp_path))
    assert squash("중앙디지털성범죄피해자지원센터") in text and "D4U-2026-77" in text
