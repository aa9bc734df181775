"""Seeded notices for statistics and access tests: rows as tracking leaves them, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.cases.models import Case, ReportedUrl, UrlState
from app.cases.services import url_key
from app.notices.models import Notice, NoticeUrl
from app.tracking.models import NoticeStatus, NoticeTracking, UrlTracking

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def seed_notice(
    case: Case,
    *,
    platform: str,
    regime: str,
    status: str,
    hours_to_removal: float | None = None,
    deadline_hours: int = 48,
    n: int = 0,
    sent_at: datetime = T0,
) -> NoticeTracking:
    url = f"https://{platform.lower().replace(' ', '')}.example/post/{n}"
    reported = ReportedUrl.objects.create(
        case=case,
        url=url,
        normalized_url=url,
        url_key=url_key(url),
        host=url.split("/")[2],
        state=UrlState.MATCHED,
    )
    notice = Notice.objects.create(
        case=case, recipient_key=f"{platform}-{n}", recipient_name=platform, regime=regime, lang="en",
        channel_kind="email", channel_address="abuse@example.org", state="sent", sent_at=sent_at,
    )  # fmt: skip
    NoticeUrl.objects.create(notice=notice, reported_url=reported)
    removed_at = sent_at + timedelta(hours=hours_to_removal) if hours_to_removal is not None else None
    UrlTracking.objects.create(
        reported_url=reported, organization=case.organization, case=case, started_at=sent_at,
        status="removed" if status == NoticeStatus.REMOVED else "open", removed_at=removed_at,
        next_check_at=sent_at + timedelta(hours=6),
    )  # fmt: skip
    return NoticeTracking.objects.create(
        notice=notice, organization=case.organization, case=case, status=status, regime=regime,
        platform_key=platform, platform_name=platform, sent_at=sent_at, deadline_hours=deadline_hours,
        deadline_at=sent_at + timedelta(hours=deadline_hours), removed_at=removed_at,
    )  # fmt: skip
