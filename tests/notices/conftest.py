from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from app.cases.models import Case, Reference, ReportedUrl, UrlState
from app.cases.services import url_key
from app.fetching.models import FetchRecord, MediaItem
from app.lib.urls import normalize_url, url_host
from app.matching.models import Match


def add_matched_url(
    case: Case, url: str, *, ip: str = "198.51.100.20", chain: list[str] | None = None
) -> ReportedUrl:
    """A URL as the scan leaves it after finding a match: fetch evidence, media item, match."""
    normalized = normalize_url(url)
    reported = ReportedUrl.objects.create(
        case=case,
        url=url,
        normalized_url=normalized,
        url_key=url_key(normalized),
        host=url_host(normalized),
        state=UrlState.MATCHED,
        last_scanned_at=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
    )
    reference = case.references.first() or Reference.objects.create(
        case=case, label="ref", pdq_hex="f" * 64, fingerprint=b""
    )
    record = FetchRecord.objects.create(
        reported_url=reported,
        requested_url=normalized,
        redirect_chain=chain or [normalized],
        final_url=(chain or [normalized])[-1],
        resolved_ip=ip,
        http_status=200,
        fetched_at=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        size=1234,
        sha256=hashlib.sha256(normalized.encode()).hexdigest(),
        status="ok",
    )
    media = MediaItem.objects.create(
        fetch=record,
        url=normalized.rstrip("/") + "/image.jpg",
        kind="image",
        mime="image/jpeg",
        sha256=hashlib.sha256(b"media" + normalized.encode()).hexdigest(),
        width=800,
        height=600,
    )
    Match.objects.create(
        reported_url=reported, media_item=media, reference=reference, method="pdq", distance=6.0, details={}
    )
    return reported


ORG_REPLY = "replies@alpha-support.example"


@pytest.fixture
def matched_case(case, directory) -> Callable[..., Case]:  # type: ignore[no-untyped-def]
    def make(  # type: ignore[no-untyped-def]
        *urls: str,
        real_name: str = "김지은",
        contact: str = "jieun@example.org",
        org_reply: str = ORG_REPLY,
        **fields,
    ) -> Case:
        case.organization.notice_sender_email = org_reply
        case.organization.save(update_fields=["notice_sender_email"])
        case.real_name = real_name
        case.contact = contact
        for key, value in fields.items():
            setattr(case, key, value)
        case.save()
        for url in urls:
            add_matched_url(case, url)
        return Case.objects.get(pk=case.pk)

    return make


def pdf_text(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "n.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    # Page-number footers ("1 / 2") would otherwise split a sentence running over a page break.
    return "\n".join(
        line
        for line in text.replace("\f", "\n").splitlines()
        if not re.fullmatch(r"\s*\d+\s*/\s*\d+\s*", line)
    )


def pdf_fonts(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout


def squash(text: str) -> str:
    return "".join(text.split())
