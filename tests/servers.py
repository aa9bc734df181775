"""Local stand-ins for the internet: real HTTP servers on 127.0.0.x serving real files."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Route = Callable[[BaseHTTPRequestHandler], None]


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, files: dict[str, tuple[bytes, str]], delay: float = 0.0) -> None:
        self.files = files
        self.delay = delay
        self.hits: list[str] = []
        super().__init__((host, 0), _Handler)

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        entry = self.server.files.get(self.path.split("?")[0])
        if entry is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = entry
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(files: dict[str, tuple[bytes, str]], *, host: str = "127.0.0.1", delay: float = 0.0) -> Iterator[SiteServer]:
    """Serve ``{path: (bytes, content_type)}`` until the block ends."""
    server = SiteServer(host, files, delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def page_with_images(*image_paths: str) -> bytes:
    imgs = "".join(f'<img src="{p}" alt="">' for p in image_paths)
    return f"<!doctype html><html><head><title>post</title></head><body><p>post</p>{imgs}</body></html>".encode()


def read(path: Path) -> bytes:
    return path.read_bytes()
