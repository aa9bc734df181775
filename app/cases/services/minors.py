"""A minor's case: its age group, the media it may not hold, and the hotlines it was reported to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.services import audit_record
from app.cases.models import (
    AgeGroup,
    Case,
    HotlineReport,
    Reference,
)
from app.cases.services.cases import MINOR_ONLY_FIELDS, CaseInputError

log = logging.getLogger(__name__)


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
    from app.fetching.reuse import shared_fetches_forget_case

    face_media_purge(case=case)  # face crops of possible deepfakes and of group photos are media too
    # Features of every file its scans found, kept for the organisation's other cases.
    shared_fetches_forget_case(case=case)
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
