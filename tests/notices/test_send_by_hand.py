"""Issue 11.2: no mail server is said before sending; failures speak plainly; submitting by hand is tracked."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from app.notices.models import NoticeState
from app.notices.services import NoticeError, notice_send, notice_sign
from tests.notices.test_send import email_notice, smtp  # noqa: F401  (fixtures)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: connections are refused


@pytest.fixture
def no_mail_server(settings):  # type: ignore[no-untyped-def]
    from app.notices import services

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    services._MAIL_STATUS.clear()
    yield
    services._MAIL_STATUS.clear()


def _page(client, url: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    client.post(reverse("set_language"), {"language": lang, "next": url})
    return client.get(url).content.decode()


@pytest.mark.parametrize(
    ("lang", "warning", "reason", "next_step"),
    [
        (
            "en",
            "has no working mail server",
            "could not reach its mail server",
            "record it here as submitted by hand",
        ),
        ("ko", "작동하는 메일 서버가 없어", "메일 서버에 연결하지 못해", "직접 제출한 것으로 기록"),
    ],
)
def test_no_mail_server_is_said_before_sending_and_failure_is_plain(
    client, email_notice, owner, no_mail_server, lang, warning, reason, next_step
):  # type: ignore[no-untyped-def]
    notice = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    client.force_login(owner.user)
    url = reverse("notice_detail", args=[notice.case_id, notice.pk])
    page = _page(client, url, lang)
    assert warning in page
    assert reverse("notice_send", args=[notice.case_id, notice.pk]) not in page  # no button to fail
    assert reverse("notice_submitted", args=[notice.case_id, notice.pk]) in page  # the other way
    # Sending anyway (e.g. an old tab) fails with a plain reason and a next step.
    response = client.post(reverse("notice_send", args=[notice.case_id, notice.pk]), follow=True)
    text = response.content.decode()
    assert reason in text and next_step in text
    shown = text.split('<details class="small">')[0]
    assert "ConnectionRefusedError" not in shown and "Errno" not in shown
    notice.refresh_from_db()
    assert notice.state == NoticeState.SIGNED


def test_send_failure_message_from_the_service_is_plain(email_notice, owner, no_mail_server):  # type: ignore[no-untyped-def]
    notice = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    with translation.override("en"), pytest.raises(NoticeError) as failure:
        notice_send(notice=notice, actor=owner.user)
    assert "Errno" not in str(failure.value) and "could not reach its mail server" in str(failure.value)


def test_mail_server_present_shows_the_send_button(client, email_notice, owner, smtp):  # type: ignore[no-untyped-def]
    from app.notices import services

    services._MAIL_STATUS.clear()
    notice = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    client.force_login(owner.user)
    page = client.get(reverse("notice_detail", args=[notice.case_id, notice.pk])).content.decode()
    assert reverse("notice_send", args=[notice.case_id, notice.pk]) in page
    assert "no working mail server" not in page


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_record_submitted_by_hand_starts_tracking_like_a_sent_email(
    client, email_notice, owner, no_mail_server, lang
):  # type: ignore[no-untyped-def]
    notice = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    client.force_login(owner.user)
    url = reverse("notice_detail", args=[notice.case_id, notice.pk])
    page = _page(client, url, lang)
    # The form says which time zone the date and time are read in; enter a time in that zone.
    zone = ZoneInfo(_zone(page))
    local_now = timezone.now().astimezone(zone).replace(second=0, microsecond=0)
    response = client.post(
        reverse("notice_submitted", args=[notice.case_id, notice.pk]),
        {"submitted_on": local_now.strftime("%Y-%m-%dT%H:%M"), "channel": "email", "reference": "CASE-4471"},
        follow=True,
    )
    assert response.status_code == 200
    notice.refresh_from_db()
    assert notice.state == NoticeState.SUBMITTED
    assert notice.submitted_at == local_now
    assert (notice.submitted_channel, notice.submitted_reference) == ("email", "CASE-4471")
    tracking = notice.tracking
    assert tracking.sent_at == local_now
    assert tracking.deadline_at == local_now + timedelta(hours=48)  # TAKE IT DOWN Act
    assert "CASE-4471" in response.content.decode()


def _zone(page: str) -> str:
    match = re.search(r"In the time zone ([\w/+-]+)\.", page) or re.search(
        r"([\w/+-]+) 시간대 기준입니다", page
    )
    assert match, "the form must say which time zone it reads"
    return match.group(1)


def test_submission_in_the_future_is_refused(email_notice, owner):  # type: ignore[no-untyped-def]
    from app.notices.services import notice_record_submitted

    notice = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    with pytest.raises(NoticeError):
        notice_record_submitted(
            notice=notice,
            actor=owner.user,
            submitted_at=timezone.now() + timedelta(days=1),
            channel="web_form",
        )
    notice.refresh_from_db()
    assert notice.state == NoticeState.SIGNED
