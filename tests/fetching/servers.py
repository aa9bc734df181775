"""Real local HTTP servers on 127.0.0.x that stand in for the internet in fetching tests.

Friendly sites serve real photos from ../shared/data/photos-dev; hostile endpoints drip, stall,
bomb, lie and loop. Canary servers sit on addresses the fetcher must never contact and count
every TCP connection they accept. Used by tests/lib/test_http.py, tests/fetching/* and
bench/hostile_fetch.py.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http.client
import io
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from urllib.parse import parse_qs, urlsplit

import brotli
import pytest

from app.lib.http import FetchPolicy

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos-dev"
SITE_HOST = "127.0.0.2"
CDN_HOST = "127.0.0.3"
CANARY_HOST = "127.0.0.9"
LOOPBACK_CANARY_HOST = "127.0.0.1"
# Only the friendly sites are allowed; both canaries (127.0.0.1 and 127.0.0.9) are not.
TEST_NETWORKS = (f"{SITE_HOST}/32", f"{CDN_HOST}/32")

Handler = Callable[["RequestHandler"], None]
socketserver_bind = TCPServer.server_bind


def photo_names() -> list[str]:
    return sorted(p.name for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


@cache
def photo_bytes(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_policy(**overrides: object) -> FetchPolicy:
    values: dict[str, object] = {
        "allowed_private_networks": TEST_NETWORKS,
        "total_timeout": 4.0,
        "connect_timeout": 2.0,
        "max_bytes": 4 * 1024 * 1024,
        "retries": 2,
        "backoff_base": 0.05,
        "max_retry_after": 2.0,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


test_policy.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


# ---- hostile bodies (built once per process) -------------------------------------------------


@cache
def gzip_bomb() -> bytes:
    """256 MiB of zeros in ~260 KB."""
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join([c.compress(zeros) for _ in range(256)] + [c.flush()])


@cache
def deflate_bomb() -> bytes:
    """128 MiB of zeros, zlib-wrapped, as the "deflate" encoding is specified."""
    c = zlib.compressobj(6, zlib.DEFLATED, 15)
    zeros = bytes(1 << 20)
    return b"".join([c.compress(zeros) for _ in range(128)] + [c.flush()])


@cache
def brotli_bomb() -> bytes:
    """1 GiB of zeros in ~200 KB."""
    c = brotli.Compressor(quality=1)
    zeros = bytes(1 << 20)
    return b"".join([c.process(zeros) for _ in range(1024)] + [c.finish()])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def png_pixel_bomb(side: int = 30000) -> bytes:
    """A ~1 KB PNG that declares side x side RGB pixels (a decompression bomb for decoders)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(side * 3)
    idat = zlib.compress(row * 4, 9)  # a few rows; a decoder that trusts the header would go on
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    data = photo_bytes(photo_names()[0])
    return data[: len(data) // 3]


@cache
def video_from_photos(names: tuple[str, ...], seconds_each: float = 1.0) -> bytes:
    """A small MP4 whose scenes are the given photos (PyAV, H.264 or MPEG-4)."""
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=4)
        stream.width, stream.height, stream.pix_fmt = 480, 320, "yuv420p"
        for name in names:
            img = Image.open(io.BytesIO(photo_bytes(name))).convert("RGB").resize((480, 320))
            for _ in range(int(4 * seconds_each)):
                for packet in stream.encode(av.VideoFrame.from_image(img)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# ---- server ---------------------------------------------------------------------------------


class RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.requests.append(self.path)
            site.request_headers.append(dict(self.headers.items()))
            site.active += 1
            site.max_active = max(site.max_active, site.active)
        try:
            handler = site.routes.get(self.path_only)
            if handler is None:
                for prefix, candidate in site.prefix_routes.items():
                    if self.path_only.startswith(prefix):
                        handler = candidate
                        break
            if handler is None:
                send(self, b"not found", status=404, content_type="text/plain")
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        finally:
            with site.lock:
                site.active -= 1

    do_HEAD = do_GET

    def send_header(self, keyword: str, value: str) -> None:
        # Hostile servers send raw UTF-8 in headers (e.g. a Location with fullwidth digits).
        if not hasattr(self, "_headers_buffer"):
            self._headers_buffer = []
        self._headers_buffer.append(f"{keyword}: {value}\r\n".encode())
        if keyword.lower() == "connection":
            if value.lower() == "close":
                self.close_connection = True
            elif value.lower() == "keep-alive":
                self.close_connection = False


def send(
    h: RequestHandler,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if length:
        h.send_header("Content-Length", str(len(body)))
    else:
        h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    if not length:
        h.close_connection = True


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128

    def __init__(self, host: str, port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), RequestHandler)
        self.host = host
        self.port = self.server_address[1]
        self.tls = tls
        self.routes: dict[str, Handler] = {}
        self.prefix_routes: dict[str, Handler] = {}
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.counters: defaultdict[str, int] = defaultdict(int)
        self.sni_names: list[str | None] = []
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), which can stall for seconds.
        socketserver_bind(self)
        self.server_name, self.server_port = self.server_address[0], self.server_address[1]

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, address = super().get_request()
        with self.lock:
            self.connections += 1
        if self.tls is not None:
            sock.settimeout(5)
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                sock.close()
                raise
            sock.settimeout(None)
        return sock, address

    def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
        pass  # hostile tests disconnect abruptly on purpose

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def page(self, path: str, html: str | bytes, **kwargs: object) -> str:
        body = html.encode() if isinstance(html, str) else html
        return self.route(path, lambda h: send(h, body, content_type="text/html; charset=utf-8", **kwargs))  # type: ignore[arg-type]

    def file(self, path: str, body: bytes, content_type: str = "image/jpeg") -> str:
        return self.route(path, lambda h: send(h, body, content_type=content_type))

    def start(self) -> LocalServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def hits(self, path: str) -> int:
        return sum(1 for p in self.requests if urlsplit(p).path == path)


