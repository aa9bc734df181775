"""Drafting, reviewing, signing and sending notices. Nothing leaves Jium without a signature."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, ReportedUrl, UrlState
from app.lib.http import FetchPolicy
from app.notices.drafting import (
    DELISTING_PLATFORMS,
    LetterInput,
    Recipient,
    UrlEvidence,
    choose_channel,
    choose_lang,
    choose_regime,
    is_delisting,
    minor_regime,
    recipient_for,
    render_letter,
    url_evidence,
)
from app.notices.models import Notice, NoticeState, NoticeUrl, SubmissionChannel
from app.notices.pdf import render_pdf
from app.platforms.models import ChannelKind, Platform, Regime

log = logging.getLogger(__name__)


class NoticeError(ValueError):
    """A step that cannot be done in the notice's current state; the message is for the user."""


def as_text(value: object) -> str:
    """An encrypted text field's value as text; an unsaved row still holds the field default b""."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8") if value else ""
    return "" if value is None else str(value)


def _regime(code: str) -> Regime:
    regime = Regime.objects.filter(code=code).first()
    if regime is None:
        from app.platforms.services import platforms_sync

        platforms_sync()
        regime = Regime.objects.get(code=code)
    return regime


def _acting_for(case: Case) -> bool:
    return bool(case.authorised_on or case.authorisation_method)


def usable_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def person_email(case: Case) -> str:
    """The first email address in the person's own contact details ("" when there is none)."""
    for token in as_text(case.contact).replace(",", " ").replace(";", " ").split():
        token = token.strip("<>()[]\"'")
        if "@" in token and usable_email(token):
            return token
    return ""


# Where a notice's reply address comes from.
CONTACT_ORG, CONTACT_CHOSEN, CONTACT_PERSON = "org", "chosen", "person"


def notice_contact(notice: Notice) -> tuple[str, str]:
    """(reply address, where it comes from) for a notice; ("", "") when there is none.

    The person's own contact details never go to a platform by default: only the organisation's
    reply address, or an address a caseworker chose for this notice.
    """
    if notice.contact_source in (CONTACT_CHOSEN, CONTACT_PERSON) and notice.contact_email:
        return notice.contact_email, notice.contact_source
    org_email = notice.case.organization.notice_sender_email
    return (org_email, CONTACT_ORG) if org_email else ("", "")


def name_disclosed(*, case: Case, regime: Regime) -> bool:
    """Whether notices of this case under this law carry the person's name.

    Least disclosure: the name goes in only where the law requires it, unless the case records
    another choice. (Rules for minors' cases can narrow this further.)
    """
    if case.is_minor:
        return bool(case.minor_name_in_notices)  # a minor's name only when a caseworker added it
    if case.notice_name == "omit":
        return False
    if case.notice_name == "include":
        return True
    return regime.name_required


def _victim_name(case: Case, lang: str, regime: Regime) -> str:
    """The name the letter gives, or "" (the letter then says it is withheld); a minor is never named
    unless a caseworker explicitly chose so for the case."""
    if name_disclosed(case=case, regime=regime):
        return as_text(case.real_name)
    if case.is_minor:
        return (
            "청소년 피해자(보호를 위해 이름 비공개)"
            if lang == "ko"
            else "a young person (name withheld to protect them)"
        )
    return ""


def _letter_input(notice: Notice, items: list[UrlEvidence]) -> LetterInput:
    case = notice.case
    org = case.organization
    acting = _acting_for(case)
    contact, _source = notice_contact(notice)
    regime = _regime(notice.regime)
    references = list(case.references.values_list("pk", flat=True))
    titles = {ev.reported_url.pk: ev.page_title for ev in items if ev.page_title}
    return LetterInput(
        regime=regime,
        lang=notice.lang,
        recipient_name=notice.recipient_name,
        channel_address=notice.channel_address,
        victim_name=_victim_name(case, notice.lang, regime),
        contact_email=contact,
        acting_for=acting,
        org_name=org.notice_sender_name or org.name,
        authorised_on=case.authorised_on.isoformat() if case.authorised_on else "",
        authorisation_method=case.authorisation_method,
        items=items,
        reference_numbers={pk: n for n, pk in enumerate(references, start=1)},
        statement=as_text(notice.statement),
        signer_name=as_text(notice.signer_name),
        signer_role=notice.signer_role,
        signed_at=notice.signed_at,
        now=notice.signed_at or timezone.now(),
        delisting=is_delisting(notice.platform),
        titles=titles,
        zone=org.zone,
    )


def notice_items(notice: Notice) -> list[UrlEvidence]:
    urls = ReportedUrl.objects.filter(notice_items__notice=notice).order_by("id")
    return [url_evidence(u) for u in urls]


