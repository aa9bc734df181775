"""Tracking: state per URL and notice, deadlines, re-check now (202), removal by hand, escalation drafts;
the evidence package (PDF and JSON) and the organisation's statistics (JSON and CSV)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from app.api.http import context, no_store
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.routes.cases import CaseId, get_case
from app.tracking import selectors as tracking_selectors
from app.tracking import services as tracking_services
from app.tracking.models import Escalation, EscalationState, NoticeTracking, UrlTracking

router = Router(tags=["tracking"])

TrackingId = Path(..., ge=1, le=MAX_ID)


class EscalationOut(Schema):
    id: int
    kind: str
    state: str = Field(description="draft, done or dismissed: Jium never sends these itself.")
    lang: str
    recipient_name: str
    recipient_address: str
    subject: str
    body: str
    evidence_sha256: str
    created_at: datetime
    decided_at: datetime | None


class NoticeTrackingOut(Schema):
    id: int
    notice_id: int
    status: str
    regime: str
    platform_name: str
    sent_at: datetime
    deadline_at: datetime | None
    overdue: bool
    seconds_left: int = Field(description="Until the deadline; negative once it has passed.")
    removed_at: datetime | None
    refused_at: datetime | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    escalations: list[EscalationOut]


class UrlTrackingOut(Schema):
    id: int
    reported_url_id: int
    url: str
    status: str = Field(description="open, partly, removed or reappeared")
    flagged: bool
    still_matching: bool
    started_at: datetime
    removed_at: datetime | None
    reappeared_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None
    last_error: str


class TrackingOut(Schema):
    notices: list[NoticeTrackingOut]
    urls: list[UrlTrackingOut]
    removed: int
    total: int


def escalation_out(e: Escalation) -> dict[str, Any]:
    from app.notices.services import as_text

    return {
        "id": e.pk,
        "kind": e.kind,
        "state": e.state,
        "lang": e.lang,
        "recipient_name": e.recipient_name,
        "recipient_address": e.recipient_address,
        "subject": as_text(e.subject),
        "body": as_text(e.body),
        "evidence_sha256": e.evidence_sha256,
        "created_at": e.created_at,
        "decided_at": e.decided_at,
    }


def _notice_tracking_out(t: NoticeTracking, countdown: tracking_selectors.Countdown) -> dict[str, Any]:
    return {
        "id": t.pk,
        "notice_id": t.notice_id,
        "status": t.status,
        "regime": t.regime,
        "platform_name": t.platform_name,
        "sent_at": t.sent_at,
        "deadline_at": t.deadline_at,
        "overdue": countdown.overdue,
        "seconds_left": countdown.seconds,
        "removed_at": t.removed_at,
        "refused_at": t.refused_at,
        "acknowledged_at": t.acknowledged_at,
        "escalated_at": t.escalated_at,
        "escalations": [escalation_out(e) for e in t.escalations.all()],
    }


def _url_tracking_out(u: UrlTracking) -> dict[str, Any]:
    return {
        "id": u.pk,
        "reported_url_id": u.reported_url_id,
        "url": u.reported_url.url,
        "status": u.status,
        "flagged": u.flagged,
        "still_matching": u.still_matching,
        "started_at": u.started_at,
        "removed_at": u.removed_at,
        "reappeared_at": u.reappeared_at,
        "last_checked_at": u.last_checked_at,
        "next_check_at": u.next_check_at,
        "last_error": u.last_error,
    }


@router.get(
    "cases/{int:case_id}/tracking/", response={200: TrackingOut, **ERRORS}, summary="Takedown tracking"
)
def tracking(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    """Each sent or submitted notice with its deadline and escalation drafts; each URL it named with
    what the last re-check saw."""
    case = get_case(request, case_id)
    data = tracking_selectors.case_tracking(case=case)
    audit(context(request), "api.tracking.view", case)
    return {
        "notices": [_notice_tracking_out(t, c) for t, c in data.notices],
        "urls": [_url_tracking_out(u) for u in data.urls],
        "removed": data.removed,
        "total": data.total,
    }


class RecheckOut(Schema):
    queued: int
    poll: str


@router.post(
    "cases/{int:case_id}/tracking/recheck/", response={202: RecheckOut, **ERRORS}, summary="Re-check now"
)
def recheck_now(request: HttpRequest, case_id: int = CaseId) -> Status[Any]:
    """Every tracked URL of the case is fetched again by a worker; poll the tracking to see the result."""
    from app.tracking.tasks import recheck_url

    case = get_case(request, case_id)
    ids = list(case.url_trackings.values_list("pk", flat=True))
    transaction.on_commit(lambda: [recheck_url.delay(i) for i in ids])
    audit(context(request), "api.tracking.recheck_now", case, count=len(ids))
    return Status(
        202, {"queued": len(ids), "poll": request.build_absolute_uri(f"/api/v1/cases/{case.pk}/tracking/")}
    )


@router.post(
    "cases/{int:case_id}/tracking/urls/{int:tracking_id}/removed/",
    response={200: UrlTrackingOut, **ERRORS},
    summary="Record a URL as removed",
)
def url_removed(request: HttpRequest, case_id: int = CaseId, tracking_id: int = TrackingId) -> dict[str, Any]:
    """A person saw the content gone (behind a login Jium cannot pass, say). Jium still looks now and then."""
    case = get_case(request, case_id)
    url = tracking_selectors.url_tracking_get_for(case=case, tracking_id=tracking_id)
    tracking_services.url_mark_removed(tracking=url, actor=context(request).user)
    url.refresh_from_db()
    audit(context(request), "api.tracking.url_removed", case, tracking=url.pk)
    return _url_tracking_out(url)


@router.post(
    "cases/{int:case_id}/tracking/notices/{int:tracking_id}/escalate/",
    response={200: list[EscalationOut], **ERRORS},
    summary="Draft escalations",
)
def escalate(
    request: HttpRequest, case_id: int = CaseId, tracking_id: int = TrackingId
) -> list[dict[str, Any]]:
    """Next-step drafts for a notice past its deadline or refused: a reminder, the host's abuse contact,
    search delisting and the regulator. Drafts only: a person reviews and sends them."""
    case = get_case(request, case_id)
    notice_tracking = tracking_selectors.notice_tracking_get_for(case=case, tracking_id=tracking_id)
    drafts = tracking_services.notice_escalate(tracking_id=notice_tracking.pk, actor=context(request).user)
    audit(context(request), "api.tracking.escalate", case, tracking=notice_tracking.pk, drafts=len(drafts))
    return [escalation_out(e) for e in drafts]


class DecisionIn(Body):
    state: Literal["done", "dismissed"] = Field(description="done: a person sent it; dismissed: not needed.")


@router.post(
    "cases/{int:case_id}/escalations/{int:escalation_id}/decision/",
    response={200: EscalationOut, **ERRORS},
    summary="Record what was done with an escalation draft",
)
def escalation_decide(
    request: HttpRequest, payload: DecisionIn, case_id: int = CaseId, escalation_id: int = TrackingId
) -> dict[str, Any]:
    case = get_case(request, case_id)
    escalation = tracking_selectors.escalation_get_for(case=case, escalation_id=escalation_id)
    state = EscalationState.DONE if payload.state == "done" else EscalationState.DISMISSED
    tracking_services.escalation_decide(escalation=escalation, actor=context(request).user, state=state)
    audit(context(request), "api.tracking.escalation_decide", case, escalation=escalation.pk)
    return escalation_out(escalation)


# ---- evidence package and statistics -----------------------------------------------------------

PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "cases/{int:case_id}/evidence/",
    response={200: dict[str, Any], **ERRORS},
    summary="Evidence package (JSON)",
)
def evidence_json(request: HttpRequest, case_id: int = CaseId) -> dict[str, Any]:
    """What was fetched when, from where, with hashes and matches: the record a platform or court needs.
    No image bytes and nothing that names the person."""
    from app.notices.evidence import evidence_data

    case = get_case(request, case_id)
    audit(context(request), "api.evidence.json", case)
    return evidence_data(case=case)


@router.get(
    "cases/{int:case_id}/evidence/pdf/",
    response={200: None, **ERRORS},
    summary="Evidence package (PDF)",
    openapi_extra=PDF_RESPONSE,
)
def evidence_pdf(request: HttpRequest, case_id: int = CaseId) -> HttpResponse:
    from app.notices.evidence import evidence_pdf as render

    case = get_case(request, case_id)
    audit(context(request), "api.evidence.pdf", case)
    lang = "ko" if getattr(request, "LANGUAGE_CODE", "en") == "ko" else "en"
    response = HttpResponse(render(case=case, lang=lang), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="evidence-case-{case.pk}.pdf"'
    return no_store(response)


@router.get(
    "statistics/",
    response={200: dict[str, Any], **ERRORS},
    summary="Takedown statistics",
    openapi_extra={
        "responses": {
            200: {
                "description": "JSON (default) or CSV",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def statistics(request: HttpRequest, format: Literal["json", "csv"] = Query("json")) -> Any:
    """Aggregates an organisation can publish, per platform and legal basis: no case or person data."""
    from app.lib.spreadsheet import csv_text
    from app.tracking.stats import EXPORT_FIELDS, stats_compute

    api = context(request)
    data = stats_compute(organization=api.membership.organization)
    rows = [r.export() for r in data.by_platform_regime]
    audit(api, "api.statistics", None, format=format)
    if format == "csv":
        response = HttpResponse(
            csv_text(fieldnames=EXPORT_FIELDS, rows=rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="jium-takedown-statistics.csv"'
        return no_store(response)
    return {
        "generated_at": timezone.now().isoformat(),
        "rows": rows,
        "by_platform": [r.export() for r in data.by_platform],
        "by_regime": [r.export() for r in data.by_regime],
        "total": data.total.export(),
    }
