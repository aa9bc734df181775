"""Business steps for cases, their reference images and their reported URLs."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.cases.models import (
    AgeGroup,
    Case,
    FingerprintIntake,
    HotlineReport,
    Reference,
    ReferenceSource,
    ReportedUrl,
    UrlState,
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


@dataclass
class UrlReportResult:
    added: list[ReportedUrl] = field(default_factory=list)
    duplicates: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)


def url_key(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def reported_urls_add(
    *, case: Case, actor: User | None, urls: Iterable[str], enqueue: bool = True
) -> UrlReportResult:
    """Add URLs to a case (normalised, de-duplicated) and queue each one for scanning once saved.

    ``enqueue=False``: the caller scans them itself, in-process (the ``takedown`` command).
    """
    result = UrlReportResult()
    whitelist = _Whitelist.of(case)
    seen: set[str] = set()
    pending: list[ReportedUrl] = []
    for raw in urls:
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            normalized = normalize_url(raw)
        except InvalidUrl as exc:
            result.invalid.append((raw[:200], str(exc)))
            continue
        key = url_key(normalized)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        pending.append(
            ReportedUrl(
                case=case,
                url=raw[:4000],
                normalized_url=normalized[:4000],
                url_key=key,
                host=url_host(normalized)[:255],
                state=UrlState.WHITELISTED if whitelist.covers(normalized) else UrlState.QUEUED,
            )
        )
    existing = set(
        ReportedUrl.objects.filter(case=case, url_key__in=[p.url_key for p in pending]).values_list(
            "url_key", flat=True
        )
    )
    with transaction.atomic():
        for item in pending:
            if item.url_key in existing:
                result.duplicates += 1
                continue
            try:
                with transaction.atomic():
                    item.save()
            except IntegrityError:
                # Another request added the same URL a moment ago.
                result.duplicates += 1
                continue
            result.added.append(item)
        queued_ids = [u.pk for u in result.added if u.state == UrlState.QUEUED]
        if queued_ids and enqueue:
            transaction.on_commit(lambda: _enqueue_scans(queued_ids))
    if result.added:
        audit_record(
            organization=case.organization,
            actor=actor,
            action="case.urls_add",
            case_id=case.pk,
            detail={
                "added": len(result.added),
                "duplicates": result.duplicates,
                "invalid": len(result.invalid),
            },
        )
    return result


def _enqueue_scans(ids: list[int]) -> None:
    from app.cases.tasks import scan_reported_url

    for pk in ids:
        scan_reported_url.delay(pk)


def reported_urls_requeue(*, case: Case, actor: User | None, only_failed: bool = True) -> int:
    qs = case.urls.all()
    qs = qs.filter(state=UrlState.FAILED) if only_failed else qs.exclude(state=UrlState.WHITELISTED)
    ids = list(qs.values_list("pk", flat=True))
    with transaction.atomic():
        ReportedUrl.objects.filter(pk__in=ids).update(
            state=UrlState.QUEUED, error="", updated_at=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue_scans(ids))
    audit_record(
        organization=case.organization,
        actor=actor,
        action="case.urls_requeue",
        case_id=case.pk,
        detail={"count": len(ids)},
    )
    return len(ids)


def reported_url_scan(*, reported_url_id: int) -> ReportedUrl | None:
    """Fetch one reported URL, extract its media, match them against the case and keep the evidence.

    Safe to run again for the same URL (a redelivered task after a worker died): the previous
    attempt's evidence for this scan is replaced in one transaction, so no match is ever counted twice.
    """
    from app.fetching.services import reported_url_fetch_and_match

    with transaction.atomic():
        reported = (
            ReportedUrl.objects.select_for_update().select_related("case").filter(pk=reported_url_id).first()
        )
        if reported is None or reported.state in (UrlState.WHITELISTED,):
            return reported
        if (
            reported.state in (UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED)
            and reported.last_scanned_at
        ):
            # Already final: a duplicate delivery of the same task.
            return reported
        reported.state = UrlState.FETCHING
        reported.scan_attempts += 1
        reported.save(update_fields=["state", "scan_attempts", "updated_at"])
    try:
        result: ReportedUrl | None = reported_url_fetch_and_match(reported_url=reported)
    except Exception:
        # Never leave a URL stuck in "checking": record a plain failure and keep the details in the log.
        log.exception("scan of reported URL %s failed", reported_url_id)
        ReportedUrl.objects.filter(pk=reported_url_id).update(
            state=UrlState.FAILED,
            error="internal error while checking this address",
            last_scanned_at=timezone.now(),
            updated_at=timezone.now(),
        )
        result = ReportedUrl.objects.filter(pk=reported_url_id).first()
    if result is not None and result.state in (UrlState.MATCHED, UrlState.FAILED):
        from app.api.webhooks import webhooks_emit

        webhooks_emit(
            organization_id=reported.case.organization_id,
            event="url.matched" if result.state == UrlState.MATCHED else "url.failed",
            data={"case_id": result.case_id, "url_id": result.pk, "url": result.url, "state": result.state},
        )
    return result


def reference_add_image(
    *, case: Case, actor: User | None, data: bytes, filename: str = "", operator_local: bool = False
) -> Reference:
    """Hash one reference image; keep the original (encrypted) only when the case opted in.

    ``operator_local``: the bytes are a file already on the operator's own machine (the ``takedown``
    command), not something sent to Jium. Only then may a minor's case be fingerprinted from them,
    in memory; the image itself is never stored for a minor.
    """
    from app.fetching.messages import fetch_error_text
    from app.matching.decode import DecodeError, decode_media
    from app.matching.fingerprint import HASH_VERSIONS, fingerprint_reference

    if case.is_minor and not operator_local:
        # Asking for, or receiving, a minor's image would be handling abuse material.
        raise CaseInputError(
            _(
                "This case is about a young person: no images can be added. Use fingerprints made on their own device, or links only."
            )
        )
    if not data:
        raise CaseInputError(_("The file is empty."))
    if len(data) > settings.REFERENCE_MAX_BYTES:
        raise CaseInputError(_("The file is too large."))
    try:
        media = decode_media(data, max_pixels=settings.FETCH_MAX_PIXELS, max_frames=1)
    except DecodeError as exc:
        # The reason in the reader's language (decoding itself is framework-free English).
        raise CaseInputError(
            fetch_error_text(exc.code, fallback=_("This file could not be read as an image."))
        ) from exc
    if not media.frames:
        raise CaseInputError(_("This file could not be read as an image."))
    fingerprint = fingerprint_reference(media.frames[0])
    pdq_hex = fingerprint.pdq.hex()
    existing = Reference.objects.filter(case=case, pdq_hex=pdq_hex).first()
    if existing is not None:
        return existing
    reference = Reference.objects.create(
        case=case,
        label=filename[:200],
        source=ReferenceSource.UPLOAD,
        pdq_hex=pdq_hex,
        pdq_quality=fingerprint.pdq_quality,
        fingerprint=fingerprint.to_bytes(),
        hash_versions=dict(HASH_VERSIONS),
        sha256=hashlib.sha256(data).hexdigest(),
        width=media.width,
        height=media.height,
        original=data if case.keep_originals and case.may_keep_media else None,
    )
    audit_record(
        organization=case.organization,
        actor=actor,
        action="reference.add",
        case_id=case.pk,
        object_type="reference",
        object_id=reference.pk,
    )
    return reference


def reference_import_hashes(
    *, case: Case, actor: User | None, text: str
) -> tuple[list[Reference], list[str]]:
    """Import PDQ hashes computed on the person's own device (CSV or JSON of 64-hex strings)."""
    import json
    import re

    from app.matching.fingerprint import HASH_VERSIONS, Fingerprint

    candidates: list[tuple[str, int]] = []
    stripped = text.strip()
    errors: list[str] = []
    if stripped.startswith("[") or stripped.startswith("{"):
        try:
            payload = json.loads(stripped)
        except json.JSONDecodeError:
            raise CaseInputError(_("The file is not valid JSON.")) from None
        items = (
            payload
            if isinstance(payload, list)
            else payload.get("hashes", [])
            if isinstance(payload, dict)
            else []
        )
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str):
                candidates.append((item, 100))
            elif isinstance(item, dict):
                value = item.get("pdq") or item.get("hash")
                quality = item.get("quality", 100)
                if isinstance(value, str):
                    candidates.append(
                        (value, quality if isinstance(quality, int) and 0 <= quality <= 100 else 100)
                    )
                else:
                    errors.append(str(item)[:80])
    else:
        for line in stripped.splitlines():
            cells = [c.strip() for c in re.split(r"[,;\t]", line)]
            hex_cells = [c for c in cells if re.fullmatch(r"[0-9a-fA-F]{64}", c)]
            if hex_cells:
                quality = next((int(c) for c in cells if c.isdigit() and len(c) <= 3), 100)
                candidates.append((hex_cells[0], quality))
            elif line.strip() and not re.search(r"[a-zA-Z]{3,}", line):
                errors.append(line[:80])
    created: list[Reference] = []
    for hex_, quality in candidates:
        hex_ = hex_.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hex_):
            errors.append(hex_[:80])
            continue
        fingerprint = Fingerprint.from_pdq_hex(hex_, quality=quality)
        reference, was_created = Reference.objects.get_or_create(
            case=case,
            pdq_hex=hex_,
            defaults={
                "source": ReferenceSource.HASH_IMPORT,
                "pdq_quality": quality,
                "fingerprint": fingerprint.to_bytes(),
                "hash_versions": {"pdq": HASH_VERSIONS.get("pdq", "pdq"), "source": "imported"},
            },
        )
        if was_created:
            created.append(reference)
    if not candidates and not errors:
        raise CaseInputError(_("No PDQ hashes were found in this file."))
    audit_record(
        organization=case.organization,
        actor=actor,
        action="reference.import",
        case_id=case.pk,
        detail={"count": len(created)},
    )
    return created, errors


