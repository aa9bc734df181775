"""Reference images and fingerprints: uploads, hash imports, on-device fingerprint documents and intake links."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import (
    Case,
    FingerprintIntake,
    Reference,
    ReferenceSource,
)
from app.cases.services.cases import CaseInputError, _pdq_index_forget_on_commit

if TYPE_CHECKING:
    from app.matching.fingerprint import Fingerprint

log = logging.getLogger(__name__)


def reference_add_image(
    *, case: Case, actor: User | None, data: bytes, filename: str = "", operator_local: bool = False
) -> Reference:
    """Hash one reference image; keep the original (encrypted) only when the case opted in.

    ``operator_local``: the bytes are a file already on the operator's own machine (the ``takedown``
    command), not something sent to Jium. Only then may a minor's case be fingerprinted from them,
    in memory; the image itself is never stored for a minor.
    """
    from app.matching.fingerprint import HASH_VERSIONS
    from app.matching.models import VideoHash
    from app.matching.services import reference_index_hashes
    from app.matching.videos import video_features_of_bytes, video_hash_for_reference
    from app.matching.vpdq import VERSION as VPDQ_VERSION

    if case.is_minor and not operator_local:
        # Asking for, or receiving, a minor's image would be handling abuse material.
        raise CaseInputError(
            _(
                "This case is about a young person: no images can be added. Use fingerprints made on their own device, or links only."
            )
        )
    fingerprint, kind, (width, height) = _reference_fingerprint_of(data)
    pdq_hex = fingerprint.pdq.hex()
    # Hashed before anything is stored: a video that fails half-way leaves no half-made reference.
    video_features = video_features_of_bytes(data) if kind == "video" else None
    existing = Reference.objects.filter(case=case, pdq_hex=pdq_hex).first()
    if existing is not None:
        # Stored before the matcher used something this one has (a device-made fingerprint with
        # fewer parts, or one from before band hashes or face boxes): the same picture uploaded
        # again brings it, so another photo of the face is refused and undress edits are found
        # for this reference too.
        _reference_complete_with(existing, fingerprint)
        if video_features and not VideoHash.objects.filter(reference=existing).exists():
            video_hash_for_reference(
                reference=existing, features=video_features[0], between=video_features[1]
            )
        return existing
    with transaction.atomic():
        reference = Reference.objects.create(
            case=case,
            label=filename[:200],
            source=ReferenceSource.UPLOAD,
            pdq_hex=pdq_hex,
            pdq_quality=fingerprint.pdq_quality,
            fingerprint=fingerprint.to_bytes(),
            pdq_hashes=reference_index_hashes(fingerprint=fingerprint),
            hash_versions=dict(HASH_VERSIONS) | ({"vpdq": VPDQ_VERSION} if video_features else {}),
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            original=data if case.keep_originals and case.may_keep_media else None,
        )
        if video_features:
            video_hash_for_reference(
                reference=reference, features=video_features[0], between=video_features[1]
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


def _reference_fingerprint_of(data: bytes) -> tuple[Fingerprint, str, tuple[int, int]]:
    """A reference fingerprint of uploaded bytes (a video's most detailed keyframe stands for
    it), the media kind and its size; CaseInputError with a translated reason when it cannot be
    read."""
    from app.fetching.messages import fetch_error_text
    from app.matching.decode import DecodeError, decode_media, sniff_media_kind
    from app.matching.fingerprint import fingerprint_reference, pdq_hash

    if not data:
        raise CaseInputError(_("The file is empty."))
    if len(data) > settings.REFERENCE_MAX_BYTES:
        raise CaseInputError(_("The file is too large."))
    try:
        # A video's first frame is often a black or title card: its keyframes are read and the
        # most detailed one stands for it in the image stages; the whole video gets a vPDQ hash.
        is_video = sniff_media_kind(data) == "video"
        media = decode_media(
            data,
            max_pixels=settings.FETCH_MAX_PIXELS,
            max_frames=settings.FETCH_MAX_VIDEO_FRAMES if is_video else 1,
        )
    except DecodeError as exc:
        # The reason in the reader's language (decoding itself is framework-free English).
        raise CaseInputError(
            fetch_error_text(exc.code, fallback=_("This file could not be read as an image."))
        ) from exc
    if not media.frames:
        raise CaseInputError(_("This file could not be read as an image."))
    frame = max(media.frames, key=lambda f: pdq_hash(f)[1]) if len(media.frames) > 1 else media.frames[0]
    return fingerprint_reference(frame), media.kind, (media.width, media.height)


def _reference_complete_with(existing: Reference, fingerprint: Fingerprint) -> bool:
    """Replace the stored fingerprint by ``fingerprint`` (of the same picture, made here) when
    the stored one lacks a part it has; whether it did."""
    from app.matching.fingerprint import HASH_VERSIONS
    from app.matching.services import reference_index_hashes

    if not _fingerprint_lacks(_stored_fingerprint(existing), fingerprint):
        return False
    existing.fingerprint = fingerprint.to_bytes()
    existing.pdq_hashes = reference_index_hashes(fingerprint=fingerprint)
    vpdq = {"vpdq": existing.hash_versions["vpdq"]} if "vpdq" in existing.hash_versions else {}
    existing.hash_versions = dict(HASH_VERSIONS) | vpdq
    existing.source = ReferenceSource.UPLOAD
    existing.fingerprint_rev += 1
    existing.save(update_fields=["fingerprint", "pdq_hashes", "hash_versions", "source", "fingerprint_rev"])
    return True


@dataclass
class ReferencesCompleted:
    checked: int = 0
    completed: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def references_complete_from_originals(*, case: Case | None = None) -> ReferencesCompleted:
    """Fingerprint again, with this version's code, every reference whose original was kept
    (cases that opted in), and complete stored fingerprints that lack a part the matcher now
    uses (face boxes, band hashes). Only the fingerprint changes; a reference whose picture now
    hashes differently is left alone and listed. Minors' cases keep no originals."""
    result = ReferencesCompleted()
    refs = Reference.objects.filter(original__isnull=False).order_by("id")
    if case is not None:
        refs = refs.filter(case=case)
    for ref_id in refs.values_list("id", flat=True):
        ref = Reference.objects.get(pk=ref_id)  # one original in memory at a time
        if not ref.original:
            continue
        result.checked += 1
        try:
            fingerprint, _kind, _size = _reference_fingerprint_of(bytes(ref.original))
        except CaseInputError as exc:
            result.skipped.append((ref.pk, str(exc)))
            continue
        if fingerprint.pdq.hex() != ref.pdq_hex:
            result.skipped.append(
                (ref.pk, _("The picture's hash differs from the stored one: left as it is."))
            )
            continue
        if _reference_complete_with(ref, fingerprint):
            result.completed += 1
    return result


