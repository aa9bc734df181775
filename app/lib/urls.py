"""URL normalisation for de-duplicating reports (framework-free)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidUrl(ValueError):
    """Not a web address Jium can check."""


def normalize_url(raw: str) -> str:
    """Canonical form of a reported web address: same page, same string.

    Lower-cases scheme and host, converts international domain names to their ASCII form, drops
    the default port and the #fragment (never sent to a server), and adds "https://" when a
    caseworker pasted a bare "example.com/x".
    """
    text = raw.strip()
    if not text:
        raise InvalidUrl("empty")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidUrl(f"unsupported scheme {scheme!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidUrl("no host")
    if any(ch.isspace() for ch in text):
        raise InvalidUrl("contains spaces")
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidUrl(f"bad international domain name: {exc}") from exc
    ascii_host = ascii_host.lower()
    if ":" in ascii_host:  # IPv6 literal
        ascii_host = f"[{ascii_host}]"
    netloc = ascii_host
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


_LINK_SCHEMES = {"http", "https", "mailto"}


def linkable_url(raw: object) -> str:
    """``raw`` when it may become a clickable link (http, https or mailto), else "".

    Addresses from the platform directory or a platform's own data are shown to caseworkers; a
    ``javascript:`` or ``data:`` address must stay text. Browsers ignore tabs and newlines inside
    a scheme ("java\\tscript:"), so those are refused rather than read past.
    """
    text = str(raw or "").strip()
    if not text or any(ch in text for ch in "\t\r\n\x00") or any(ord(ch) < 0x20 for ch in text):
        return ""
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.lower() not in _LINK_SCHEMES:
        return ""
    web = scheme.lower() in {"http", "https"}
    if web and (not rest.startswith("//") or not urlsplit(text).hostname):
        return ""
    return text
