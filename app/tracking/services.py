"""Business steps of tracking: start on send, re-check, decide removed or not, escalate, notify, watch."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.cases.models import Case, CaseStatus, ReportedUrl
from app.fetching.models import FetchRecord, FetchStatus
from app.notices.models import Notice, NoticeState
from app.tracking import schedule
from app.tracking.models import (
    Alert,
    AlertKind,
    CheckReason,
    DeadlineOverride,
    Escalation,
    EscalationKind,
    EscalationState,
    NoticeEvent,
    NoticeStatus,
    NoticeTracking,
    PlatformReply,
    Regulator,
    RemovalMarker,
    ReplyKind,
    UrlCheck,
    UrlStatus,
    UrlTracking,
    Watch,
)
from app.tracking.selectors import deadline_hours_for

log = logging.getLogger(__name__)

GONE_STATUSES = (404, 410)
# Fallbacks when no RemovalMarker rows exist (a fresh database before migrations seeded them).
GENERIC_TEXT_MARKERS = (
    "this content has been removed",
    "this content is no longer available",
    "this post has been removed",
    "this post was removed",
    "this page isn't available",
    "게시물이 삭제되었습니다",
    "삭제된 게시물입니다",
    "존재하지 않는 게시물입니다",
)
_HTTP_IN_ERROR = re.compile(r"HTTP (\d{3})")


class TrackingError(ValueError):
    """A step that cannot be done now; the message is meant for the person."""


def _now() -> datetime:
    return timezone.now()


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


# ---- dispatching due re-checks -------------------------------------------------------------------


def _enqueue_rechecks(ids: list[int]) -> None:
    from app.tracking.tasks import recheck_url

    for pk in ids:
        recheck_url.delay(pk)


def rechecks_dispatch_due(
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    max_batches: int = 20,
    enqueue: Callable[[list[int]], None] | None = None,
) -> int:
    """Hand every due URL to a worker, in bounded batches read from the next_check_at index.

    Each batch is claimed (pushed out by a lease) in the same transaction that reads it, so a
    second beat or a slow worker never re-dispatches it; a URL whose worker died falls due again
    when the lease ends.
    """
    now = now or _now()
    send = enqueue or _enqueue_rechecks
    total = 0
    for _i in range(max_batches):
        with transaction.atomic():
            qs = UrlTracking.objects.filter(next_check_at__lte=now).order_by("next_check_at")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            ids = list(qs.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            UrlTracking.objects.filter(pk__in=ids).update(next_check_at=now + schedule.LEASE)
            transaction.on_commit(partial(send, ids))
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total


# ---- one re-check --------------------------------------------------------------------------------


@dataclass
class Decision:
    status: str | None  # None: inconclusive, keep the current status
    reason: str
    still_matching: bool
    matched_media: int
    marker: str = ""
    error: str = ""


def _markers(platform_id: int | None) -> tuple[list[str], list[str]]:
    rows = list(
        RemovalMarker.objects.filter(active=True)
        .filter(platform_id__isnull=True)
        .values_list("kind", "pattern")
    )
    if platform_id is not None:
        rows += list(
            RemovalMarker.objects.filter(active=True, platform_id=platform_id).values_list("kind", "pattern")
        )
    texts = [p.lower() for k, p in rows if k == "text" and p.strip()] or list(GENERIC_TEXT_MARKERS)
    urls = [p.lower() for k, p in rows if k == "url" and p.strip()]
    return texts, urls


def removal_marker_in(
    *, text: str, final_url: str, text_markers: Iterable[str], url_markers: Iterable[str]
) -> str:
    """The marker that says the content was removed, or ""."""
    low_url = final_url.lower()
    for marker in url_markers:
        if marker and marker in low_url:
            return marker
    low = " ".join(text.lower().split())
    for marker in text_markers:
        if marker and marker in low:
            return marker
    return ""


def _page_text(url: str) -> tuple[str, str]:
    """(visible-ish text, final URL) of a page, fetched through the one network door."""
    from app.lib.http import FetchError, fetch, policy_from_settings

    try:
        response = fetch(url, policy=policy_from_settings(max_bytes=2 * 1024 * 1024, retries=0))
    except FetchError:
        return "", ""
    text = response.body.decode("utf-8", errors="replace")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", text), response.final_url


def _gone_error(error: str) -> bool:
    found = _HTTP_IN_ERROR.search(error or "")
    return bool(found and int(found.group(1)) in GONE_STATUSES)


def _decide(tracking: UrlTracking, record: FetchRecord) -> Decision:
    from app.matching.models import Match
    from app.platforms.resolve import platform_id_for_host

    reported = tracking.reported_url
    baseline = list(
        Match.objects.filter(reported_url=reported, media_item__fetch__purpose="scan").values_list(
            "reference_id", "media_item__url"
        )
    )
    baseline_refs = {ref for ref, _url in baseline}
    baseline_urls = {url for _ref, url in baseline}
    now_refs = set(Match.objects.filter(media_item__fetch=record).values_list("reference_id", flat=True))
    matched = Match.objects.filter(media_item__fetch=record).count()
    http = record.http_status
    was_removed = tracking.status == UrlStatus.REMOVED

    def marker_check() -> str:
        if was_removed:
            return ""  # already known; no second request every week
        texts, urls = _markers(platform_id_for_host(reported.host))
        found = removal_marker_in(text="", final_url=record.final_url, text_markers=(), url_markers=urls)
        if found:
            return found
        text, final_url = _page_text(reported.normalized_url)
        return removal_marker_in(text=text, final_url=final_url, text_markers=texts, url_markers=urls)

    if record.status == FetchStatus.OK:
        if now_refs:
            partly = bool(baseline_refs) and not baseline_refs <= now_refs
            return Decision(
                status=UrlStatus.PARTLY if partly else UrlStatus.OPEN,
                reason=CheckReason.PARTLY if partly else CheckReason.STILL_UP,
                still_matching=True, matched_media=matched,
            )  # fmt: skip
        transient = [
            m.error
            for m in record.media.all()
            if m.url in baseline_urls and m.error and not _gone_error(m.error)
        ]
        if transient:
            return Decision(
                status=None, reason=CheckReason.INCONCLUSIVE, still_matching=False, matched_media=0,
                error=transient[0][:500],
            )  # fmt: skip
        marker = marker_check()
        return Decision(
            status=UrlStatus.REMOVED, reason=CheckReason.REMOVED_PAGE if marker else CheckReason.NO_MATCH,
            still_matching=False, matched_media=0, marker=marker[:200],
        )  # fmt: skip
    if http in GONE_STATUSES:
        return Decision(
            status=UrlStatus.REMOVED, reason=CheckReason.GONE_STATUS, still_matching=False, matched_media=0
        )
    if record.status == FetchStatus.ERROR and http is not None:
        marker = marker_check()
        if marker:
            return Decision(
                status=UrlStatus.REMOVED, reason=CheckReason.REMOVED_PAGE, still_matching=False,
                matched_media=0, marker=marker[:200],
            )  # fmt: skip
    return Decision(
        status=None, reason=CheckReason.INCONCLUSIVE, still_matching=False, matched_media=0,
        error=(record.error or "")[:500],
    )  # fmt: skip


def url_recheck(*, tracking_id: int, actor: User | None = None) -> UrlCheck | None:
    """Fetch a tracked URL again, keep the evidence, and decide whether its content is still up."""
    from app.fetching.services import reported_url_fetch_and_match

    tracking = UrlTracking.objects.select_related("reported_url__case").filter(pk=tracking_id).first()
    if tracking is None:
        return None
    reported = tracking.reported_url
    if reported.case.status == CaseStatus.CLOSED:
        UrlTracking.objects.filter(pk=tracking.pk).update(next_check_at=None)
        return None
    last = (
        FetchRecord.objects.filter(reported_url=reported).order_by("-id").values_list("pk", flat=True).first()
        or 0
    )
    reported_url_fetch_and_match(reported_url=reported, purpose="recheck")
    record = (
        FetchRecord.objects.filter(reported_url=reported, purpose="recheck", pk__gt=last)
        .order_by("-id")
        .first()
    )
    if record is None:  # erased while fetching
        return None
    decision = _decide(tracking, record)
    return _record_check(tracking, decision, record=record, actor=actor)


def _record_check(
    tracking: UrlTracking, decision: Decision, *, record: FetchRecord | None, actor: User | None
) -> UrlCheck:
    now = _now()
    alerts: list[str] = []
    with transaction.atomic():
        tracking = UrlTracking.objects.select_for_update().select_related("reported_url").get(pk=tracking.pk)
        before = tracking.status
        if decision.status == UrlStatus.REMOVED:
            if before != UrlStatus.REMOVED:
                tracking.removed_at = now
                alerts.append(AlertKind.REMOVED)
            tracking.status = UrlStatus.REMOVED
        elif decision.status is not None:
            if before == UrlStatus.REMOVED:
                tracking.status = UrlStatus.REAPPEARED
                tracking.flagged = True
                tracking.reappeared_at = now
                tracking.removed_at = None
                alerts.append(AlertKind.REAPPEARED)
            elif before != UrlStatus.REAPPEARED:
                tracking.status = decision.status
        tracking.last_checked_at = now
        tracking.last_http_status = record.http_status if record else None
        tracking.last_error = decision.error
        if decision.status is not None:
            tracking.still_matching = decision.still_matching
        tracking.check_count += 1
        removed_since = tracking.removed_at if tracking.status == UrlStatus.REMOVED else None
        if decision.status is None:
            # Could not tell: look again in an hour or so rather than waiting a full interval.
            tracking.next_check_at = now + schedule.jittered(schedule.HOUR)
        else:
            tracking.next_check_at = schedule.next_check(
                now=now, started_at=tracking.started_at, removed_since=removed_since
            )
        tracking.save()
        check = UrlCheck.objects.create(
            tracking=tracking, fetch=record, checked_at=now, status=tracking.status, reason=decision.reason,
            http_status=record.http_status if record else None, still_matching=decision.still_matching,
            matched_media=decision.matched_media, marker=decision.marker, error=decision.error, actor=actor,
        )  # fmt: skip
        for kind in alerts:
            _alert(case=tracking.case, kind=kind, reported_url=tracking.reported_url)
        _notices_refresh(reported_url_id=tracking.reported_url_id, actor=actor, at=now)
        if alerts:
            from app.api.webhooks import webhooks_emit

            webhooks_emit(
                organization_id=tracking.organization_id,
                event="url.removed" if tracking.status == UrlStatus.REMOVED else "url.reappeared",
                data={
                    "case_id": tracking.case_id,
                    "url_id": tracking.reported_url_id,
                    "status": tracking.status,
                },
            )
    return check


def _notices_refresh(*, reported_url_id: int, actor: User | None, at: datetime) -> None:
    """A notice's status follows its URLs: all removed, some removed, or back to waiting."""
    for tracking in NoticeTracking.objects.filter(
        notice__items__reported_url_id=reported_url_id
    ).select_related("notice"):
        statuses = list(
            UrlTracking.objects.filter(reported_url__notice_items__notice_id=tracking.notice_id).values_list(
                "status", flat=True
            )
        )
        removed = sum(1 for s in statuses if s == UrlStatus.REMOVED)
        partly = any(s == UrlStatus.PARTLY for s in statuses)
        target: str
        if statuses and removed == len(statuses):
            target = NoticeStatus.REMOVED
        elif removed or partly:
            target = NoticeStatus.PARTLY
        elif tracking.status in (NoticeStatus.REMOVED, NoticeStatus.PARTLY):
            target = (
                NoticeStatus.ACKNOWLEDGED if tracking.acknowledged_at else tracking_initial_status(tracking)
            )
        else:
            continue
        if tracking.status == NoticeStatus.REFUSED and target != NoticeStatus.REMOVED:
            continue  # a refusal stands until the content is actually gone
        _set_notice_status(
            tracking, target, actor=actor, at=at, note=gettext_noop("after a check of the links")
        )


