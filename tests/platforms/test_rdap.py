"""Unknown domains: the abuse contact comes from RDAP (local stub), through the safe fetcher, cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from app.lib.http import FetchPolicy
from app.platforms.models import RdapCache
from app.platforms.rdap import abuse_contact_for, parse_rdap, registrable_domain
from tests.platforms.stubs import json_response, rdap_domain_answer, rdap_ip_answer, serve

POLICY = FetchPolicy(allowed_private_networks=("127.0.0.1/32",), retries=0, total_timeout=5)


def rdap_handler(host: str, path: str):  # type: ignore[no-untyped-def]
    if path == "/ip/203.0.113.7":
        return json_response(
            rdap_ip_answer(name="EXAMPLE-HOSTING", org="Example Hosting Ltd", abuse="abuse@hosting.example")
        )
    if path == "/domain/shady-site.example":
        return json_response(
            rdap_domain_answer(
                domain="shady-site.example",
                registrar="Example Registrar, Inc.",
                abuse="abuse@registrar.example",
            )
        )
    if path == "/domain/no-abuse.example":
        return json_response({"objectClassName": "domain", "entities": []})
    return None


@pytest.fixture
def rdap(settings):  # type: ignore[no-untyped-def]
    with serve(rdap_handler) as server:
        settings.RDAP_BASE_URL = server.base
        yield server


def test_hosting_provider_from_ip_first(db, rdap):
    contact = abuse_contact_for(host="cdn.shady-site.example", ip="203.0.113.7", policy=POLICY)
    assert contact is not None
    assert contact.email == "abuse@hosting.example"
    assert contact.holder == "Example Hosting Ltd"
    assert contact.source == "ip"
    assert rdap.hits == ["/ip/203.0.113.7"]


def test_registrar_when_no_ip(db, rdap):
    contact = abuse_contact_for(host="www.shady-site.example", policy=POLICY)
    assert contact is not None
    assert (contact.email, contact.holder, contact.source) == (
        "abuse@registrar.example",
        "Example Registrar, Inc.",
        "domain",
    )


def test_answers_are_cached(db, rdap):
    for _ in range(3):
        abuse_contact_for(host="shady-site.example", policy=POLICY)
    assert rdap.hits == ["/domain/shady-site.example"]
    assert RdapCache.objects.filter(kind="domain", key="shady-site.example", ok=True).count() == 1
    # An old answer is asked again.
    RdapCache.objects.update(fetched_at=timezone.now() - timedelta(days=31))
    abuse_contact_for(host="shady-site.example", policy=POLICY)
    assert len(rdap.hits) == 2


def test_no_abuse_contact_and_unreachable_rdap(db, rdap, settings):
    assert abuse_contact_for(host="no-abuse.example", policy=POLICY) is None
    assert abuse_contact_for(host="unknown.example", policy=POLICY) is None
    assert RdapCache.objects.get(key="unknown.example").error == "HTTP 404"
    # An RDAP server on an address the policy forbids is refused by the fetcher, not contacted.
    settings.RDAP_BASE_URL = "http://127.0.0.5:9"
    assert abuse_contact_for(host="other.example", policy=POLICY) is None
    assert "private or reserved" in RdapCache.objects.get(key="other.example").error


def test_registrable_domain():
    assert registrable_domain("a.b.example.com") == "example.com"
    assert registrable_domain("203.0.113.7") == "203.0.113.7"
    assert registrable_domain("[2001:db8::1]") == "2001:db8::1"
    assert registrable_domain("www.example.co.kr") == "example.co.kr"
    assert registrable_domain("img.example.co.uk") == "example.co.uk"
    assert registrable_domain("example.kr") == "example.kr"


def test_parse_nested_abuse_entity():
    email, holder = parse_rdap(rdap_ip_answer(name="N", org="Org", abuse="a@b.example"))
    assert (email, holder) == ("a@b.example", "Org")
