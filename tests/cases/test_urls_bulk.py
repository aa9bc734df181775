"""Adding many reported URLs at once: a fixed number of queries, the same duplicate and whitelist
rules as one at a time, and every URL's scan queued (by fan-out tasks past a threshold)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from app.cases.models import ReportedUrl, UrlState, WhitelistEntry
from app.cases.services import reported_urls_add
from app.cases.services import urls as url_services
from tests.conftest import wait_until
from tests.servers import serve


def _queries(case, owner, urls) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        result = reported_urls_add(case=case, actor=owner.user, urls=urls)
    assert len(result.added) == len(urls)
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_number_of_urls(case, owner):
    few = _queries(case, owner, [f"https://few.example/{i}" for i in range(10)])
    many = _queries(case, owner, [f"https://many.example/{i}" for i in range(900)])
    assert many == few
    # Each further 1,000 rows: one more duplicate lookup, and one more INSERT in its own savepoint.
    more = _queries(case, owner, [f"https://more.example/{i}" for i in range(2500)])
    assert more == few + 2 * 4


def test_bulk_add_keeps_duplicates_whitelist_and_invalid_lines(case, owner):
    WhitelistEntry.objects.create(case=case, value="own.example")
    reported_urls_add(case=case, actor=owner.user, urls=["https://old.example/1"])
    result = reported_urls_add(
        case=case,
        actor=owner.user,
        urls=[
            "https://old.example/1",  # already on the case
            "https://new.example/a",
            "HTTPS://NEW.example/a",  # the same once normalised
            "https://blog.own.example/me",  # the person's own site
            "not a url",
            "# a comment",
            "",
        ]
        + [f"https://bulk.example/{i}" for i in range(100)],
    )
    assert result.duplicates == 2
    assert [raw for raw, _ in result.invalid] == ["not a url"]
    states = {u.normalized_url: u.state for u in result.added}
    assert len(states) == 102
    assert states["https://blog.own.example/me"] == UrlState.WHITELISTED
    assert states["https://new.example/a"] == UrlState.QUEUED
    assert all(u.pk and u.created_at for u in result.added)
    assert ReportedUrl.objects.filter(case=case).count() == 103


def test_a_url_added_by_another_request_meanwhile_counts_as_duplicate(case, owner):
    """The rows inserted by a concurrent request between the duplicate check and the INSERT: the
    batch falls back to one row at a time and the others are still added."""
    from app.cases.services.urls import url_key

    first = reported_urls_add(case=case, actor=owner.user, urls=["https://race.example/1"]).added[0]
    items = [
        ReportedUrl(
            case=case,
            url=u,
            normalized_url=u,
            url_key=url_key(u),
            host="race.example",
            state=UrlState.QUEUED,
        )
        for u in ["https://race.example/0", first.normalized_url, "https://race.example/2"]
    ]
    with transaction.atomic():
        added = url_services._insert_new(items)
    assert [u.normalized_url for u in added] == ["https://race.example/0", "https://race.example/2"]
    assert ReportedUrl.objects.filter(case=case).count() == 3


def test_queued_scans_are_published_after_commit_in_one_callback(
    case, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reported_urls_add(case=case, actor=owner.user, urls=[f"https://cb.example/{i}" for i in range(300)])
    assert len(callbacks) == 1


@pytest.mark.slow
def test_every_url_of_a_bulk_add_is_scanned_through_the_fan_out(workers, case, owner, monkeypatch):
    # Small thresholds so that a handful of URLs go through two fan-out tasks.
    monkeypatch.setattr(url_services, "DIRECT_ENQUEUE_MAX", 2)
    monkeypatch.setattr(url_services, "FANOUT_CHUNK", 4)
    with serve({}) as site:  # every page answers 404: each scan ends quickly as failed
        workers.start(concurrency=2)
        added = reported_urls_add(
            case=case, actor=owner.user, urls=[f"{site.base}/gone/{i}" for i in range(7)]
        ).added
        assert len(added) == 7
        wait_until(
            lambda: ReportedUrl.objects.filter(case=case, state=UrlState.FAILED).count() == 7,
            timeout=90,
            message=workers.output,
        )
        assert sorted(site.hits) == sorted(f"/gone/{i}" for i in range(7))
    assert "cases.enqueue_scans" in workers.output()