@dataclass
class FingerprintImport:
    created: list[Reference] = field(default_factory=list)
    upgraded: list[Reference] = field(default_factory=list)  # had a hash only; now has features too
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)  # short reasons, one per unusable fingerprint


def reference_fingerprints_import(
    *, case: Case, actor: User | None, document: bytes | str | dict[str, object], via: str = "web"
) -> FingerprintImport:
    """Add the fingerprints of a device-made document (the /fingerprint/ page) to a case.

    Nothing of the images themselves is in it. The full fingerprints are stored encrypted, like
    server-made ones; ``via`` ("web", "intake", "api") goes into the audit log.
    """
    from app.matching.document import DocumentError, parse_document
    from app.matching.fingerprint import HASH_VERSIONS

    try:
        items, skipped = parse_document(document)
    except DocumentError as exc:
        raise CaseInputError(_document_error_text(exc.code)) from exc
    result = FingerprintImport(skipped=skipped)
    with transaction.atomic():
        for item in items:
            fp = item.fingerprint
            versions = {
                "fingerprint": HASH_VERSIONS["fingerprint"],
                "source": "device",
                "level": item.level,
            }
            existing = Reference.objects.filter(case=case, pdq_hex=fp.pdq.hex()).first()
            if existing is not None:
                old = existing.fingerprint
                had_features = False
                if old:
                    from app.matching.fingerprint import Fingerprint

                    try:
                        had_features = Fingerprint.from_bytes(bytes(old)).has_features
                    except ValueError:
                        had_features = False
                if fp.has_features and not had_features:
                    existing.fingerprint = fp.to_bytes()
                    existing.hash_versions = versions
                    existing.save(update_fields=["fingerprint", "hash_versions"])
                    result.upgraded.append(existing)
                else:
                    result.duplicates += 1
                continue
            result.created.append(
                Reference.objects.create(
                    case=case,
                    label=item.name,
                    source=ReferenceSource.DEVICE,
                    pdq_hex=fp.pdq.hex(),
                    pdq_quality=fp.pdq_quality,
                    fingerprint=fp.to_bytes(),
                    hash_versions=versions,
                    width=item.width,
                    height=item.height,
                )
            )
        audit_record(
            organization=case.organization,
            actor=actor,
            action="reference.import_device",
            case_id=case.pk,
            detail={
                "via": via,
                "count": len(result.created) + len(result.upgraded),
                "created": len(result.created),
                "upgraded": len(result.upgraded),
                "skipped": len(result.skipped),
            },
        )
    return result


