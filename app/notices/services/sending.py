"""Sending a signed notice by email, or recording it as submitted by hand; the mail server's state."""

from __future__ import annotations

import smtplib
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.notices.models import Notice, NoticeState, SubmissionChannel
from app.notices.services.letters import NoticeError, as_text, notice_contact
from app.platforms.models import ChannelKind


def _webhook(notice: Notice, event: str) -> None:
    from app.api.webhooks import webhooks_emit

    webhooks_emit(
        organization_id=notice.case.organization_id,
        event=event,
        data={
            "case_id": notice.case_id, "notice_id": notice.pk, "state": notice.state,
            "recipient": notice.recipient_name, "deadline_at": notice.deadline_at.isoformat() if notice.deadline_at else None,
        },
    )  # fmt: skip


def _deadline(notice: Notice, at: datetime) -> datetime | None:
    # One source of truth for deadlines: the organisation's override, else the regime's data.
    from app.tracking.selectors import deadline_hours_for

    hours = deadline_hours_for(organization=notice.case.organization, regime=notice.regime)
    return at + timedelta(hours=hours) if hours else None


def _tracking_start(notice: Notice, actor: User | None) -> None:
    from app.tracking.services import notice_tracking_start

    notice_tracking_start(notice=notice, actor=actor)


def notice_reply_to(notice: Notice) -> str:
    contact, _source = notice_contact(notice)
    return contact


def notice_send(*, notice: Notice, actor: User | None) -> Notice:
    """Email a signed notice with its PDF to the platform's address."""
    notice.refresh_from_db()
    if notice.state != NoticeState.SIGNED or not notice.is_signed:
        raise NoticeError(_("A notice is sent only after it has been reviewed and signed."))
    if notice.channel_kind != ChannelKind.EMAIL or "@" not in notice.channel_address:
        raise NoticeError(_("This platform does not take notices by email; use the submit helper."))
    reply_to = notice_reply_to(notice)
    message = EmailMessage(
        subject=as_text(notice.subject),
        body=as_text(notice.body),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.channel_address],
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach(f"notice-{notice.case_id}-{notice.pk}.pdf", bytes(notice.pdf or b""), "application/pdf")
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        code = _send_failure_code(exc)
        # The code picks the translated explanation; the technical text stays for whoever needs it.
        notice.send_error = f"{code}: {type(exc).__name__}: {exc}"[:500]
        notice.save(update_fields=["send_error", "updated_at"])
        _MAIL_STATUS.clear()
        audit_record(
            organization=notice.case.organization, actor=actor, action="notice.send_failed",
            case_id=notice.case_id, object_type="notice", object_id=notice.pk, detail={"reason": code},
        )  # fmt: skip
        reason, next_step = send_failure_text(notice.send_error)
        raise NoticeError(f"{reason} {next_step}") from exc
    now = timezone.now()
    notice.state = NoticeState.SENT
    notice.sent_at, notice.sent_by, notice.send_error = now, actor, ""
    notice.deadline_at = _deadline(notice, now)
    notice.save(update_fields=["state", "sent_at", "sent_by", "send_error", "deadline_at", "updated_at"])
    audit_record(
        organization=notice.case.organization, actor=actor, action="notice.send", case_id=notice.case_id,
        object_type="notice", object_id=notice.pk, detail={"to": notice.channel_address},
    )  # fmt: skip
    _tracking_start(notice, actor)
    _webhook(notice, "notice.sent")
    return notice


SUBMISSION_CHANNELS = dict(SubmissionChannel.choices)
# A clock a little ahead of the server's is not an error; a date in the future is.
_FUTURE_SLACK = timedelta(minutes=10)


