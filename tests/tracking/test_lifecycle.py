"""A sent notice, two of three images removed by the site, re-checks, deadline, escalation."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.utils import timezone

from app.fetching.models import FetchRecord
from app.tracking.models import (
    Alert,
    CheckReason,
    Escalation,
    EscalationKind,
    NoticeStatus,
    UrlCheck,
    UrlStatus,
    UrlTracking,
)
from app.tracking.services import overdue_list, tracking_sweep
from tests.tracking.conftest import ABUSE_EMAIL, local_world, send_notice


def _recheck_json(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("recheck", *args, "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_cli_recheck_marks_exactly_the_removed_two_and_escalates_the_third(
    settings, case, owner, directory, smtp, django_capture_on_commit_callbacks
):
    owner.user.email = "alice@ngo.test"
    owner.user.save()
    with local_world(settings, case, owner) as world:
        tracking = send_notice(world, owner)
        assert any(ABUSE_EMAIL in rcpts for _f, rcpts, _c in smtp.messages), "the notice went out over SMTP"
        assert tracking.deadline_hours == 48 and tracking.status == NoticeStatus.SENT
        assert UrlTracking.objects.filter(case=case).count() == 3

        # Nothing is due before the first scheduled check.
        assert _recheck_json("--all-due") == []

        world.remove_two()
        with time_machine.travel(timezone.now() + timedelta(hours=7, minutes=15), tick=True):
            rows = _recheck_json("--all-due")
        by_path = {r["url"].rsplit("/", 1)[-1]: r for r in rows}
        assert set(by_path) == {"0", "1", "2"}
        assert by_path["0"]["state"] == "removed" and by_path["0"]["http_status"] == 404
        assert by_path["1"]["state"] == "removed" and by_path["1"]["http_status"] == 200
        assert by_path["1"]["still_matching"] is False
        assert by_path["2"]["state"] == "open" and by_path["2"]["still_matching"] is True
        assert by_path["2"]["http_status"] == 200 and by_path["2"]["error"] is None
        for row in rows:
            assert set(row) == {"url", "state", "checked_at", "http_status", "still_matching", "error"}

        # Removal is recorded with the same evidence fields as a scan.
        checks = {
            c.tracking.reported_url.normalized_url.rsplit("/", 1)[-1]: c
            for c in UrlCheck.objects.select_related("fetch", "tracking__reported_url")
        }
        assert checks["0"].reason == CheckReason.GONE_STATUS
        assert checks["1"].reason == CheckReason.REMOVED_PAGE and "removed" in checks["1"].marker
        for check in checks.values():
            record = check.fetch
            assert isinstance(record, FetchRecord) and record.purpose == "recheck"
            assert record.resolved_ip == "127.0.0.1" and record.fetched_at and record.final_url
        assert len(checks["1"].fetch.sha256) == 64 and checks["2"].fetch.media.count() == 1
        # The scan's own evidence is untouched.
        assert FetchRecord.objects.filter(reported_url__case=case, purpose="scan").count() == 3
        tracking.refresh_from_db()
        assert tracking.status == NoticeStatus.PARTLY
        assert Alert.objects.filter(case=case, kind="removed").count() == 2

        # Before the deadline: not overdue, nothing escalated.
        assert not overdue_list(organization=case.organization).exists()
        with (
            time_machine.travel(timezone.now() + timedelta(hours=49), tick=True),
            django_capture_on_commit_callbacks(execute=True),
        ):
            rows = _recheck_json("--case", str(case.pk))
            assert {r["url"].rsplit("/", 1)[-1]: r["state"] for r in rows} == {
                "0": "removed",
                "1": "removed",
                "2": "open",
            }
            overdue = list(overdue_list(organization=case.organization))
    assert [o.notice_id for o in overdue] == [world.notice.pk]
    third = UrlTracking.objects.get(reported_url=world.urls[2])
    assert third.status == UrlStatus.OPEN and third.still_matching
    drafts = Escalation.objects.filter(tracking=tracking)
    kinds = set(drafts.values_list("kind", flat=True))
    assert {EscalationKind.REMINDER, EscalationKind.DELISTING, EscalationKind.REGULATOR} <= kinds
    regulator = drafts.get(kind=EscalationKind.REGULATOR)
    assert regulator.regulator.code == "ftc"
    assert "/post/2" in regulator.body and "/post/0" not in regulator.body
    assert regulator.evidence_pdf[:4] == b"%PDF" and len(regulator.evidence_sha256) == 64
    assert drafts.get(kind=EscalationKind.REMINDER).recipient_address == ABUSE_EMAIL
    # The caseworker was told, without case details in the subject.
    notes = [c for _f, rcpts, c in smtp.messages if "alice@ngo.test" in rcpts]
    assert notes and all(b"Case Sunflower" not in c for c in notes)
    # A second sweep adds nothing.
    count = drafts.count()
    tracking_sweep(enqueue=False, now=timezone.now() + timedelta(hours=50))
    assert Escalation.objects.filter(tracking=tracking).count() == count


def test_removed_url_that_comes_back_is_reopened_and_flagged(settings, case, owner, directory, smtp):
    with local_world(settings, case, owner) as world:
        tracking = send_notice(world, owner)
        original = world.site.files["/post/0"]
        del world.site.files["/post/0"]
        first = UrlTracking.objects.get(reported_url=world.urls[0])
        from app.tracking.services import url_recheck

        assert url_recheck(tracking_id=first.pk).status == UrlStatus.REMOVED
        world.site.files["/post/0"] = original
        check = url_recheck(tracking_id=first.pk)
    first.refresh_from_db()
    assert check.status == UrlStatus.REAPPEARED and first.flagged and first.removed_at is None
    assert Alert.objects.filter(case=case, kind="reappeared").count() == 1
    tracking.refresh_from_db()
    assert tracking.status == NoticeStatus.SENT
    assert [e.to_status for e in tracking.events.all()] == ["sent", "partly", "sent"]
