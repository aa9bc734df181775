"""The one door between Jium and the network.

Every outbound request goes through :func:`fetch`. Reported URLs are chosen by people hostile to
the victim, and the workers run inside an NGO's network, so this module treats every URL,
redirect, DNS answer and response body as an attack:

* only http/https; at most ``max_redirects`` redirects, each one checked again;
* the address actually connected to is checked, at connect time, inside a custom httpcore network
  backend: the hostname is resolved once, every resolved address must be public (or inside
  ``allowed_private_networks``), and the socket is opened to that validated address while TLS
  still uses the hostname for SNI and certificate checks. A DNS answer that changes between a
  check and the connection (DNS rebinding) cannot slip through: there is no separate check;
* a time budget for the whole fetch (redirects and retries included) enforced on every socket read
  and write, so a server dripping one byte a second is cut off at ``total_timeout``;
* a byte cap on the *decoded* body; content decoding is done here, in bounded steps, so a small
  gzip/deflate/brotli bomb never expands in memory;
* retries with backoff for timeouts, connection failures, 429 (Retry-After honoured, capped) and
  5xx; a process-wide limit of concurrent requests per host.

Framework-free: Django settings are read only by :func:`policy_from_settings`.
Reasons in exceptions are plain English; ``code`` is stable and meant for translation in the UI.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import hashlib
import ipaddress
import random
import socket
import ssl
import threading
import time
import unicodedata
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli
import httpcore
import httpx

__all__ = [
    "FetchFailed",
    "FetchPolicy",
    "FetchRefused",
    "FetchResponse",
    "Resolver",
    "address_is_allowed",
    "destination_check",
    "fetch",
    "policy_from_settings",
]

# (hostname, port) -> IP address strings, in the order they should be tried.
Resolver = Callable[[str, int], Sequence[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_USER_AGENT = "Jium/0.1 (+takedown assistant for victims of image-based abuse)"

# Headers worth keeping as evidence of what the server said; the rest is noise.
EVIDENCE_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-disposition",
    "server",
    "last-modified",
    "etag",
    "date",
    "location",
    "x-robots-tag",
    "retry-after",
    "cache-control",
    "age",
    "via",
    "cf-ray",
    "x-cache",
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_READ_CHUNK = 64 * 1024
# Redirect bodies are read only to keep the connection reusable, never kept.
_REDIRECT_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. Build it with :func:`policy_from_settings` in the application."""

    allowed_private_networks: tuple[str, ...] = ()
    max_bytes: int = 25 * 1024 * 1024
    connect_timeout: float = 10
    # Budget for the whole fetch: every redirect hop, retry and backoff included.
    total_timeout: float = 30
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    proxy: str | None = None
    retries: int = 2
    per_host_concurrency: int = 4
    backoff_base: float = 0.5
    max_retry_after: float = 10
    # True, False (tests only) or a path to a CA bundle.
    verify: bool | str = True
    # Injectable name resolution (tests use it to simulate hostile DNS). None: the system resolver.
    resolver: Resolver | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _parse_networks(tuple(self.allowed_private_networks))  # fail early on a typo
        if self.max_bytes <= 0 or self.total_timeout <= 0 or self.connect_timeout <= 0:
            raise ValueError("fetch limits must be positive")
        if self.max_redirects < 0 or self.retries < 0 or self.per_host_concurrency < 1:
            raise ValueError("invalid fetch policy")