# ---- endpoint behaviours --------------------------------------------------------------------


def redirect(location: str, status: int = 302) -> Handler:
    return lambda h: send(h, b"", status=status, headers={"Location": location}, content_type="text/plain")


def redirect_chain_handler(h: RequestHandler) -> None:
    """/chain/N redirects to /chain/N-1 ... /chain/0 serves a photo."""
    n = int(h.path_only.rsplit("/", 1)[-1])
    if n <= 0:
        send(h, photo_bytes(photo_names()[1]), content_type="image/jpeg")
    else:
        send(h, b"", status=302, headers={"Location": f"/chain/{n - 1}"}, content_type="text/plain")


def drip_body(h: RequestHandler) -> None:
    """Headers at once, then one byte a second for up to a minute."""
    h.send_response(200)
    h.send_header("Content-Type", "image/jpeg")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.flush()
    for _ in range(60):
        h.wfile.write(b"\xff")
        h.wfile.flush()
        time.sleep(1)


def drip_headers(h: RequestHandler) -> None:
    """The status line and headers themselves arrive one byte a second."""
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    for byte in data:
        h.wfile.write(bytes([byte]))
        h.wfile.flush()
        time.sleep(1)
    h.close_connection = True


def stall(h: RequestHandler) -> None:
    """Accepts the request and never answers."""
    time.sleep(60)
    h.close_connection = True


