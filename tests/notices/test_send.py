"""Email sending through a real SMTP server (aiosmtpd) on 127.0.0.1; nothing leaves without a signature."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import date

import pytest
from aiosmtpd.controller import Controller

from app.notices.models import NoticeState
from app.notices.services import NoticeError, notice_drafts_for_case, notice_send, notice_sign
from app.platforms.models import Platform
from app.platforms.services import platform_channels_set
from tests.notices.conftest import ORG_REPLY


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings):  # type: ignore[no-untyped-def]
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "notices@jium.example"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def email_notice(matched_case, owner):  # type: ignore[no-untyped-def]
    imgur = Platform.objects.get(slug="imgur")
    platform_channels_set(
        platform=imgur,
        actor=None,
        channels=[{"kind": "email", "address": "abuse@imgur.example", "confirmed": True}],
    )
    case = matched_case(
        "https://i.imgur.com/AbCdEf.jpg",
        authorised_on=date(2026, 11, 20),
        authorisation_method="form",
        language="en",
    )
    [n] = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    assert (n.channel_kind, n.channel_address) == ("email", "abuse@imgur.example")
    return n


def test_unsigned_notice_is_never_sent(email_notice, owner, smtp):
    with pytest.raises(NoticeError):
        notice_send(notice=email_notice, actor=owner.user)
    assert smtp.messages == []
    email_notice.refresh_from_db()
    assert email_notice.state == NoticeState.DRAFT and email_notice.sent_at is None


def test_signed_notice_is_emailed_with_its_pdf(email_notice, owner, smtp):
    signed = notice_sign(
        notice=email_notice, actor=owner.user, signer_name="Alice Admin", signer_role="Caseworker"
    )
    sent = notice_send(notice=signed, actor=owner.user)
    assert sent.state == NoticeState.SENT and sent.sent_at and sent.deadline_at  # TAKE IT DOWN: 48 h
    assert (sent.deadline_at - sent.sent_at).total_seconds() == 48 * 3600
    [(mail_from, rcpts, raw)] = smtp.messages
    assert mail_from == "notices@jium.example" and rcpts == ["abuse@imgur.example"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    # The organisation's reply address, never the person's own contact.
    assert message["Reply-To"] == ORG_REPLY and "jieun@example.org" not in raw.decode("utf-8", "replace")
    assert "TAKE IT DOWN" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "https://i.imgur.com/AbCdEf.jpg" in body and "/s/ Alice Admin" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == bytes(sent.pdf)
    # Sent once: a second send is refused.
    with pytest.raises(NoticeError):
        notice_send(notice=sent, actor=owner.user)
    assert len(smtp.messages) == 1


def test_smtp_failure_is_recorded_and_notice_stays_signed(email_notice, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    signed = notice_sign(notice=email_notice, actor=owner.user, signer_name="Alice Admin")
    with pytest.raises(NoticeError):
        notice_send(notice=signed, actor=owner.user)
    signed.refresh_from_db()
    assert signed.state == NoticeState.SIGNED and signed.send_error


def test_staff_cannot_sign_for_the_person_without_authorisation(matched_case, owner):
    case = matched_case("https://i.imgur.com/x.jpg")
    [n] = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    with pytest.raises(NoticeError):
        notice_sign(notice=n, actor=owner.user, signer_name="Alice")
    signed = notice_sign(
        notice=n, actor=owner.user, signer_name="Alice", authorisation_method="phone call, recorded"
    )
    assert "(how it was given: phone call, recorded)" in signed.body


def test_redrafting_updates_drafts_and_skips_urls_already_sent(matched_case, owner):
    case = matched_case(
        "https://i.imgur.com/a.jpg", "https://x.com/u/status/1", authorised_on=date(2026, 11, 1)
    )
    first = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    again = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    assert sorted(n.pk for n in first) == sorted(n.pk for n in again)
    x = next(n for n in again if n.recipient_key == "x")
    notice_sign(notice=x, actor=owner.user, signer_name="Alice")
    third = notice_drafts_for_case(case=case, actor=owner.user, lang="en", with_pdf=False)
    assert [n.recipient_key for n in third] == ["imgur"]
    assert case.notices.count() == 2