def tracking_initial_status(tracking: NoticeTracking) -> str:
    return NoticeStatus.SUBMITTED if tracking.notice.state == NoticeState.SUBMITTED else NoticeStatus.SENT


def url_mark_removed(*, tracking: UrlTracking, actor: User | None) -> UrlCheck:
    """A person saw the content gone (e.g. behind a login Jium cannot pass)."""
    check = _record_check(
        tracking,
        Decision(status=UrlStatus.REMOVED, reason=CheckReason.MANUAL, still_matching=False, matched_media=0),
        record=None,
        actor=actor,
    )
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.url_removed", case_id=tracking.case_id,
        object_type="reported_url", object_id=tracking.reported_url_id,
    )  # fmt: skip
    return check


def url_clear_flag(*, tracking: UrlTracking, actor: User | None) -> None:
    UrlTracking.objects.filter(pk=tracking.pk).update(flagged=False)
    audit_record(
        organization=tracking.organization, actor=actor, action="tracking.url_flag_clear", case_id=tracking.case_id,
        object_type="reported_url", object_id=tracking.reported_url_id,
    )  # fmt: skip


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


# ---- deadlines passing: overdue, escalation --------------------------------------------------------


def _enqueue_escalation(tracking_id: int) -> None:
    from app.tracking.tasks import escalate_notice

    escalate_notice.delay(tracking_id)


