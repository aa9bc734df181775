"""PDF rendering loads nothing but the bundled font and static files, whatever the HTML asks for."""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from app.notices.pdf import FONT_FAMILY, font_face_css, html_to_pdf
from tests.notices.conftest import pdf_fonts, pdf_text


@pytest.fixture
def canary_server():  # type: ignore[no-untyped-def]
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def attachments(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, check=True, text=True
    ).stdout


def test_hostile_html_fetches_nothing_and_embeds_no_local_file(canary_server, tmp_path):
    base, hits = canary_server
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-embed-me")
    static_css = Path(settings.STATICFILES_DIRS[0]) / "jium.css"
    html = f"""<html><head><style>{font_face_css()} body {{ font-family: "{FONT_FAMILY}" }}</style>
      <link rel="stylesheet" href="{base}/style.css">
      <link rel="attachment" href="{secret.as_uri()}">
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="attachment" href="file://localhost{static_css.parent}/../pyproject.toml">
      <link rel="attachment" href="{base}/exfil">
      <link rel="attachment" href="{static_css.as_uri()}">
      </head><body><p>지움 notice</p><img src="{base}/pixel.png"><img src="ftp://127.0.0.1/x.png">
      <a rel="attachment" href="file:///etc/hostname">x</a></body></html>"""
    pdf = html_to_pdf(html)
    assert hits == []
    listed = attachments(pdf, tmp_path)
    assert "secret" not in listed and "passwd" not in listed and "pyproject" not in listed
    assert "hostname" not in listed and "exfil" not in listed
    assert "jium.css" in listed  # a static file may still be attached: the fetcher is narrowed, not broken
    fonts = pdf_fonts(pdf, tmp_path)
    assert "NotoSansCJK" in fonts  # the bundled font still loads
    assert "지움" in pdf_text(pdf, tmp_path)