class FetchError(Exception):
    """Base class: ``reason`` is a plain sentence, ``code`` a stable identifier."""

    code: str = "error"

    def __init__(self, reason: str, *, url: str = "", code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url
        if code is not None:
            self.code = code


class FetchRefused(FetchError):
    """The destination is not allowed (private address, unsupported scheme, invalid URL, ...)."""

    code = "refused"


class FetchFailed(FetchError):
    """The fetch was attempted and did not succeed."""

    code = "failed"

    def __init__(
        self,
        reason: str,
        *,
        url: str = "",
        code: str | None = None,
        transient: bool = False,
        http_status: int | None = None,
        partial: FetchResponse | None = None,
    ) -> None:
        super().__init__(reason, url=url, code=code)
        self.transient = transient
        self.http_status = http_status
        self.partial = partial


@dataclass
class FetchResponse:
    requested_url: str
    # Every URL requested, in order: the first is ``requested_url``, the last ``final_url``.
    redirect_chain: list[str]
    final_url: str
    resolved_ip: str | None
    http_status: int
    headers: dict[str, str]
    body: bytes
    sha256: str
    size: int
    fetched_at: datetime
    elapsed: float = 0.0
    attempts: int = 1

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def without_body(self) -> FetchResponse:
        return replace(self, body=b"")


# ---------------------------------------------------------------------------------------------
# Which addresses are public


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Not reachable on the public internet, or not meant to be (RFC 6890 and the IANA registries).
_BLOCKED_V4 = _nets(
    "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, includes 255.255.255.255
)
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = _nets(
    "2001::/23",  # IETF protocol assignments (Teredo is handled before this)
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4 (handled before this when the embedded address is public)
    "3fff::/20",  # documentation
)
_V6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V6_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_V6_COMPATIBLE = ipaddress.IPv6Network("::/96")
_V6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_TEREDO = ipaddress.IPv6Network("2001::/32")
_V6_6TO4 = ipaddress.IPv6Network("2002::/16")


@lru_cache(maxsize=64)
def _parse_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    out = []
    for raw in cidrs:
        text = raw.strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"invalid network in allowed_private_networks: {text!r}") from exc
    return tuple(out)


def _v4_is_public(ip: ipaddress.IPv4Address) -> bool:
    return not any(ip in net for net in _BLOCKED_V4)


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_is_public(ip)
    if ip.scope_id:
        return False
    if ip in _V6_MAPPED:
        assert ip.ipv4_mapped is not None
        return _v4_is_public(ip.ipv4_mapped)
    if ip in _V6_NAT64:
        # A NAT64 gateway forwards to the embedded IPv4 address.
        return _v4_is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in _V6_TEREDO:
        teredo = ip.teredo
        assert teredo is not None
        return all(_v4_is_public(part) for part in teredo)
    if ip in _V6_6TO4:
        sixtofour = ip.sixtofour
        assert sixtofour is not None
        return _v4_is_public(sixtofour)
    if ip not in _V6_GLOBAL_UNICAST:
        # Everything else outside 2000::/3: ::/96 (compatible, ::1, ::), ::ffff:0:0:0/96,
        # 100::/64, 64:ff9b:1::/48, ULA fc00::/7, link-local fe80::/10, site-local fec0::/10,
        # multicast ff00::/8.
        return False
    return not any(ip in net for net in _BLOCKED_V6)


def address_is_allowed(ip: IPAddress | str, allowed_private_networks: Sequence[str] = ()) -> bool:
    """True when ``ip`` may be connected to: public, or inside an explicitly allowed network."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip)
    allowed = _parse_networks(tuple(allowed_private_networks))
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)  # the same socket destination as the IPv4 address
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in allowed):
            return True
    return _is_public(ip)


# ---------------------------------------------------------------------------------------------
# Host spellings


_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _normalise_host(host: str) -> str:
    # Fullwidth digits and ideographic dots fold to ASCII under IDNA; fold them here too so
    # fullwidth "127.0.0.1" with ideographic full stops is recognised as the address it is.
    text = unicodedata.normalize("NFKC", host).translate(_DOTS).strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.rstrip(".")


def _parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 in every spelling inet_aton accepts: 2130706433, 0x7f.1, 0177.0.0.1, 127.1, ..."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        if not part:
            return None
        if part[:2] in ("0x", "0X"):
            digits, base = part[2:] or "0", 16
        elif len(part) > 1 and part[0] == "0":
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The IP address a host string denotes, whatever its spelling; None for a hostname."""
    text = _normalise_host(host)
    if "%" in text:  # IPv6 zone index: never a public destination; make it fail the check
        text = text.split("%", 1)[0]
        try:
            return ipaddress.IPv6Address(text + "%1")
        except ValueError:
            return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _parse_ipv4_loose(text)


_INVALID = "This is not a valid web address."
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".intranet", ".lan")


