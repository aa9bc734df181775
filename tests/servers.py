"""Local stand-ins for the internet: real HTTP servers on 127.0.0.x serving real files.

Two ways to say what a server answers: a dict of files (``serve``), which a test may change while
the server runs (``site.files``), or a function of (Host header, path) (``serve_handler``) for
RDAP services, short-link hosts and other stubs. The hostile servers of the fetcher's own tests
live in tests/fetching/servers.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# (status, headers, body), or None for 404.
Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, str], Response | None]  # (Host header, path) -> response


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, handler: Handler, delay: float = 0.0) -> None:
        self.handler = handler
        self.delay = delay
        self.hits: list[str] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        super().__init__((host, 0), _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base(self) -> str:
        return f"http://{self.server_address[0]}:{self.port}"


class _RequestHandler(BaseHTTPRequestHandler):
    server: SiteServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        if self.server.delay:
            time.sleep(self.server.delay)
        status, headers, body = self.server.handler(self.headers.get("Host", ""), self.path) or (404, {}, b"")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_handler(handler: Handler, host: str = "127.0.0.1", *, delay: float = 0.0) -> Iterator[SiteServer]:
    """Serve whatever ``handler`` answers until the block ends."""
    server = SiteServer(host, handler, delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# (headers with lower-cased names, body) of each POST a receiver got, in order.
Received = list[tuple[dict[str, str], bytes]]


@contextmanager
def receive_posts(status: Callable[[int], int], path: str = "/hook") -> Iterator[tuple[str, Received]]:
    """A webhook receiver on 127.0.0.1: records every POST; ``status(n)`` answers the n-th (from 1)."""
    received: Received = []

    class PostHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status(len(received)))
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), PostHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}", received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(
    files: dict[str, tuple[bytes, str]], *, host: str = "127.0.0.1", delay: float = 0.0
) -> Iterator[SiteServer]:
    """Serve ``{path: (bytes, content_type)}``; the test may change ``site.files`` while it runs."""
    holder: list[SiteServer] = []

    def from_files(_host: str, path: str) -> Response | None:
        entry = holder[0].files.get(path.split("?")[0])
        return None if entry is None else (200, {"Content-Type": entry[1]}, entry[0])

    with serve_handler(from_files, host, delay=delay) as server:
        server.files = files
        holder.append(server)
        yield server


def page_with_images(*image_paths: str) -> bytes:
    imgs = "".join(f'<img src="{p}" alt="">' for p in image_paths)
    return (
        f"<!doctype html><html><head><title>post</title></head><body><p>post</p>{imgs}</body></html>".encode()
    )


def read(path: Path) -> bytes:
    return path.read_bytes()


def machine_name_on_a_private_address() -> str:
    """This machine's own host name, looked up by the system resolver (/etc/hosts on a test machine),
    when it leads to a loopback or private address and is not a name refused as spelt ("localhost"):
    a real name that only resolution can show to be local. Skips the test where it is public."""
    import socket

    import pytest

    from app.lib.http import FetchPolicy, FetchRefused, address_is_allowed, destination_check

    name = socket.gethostname()
    try:
        answers = {str(info[4][0]) for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if all(address_is_allowed(answer) for answer in answers):
        pytest.skip(f"this machine's name {name!r} resolves to a public address")
    try:
        destination_check(f"http://{name}/", policy=FetchPolicy())
    except FetchRefused:
        pytest.skip(f"this machine's name {name!r} is refused as spelt, without a lookup")
    return name
