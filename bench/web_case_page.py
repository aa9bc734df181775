"""Time to render a case page with 1,000 reported links (target: < 300 ms, paginated).

Builds a throw-away SQLite database in a temporary data directory (or uses DATABASE_URL if set
to a scratch PostgreSQL database), adds one case with 1,000 links in mixed states — 200 of them
matched, with fetch evidence and a match each — and renders the case page, the link-rows
fragment, the progress fragment and the results page through Django's test client.
Prints the median and worst of several runs per page, and the ratio of the case page to the
cheap progress fragment measured in the same run.

    .venv/bin/python bench/web_case_page.py [--urls 1000] [--runs 15]
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--matched", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    os.environ.setdefault("JIUM_DATA_DIR", tempfile.mkdtemp(prefix="jium-bench-web-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
    os.environ["AXES_ENABLED"] = "false"
    import django

    django.setup()
    from datetime import UTC, datetime

    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)

    from app.accounts.models import Role
    from app.accounts.services import member_create, organization_create
    from app.cases.models import Reference, ReportedUrl, UrlState
    from app.cases.services import case_create, url_key
    from app.fetching.models import FetchRecord, FetchStatus, MediaItem
    from app.matching.models import Match

    org = organization_create(name="Bench NGO")
    user = member_create(
        organization=org, username=f"bench-{time.time_ns()}", password=None, role=Role.ADMIN
    ).user
    case = case_create(organization=org, actor=user, alias="Bench case", jurisdiction="KR")
    ref = Reference.objects.create(
        case=case, label="ref.jpg", pdq_hex="0" * 64, pdq_quality=90, fingerprint=b""
    )
    states = [UrlState.NO_MATCH, UrlState.FAILED, UrlState.QUEUED, UrlState.WHITELISTED]
    now = datetime.now(UTC)
    urls = []
    for i in range(args.urls):
        url = f"https://site{i % 37}.example/page/{i}"
        state = UrlState.MATCHED if i < args.matched else states[i % len(states)]
        urls.append(
            ReportedUrl(
                case=case,
                url=url,
                normalized_url=url,
                url_key=url_key(url),
                host=f"site{i % 37}.example",
                state=state,
                error="timeout" if state == UrlState.FAILED else "",
            )
        )
    ReportedUrl.objects.bulk_create(urls, batch_size=500)
    for reported in ReportedUrl.objects.filter(case=case, state=UrlState.MATCHED):
        record = FetchRecord.objects.create(
            reported_url=reported,
            requested_url=reported.url,
            final_url=reported.url,
            resolved_ip="203.0.113.1",
            http_status=200,
            fetched_at=now,
            sha256="a" * 64,
            status=FetchStatus.OK,
        )
        media = MediaItem.objects.create(
            fetch=record, url=reported.url + "/i.jpg", kind="image", sha256="b" * 64
        )
        Match.objects.create(
            reported_url=reported,
            media_item=media,
            reference=ref,
            method="pdq",
            distance=12,
            details={"bits": 12},
        )

    client = Client()
    client.force_login(user)
    pages = {
        "case page (1,000 links, page 1 of 10)": reverse("case_detail", args=[case.pk]),
        "case page, last page": reverse("case_detail", args=[case.pk]) + "?page=10",
        "case page, matched filter": reverse("case_detail", args=[case.pk]) + "?state=matched",
        "link rows fragment (live updates)": reverse("case_url_rows", args=[case.pk]),
        "progress fragment (polling)": reverse("case_progress", args=[case.pk]),
        "results by website (200 matches, page 1)": reverse("case_results", args=[case.pk]),
    }
    medians = {}
    print(
        f"Jium web bench: {args.urls} links, {args.matched} matched, {args.runs} runs each "
        f"({django.db.connection.vendor})"
    )
    for name, url in pages.items():
        assert client.get(url).status_code == 200  # warm-up (template compilation)
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        medians[name] = statistics.median(timings)
        print(f"  {name:45s} median {medians[name]:7.1f} ms   worst {max(timings):7.1f} ms")
    main_page = medians["case page (1,000 links, page 1 of 10)"]
    base = medians["progress fragment (polling)"]
    verdict = "OK" if main_page < 300 else "TOO SLOW"
    print(
        f"case page median: {main_page:.1f} ms (target < 300 ms: {verdict}); "
        f"{main_page / base:.1f}x the progress fragment"
    )


if __name__ == "__main__":
    main()