def _check_host(host: str, policy: FetchPolicy, url: str) -> None:
    ip = literal_address(host)
    if ip is not None:
        if not address_is_allowed(ip, policy.allowed_private_networks):
            raise FetchRefused(
                "This address points to a private or reserved network, which Jium never contacts.",
                url=url,
                code="private_address",
            )
        return
    name = _normalise_host(host)
    if not name:
        raise FetchRefused("This address has no host name.", url=url, code="invalid_url")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        raise FetchRefused(
            "This address names a machine on a local network, which Jium never contacts.",
            url=url,
            code="private_address",
        )


def _prepare_url(url: str, policy: FetchPolicy) -> httpx.URL:
    """Refuse what can be refused before any network traffic; return the URL to request."""
    text = url.strip()
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise FetchRefused("This address contains spaces or control characters.", url=url, code="invalid_url")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FetchRefused("This is not a valid web address.", url=url, code="invalid_url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchRefused(
            "Only http and https addresses can be checked.", url=url, code="unsupported_scheme"
        )
    # Check the host as the standard library sees it and as httpx sees it: if parsers disagree
    # (backslashes, stray "@"), both readings must be acceptable.
    _check_host(parts.hostname or "", policy, url)
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise FetchRefused("This is not a valid web address.", url=url, code="invalid_url") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused(
            "Only http and https addresses can be checked.", url=url, code="unsupported_scheme"
        )
    _check_host(parsed.host, policy, url)
    if parsed.userinfo:
        # Credentials someone embedded in a link are not ours to send.
        parsed = parsed.copy_with(username=None, password=None)
    return parsed.copy_with(fragment=None)


def destination_check(url: str, *, policy: FetchPolicy, resolve: bool = False) -> None:
    """Raise :class:`FetchRefused` for an address Jium would never contact: for saying so when an
    address is typed in (a webhook), not only when it is used.

    Without ``resolve`` there is no network traffic: the URL and a literal address are checked. With
    ``resolve`` the host name is also looked up and every answer must pass the same rule the
    connect-time guard applies, so ``http://db-server/`` is refused when ``db-server`` is a private
    machine. A name that cannot be looked up now is let through (it may exist by the time it is
    used, and a typo cannot reach anything); the connect-time guard still checks every address a
    name leads to when it is used, which is what stops an answer that changes later. Behind a proxy
    names are the proxy's to resolve, so they are not looked up here either."""
    target = _prepare_url(url, policy)
    # The name exactly as the connection will look it up (IDNA 2008 by httpx, not the socket
    # module's IDNA 2003, which spells some names differently).
    host = target.raw_host.decode("ascii")
    if not resolve or policy.proxy is not None or literal_address(host) is not None:
        return
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = _resolve_host(host, port, policy=policy, timeout=policy.connect_timeout)
    except (httpcore.ConnectError, httpcore.ConnectTimeout):
        return
    except FetchRefused as exc:
        exc.url = url
        raise
    _refuse_disallowed(addresses, policy, url=url)


# ---------------------------------------------------------------------------------------------
# Connect-time guard


_dns_pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="jium-dns")


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in out:
            out.append(address)
    return out


class _DestinationRefused(FetchRefused):
    pass


