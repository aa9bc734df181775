"""The quick-start mode as a new user runs it: SQLite, a broker in a SQLite file, web + worker."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_quickstart_serves_login_runs_a_scan_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "JIUM_", "SECRET_KEY", "FETCH_"))
    }
    env["JIUM_DATA_DIR"] = str(tmp_path)
    log = tmp_path / "quickstart.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", "--port", str(port), "--concurrency", "1"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        password = None
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            found = re.search(r"password: (\S+)", text)
            if found:
                password = found.group(1)
            try:
                if password and httpx.get(f"{base}/login/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("quick start did not come up:\n" + log.read_text(errors="replace")[-3000:])

        # Generous timeouts: they catch a hang, not slowness (a loaded 2-core machine took 11 s for one POST).
        with httpx.Client(base_url=base, follow_redirects=True, timeout=120) as web:
            login_page = web.get("/login/")
            assert "Log in" in login_page.text
            token = web.cookies["csrftoken"]
            home = web.post(
                "/login/", data={"username": "demo", "password": password, "csrfmiddlewaretoken": token}
            )
            assert "New case" in home.text
            created = web.post(
                "/cases/new/",
                data={
                    "alias": "Smoke",
                    "jurisdiction": "US",
                    "language": "en",
                    "age_group": "adult",
                    "csrfmiddlewaretoken": web.cookies["csrftoken"],
                },
            )
            case_url = str(created.url)
            assert re.search(r"/cases/\d+/$", case_url)
            # A private address is refused by the fetcher without any network access: a quick, final state.
            web.post(
                case_url + "urls/",
                data={"urls": "http://10.255.255.1/x.jpg", "csrfmiddlewaretoken": web.cookies["csrftoken"]},
            )
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                if "All links have been checked" in web.get(case_url + "progress/").text:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(
                    "the quick-start worker did not finish the scan:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0, log.read_text(errors="replace")[-3000:]
    assert "Jium has stopped." in log.read_text(errors="replace")
