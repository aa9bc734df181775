"""Tracking starts when a notice is sent: deadlines and per-URL tracking rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.cases.models import ReportedUrl
from app.notices.models import Notice, NoticeState
from app.tracking import schedule
from app.tracking.models import (
    DeadlineOverride,
    NoticeEvent,
    NoticeStatus,
    NoticeTracking,
    UrlTracking,
)
from app.tracking.selectors import deadline_hours_for
from app.tracking.services.base import TrackingError, _now

# ---- deadlines -----------------------------------------------------------------------------------


def deadline_override_set(
    *, organization: Organization, actor: User | None, regime: str, hours: int | None
) -> None:
    """Set (or with None, remove) an organisation's own deadline for a regime."""
    if hours is None:
        DeadlineOverride.objects.filter(organization=organization, regime=regime).delete()
    else:
        if hours < 1 or hours > 24 * 365:
            raise TrackingError(_("A deadline must be between 1 hour and a year."))
        DeadlineOverride.objects.update_or_create(
            organization=organization, regime=regime, defaults={"hours": hours}
        )
    audit_record(
        organization=organization,
        actor=actor,
        action="tracking.deadline",
        detail={"regime": regime, "hours": hours},
    )


# ---- starting ------------------------------------------------------------------------------------


def _set_notice_status(
    tracking: NoticeTracking, to: str, *, actor: User | None, at: datetime, note: str = ""
) -> bool:
    if tracking.status == to:
        return False
    before = tracking.status
    tracking.status = to
    if to == NoticeStatus.REMOVED:
        tracking.removed_at = tracking.removed_at or at
    elif tracking.removed_at is not None:
        tracking.removed_at = None  # reopened: time to removal counts from the final removal
    if to == NoticeStatus.REFUSED:
        tracking.refused_at = at
    if to == NoticeStatus.ACKNOWLEDGED:
        tracking.acknowledged_at = tracking.acknowledged_at or at
    tracking.save()
    NoticeEvent.objects.create(
        tracking=tracking, at=at, from_status=before, to_status=to, actor=actor, note=note[:300]
    )
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.notice_status", case_id=tracking.case_id,
        object_type="notice", object_id=tracking.notice_id, detail={"from": before, "to": to},
    )  # fmt: skip
    return True


@transaction.atomic
def notice_tracking_start(*, notice: Notice, actor: User | None = None) -> NoticeTracking:
    """Begin tracking a sent or submitted notice: deadline, and a re-check schedule for each URL."""
    existing = NoticeTracking.objects.filter(notice=notice).first()
    if existing is not None:
        return existing
    if notice.state not in (NoticeState.SENT, NoticeState.SUBMITTED):
        raise TrackingError(_("Only a sent or submitted notice can be tracked."))
    case = notice.case
    sent_at = notice.sent_at or notice.submitted_at or _now()
    hours = deadline_hours_for(organization=case.organization, regime=notice.regime)
    status = NoticeStatus.SENT if notice.state == NoticeState.SENT else NoticeStatus.SUBMITTED
    tracking = NoticeTracking.objects.create(
        notice=notice, organization=case.organization, case=case, status=status, regime=notice.regime,
        platform_key=(notice.platform.slug if notice.platform else notice.recipient_key)[:400],
        platform_name=(notice.platform.name if notice.platform else notice.recipient_name)[:300],
        sent_at=sent_at, deadline_hours=hours, deadline_at=sent_at + timedelta(hours=hours),
    )  # fmt: skip
    NoticeEvent.objects.create(
        tracking=tracking, at=sent_at, from_status="", to_status=status, actor=notice.sent_by
    )
    for reported in ReportedUrl.objects.filter(notice_items__notice=notice):
        UrlTracking.objects.get_or_create(
            reported_url=reported,
            defaults={
                "organization": case.organization, "case": case, "started_at": sent_at,
                "next_check_at": schedule.first_check(started_at=sent_at),
            },
        )  # fmt: skip
    audit_record(
        organization=case.organization, actor=actor, action="tracking.start", case_id=case.pk,
        object_type="notice", object_id=notice.pk, detail={"deadline_hours": hours},
    )  # fmt: skip
    return tracking


def notices_tracking_sync(*, limit: int = 1000) -> int:
    """Start tracking sent notices that are not tracked yet (whatever path sent them)."""
    pending = list(
        Notice.objects.filter(state__in=[NoticeState.SENT, NoticeState.SUBMITTED], tracking__isnull=True)
        .select_related("case__organization", "platform")
        .order_by("id")[:limit]
    )
    for notice in pending:
        notice_tracking_start(notice=notice)
    return len(pending)
