"""Cases themselves: opening, editing, assigning, closing, erasing; the person's own addresses."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.cases.models import (
    AgeGroup,
    Case,
    CaseKind,
    WhitelistEntry,
)
from app.lib.urls import InvalidUrl, normalize_url, url_host

log = logging.getLogger(__name__)


class CaseInputError(ValueError):
    """Input a person gave that cannot be used; the message is meant for them."""


def case_create(
    *,
    organization: Organization,
    actor: User | None,
    alias: str,
    jurisdiction: str,
    language: str = "en",
    real_name: str = "",
    contact: str = "",
    keep_originals: bool = False,
    keep_evidence: bool = False,
    authorised_on: date | None = None,
    authorisation_method: str = "",
    age_group: str = AgeGroup.ADULT,
    under_14: bool = False,
    guardian_name: str = "",
    guardian_relation: str = "",
    guardian_consent_on: date | None = None,
    minor_name_in_notices: bool = False,
    kind: str = CaseKind.PERSON,
) -> Case:
    if age_group not in AgeGroup.values:
        raise CaseInputError(_("Choose the age of the person in the images."))
    minor = age_group != AgeGroup.ADULT
    if minor:
        # A minor's case never holds media: the opt-ins are off whatever was asked.
        keep_originals = keep_evidence = False
    case = Case.objects.create(
        age_group=age_group,
        under_14=under_14 if minor else False,
        guardian_name=guardian_name.strip() if minor else "",
        guardian_relation=guardian_relation.strip()[:100] if minor else "",
        guardian_consent_on=guardian_consent_on if minor else None,
        minor_name_in_notices=minor_name_in_notices if minor else False,
        organization=organization,
        alias=alias.strip(),
        jurisdiction=jurisdiction,
        language=language,
        real_name=real_name.strip(),
        contact=contact.strip(),
        keep_originals=keep_originals,
        keep_evidence=keep_evidence,
        authorised_on=authorised_on,
        authorisation_method=authorisation_method.strip(),
        created_by=actor,
        kind=kind,
    )
    if actor is not None:
        case.assigned_to.add(actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="case.create",
        case_id=case.pk,
        object_type="case",
        object_id=case.pk,
    )
    return case


def whitelist_set(*, case: Case, actor: User | None, values: Iterable[str]) -> list[WhitelistEntry]:
    cleaned = sorted({v.strip() for v in values if v.strip()})
    with transaction.atomic():
        case.whitelist.exclude(value__in=cleaned).delete()
        for value in cleaned:
            WhitelistEntry.objects.get_or_create(case=case, value=value)
    audit_record(
        organization=case.organization,
        actor=actor,
        action="case.whitelist",
        case_id=case.pk,
        detail={"count": len(cleaned)},
    )
    return list(case.whitelist.all())


@dataclass(frozen=True)
class _Whitelist:
    """A case's whitelist, read and normalised once for a whole batch of reported URLs."""

    prefixes: tuple[str, ...]
    hosts: tuple[tuple[str, str], ...]  # (exact host, ".parent" suffix)

    @classmethod
    def of(cls, case: Case) -> _Whitelist:
        prefixes: list[str] = []
        hosts: list[tuple[str, str]] = []
        for raw in case.whitelist.values_list("value", flat=True):
            value = raw.strip()
            if "://" in value or "/" in value:
                try:
                    prefixes.append(normalize_url(value).rstrip("/"))
                except InvalidUrl:
                    continue
            else:
                hosts.append((value.lower().lstrip("@"), "." + value.lower()))
        return cls(tuple(prefixes), tuple(hosts))

    def covers(self, normalized: str) -> bool:
        if any(normalized.startswith(prefix) for prefix in self.prefixes):
            return True
        host = url_host(normalized)
        return any(host == exact or host.endswith(suffix) for exact, suffix in self.hosts)


def _pdq_index_forget_on_commit(*, organization_id: int, reference_ids: list[int]) -> None:
    """Erase references from the organisation's shared PDQ index once their deletion commits
    (before the request that erased them answers): earlier, another process could rebuild the
    index from rows that are still there."""
    from app.matching.services import pdq_index_forget

    if reference_ids:
        transaction.on_commit(
            lambda: pdq_index_forget(organization_id=organization_id, reference_ids=reference_ids)
        )


@transaction.atomic
def case_erase(*, case: Case, actor: User | None) -> None:
    """Erase everything about a case; only the fact that an erasure happened is kept."""
    from app.accounts.models import AuditEvent

    organization = case.organization
    case_id = case.pk
    victim_user_id = case.victim_user_id
    AuditEvent.objects.filter(organization=organization, case_id=case_id).delete()
    reference_ids = list(case.references.values_list("id", flat=True))
    case.delete()  # cascades to references, URLs, evidence, matches, notices
    _pdq_index_forget_on_commit(organization_id=organization.pk, reference_ids=reference_ids)
    if victim_user_id is not None and not Case.objects.filter(victim_user_id=victim_user_id).exists():
        # The person's own login exists only for this case: it goes with it.
        User.objects.filter(pk=victim_user_id, memberships__role="victim").delete()
    audit_record(organization=organization, actor=actor, action="case.erase", detail={})


