"""Reference videos by their vPDQ hash: imported from a hash list (Meta's vPDQ text file or HMA's
``vpdq`` signal), so a video known elsewhere can be looked for without anyone sending the video."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, Reference, ReferenceSource
from app.cases.services.cases import CaseInputError

# A vPDQ hash list is text: an hour of video at one frame a second is ~300 KB.
VIDEO_HASH_MAX_CHARS = 1_000_000


def reference_import_video_hash(
    *, case: Case, actor: User | None, text: str, label: str = ""
) -> tuple[Reference, bool]:
    """Add a reference video from its vPDQ hash; (reference, created).

    The frame with the best PDQ quality also becomes the reference's own PDQ hash, so the image
    stages (keyframes, the organisation's hash index) look for it too. A video whose best frame
    is already a reference of the case gets the vPDQ hash attached to that reference instead (unless
    it has one: then the video is taken to be the same, and nothing changes).
    """
    from app.matching.fingerprint import HASH_VERSIONS, Fingerprint
    from app.matching.models import VideoHash
    from app.matching.services import reference_index_hashes
    from app.matching.videos import video_hash_for_reference
    from app.matching.vpdq import VERSION, VpdqFormatError, vpdq_from_signal, vpdq_from_text

    text = (text or "").strip()
    if not text:
        raise CaseInputError(_("The file is empty."))
    if len(text) > VIDEO_HASH_MAX_CHARS or "\x00" in text:
        raise CaseInputError(_("The file is too large."))
    try:
        features = vpdq_from_signal(text) if text[0] in "[{" else vpdq_from_text(text)
    except VpdqFormatError as exc:
        if exc.line is None:
            raise CaseInputError(_("This is not a video hash list (vPDQ).")) from exc
        raise CaseInputError(
            _("This is not a video hash list (vPDQ): line %(line)s cannot be read.") % {"line": exc.line}
        ) from exc
    best = max(features, key=lambda f: (f.quality, -f.frame_number))
    with transaction.atomic():
        reference = Reference.objects.filter(case=case, pdq_hex=best.pdq_hex).first()
        created = reference is None
        if reference is None:
            fingerprint = Fingerprint.from_pdq_hex(best.pdq_hex, quality=best.quality)
            reference = Reference.objects.create(
                case=case,
                label=label[:200],
                source=ReferenceSource.HASH_IMPORT,
                pdq_hex=best.pdq_hex,
                pdq_quality=best.quality,
                fingerprint=fingerprint.to_bytes(),
                pdq_hashes=reference_index_hashes(fingerprint=fingerprint),
                hash_versions={"pdq": HASH_VERSIONS.get("pdq", "pdq"), "vpdq": VERSION, "source": "imported"},
            )
        if created or not VideoHash.objects.filter(reference=reference).exists():
            video_hash_for_reference(reference=reference, features=features)
        audit_record(
            organization=case.organization,
            actor=actor,
            action="reference.import_video_hash",
            case_id=case.pk,
            object_type="reference",
            object_id=reference.pk,
            detail={"frames": len(features), "created": created},
        )
    return reference, created