def notice_render(*, notice: Notice, with_pdf: bool = True) -> Notice:
    """Write the subject, body and PDF from the notice's data (after any change to it)."""
    data = _letter_input(notice, notice_items(notice))
    notice.subject, notice.body = render_letter(data)
    if with_pdf:
        notice.pdf = notice_pdf_bytes(notice=notice)
        notice.pdf_sha256 = hashlib.sha256(notice.pdf).hexdigest()
    notice.save()
    return notice


def notice_pdf_bytes(*, notice: Notice) -> bytes:
    regime = _regime(notice.regime)
    lang = notice.lang
    channel_labels = {
        "email": "이메일" if lang == "ko" else "Email",
        "web_form": "웹 양식" if lang == "ko" else "Web form",
        "in_app": "앱 내 신고" if lang == "ko" else "In-app report",
    }
    footer = (
        f"Jium 지움 · 사건 번호 {notice.case_id} · 요청서 번호 {notice.pk}"
        if lang == "ko"
        else f"Jium · case {notice.case_id} · notice {notice.pk}"
    )
    return render_pdf(
        "notices/pdf/notice.html",
        {
            "lang": lang,
            "subject": notice.subject,
            "body": notice.body,
            "recipient_name": notice.recipient_name,
            "regime_name": regime.name_ko if lang == "ko" else regime.name_en,
            "channel_label": channel_labels.get(notice.channel_kind, notice.channel_kind),
            "footer": footer,
        },
    )


def _group_matched_urls(
    *, case: Case, regime: str, lang: str, policy: FetchPolicy | None
) -> OrderedDict[str, tuple[Recipient, list[ReportedUrl]]]:
    groups: OrderedDict[str, tuple[Recipient, list[ReportedUrl]]] = OrderedDict()
    delist: list[ReportedUrl] = []
    for reported in case.urls.filter(state=UrlState.MATCHED).order_by("id"):
        evidence = url_evidence(reported)
        recipient, _platform = recipient_for(
            evidence, case=case, regime_override=regime, preferred_lang=lang, policy=policy
        )
        groups.setdefault(recipient.key, (recipient, []))[1].append(reported)
        if recipient.via_rdap:
            delist.append(reported)
    if delist:
        # Hosts Jium does not know may ignore a notice; search engines can at least hide them.
        for slug in DELISTING_PLATFORMS:
            engine = Platform.objects.filter(slug=slug, active=True).first()
            if engine is None:
                continue
            code = choose_regime(
                jurisdiction=case.jurisdiction, accepted=list(engine.regimes), override=regime
            )
            if case.is_minor:
                code = minor_regime(regime=code, jurisdiction=case.jurisdiction)
            channel = choose_channel(engine, code)
            if channel is None:
                continue
            recipient = Recipient(
                key=engine.slug, name=engine.name, platform=engine, channel_kind=channel.kind,
                channel_address=channel.address, channel_confirmed=channel.confirmed, regime=code,
                lang=choose_lang(platform_languages=list(engine.languages), preferred=lang),
            )  # fmt: skip
            existing = groups.setdefault(recipient.key, (recipient, []))[1]
            existing.extend(u for u in delist if u not in existing)
    return groups


@transaction.atomic
def notice_drafts_for_case(
    *,
    case: Case,
    actor: User | None,
    regime: str = "auto",
    lang: str | None = None,
    policy: FetchPolicy | None = None,
    with_pdf: bool = True,
    contact_email: str = "",
) -> list[Notice]:
    """One draft per recipient covering the case's matched URLs not yet in a signed notice.

    Running it again updates the open drafts instead of adding new ones. ``contact_email`` is a
    reply address chosen for these notices (e.g. the takedown command's --contact-email); without
    it the notices give the organisation's reply address.
    """
    preferred = lang or case.language or "en"
    groups = _group_matched_urls(case=case, regime=regime, lang=preferred, policy=policy)
    drafts: list[Notice] = []
    for key, (recipient, urls) in groups.items():
        covered = set(
            NoticeUrl.objects.filter(notice__case=case, notice__recipient_key=key)
            .exclude(notice__state=NoticeState.DRAFT)
            .values_list("reported_url_id", flat=True)
        )
        pending = [u for u in urls if u.pk not in covered]
        draft = Notice.objects.filter(case=case, recipient_key=key, state=NoticeState.DRAFT).first()
        if not pending:
            if draft is not None:
                draft.delete()
            continue
        if draft is None:
            draft = Notice(case=case, recipient_key=key, created_by=actor)
        draft.platform = recipient.platform
        name = recipient.platform.display_name(recipient.lang) if recipient.platform else recipient.name
        draft.recipient_name = (name if not recipient.via_rdap else recipient.name)[:300]
        if contact_email:
            draft.contact_email, draft.contact_source = contact_email.strip()[:320], CONTACT_CHOSEN
        draft.regime = recipient.regime
        draft.lang = recipient.lang
        draft.channel_kind = recipient.channel_kind
        draft.channel_address = recipient.channel_address[:500]
        draft.channel_confirmed = recipient.channel_confirmed
        draft.save()
        draft.items.exclude(reported_url__in=pending).delete()
        have = set(draft.items.values_list("reported_url_id", flat=True))
        NoticeUrl.objects.bulk_create(
            [NoticeUrl(notice=draft, reported_url=u) for u in pending if u.pk not in have]
        )
        notice_render(notice=draft, with_pdf=with_pdf)
        drafts.append(draft)
    audit_record(
        organization=case.organization, actor=actor, action="notice.draft", case_id=case.pk,
        detail={"notices": [n.pk for n in drafts]},
    )  # fmt: skip
    return drafts


