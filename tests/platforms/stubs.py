"""Small real HTTP servers on 127.0.0.x standing in for RDAP services, short-link hosts and sites."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# path -> (status, headers, body)
Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, str], Response | None]  # (host header, path) -> response


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, handler: Handler) -> None:
        self.handler = handler
        self.hits: list[str] = []
        super().__init__((host, 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base(self) -> str:
        return f"http://{self.server_address[0]}:{self.port}"


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        answer = self.server.handler(self.headers.get("Host", ""), self.path)
        status, headers, body = answer or (404, {}, b"")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(handler: Handler, host: str = "127.0.0.1") -> Iterator[StubServer]:
    server = StubServer(host, handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def rdap_ip_answer(*, name: str, org: str, abuse: str) -> dict[str, Any]:
    """An RDAP IP network answer shaped like ARIN's and RIPE's (RFC 9083)."""
    return {
        "rdapConformance": ["rdap_level_0"],
        "objectClassName": "ip network",
        "handle": "NET-203-0-113-0-1",
        "name": name,
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrant"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", org]]],
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": [
                            "vcard",
                            [
                                ["version", {}, "text", "4.0"],
                                ["fn", {}, "text", "Abuse desk"],
                                ["email", {}, "text", abuse],
                            ],
                        ],
                    }
                ],
            }
        ],
    }


def rdap_domain_answer(*, domain: str, registrar: str, abuse: str) -> dict[str, Any]:
    return {
        "objectClassName": "domain",
        "ldhName": domain.upper(),
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["registrar"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar]]],
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": [
                            "vcard",
                            [
                                ["version", {}, "text", "4.0"],
                                ["email", {}, "text", abuse],
                                ["tel", {"type": "voice"}, "uri", "tel:+1.5555555555"],
                            ],
                        ],
                    }
                ],
            }
        ],
    }


def json_response(payload: Any) -> Response:
    return 200, {"Content-Type": "application/rdap+json"}, json.dumps(payload).encode()
