"""Uploads never touch disk and have a hard cap (app/core/uploads.py), against a real gunicorn."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from PIL import Image

from app.cases.models import Reference
from tests.conftest import REPO, database_url_for_workers, photo_paths, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "a" * 32  # an unmasked CSRF secret: Django accepts it in the header when it equals the cookie


def big_photo() -> bytes:
    """A real ~7 MB JPEG (most phone photos are over 5 MB): a dev photo, enlarged, with grain."""
    img = Image.open(photo_paths()[5]).convert("RGB").resize((2300, 2300))
    grain = np.random.default_rng(0).integers(-40, 40, (2300, 2300, 3))
    out = io.BytesIO()
    Image.fromarray(np.clip(np.asarray(img, dtype=np.int16) + grain, 0, 255).astype(np.uint8)).save(
        out, "JPEG", quality=100
    )
    data = out.getvalue()
    assert len(data) > 7 * 1000 * 1000
    return data


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "jiumtestboundary7e3f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unread_bytes(port: int) -> int:
    """Bytes on the loopback connections to ``port`` that its server has not read yet.

    From /proc/net/tcp: what the client still has to send (tx_queue) plus what waits in the
    server's receive buffer (rx_queue). 0 means the server process has taken in all that was sent.
    """
    total = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if state != "01":  # ESTABLISHED
            continue
        tx, rx = (int(x, 16) for x in fields[4].split(":"))
        if int(local.split(":")[1], 16) == port:
            total += rx
        elif int(remote.split(":")[1], 16) == port:
            total += tx
    return total


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """A real gunicorn web process on the test database, with its own (watched) temp folder."""
    watched = tmp_path / "tmp"
    watched.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "app.settings",
        "DATABASE_URL": database_url_for_workers(),
        "JIUM_DATA_DIR": str(settings.DATA_DIR),
        "SECRET_KEY": settings.SECRET_KEY,
        "JIUM_ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "TMPDIR": str(watched),
    }
    log = tmp_path / "web.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "300", "--worker-tmp-dir", "/dev/shm"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def said() -> str:
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def up() -> bool:
        if proc.poll() is not None:  # gunicorn died at start: say so now, not after the timeout
            raise AssertionError(f"gunicorn exited with {proc.returncode}: {said()}")
        with contextlib.suppress(OSError):
            return urllib.request.urlopen(f"{base}/login/", timeout=5).status == 200
        return False

    try:
        wait_until(up, timeout=120, message=said)
        yield base, watched, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def read_answer(sock: socket.socket) -> str:
    """The whole answer: the server closes the connection after it, but may send it in pieces."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def session_cookie(user) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_killed_mid_upload_leaves_nothing_in_the_temp_folder(web, case, owner):
    base, watched, proc = web
    case.organization.require_two_factor = False
    case.organization.save()
    body, content_type = multipart("images", "phone-photo.jpg", big_photo())
    path = reverse("case_references_upload", args=[case.pk])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {settings.SESSION_COOKIE_NAME}={session_cookie(owner.user)}; "
        f"{settings.CSRF_COOKIE_NAME}={CSRF}\r\nX-CSRFToken: {CSRF}\r\n\r\n"
    ).encode()
    before = files_in(watched)
    half = len(body) // 2
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body[:half])
        # The web process has taken in the first half of the photo (the kernel's count, not a timer).
        wait_until(lambda: unread_bytes(port) == 0, timeout=120, message="server reading")
        assert files_in(watched) == before  # nothing spilled to disk while the request runs
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert files_in(watched) == before  # and nothing left behind by the killed process
    assert not Reference.objects.filter(case=case).exists()


def test_a_request_larger_than_the_cap_is_refused_by_its_content_length(web, case, owner):
    """Refused from the headers alone: the server answers though the body never comes."""
    base, watched, _proc = web
    path = reverse("case_references_upload", args=[case.pk])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {settings.UPLOAD_MAX_REQUEST_BYTES + 1}\r\n"
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session_cookie(owner.user)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=60) as sock:
        sock.sendall(head + b"--x\r\n")
        answer = read_answer(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "too large" in answer
    # The consent letter has its own, smaller cap on the case pages.
    edit = reverse("case_edit", args=[case.pk])
    head = head.replace(path.encode(), edit.encode()).replace(
        str(settings.UPLOAD_MAX_REQUEST_BYTES + 1).encode(), str(12 * 1024 * 1024).encode()
    )
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=60) as sock:
        sock.sendall(head)
        assert read_answer(sock).startswith("HTTP/1.1 413")
    assert files_in(watched) == []


def test_a_file_over_its_cap_is_kept_only_up_to_the_cap_and_refused(client, case, owner, settings):
    settings.UPLOAD_MAX_FILE_BYTES = settings.REFERENCE_MAX_BYTES = 1024 * 1024
    client.force_login(owner.user)
    case.organization.require_two_factor = False
    case.organization.save()
    body, content_type = multipart("images", "large.jpg", big_photo())
    response = client.generic(
        "POST", reverse("case_references_upload", args=[case.pk]), body, content_type=content_type
    )
    assert response.status_code == 302
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("too large" in m for m in shown), shown
    assert not Reference.objects.filter(case=case).exists()
    handler = response.wsgi_request.upload_handlers[0]
    assert handler.kept_bytes == 1024 * 1024 + 1  # memory held: the cap, not the file
