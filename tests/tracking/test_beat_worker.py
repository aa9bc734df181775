"""The beat path with a real Celery worker: the dispatcher hands due URLs to the worker, which re-checks them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from app.tracking.models import CheckReason, Escalation, NoticeStatus, UrlCheck, UrlStatus, UrlTracking
from app.tracking.services import overdue_list, tracking_sweep
from app.tracking.tasks import dispatch_due_rechecks
from tests.conftest import wait_until
from tests.tracking.conftest import local_world, send_notice


@pytest.mark.slow
def test_beat_dispatch_and_worker_mark_exactly_two_removed(workers, settings, case, owner, directory, smtp):
    owner.user.email = "alice@ngo.test"
    owner.user.save()
    with local_world(settings, case, owner) as world:
        tracking = send_notice(world, owner)
        workers.start(
            concurrency=2,
            env={"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(settings.EMAIL_PORT), "FETCH_RETRIES": "0"},
        )
        assert dispatch_due_rechecks() == 0  # nothing due yet
        world.remove_two()
        with time_machine.travel(timezone.now() + timedelta(hours=7, minutes=15), tick=True):
            assert dispatch_due_rechecks() == 3
            assert dispatch_due_rechecks() == 0  # claimed: a second beat run does not hand them out again
        wait_until(
            lambda: UrlCheck.objects.filter(tracking__case=case).count() == 3,
            timeout=60,
            message=workers.output,
        )
        wait_until(
            lambda: (
                sum(
                    b"alice@ngo.test" in b" ".join(r.encode() for r in rcpts)
                    for _f, rcpts, _c in smtp.messages
                )
                == 2
            ),
            timeout=20,
            message="removal emails",
        )
    states = {
        u.reported_url.normalized_url.rsplit("/", 1)[-1]: u
        for u in UrlTracking.objects.filter(case=case).select_related("reported_url")
    }
    assert states["0"].status == UrlStatus.REMOVED and states["1"].status == UrlStatus.REMOVED
    assert states["2"].status == UrlStatus.OPEN and states["2"].still_matching
    reasons = {
        c.tracking.reported_url.normalized_url.rsplit("/", 1)[-1]: c.reason
        for c in UrlCheck.objects.select_related("tracking__reported_url")
    }
    assert reasons == {"0": CheckReason.GONE_STATUS, "1": CheckReason.REMOVED_PAGE, "2": CheckReason.STILL_UP}
    assert all(c.fetch_id for c in UrlCheck.objects.all())
    # The next check is rescheduled by the worker, never in the past.
    assert all(u.next_check_at > timezone.now() for u in states.values())

    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=True):
        tracking_sweep(enqueue=False)
        assert [t.pk for t in overdue_list(organization=case.organization)] == [tracking.pk]
    tracking.refresh_from_db()
    assert tracking.status == NoticeStatus.PARTLY and tracking.escalated_at is not None
    assert Escalation.objects.filter(tracking=tracking, kind="regulator").exists()
