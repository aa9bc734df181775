"""API latency: listing a case's reported URLs (paged) at 1,000 and 10,000 URLs, and adding 100,
1,000 and 5,000 (the most one call takes) URLs in one call. Prints medians and the growth ratios
measured in the same run.

Target: neither grows worse than linearly — a page of 100 should cost about the same at 10,000 URLs
as at 1,000 (ratio near 1, linear would be 10), and adding 1,000 URLs should cost at most ~10x
adding 100.

Scans are queued on Celery's in-memory broker, so the figures include Celery's own cost of
publishing each task but no broker round trips.

Builds a throw-away SQLite database in a temporary data directory (or uses DATABASE_URL if set to
a scratch PostgreSQL database); scans are queued on an in-memory broker and never run.

    .venv/bin/python bench/api_latency.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("JIUM_DATA_DIR", tempfile.mkdtemp(prefix="jium-bench-api-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    os.environ["CELERY_BROKER_URL"] = "memory://"  # scans are queued, never run
    os.environ["AXES_ENABLED"] = "false"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0, interactive=False)

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.api.services import api_token_create
    from app.cases.services import case_create, reported_urls_add

    org = organization_create(name=f"Bench NGO {time.time_ns()}")
    user = member_create(
        organization=org, username=f"bench-{time.time_ns()}", password=None, role=Role.ADMIN
    ).user
    token = api_token_create(user=user, name="bench")[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
        return statistics.median(timed(fn) for _ in range(runs))

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, runs: {args.runs}")
    listing: dict[int, dict[str, float]] = {}
    for n in (1000, 10000):
        case = case_create(organization=org, actor=user, alias=f"List {n}", jurisdiction="KR")
        batch = 5000
        for start in range(0, n, batch):
            reported_urls_add(
                case=case,
                actor=None,
                urls=[f"https://host{i % 97}.example/p/{i}" for i in range(start, min(n, start + batch))],
                enqueue=False,
            )
        path = f"/api/v1/cases/{case.pk}/urls/"
        pages = n // 100

        def get(page: int, path: str = path) -> None:
            response = client.get(path, {"page": page})
            assert response.status_code == 200, response.content[:200]
            assert len(json.loads(response.content)["results"]) == 100

        listing[n] = {
            "first": median_ms(lambda: get(1), args.runs),
            "middle": median_ms(lambda p=pages // 2: get(p), args.runs),
            "last": median_ms(lambda p=pages: get(p), args.runs),
        }
        row = listing[n]
        print(
            f"list {n:>6} URLs, page of 100: first {row['first']:.1f} ms, middle {row['middle']:.1f} ms, last {row['last']:.1f} ms"
        )
    for where in ("first", "middle", "last"):
        ratio = listing[10000][where] / listing[1000][where]
        print(f"  growth 1,000 -> 10,000 URLs ({where} page): x{ratio:.2f} (linear would be x10)")

    # The process's first POST loads code and builds schemas (seconds under load): not a figure.
    warm = case_create(organization=org, actor=user, alias="Warm-up", jurisdiction="KR")
    client.post(
        f"/api/v1/cases/{warm.pk}/urls/",
        {"urls": ["https://warm.example/1"]},
        content_type="application/json",
    )
    adding: dict[int, float] = {}
    for n in (100, 1000, 5000):
        samples = []
        for run in range(max(3, args.runs // 2)):
            case = case_create(organization=org, actor=user, alias=f"Add {n} {run}", jurisdiction="KR")
            urls = [f"https://add{run}.example/{n}/{i}" for i in range(n)]

            def post(case=case, urls=urls) -> None:  # type: ignore[no-untyped-def]
                response = client.post(
                    f"/api/v1/cases/{case.pk}/urls/", {"urls": urls}, content_type="application/json"
                )
                assert response.status_code == 200 and len(json.loads(response.content)["added"]) == len(urls)

            samples.append(timed(post))
        adding[n] = statistics.median(samples)
        print(f"add {n:>5} URLs in one call: {adding[n]:.1f} ms ({adding[n] / n:.2f} ms per URL)")
    print(f"  growth 100 -> 1,000 URLs: x{adding[1000] / adding[100]:.2f} (linear would be x10)")
    print(f"  growth 1,000 -> 5,000 URLs: x{adding[5000] / adding[1000]:.2f} (linear would be x5)")


if __name__ == "__main__":
    main()