def tracking_sweep(*, now: datetime | None = None, enqueue: bool = True, limit: int = 500) -> int:
    """Start tracking newly sent notices, and act on every deadline that passed since the last sweep."""
    now = now or _now()
    notices_tracking_sync()
    due = list(
        NoticeTracking.objects.filter(deadline_at__lte=now, overdue_notified_at__isnull=True)
        .exclude(status=NoticeStatus.REMOVED)
        .select_related("notice", "case")
        .order_by("deadline_at")[:limit]
    )
    for tracking in due:
        with transaction.atomic():
            if tracking.status in (NoticeStatus.SENT, NoticeStatus.SUBMITTED):
                _set_notice_status(
                    tracking,
                    NoticeStatus.NO_RESPONSE,
                    actor=None,
                    at=now,
                    note=gettext_noop("deadline passed"),
                )
            NoticeTracking.objects.filter(pk=tracking.pk).update(overdue_notified_at=now)
            _alert(case=tracking.case, kind=AlertKind.OVERDUE, notice=tracking.notice)
            from app.api.webhooks import webhooks_emit

            webhooks_emit(
                organization_id=tracking.organization_id,
                event="deadline.passed",
                data={"case_id": tracking.case_id, "notice_id": tracking.notice_id,
                      "deadline_at": tracking.deadline_at.isoformat() if tracking.deadline_at else None},
            )  # fmt: skip
        if enqueue:
            transaction.on_commit(partial(_enqueue_escalation, tracking.pk))
        else:
            notice_escalate(tracking_id=tracking.pk)
    return len(due)