def hash_text_parse(text: str) -> tuple[list[tuple[str, int]], list[str]]:
    """The PDQ hashes of a list as the hash import reads it — JSON (a list of hashes or of
    ``{"pdq"|"hash", "quality"}``, or ``{"hashes": [...]}``), or lines of hash and quality separated
    by commas, semicolons or tabs — as (lowercase hex, quality), and the entries that are not
    hashes. Raises CaseInputError for broken JSON or when nothing at all is in it."""
    import json
    import re

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
    if not candidates and not errors:
        raise CaseInputError(_("No PDQ hashes were found in this file."))
    valid: list[tuple[str, int]] = []
    for hex_, quality in candidates:
        hex_ = hex_.strip().lower()
        if re.fullmatch(r"[0-9a-f]{64}", hex_):
            valid.append((hex_, quality))
        else:
            errors.append(hex_[:80])
    return valid, errors


def reference_import_hashes(
    *, case: Case, actor: User | None, text: str, audit_action: str = "reference.import"
) -> tuple[list[Reference], list[str]]:
    """Import PDQ hashes computed on the person's own device (CSV or JSON of 64-hex strings).

    ``audit_action``: "hashlist.import" when the hashes come from a shared hash list, so the
    history does not say they were made on the person's device."""
    hashes, errors = hash_text_parse(text)
    created = reference_import_pdq(case=case, actor=actor, hashes=hashes, audit_action=audit_action)
    return created, errors


