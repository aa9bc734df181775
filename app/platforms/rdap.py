"""Who to write to when a domain is not in the directory: the abuse contact found over RDAP.

The hosting provider (RDAP for the IP address the scan connected to) is asked first: it can
take the files down. The domain's registrar comes second. Every request goes through the safe
fetcher; answers (and failures, for a shorter time) are cached in the database.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from app.lib.http import FetchError, FetchPolicy, fetch, policy_from_settings
from app.platforms.models import RdapCache

log = logging.getLogger(__name__)

# Second-level labels under which registrations happen one level deeper (example.co.kr).
_SECOND_LEVEL = frozenset(
    {"co", "or", "ne", "go", "ac", "re", "pe", "com", "net", "org", "gov", "edu", "ltd", "plc",
     "me", "nom", "gen", "biz", "info"}
)  # fmt: skip


@dataclass(frozen=True)
class AbuseContact:
    email: str
    holder: str  # the organisation that holds the network or the registrar's name
    source: str  # "ip" | "domain"
    rdap_url: str

    @property
    def key(self) -> str:
        return f"abuse:{self.email.lower()}"


def registrable_domain(host: str) -> str:
    """An approximation of the registered name (no public suffix list: good enough for RDAP).

    An address written as an IP has no registered name: it is its own site.
    """
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host.strip("[]")))
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _vcard_value(entity: dict[str, Any], name: str) -> str:
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) < 2 or not isinstance(card[1], list):
        return ""
    for prop in card[1]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == name and isinstance(prop[3], str):
            return prop[3].strip()
    return ""


def _walk(entities: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict):
            out.append(entity)
            out.extend(_walk(entity.get("entities")))
    return out


def parse_rdap(payload: dict[str, Any]) -> tuple[str, str]:
    """(abuse email, holder name) from an RDAP domain or IP network answer (RFC 9083)."""
    entities = _walk(payload.get("entities"))
    email = ""
    for entity in entities:
        roles = entity.get("roles") or []
        if "abuse" in roles:
            email = _vcard_value(entity, "email")
            if email:
                break
    holder = ""
    for wanted in ("registrant", "registrar", "administrative"):
        for entity in entities:
            if wanted in (entity.get("roles") or []):
                holder = _vcard_value(entity, "fn") or _vcard_value(entity, "org")
                if holder:
                    break
        if holder:
            break
    if not holder:
        holder = str(payload.get("name") or "")
    return email, holder[:300]


def _lookup(kind: str, key: str, policy: FetchPolicy) -> RdapCache:
    ttl_ok = timedelta(days=int(getattr(settings, "RDAP_CACHE_DAYS", 30)))
    ttl_failed = timedelta(hours=int(getattr(settings, "RDAP_FAILURE_CACHE_HOURS", 24)))
    cached = RdapCache.objects.filter(kind=kind, key=key).first()
    now = timezone.now()
    if cached is not None and now - cached.fetched_at < (ttl_ok if cached.ok else ttl_failed):
        return cached
    base = str(getattr(settings, "RDAP_BASE_URL", "https://rdap.org")).rstrip("/")
    url = f"{base}/{kind}/{quote(key, safe=':.')}"
    values: dict[str, Any] = {
        "ok": False,
        "abuse_email": "",
        "holder_name": "",
        "rdap_url": url,
        "error": "",
        "fetched_at": now,
    }
    try:
        response = fetch(url, policy=policy)
        if response.http_status != 200:
            values["error"] = f"HTTP {response.http_status}"
        else:
            email, holder = parse_rdap(json.loads(response.body.decode("utf-8")))
            values.update(
                ok=True, abuse_email=email[:320], holder_name=holder, rdap_url=response.final_url[:1000]
            )
    except FetchError as exc:
        values["error"] = exc.reason[:300]
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        values["error"] = f"unreadable RDAP answer: {exc}"[:300]
    record, _ = RdapCache.objects.update_or_create(kind=kind, key=key, defaults=values)
    return record


def abuse_contact_for(*, host: str, ip: str = "", policy: FetchPolicy | None = None) -> AbuseContact | None:
    """The hosting provider's (else the registrar's) abuse address for an unknown host, or None."""
    policy = policy or policy_from_settings()
    lookups: list[tuple[str, str]] = []
    if ip:
        lookups.append(("ip", ip))
    if host and not _looks_like_ip(host):
        lookups.append(("domain", registrable_domain(host)))
    elif host and not ip:
        lookups.append(("ip", host))
    for kind, key in lookups:
        record = _lookup(kind, key, policy)
        if record.ok and record.abuse_email:
            return AbuseContact(
                email=record.abuse_email, holder=record.holder_name, source=kind, rdap_url=record.rdap_url
            )
    return None


def _looks_like_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