@transaction.atomic
def notice_record_submitted(
    *,
    notice: Notice,
    actor: User | None,
    submitted_at: datetime | None = None,
    channel: str = "",
    reference: str = "",
) -> Notice:
    """Record that a person submitted a signed notice by hand (web form, app, own mailbox, post).

    Tracking starts exactly as for an email Jium sent: the deadline counts from ``submitted_at``
    (an aware date and time; now when not given).
    """
    # Locked and re-read so two people recording at once cannot both start tracking; the caller's
    # object is updated in place (the API answers with it).
    Notice.objects.select_for_update().filter(pk=notice.pk).first()
    notice.refresh_from_db()
    if notice.state != NoticeState.SIGNED or not notice.is_signed:
        raise NoticeError(_("A notice is submitted only after it has been reviewed and signed."))
    channel = channel or (notice.channel_kind if notice.channel_kind in SUBMISSION_CHANNELS else "other")
    if channel not in SUBMISSION_CHANNELS:
        raise NoticeError(_("Choose how the notice was submitted."))
    now = timezone.now()
    at = submitted_at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + _FUTURE_SLACK:
        raise NoticeError(_("The date and time of submission cannot be in the future."))
    notice.state = NoticeState.SUBMITTED
    notice.submitted_at = at
    notice.submitted_channel = channel
    notice.submitted_reference = reference.strip()[:200]
    notice.sent_by = actor
    notice.send_error = ""
    notice.deadline_at = _deadline(notice, at)
    notice.save(
        update_fields=[
            "state", "submitted_at", "submitted_channel", "submitted_reference", "sent_by", "send_error",
            "deadline_at", "updated_at",
        ]
    )  # fmt: skip
    audit_record(
        organization=notice.case.organization, actor=actor, action="notice.submitted", case_id=notice.case_id,
        object_type="notice", object_id=notice.pk, detail={"channel": channel},
    )  # fmt: skip
    _tracking_start(notice, actor)
    return notice


def notice_mark_submitted(
    *, notice: Notice, actor: User | None, submitted_at: datetime | None = None
) -> Notice:
    """Kept for callers written before the channel and reference were recorded."""
    return notice_record_submitted(notice=notice, actor=actor, submitted_at=submitted_at)


# --- Mail server ------------------------------------------------------------------------------

_MAIL_STATUS: dict[str, tuple[float, bool]] = {}
_MAIL_STATUS_SECONDS = 30.0


def mail_server_available() -> bool:
    """Whether Jium can hand an email to its mail server right now (checked at most every 30 s).

    The quick start sets no mail server (localhost:25, usually nothing there): the notice page says
    so before anyone presses "send", and offers the other ways.
    """
    backend = settings.EMAIL_BACKEND
    if not backend.endswith("smtp.EmailBackend"):
        return True  # console, file or in-memory backends always accept
    key = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    cached = _MAIL_STATUS.get(key)
    if cached is not None and time.monotonic() - cached[0] < _MAIL_STATUS_SECONDS:
        return cached[1]
    try:
        with socket.create_connection((settings.EMAIL_HOST, int(settings.EMAIL_PORT)), timeout=2):
            ok = True
    except OSError:
        ok = False
    _MAIL_STATUS[key] = (time.monotonic(), ok)
    return ok


def _send_failure_code(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient_refused"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "sender_refused"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "login_refused"
    if isinstance(exc, smtplib.SMTPException):
        return "mail_refused"
    return "unreachable"  # connection refused, DNS failure, timeout


def send_failure_text(send_error: str) -> tuple[str, str]:
    """(plain reason, next step) for a stored send failure, in the reader's language."""
    code = send_error.split(":", 1)[0]
    texts = {
        "unreachable": (
            _("Jium could not reach its mail server, so the email was not sent."),
            _(
                "Ask whoever runs Jium to set up email. Meanwhile, download the PDF and send it from "
                "your own mailbox or through the platform's form, then record it here as submitted by hand."
            ),
        ),
        "recipient_refused": (
            _("The mail server refused the platform's address."),
            _("Check the address, or submit the notice through the platform's form and record it here."),
        ),
        "sender_refused": (
            _("The mail server refused Jium's sender address."),
            _("Ask whoever runs Jium to check the sender address (DEFAULT_FROM_EMAIL)."),
        ),
        "login_refused": (
            _("The mail server refused Jium's login."),
            _("Ask whoever runs Jium to check the mail server's user name and password."),
        ),
    }
    return texts.get(
        code,
        (
            _("The mail server did not accept the email."),
            _("Try again in a few minutes, or submit the notice another way and record it here."),
        ),
    )