def _require_open(notice: Notice) -> None:
    if notice.state in (NoticeState.SENT, NoticeState.SUBMITTED):
        raise NoticeError(_("This notice has already been sent and can no longer be changed."))


@transaction.atomic
def notice_edit(
    *,
    notice: Notice,
    actor: User | None,
    statement: str | None = None,
    regime: str | None = None,
    lang: str | None = None,
    channel_address: str | None = None,
    contact_email: str | None = None,
    use_person_contact: bool = False,
) -> Notice:
    """Change the free-text part (or the regime/language); a signed notice must be signed again.

    A caseworker may also give the email address to write to, e.g. when no abuse contact was
    found; an address a person chose counts as checked. ``contact_email`` is the reply address
    for this notice ("" goes back to the organisation's); ``use_person_contact`` puts the person's
    own email address there instead, which the page offers only after a warning.
    """
    _require_open(notice)
    if use_person_contact:
        own = person_email(notice.case)
        if not own:
            raise NoticeError(_("The person's contact details have no email address."))
        notice.contact_email, notice.contact_source = own, CONTACT_PERSON
    elif contact_email is not None:
        contact_email = contact_email.strip()
        if contact_email and not usable_email(contact_email):
            raise NoticeError(_("Enter a valid email address for replies."))
        if contact_email:
            notice.contact_email, notice.contact_source = contact_email[:320], CONTACT_CHOSEN
        else:
            notice.contact_email, notice.contact_source = "", ""
    if channel_address:
        if notice.channel_kind != ChannelKind.EMAIL:
            raise NoticeError(_("This platform does not take notices by email; use the submit helper."))
        notice.channel_address = channel_address.strip()[:500]
        notice.channel_confirmed = True
    if statement is not None:
        notice.statement = statement.strip()[:5000]
    if regime:
        notice.regime = regime
    if lang:
        notice.lang = lang
    notice.state = NoticeState.DRAFT
    notice.signer_name, notice.signer_role, notice.signed_at, notice.signed_by = "", "", None, None
    try:
        with transaction.atomic():
            notice_render(notice=notice)
    except IntegrityError:
        raise NoticeError(_("Another draft for this recipient is open; edit that one instead.")) from None
    audit_record(
        organization=notice.case.organization, actor=actor, action="notice.edit", case_id=notice.case_id,
        object_type="notice", object_id=notice.pk,
    )  # fmt: skip
    return notice


@transaction.atomic
def notice_sign(
    *,
    notice: Notice,
    actor: User | None,
    signer_name: str,
    signer_role: str = "",
    authorised_on: date | None = None,
    authorisation_method: str = "",
) -> Notice:
    """The reviewer's typed signature. Staff sign for the person only with their authorisation on record."""
    _require_open(notice)
    if notice.state == NoticeState.SIGNED:
        raise NoticeError(_("This notice is already signed."))
    if not signer_name.strip():
        raise NoticeError(_("Type your full name to sign."))
    if not notice.items.exists():
        raise NoticeError(_("This notice lists no links."))
    contact, _source = notice_contact(notice)
    if not usable_email(contact):
        raise NoticeError(
            _(
                "This notice has no email address for the platform to reply to. Set your organisation's "
                "reply address in Settings, or enter one for this notice, then sign."
            )
        )
    case = notice.case
    signing_for_self = actor is not None and case.victim_user_id == actor.pk
    if not signing_for_self and not _acting_for(case):
        if not (authorised_on or authorisation_method.strip()):
            raise NoticeError(
                _(
                    "Record how the person authorised your organisation to act for them before signing for them."
                )
            )
        case.authorised_on = authorised_on or case.authorised_on
        case.authorisation_method = authorisation_method.strip()[:200] or case.authorisation_method
        case.save(update_fields=["authorised_on", "authorisation_method", "updated_at"])
    notice.signer_name = signer_name.strip()[:200]
    notice.signer_role = signer_role.strip()[:200]
    notice.signed_by = actor
    notice.signed_at = timezone.now()
    notice.state = NoticeState.SIGNED
    notice_render(notice=notice)
    audit_record(
        organization=case.organization, actor=actor, action="notice.sign", case_id=case.pk,
        object_type="notice", object_id=notice.pk,
    )  # fmt: skip
    _webhook(notice, "notice.signed")
    return notice


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


