"""`manage.py scan_url URL [--references DIR] --json`: the fetcher's contract with the outside."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.fetching.servers import (
    PHOTOS,
    TEST_NETWORKS,
    Internet,
    drip_body,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
    sha256,
)

REPO = Path(__file__).resolve().parents[2]
NAMES = photo_names()
CONTRACT_KEYS = {"url", "final_url", "status", "error", "http_status", "media"}
MEDIA_KEYS = {"url", "kind", "sha256", "width", "height", "matches"}


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 2.0
    settings.FETCH_RETRIES = 0


def run(*args: str) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    call_command("scan_url", *args, "--json", stdout=out)
    text = out.getvalue()
    assert text.count("\n") <= 1  # exactly one object
    return json.loads(text)


def test_page_with_media_and_matches(internet: Internet, tmp_path: Path) -> None:
    refs = tmp_path / "refs"
    refs.mkdir()
    for name in NAMES[:2]:
        shutil.copy(PHOTOS / name, refs / name)
    (refs / "notes.txt").write_text("not an image")
    url = internet.site.page(
        "/post", f'<img src="/photos/{NAMES[0]}"><img src="/photos/{NAMES[7]}"><img src="/gone.jpg">'
    )
    result = run(url, "--references", str(refs))
    assert result.keys() >= CONTRACT_KEYS
    assert (result["url"], result["final_url"], result["status"], result["error"], result["http_status"]) == (
        url,
        url,
        "ok",
        None,
        200,
    )
    assert [m["url"] for m in result["media"]] == [
        internet.site.url(f"/photos/{n}") for n in (NAMES[0], NAMES[7])
    ]
    first, second = result["media"]
    assert first.keys() >= MEDIA_KEYS
    assert first["kind"] == "image" and first["sha256"] == sha256(photo_bytes(NAMES[0]))
    assert isinstance(first["width"], int) and isinstance(first["height"], int)
    assert [m["reference"] for m in first["matches"]] == [NAMES[0]]
    assert first["matches"][0]["method"].startswith("pdq") and first["matches"][0]["distance"] <= 31
    assert second["matches"] == []
    assert result["skipped_media"][0]["url"] == internet.site.url("/gone.jpg")
    assert "404" in result["skipped_media"][0]["error"]


@pytest.mark.parametrize("kind", ["refused", "timeout", "404"])
def test_failures_still_print_the_object(internet: Internet, kind: str) -> None:
    internet.site.route("/drip", drip_body)
    url = {
        "refused": internet.refused_spellings()[2][1],
        "timeout": internet.site.url("/drip"),
        "404": internet.site.url("/nothing"),
    }[kind]
    result = run(url)
    assert result.keys() >= CONTRACT_KEYS
    assert result["status"] == ("refused" if kind == "refused" else "error")
    assert result["error"] and result["media"] == []
    assert result["http_status"] == (404 if kind == "404" else None)
    assert internet.canary_contacts() == 0


def test_fresh_process_with_default_settings(internet: Internet, tmp_path: Path) -> None:
    """A new process, no database, no services: one JSON object on stdout and exit status 0."""
    env = {
        **os.environ,
        "JIUM_DATA_DIR": str(tmp_path / "data"),
        "FETCH_ALLOWED_PRIVATE_NETWORKS": ",".join(TEST_NETWORKS),
        "DJANGO_SETTINGS_MODULE": "app.settings",
    }
    env.pop("DATABASE_URL", None)
    for url, status in ((internet.site.url(f"/photos/{NAMES[3]}"), "ok"), ("http://[::1]:1/", "refused")):
        done = subprocess.run(
            [sys.executable, "manage.py", "scan_url", url, "--json"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, done.stdout
        result = json.loads(lines[0])
        assert result["status"] == status
    assert result["error"]
    assert not list((tmp_path / "data").glob("*.sqlite3"))  # nothing was written to a database


def test_bad_references_folder_is_a_usage_error(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("scan_url", "http://example.com/", "--references", str(tmp_path / "missing"), "--json")
