"""The command-line tools as someone runs them on a fresh clone: default settings, no database yet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import photo_paths
from tests.servers import page_with_images, serve

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], data_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "JIUM_", "FETCH_"))
    }
    env.update({"JIUM_DATA_DIR": str(data_dir), **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_takedown_then_recheck_on_an_empty_data_folder(tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    photos = photo_paths()
    (refs / "a.jpg").write_bytes(photos[0].read_bytes())
    files = {
        "/img/a.jpg": (photos[0].read_bytes(), "image/jpeg"),
        "/img/b.jpg": (photos[40].read_bytes(), "image/jpeg"),
        "/a": (page_with_images("/img/a.jpg"), "text/html"),
        "/b": (page_with_images("/img/b.jpg"), "text/html"),
    }
    with serve(files) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text(f"{site.base}/a\n{site.base}/b\n")
        result = _run(
            ["takedown", "--references", str(refs), "--urls", str(urls), "--out", str(tmp_path / "out"),
             "--victim-name", "Jane Roe", "--contact-email", "jane@example.org", "--jurisdiction", "US"],
            tmp_path / "data",
            FETCH_ALLOWED_PRIVATE_NETWORKS="127.0.0.1/32",
            RDAP_BASE_URL="http://127.0.0.1:9/",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["status"] for u in summary["urls"]] == ["matched", "no_match"]
    assert summary["urls"][0]["platform"]["name"] == "127.0.0.1"

    recheck = _run(["recheck", "--all-due", "--json"], tmp_path / "data")
    assert recheck.returncode == 0, recheck.stderr[-3000:]
    assert recheck.stdout.strip() == ""  # nothing has been sent, so nothing is due


@pytest.mark.slow
def test_recheck_on_a_fresh_clone_creates_the_database(tmp_path):
    result = _run(["recheck", "--all-due", "--json"], tmp_path / "data")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "data" / "jium.sqlite3").exists()
