"""URL -> platform: which directory entry a reported address belongs to.

Host names are compared in their ASCII (punycode) form, and a directory domain covers all its
subdomains, so ``www.``, ``m.``, ``mobile.`` and CDN hosts such as ``scontent-icn1-1.xx.fbcdn.net``
resolve without listing each one. Short links are followed through the safe fetcher (or, when the
scan already followed them, through its recorded redirect chain).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import idna

from app.lib.http import FetchError, FetchPolicy, fetch, policy_from_settings

if TYPE_CHECKING:
    from app.platforms.models import Platform

_CACHE_SECONDS = 60.0
_lock = threading.Lock()
_index: _Index | None = None
_index_at = 0.0


def ascii_host(host: str) -> str:
    """Lower-case ASCII form of a host name (IDN -> punycode), without port or trailing dot."""
    text = host.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.translate(str.maketrans("\u3002\uff0e\uff61", "..."))
    if text.startswith("[") and "]" in text:
        return text[1 : text.index("]")]
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.rstrip(".")
    if text.startswith("*."):
        text = text[2:]
    if not text or text.isascii():
        return text
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        return text


def url_host(url: str) -> str:
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    return ascii_host(host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class _Index:
    hosts: dict[str, int] = field(default_factory=dict)  # domain -> platform id
    shorteners: dict[str, int | None] = field(default_factory=dict)  # host -> owner id or None

    def lookup(self, host: str, table: dict[str, int]) -> tuple[bool, int | None]:
        if not host:
            return False, None
        if _is_ip(host):
            return (host in table), table.get(host)
        labels = host.split(".")
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if candidate in table:
                return True, table[candidate]
        return False, None


def _build_index() -> _Index:
    from app.platforms.models import Platform
    from app.platforms.services import load_data_file

    index = _Index()
    for host in load_data_file().get("generic_shorteners", []):
        index.shorteners[ascii_host(host)] = None
    for pk, domains, shorteners in Platform.objects.filter(active=True).values_list(
        "pk", "domains", "shorteners"
    ):
        for d in domains or []:
            index.hosts.setdefault(ascii_host(d), pk)
        for s in shorteners or []:
            index.shorteners[ascii_host(s)] = pk
    return index


def _get_index() -> _Index:
    global _index, _index_at
    with _lock:
        if _index is None or time.monotonic() - _index_at > _CACHE_SECONDS:
            _index = _build_index()
            _index_at = time.monotonic()
        return _index


def directory_changed() -> None:
    """Forget the in-process index after an edit or a sync (other processes refresh within a minute)."""
    global _index
    with _lock:
        _index = None


def platform_id_for_host(host: str) -> int | None:
    found, pk = _get_index().lookup(ascii_host(host), _get_index().hosts)
    return pk if found else None


def is_short_link_host(host: str) -> bool:
    # Exact names only: i.redd.it is an image host even though redd.it is a short-link host.
    return ascii_host(host) in _get_index().shorteners


@dataclass
class Resolution:
    url: str
    host: str  # host of the page the content is on (after a short link)
    platform_id: int | None
    final_url: str
    short_link: bool = False
    error: str = ""

    @property
    def platform(self) -> Platform | None:
        from app.platforms.models import Platform

        return Platform.objects.filter(pk=self.platform_id).first() if self.platform_id else None


def _first_real_page(chain: list[str]) -> str | None:
    for hop in chain[1:]:
        if not is_short_link_host(url_host(hop)):
            return hop
    return None


def resolve_url(
    url: str,
    *,
    policy: FetchPolicy | None = None,
    redirect_chain: list[str] | None = None,
    follow_short_links: bool = True,
) -> Resolution:
    """The platform an address belongs to.

    ``redirect_chain``: what a scan already recorded for this URL, used instead of a new fetch.
    A short link that cannot be followed falls back to the platform that owns the short-link host
    (``t.co`` -> X), or to no platform for generic shorteners.
    """
    host = url_host(url)
    index = _get_index()
    if host in index.shorteners:
        owner = index.shorteners[host]
        chain = redirect_chain if redirect_chain and len(redirect_chain) > 1 else None
        error = ""
        if chain is None and follow_short_links:
            try:
                response = fetch(url, policy=policy or policy_from_settings())
                chain = [*response.redirect_chain]
                if response.final_url and (not chain or chain[-1] != response.final_url):
                    chain.append(response.final_url)
            except FetchError as exc:
                error = exc.reason
        target = _first_real_page(chain or [])
        if target is not None:
            resolved = resolve_url(target, follow_short_links=False)
            resolved.url, resolved.short_link = url, True
            return resolved
        return Resolution(url=url, host=host, platform_id=owner, final_url=url, short_link=True, error=error)
    found, pk = index.lookup(host, index.hosts)
    return Resolution(url=url, host=host, platform_id=pk if found else None, final_url=url)
