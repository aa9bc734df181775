"""What a notice discloses about the person, the per-case name choice and the submit helper's fields."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case
from app.notices.models import Notice, NoticeState
from app.notices.services.letters import (
    CONTACT_CHOSEN,
    CONTACT_PERSON,
    NoticeError,
    _acting_for,
    _regime,
    as_text,
    name_disclosed,
    notice_contact,
    notice_items,
    notice_render,
    usable_email,
)
from app.notices.services.sending import notice_reply_to

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
