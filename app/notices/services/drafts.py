"""Drafting notices for a case's matched links, editing and signing them."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, ReportedUrl, UrlState
from app.lib.http import FetchPolicy
from app.notices.drafting import (
    DELISTING_PLATFORMS,
    Recipient,
    choose_channel,
    choose_lang,
    choose_regime,
    minor_regime,
    recipient_for,
    url_evidence,
)
from app.notices.models import Notice, NoticeState, NoticeUrl
from app.notices.services.letters import (
    CONTACT_CHOSEN,
    CONTACT_PERSON,
    NoticeError,
    _acting_for,
    notice_contact,
    notice_render,
    person_email,
    usable_email,
)
from app.notices.services.sending import _webhook
from app.platforms.models import ChannelKind, Platform


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