def overdue_list(*, organization: Organization, now: datetime | None = None):
    now = now or _now()
    return (
        NoticeTracking.objects.filter(organization=organization, deadline_at__lte=now)
        .exclude(status=NoticeStatus.REMOVED)
        .select_related("case", "notice")
        .order_by("deadline_at", "id")
    )


def _open_urls(tracking: NoticeTracking) -> list[UrlTracking]:
    return list(
        UrlTracking.objects.filter(reported_url__notice_items__notice_id=tracking.notice_id)
        .exclude(status=UrlStatus.REMOVED)
        .select_related("reported_url")
        .order_by("reported_url_id")
    )


def _regulator_for(tracking: NoticeTracking) -> Regulator | None:
    for regulator in Regulator.objects.all():
        if tracking.regime in (regulator.regimes or []):
            return regulator
    for regulator in Regulator.objects.all():
        if tracking.case.jurisdiction in (regulator.jurisdictions or []):
            return regulator
    return None


def _evidence_pdf(tracking: NoticeTracking, urls: list[UrlTracking], lang: str) -> bytes:
    from app.notices.pdf import render_pdf

    rows = []
    for url in urls:
        checks = list(url.checks.select_related("fetch").order_by("checked_at", "id"))
        rows.append(
            {"url": url.reported_url.normalized_url, "status": url.get_status_display(), "checks": checks}
        )
    with translation.override(lang):
        return render_pdf(
            "tracking/pdf/evidence.html",
            {
                "lang": lang,
                "tracking": tracking,
                "notice": tracking.notice,
                "rows": rows,
                "generated_at": _now(),
            },
        )


