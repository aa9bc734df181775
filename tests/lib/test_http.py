"""The outbound-HTTP door, against real local servers (tests/fetching/servers.py)."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from datetime import UTC

import pytest

from app.lib.http import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    address_is_allowed,
    destination_check,
    fetch,
    literal_address,
    policy_from_settings,
    post,
)
from tests.fetching.servers import (
    CANARY_HOST,
    SITE_HOST,
    Canary,
    Internet,
    LocalServer,
    ProxyServer,
    brotli_bomb,
    deflate_bomb,
    drip_body,
    drip_headers,
    echo_headers,
    encoded,
    flaky,
    gzip_bomb,
    gzipped,
    internet,  # noqa: F401 - fixture
    make_tls,
    oversized_declared,
    oversized_undeclared,
    photo_bytes,
    photo_names,
    redirect,
    redirect_chain_handler,
    send,
    sha256,
    slow_ok,
    stall,
    test_policy,
)
from tests.servers import machine_name_on_a_private_address

# ---- address classification ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2001:4860:4860::8888",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    ],
)  # fmt: skip
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_is_allowed(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.251", "239.255.255.250",
        "240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1",
        "203.0.113.1", "192.88.99.1",
        "::1", "::", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "::ffff:0:127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::",
        "2002:a00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:db8::1", "fc00::1", "fd12:3456::1",
        "fe80::1", "fec0::1", "ff02::1", "100::1", "3fff::1", "fe80::1%1",
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_is_allowed(address)


def test_allowed_networks_are_the_only_exception() -> None:
    allowed = ("127.0.0.2/32", "10.20.0.0/16")
    assert address_is_allowed("127.0.0.2", allowed)
    assert address_is_allowed("::ffff:127.0.0.2", allowed)  # the same socket destination
    assert address_is_allowed("10.20.3.4", allowed)
    assert not address_is_allowed("127.0.0.9", allowed)
    assert not address_is_allowed("10.21.0.1", allowed)
    with pytest.raises(ValueError):
        FetchPolicy(allowed_private_networks=("not-a-network",))


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"), ("0177.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"), ("127.0.0.1.", "127.0.0.1"), ("0", "0.0.0.0"),
        ("１２７．０．０．１", "127.0.0.1"), ("127。0。0。1", "127.0.0.1"), ("[::1]", "::1"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"), ("2852039166", "169.254.169.254"),
    ],
)  # fmt: skip
def test_every_ipv4_spelling_is_recognised(spelling: str, expected: str) -> None:
    assert literal_address(spelling) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "name", ["example.com", "1.2.3.com", "xn--vf4bi0o.test", "0x7g.1", "256.256.256.256.256"]
)
def test_host_names_are_not_mistaken_for_addresses(name: str) -> None:
    assert literal_address(name) is None


# ---- friendly fetches ------------------------------------------------------------------------


def test_fetches_a_photo_with_full_evidence(internet: Internet) -> None:
    name = photo_names()[0]
    response = fetch(internet.site.url(f"/photos/{name}"), policy=test_policy())
    assert response.http_status == 200
    assert response.body == photo_bytes(name)
    assert response.sha256 == sha256(photo_bytes(name))
    assert response.size == len(photo_bytes(name))
    assert response.resolved_ip == SITE_HOST
    assert response.final_url == response.requested_url == internet.site.url(f"/photos/{name}")
    assert response.redirect_chain == [response.final_url]
    assert response.headers["content-type"] == "image/jpeg"
    assert "server" in response.headers
    assert response.fetched_at.tzinfo is UTC


def test_sends_an_honest_user_agent_and_no_credentials(internet: Internet) -> None:
    internet.site.route("/echo", echo_headers)
    url = internet.site.url("/echo").replace("http://", "http://someone:secret@")
    response = fetch(url, policy=test_policy())
    sent = {k.lower(): v for k, v in json.loads(response.body).items()}
    assert sent["user-agent"].startswith("Jium/")
    assert "authorization" not in sent


def test_follows_redirects_and_records_the_chain(internet: Internet) -> None:
    internet.site.prefix_routes["/chain/"] = redirect_chain_handler
    internet.site.route("/to-cdn", redirect(internet.cdn.url("/photos/" + photo_names()[3]), 301))
    response = fetch(internet.site.url("/chain/3"), policy=test_policy())
    assert response.http_status == 200
    assert response.redirect_chain == [internet.site.url(f"/chain/{n}") for n in (3, 2, 1, 0)]
    assert response.final_url == internet.site.url("/chain/0")

    response = fetch(internet.site.url("/to-cdn"), policy=test_policy())
    assert response.resolved_ip == "127.0.0.3"
    assert response.body == photo_bytes(photo_names()[3])


def test_at_most_five_redirects(internet: Internet) -> None:
    internet.site.prefix_routes["/chain/"] = redirect_chain_handler
    assert fetch(internet.site.url("/chain/5"), policy=test_policy()).http_status == 200
    with pytest.raises(FetchFailed) as caught:
        fetch(internet.site.url("/chain/6"), policy=test_policy())
    assert caught.value.code == "too_many_redirects"
    assert not caught.value.transient
    assert internet.site.hits("/chain/0") == 1  # only the first, successful run got there


def test_redirect_loop_ends_quickly(internet: Internet) -> None:
    internet.site.route("/loop/a", redirect("/loop/b"))
    internet.site.route("/loop/b", redirect("/loop/a"))
    internet.site.route("/self", redirect("/self"))
    for path in ("/loop/a", "/self"):
        started = time.monotonic()
        with pytest.raises(FetchFailed) as caught:
            fetch(internet.site.url(path), policy=test_policy())
        assert caught.value.code == "redirect_loop"
        assert time.monotonic() - started < 2


def test_non_2xx_is_returned_not_raised(internet: Internet) -> None:
    response = fetch(internet.site.url("/missing"), policy=test_policy())
    assert response.http_status == 404
    assert response.body == b"not found"
    assert internet.site.hits("/missing") == 1  # 404 is permanent: no retry


def test_empty_body(internet: Internet) -> None:
    internet.site.file("/empty", b"")
    response = fetch(internet.site.url("/empty"), policy=test_policy())
    assert (response.http_status, response.size, response.body) == (200, 0, b"")
    assert response.sha256 == sha256(b"")


def test_gzip_and_brotli_bodies_are_decoded(internet: Internet) -> None:
    import brotli

    page = b"<html><body>" + "안녕하세요 ".encode() * 500 + b"</body></html>"
    internet.site.route("/gz", gzipped(page, "text/html"))
    internet.site.route("/br", encoded(lambda: brotli.compress(page), "br"))
    internet.site.route("/raw-deflate", encoded(lambda: _raw_deflate(page), "deflate"))
    for path in ("/gz", "/br", "/raw-deflate"):
        response = fetch(internet.site.url(path), policy=test_policy())
        assert response.body == page, path
        assert response.sha256 == sha256(page)


def _raw_deflate(data: bytes) -> bytes:
    import zlib

    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# ---- refusals: nothing may reach the canaries ------------------------------------------------


def _spellings() -> list[str]:
    net = Internet()
    try:
        return [label for label, _ in net.refused_spellings()]
    finally:
        net.stop()


SPELLINGS = _spellings()


@pytest.mark.parametrize("label", SPELLINGS)
def test_every_forbidden_spelling_is_refused_directly(internet: Internet, label: str) -> None:
    url = dict(internet.refused_spellings())[label]
    started = time.monotonic()
    with pytest.raises(FetchRefused) as caught:
        fetch(url, policy=test_policy())
    assert caught.value.reason
    assert time.monotonic() - started < 1
    assert internet.canary_contacts() == 0


@pytest.mark.parametrize("label", [s for s in SPELLINGS if s != "no-host"])  # relative when redirecting
def test_every_forbidden_spelling_is_refused_after_a_redirect(internet: Internet, label: str) -> None:
    url = dict(internet.refused_spellings())[label]
    internet.site.route("/go", redirect(url))
    internet.cdn.route("/hop", redirect(internet.site.url("/go"), 307))
    with pytest.raises(FetchRefused) as caught:
        fetch(internet.cdn.url("/hop"), policy=test_policy())
    assert "redirect" in caught.value.reason
    assert internet.site.hits("/go") == 1
    assert internet.canary_contacts() == 0


def test_without_allowed_networks_even_the_test_site_is_refused(internet: Internet) -> None:
    with pytest.raises(FetchRefused):
        fetch(
            internet.site.url("/photos/" + photo_names()[0]), policy=test_policy(allowed_private_networks=())
        )
    assert internet.site.connections == 0


def test_host_names_are_checked_on_the_address_connected_to(internet: Internet) -> None:
    """A public-looking name that resolves to a forbidden address is refused at connect time."""
    answers = {
        "innocent.example": [CANARY_HOST],
        "mixed.example": [SITE_HOST, CANARY_HOST],
        "bad.example": ["nonsense"],
    }
    policy = test_policy(resolver=lambda host, port: answers[host])
    for host in answers:
        with pytest.raises(FetchRefused):
            fetch(f"http://{host}:{internet.canary.port}/x", policy=policy)
    assert internet.canary_contacts() == 0


def test_dns_rebinding_is_caught_at_connect_time() -> None:
    """The name first resolves to an allowed address, then to the canary: the second connection is refused.

    The site and the canary listen on the same port on different addresses, so only the address
    actually connected to decides which one is reached.
    """
    site = LocalServer(SITE_HOST).start()
    try:
        canary = Canary(CANARY_HOST, site.port).start()
    except OSError:
        site.stop()
        pytest.skip("port taken on the canary address")
    try:
        calls: list[str] = []

        def rebinding(host: str, port: int) -> list[str]:
            calls.append(host)
            return [SITE_HOST] if len(calls) == 1 else [CANARY_HOST]

        site.route(
            "/start", lambda h: send(h, b"", status=302, headers={"Location": "/next", "Connection": "close"})
        )
        site.route("/next", lambda h: send(h, b"site", content_type="text/plain"))
        with pytest.raises(FetchRefused) as caught:
            fetch(f"http://rebind.example:{site.port}/start", policy=test_policy(resolver=rebinding))
        assert "redirect" in caught.value.reason
        assert len(calls) == 2
        assert site.hits("/start") == 1 and site.hits("/next") == 0
        assert canary.connections == 0

        # The same trick between retries of one URL.
        calls.clear()
        site.route("/flaky", flaky(1, status=503, close=True))
        with pytest.raises(FetchRefused):
            fetch(f"http://rebind.example:{site.port}/flaky", policy=test_policy(resolver=rebinding))
        assert canary.connections == 0
    finally:
        canary.stop()
        site.stop()


def test_https_connects_to_the_checked_address_and_keeps_sni(internet: Internet, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context, ca_file = make_tls(tmp_path, "photos.example")
    tls_site = LocalServer(SITE_HOST, tls=context).start()
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    tls_site.prefix_routes["/photos/"] = internet.site.prefix_routes["/photos/"]
    name = photo_names()[4]
    answers = {"photos.example": [SITE_HOST], "other.example": [SITE_HOST]}
    policy = test_policy(resolver=lambda host, port: answers[host], verify=str(ca_file))
    try:
        response = fetch(f"https://photos.example:{tls_site.port}/photos/{name}", policy=policy)
        assert response.body == photo_bytes(name)
        assert response.resolved_ip == SITE_HOST
        assert names == ["photos.example"]
        # The certificate is checked against the name in the URL, not the address.
        with pytest.raises(FetchFailed) as caught:
            fetch(f"https://other.example:{tls_site.port}/photos/{name}", policy=policy)
        assert caught.value.code == "tls"
    finally:
        tls_site.stop()


def test_proxy_is_used_and_destinations_are_still_checked(internet: Internet) -> None:
    proxy = ProxyServer(SITE_HOST).start()
    try:
        name = photo_names()[6]
        policy = test_policy(proxy=proxy.origin)
        response = fetch(internet.cdn.url(f"/photos/{name}"), policy=policy)
        assert response.body == photo_bytes(name)
        assert response.headers.get("via") == "1.1 test-proxy"
        assert proxy.requests == [internet.cdn.url(f"/photos/{name}")]
        assert response.resolved_ip is None  # the proxy, not Jium, connected to the site
        for _label, url in internet.refused_spellings()[:12]:
            with pytest.raises(FetchRefused):
                fetch(url, policy=policy)
        assert len(proxy.requests) == 1
        assert internet.canary_contacts() == 0
    finally:
        proxy.stop()


# ---- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour", [drip_body, drip_headers, stall], ids=["drip-body", "drip-headers", "stall"]
)
def test_slow_servers_are_cut_off_at_the_total_timeout(internet: Internet, behaviour) -> None:  # type: ignore[no-untyped-def]
    internet.site.route("/slow", behaviour)
    started = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(internet.site.url("/slow"), policy=test_policy(total_timeout=2.0))
    elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert (
        1.9 < elapsed < 30
    )  # the slow servers take a minute: cut off (an upper bound near 2 s would time the machine)


def test_connect_timeout(internet: Internet) -> None:
    """A server whose accept queue is full: the connection never completes."""
    import socket

    listener = socket.socket()
    listener.bind((SITE_HOST, 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):  # fill the backlog so further SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(listener.getsockname())
            fillers.append(s)
        started = time.monotonic()
        with pytest.raises(FetchFailed) as caught:
            fetch(
                f"http://{SITE_HOST}:{listener.getsockname()[1]}/",
                policy=test_policy(connect_timeout=0.5, total_timeout=3, retries=1),
            )
        assert caught.value.code in ("timeout", "connect")
        assert time.monotonic() - started < 3.5
    finally:
        for s in fillers:
            s.close()
        listener.close()


@pytest.mark.parametrize(
    ("path", "handler_factory"),
    [
        ("/declared", lambda: oversized_declared),
        ("/undeclared", lambda: oversized_undeclared),
        ("/gzip-bomb", lambda: encoded(gzip_bomb, "gzip")),
        ("/deflate-bomb", lambda: encoded(deflate_bomb, "deflate")),
        ("/brotli-bomb", lambda: encoded(brotli_bomb, "br")),
        ("/gzip-br-bomb", lambda: encoded(lambda: brotli_bomb(), "gzip, br")),
    ],
)
def test_byte_cap_applies_to_the_decoded_body(internet: Internet, path: str, handler_factory) -> None:  # type: ignore[no-untyped-def]
    import tracemalloc

    if path == "/gzip-br-bomb":
        import gzip

        body = gzip.compress(brotli_bomb())  # br applied first, then gzip
        internet.site.route(
            path, lambda h: send(h, body, content_type="text/html", headers={"Content-Encoding": "br, gzip"})
        )
    else:
        internet.site.route(path, handler_factory())
    # Peak memory allocated while fetching (Python objects, which is where decoded bytes go),
    # measured from zero for this fetch alone: the process's own peak RSS may be anything.
    tracemalloc.start()
    try:
        with pytest.raises(FetchFailed) as caught:
            # A time budget no bomb needs: it must end at the byte cap, however loaded the machine.
            fetch(internet.site.url(path), policy=test_policy(max_bytes=2 * 1024 * 1024, total_timeout=120.0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == "too_large"
    assert not caught.value.transient
    # The cap is 2 MB (measured peaks 0.4-2.9 MB); the bodies decode to 64 MB-10 GB.
    assert peak < 8 * 1024 * 1024


def test_corrupt_compressed_body(internet: Internet) -> None:
    internet.site.route(
        "/bad-gzip", lambda h: send(h, b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(FetchFailed) as caught:
        fetch(internet.site.url("/bad-gzip"), policy=test_policy())
    assert caught.value.code == "bad_encoding"


# ---- retries ---------------------------------------------------------------------------------


def test_retry_that_succeeds(internet: Internet) -> None:
    internet.site.route("/flaky", flaky(2, status=503))
    response = fetch(internet.site.url("/flaky"), policy=test_policy())
    assert response.http_status == 200
    assert response.attempts == 3
    assert internet.site.hits("/flaky") == 3


def test_persistent_500_fails_after_retries_with_the_last_answer(internet: Internet) -> None:
    internet.site.route("/broken", lambda h: send(h, b"oops", status=500, content_type="text/plain"))
    with pytest.raises(FetchFailed) as caught:
        fetch(internet.site.url("/broken"), policy=test_policy(retries=2))
    error = caught.value
    assert error.transient and error.http_status == 500 and error.code == "http_error"
    assert error.partial is not None and error.partial.http_status == 500 and error.partial.body == b"oops"
    assert internet.site.hits("/broken") == 3


def test_429_honours_retry_after(internet: Internet) -> None:
    internet.site.route("/limited", flaky(1, status=429, retry_after="1"))
    started = time.monotonic()
    response = fetch(internet.site.url("/limited"), policy=test_policy())
    assert response.http_status == 200
    assert time.monotonic() - started >= 1.0


def test_429_asking_for_too_long_a_wait_is_not_waited_for(internet: Internet) -> None:
    internet.site.route("/limited", flaky(5, status=429, retry_after="3600"))
    started = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(internet.site.url("/limited"), policy=test_policy())
    assert caught.value.http_status == 429 and caught.value.transient
    assert time.monotonic() - started < 1
    assert internet.site.hits("/limited") == 1


def test_refused_connection_is_retried_then_reported(internet: Internet) -> None:
    import socket

    s = socket.socket()
    s.bind((SITE_HOST, 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(FetchFailed) as caught:
        fetch(f"http://{SITE_HOST}:{port}/", policy=test_policy())
    assert caught.value.code == "connect" and caught.value.transient


# ---- politeness ------------------------------------------------------------------------------


def test_per_host_concurrency_is_limited(internet: Internet) -> None:
    internet.site.route("/slowish", slow_ok(0.3))
    policy = test_policy(per_host_concurrency=2)
    threads = [
        threading.Thread(target=fetch, args=(internet.site.url("/slowish"),), kwargs={"policy": policy})
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert internet.site.hits("/slowish") == 6
    assert internet.site.max_active == 2


# ---- settings --------------------------------------------------------------------------------


def test_policy_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.2/32", " 10.0.0.0/8 "]
    settings.FETCH_PROXY = "socks5://127.0.0.1:9050"
    settings.FETCH_MAX_BYTES = 1234
    settings.FETCH_TOTAL_TIMEOUT = 7.5
    policy = policy_from_settings()
    assert policy.allowed_private_networks == ("127.0.0.2/32", "10.0.0.0/8")
    assert policy.proxy == "socks5://127.0.0.1:9050"
    assert (policy.max_bytes, policy.total_timeout) == (1234, 7.5)
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = "127.0.0.2/32,127.0.0.3/32"
    assert policy_from_settings(retries=0).allowed_private_networks == ("127.0.0.2/32", "127.0.0.3/32")


def test_the_canary_does_count_contacts(internet: Internet) -> None:
    """Guards the zero-contact assertions above: once its network is allowed, the spellings reach it."""
    policy = test_policy(allowed_private_networks=("127.0.0.0/8",))
    spellings = dict(internet.refused_spellings())
    for label in ("dotted", "decimal", "hex", "short-2", "userinfo"):
        assert fetch(spellings[label], policy=policy).http_status == 200, label
    assert internet.canary.connections == 5
    assert internet.loopback_canary.connections == 0


def test_destination_check_looks_names_up_under_the_connect_time_rule(internet: Internet) -> None:
    """Registration-time check (webhooks): a real name that resolves to this machine is refused only
    when asked to resolve; the same name is refused by post() at connect time, and an allowed
    private network lets both through. A name that does not resolve is left to the connect-time guard."""
    name = machine_name_on_a_private_address()
    url = f"http://{name}:{internet.loopback_canary.port}/hook"
    policy = test_policy(allowed_private_networks=())
    destination_check(url, policy=policy)  # no lookup: the name alone says nothing
    with pytest.raises(FetchRefused) as caught:
        destination_check(url, policy=policy, resolve=True)
    assert caught.value.code == "private_address" and caught.value.url == url
    with pytest.raises(FetchRefused) as caught:
        post(url, content=b"{}", headers={}, policy=policy)
    assert caught.value.code == "private_address"
    assert internet.canary_contacts() == 0
    destination_check(url, policy=test_policy(allowed_private_networks=("0.0.0.0/0", "::/0")), resolve=True)
    destination_check("http://no-such-host.invalid/hook", policy=policy, resolve=True)

    # Mixed answers, one of them private, are refused like at connect time; so is an unreadable one.
    answers = {
        "mixed.example": [SITE_HOST, "93.184.215.14"],
        "bad.example": ["nonsense"],
        "xn--bcher-kva.example": [SITE_HOST],  # looked up as the connection spells it
    }
    public_only = test_policy(allowed_private_networks=(), resolver=lambda host, port: answers[host])
    for host in ("mixed.example", "bad.example", "bücher.example"):
        with pytest.raises(FetchRefused):
            destination_check(f"https://{host}/hook", policy=public_only, resolve=True)
    # Behind a proxy names are the proxy's to resolve.
    destination_check(
        url, policy=test_policy(allowed_private_networks=(), proxy="http://127.0.0.1:9"), resolve=True
    )
