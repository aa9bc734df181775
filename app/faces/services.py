"""Business steps of the face stage: consent, face photo intake, face matches and their review.

Face embeddings exist only while the case's face consent stands: granting consent records who,
when and how; withdrawing it (or erasing the case) removes every embedding, every pending face
and every face match made from them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, ReportedUrl, UrlState
from app.faces.models import (
    Consenter,
    FaceConsent,
    FaceEmbedding,
    FaceMatch,
    FaceMatchState,
    FacePendingCrop,
    PendingFaces,
)
from app.fetching.models import MediaItem

if TYPE_CHECKING:
    from app.fetching.scan import ScanOutcome

# Which consent explanation was shown; bump when the wording in templates/faces/_explain.html
# changes in substance, so each record says what the person agreed to.
EXPLANATION_VERSION = "faces-v1"
# Fewer usable faces than this: ask for more photos from other angles.
FEW_FACES = 3
MAX_FACES_PER_CASE = 50
PENDING_HOURS = 24


class FaceInputError(ValueError):
    """Input a person gave that cannot be used; the message is meant for them."""


def case_is_minor(case: Case) -> bool:
    """A minor's case (or one where nobody is sure) keeps no media at all, face crops included."""
    return case.is_minor


def face_media_purge(*, case: Case) -> int:
    """Delete every face picture a case holds (crops of possible deepfakes, pending group photos'
    crops); the embeddings, which are not pictures, stay. How many crops."""
    crops = FaceMatch.objects.filter(reported_url__case=case, face_crop__isnull=False).update(face_crop=None)
    pending = PendingFaces.objects.filter(case=case)
    crops += FacePendingCrop.objects.filter(pending__in=pending).count()
    pending.delete()
    return crops


def face_stage_enabled(case: Case) -> bool:
    consent = FaceConsent.objects.filter(case=case).first()
    return bool(consent and consent.enabled)


@transaction.atomic
def face_consent_grant(
    *,
    case: Case,
    actor: User | None,
    consenter: str,
    method: str,
    consented_at: datetime,
    language: str,
    guardian_name: str = "",
    guardian_relationship: str = "",
) -> FaceConsent:
    """Turn the face stage on for a case, recording who consented, when and how."""
    method = method.strip()
    guardian_name = guardian_name.strip()
    if consenter not in Consenter.values:
        raise FaceInputError(_("Say who gave consent."))
    if not method:
        raise FaceInputError(_("Say how consent was given (for example: signed form, in person)."))
    if consenter == Consenter.GUARDIAN and not guardian_name:
        raise FaceInputError(_("Give the legal guardian's name."))
    if case.needs_guardian and consenter != Consenter.GUARDIAN:
        # PIPA art. 22(6): sensitive information of a child under 14 needs the guardian's consent.
        raise FaceInputError(_("For a child under 14, the legal guardian must give this consent."))
    if consented_at > timezone.now() + timedelta(minutes=5):
        raise FaceInputError(_("The consent date cannot be in the future."))
    consent, _created = FaceConsent.objects.select_for_update().get_or_create(
        case=case,
        defaults={"method": method[:200], "consented_at": consented_at, "explanation": ""},
    )
    consent.enabled = True
    consent.consenter = consenter
    consent.guardian_name = guardian_name if consenter == Consenter.GUARDIAN else ""
    consent.guardian_relationship = (
        guardian_relationship.strip()[:100] if consenter == Consenter.GUARDIAN else ""
    )
    consent.method = method[:200]
    consent.consented_at = consented_at
    consent.explanation = f"{EXPLANATION_VERSION}-{language[:5]}"
    consent.recorded_by = actor
    consent.withdrawn_at = None
    consent.save()
    audit_record(
        organization=case.organization,
        actor=actor,
        action="faces.consent",
        case_id=case.pk,
        detail={"consenter": consenter, "explanation": consent.explanation},
    )
    return consent


@transaction.atomic
def face_data_erase(*, case: Case) -> int:
    """Remove every face embedding, pending face and face match of a case; how many faces."""
    PendingFaces.objects.filter(case=case).delete()
    FaceMatch.objects.filter(reported_url__case=case).delete()
    faces = FaceEmbedding.objects.filter(case=case)
    count = faces.count()
    faces.delete()
    return count


