"""Reference videos by their vPDQ hash: imported from a hash list (Meta's vPDQ text file or HMA's
``vpdq`` signal), so a video known elsewhere can be looked for without anyone sending the video."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import Case, Reference, ReferenceSource
from app.cases.services.cases import CaseInputError

if TYPE_CHECKING:
    from app.matching.vpdq import VpdqFeature

# A vPDQ hash list is text: an hour of video at one frame a second is ~300 KB.
VIDEO_HASH_MAX_CHARS = 1_000_000


def _video_hash_read(text: str) -> list[VpdqFeature]:
    """The frames of a vPDQ hash (Meta's text file or HMA's signal); CaseInputError saying why not."""
    from app.matching.vpdq import VpdqFormatError, vpdq_from_signal, vpdq_from_text

    text = (text or "").strip()
    if not text:
        raise CaseInputError(_("The file is empty."))
    if len(text) > VIDEO_HASH_MAX_CHARS or "\x00" in text:
        raise CaseInputError(_("The file is too large."))
    try:
        return vpdq_from_signal(text) if text[0] in "[{" else vpdq_from_text(text)
    except VpdqFormatError as exc:
        if exc.line is None:
            raise CaseInputError(_("This is not a video hash list (vPDQ).")) from exc
        raise CaseInputError(
            _("This is not a video hash list (vPDQ): line %(line)s cannot be read.") % {"line": exc.line}
        ) from exc


def _best_frame(features: Sequence[VpdqFeature]) -> VpdqFeature:
    return max(features, key=lambda f: (f.quality, -f.frame_number))


def _new_reference(*, case: Case, best: VpdqFeature, label: str = "") -> Reference:
    from app.matching.fingerprint import HASH_VERSIONS, Fingerprint
    from app.matching.services import reference_index_hashes
    from app.matching.vpdq import VERSION

    fingerprint = Fingerprint.from_pdq_hex(best.pdq_hex, quality=best.quality)
    return Reference(
        case=case,
        label=label[:200],
        source=ReferenceSource.HASH_IMPORT,
        pdq_hex=best.pdq_hex,
        pdq_quality=best.quality,
        fingerprint=fingerprint.to_bytes(),
        pdq_hashes=reference_index_hashes(fingerprint=fingerprint),
        hash_versions={"pdq": HASH_VERSIONS.get("pdq", "pdq"), "vpdq": VERSION, "source": "imported"},
    )


def reference_import_video_hash(
    *, case: Case, actor: User | None, text: str, label: str = ""
) -> tuple[Reference, bool]:
    """Add a reference video from its vPDQ hash; (reference, created).

    The frame with the best PDQ quality also becomes the reference's own PDQ hash, so the image
    stages (keyframes, the organisation's hash index) look for it too. A video whose best frame
    is already a reference of the case gets the vPDQ hash attached to that reference instead (unless
    it has one: then the video is taken to be the same, and nothing changes).
    """
    return _video_store_one(case=case, actor=actor, features=_video_hash_read(text), label=label)


def _video_store_one(
    *, case: Case, actor: User | None, features: list[VpdqFeature], label: str = ""
) -> tuple[Reference, bool]:
    from app.matching.models import VideoHash
    from app.matching.videos import video_hash_for_reference

    best = _best_frame(features)
    with transaction.atomic():
        reference = Reference.objects.filter(case=case, pdq_hex=best.pdq_hex).first()
        created = reference is None
        if reference is None:
            reference = _new_reference(case=case, best=best, label=label)
            reference.save()
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


@dataclass
class VideoHashesImport:
    created: list[Reference] = field(default_factory=list)
    already_present: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)


# Entries written per transaction: each batch is a few multi-row INSERTs.
VIDEO_IMPORT_BATCH = 500


def reference_import_video_hashes(
    *, case: Case, actor: User | None, signals: Sequence[tuple[str, str]]
) -> VideoHashesImport:
    """Many reference videos from their vPDQ hashes at once (a partner's list; ``signals`` are
    (where in the list, hash text)), with the same rules as :func:`reference_import_video_hash`.

    An entry that cannot be read is listed under ``skipped`` with its reason and the rest go on.
    The others are written set-wise, one transaction per batch of ``VIDEO_IMPORT_BATCH``: each
    entry is stored whole (reference and video hash) or not at all. If another import adds one of
    the same hashes meanwhile, that batch is redone one entry at a time.
    """
    out = VideoHashesImport()
    readable: list[tuple[str, list[VpdqFeature]]] = []
    for where, text in signals:
        try:
            readable.append((where, _video_hash_read(text)))
        except CaseInputError as exc:
            out.skipped.append((where, str(exc)))
    for start in range(0, len(readable), VIDEO_IMPORT_BATCH):
        batch = [features for _where, features in readable[start : start + VIDEO_IMPORT_BATCH]]
        try:
            with transaction.atomic():
                created, already = _video_batch_store(case=case, actor=actor, batch=batch)
        except IntegrityError:
            created, already = [], 0
            for features in batch:
                reference, new = _video_store_one(case=case, actor=actor, features=features)
                if new:
                    created.append(reference)
                else:
                    already += 1
        out.created.extend(created)
        out.already_present += already
    return out


def _video_batch_store(
    *, case: Case, actor: User | None, batch: list[list[VpdqFeature]]
) -> tuple[list[Reference], int]:
    from app.matching.models import VideoHash
    from app.matching.videos import video_hashes_for_references

    # The first video whose best frame is a given hash wins, as when imported one after another.
    by_hash: dict[str, tuple[VpdqFeature, list[VpdqFeature]]] = {}
    for features in batch:
        best = _best_frame(features)
        by_hash.setdefault(best.pdq_hex, (best, features))
    existing = {
        r.pdq_hex: r
        for r in Reference.objects.filter(case=case, pdq_hex__in=list(by_hash)).only("id", "pdq_hex")
    }
    with_video = set(
        VideoHash.objects.filter(reference__in=list(existing.values())).values_list("reference_id", flat=True)
    )
    new = [
        _new_reference(case=case, best=best) for hex_, (best, _f) in by_hash.items() if hex_ not in existing
    ]
    created = Reference.objects.bulk_create(new, batch_size=VIDEO_IMPORT_BATCH)
    attach = [r for r in existing.values() if r.pk not in with_video]
    pairs = [(r, by_hash[r.pdq_hex][1]) for r in [*created, *attach]]
    video_hashes_for_references(pairs=pairs)
    audit_record(
        organization=case.organization,
        actor=actor,
        action="reference.import_video_hash",
        case_id=case.pk,
        object_type="reference",
        detail={
            "count": len(created),
            "attached": len(attach),
            "frames": sum(len(features) for _r, features in pairs),
        },
    )
    return created, len(batch) - len(created)