def _letter(kind: str, lang: str, context: dict[str, object]) -> tuple[str, str]:
    text = render_to_string(f"tracking/escalation/{kind}.{lang}.txt", context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    subject, _sep, body = cleaned.partition("\n")
    return subject.strip(), body.strip() + "\n"


def notice_escalate(*, tracking_id: int, actor: User | None = None) -> list[Escalation]:
    """Draft the next steps for a notice whose deadline passed (or that was refused), for review.

    A reminder to the platform, the hosting provider's abuse contact, a search-engine delisting
    request and a complaint to the regulator that fits; the re-check evidence is attached as a PDF.
    """
    from app.notices.drafting import choose_channel
    from app.platforms.models import Platform, Regime

    tracking = (
        NoticeTracking.objects.select_related("notice__platform", "case__organization")
        .filter(pk=tracking_id)
        .first()
    )
    if tracking is None or tracking.status == NoticeStatus.REMOVED:
        return []
    urls = _open_urls(tracking)
    if not urls:
        return []
    notice = tracking.notice
    lang = notice.lang if notice.lang in ("en", "ko") else "en"
    regime = Regime.objects.filter(code=tracking.regime).first()
    org = tracking.case.organization
    pdf = _evidence_pdf(tracking, urls, lang)
    base = {
        "lang": lang, "notice": notice, "tracking": tracking, "urls": urls,
        "regime_name": regime.text("name", lang) if regime else tracking.regime,
        "regime_citation": regime.text("citation", lang) if regime else "",
        "org_name": org.notice_sender_name or org.name, "sent_at": tracking.sent_at,
        "deadline_at": tracking.deadline_at, "refused": tracking.status == NoticeStatus.REFUSED,
        "minor": tracking.case.is_minor,
    }  # fmt: skip
    targets: list[tuple[str, str, str, Regulator | None, dict[str, object]]] = []
    if tracking.case.is_minor:
        # Child sexual abuse material: the hotline and the police before anything else.
        targets.extend(_hotline_targets(tracking.case, lang))
    targets.append((EscalationKind.REMINDER, notice.recipient_name, notice.channel_address, None, {}))
    if not notice.recipient_key.startswith("abuse:"):
        targets.extend(_hosting_targets(urls))
    if not (notice.platform and notice.platform.kind == "search"):
        for slug in getattr(settings, "TRACKING_DELISTING_PLATFORMS", ("google-search", "bing")):
            engine = Platform.objects.filter(slug=slug, active=True).first()
            if engine is None:
                continue
            channel = choose_channel(engine, tracking.regime)
            targets.append(
                (EscalationKind.DELISTING, engine.name, channel.address if channel else "", None, {})
            )
    regulator = _regulator_for(tracking)
    if regulator is not None:
        address = regulator.complaint_url or regulator.email
        targets.append(
            (
                EscalationKind.REGULATOR,
                regulator.name(lang),
                address,
                regulator,
                {"regulator_notes": regulator.notes(lang)},
            )
        )
    created: list[Escalation] = []
    now = _now()
    for kind, name, address, reg, extra in targets:
        if Escalation.objects.filter(tracking=tracking, kind=kind, recipient_address=address[:500]).exists():
            continue  # one draft (or one sent) per target is enough
        subject, body = _letter(
            kind, lang, {**base, "recipient_name": name, "recipient_address": address, **extra}
        )
        escalation = Escalation.objects.create(
            tracking=tracking, kind=kind, lang=lang, recipient_name=name[:300], recipient_address=address[:500],
            regulator=reg, subject=subject, body=body, evidence_pdf=pdf,
            evidence_sha256=hashlib.sha256(pdf).hexdigest(), created_at=now,
        )  # fmt: skip
        created.append(escalation)
    NoticeTracking.objects.filter(pk=tracking.pk).update(escalated_at=now)
    audit_record(
        organization=org, actor=actor, action="tracking.escalate", case_id=tracking.case_id, object_type="notice",
        object_id=tracking.notice_id, detail={"drafts": [e.pk for e in created]},
    )  # fmt: skip
    return created


def _hotline_targets(
    case: Case, lang: str
) -> list[tuple[str, str, str, Regulator | None, dict[str, object]]]:
    from app.cases.selectors import hotlines_for_case
    from app.platforms.models import HotlineKind

    hotlines = [h for h in hotlines_for_case(case=case) if h.escalate]
    ordered = [h for h in hotlines if h.kind == HotlineKind.HOTLINE] + [
        h for h in hotlines if h.kind == HotlineKind.POLICE
    ]
    return [
        (
            EscalationKind.POLICE if h.kind == HotlineKind.POLICE else EscalationKind.HOTLINE,
            h.name(lang),
            h.url_or_phone,
            None,
            {"hotline_notes": h.description(lang)},
        )
        for h in ordered
    ]


def _hosting_targets(
    urls: list[UrlTracking],
) -> list[tuple[str, str, str, Regulator | None, dict[str, object]]]:
    from app.platforms.rdap import abuse_contact_for

    out: list[tuple[str, str, str, Regulator | None, dict[str, object]]] = []
    seen: set[str] = set()
    for url in urls:
        reported = url.reported_url
        ip = (
            FetchRecord.objects.filter(reported_url=reported).exclude(resolved_ip="").order_by("-id")
            .values_list("resolved_ip", flat=True).first() or ""
        )  # fmt: skip
        try:
            contact = abuse_contact_for(host=reported.host, ip=ip)
        except Exception:  # an RDAP outage must not stop the other drafts
            log.exception("abuse contact lookup failed for %s", reported.host)
            contact = None
        if contact is None or contact.email.lower() in seen:
            continue
        seen.add(contact.email.lower())
        out.append((EscalationKind.HOSTING, contact.holder or contact.email, contact.email, None, {}))
    return out


def escalation_decide(*, escalation: Escalation, actor: User | None, state: str) -> Escalation:
    if state not in (EscalationState.DONE, EscalationState.DISMISSED):
        raise TrackingError(_("Unknown choice."))
    escalation.state = state
    escalation.decided_at = _now()
    escalation.decided_by = actor
    escalation.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        organization=escalation.tracking.organization, actor=actor, action=f"tracking.escalation_{state}",
        case_id=escalation.tracking.case_id, object_type="escalation", object_id=escalation.pk,
    )  # fmt: skip
    return escalation


