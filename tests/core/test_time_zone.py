"""One clock per organisation: readers in Korean and in English see the same absolute times."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from app.accounts.models import Role
from app.accounts.services import member_create, organization_create
from app.cases.services import case_create
from tests.conftest import PASSWORD
from tests.web.helpers import make_evidence


def _page(client, user, url: str, lang: str) -> str:
    client.force_login(user)
    client.cookies["django_language"] = lang
    html = client.get(url).content.decode()
    client.logout()
    return html


def test_korean_and_english_colleagues_see_one_time(client, case, owner, teammate):
    reported, _media, _match = make_evidence(case)
    record = reported.fetches.get()
    record.fetched_at = datetime(2025, 5, 1, 23, 30, tzinfo=UTC)
    record.save()
    url = reverse("case_url_detail", args=[case.pk, reported.pk])
    korean = _page(client, owner.user, url, "ko")
    english = _page(client, teammate.user, url, "en")
    # 23:30 UTC is 08:30 the next morning in Seoul, for both of them.
    assert "KST" in korean and "KST" in english
    assert "2025. 5. 2." in korean and "May 2, 2025" in english
    assert "UTC" not in english


def test_an_organisation_elsewhere_sees_its_own_zone(client, db):
    org = organization_create(name="London Helpline", country="GB")
    assert org.time_zone == "Europe/London"
    member = member_create(organization=org, username="lon", password=PASSWORD, role=Role.ADMIN)
    case = case_create(
        organization=org, actor=member.user, alias="Case Oak", jurisdiction="UK", language="en"
    )
    reported, _media, _match = make_evidence(case)
    record = reported.fetches.get()
    record.fetched_at = datetime(2025, 5, 1, 23, 30, tzinfo=UTC)
    record.save()
    url = reverse("case_url_detail", args=[case.pk, reported.pk])
    for lang in ("en", "ko"):
        html = _page(client, member.user, url, lang)
        assert "BST" in html and "KST" not in html, lang
