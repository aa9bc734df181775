"""People's input: platform replies and statuses set by hand."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from app.accounts.services import audit_record
from app.tracking.models import (
    CheckReason,
    NoticeStatus,
    NoticeTracking,
    PlatformReply,
    ReplyKind,
    UrlStatus,
    UrlTracking,
)
from app.tracking.services.base import TrackingError, _now
from app.tracking.services.escalation import _enqueue_escalation
from app.tracking.services.rechecks import Decision, _enqueue_rechecks, _record_check
from app.tracking.services.starting import _set_notice_status

# ---- people's input: replies and manual states -----------------------------------------------------

MANUAL_STATUSES = (
    NoticeStatus.ACKNOWLEDGED,
    NoticeStatus.REMOVED,
    NoticeStatus.REFUSED,
    NoticeStatus.NO_RESPONSE,
)


@transaction.atomic
def notice_set_status(
    *, tracking: NoticeTracking, actor: User | None, status: str, note: str = ""
) -> NoticeTracking:
    if status not in MANUAL_STATUSES:
        raise TrackingError(_("This status cannot be set by hand."))
    now = _now()
    if status == NoticeStatus.REMOVED:
        # The platform's word plus a person's check: every URL of the notice is marked too.
        for url in UrlTracking.objects.filter(
            reported_url__notice_items__notice_id=tracking.notice_id
        ).exclude(status=UrlStatus.REMOVED):
            _record_check(
                url,
                Decision(
                    status=UrlStatus.REMOVED, reason=CheckReason.MANUAL, still_matching=False, matched_media=0
                ),
                record=None,
                actor=actor,
            )
        tracking.refresh_from_db()
    _set_notice_status(tracking, status, actor=actor, at=now, note=note)
    if status == NoticeStatus.REFUSED:
        transaction.on_commit(partial(_enqueue_escalation, tracking.pk))
    return tracking


def platform_reply_record(
    *, tracking: NoticeTracking, actor: User | None, kind: str, text: str, received_at: datetime | None = None
) -> PlatformReply:
    if kind not in ReplyKind.values:
        raise TrackingError(_("Choose what the platform said."))
    reply = PlatformReply.objects.create(
        tracking=tracking,
        kind=kind,
        text=text.strip()[:50_000],
        received_at=received_at or _now(),
        recorded_by=actor,
    )
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.reply", case_id=tracking.case_id,
        object_type="notice", object_id=tracking.notice_id, detail={"kind": kind},
    )  # fmt: skip
    follow = {
        ReplyKind.ACKNOWLEDGED: NoticeStatus.ACKNOWLEDGED,
        ReplyKind.REFUSED: NoticeStatus.REFUSED,
    }.get(ReplyKind(kind))
    if follow is not None and tracking.status not in (NoticeStatus.REMOVED, NoticeStatus.PARTLY):
        notice_set_status(
            tracking=tracking, actor=actor, status=follow, note=gettext_noop("platform reply recorded")
        )
    if kind == ReplyKind.REMOVED:
        # Their word is not proof: check the links now.
        ids = list(
            UrlTracking.objects.filter(reported_url__notice_items__notice_id=tracking.notice_id).values_list(
                "pk", flat=True
            )
        )
        transaction.on_commit(partial(_enqueue_rechecks, ids))
    return reply
