"""The scan pipeline with real Celery worker processes on the configured broker (Redis in CI)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reference_add_image, reported_urls_add
from app.fetching.models import FetchRecord
from app.matching.models import Match
from tests.conftest import photo_paths, wait_until
from tests.servers import page_with_images, serve


def _jpeg(path, *, size=None, quality=80) -> bytes:
    img = Image.open(path).convert("RGB")
    if size:
        img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _site(refs, others, pages: int):
    """`pages` HTML pages; even ones show a re-encoded copy of a reference, odd ones an unrelated photo."""
    files = {}
    for i in range(pages):
        src = refs[i % len(refs)] if i % 2 == 0 else others[i % len(others)]
        files[f"/img/{i}.jpg"] = (_jpeg(src, size=480, quality=70), "image/jpeg")
        files[f"/post/{i}"] = (page_with_images(f"/img/{i}.jpg"), "text/html; charset=utf-8")
    return files


@pytest.mark.slow
def test_worker_scans_reported_urls_to_final_states(workers, case, owner):
    photos = photo_paths()
    refs, others = photos[:2], photos[10:14]
    for ref in refs:
        reference_add_image(case=case, actor=owner.user, data=ref.read_bytes(), filename=ref.name)
    with serve(_site(refs, others, 4)) as site:
        workers.start(concurrency=2)
        reported_urls_add(
            case=case,
            actor=owner.user,
            urls=[f"{site.base}/post/{i}" for i in range(4)] + [f"{site.base}/missing"],
        )
        wait_until(
            lambda: (
                not ReportedUrl.objects.filter(case=case)
                .exclude(state__in=[UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED])
                .exists()
            ),
            timeout=90,
            message=workers.output,
        )
    states = {u.normalized_url.rsplit("/", 1)[-1]: u.state for u in ReportedUrl.objects.filter(case=case)}
    assert states == {"0": "matched", "1": "no_match", "2": "matched", "3": "no_match", "missing": "failed"}
    record = FetchRecord.objects.get(reported_url__normalized_url__endswith="/post/0")
    assert record.http_status == 200 and len(record.sha256) == 64 and record.resolved_ip == "127.0.0.1"
    assert Match.objects.filter(reported_url__case=case).count() == 2


FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": "4",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


@pytest.mark.slow
def test_killing_the_worker_loses_no_queued_work(workers, case, owner):
    """SIGKILL a worker mid-scan; a restarted worker finishes every URL exactly once."""
    photos = photo_paths()
    refs, others = photos[:2], photos[10:14]
    for ref in refs:
        reference_add_image(case=case, actor=owner.user, data=ref.read_bytes(), filename=ref.name)
    pages = 24
    with serve(_site(refs, others, pages), delay=0.15) as site:
        first = workers.start(concurrency=2, env=FAST_REDELIVERY)
        reported_urls_add(case=case, actor=owner.user, urls=[f"{site.base}/post/{i}" for i in range(pages)])
        wait_until(
            lambda: (
                ReportedUrl.objects.filter(case=case, state__in=[UrlState.MATCHED, UrlState.NO_MATCH]).count()
                >= 3
            ),
            timeout=60,
            message=workers.output,
        )
        workers.kill(first)
        assert ReportedUrl.objects.filter(case=case, state__in=[UrlState.QUEUED, UrlState.FETCHING]).exists()
        workers.start(concurrency=2, env=FAST_REDELIVERY)
        wait_until(
            lambda: (
                ReportedUrl.objects.filter(case=case, state__in=[UrlState.MATCHED, UrlState.NO_MATCH]).count()
                == pages
            ),
            timeout=120,
            message=workers.output,
        )
    for url in ReportedUrl.objects.filter(case=case):
        assert FetchRecord.objects.filter(reported_url=url, purpose="scan").count() == 1, url
        expected = (
            UrlState.MATCHED if int(url.normalized_url.rsplit("/", 1)[-1]) % 2 == 0 else UrlState.NO_MATCH
        )
        assert url.state == expected
    assert Match.objects.filter(reported_url__case=case).count() == pages // 2


@pytest.mark.slow
def test_a_broker_that_lost_its_queue_loses_no_report(workers, case, owner):
    """Reports live in the database: tasks a broker lost (restart without persistence) are queued again."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from app.cases.tasks import recover_stuck_scans
    from app.celery import app as celery_app

    photos = photo_paths()
    refs, others = photos[:2], photos[10:14]
    for ref in refs:
        reference_add_image(case=case, actor=owner.user, data=ref.read_bytes(), filename=ref.name)
    pages = 6
    with serve(_site(refs, others, pages)) as site:
        reported_urls_add(case=case, actor=owner.user, urls=[f"{site.base}/post/{i}" for i in range(pages)])
        with celery_app.connection_for_write() as conn:
            purged = conn.default_channel.queue_purge(workers.queue)
        assert purged == pages  # the broker forgot every task; only the database remembers
        with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
            assert recover_stuck_scans() == pages
        workers.start(concurrency=2)
        wait_until(
            lambda: (
                ReportedUrl.objects.filter(case=case, state__in=[UrlState.MATCHED, UrlState.NO_MATCH]).count()
                == pages
            ),
            timeout=90,
            message=workers.output,
        )
    for url in ReportedUrl.objects.filter(case=case):
        assert FetchRecord.objects.filter(reported_url=url, purpose="scan").count() == 1
    assert Match.objects.filter(reported_url__case=case).count() == pages // 2
