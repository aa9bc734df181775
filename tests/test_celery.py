"""app/celery.py with a real worker: database connections are kept across tasks (as
DATABASE_CONN_MAX_AGE says), and one the server dropped is replaced without failing a task."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reported_urls_add
from tests.conftest import database_url_for_workers, photo_paths, wait_until
from tests.servers import page_with_images, serve

FINAL = (UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED)


def _backends(name: str) -> set[tuple[int, object]]:
    """(pid, start time) of each PostgreSQL backend of the processes that named themselves so."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s", [name])
        return {(pid, start) for pid, start in cursor.fetchall()}


def _scan(case, base: str, keys: list[int], workers) -> None:  # type: ignore[no-untyped-def]
    reported_urls_add(case=case, actor=None, urls=[f"{base}/post/{k}" for k in keys])
    wait_until(
        lambda: (
            ReportedUrl.objects.filter(case=case, state__in=FINAL).count()
            == ReportedUrl.objects.filter(case=case).count()
        ),
        timeout=90,
        message=workers.output(),
    )


@pytest.mark.slow
def test_a_worker_keeps_its_database_connection_and_replaces_a_dropped_one(workers, case) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("backends are counted in PostgreSQL's pg_stat_activity")
    name = f"jium-test-{uuid.uuid4().hex[:10]}"
    photo = photo_paths()[12].read_bytes()
    files = {"/img/a.jpg": (photo, "image/jpeg")}
    files.update({f"/post/{k}": (page_with_images("/img/a.jpg"), "text/html") for k in range(9)})
    with serve(files) as site:
        workers.start(
            concurrency=1, env={"DATABASE_URL": f"{database_url_for_workers()}?application_name={name}"}
        )
        _scan(case, site.base, [0, 1, 2], workers)
        first = _backends(name)
        # One pool process, one backend, still open after its tasks (Celery's Django fix-up alone
        # closes it after every task: none would be left).
        assert len(first) == 1, workers.output()
        _scan(case, site.base, [3, 4, 5], workers)
        assert _backends(name) == first, "the next tasks used the same connection"

        # The server drops the idle connection (a PostgreSQL restart, a proxy's idle timeout).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [next(iter(first))[0]])
        wait_until(lambda: not _backends(name), timeout=10)
        _scan(case, site.base, [6, 7, 8], workers)
        replaced = _backends(name)
        assert len(replaced) == 1 and replaced != first
    # No task met the dead connection: none failed or was retried.
    assert set(ReportedUrl.objects.filter(case=case).values_list("state", flat=True)) == {UrlState.NO_MATCH}
    assert set(ReportedUrl.objects.filter(case=case).values_list("scan_attempts", flat=True)) == {1}
    output = workers.output()
    assert "OperationalError" not in output and "Retry in" not in output, output