def _resolve_host(host: str, port: int, *, policy: FetchPolicy, timeout: float) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address is its own answer). A lookup that fails
    or runs out of time raises httpcore's connect errors, so a fetch reports it like a dead host."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    if policy.resolver is not None:
        answers = list(policy.resolver(host, port))
    else:
        future = _dns_pool.submit(_system_resolve, host, port)
        try:
            answers = list(future.result(timeout=timeout))
        except concurrent.futures.TimeoutError:
            raise httpcore.ConnectTimeout(f"name lookup for {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"name lookup for {host} failed: {exc}") from exc
    out: list[IPAddress] = []
    for answer in answers:
        try:
            out.append(ipaddress.ip_address(answer))
        except ValueError:
            # A resolver answer we cannot parse cannot be checked, so it cannot be used.
            raise _DestinationRefused(
                "The name resolved to an address Jium could not check.",
                code="private_address",
            ) from None
    if not out:
        raise httpcore.ConnectError(f"{host} has no address")
    return out


def _refuse_disallowed(addresses: Sequence[IPAddress], policy: FetchPolicy, *, url: str = "") -> None:
    # All answers must pass: mixing public and private answers is itself a rebinding trick.
    for ip in addresses:
        if not address_is_allowed(ip, policy.allowed_private_networks):
            raise _DestinationRefused(
                "This address leads to a private or reserved network, which Jium never contacts.",
                url=url,
                code="private_address",
            )


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.at = self.start + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def cap(self, timeout: float | None) -> float:
        remaining = self.remaining()
        if remaining <= 0:
            raise httpcore.ReadTimeout("time budget exhausted")
        return remaining if timeout is None else min(timeout, remaining)


class _GuardedStream(httpcore.NetworkStream):
    """Every read and write is bounded by what is left of the fetch's time budget."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            timeout = self._deadline.cap(timeout)
        except httpcore.ReadTimeout:
            raise httpcore.WriteTimeout("time budget exhausted") from None
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name, so SNI and certificate checks are unaffected by
        # having connected to a literal IP address.
        try:
            timeout = self._deadline.cap(timeout)
        except httpcore.ReadTimeout:
            raise httpcore.ConnectTimeout("time budget exhausted") from None
        stream = self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _GuardedStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves, validates every resolved address, and connects only to a validated address."""

    def __init__(
        self,
        *,
        policy: FetchPolicy,
        deadline: _Deadline,
        proxy_origin: tuple[str, int] | None,
    ) -> None:
        self._policy = policy
        self._deadline = deadline
        self._proxy_origin = proxy_origin
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            timeout = self._deadline.cap(timeout)
        except httpcore.ReadTimeout:
            raise httpcore.ConnectTimeout("time budget exhausted") from None
        addresses = _resolve_host(host, port, policy=self._policy, timeout=timeout)
        is_proxy = self._proxy_origin is not None and (host.lower(), port) == self._proxy_origin
        if not is_proxy:
            _refuse_disallowed(addresses, self._policy)
        last_error: Exception | None = None
        for ip in addresses:
            target = ip
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                target = ip.ipv4_mapped
            try:
                stream = self._inner.connect_tcp(
                    str(target),
                    port,
                    timeout=self._deadline.cap(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _GuardedStream(stream, self._deadline)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise _DestinationRefused("Unix sockets are never used.", code="private_address")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self._deadline.remaining(), 0)))


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport with the connection pool rebuilt on the guarded network backend.

    httpx does not let callers pass a network backend, so the pool it built is replaced by an
    identical one that has it (same constructor arguments as httpx 0.28's HTTPTransport).
    """

    def __init__(self, *, policy: FetchPolicy, deadline: _Deadline) -> None:
        super().__init__(verify=_ssl_context(policy.verify), trust_env=False, proxy=policy.proxy)
        ssl_context = _ssl_context(policy.verify)
        limits: dict[str, Any] = {
            "max_connections": 4,
            "max_keepalive_connections": 2,
            "keepalive_expiry": 5.0,
        }
        proxy_origin = None
        pool: httpcore.ConnectionPool
        if policy.proxy is None:
            backend = _GuardedBackend(policy=policy, deadline=deadline, proxy_origin=None)
            pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=backend, **limits)
        else:
            proxy = httpx.Proxy(policy.proxy)
            default_port = {"http": 80, "https": 443}.get(proxy.url.scheme, 1080)
            proxy_origin = (proxy.url.host.lower(), proxy.url.port or default_port)
            backend = _GuardedBackend(policy=policy, deadline=deadline, proxy_origin=proxy_origin)
            proxy_url = httpcore.URL(
                scheme=proxy.url.raw_scheme,
                host=proxy.url.raw_host,
                port=proxy.url.port,
                target=proxy.url.raw_path,
            )
            if proxy.url.scheme in ("http", "https"):
                pool = httpcore.HTTPProxy(
                    proxy_url=proxy_url,
                    proxy_auth=proxy.raw_auth,
                    proxy_headers=proxy.headers.raw,
                    ssl_context=ssl_context,
                    network_backend=backend,
                    **limits,
                )
            elif proxy.url.scheme in ("socks5", "socks5h"):
                pool = httpcore.SOCKSProxy(
                    proxy_url=proxy_url,
                    proxy_auth=proxy.raw_auth,
                    ssl_context=ssl_context,
                    network_backend=backend,
                    **limits,
                )
            else:
                raise ValueError(f"unsupported proxy scheme {proxy.url.scheme!r}")
        self._pool = pool


@lru_cache(maxsize=8)
def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify)


# ---------------------------------------------------------------------------------------------
# Bounded content decoding


class _Undecodable(Exception):
    pass


class _ZlibDecoder:
    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._first = True
        self._fed = False
        self._buffer = b""
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        if not self._gzip and self._first:
            # "deflate" is sent both zlib-wrapped (as specified) and raw (by many servers).
            self._buffer += data
            if len(self._buffer) < 2:
                return
            data, self._buffer, self._first = self._buffer, b"", False
            try:
                zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:2], 1)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        pending = data
        while True:
            if self._obj.eof:
                leftover = self._obj.unused_data + pending
                if not self._gzip or not leftover.strip(b"\x00"):
                    return
                # Concatenated gzip members.
                self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16)
                pending = leftover
            try:
                out = self._obj.decompress(pending, _READ_CHUNK)
            except zlib.error as exc:
                raise _Undecodable(str(exc)) from exc
            if out:
                yield out
            pending = self._obj.unconsumed_tail
            if not pending and len(out) < _READ_CHUNK:
                return

    def flush(self) -> Iterator[bytes]:
        # Every byte of output was produced by feed(); an unfinished stream is a truncated one.
        # An empty body (redirects often carry "Content-Encoding: gzip" and nothing) is fine.
        if self._fed and (self._buffer or not self._obj.eof):
            raise _Undecodable("compressed body ends early")
        return iter(())


class _BrotliDecoder:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        try:
            out = self._obj.process(data, output_buffer_limit=_READ_CHUNK)
            if out:
                yield out
            while not self._obj.can_accept_more_data():
                out = self._obj.process(b"", output_buffer_limit=_READ_CHUNK)
                if not out:
                    break
                yield out
        except brotli.error as exc:
            raise _Undecodable(str(exc)) from exc

    def flush(self) -> Iterator[bytes]:
        if self._fed and not self._obj.is_finished():
            raise _Undecodable("compressed body ends early")
        return iter(())


class _Chain:
    """Decoders applied in reverse order of the Content-Encoding list."""

    def __init__(self, encodings: list[str]) -> None:
        self._decoders: list[_ZlibDecoder | _BrotliDecoder] = []
        for encoding in reversed(encodings):
            if encoding in ("gzip", "x-gzip"):
                self._decoders.append(_ZlibDecoder(gzip=True))
            elif encoding == "deflate":
                self._decoders.append(_ZlibDecoder(gzip=False))
            elif encoding == "br":
                self._decoders.append(_BrotliDecoder())

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        if index == len(self._decoders):
            yield from pieces
            return
        decoder = self._decoders[index]
        for piece in pieces:
            yield from self._through(index + 1, decoder.feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, iter((data,)))

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            yield from self._through(index + 1, decoder.flush())


def _content_encodings(headers: httpx.Headers) -> list[str] | None:
    """The encodings to undo, or None when one of them is unknown (the body is kept as sent)."""
    raw = ",".join(headers.get_list("content-encoding"))
    encodings = [e.strip().lower() for e in raw.split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if any(e not in ("gzip", "x-gzip", "deflate", "br") for e in encodings):
        return None
    return encodings


# ---------------------------------------------------------------------------------------------
# Per-host concurrency


_host_lock = threading.Lock()
# Weak values: a host's semaphore lives while requests to it are running, then is dropped.
_host_slots: weakref.WeakValueDictionary[tuple[str, int], threading.BoundedSemaphore] = (
    weakref.WeakValueDictionary()
)


@contextmanager
def _host_slot(host: str, limit: int, deadline: _Deadline, url: str) -> Iterator[None]:
    key = (host, limit)
    with _host_lock:
        semaphore = _host_slots.get(key)
        if semaphore is None:
            semaphore = threading.BoundedSemaphore(limit)
            _host_slots[key] = semaphore
    if not semaphore.acquire(timeout=max(deadline.remaining(), 0)):
        raise FetchFailed(
            "Too many requests to this site are already running; try again later.",
            url=url,
            code="busy",
            transient=True,
        )
    try:
        yield
    finally:
        semaphore.release()


# ---------------------------------------------------------------------------------------------
# The fetch


@dataclass
class _Hop:
    status: int
    headers: httpx.Headers
    body: bytes
    resolved_ip: str | None


class _Transient(Exception):
    def __init__(self, error: FetchFailed, retry_after: float | None = None) -> None:
        super().__init__(error.reason)
        self.error = error
        self.retry_after = retry_after


def _selected_headers(headers: httpx.Headers) -> dict[str, str]:
    out = {}
    for name in EVIDENCE_HEADERS:
        values = headers.get_list(name)
        if values:
            out[name] = ", ".join(values)[:1000]
    return out


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _too_slow(url: str, policy: FetchPolicy) -> FetchFailed:
    return FetchFailed(
        f"The site took too long to answer (more than {policy.total_timeout:g} seconds).",
        url=url,
        code="timeout",
        transient=True,
    )


def _read_body(
    response: httpx.Response, url: str, policy: FetchPolicy, limit: int, deadline: _Deadline
) -> bytes:
    encodings = _content_encodings(response.headers)
    declared = response.headers.get("content-length", "")
    if not encodings and declared.isdigit() and int(declared) > limit:
        raise FetchFailed(_too_large(policy), url=url, code="too_large")
    chain = _Chain(encodings or [])
    parts: list[bytes] = []
    size = 0
    try:
        for raw in response.iter_raw(_READ_CHUNK):
            for piece in chain.feed(raw):
                size += len(piece)
                if size > limit:
                    raise FetchFailed(_too_large(policy), url=url, code="too_large")
                parts.append(piece)
            if deadline.remaining() <= 0:
                raise _too_slow(url, policy)
        for piece in chain.flush():
            size += len(piece)
            if size > limit:
                raise FetchFailed(_too_large(policy), url=url, code="too_large")
            parts.append(piece)
    except _Undecodable:
        raise FetchFailed(
            "The site sent a compressed answer that could not be decompressed.",
            url=url,
            code="bad_encoding",
        ) from None
    return b"".join(parts)


def _too_large(policy: FetchPolicy) -> str:
    return f"The answer is larger than the limit of {policy.max_bytes / 1024 / 1024:g} MB."


def _request_headers(policy: FetchPolicy) -> dict[str, str]:
    return {
        "User-Agent": policy.user_agent,
        "Accept": "text/html,application/xhtml+xml,image/*,video/*;q=0.9,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate, br",
    }


def _one_request(
    transport: _GuardedTransport, url: httpx.URL, policy: FetchPolicy, deadline: _Deadline
) -> _Hop:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise _too_slow(str(url), policy)
    timeout = httpx.Timeout(
        connect=min(policy.connect_timeout, remaining),
        read=remaining,
        write=remaining,
        pool=remaining,
    )
    # The transport is used directly, without httpx.Client: no cookies, no auth, no redirect
    # handling of its own (which rejects odd Location headers before we can judge them).
    request = httpx.Request(
        "GET", url, headers=_request_headers(policy), extensions={"timeout": timeout.as_dict()}
    )
    response = transport.handle_request(request)
    try:
        resolved_ip = None
        if policy.proxy is None:
            stream = response.extensions.get("network_stream")
            address = stream.get_extra_info("server_addr") if stream is not None else None
            if address:
                resolved_ip = str(address[0])
        is_redirect = response.status_code in _REDIRECT_STATUSES and "location" in response.headers
        limit = min(policy.max_bytes, _REDIRECT_BODY_LIMIT) if is_redirect else policy.max_bytes
        try:
            body = _read_body(response, str(url), policy, limit, deadline)
        except FetchFailed as exc:
            if is_redirect and exc.code == "too_large":
                body = b""  # the redirect body is not needed; the connection is simply dropped
            else:
                raise
        return _Hop(response.status_code, response.headers, body, resolved_ip)
    finally:
        response.close()


def _attempt_hop(
    transport: _GuardedTransport, url: httpx.URL, policy: FetchPolicy, deadline: _Deadline
) -> _Hop:
    """One hop, mapping transport failures to FetchFailed and marking retryable outcomes."""
    text = str(url)
    host = url.host.lower()
    try:
        with _host_slot(host, policy.per_host_concurrency, deadline, text):
            hop = _one_request(transport, url, policy, deadline)
    except _DestinationRefused as exc:
        raise FetchRefused(exc.reason, url=text, code=exc.code) from None
    except FetchFailed as exc:
        if exc.transient:
            raise _Transient(exc) from None
        raise
    except httpx.TimeoutException:
        if deadline.remaining() <= 0:
            raise _too_slow(text, policy) from None
        raise _Transient(
            FetchFailed("The site did not answer in time.", url=text, code="timeout", transient=True)
        ) from None
    except httpx.ConnectError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or isinstance(exc.__cause__, ssl.SSLError):
            raise FetchFailed("The site's security certificate is not valid.", url=text, code="tls") from None
        raise _Transient(
            FetchFailed("The site could not be reached.", url=text, code="connect", transient=True)
        ) from None
    except (httpx.TransportError, httpx.DecodingError):
        raise _Transient(
            FetchFailed("The connection to the site broke off.", url=text, code="network", transient=True)
        ) from None
    except httpx.InvalidURL:
        raise FetchRefused("This is not a valid web address.", url=text, code="invalid_url") from None
    if hop.status == 429 or hop.status >= 500:
        failure = FetchFailed(
            f"The site answered with an error (HTTP {hop.status}).",
            url=text,
            code="http_error",
            transient=True,
            http_status=hop.status,
            partial=_response(
                text, [text], hop.resolved_ip, hop.status, hop.headers, hop.body, datetime.now(UTC)
            ),
        )
        retry_after = _retry_after_seconds(hop.headers.get("retry-after"))
        raise _Transient(failure, retry_after=retry_after if hop.status in (429, 503) else None)
    return hop


def _hop_with_retries(
    transport: _GuardedTransport, url: httpx.URL, policy: FetchPolicy, deadline: _Deadline
) -> tuple[_Hop, int]:
    attempt = 0
    while True:
        attempt += 1
        try:
            return _attempt_hop(transport, url, policy, deadline), attempt
        except _Transient as transient:
            error = transient.error
            if attempt > policy.retries:
                raise error from None
            if transient.retry_after is not None:
                if transient.retry_after > policy.max_retry_after:
                    error.reason += " The site asked to wait longer than Jium waits."
                    raise error from None
                delay = transient.retry_after
            else:
                delay = policy.backoff_base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            if delay >= deadline.remaining():
                raise error from None
            time.sleep(delay)


def fetch(url: str, *, policy: FetchPolicy) -> FetchResponse:
    """GET ``url`` under ``policy``; see the module docstring for every guarantee.

    A final non-2xx answer is returned, not raised, except 5xx/429 still failing after the
    retries, which raise :class:`FetchFailed` (``partial`` holds the last answer).
    Raises :class:`FetchRefused` for destinations Jium must not contact, :class:`FetchFailed`
    for everything else that went wrong.
    """
    deadline = _Deadline(policy.total_timeout)
    fetched_at = datetime.now(UTC)
    current = _prepare_url(url, policy)
    chain = [str(current)]
    attempts = 0
    with _GuardedTransport(policy=policy, deadline=deadline) as transport:
        while True:
            try:
                hop, used = _hop_with_retries(transport, current, policy, deadline)
            except FetchFailed as exc:
                if exc.partial is not None:
                    exc.partial.requested_url = url
                    exc.partial.redirect_chain = list(chain)
                if len(chain) > 1:
                    exc.reason = f"{exc.reason} (after a redirect to {chain[-1]})"
                raise
            except FetchRefused as exc:
                if len(chain) > 1:
                    exc.reason = f"The page redirected to a forbidden destination. {exc.reason}"
                    exc.code = exc.code if exc.code != "refused" else "private_address"
                exc.url = str(current)
                raise
            attempts += used
            location = hop.headers.get("location")
            if hop.status not in _REDIRECT_STATUSES or not location:
                result = _response(url, chain, hop.resolved_ip, hop.status, hop.headers, hop.body, fetched_at)
                result.elapsed = time.monotonic() - deadline.start
                result.attempts = attempts
                return result
            if len(chain) > policy.max_redirects:
                raise FetchFailed(
                    f"The page redirects more than {policy.max_redirects} times.",
                    url=url,
                    code="too_many_redirects",
                )
            try:
                # Joined as text: _prepare_url then judges it exactly as it would a reported URL.
                target = urljoin(str(current), location.strip())
            except ValueError:
                raise FetchFailed(
                    "The page redirects to an invalid address.", url=url, code="bad_redirect"
                ) from None
            try:
                next_url = _prepare_url(target, policy)
            except FetchRefused as exc:
                exc.reason = f"The page redirected to a forbidden destination. {exc.reason}"
                raise
            if str(next_url) in chain:
                raise FetchFailed("The page redirects in a loop.", url=url, code="redirect_loop")
            chain.append(str(next_url))
            current = next_url


def _response(
    requested: str,
    chain: list[str],
    resolved_ip: str | None,
    status: int,
    headers: httpx.Headers | dict[str, str],
    body: bytes,
    fetched_at: datetime,
) -> FetchResponse:
    selected = _selected_headers(headers) if isinstance(headers, httpx.Headers) else dict(headers)
    return FetchResponse(
        requested_url=requested,
        redirect_chain=list(chain),
        final_url=chain[-1],
        resolved_ip=resolved_ip,
        http_status=status,
        headers=selected,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        fetched_at=fetched_at,
    )


def policy_from_settings(**overrides: Any) -> FetchPolicy:
    """The policy configured in Django settings (FETCH_*); keyword arguments override fields."""
    from django.conf import settings

    def get(name: str, default: Any) -> Any:
        return getattr(settings, name, default)

    networks = get("FETCH_ALLOWED_PRIVATE_NETWORKS", ())
    if isinstance(networks, str):
        networks = networks.split(",")
    defaults = FetchPolicy()
    values: dict[str, Any] = {
        "allowed_private_networks": tuple(n.strip() for n in networks if n and n.strip()),
        "max_bytes": int(get("FETCH_MAX_BYTES", defaults.max_bytes)),
        "connect_timeout": float(get("FETCH_CONNECT_TIMEOUT", defaults.connect_timeout)),
        "total_timeout": float(get("FETCH_TOTAL_TIMEOUT", defaults.total_timeout)),
        "max_redirects": int(get("FETCH_MAX_REDIRECTS", defaults.max_redirects)),
        "user_agent": str(get("FETCH_USER_AGENT", defaults.user_agent) or defaults.user_agent),
        "proxy": get("FETCH_PROXY", None) or None,
        "retries": int(get("FETCH_RETRIES", defaults.retries)),
        "per_host_concurrency": int(get("FETCH_PER_HOST_CONCURRENCY", defaults.per_host_concurrency)),
    }
    values.update(overrides)
    return FetchPolicy(**values)


def post(url: str, *, content: bytes, headers: dict[str, str], policy: FetchPolicy) -> int:
    """POST ``content`` to ``url`` under the same rules as :func:`fetch` (address checks on every
    connection, allowed private networks, timeouts); redirects are not followed. Returns the status.

    Raises :class:`FetchRefused` for destinations Jium must not contact and :class:`FetchFailed`
    when the request could not be completed.
    """
    deadline = _Deadline(policy.total_timeout)
    target = _prepare_url(url, policy)
    try:
        with (
            _GuardedTransport(policy=policy, deadline=deadline) as transport,
            httpx.Client(
                transport=transport,
                timeout=httpx.Timeout(deadline.cap(policy.total_timeout), connect=policy.connect_timeout),
                follow_redirects=False,
            ) as client,
        ):
            response = client.post(
                target, content=content, headers={"User-Agent": policy.user_agent, **headers}
            )
            return response.status_code
    except FetchError:
        raise
    except httpx.HTTPError as exc:
        cause = exc.__context__
        if isinstance(cause, FetchRefused):
            raise cause from None
        # The codes fetch() uses too, so callers can say what happened in the reader's language.
        if isinstance(exc, httpx.TimeoutException):
            code = "timeout"
        elif isinstance(exc, httpx.ConnectError):
            code = "connect"
        else:
            code = "network"
        raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300], url=url, code=code, transient=True) from None
