"""Hostile sites against the scanner: time and peak memory of every case, canary contacts.

Runs every hostile case of issue 4 through ``app.fetching.scan.scan_url`` with the production
limits (FetchPolicy defaults: 25 MB decoded body, 5 redirects, retries with backoff), except the
time budget per fetch, which is ``--total-timeout`` (default 20 s) so the bench stays short;
each case must end as refused/error well inside 30 s and the whole process under 1 GB peak RSS.

    .venv/bin/python bench/hostile_fetch.py          # a table
    .venv/bin/python bench/hostile_fetch.py --json   # one JSON line (used by tests/fetching/test_scan.py)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.fetching.scan import scan_url  # noqa: E402
from app.lib.http import FetchPolicy  # noqa: E402
from tests.fetching.servers import (  # noqa: E402
    TEST_NETWORKS,
    Internet,
    brotli_bomb,
    deflate_bomb,
    drip_body,
    drip_headers,
    encoded,
    gzip_bomb,
    oversized_declared,
    oversized_undeclared,
    photo_bytes,
    photo_names,
    png_pixel_bomb,
    send,
    stall,
    truncated_jpeg,
)


def peak_rss_mb() -> float:
    """This process's own peak RSS in MB.

    ``ru_maxrss`` survives execve, so a bench started from a large process (the test runner,
    ~1 GB late in the suite) would report its parent's size; ``VmHWM`` starts afresh at exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build_cases(net: Internet) -> list[tuple[str, str, set[str]]]:
    site = net.site
    names = photo_names()
    small = min(names, key=lambda n: len(photo_bytes(n)))
    site.file("/bomb.png", png_pixel_bomb(), content_type="image/png")
    site.file("/truncated.jpg", truncated_jpeg())
    site.file("/html-as-jpeg", b"<!doctype html><html><body>hello</body></html>", content_type="image/jpeg")
    site.file("/empty", b"", content_type="text/html")
    site.route("/e500", lambda h: send(h, b"oops", status=500, content_type="text/plain"))
    site.route("/drip", drip_body)
    site.route("/drip-headers", drip_headers)
    site.route("/stall", stall)
    site.route("/oversized-declared", oversized_declared)
    site.route("/oversized", oversized_undeclared)
    site.route("/gzip-bomb", encoded(gzip_bomb, "gzip"))
    site.route("/deflate-bomb", encoded(deflate_bomb, "deflate"))
    site.route("/brotli-bomb", encoded(brotli_bomb, "br"))
    site.route("/loop", lambda h: send(h, b"", status=302, headers={"Location": "/loop2"}))
    site.route("/loop2", lambda h: send(h, b"", status=302, headers={"Location": "/loop"}))
    for n in range(8):
        site.route(f"/r{n}", lambda h, n=n: send(h, b"", status=301, headers={"Location": f"/r{n + 1}"}))
    spellings = net.refused_spellings()
    site.route("/to-canary", lambda h: send(h, b"", status=302, headers={"Location": spellings[1][1]}))
    site.page("/images-to-canary", "".join(f'<img src="{url}">' for _label, url in spellings))
    site.page("/5000-images", "".join(f'<img src="/photos/{small}?n={i}">' for i in range(5000)))
    hostile_media = [
        "/bomb.png",
        "/truncated.jpg",
        "/html-as-jpeg",
        "/empty",
        "/e500",
        "/drip",
        "/gzip-bomb",
        "/brotli-bomb",
        "/to-canary",
    ]
    site.page("/hostile-media", "".join(f'<img src="{src}">' for src in hostile_media))

    cases: list[tuple[str, str, set[str]]] = [
        ("decompression-bomb image (30000x30000 PNG)", site.url("/bomb.png"), {"error"}),
        ("truncated JPEG", site.url("/truncated.jpg"), {"error"}),
        ("HTML served as image/jpeg", site.url("/html-as-jpeg"), {"error"}),
        ("0-byte body", site.url("/empty"), {"error"}),
        ("404", site.url("/nothing-here"), {"error"}),
        ("500 (retried, then error)", site.url("/e500"), {"error"}),
        ("slow drip, 1 byte/s body", site.url("/drip"), {"error"}),
        ("slow drip, 1 byte/s headers", site.url("/drip-headers"), {"error"}),
        ("stalled server", site.url("/stall"), {"error"}),
        ("oversized, declared 10 GB", site.url("/oversized-declared"), {"error"}),
        ("oversized, undeclared 64 MB", site.url("/oversized"), {"error"}),
        ("gzip bomb (256 MB)", site.url("/gzip-bomb"), {"error"}),
        ("deflate bomb (128 MB)", site.url("/deflate-bomb"), {"error"}),
        ("brotli bomb (1 GB)", site.url("/brotli-bomb"), {"error"}),
        ("redirect loop", site.url("/loop"), {"error"}),
        ("more than 5 redirects", site.url("/r0"), {"error"}),
        ("redirect to canary", site.url("/to-canary"), {"refused"}),
    ]
    cases += [(f"refused spelling: {label}", url, {"refused"}) for label, url in spellings]
    # Pages that must complete (status ok) in bounded time, their bad media reported per item.
    cases += [
        ("page: <img> to every refused spelling", site.url("/images-to-canary"), {"ok"}),
        ("page: hostile media items", site.url("/hostile-media"), {"ok"}),
        ("page: 5,000 images (cap 200)", site.url("/5000-images"), {"ok"}),
    ]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--total-timeout", type=float, default=20.0)
    args = parser.parse_args()

    policy = FetchPolicy(allowed_private_networks=TEST_NETWORKS, total_timeout=args.total_timeout)
    net = Internet()
    rows = []
    started_all = time.monotonic()
    try:
        for label, url, expected in build_cases(net):
            started = time.monotonic()
            outcome = scan_url(url, policy=policy, max_media=200)
            seconds = time.monotonic() - started
            item_statuses: dict[str, int] = {}
            for item in outcome.media:
                item_statuses[item.status] = item_statuses.get(item.status, 0) + 1
            rows.append(
                {
                    "case": label,
                    "status": outcome.status,
                    "expected": sorted(expected),
                    "error": outcome.error,
                    "seconds": round(seconds, 3),
                    "media": item_statuses,
                    "rss_mb_so_far": peak_rss_mb(),
                }
            )
        canary_contacts = net.canary_contacts()
    finally:
        net.stop()
    report = {
        "cases": rows,
        "canary_contacts": canary_contacts,
        "peak_rss_mb": peak_rss_mb(),
        "total_seconds": round(time.monotonic() - started_all, 1),
        "total_timeout": args.total_timeout,
    }
    if args.json:
        print(json.dumps(report))
    else:
        width = max(len(r["case"]) for r in rows)
        for r in rows:
            flag = "" if r["status"] in r["expected"] else "   <-- UNEXPECTED"
            media = f" media={r['media']}" if r["media"] else ""
            print(
                f"{r['case']:<{width}}  {r['status']:<8} {r['seconds']:7.2f}s  rss={r['rss_mb_so_far']:.0f}MB{media}{flag}"
            )
        print(f"\ncanary contacts: {canary_contacts}")
        print(
            f"peak RSS: {report['peak_rss_mb']} MB; slowest case: {max(r['seconds'] for r in rows):.2f} s; total {report['total_seconds']} s"
        )
    ok = canary_contacts == 0 and all(r["status"] in r["expected"] and r["seconds"] < 30 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
