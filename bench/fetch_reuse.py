"""Fetch once per organisation (issue 17.4): requests and time with and without the shared fetch.

C cases of one organisation report U addresses between them (case c reports address c mod U, so
each address is in C/U cases). Each page shows K photos (one of the cases' two reference photos
and unrelated ones), served by a local server on 127.0.0.2 that answers each request after
``--delay`` seconds (a remote site is not instant) and counts every request. Each case has the
same two references, copied rows, so every case must find its match.

The scans run through the pipeline's own service (``reported_url_scan``, as the Celery task calls
it) in a pool of P processes on PostgreSQL, first with reuse switched off
(``FETCH_REUSE_WINDOW_HOURS=0``, what every case did before), then on (the default window), each
with its own copy of the addresses; then every URL is re-checked once (``purpose="recheck"``).

    nice .venv/bin/python bench/fetch_reuse.py --postgres postgres://postgres@127.0.0.1:5432/postgres
Options: --cases C (100), --urls U (10), --images K (2), --concurrency P (2), --delay s (0.2).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SITE = "127.0.0.2"


def _matcher_seconds(reported_url_id: int) -> float:
    """Build the case's matcher first (it is then cached in this process for the task): the part
    of a task that is the same with or without reuse."""
    from app.cases.models import ReportedUrl
    from app.matching.selectors import case_matcher

    started = time.monotonic()
    case_matcher(case=ReportedUrl.objects.select_related("case").get(pk=reported_url_id).case)
    return time.monotonic() - started


def _scan(reported_url_id: int) -> tuple[int, float, float]:
    from app.cases.services import reported_url_scan

    started = time.monotonic()
    matcher = _matcher_seconds(reported_url_id)
    reported_url_scan(reported_url_id=reported_url_id)
    return reported_url_id, time.monotonic() - started, matcher


def _recheck(reported_url_id: int) -> tuple[int, float, float]:
    from app.cases.models import ReportedUrl
    from app.fetching.services import reported_url_fetch_and_match

    started = time.monotonic()
    matcher = _matcher_seconds(reported_url_id)
    reported = ReportedUrl.objects.select_related("case").get(pk=reported_url_id)
    reported_url_fetch_and_match(reported_url=reported, purpose="recheck")
    return reported_url_id, time.monotonic() - started, matcher


def _median_ms(values: list[float]) -> float:
    return 1000 * sorted(values)[len(values) // 2] if values else float("nan")


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--urls", type=int, default=10)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()

    import psycopg
    from cryptography.fernet import Fernet

    db_name = f"jium_bench_reuse_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    data_dir = Path(tempfile.mkdtemp(prefix="jium-bench-reuse-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="app.settings",
        DATABASE_URL=args.postgres.rsplit("/", 1)[0] + f"/{db_name}",
        JIUM_DATA_DIR=str(data_dir),
        SECRET_KEY=uuid.uuid4().hex * 2,
        JIUM_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        FETCH_ALLOWED_PRIVATE_NETWORKS=f"{SITE}/32",
        OMP_NUM_THREADS="1",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from app.accounts.services import organization_create
    from app.cases.models import Reference, ReportedUrl
    from app.cases.services import case_create, reference_add_image, url_key
    from app.fetching.models import FetchRecord, SharedFetch
    from app.lib.urls import normalize_url
    from app.matching.models import Match
    from tests.fetching.servers import photo_bytes, photo_names
    from tests.servers import page_with_images, serve_handler

    names = photo_names()

    def handler(_host: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        parts = path.split("/")  # /<run>/post/<j>  or  /<run>/img/<j>-<k>/<name>
        if len(parts) == 4 and parts[2] == "post":
            j = int(parts[3])
            photos = [names[j % 2]] + [
                names[2 + (j * args.images + k) % (len(names) - 2)] for k in range(1, args.images)
            ]
            body = page_with_images(*(f"/{parts[1]}/img/{j}-{k}/{p}" for k, p in enumerate(photos)))
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body
        if len(parts) == 5 and parts[2] == "img":
            return 200, {"Content-Type": "image/jpeg"}, photo_bytes(parts[4])
        return None

    call_command("migrate", verbosity=0)
    # Warm up before the pools fork: imports and first-use set-up (OpenCV, faiss) are then paid
    # once here, not by whichever tasks happen to come first in each pool.
    from app.fetching.scan import outcome_rematch  # noqa: F401
    from app.matching.decode import decode_media
    from app.matching.engine import Matcher
    from app.matching.fingerprint import fingerprint_candidate, fingerprint_reference

    warm = decode_media(photo_bytes(names[0])).frames[0]
    Matcher([("warm", fingerprint_reference(warm))]).match(fingerprint_candidate(warm))
    try:
        with serve_handler(handler, SITE, delay=args.delay) as site:
            org = organization_create(name="Bench NGO")
            template = case_create(organization=org, actor=None, alias="refs", jurisdiction="KR")
            for name in names[:2]:
                reference_add_image(case=template, actor=None, data=photo_bytes(name), filename=name)
            refs = list(Reference.objects.filter(case=template).order_by("id"))

            def cases_for(run: str, count: int = args.cases, same_url: bool = False) -> list[int]:
                ids = []
                for c in range(count):
                    case = case_create(organization=org, actor=None, alias=f"{run} {c}", jurisdiction="KR")
                    Reference.objects.bulk_create(
                        [
                            Reference(
                                case=case, label=r.label, source=r.source, pdq_hex=r.pdq_hex,
                                pdq_quality=r.pdq_quality, fingerprint=r.fingerprint, hash_versions=r.hash_versions,
                            )
                            for r in refs
                        ]
                    )  # fmt: skip
                    normalized = normalize_url(
                        f"http://{SITE}:{site.port}/{run}/post/{0 if same_url else c % args.urls}"
                    )
                    ids.append(
                        ReportedUrl.objects.create(
                            case=case,
                            url=normalized,
                            normalized_url=normalized,
                            url_key=url_key(normalized),
                            host=SITE,
                        ).pk
                    )
                return ids

            print(
                f"{args.cases} cases of one organisation, {args.urls} addresses between them, {args.images} photos "
                f"per page, {args.delay:.2f} s per request, {args.concurrency} processes; PostgreSQL"
            )
            results = {}
            ctx = mp.get_context("fork")
            for run, window in (("off", 0.0), ("on", float(settings.FETCH_REUSE_WINDOW_HOURS or 6.0))):
                settings.FETCH_REUSE_WINDOW_HOURS = window
                ids = cases_for(run)
                _close_connections()
                row: dict[str, float] = {}
                for phase, fn in (("scan", _scan), ("recheck", _recheck)):
                    before = len(site.hits)
                    with ctx.Pool(args.concurrency, initializer=_close_connections) as pool:
                        started = time.monotonic()
                        per_task = pool.map(fn, ids, chunksize=1)
                        row[f"{phase}_s"] = time.monotonic() - started
                    row[f"{phase}_requests"] = len(site.hits) - before
                    row[f"{phase}_task_ms"] = _median_ms([t for _i, t, _m in per_task])
                    _close_connections()
                    purpose = "scan" if phase == "scan" else "recheck"
                    reused = set(
                        FetchRecord.objects.filter(
                            reported_url_id__in=ids, purpose=purpose, reused=True
                        ).values_list("reported_url_id", flat=True)
                    )
                    fetching = [t for i, t, _m in per_task if i not in reused]
                    reusing = [t for i, t, _m in per_task if i in reused]
                    print(
                        f"  reuse {run} {phase}: {len(fetching)} tasks fetched (median {_median_ms(fetching):.0f} ms), "
                        f"{len(reusing)} reused (median {_median_ms(reusing):.0f} ms); of each task, building the "
                        f"case's matcher took a median {_median_ms([m for _i, _t, m in per_task]):.0f} ms"
                    )
                _close_connections()
                row["matches"] = Match.objects.filter(reported_url__case__alias__startswith=f"{run} ").count()
                row["reused"] = FetchRecord.objects.filter(
                    reported_url__case__alias__startswith=f"{run} ", reused=True
                ).count()
                results[run] = row
                print(
                    f"reuse {run:3}: scan {row['scan_requests']:4d} requests {row['scan_s']:6.1f} s "
                    f"(median task {row['scan_task_ms']:5.0f} ms); re-check {row['recheck_requests']:4d} requests "
                    f"{row['recheck_s']:6.1f} s (median {row['recheck_task_ms']:5.0f} ms); "
                    f"{row['matches']} matches, {row['reused']} reused records"
                )
            off, on = results["off"], results["on"]
            for phase in ("scan", "recheck"):
                print(
                    f"{phase}: requests {off[f'{phase}_requests']:.0f} -> {on[f'{phase}_requests']:.0f} "
                    f"({on[f'{phase}_requests'] / off[f'{phase}_requests']:.2f}x), wall time "
                    f"{off[f'{phase}_s']:.1f} -> {on[f'{phase}_s']:.1f} s ({on[f'{phase}_s'] / off[f'{phase}_s']:.2f}x)"
                )
            # Database queries of one scan (the pipeline's service in this process), on fresh addresses.
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            counts = {}
            (plain,) = cases_for("q-off", count=1)
            first, second = cases_for("q-on", count=2, same_url=True)
            for label, rid, window in (
                ("without reuse", plain, 0.0),
                ("fetching", first, 6.0),
                ("reusing", second, 6.0),
            ):
                settings.FETCH_REUSE_WINDOW_HOURS = window
                with CaptureQueriesContext(connection) as ctx_q:
                    _scan(rid)
                counts[label] = len(ctx_q.captured_queries)
            print("database queries per scan: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            entries = list(SharedFetch.objects.all())
            sizes = sorted(len(bytes(e.data or b"")) for e in entries)
            print(
                f"shared fetches kept: {len(entries)}, {sizes[len(sizes) // 2] / 1024:.0f} KB each (median, "
                f"decrypted, {args.images} photos)"
                if sizes
                else "shared fetches kept: 0"
            )
            print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
            if off["matches"] != on["matches"]:
                print(f"WARNING: {off['matches']} matches without reuse, {on['matches']} with it")
        return 0
    finally:
        _close_connections()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
