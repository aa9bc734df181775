"""The batch CLI end to end: local sites serve real photos, a local RDAP stub answers for unknown hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from app.cases.models import Case, Reference, ReportedUrl
from app.cases.selectors import case_list_for
from app.matching.models import Match
from app.notices.models import Notice
from app.platforms.models import Platform
from app.platforms.services import platform_update
from tests.conftest import photo_paths
from tests.notices.conftest import pdf_text, squash
from tests.platforms.stubs import json_response, rdap_ip_answer, serve

pytestmark = pytest.mark.django_db


def page(*images: str) -> bytes:
    tags = "".join(f'<img src="{src}" alt="">' for src in images)
    return f"<!doctype html><html><head><title>post</title></head><body>{tags}</body></html>".encode()


@pytest.fixture
def photos():  # type: ignore[no-untyped-def]
    paths = photo_paths()
    return {"ref_a": paths[0], "ref_b": paths[1], "other": paths[2]}


def site_handler(photos):  # type: ignore[no-untyped-def]
    files = {
        "/post/1": (page("/media/a.jpg"), "text/html"),
        "/post/2": (page("/media/other.jpg"), "text/html"),
        "/media/a.jpg": (photos["ref_a"].read_bytes(), "image/jpeg"),
        "/media/b.jpg": (photos["ref_b"].read_bytes(), "image/jpeg"),
        "/media/other.jpg": (photos["other"].read_bytes(), "image/jpeg"),
    }

    def handle(host: str, path: str):  # type: ignore[no-untyped-def]
        entry = files.get(path.split("?")[0])
        return (200, {"Content-Type": entry[1]}, entry[0]) if entry else None

    return handle


def rdap_handler(host: str, path: str):  # type: ignore[no-untyped-def]
    if path.startswith("/ip/"):
        return json_response(
            rdap_ip_answer(
                name="LOCAL-NET", org="Loopback Hosting Co.", abuse="abuse@loopback-hosting.example"
            )
        )
    return None


def test_takedown_end_to_end_and_rerun_makes_no_duplicates(owner, photos, tmp_path, settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32", "127.0.0.2/32"]
    settings.FETCH_RETRIES = 0
    settings.FETCH_TOTAL_TIMEOUT = 10
    refs = tmp_path / "refs"
    refs.mkdir()
    for key in ("ref_a", "ref_b"):
        (refs / photos[key].name).write_bytes(photos[key].read_bytes())
    (refs / "notes.txt").write_text("not an image")
    out = tmp_path / "out"

    with (
        serve(site_handler(photos), host="127.0.0.1") as site,
        serve(site_handler(photos), host="127.0.0.2") as forum,
        serve(rdap_handler) as rdap,
    ):
        settings.RDAP_BASE_URL = rdap.base
        call_command("platforms_sync", verbosity=0)
        # The NGO's directory says the forum at 127.0.0.2 is "Imgur" (an edit, no code change).
        imgur = Platform.objects.get(slug="imgur")
        platform_update(platform=imgur, actor=None, domains=[*imgur.domains, "127.0.0.2"])
        urls = [
            f"{site.base}/post/1",  # page showing reference A
            f"{site.base}/post/2",  # page with an unrelated photo
            f"{forum.base}/media/b.jpg",  # reference B, directly
            f"{site.base}/gone",  # 404
            "http://exa mple.com/x",  # not a URL
        ]
        url_file = tmp_path / "urls.txt"
        url_file.write_text("# spreadsheet export\n" + "\n".join(urls) + "\n", encoding="utf-8")
        args = [
            "takedown",
            "--references",
            str(refs),
            "--urls",
            str(url_file),
            "--out",
            str(out),
            "--victim-name",
            "김지은",
            "--contact-email",
            "jieun@example.org",
            "--jurisdiction",
            "KR",
            "--lang",
            "ko",
        ]
        call_command(*args, verbosity=0)

        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        case = Case.objects.get(pk=summary["case"])
        assert case in case_list_for(user=owner.user)  # visible in the web app
        by_url = {u["url"]: u for u in summary["urls"]}
        assert [u["url"] for u in summary["urls"]] == urls
        assert by_url[urls[0]]["status"] == "matched" and by_url[urls[0]]["method"].startswith("pdq")
        assert by_url[urls[0]]["reference"] == photos["ref_a"].name
        assert by_url[urls[0]]["distance"] is not None
        # Not in the directory: the site itself stands in, as in its notice (abuse contact via RDAP).
        assert by_url[urls[0]]["platform"] == {"slug": "host:127.0.0.1", "name": "127.0.0.1"}
        assert by_url[urls[1]]["status"] == "no_match" and by_url[urls[1]]["notice"] is None
        assert by_url[urls[2]]["status"] == "matched"
        assert by_url[urls[2]]["platform"] == {"slug": "imgur", "name": "Imgur"}
        assert by_url[urls[3]]["status"] == "failed" and "404" in by_url[urls[3]]["error"]
        assert by_url[urls[4]]["status"] == "failed"
        for row in summary["urls"]:
            assert set(row) == {
                "url",
                "status",
                "error",
                "platform",
                "reference",
                "method",
                "distance",
                "notice",
            }

        notices = {n["platform"]["slug"]: n for n in summary["notices"]}
        # Unknown host -> hosting provider's abuse contact (RDAP) + a search delisting request.
        host_notice = notices["abuse:abuse@loopback-hosting.example"]
        assert host_notice["channel"] == {"kind": "email", "address_or_url": "abuse@loopback-hosting.example"}
        assert host_notice["regime"] == "kr" and host_notice["lang"] == "ko"
        assert host_notice["urls"] == [urls[0]]
        assert notices["imgur"]["urls"] == [urls[2]] and notices["imgur"]["channel"]["kind"] == "web_form"
        # Imgur takes English only: its notice is in English whatever the caseworker chose.
        assert notices["imgur"]["lang"] == "en" and notices["imgur"]["regime"] == "take-it-down"
        assert urls[0] in notices["google-search"]["urls"]
        assert by_url[urls[0]]["notice"] == host_notice["pdf"]
        for n in summary["notices"]:
            assert set(n) >= {"platform", "regime", "lang", "channel", "pdf", "text", "urls"}
            text = (out / n["text"]).read_text(encoding="utf-8")
            assert (
                "[검토 후 서명 예정]" if n["lang"] == "ko" else "[to be signed after review]"
            ) in text  # not signed
            assert squash(n["urls"][0]) in squash(pdf_text((out / n["pdf"]).read_bytes(), tmp_path))
        assert Notice.objects.filter(case=case).exclude(state="draft").count() == 0  # nothing sent
        assert rdap.hits == ["/ip/127.0.0.1"]

        counts = (
            Case.objects.count(),
            Reference.objects.filter(case=case).count(),
            ReportedUrl.objects.filter(case=case).count(),
            Match.objects.filter(reported_url__case=case).count(),
            Notice.objects.filter(case=case).count(),
        )
        site_hits = len(site.hits)
        call_command(*args, verbosity=0)
        again = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert again["case"] == case.pk
        assert (
            Case.objects.count(),
            Reference.objects.filter(case=case).count(),
            ReportedUrl.objects.filter(case=case).count(),
            Match.objects.filter(reported_url__case=case).count(),
            Notice.objects.filter(case=case).count(),
        ) == counts
        assert len(site.hits) == site_hits  # finished URLs are not fetched again
        assert [n["pdf"] for n in again["notices"]] == [n["pdf"] for n in summary["notices"]]
        assert sorted(p.name for p in (out / "notices").iterdir()) == sorted(
            Path(n[k]).name for n in summary["notices"] for k in ("pdf", "text")
        )