NAME_CHOICES = ("", "include", "omit")


@transaction.atomic
def case_notice_name_set(*, case: Case, actor: User | None, choice: str) -> Case:
    """Record whether this case's notices name the person ("" = only where the law requires it).

    Open drafts are rewritten at once; signed or sent notices keep the words they were signed with.
    """
    if choice not in NAME_CHOICES:
        raise NoticeError(_("Choose whether notices name the person."))
    case.notice_name = choice
    case.save(update_fields=["notice_name", "updated_at"])
    for draft in Notice.objects.filter(case=case, state=NoticeState.DRAFT):
        notice_render(notice=draft)
    audit_record(
        organization=case.organization, actor=actor, action="case.notice_name", case_id=case.pk,
        detail={"choice": choice or "law"},
    )  # fmt: skip
    return case


def notice_disclosure(*, notice: Notice) -> list[tuple[str, str, bool]]:
    """What the notice tells the platform about the person, in plain words: (topic, what, warn).

    Shown on the review page before signing, so a caseworker sees exactly what leaves Jium.
    """
    case = notice.case
    regime = _regime(notice.regime)
    rows: list[tuple[str, str, bool]] = []
    real_name = as_text(case.real_name)
    if name_disclosed(case=case, regime=regime) and real_name:
        why = (
            _("this law expects it")
            if case.notice_name != "include"
            else _("you chose to include it for this case")
        )
        rows.append(
            (
                _("The person's name"),
                _("Included: %(name)s (%(why)s)") % {"name": real_name, "why": why},
                False,
            )
        )
    elif case.notice_name == "omit" and regime.name_required:
        rows.append(
            (
                _("The person's name"),
                _("Not included, by your choice. This law expects it: the platform may ask for it."),
                True,
            )
        )
    else:
        rows.append(
            (_("The person's name"), _("Not included. The platform can ask for it if it needs it."), False)
        )
    contact, source = notice_contact(notice)
    if not usable_email(contact):
        rows.append(
            (_("Address for replies"), _("None yet: the notice cannot be signed until it has one."), True)
        )
    elif source == CONTACT_PERSON:
        rows.append(
            (
                _("Address for replies"),
                _("%(email)s — the person's own email address: the platform will see it.")
                % {"email": contact},
                True,
            )
        )
    elif source == CONTACT_CHOSEN:
        rows.append(
            (_("Address for replies"), _("%(email)s — chosen for this notice") % {"email": contact}, False)
        )
    else:
        rows.append(
            (
                _("Address for replies"),
                _("%(email)s — your organisation's reply address") % {"email": contact},
                False,
            )
        )
    rows.append((_("The person's phone number and other contact details"), _("Not included."), False))
    if _acting_for(case):
        org = case.organization
        parts = [str(org.notice_sender_name or org.name)]
        if case.authorised_on:
            parts.append(_("authorised on %(date)s") % {"date": case.authorised_on.isoformat()})
        if case.authorisation_method:
            parts.append(_("how: %(method)s") % {"method": case.authorisation_method})
        rows.append((_("Who acts for the person"), ", ".join(parts), False))
    rows.append(
        (
            _("Dates"),
            _("When Jium checked each link, today's date, and the date and time of signing."),
            False,
        )
    )
    rows.append(
        (
            _("Images"),
            _("None are attached. Each file is identified by its web address and a fingerprint (SHA-256)."),
            False,
        )
    )
    return [(str(topic), str(text), warn) for topic, text, warn in rows]


def submit_helper_fields(*, notice: Notice) -> list[tuple[str, str]]:
    """Each value a platform's web form asks for, ready to copy, in the notice's words."""
    items = notice_items(notice)
    case = notice.case
    org = case.organization
    acting = _acting_for(case)
    urls = "\n".join(ev.url for ev in items)
    media = "\n".join(m["media_url"] for ev in items for m in ev.matches)
    fields = [
        (_("URLs of the content"), urls),
        (_("Direct links to the matching files"), media),
        (_("Your name"), notice.signer_name),
        (
            _("Name of the person depicted"),
            case.real_name if name_disclosed(case=case, regime=_regime(notice.regime)) else "",
        ),
        (_("Email address"), notice_reply_to(notice)),
        (_("Acting on behalf of the person"), (org.notice_sender_name or org.name) if acting else ""),
        (_("Why the content must be removed"), _regime(notice.regime).text("ground", notice.lang)),
        (_("Full notice text"), notice.body),
        (_("Signature (type exactly)"), notice.signer_name),
    ]
    return [(str(label), as_text(value)) for label, value in fields if as_text(value)]