# ---- alerts and notification emails ---------------------------------------------------------------

_EMAIL_TEXT = {
    AlertKind.REMOVED: gettext_noop("A link you reported has been removed."),
    AlertKind.REAPPEARED: gettext_noop("A link that had been removed is back online."),
    AlertKind.OVERDUE: gettext_noop(
        "A platform has not removed everything in time. Next steps are ready for your review."
    ),
    AlertKind.REUPLOAD: gettext_noop("A watched page shows a new copy. It was added to the case."),
}


def _alert(
    *,
    case: Case,
    kind: str,
    reported_url: ReportedUrl | None = None,
    notice: Notice | None = None,
    watch: Watch | None = None,
) -> Alert:
    alert = Alert.objects.create(
        organization_id=case.organization_id, case=case, kind=kind, reported_url=reported_url, notice=notice,
        watch=watch, created_at=_now(),
    )  # fmt: skip
    transaction.on_commit(partial(alert_notify, alert_id=alert.pk))
    return alert


def alert_notify(*, alert_id: int) -> int:
    """Email the case's assigned caseworkers. Neither subject nor body names the case or the person."""
    alert = Alert.objects.select_related("case").filter(pk=alert_id, emailed_at__isnull=True).first()
    if alert is None:
        return 0
    recipients = sorted({u.email for u in alert.case.assigned_to.filter(is_active=True) if u.email})
    if not recipients:
        return 0
    link = settings.SITE_URL.rstrip("/") + reverse("tracking_case", args=[alert.case_id])
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Jium: an update is waiting for you")
        body = "\n\n".join([_(_EMAIL_TEXT[AlertKind(alert.kind)]), _("Open Jium to see it:"), link])
    try:
        send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception:  # a mail outage must not undo the check that caused the alert
        log.exception("notification email for alert %s failed", alert_id)
        return 0
    Alert.objects.filter(pk=alert.pk).update(emailed_at=_now())
    return len(recipients)