# ---- editing a case (web) ----------------------------------------------------------------------

CASE_EDITABLE_FIELDS = (
    "alias",
    "jurisdiction",
    "language",
    "real_name",
    "contact",
    "keep_originals",
    "keep_evidence",
    "authorised_on",
    "authorisation_method",
    "under_14",
    "guardian_name",
    "guardian_relation",
    "guardian_consent_on",
    "minor_name_in_notices",
)
# Only meaningful while the case is a minor's; kept empty otherwise.
MINOR_ONLY_FIELDS = (
    "under_14",
    "guardian_name",
    "guardian_relation",
    "guardian_consent_on",
    "minor_name_in_notices",
)

LETTER_MAX_BYTES = 10 * 1024 * 1024


def case_update(*, case: Case, actor: User | None, **fields: object) -> Case:
    """Change a case's details; the audit log names the fields changed, never their values."""
    unknown = set(fields) - set(CASE_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if case.is_minor:
        fields.pop("keep_originals", None)
        fields.pop("keep_evidence", None)
    else:
        for name in MINOR_ONLY_FIELDS:
            fields.pop(name, None)
    changed = []
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed.append(name)
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
        audit_record(
            organization=case.organization,
            actor=actor,
            action="case.update",
            case_id=case.pk,
            object_type="case",
            object_id=case.pk,
            detail={"fields": sorted(changed)},
        )
    return case


def case_assign(*, case: Case, actor: User | None, user_ids: Iterable[int]) -> list[int]:
    """Set the caseworkers assigned to a case; only staff of the case's organisation can be assigned."""
    from app.accounts.models import Membership, Role

    allowed = set(
        Membership.objects.filter(
            organization=case.organization, role__in=[Role.ADMIN, Role.CASEWORKER], user__is_active=True
        ).values_list("user_id", flat=True)
    )
    wanted = sorted({int(u) for u in user_ids} & allowed)
    current = sorted(case.assigned_to.values_list("id", flat=True))
    if wanted != current:
        case.assigned_to.set(wanted)
        audit_record(
            organization=case.organization,
            actor=actor,
            action="case.assign",
            case_id=case.pk,
            detail={"user_ids": wanted},
        )
    return wanted


def case_set_authorisation_letter(*, case: Case, actor: User | None, data: bytes, filename: str) -> Case:
    """Keep the person's signed authorisation letter, encrypted at rest."""
    if not data:
        raise CaseInputError(_("The file is empty."))
    if len(data) > LETTER_MAX_BYTES:
        raise CaseInputError(_("The file is too large."))
    case.authorisation_letter = data
    case.authorisation_letter_name = (filename or "letter")[:200]
    case.save(update_fields=["authorisation_letter", "authorisation_letter_name", "updated_at"])
    audit_record(organization=case.organization, actor=actor, action="case.letter_upload", case_id=case.pk)
    return case


def case_remove_authorisation_letter(*, case: Case, actor: User | None) -> Case:
    case.authorisation_letter = None
    case.authorisation_letter_name = ""
    case.save(update_fields=["authorisation_letter", "authorisation_letter_name", "updated_at"])
    audit_record(organization=case.organization, actor=actor, action="case.letter_remove", case_id=case.pk)
    return case


def case_set_status(*, case: Case, actor: User | None, status: str) -> Case:
    from app.cases.models import CaseStatus

    if status not in CaseStatus.values:
        raise CaseInputError(_("Unknown status."))
    if case.status != status:
        case.status = status
        case.save(update_fields=["status", "updated_at"])
        audit_record(
            organization=case.organization,
            actor=actor,
            action="case.status",
            case_id=case.pk,
            detail={"status": status},
        )
    return case


def case_victim_account_create(*, case: Case, actor: User | None, username: str) -> tuple[User, str]:
    """An account for the person this case is about; it sees this case only. The password is returned once."""
    import secrets

    from app.accounts.models import Role
    from app.accounts.services import member_create

    username = username.strip()
    if not username:
        raise CaseInputError(_("Choose a username."))
    if case.victim_user_id is not None:
        raise CaseInputError(_("This case already has an account for the person."))
    if User.objects.filter(username__iexact=username).exists():
        raise CaseInputError(_("That username is taken. Please choose another."))
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        membership = member_create(
            organization=case.organization,
            username=username,
            password=password,
            role=Role.VICTIM,
            actor=actor,
        )
        case.victim_user = membership.user
        case.save(update_fields=["victim_user", "updated_at"])
        audit_record(
            organization=case.organization, actor=actor, action="case.victim_account", case_id=case.pk
        )
    return membership.user, password
