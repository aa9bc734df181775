"""Importing a hash list of video hashes (vPDQ signals) into a case: the whole list through
``case_hash_list_import`` (what the API and the web import call), against the same list imported one
entry at a time through ``reference_import_video_hash`` (the path every entry took before imports
were set-based), in the same run, into two fresh cases. Prints milliseconds, database queries and
the ratio for each size.

Each entry is a synthetic 30-second video hash (30 frames of random PDQ hashes), so nothing is
decoded: the figures are the database work and the (shared) parsing.

Builds a throw-away SQLite database in a temporary data directory (or uses DATABASE_URL if set to
a scratch PostgreSQL database).

    .venv/bin/python bench/hashlist_video_import.py [--sizes 100,1000] [--frames 30]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()

    os.environ.setdefault("JIUM_DATA_DIR", tempfile.mkdtemp(prefix="jium-bench-vhash-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.cases.services import case_create
    from app.cases.services.hashlists import ParsedList, case_hash_list_import
    from app.cases.services.videos import reference_import_video_hash
    from app.matching.vpdq import VpdqFeature, vpdq_to_signal

    rng = random.Random(7)
    org = organization_create(name=f"Bench NGO {time.time_ns()}")
    user = member_create(
        organization=org, username=f"bench{time.time_ns()}", password="x" * 20, role=Role.ADMIN
    ).user

    def signal() -> str:
        return vpdq_to_signal(
            VpdqFeature(i, rng.randint(60, 100), rng.randbytes(32), float(i)) for i in range(args.frames)
        )

    queries = [0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries[0] += 1
        return execute(sql, params, many, context)

    def timed(fn, *args):  # type: ignore[no-untyped-def]
        queries[0] = 0
        with connection.execute_wrapper(count):
            started, cpu = time.perf_counter(), time.process_time()
            out = fn(*args)
            cpu_ms = (time.process_time() - cpu) * 1000
            return (time.perf_counter() - started) * 1000, cpu_ms, queries[0], out

    def one_by_one(case, signals):  # type: ignore[no-untyped-def]
        for _where, text in signals:
            reference_import_video_hash(case=case, actor=user, text=text)

    def as_a_list(case, signals):  # type: ignore[no-untyped-def]
        return case_hash_list_import(case=case, actor=user, parsed=ParsedList(videos=signals))

    print(f"database: {connection.vendor}; {args.frames} frames per video hash")
    print("wall ms (this process's CPU ms) and database queries; ratio = one by one / as a list, wall")
    print(f"{'entries':>8} {'one by one':>18} {'queries':>8} {'as a list':>16} {'queries':>8} {'ratio':>6}")
    for size in [int(s) for s in args.sizes.split(",")]:
        signals = [(f"item {i}", signal()) for i in range(size)]
        single = case_create(organization=org, actor=user, alias=f"single {size}", jurisdiction="KR")
        listed = case_create(organization=org, actor=user, alias=f"list {size}", jurisdiction="KR")
        one_ms, one_cpu, one_queries, _ = timed(one_by_one, single, signals)
        list_ms, list_cpu, list_queries, result = timed(as_a_list, listed, signals)
        assert len(result.created) == size and not result.skipped, (len(result.created), result.skipped[:3])
        assert single.references.count() == listed.references.count() == size
        print(
            f"{size:>8} {f'{one_ms:.0f} ({one_cpu:.0f})':>18} {one_queries:>8}"
            f" {f'{list_ms:.0f} ({list_cpu:.0f})':>16} {list_queries:>8}"
            f" {one_ms / list_ms:>6.1f}"
        )


if __name__ == "__main__":
    main()
