"""Beat schedule over 100,000 open URLs: is the load spread out, and does each run touch only what is due?

Run: .venv/bin/python bench/beat_schedule.py [--urls 100000] [--hours 14]
Uses a throw-away SQLite database in a temporary directory (or DATABASE_URL if set, e.g. PostgreSQL).

Worst case on purpose: every notice is sent in the same second (a bulk send). The script then runs
the real dispatcher (app.tracking.services.rechecks_dispatch_due) once per simulated minute and
stands in for the workers by rescheduling each dispatched URL as "still online" with the real
schedule (app.tracking.schedule.next_check). Prints the query count and time per due batch, the
query plan, and how the due URLs are spread over time, against a no-jitter baseline.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if "DATABASE_URL" not in os.environ:
    os.environ["JIUM_DATA_DIR"] = tempfile.mkdtemp(prefix="jium-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from app.accounts.services import organization_create  # noqa: E402
from app.cases.models import Case, ReportedUrl, UrlState  # noqa: E402
from app.cases.services import url_key  # noqa: E402
from app.tracking import schedule  # noqa: E402
from app.tracking.models import UrlTracking  # noqa: E402
from app.tracking.services import rechecks_dispatch_due  # noqa: E402

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def seed(n: int, rng: random.Random) -> None:
    org = organization_create(name="Bench NGO")
    case = Case.objects.create(organization=org, alias="bench", jurisdiction="KR")
    batch = 5000
    for start in range(0, n, batch):
        urls = []
        for i in range(start, min(n, start + batch)):
            u = f"https://site{i % 997}.example/post/{i}"
            urls.append(
                ReportedUrl(
                    case=case,
                    url=u,
                    normalized_url=u,
                    url_key=url_key(u),
                    host=f"site{i % 997}.example",
                    state=UrlState.MATCHED,
                )
            )
        ReportedUrl.objects.bulk_create(urls)
    ids = list(ReportedUrl.objects.filter(case=case).values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        UrlTracking.objects.bulk_create(
            [
                UrlTracking(
                    reported_url_id=pk,
                    organization=org,
                    case=case,
                    started_at=T0,
                    next_check_at=schedule.first_check(started_at=T0, rng=rng),
                )
                for pk in ids[start : start + batch]
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=14)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--max-batches", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    seed(args.urls, rng)
    print(
        f"database: {connection.vendor}; seeded {args.urls:,} open tracked URLs, all sent at {T0:%H:%M} (worst case) in {time.perf_counter() - t:.1f} s"
    )

    plan_sql = (
        "SELECT id FROM tracking_urltracking WHERE next_check_at <= %s ORDER BY next_check_at LIMIT 500"
    )
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + plan_sql, [T0.isoformat()])
            print("query plan:", " | ".join(str(r[-1]) for r in cur.fetchall()))
        elif connection.vendor == "postgresql":
            cur.execute("EXPLAIN " + plan_sql, [T0])
            print("query plan:", " | ".join(r[0].strip() for r in cur.fetchall()))

    per_minute: Counter[int] = Counter()
    batch_times: list[float] = []
    batch_queries: list[int] = []
    run_times_empty: list[float] = []
    run_queries_empty: list[int] = []
    dispatched_total = 0
    minutes = int(args.hours * 60)
    for minute in range(minutes + 1):
        now = T0 + timedelta(minutes=minute)
        got: list[list[int]] = []
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            n = rechecks_dispatch_due(
                now=now, batch_size=args.batch, max_batches=args.max_batches, enqueue=got.append
            )
            elapsed = time.perf_counter() - start
        if n == 0:
            run_times_empty.append(elapsed)
            run_queries_empty.append(len(ctx.captured_queries))
            continue
        batches = len(got)
        batch_times.append(elapsed / batches)
        batch_queries.append(round(len(ctx.captured_queries) / batches))
        per_minute[minute] = n
        dispatched_total += n
        # The workers: each URL is still online and gets its next check from the real schedule.
        rows = []
        for ids in got:
            for pk in ids:
                rows.append(
                    UrlTracking(
                        pk=pk,
                        next_check_at=schedule.next_check(
                            now=now, started_at=T0, removed_since=None, rng=rng
                        ),
                        check_count=1,
                    )
                )
        UrlTracking.objects.bulk_update(rows, ["next_check_at"], batch_size=1000)

    active = sorted(per_minute)
    print(
        f"simulated {minutes} beat runs (one a minute over {args.hours:g} h); dispatched {dispatched_total:,} re-checks"
    )
    print(
        f"due batch (<= {args.batch} URLs): queries per batch median {statistics.median(batch_queries)}, max {max(batch_queries)}; "
        f"time per batch median {1000 * statistics.median(batch_times):.1f} ms, p95 {1000 * sorted(batch_times)[int(0.95 * (len(batch_times) - 1))]:.1f} ms"
    )
    print(
        f"run with nothing due: queries {statistics.median(run_queries_empty)}, time median {1000 * statistics.median(run_times_empty):.2f} ms ({len(run_times_empty)} runs)"
    )
    peak = max(per_minute.values())
    print(
        f"spread: URLs due in the busiest minute {peak:,}; minutes with work {len(active)}; first {active[0] // 60}h{active[0] % 60:02d}, last {active[-1] // 60}h{active[-1] % 60:02d} after the send"
    )
    print(
        f"baseline without jitter: all {args.urls:,} due in one minute at +6h00 -> peak reduced {args.urls / peak:.0f}x"
    )
    print("due per 20 minutes (first wave = first check at 6 h + 0-20 %, second wave = 6 h later):")
    buckets: Counter[int] = Counter()
    for minute, n in per_minute.items():
        buckets[minute // 20] += n
    top = max(buckets.values())
    for b in sorted(buckets):
        bar = "#" * max(1, round(40 * buckets[b] / top))
        print(f"  +{b * 20 // 60:2d}h{b * 20 % 60:02d}  {buckets[b]:7,}  {bar}")


if __name__ == "__main__":
    main()
