"""A notice's letter: who it speaks for, which contact and name it discloses, its text and PDF."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from app.cases.models import Case, ReportedUrl
from app.notices.drafting import (
    LetterInput,
    UrlEvidence,
    is_delisting,
    render_letter,
    url_evidence,
)
from app.notices.models import Notice
from app.notices.pdf import render_pdf
from app.platforms.models import Regime


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