def _document_error_text(code: str) -> str:
    texts = {
        "too_large": _("The fingerprint file is too large."),
        "not_json": _("This is not a fingerprint file from Jium."),
        "not_document": _("This is not a fingerprint file from Jium."),
        "version": _("This fingerprint file was made by another version of Jium."),
        "empty": _("The fingerprint file holds no fingerprints."),
        "too_many": _("Send at most 100 fingerprints at once."),
    }
    return texts.get(code, _("The fingerprint file could not be read."))


FINGERPRINT_INTAKE_HOURS = 72


def _intake_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint_intake_create(
    *, case: Case, actor: User | None, hours: int = FINGERPRINT_INTAKE_HOURS
) -> tuple[FingerprintIntake, str]:
    """A single-use link (``fingerprint_intake`` URL with the returned token) through which the
    person fingerprints their images on their own device and sends them into this case.

    The token is returned once and only its hash is stored.
    """
    import secrets

    token = secrets.token_urlsafe(24)
    intake = FingerprintIntake.objects.create(
        case=case,
        token_hash=_intake_token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(hours=max(1, min(int(hours), 24 * 14))),
    )
    audit_record(
        organization=case.organization,
        actor=actor,
        action="fingerprint_intake.create",
        case_id=case.pk,
        object_type="fingerprint_intake",
        object_id=intake.pk,
        detail={"hours": hours},
    )
    return intake, token


