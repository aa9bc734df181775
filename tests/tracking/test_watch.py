"""Re-upload watch: a watched page gains a copy of a reference image; the next scheduled scan finds it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from app.cases.models import ReportedUrl
from app.cases.services import reference_add_image
from app.tracking.models import Alert, AlertKind, Watch
from app.tracking.services import watch_add, watch_scan, watches_dispatch_due
from tests.conftest import photo_paths
from tests.servers import page_with_images, serve
from tests.tracking.conftest import jpeg


def test_watched_page_gaining_a_copy_creates_a_reported_url_and_an_alert(
    settings, case, owner, django_capture_on_commit_callbacks, mailoutbox
):
    owner.user.email = "alice@ngo.test"
    owner.user.save()
    photos = photo_paths()
    reference_add_image(case=case, actor=owner.user, data=photos[0].read_bytes())
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    files = {
        "/board": (page_with_images("/img/cat.jpg"), "text/html; charset=utf-8"),
        "/img/cat.jpg": (jpeg(photos[40]), "image/jpeg"),
        "/img/copy.jpg": (jpeg(photos[0], size=400), "image/jpeg"),
    }
    with serve(files) as site:
        watch = watch_add(case=case, actor=owner.user, url=f"{site.base}/board", interval_hours=12)
        dispatched: list[int] = []
        with django_capture_on_commit_callbacks(execute=True):
            assert watches_dispatch_due(enqueue=dispatched.extend) == 0  # not due yet
        with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
            with django_capture_on_commit_callbacks(execute=True):
                assert watches_dispatch_due(enqueue=dispatched.extend) == 1
            assert dispatched == [watch.pk]
            assert watch_scan(watch_id=watch.pk) == []  # nothing matching yet
        assert not ReportedUrl.objects.filter(case=case).exists()
        watch.refresh_from_db()
        assert watch.scan_count == 1 and timedelta(
            hours=12
        ) <= watch.next_scan_at - watch.last_scanned_at <= timedelta(hours=14.5)

        # Someone posts a copy on the board.
        site.files["/board"] = (page_with_images("/img/cat.jpg", "/img/copy.jpg"), "text/html; charset=utf-8")
        with time_machine.travel(timezone.now() + timedelta(hours=15), tick=True):
            dispatched.clear()
            with django_capture_on_commit_callbacks(execute=True):
                assert watches_dispatch_due(enqueue=dispatched.extend) == 1
            with django_capture_on_commit_callbacks(execute=False):
                added = watch_scan(watch_id=dispatched[0])
                # The same copy seen again is not added twice.
                assert watch_scan(watch_id=watch.pk) == []
    assert [u.normalized_url for u in added] == [f"{site.base}/img/copy.jpg"]
    assert ReportedUrl.objects.filter(case=case).count() == 1
    alert = Alert.objects.get(case=case)
    assert alert.kind == AlertKind.REUPLOAD and alert.reported_url == added[0] and alert.watch_id == watch.pk
    assert Watch.objects.get(pk=watch.pk).scan_count == 3


def test_reupload_alert_emails_the_assigned_caseworker_without_case_details(case, owner, mailoutbox):
    from app.tracking.services import _alert, alert_notify

    owner.user.email = "alice@ngo.test"
    owner.user.save()
    alert = _alert(case=case, kind=AlertKind.REUPLOAD)
    assert alert_notify(alert_id=alert.pk) == 1
    assert alert_notify(alert_id=alert.pk) == 0  # once only
    message = mailoutbox[0]
    assert message.to == ["alice@ngo.test"]
    assert case.alias not in message.subject and case.alias not in message.body
    assert f"/cases/{case.pk}/tracking/" in message.body