@transaction.atomic
def face_consent_withdraw(*, case: Case, actor: User | None) -> int:
    """Turn the face stage off and erase every embedding made under the consent."""
    removed = face_data_erase(case=case)
    FaceConsent.objects.filter(case=case).update(enabled=False, withdrawn_at=timezone.now())
    audit_record(
        organization=case.organization,
        actor=actor,
        action="faces.withdraw",
        case_id=case.pk,
        detail={"faces_erased": removed},
    )
    return removed


@dataclass
class IntakeResult:
    added: int = 0
    pending: list[PendingFaces] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _jpeg(img: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)  # type: ignore[attr-defined]
    return buf.getvalue()


def face_photos_add(*, case: Case, actor: User | None, photos: list[tuple[str, bytes]]) -> IntakeResult:
    """Read the person's face photos: one embedding per photo with one face; photos with several
    faces wait for a caseworker to pick the person's. The photos themselves are not kept."""
    from app.fetching.messages import fetch_error_text
    from app.matching.decode import DecodeError, decode_media
    from app.matching.faces import detect_faces, embedding_to_bytes, face_crop

    if not face_stage_enabled(case):
        raise FaceInputError(_("Record the person's consent before adding face photos."))
    result = IntakeResult()
    for name, data in photos:
        name = name[:200]
        if not data:
            result.errors.append((name, _("The file is empty.")))
            continue
        if len(data) > settings.REFERENCE_MAX_BYTES:
            result.errors.append((name, _("The file is too large.")))
            continue
        try:
            media = decode_media(data, max_pixels=settings.FETCH_MAX_PIXELS, max_frames=1)
        except DecodeError as exc:
            result.errors.append(
                (name, fetch_error_text(exc.code, fallback=_("This file could not be read as an image.")))
            )
            continue
        if media.kind != "image" or not media.frames:
            result.errors.append((name, _("Use photos, not videos, for the person's face.")))
            continue
        frame = media.frames[0]
        faces = detect_faces(frame)
        if not faces:
            result.no_face.append(name)
            continue
        if FaceEmbedding.objects.filter(case=case).count() >= MAX_FACES_PER_CASE:
            result.errors.append((name, _("This case already has the most face photos it can hold.")))
            continue
        if len(faces) > 1 and case_is_minor(case):
            # Picking would mean keeping crops of the photo for a while: no media for a minor.
            result.errors.append(
                (
                    name,
                    _("This photo shows several people. In a child's case, use photos of the child alone."),
                )
            )
            continue
        if len(faces) == 1:
            _embedding_create(case=case, actor=actor, label=name, vec=faces[0].embedding, size=faces[0].size)
            result.added += 1
            continue
        with transaction.atomic():
            pending = PendingFaces.objects.create(
                case=case,
                label=name,
                embeddings=b"".join(embedding_to_bytes(f.embedding) for f in faces),
                sizes=[f.size for f in faces],
                created_by=actor,
            )
            FacePendingCrop.objects.bulk_create(
                FacePendingCrop(pending=pending, index=i, image=_jpeg(face_crop(frame, f.box)))
                for i, f in enumerate(faces)
            )
        result.pending.append(pending)
    if result.added:
        audit_record(
            organization=case.organization,
            actor=actor,
            action="faces.add",
            case_id=case.pk,
            detail={"count": result.added},
        )
    return result


def _embedding_create(
    *, case: Case, actor: User | None, label: str, vec: np.ndarray, size: int
) -> FaceEmbedding:
    from app.matching.faces import MODEL_VERSION, embedding_to_bytes

    return FaceEmbedding.objects.create(
        case=case,
        label=label[:200],
        embedding=embedding_to_bytes(vec),
        face_px=size,
        model_version=MODEL_VERSION[:200],
        created_by=actor,
    )