def fingerprint_intake_get(*, token: str) -> FingerprintIntake | None:
    """The intake behind a link if it can still be used (not expired, not used), else None."""
    if not token or len(token) > 100:
        return None
    return (
        FingerprintIntake.objects.select_related("case", "case__organization")
        .filter(token_hash=_intake_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def fingerprint_intake_submit(*, token: str, document: bytes | str | dict[str, object]) -> FingerprintImport:
    """Import a device-made document through an intake link, which is then used up."""
    with transaction.atomic():
        intake = fingerprint_intake_get(token=token)
        if intake is not None:
            intake = (
                FingerprintIntake.objects.select_for_update()
                .filter(pk=intake.pk, used_at__isnull=True)
                .first()
            )
        if intake is None:
            raise CaseInputError(_("This link has expired or was already used. Ask for a new one."))
        result = reference_fingerprints_import(case=intake.case, actor=None, document=document, via="intake")
        if not result.created and not result.upgraded and not result.duplicates:
            # Nothing usable arrived: the link stays valid so the person can try again.
            raise CaseInputError(_("None of the fingerprints could be read. Nothing was added."))
        intake.used_at = timezone.now()
        intake.references_added = len(result.created) + len(result.upgraded)
        intake.save(update_fields=["used_at", "references_added"])
    return result


def _pdq_index_forget_on_commit(*, organization_id: int, reference_ids: list[int]) -> None:
    """Erase references from the organisation's shared PDQ index once their deletion commits
    (before the request that erased them answers): earlier, another process could rebuild the
    index from rows that are still there."""
    from app.matching.services import pdq_index_forget

    if reference_ids:
        transaction.on_commit(
            lambda: pdq_index_forget(organization_id=organization_id, reference_ids=reference_ids)
        )


def reference_delete(*, reference: Reference, actor: User | None) -> None:
    case = reference.case
    ref_id = reference.pk
    reference.delete()
    _pdq_index_forget_on_commit(organization_id=case.organization_id, reference_ids=[ref_id])
    audit_record(
        organization=case.organization,
        actor=actor,
        action="reference.delete",
        case_id=case.pk,
        object_type="reference",
        object_id=ref_id,
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


def reported_urls_recover_stuck(*, fetching_older_than_s: int = 900, queued_older_than_s: int = 3600) -> int:
    """Queue again the URLs whose task was lost: a worker died mid-scan on a broker that cannot redeliver.

    Redis redelivers unacknowledged tasks by itself; the SQLite quick-start broker does not, and a
    database restored from backup can hold URLs whose tasks never existed. Scanning is idempotent,
    so a URL queued twice is checked once and recorded once.
    """
    now = timezone.now()
    stuck = list(
        ReportedUrl.objects.filter(
            _stuck_filter(
                now - timedelta(seconds=fetching_older_than_s), now - timedelta(seconds=queued_older_than_s)
            )
        ).values_list("pk", flat=True)[:10_000]
    )
    if stuck:
        ReportedUrl.objects.filter(pk__in=stuck).update(updated_at=now)
        transaction.on_commit(lambda: _enqueue_scans(stuck))
        log.warning("re-queued %d reported URLs whose scan was lost", len(stuck))
    return len(stuck)


def _stuck_filter(fetching_before: datetime, queued_before: datetime) -> Q:
    return Q(state=UrlState.FETCHING, updated_at__lt=fetching_before) | Q(
        state=UrlState.QUEUED, updated_at__lt=queued_before
    )


# ---- the age of the person depicted ----------------------------------------------------------


@dataclass(frozen=True)
class MediaPurge:
    originals: int = 0
    page_copies: int = 0
    media_copies: int = 0


def case_media_purge(*, case: Case) -> MediaPurge:
    """Delete every stored image or video byte of a case: originals, evidence copies of pages and files.

    Thumbnails and reveals are made from those bytes on request and never stored, so they go with them.
    """
    from app.faces.services import face_media_purge
    from app.fetching.models import FetchRecord, MediaItem

    face_media_purge(case=case)  # face crops of possible deepfakes and of group photos are media too
    originals = Reference.objects.filter(case=case, original__isnull=False).exclude(original=b"")
    pages = FetchRecord.objects.filter(reported_url__case=case, content__isnull=False).exclude(content=b"")
    media = MediaItem.objects.filter(fetch__reported_url__case=case, content__isnull=False).exclude(
        content=b""
    )
    return MediaPurge(
        originals=originals.update(original=None),
        page_copies=pages.update(content=None),
        media_copies=media.update(content=None),
    )


@transaction.atomic
def case_set_age_group(*, case: Case, actor: User | None, age_group: str) -> MediaPurge:
    """Change whether the person depicted is a minor: an admin's decision, kept in the audit log.

    Becoming a minor's case (or "not sure") applies the minor rules at once: the keep-media
    opt-ins are switched off and everything already stored is deleted in the same transaction.
    """
    from app.accounts.models import Membership, Role

    if age_group not in AgeGroup.values:
        raise CaseInputError(_("Choose the age of the person in the images."))
    if (
        actor is None
        or not Membership.objects.filter(user=actor, organization=case.organization, role=Role.ADMIN).exists()
    ):
        raise CaseInputError(_("Only an administrator of your organisation can change this."))
    locked = Case.objects.select_for_update().get(pk=case.pk)
    before = locked.age_group
    purge = MediaPurge()
    if before == age_group:
        return purge
    locked.age_group = age_group
    fields = ["age_group", "updated_at"]
    if locked.is_minor:
        locked.keep_originals = locked.keep_evidence = False
        fields += ["keep_originals", "keep_evidence"]
        purge = case_media_purge(case=locked)
    else:
        # An adult's case holds no guardian record and no minor-only choices.
        locked.under_14 = locked.minor_name_in_notices = False
        locked.guardian_name = locked.guardian_relation = ""
        locked.guardian_consent_on = None
        fields += list(MINOR_ONLY_FIELDS)
    locked.save(update_fields=fields)
    case.refresh_from_db()
    audit_record(
        organization=case.organization,
        actor=actor,
        action="case.age_group",
        case_id=case.pk,
        object_type="case",
        object_id=case.pk,
        detail={
            "from": before,
            "to": age_group,
            "deleted_originals": purge.originals,
            "deleted_page_copies": purge.page_copies,
            "deleted_media_copies": purge.media_copies,
        },
    )
    return purge


# ---- routing a minor's case to the hotlines --------------------------------------------------


def hotline_report_record(
    *, case: Case, actor: User | None, hotline_id: int, reported_at: datetime, reference: str = ""
) -> HotlineReport:
    """Keep the caseworker's record that this case was reported to a hotline (or the police)."""
    from app.cases.selectors import hotlines_for_case

    hotline = next((h for h in hotlines_for_case(case=case) if h.pk == hotline_id), None)
    if hotline is None:
        raise CaseInputError(_("Choose one of the places listed for this case."))
    if reported_at > timezone.now() + timedelta(minutes=5):
        raise CaseInputError(_("The date of the report cannot be in the future."))
    report = HotlineReport.objects.create(
        case=case,
        hotline=hotline,
        hotline_name=hotline.name_en[:200],
        reported_at=reported_at,
        reference=reference.strip()[:200],
        recorded_by=actor,
    )
    audit_record(
        organization=case.organization,
        actor=actor,
        action="case.hotline_report",
        case_id=case.pk,
        object_type="hotline",
        object_id=hotline.pk,
    )
    return report