def alerts_mark_seen(*, case: Case, actor: User | None) -> int:
    return Alert.objects.filter(case=case, seen_at__isnull=True).update(seen_at=_now())


# ---- re-upload watches -----------------------------------------------------------------------------


def watch_add(*, case: Case, actor: User | None, url: str, interval_hours: int = 24) -> Watch:
    from app.lib.urls import InvalidUrl, normalize_url

    try:
        normalized = normalize_url(url.strip())
    except InvalidUrl as exc:
        raise TrackingError(_("This address cannot be used: %(reason)s") % {"reason": exc}) from exc
    if interval_hours < 1:
        raise TrackingError(_("Check at most once an hour."))
    watch = Watch.objects.create(
        case=case, url=url.strip()[:4000], normalized_url=normalized[:4000], interval_hours=interval_hours,
        next_scan_at=_now() + schedule.jittered(timedelta(minutes=5)), created_by=actor,
    )  # fmt: skip
    audit_record(
        organization=case.organization, actor=actor, action="tracking.watch_add", case_id=case.pk,
        object_type="watch", object_id=watch.pk,
    )  # fmt: skip
    return watch


def watch_remove(*, watch: Watch, actor: User | None) -> None:
    case = watch.case
    pk = watch.pk
    watch.delete()
    audit_record(
        organization=case.organization, actor=actor, action="tracking.watch_remove", case_id=case.pk,
        object_type="watch", object_id=pk,
    )  # fmt: skip


def _enqueue_watch_scans(ids: list[int]) -> None:
    from app.tracking.tasks import scan_watch

    for pk in ids:
        scan_watch.delay(pk)


def watches_dispatch_due(
    *, now: datetime | None = None, limit: int = 500, enqueue: Callable[[list[int]], None] | None = None
) -> int:
    now = now or _now()
    with transaction.atomic():
        ids = list(
            Watch.objects.filter(active=True, next_scan_at__lte=now)
            .order_by("next_scan_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Watch.objects.filter(pk__in=ids).update(next_scan_at=now + schedule.LEASE)
            transaction.on_commit(partial(enqueue or _enqueue_watch_scans, ids))
    return len(ids)


def watch_scan(*, watch_id: int) -> list[ReportedUrl]:
    """Scan a watched page; every matching image not yet in the case becomes a reported URL and an alert."""
    from app.cases.services import reported_urls_add
    from app.fetching.scan import scan_url
    from app.lib.http import policy_from_settings
    from app.matching.selectors import case_matcher

    watch = Watch.objects.select_related("case").filter(pk=watch_id).first()
    if watch is None:
        return []
    case = watch.case
    now = _now()
    if case.status == CaseStatus.CLOSED or not watch.active:
        Watch.objects.filter(pk=watch.pk).update(next_scan_at=None)
        return []
    matcher = case_matcher(case=case)
    outcome = scan_url(
        watch.normalized_url,
        policy=policy_from_settings(),
        matcher=matcher,
        max_media=settings.FETCH_MAX_MEDIA_PER_PAGE,
    )
    found = [m.url for m in outcome.matches]
    added: list[ReportedUrl] = []
    with transaction.atomic():
        if found:
            added = reported_urls_add(case=case, actor=None, urls=found).added
            for reported in added:
                _alert(case=case, kind=AlertKind.REUPLOAD, reported_url=reported, watch=watch)
        Watch.objects.filter(pk=watch.pk).update(
            last_scanned_at=now, last_http_status=outcome.http_status, last_error=(outcome.error or "")[:500],
            scan_count=watch.scan_count + 1,
            next_scan_at=now + schedule.jittered(timedelta(hours=watch.interval_hours)),
        )  # fmt: skip
        if added:
            audit_record(
                organization=case.organization, actor=None, action="tracking.watch_found", case_id=case.pk,
                object_type="watch", object_id=watch.pk, detail={"added": len(added)},
            )  # fmt: skip
    return added
