"""Reads for tracking, always through the reader's organisation (other organisations' ids -> 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from app.accounts.models import Organization
from app.cases.models import Case
from app.cases.selectors import case_list_for
from app.tracking.models import (
    Alert,
    DeadlineOverride,
    Escalation,
    NoticeStatus,
    NoticeTracking,
    UrlStatus,
    UrlTracking,
    Watch,
)

# Used when neither the organisation nor the regime data names a deadline. TAKE IT DOWN: 48 h by
# statute; Korea: "without delay", 24 h in practice; DSA/DMCA/UK/platform: "timely", 72/48 h.
DEFAULT_DEADLINE_HOURS = {"take-it-down": 48, "kr": 24, "dsa": 72, "dmca": 72, "uk": 48, "platform": 72}


def deadline_default_hours(*, regime: str) -> int:
    """Hours a platform has to act under this regime, unless an organisation set its own."""
    from app.platforms.models import Regime

    data = Regime.objects.filter(code=regime).values_list("deadline_hours", flat=True).first()
    if data:
        return int(data)
    defaults = {**DEFAULT_DEADLINE_HOURS, **getattr(settings, "TRACKING_DEADLINE_HOURS", {})}
    return int(defaults.get(regime, 72))


def deadline_hours_for(*, organization: Organization, regime: str) -> int:
    """Hours a platform has to act on a notice under this regime, for this organisation."""
    override = DeadlineOverride.objects.filter(organization=organization, regime=regime).first()
    if override is not None:
        return override.hours
    return deadline_default_hours(regime=regime)


def notice_tracking_get_for(*, case: Case, tracking_id: int) -> NoticeTracking:
    found = NoticeTracking.objects.filter(case=case, pk=tracking_id).select_related("notice").first()
    if found is None:
        raise Http404("No such notice")
    return found


def url_tracking_get_for(*, case: Case, tracking_id: int) -> UrlTracking:
    found = UrlTracking.objects.filter(case=case, pk=tracking_id).select_related("reported_url").first()
    if found is None:
        raise Http404("No such link")
    return found


def escalation_get_for(*, case: Case, escalation_id: int) -> Escalation:
    found = (
        Escalation.objects.filter(tracking__case=case, pk=escalation_id)
        .select_related("tracking__notice")
        .first()
    )
    if found is None:
        raise Http404("No such draft")
    return found


def watch_get_for(*, case: Case, watch_id: int) -> Watch:
    found = Watch.objects.filter(case=case, pk=watch_id).first()
    if found is None:
        raise Http404("No such watch")
    return found


@dataclass
class Countdown:
    deadline_at: datetime | None
    overdue: bool
    seconds: int  # left (positive) or past (negative)


def countdown(tracking: NoticeTracking, now: datetime | None = None) -> Countdown:
    now = now or timezone.now()
    if tracking.deadline_at is None:
        return Countdown(None, False, 0)
    left = int((tracking.deadline_at - now).total_seconds())
    return Countdown(tracking.deadline_at, left < 0 and tracking.status != NoticeStatus.REMOVED, left)


@dataclass
class CaseTracking:
    notices: list[tuple[NoticeTracking, Countdown]]
    urls: list[UrlTracking]
    removed: int
    total: int
    alerts: list[Alert]
    watches: list[Watch]


def case_tracking(*, case: Case) -> CaseTracking:
    notices = list(
        NoticeTracking.objects.filter(case=case)
        .select_related("notice")
        .prefetch_related("replies", "escalations", "events__actor")
        .order_by("sent_at", "id")
    )
    urls = list(
        UrlTracking.objects.filter(case=case).select_related("reported_url").order_by("reported_url_id")
    )
    now = timezone.now()
    return CaseTracking(
        notices=[(n, countdown(n, now)) for n in notices],
        urls=urls,
        removed=sum(1 for u in urls if u.status == UrlStatus.REMOVED),
        total=len(urls),
        alerts=list(Alert.objects.filter(case=case, seen_at__isnull=True)[:50]),
        watches=list(Watch.objects.filter(case=case)),
    )


def overdue_for(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[NoticeTracking]:
    """Notices past their deadline and not fully removed, in the cases this person may see."""
    return (
        NoticeTracking.objects.filter(case__in=case_list_for(user=user), deadline_at__lte=timezone.now())
        .exclude(status=NoticeStatus.REMOVED)
        .select_related("case", "notice")
        .order_by("deadline_at", "id")
    )


def flagged_for(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[UrlTracking]:
    return (
        UrlTracking.objects.filter(case__in=case_list_for(user=user), flagged=True)
        .select_related("case", "reported_url")
        .order_by("-reappeared_at")
    )


# What happened to a link after a request named it, in one word for the case page's table.
FOLLOW_UP_REMOVED, FOLLOW_UP_REAPPEARED, FOLLOW_UP_OVERDUE, FOLLOW_UP_WAITING = (
    "removed",
    "reappeared",
    "overdue",
    "waiting",
)


def url_follow_up_states(*, url_ids: list[int], now: datetime | None = None) -> dict[int, str]:
    """For each listed link under follow-up: removed, reappeared (back online), overdue or waiting.

    A link is overdue when it is still online and a request naming it is past its deadline.
    Links no request has named yet are left out.
    """
    now = now or timezone.now()
    trackings = dict(
        UrlTracking.objects.filter(reported_url_id__in=url_ids).values_list("reported_url_id", "status")
    )
    overdue = set(
        NoticeTracking.objects.filter(
            notice__items__reported_url_id__in=list(trackings), deadline_at__lte=now
        )
        .exclude(status=NoticeStatus.REMOVED)
        .values_list("notice__items__reported_url_id", flat=True)
    )
    states: dict[int, str] = {}
    for url_id, status in trackings.items():
        if status == UrlStatus.REMOVED:
            states[url_id] = FOLLOW_UP_REMOVED
        elif status == UrlStatus.REAPPEARED:
            states[url_id] = FOLLOW_UP_REAPPEARED
        elif url_id in overdue:
            states[url_id] = FOLLOW_UP_OVERDUE
        else:
            states[url_id] = FOLLOW_UP_WAITING
    return states


@dataclass
class CaseFollowUp:
    removed: int  # links removed
    total: int  # links named in a request
    next_deadline: datetime | None  # the earliest deadline still to come
    overdue: int  # requests past their deadline with content still online


def case_follow_up_summaries(*, case_ids: list[int], now: datetime | None = None) -> dict[int, CaseFollowUp]:
    """Progress and the next deadline of each listed case, for the case list (two queries)."""
    now = now or timezone.now()
    found: dict[int, CaseFollowUp] = {}
    for case_id, status in UrlTracking.objects.filter(case_id__in=case_ids).values_list("case_id", "status"):
        entry = found.setdefault(case_id, CaseFollowUp(0, 0, None, 0))
        entry.total += 1
        entry.removed += status == UrlStatus.REMOVED
    rows = (
        NoticeTracking.objects.filter(case_id__in=case_ids, deadline_at__isnull=False)
        .exclude(status=NoticeStatus.REMOVED)
        .values_list("case_id", "deadline_at")
    )
    for case_id, deadline_at in rows:
        entry = found.setdefault(case_id, CaseFollowUp(0, 0, None, 0))
        if deadline_at is None:
            continue
        if deadline_at <= now:
            entry.overdue += 1
        elif entry.next_deadline is None or deadline_at < entry.next_deadline:
            entry.next_deadline = deadline_at
    return found
