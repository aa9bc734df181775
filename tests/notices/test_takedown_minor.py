"""takedown --minor: no media stored, child-protection wording, and the routing block in summary.json."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from app.cases.models import Case, Reference
from app.fetching.models import FetchRecord, MediaItem
from tests.notices.test_takedown_command import photos, rdap_handler, site_handler  # noqa: F401 - fixture
from tests.platforms.stubs import serve

pytestmark = pytest.mark.django_db


def test_takedown_minor(owner, photos, tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_RETRIES = 0
    settings.FETCH_TOTAL_TIMEOUT = 10
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / photos["ref_a"].name).write_bytes(photos["ref_a"].read_bytes())
    out = tmp_path / "out"
    with serve(site_handler(photos), host="127.0.0.1") as site, serve(rdap_handler) as rdap:
        settings.RDAP_BASE_URL = rdap.base
        urls = tmp_path / "urls.txt"
        urls.write_text(f"{site.base}/post/1\n{site.base}/media/a.jpg\n", encoding="utf-8")
        call_command(
            "takedown", "--references", str(refs), "--urls", str(urls), "--out", str(out),
            "--victim-name", "김지은", "--contact-email", "jieun@example.org",
            "--jurisdiction", "KR", "--lang", "ko", "--minor", verbosity=0,
        )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    case = Case.objects.get(pk=summary["case"])
    assert case.is_minor
    assert [u["status"] for u in summary["urls"]] == ["matched", "matched"]
    # No media stored: no original, no page or file copy.
    assert not Reference.objects.filter(case=case).exclude(original=None).exclude(original=b"").exists()
    assert not MediaItem.objects.filter(fetch__reported_url__case=case).exclude(content=None).exists()
    assert not FetchRecord.objects.filter(reported_url__case=case).exclude(content=None).exists()
    # Child-protection wording, no name.
    assert summary["notices"] and all(n["regime"].endswith("-minor") for n in summary["notices"])
    letter = (out / summary["notices"][0]["text"]).read_text(encoding="utf-8")
    assert "아동·청소년성착취물" in letter and "김지은" not in letter
    assert b"/Image" not in (out / summary["notices"][0]["pdf"]).read_bytes()
    # Where to report, from the directory data.
    routing = summary["routing"]
    assert routing and all(set(r) == {"name", "url_or_phone", "country"} for r in routing)
    assert {
        "country": "KR",
        "name": "중앙디지털성범죄피해자지원센터",
        "url_or_phone": "https://d4u.stop.or.kr 02-735-8994",
    } in routing
