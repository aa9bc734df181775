"""Short links are followed through the safe fetcher (local servers stand in for t.co and x.com)."""

from __future__ import annotations

from app.lib.http import FetchPolicy
from app.platforms.resolve import resolve_url
from tests.platforms.stubs import serve


def test_short_links_followed_to_the_real_platform(directory):
    def handler(host: str, path: str):  # type: ignore[no-untyped-def]
        name = host.split(":")[0]
        if name == "t.co" and path == "/AbCd123":
            return 301, {"Location": f"http://i.imgur.com:{port}/abc.jpg"}, b""
        if name == "bit.ly" and path == "/3xYz":
            return 302, {"Location": f"http://t.co:{port}/AbCd123"}, b""
        if name == "redd.it" and path == "/1abcd":
            return 301, {"Location": f"http://www.reddit.com:{port}/r/x/comments/1abcd/"}, b""
        if name in ("i.imgur.com", "www.reddit.com"):
            return 200, {"Content-Type": "text/html"}, b"<html></html>"
        return None

    with serve(handler) as server:
        port = server.port
        hosts = {"t.co", "bit.ly", "redd.it", "i.imgur.com", "www.reddit.com"}
        policy = FetchPolicy(
            allowed_private_networks=("127.0.0.1/32",),
            retries=0,
            total_timeout=5,
            resolver=lambda host, _port: ["127.0.0.1"] if host in hosts else [],
        )
        r = resolve_url(f"http://t.co:{port}/AbCd123", policy=policy)
        assert (r.platform.slug, r.short_link) == ("imgur", True)
        # A generic shortener pointing at another shortener: both are followed.
        assert resolve_url(f"http://bit.ly:{port}/3xYz", policy=policy).platform.slug == "imgur"
        assert resolve_url(f"http://redd.it:{port}/1abcd", policy=policy).platform.slug == "reddit"
        # A dead short link falls back to the platform owning the short-link host.
        dead = resolve_url(f"http://t.co:{port}/gone", policy=policy)
        assert dead.platform.slug == "x"
        # i.redd.it is an image host, not a short link: nothing is fetched.
        hits = len(server.hits)
        assert resolve_url("https://i.redd.it/abc.jpg", policy=policy).platform.slug == "reddit"
        assert len(server.hits) == hits


def test_chain_recorded_by_the_scan_is_used_without_fetching(directory):
    r = resolve_url(
        "https://t.co/AbCd123",
        redirect_chain=[
            "https://t.co/AbCd123",
            "https://bit.ly/x",
            "https://cdn.discordapp.com/attachments/1/2/a.jpg",
        ],
        policy=FetchPolicy(resolver=lambda h, p: []),
    )
    assert r.platform.slug == "discord"
    assert r.short_link
