"""Drafting, reviewing, signing and sending notices. Nothing leaves Jium without a signature."""

from __future__ import annotations

import hashlib
import logging
import smtplib
from collections import OrderedDict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
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
from app.notices.models import Notice, NoticeState, NoticeUrl
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


def _victim_name(case: Case, lang: str) -> str:
    """A minor's name goes into a notice only when a caseworker explicitly chose so for the case."""
    if case.is_minor and not case.minor_name_in_notices:
        return (
            "청소년 피해자(보호를 위해 이름 비공개)"
            if lang == "ko"
            else "a young person (name withheld to protect them)"
        )
    return as_text(case.real_name)


def _letter_input(notice: Notice, items: list[UrlEvidence]) -> LetterInput:
    case = notice.case
    org = case.organization
    acting = _acting_for(case)
    contact = (org.notice_sender_email if acting and org.notice_sender_email else "") or as_text(case.contact)
    references = list(case.references.values_list("pk", flat=True))
    return LetterInput(
        regime=_regime(notice.regime),
        lang=notice.lang,
        recipient_name=notice.recipient_name,
        channel_address=notice.channel_address,
        victim_name=_victim_name(case, notice.lang),
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
) -> list[Notice]:
    """One draft per recipient covering the case's matched URLs not yet in a signed notice.

    Running it again updates the open drafts instead of adding new ones.
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
        draft.recipient_name = recipient.name[:300]
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
) -> Notice:
    """Change the free-text part (or the regime/language); a signed notice must be signed again.

    A caseworker may also give the email address to write to, e.g. when no abuse contact was
    found; an address a person chose counts as checked.
    """
    _require_open(notice)
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
    return notice


def _deadline(notice: Notice, at: datetime) -> datetime | None:
    # One source of truth for deadlines: the organisation's override, else the regime's data.
    from app.tracking.selectors import deadline_hours_for

    hours = deadline_hours_for(organization=notice.case.organization, regime=notice.regime)
    return at + timedelta(hours=hours) if hours else None


def _tracking_start(notice: Notice, actor: User | None) -> None:
    from app.tracking.services import notice_tracking_start

    notice_tracking_start(notice=notice, actor=actor)


def notice_reply_to(notice: Notice) -> str:
    org = notice.case.organization
    if _acting_for(notice.case) and org.notice_sender_email:
        return org.notice_sender_email
    contact = as_text(notice.case.contact)
    return contact if "@" in contact else ""


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
        notice.send_error = f"{type(exc).__name__}: {exc}"[:500]
        notice.save(update_fields=["send_error", "updated_at"])
        audit_record(
            organization=notice.case.organization, actor=actor, action="notice.send_failed",
            case_id=notice.case_id, object_type="notice", object_id=notice.pk,
        )  # fmt: skip
        raise NoticeError(
            _("The email could not be sent: %(reason)s") % {"reason": notice.send_error}
        ) from exc
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
    return notice


def notice_mark_submitted(
    *, notice: Notice, actor: User | None, submitted_at: datetime | None = None
) -> Notice:
    """Record that a person submitted a signed notice through a web form or the app."""
    if notice.state != NoticeState.SIGNED or not notice.is_signed:
        raise NoticeError(_("A notice is submitted only after it has been reviewed and signed."))
    at = submitted_at or timezone.now()
    notice.state = NoticeState.SUBMITTED
    notice.submitted_at = at
    notice.sent_by = actor
    notice.deadline_at = _deadline(notice, at)
    notice.save(update_fields=["state", "submitted_at", "sent_by", "deadline_at", "updated_at"])
    audit_record(
        organization=notice.case.organization, actor=actor, action="notice.submitted", case_id=notice.case_id,
        object_type="notice", object_id=notice.pk,
    )  # fmt: skip
    _tracking_start(notice, actor)
    return notice


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
        (_("Your name"), notice.signer_name or case.real_name),
        (_("Name of the person depicted"), case.real_name),
        (_("Email address"), notice_reply_to(notice)),
        (_("Acting on behalf of the person"), (org.notice_sender_name or org.name) if acting else ""),
        (_("Why the content must be removed"), _regime(notice.regime).text("ground", notice.lang)),
        (_("Full notice text"), notice.body),
        (_("Signature (type exactly)"), notice.signer_name),
    ]
    return [(str(label), as_text(value)) for label, value in fields if as_text(value)]
