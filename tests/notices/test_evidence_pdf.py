"""Issue 11.7: the evidence PDF speaks the reader's language throughout, names its time zone, and
never splits a row of evidence over a page break."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime

import pytest

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import url_key
from app.fetching.models import FetchRecord
from app.notices.evidence import evidence_pdf
from app.notices.services import notice_drafts_for_case, notice_sign
from tests.notices.conftest import squash


def _pages(data: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "e.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    )
    return [squash(page) for page in text.stdout.split("\f")]


@pytest.fixture
def evidence_case(matched_case, owner):  # type: ignore[no-untyped-def]
    case = matched_case(
        "https://www.reddit.com/r/x/comments/abc/", "https://x.com/u/status/1",
        authorised_on=date(2026, 11, 20), authorisation_method="letter",
    )  # fmt: skip
    failed = ReportedUrl.objects.create(
        case=case, url="https://gone.example/p", normalized_url="https://gone.example/p",
        url_key=url_key("https://gone.example/p"), host="gone.example", state=UrlState.FAILED,
        error="The site could not be reached.",
    )  # fmt: skip
    FetchRecord.objects.create(
        reported_url=failed, requested_url=failed.url, redirect_chain=[failed.url], fetched_at=datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC),
        status="error", error="The site could not be reached.", error_code="connect",
    )  # fmt: skip
    for notice in notice_drafts_for_case(case=case, actor=owner.user, lang="ko", with_pdf=False)[:1]:
        notice_sign(notice=notice, actor=owner.user, signer_name="Alice Admin")
    return case


ENGLISH_LEFTOVERS = ["matched", "no_match", "failed", "Thesitecouldnotbereached", "kr/ko", "email:", "web_form:",
                     "signed", "draft", "ref1", "+00:00", ".123456", "T08:00"]  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "must", "never"),
    [
        ("ko", ["사이트에접속하지못했습니다", "2026.11.26.17:00:00(KST,Asia/Seoul)", "기준이미지1번", "같은사진"], ENGLISH_LEFTOVERS),
        ("en", ["Thesitecouldnotbereached.", "26Nov2026,17:00:00(KST,Asia/Seoul)", "referenceimageno.1", "Samephoto",
                "Couldnotcheck", "Foundamatch"], ["no_match", "web_form:", "kr/ko", "+00:00", ".123456", "T08:00", "ref1"]),
    ],
)  # fmt: skip
def test_evidence_pdf_every_word_translated_and_times_in_the_org_zone(
    evidence_case, tmp_path, lang, must, never
):
    assert evidence_case.organization.time_zone == "Asia/Seoul"
    text = "".join(_pages(evidence_pdf(case=evidence_case, lang=lang), tmp_path))
    for phrase in must:
        assert phrase in text, phrase
    for phrase in never:
        assert phrase not in text, phrase


def test_evidence_rows_are_never_split_over_a_page(matched_case, tmp_path):
    urls = [f"https://www.reddit.com/r/x/comments/row{n:02d}/" for n in range(36)]
    case = matched_case(*urls)
    for record in FetchRecord.objects.filter(reported_url__case=case):
        # Long redirect chains make the rows tall, so some row always meets a page boundary.
        record.redirect_chain = [f"https://redirect.example/{record.pk}/{hop}" for hop in range(3)] + [
            record.final_url
        ]
        record.save(update_fields=["redirect_chain"])
    pages = _pages(evidence_pdf(case=case, lang="en"), tmp_path)
    assert len([p for p in pages if p]) >= 3
    for reported in case.urls.all():
        sha = reported.matches.get().media_item.sha256
        first = [i for i, page in enumerate(pages) if reported.normalized_url.rstrip("/") in page]
        last = [i for i, page in enumerate(pages) if sha in page]
        assert first and last and first[0] == last[-1], (reported.url, first, last)
