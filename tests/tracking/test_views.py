"""Access to every tracking view: owner, teammate, outsider (404 for other organisations' ids), victim; CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from app.accounts.models import AuditEvent
from app.tracking.models import (
    DeadlineOverride,
    Escalation,
    NoticeStatus,
    PlatformReply,
    UrlStatus,
    UrlTracking,
    Watch,
)
from tests.tracking.helpers import seed_notice
from tests.web.helpers import assert_not_found_for_outsider


@pytest.fixture
def world(case):  # type: ignore[no-untyped-def]
    tracking = seed_notice(
        case, platform="Alpha Video", regime="take-it-down", status="sent", sent_at=timezone.now()
    )
    url = UrlTracking.objects.get(case=case)
    escalation = Escalation.objects.create(
        tracking=tracking, kind="reminder", lang="en", recipient_name="Alpha Video", recipient_address="abuse@example.org",
        subject="Reminder", body="Please remove", evidence_pdf=b"%PDF-1.7 test", created_at=timezone.now(),
    )  # fmt: skip
    watch = Watch.objects.create(
        case=case, url="https://board.example/", normalized_url="https://board.example/"
    )
    return {"case": case, "t": tracking, "url": url, "esc": escalation, "watch": watch}


def _get_urls(w):  # type: ignore[no-untyped-def]
    c = w["case"].pk
    return {
        "case": reverse("tracking_case", args=[c]),
        "escalation": reverse("tracking_escalation", args=[c, w["esc"].pk]),
        "pdf": reverse("tracking_escalation_pdf", args=[c, w["esc"].pk]),
    }


def _post_actions(w):  # type: ignore[no-untyped-def]
    c = w["case"].pk
    return [
        (
            reverse("tracking_notice_reply", args=[c, w["t"].pk]),
            {"kind": "acknowledged", "text": "We got it"},
        ),
        (reverse("tracking_notice_status", args=[c, w["t"].pk]), {"status": "refused"}),
        (reverse("tracking_url_removed", args=[c, w["url"].pk]), {}),
        (reverse("tracking_url_clear_flag", args=[c, w["url"].pk]), {}),
        (reverse("tracking_recheck_now", args=[c]), {}),
        (
            reverse("tracking_watch_add", args=[c]),
            {"url": "https://forum.example/board", "interval_hours": 12},
        ),
        (reverse("tracking_watch_remove", args=[c, w["watch"].pk]), {}),
        (reverse("tracking_escalation", args=[c, w["esc"].pk]), {"state": "done"}),
    ]


def test_case_page_for_owner_teammate_and_victim(client, world, owner, teammate, victim):
    url = _get_urls(world)["case"]
    for member in (owner, teammate, victim):
        client.force_login(member.user)
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Alpha Video" in body and "left" in body  # the countdown
        assert ("csrfmiddlewaretoken" in body.split("<main", 1)[1]) == (member is not victim)
    assert AuditEvent.objects.filter(action="tracking.view", case_id=world["case"].pk).count() == 3


def test_victim_sees_no_drafts_or_staff_views(client, world, victim):
    client.force_login(victim.user)
    body = client.get(_get_urls(world)["case"]).content.decode()
    assert (
        "Please remove" not in body
        and reverse("tracking_escalation", args=[world["case"].pk, world["esc"].pk]) not in body
    )
    for name in ("escalation", "pdf"):
        assert client.get(_get_urls(world)[name]).status_code == 404
    for name in ("tracking_overdue", "tracking_stats", "tracking_deadlines"):
        assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("tracking_stats_export", args=["csv"])).status_code == 404
    for url, data in _post_actions(world):
        assert client.post(url, data).status_code == 404, url
    assert not PlatformReply.objects.exists() and world["t"].events.count() == 0


def test_outsider_gets_404_everywhere(client, world, outsider):
    for url in _get_urls(world).values():
        assert_not_found_for_outsider(client, outsider, url)
    for url, data in _post_actions(world):
        assert_not_found_for_outsider(client, outsider, url, method="post", data=data)
    assert not PlatformReply.objects.exists()
    assert Watch.objects.filter(case=world["case"]).count() == 1
    assert UrlTracking.objects.get(pk=world["url"].pk).status == UrlStatus.OPEN


def test_outsider_org_pages_show_nothing_of_ours(client, world, outsider):
    world["t"].deadline_at = timezone.now() - timezone.timedelta(hours=1)
    world["t"].save()
    client.force_login(outsider.user)
    assert "Alpha Video" not in client.get(reverse("tracking_overdue")).content.decode()
    assert "Alpha Video" not in client.get(reverse("tracking_stats")).content.decode()
    assert "Alpha Video" not in client.get(reverse("tracking_stats_export", args=["json"])).content.decode()


def test_overdue_list_for_staff(client, world, owner, teammate):
    world["t"].deadline_at = timezone.now() - timezone.timedelta(hours=3)
    world["t"].save()
    for member in (owner, teammate):
        client.force_login(member.user)
        body = client.get(reverse("tracking_overdue")).content.decode()
        assert world["case"].alias in body and "deadline passed" in body


def test_teammate_can_do_every_action(client, world, teammate, django_capture_on_commit_callbacks):
    client.force_login(teammate.user)
    for name in ("escalation", "pdf"):
        assert client.get(_get_urls(world)[name]).status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        for url, data in _post_actions(world):
            assert client.post(url, data).status_code == 302, url
    t = world["t"]
    t.refresh_from_db()
    assert PlatformReply.objects.get(tracking=t).text == "We got it"
    assert t.status == NoticeStatus.REMOVED  # refused, then the link was marked removed by hand
    assert [e.actor_id for e in t.events.all()] == [teammate.user.pk] * t.events.count()
    assert (
        Watch.objects.filter(case=world["case"]).values_list("normalized_url", flat=True).get()
        == "https://forum.example/board"
    )
    assert Escalation.objects.get(pk=world["esc"].pk).state == "done"


def test_deadlines_are_admin_only_and_apply_to_new_notices(client, world, owner, teammate):
    client.force_login(teammate.user)
    assert client.get(reverse("tracking_deadlines")).status_code == 404
    client.force_login(owner.user)
    assert client.get(reverse("tracking_deadlines")).status_code == 200
    assert client.post(reverse("tracking_deadlines"), {"kr": 12, "dsa": ""}).status_code == 302
    assert DeadlineOverride.objects.get(organization=world["case"].organization, regime="kr").hours == 12
    from app.tracking.selectors import deadline_hours_for

    assert deadline_hours_for(organization=world["case"].organization, regime="kr") == 12
    assert deadline_hours_for(organization=world["case"].organization, regime="take-it-down") == 48


def test_posts_need_csrf(world, owner):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner.user)
    for url, data in _post_actions(world):
        assert csrf_client.post(url, data).status_code == 403, url
    assert not PlatformReply.objects.exists()


def test_get_on_post_only_views_is_refused(client, world, owner):
    client.force_login(owner.user)
    assert client.get(reverse("tracking_recheck_now", args=[world["case"].pk])).status_code == 405