def reference_import_pdq(
    *, case: Case, actor: User | None, hashes: list[tuple[str, int]], audit_action: str = "reference.import"
) -> list[Reference]:
    """PDQ hashes (lowercase hex, quality) become references of the case, each once (the first
    quality given wins); the ones new to the case are returned."""
    from app.matching.fingerprint import HASH_VERSIONS, Fingerprint
    from app.matching.services import reference_index_hashes

    first: dict[str, int] = {}
    for hex_, quality in hashes:
        first.setdefault(hex_, quality)
    existing: set[str] = set()
    keys = list(first)
    for start in range(0, len(keys), 1000):
        existing.update(
            Reference.objects.filter(case=case, pdq_hex__in=keys[start : start + 1000]).values_list(
                "pdq_hex", flat=True
            )
        )
    versions = {"pdq": HASH_VERSIONS.get("pdq", "pdq"), "source": "imported"}
    new = []
    for hex_, quality in first.items():
        if hex_ in existing:
            continue
        fingerprint = Fingerprint.from_pdq_hex(hex_, quality=quality)
        new.append(
            Reference(
                case=case,
                pdq_hex=hex_,
                source=ReferenceSource.HASH_IMPORT,
                pdq_quality=quality,
                fingerprint=fingerprint.to_bytes(),
                pdq_hashes=reference_index_hashes(fingerprint=fingerprint),
                hash_versions=dict(versions),
            )
        )
    created: list[Reference] = []
    try:
        # One multi-row INSERT: a partner's list holds thousands of hashes.
        with transaction.atomic():
            created = Reference.objects.bulk_create(new, batch_size=1000)
    except IntegrityError:
        # Another import added some of the same hashes meanwhile: one at a time, as before.
        for reference in new:
            reference.pk = None
            reference._state.adding = True
            try:
                with transaction.atomic():
                    reference.save()
            except IntegrityError:
                continue
            created.append(reference)
    audit_record(
        organization=case.organization,
        actor=actor,
        action=audit_action,
        case_id=case.pk,
        detail={"count": len(created)},
    )
    return created


@dataclass
class FingerprintImport:
    created: list[Reference] = field(default_factory=list)
    # Had a hash only and now has features too, or had features and now has band hashes too.
    upgraded: list[Reference] = field(default_factory=list)
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
    from app.matching.services import reference_index_hashes

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
                old = _stored_fingerprint(existing)
                if fp.has_features and (old is None or not old.has_features):
                    existing.fingerprint = fp.to_bytes()
                    existing.pdq_hashes = reference_index_hashes(fingerprint=fp)
                    existing.hash_versions = versions
                    existing.fingerprint_rev += 1
                    existing.save(
                        update_fields=["fingerprint", "pdq_hashes", "hash_versions", "fingerprint_rev"]
                    )
                    result.upgraded.append(existing)
                elif fp.has_features and fp.bands and old is not None and not old.bands:
                    # Made before the page computed band hashes: the same picture (same PDQ)
                    # sent again brings them, so undress edits of it are found too. The stored
                    # features stay as they are.
                    old.bands, old.band_qualities = fp.bands, fp.band_qualities
                    existing.fingerprint = old.to_bytes()
                    existing.fingerprint_rev += 1
                    existing.save(update_fields=["fingerprint", "fingerprint_rev"])
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
                    pdq_hashes=reference_index_hashes(fingerprint=fp),
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


def _fingerprint_lacks(old: Fingerprint | None, new: Fingerprint) -> bool:
    """Whether a stored fingerprint lacks a part that a new one of the same picture has."""
    if old is None:
        return True
    return (
        (new.has_features and not old.has_features)
        or (bool(new.bands) and not old.bands)
        or (new.faces_known and not old.faces_known)
    )


def _stored_fingerprint(reference: Reference) -> Fingerprint | None:
    from app.matching.fingerprint import Fingerprint

    if not reference.fingerprint:
        return None
    try:
        return Fingerprint.from_bytes(bytes(reference.fingerprint))
    except ValueError:
        return None


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