@transaction.atomic
def face_pending_pick(*, pending: PendingFaces, actor: User | None, indices: list[int]) -> int:
    """Keep the chosen faces of a photo with several; the rest (and every crop) are deleted."""
    from app.matching.faces import EMBEDDING_BYTES, embedding_from_bytes

    blob = bytes(pending.embeddings or b"")
    n = len(blob) // EMBEDDING_BYTES
    chosen = sorted({i for i in indices if 0 <= i < n})
    if not chosen:
        raise FaceInputError(_("Choose the person's face, or remove the photo."))
    case = pending.case
    for i in chosen:
        _embedding_create(
            case=case,
            actor=actor,
            label=f"{pending.label} ({i + 1})",
            vec=embedding_from_bytes(blob[i * EMBEDDING_BYTES : (i + 1) * EMBEDDING_BYTES]),
            size=int((pending.sizes or [0] * n)[i]),
        )
    pending.delete()
    audit_record(
        organization=case.organization, actor=actor, action="faces.add", case_id=case.pk,
        detail={"count": len(chosen)},
    )  # fmt: skip
    return len(chosen)


def face_pending_discard(*, pending: PendingFaces, actor: User | None) -> None:
    pending.delete()


def face_pending_expire(*, older_than_hours: int = PENDING_HOURS) -> int:
    """Delete group photos' faces nobody picked from in time; how many photos."""
    stale = PendingFaces.objects.filter(created_at__lt=timezone.now() - timedelta(hours=older_than_hours))
    _total, per_model = stale.delete()
    return per_model.get(PendingFaces._meta.label, 0)


def face_embedding_delete(*, face: FaceEmbedding, actor: User | None) -> None:
    case = face.case
    face.delete()  # its face matches go with it
    audit_record(
        organization=case.organization, actor=actor, action="faces.remove", case_id=case.pk,
        object_type="face", object_id=face.pk,
    )  # fmt: skip


@transaction.atomic
def face_match_decide(*, face_match: FaceMatch, actor: User | None, confirm: bool) -> FaceMatch:
    """A caseworker's verdict on a possible deepfake. Confirmed, the address can go into a notice
    (worded as a forgery); rejected, it never will."""
    face_match.state = FaceMatchState.CONFIRMED if confirm else FaceMatchState.REJECTED
    face_match.decided_by = actor
    face_match.decided_at = timezone.now()
    face_match.save(update_fields=["state", "decided_by", "decided_at"])
    reported = ReportedUrl.objects.select_for_update().get(pk=face_match.reported_url_id)
    if confirm and reported.state == UrlState.NO_MATCH:
        reported.state = UrlState.MATCHED
        reported.save(update_fields=["state", "updated_at"])
    elif (
        not confirm
        and reported.state == UrlState.MATCHED
        and not reported.matches.exists()
        and not reported.face_matches.filter(state=FaceMatchState.CONFIRMED).exists()
    ):
        reported.state = UrlState.NO_MATCH
        reported.save(update_fields=["state", "updated_at"])
    case = reported.case
    audit_record(
        organization=case.organization, actor=actor,
        action="faces.confirm" if confirm else "faces.reject", case_id=case.pk,
        object_type="face_match", object_id=face_match.pk,
    )  # fmt: skip
    return face_match


def face_matches_record(*, reported_url: ReportedUrl, media: list[MediaItem], outcome: ScanOutcome) -> int:
    """Store the possible deepfakes of one scan (pending a person's check); how many.

    Called inside the scan's transaction, with the media rows in the outcome's order. A minor's
    case keeps no face crop (no media at all is kept for minors).
    """
    from app.fetching.scan import json_safe

    keep_crop = not case_is_minor(reported_url.case)
    rows = []
    for row, item in zip(media, outcome.media, strict=True):
        found = item.face_match
        if found is None or item.match is not None:
            continue
        details = json_safe(found.details)
        rows.append(
            FaceMatch(
                reported_url=reported_url,
                media_item=row,
                face_id=int(str(found.reference_key)),
                distance=float(found.distance),
                frame=found.frame,
                box=list(found.box),
                details=details if isinstance(details, dict) else {},
                face_crop=item.face_crop if keep_crop else None,
            )
        )
    FaceMatch.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