def oversized_declared(h: RequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/jpeg")
    h.send_header("Content-Length", str(10 * 1024**3))
    h.end_headers()
    chunk = bytes(64 * 1024)
    for _ in range(160):  # 10 MB at most, then give up
        h.wfile.write(chunk)
    h.close_connection = True


def oversized_undeclared(h: RequestHandler) -> None:
    """No Content-Length, ends at connection close: 64 MB unless cut off."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Connection", "close")
    h.end_headers()
    chunk = b"<p>" + b"x" * (64 * 1024 - 3)
    for _ in range(1024):
        h.wfile.write(chunk)
    h.close_connection = True


def encoded(body_factory: Callable[[], bytes], encoding: str, content_type: str = "text/html") -> Handler:
    # Built here, in the test, not on the first request: compressing a bomb takes ~1 CPU-second,
    # which under load ate the client's whole time budget and turned "too_large" into "timeout".
    body = body_factory()
    return lambda h: send(h, body, content_type=content_type, headers={"Content-Encoding": encoding})


def gzipped(body: bytes, content_type: str) -> Handler:
    data = gzip.compress(body)
    return lambda h: send(h, data, content_type=content_type, headers={"Content-Encoding": "gzip"})


def flaky(
    fail_times: int, status: int = 503, body: bytes = b"", retry_after: str | None = None, close: bool = False
) -> Handler:
    """Fails ``fail_times`` times (per server and path), then serves ``body`` (a photo by default)."""

    def handler(h: RequestHandler) -> None:
        with h.server.lock:
            h.server.counters[h.path_only] += 1
            count = h.server.counters[h.path_only]
        if count <= fail_times:
            headers = {"Retry-After": retry_after} if retry_after else {}
            if close:
                headers["Connection"] = "close"
            send(h, b"try later", status=status, content_type="text/plain", headers=headers)
        else:
            send(h, body or photo_bytes(photo_names()[2]), content_type="image/jpeg")

    return handler


def slow_ok(seconds: float) -> Handler:
    def handler(h: RequestHandler) -> None:
        time.sleep(seconds)
        send(h, b"ok", content_type="text/plain")

    return handler


def echo_headers(h: RequestHandler) -> None:
    send(h, json.dumps(dict(h.headers.items())).encode(), content_type="application/json")


# ---- a forwarding HTTP proxy (for FETCH_PROXY) -----------------------------------------------


class ProxyHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(self.path)
        target = urlsplit(self.path)
        conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=5)
        path = target.path + (f"?{target.query}" if target.query else "")
        conn.request("GET", path, headers={"User-Agent": self.headers.get("User-Agent", "")})
        upstream = conn.getresponse()
        body = upstream.read()
        self.send_response(upstream.status)
        self.send_header("Content-Type", upstream.getheader("Content-Type", "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Via", "1.1 test-proxy")
        self.end_headers()
        self.wfile.write(body)
        conn.close()


class ProxyServer(LocalServer):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.RequestHandlerClass = ProxyHandler  # type: ignore[assignment]


# ---- TLS ------------------------------------------------------------------------------------


def make_tls(tmp_dir: Path, hostname: str) -> tuple[ssl.SSLContext, Path]:
    """A throwaway CA and a server certificate for ``hostname``; returns (server context, CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jium test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp_dir / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = tmp_dir / "server.pem"
    cert_file.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file)
    return context, ca_file


# ---- the standard test internet -------------------------------------------------------------


class Canary(LocalServer):
    """Must never be contacted: counts TCP connections, answers with a photo if reached."""

    def __init__(self, host: str, port: int = 0) -> None:
        super().__init__(host, port)
        self.prefix_routes["/"] = lambda h: send(h, photo_bytes(photo_names()[5]), content_type="image/jpeg")


class Internet:
    """A site, a CDN on another address, and canaries on 127.0.0.9, 127.0.0.1 and [::1]."""

    def __init__(self) -> None:
        self.site = LocalServer(SITE_HOST).start()
        self.cdn = LocalServer(CDN_HOST).start()
        self.canary = Canary(CANARY_HOST).start()
        self.loopback_canary = Canary(LOOPBACK_CANARY_HOST).start()
        try:
            self.v6_canary: Canary | None = Canary("::1").start()
        except OSError:
            self.v6_canary = None
        self.servers: list[LocalServer] = [self.site, self.cdn, self.canary, self.loopback_canary]
        if self.v6_canary is not None:
            self.servers.append(self.v6_canary)
        self._install_defaults()

    @property
    def canaries(self) -> list[Canary]:
        return [c for c in (self.canary, self.loopback_canary, self.v6_canary) if c is not None]

    def canary_contacts(self) -> int:
        return sum(c.connections for c in self.canaries)

    def _install_defaults(self) -> None:
        for server in (self.site, self.cdn):
            server.prefix_routes["/photos/"] = _photo_route

    def stop(self) -> None:
        stoppers = [threading.Thread(target=server.stop) for server in self.servers]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()

    def refused_spellings(self) -> list[tuple[str, str]]:
        """(label, URL) of every spelling of a forbidden destination, on the canaries' ports."""
        c9, c1 = self.canary.port, self.loopback_canary.port
        p = "/photos/" + photo_names()[0]
        spellings = [
            ("dotted", f"http://127.0.0.9:{c9}{p}"),
            ("decimal", f"http://2130706441:{c9}{p}"),
            ("hex", f"http://0x7f000009:{c9}{p}"),
            ("hex-dotted", f"http://0x7f.0x0.0x0.0x9:{c9}{p}"),
            ("hex-short", f"http://0x7f.9:{c9}{p}"),
            ("octal", f"http://0177.0.0.011:{c9}{p}"),
            ("octal-padded", f"http://0177.0000.0000.0011:{c9}{p}"),
            ("short-2", f"http://127.9:{c9}{p}"),
            ("short-3", f"http://127.0.9:{c9}{p}"),
            ("trailing-dot", f"http://127.0.0.9.:{c9}{p}"),
            ("userinfo", f"http://evil.example@127.0.0.9:{c9}{p}"),
            ("userinfo-password", f"http://user:pw@127.0.0.9:{c9}{p}"),
            ("userinfo-lookalike", f"http://www.example.com:80@127.0.0.9:{c9}{p}"),
            ("fullwidth", f"http://１２７．０．０．９:{c9}{p}"),
            ("ideographic-dots", f"http://127。0。0。9:{c9}{p}"),
            ("uppercase-scheme", f"HTTP://127.0.0.9:{c9}{p}"),
            ("ipv4-mapped", f"http://[::ffff:127.0.0.9]:{c9}{p}"),
            ("ipv4-mapped-hex", f"http://[::ffff:7f00:9]:{c9}{p}"),
            ("ipv4-compatible", f"http://[::127.0.0.9]:{c9}{p}"),
            ("nat64", f"http://[64:ff9b::7f00:9]:{c9}{p}"),
            ("6to4", f"http://[2002:7f00:9::1]:{c9}{p}"),
            ("teredo", f"http://[2001:0:4136:e378:8000:63bf:80ff:fff6]:{c9}{p}"),
            ("loopback-127.0.0.1", f"http://127.0.0.1:{c1}{p}"),
            ("loopback-decimal", f"http://2130706433:{c1}{p}"),
            ("loopback-short", f"http://127.1:{c1}{p}"),
            ("localhost", f"http://localhost:{c1}{p}"),
            ("localhost-dot", f"http://localhost.:{c1}{p}"),
            ("sub.localhost", f"http://anything.localhost:{c1}{p}"),
            ("unspecified", f"http://0.0.0.0:{c1}{p}"),
            ("zero", f"http://0:{c1}{p}"),
            ("v6-loopback", f"http://[::1]:{self.v6_canary.port if self.v6_canary else c1}{p}"),
            (
                "v6-loopback-long",
                f"http://[0:0:0:0:0:0:0:1]:{self.v6_canary.port if self.v6_canary else c1}{p}",
            ),
            ("v6-unspecified", f"http://[::]:{c1}{p}"),
            ("metadata", "http://169.254.169.254/latest/meta-data/"),
            ("metadata-decimal", "http://2852039166/latest/meta-data/"),
            ("link-local-v6", f"http://[fe80::1]:{c1}{p}"),
            ("ula-v6", f"http://[fd00::1]:{c1}{p}"),
            ("private-10", "http://10.0.0.1/"),
            ("private-172", "http://172.16.0.1/"),
            ("private-192", "http://192.168.1.1/"),
            ("cgnat", "http://100.64.0.1/"),
            ("multicast", "http://224.0.0.1/"),
            ("reserved", "http://240.0.0.1/"),
            ("broadcast", "http://255.255.255.255/"),
            ("benchmark", "http://198.18.0.1/"),
            ("documentation", "http://192.0.2.1/"),
            ("ftp-scheme", f"ftp://{SITE_HOST}:{self.site.port}/"),
            ("file-scheme", "file:///etc/passwd"),
            ("gopher-scheme", f"gopher://127.0.0.9:{c9}/"),
            ("no-host", "http:///etc/passwd"),
        ]
        return spellings


def _photo_route(h: RequestHandler) -> None:
    name = h.path_only.rsplit("/", 1)[-1]
    path = PHOTOS / name
    if "/" in name or not path.is_file():
        send(h, b"not found", status=404, content_type="text/plain")
        return
    send(h, photo_bytes(name), content_type="image/jpeg")


@pytest.fixture
def internet() -> Iterator[Internet]:
    net = Internet()
    try:
        yield net
    finally:
        net.stop()
