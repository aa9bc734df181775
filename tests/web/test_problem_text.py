"""Why a link could not be checked is shown in the reader's language, not as the stored English reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.conftest import REPO

ENGLISH_REASON = "The site took too long to answer (no reply within 20 s)."
KOREAN_TEXT = "사이트 응답이 너무 늦습니다."


@pytest.fixture
def failed_url(case):
    from app.cases.models import ReportedUrl, UrlState
    from app.cases.services import url_key
    from app.fetching.models import FetchRecord, FetchStatus

    url = "https://slow.example/p/1"
    reported = ReportedUrl.objects.create(
        case=case,
        url=url,
        normalized_url=url,
        url_key=url_key(url),
        host="slow.example",
        state=UrlState.FAILED,
        error=ENGLISH_REASON,
        last_scanned_at=datetime.now(UTC),
    )
    FetchRecord.objects.create(
        reported_url=reported,
        requested_url=url,
        fetched_at=datetime.now(UTC),
        status=FetchStatus.ERROR,
        error=ENGLISH_REASON,
        error_code="timeout",
    )
    return reported


@pytest.fixture
def korean(client, korean_catalogue):
    def switch(url: str) -> None:
        client.post(reverse("set_language"), {"language": "ko", "next": url})

    return switch


@pytest.fixture
def korean_catalogue():
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = REPO / "locale" / "ko" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["ko"], verbosity=0)
        trans_real._translations = {}
        trans_real._default = None


def test_failed_link_in_english_keeps_the_specific_reason(client, owner, case, failed_url):
    client.force_login(owner.user)
    rows = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    detail = client.get(reverse("case_url_detail", args=[case.pk, failed_url.pk])).content.decode()
    assert ENGLISH_REASON in rows
    assert detail.count(ENGLISH_REASON) == 2  # the summary and the evidence of the visit


def test_failed_link_in_korean_is_explained_in_korean(client, owner, case, failed_url, korean):
    client.force_login(owner.user)
    detail_url = reverse("case_url_detail", args=[case.pk, failed_url.pk])
    korean(detail_url)
    rows = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    detail = client.get(detail_url).content.decode()
    assert KOREAN_TEXT in rows and ENGLISH_REASON not in rows
    assert detail.count(KOREAN_TEXT) == 2 and ENGLISH_REASON not in detail
