"""Reported URLs: add many, list with state and filters, retry failed, per-URL evidence (never image bytes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field, StrictStr

from app.api import selectors as api_selectors
from app.api.http import PageMeta, context, paginate
from app.api.routes import ERRORS, MAX_ID, Body, audit
from app.api.routes.cases import CaseId, get_case
from app.cases import selectors as case_selectors
from app.cases import services as case_services
from app.cases.models import Case, ReportedUrl, UrlState

router = Router(tags=["reported URLs"])

URLS_PER_PAGE = 100
MAX_URLS = 5000
MAX_URL_LENGTH = 4000


class UrlFilter(StrEnum):
    """Views a caseworker asks for, beyond the scan state."""

    matched = "matched"
    failed = "failed"
    overdue = "overdue"  # named in a notice whose deadline has passed, and not removed
    removed = "removed"  # taken down, as the last re-check saw it
    reappeared = "reappeared"  # back online after removal


class FetchOut(Schema):
    purpose: str
    status: str
    error_code: str
    final_url: str
    http_status: int | None
    sha256: str
    fetched_at: datetime


class MatchOut(Schema):
    reference_id: int
    method: str
    distance: float


class TrackingBrief(Schema):
    status: str
    flagged: bool
    removed_at: datetime | None
    reappeared_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None


class UrlOut(Schema):
    id: int
    url: str
    normalized_url: str
    host: str
    state: str
    error: str
    created_at: datetime
    last_scanned_at: datetime | None
    matches: list[MatchOut]
    last_fetch: FetchOut | None
    tracking: TrackingBrief | None


class UrlPage(PageMeta):
    results: list[UrlOut]


def _tracking_brief(reported: ReportedUrl) -> dict[str, Any] | None:
    tracking = getattr(reported, "tracking", None)
    if tracking is None:
        return None
    return {
        "status": tracking.status,
        "flagged": tracking.flagged,
        "removed_at": tracking.removed_at,
        "reappeared_at": tracking.reappeared_at,
        "last_checked_at": tracking.last_checked_at,
        "next_check_at": tracking.next_check_at,
    }


def url_out(row: api_selectors.UrlRow) -> dict[str, Any]:
    u = row.reported
    return {
        "id": u.pk,
        "url": u.url,
        "normalized_url": u.normalized_url,
        "host": u.host,
        "state": u.state,
        "error": u.error,
        "created_at": u.created_at,
        "last_scanned_at": u.last_scanned_at,
        "matches": row.matches,
        "last_fetch": (
            None
            if row.last_fetch is None
            else {k: v for k, v in row.last_fetch.items() if k != "reported_url_id"}
        ),
        "tracking": _tracking_brief(u),
    }


def _filtered(case: Case, state: str | None, view: UrlFilter | None) -> QuerySet[ReportedUrl]:
    from app.tracking.models import NoticeStatus, UrlStatus

    qs = case_selectors.reported_url_list(case=case, state=state)
    if view is UrlFilter.matched:
        qs = qs.filter(state=UrlState.MATCHED)
    elif view is UrlFilter.failed:
        qs = qs.filter(state=UrlState.FAILED)
    elif view is UrlFilter.removed:
        qs = qs.filter(tracking__status=UrlStatus.REMOVED)
    elif view is UrlFilter.reappeared:
        qs = qs.filter(tracking__status=UrlStatus.REAPPEARED)
    elif view is UrlFilter.overdue:
        qs = (
            qs.filter(
                notice_items__notice__tracking__deadline_at__lte=timezone.now(),
                tracking__status__in=[UrlStatus.OPEN, UrlStatus.PARTLY, UrlStatus.REAPPEARED],
            )
            .exclude(notice_items__notice__tracking__status=NoticeStatus.REMOVED)
            .distinct()
        )
    return qs


@router.get(
    "cases/{int:case_id}/urls/",
    response={200: UrlPage, **ERRORS},
    url_name="case_urls",
    summary="List reported URLs",
)
def url_list(
    request: HttpRequest,
    case_id: int = CaseId,
    page: int = Query(1, ge=1, le=MAX_ID),
    state: UrlState | None = Query(None, description="Scan state."),
    filter: UrlFilter | None = Query(None, description="matched, failed, overdue, removed or reappeared."),
) -> dict[str, Any]:
    """The case's reported URLs in the order they were added, 100 a page, each with its matches,
    latest fetch and takedown tracking."""
    case = get_case(request, case_id)
    qs = _filtered(case, state.value if state else None, filter).select_related("tracking")
    current, meta = paginate(request, qs, page=page, per_page=URLS_PER_PAGE)
    rows = api_selectors.reported_url_rows(urls=list(current.object_list))
    audit(
        context(request),
        "api.case.urls",
        case,
        page=meta["page"],
        state=state.value if state else "",
        filter=filter.value if filter else "",
    )
    return {**meta, "results": [url_out(r) for r in rows]}


class UrlsIn(Body):
    urls: list[StrictStr] = Field(min_length=1, max_length=MAX_URLS, description="Up to 5,000 addresses.")


class AddedUrl(Schema):
    id: int
    url: str
    normalized_url: str
    state: str


class InvalidUrl(Schema):
    url: str
    reason: str
    detail: str


class UrlsAdded(Schema):
    added: list[AddedUrl]
    duplicates: int
    invalid: list[InvalidUrl]


@router.post("cases/{int:case_id}/urls/", response={200: UrlsAdded, **ERRORS}, summary="Report URLs")
def url_add(request: HttpRequest, payload: UrlsIn, case_id: int = CaseId) -> dict[str, Any]:
    """Adds the addresses (duplicates and the person's own addresses are recognised) and queues
    their scans; poll ``GET .../urls/`` for the results."""
    case = get_case(request, case_id)
    urls = payload.urls
    not_checkable = _("Not a web address we can check.")
    invalid = [
        {"url": u[:200], "reason": not_checkable, "detail": "too long"}
        for u in urls
        if len(u) > MAX_URL_LENGTH
    ]
    result = case_services.reported_urls_add(
        case=case, actor=context(request).user, urls=[u for u in urls if len(u) <= MAX_URL_LENGTH]
    )
    invalid += [
        {"url": raw[:200], "reason": not_checkable, "detail": detail} for raw, detail in result.invalid
    ]
    audit(
        context(request),
        "api.case.urls_add",
        case,
        added=len(result.added),
        duplicates=result.duplicates,
        invalid=len(invalid),
    )
    return {
        "added": [
            {"id": u.pk, "url": u.url, "normalized_url": u.normalized_url, "state": u.state}
            for u in result.added
        ],
        "duplicates": result.duplicates,
        "invalid": invalid,
    }


class Requeued(Schema):
    requeued: int
    poll: str


@router.post(
    "cases/{int:case_id}/urls/retry/", response={202: Requeued, **ERRORS}, summary="Retry failed URLs"
)
def url_retry(request: HttpRequest, case_id: int = CaseId) -> Status[Any]:
    case = get_case(request, case_id)
    n = case_services.reported_urls_requeue(case=case, actor=context(request).user, only_failed=True)
    audit(context(request), "api.case.urls_retry", case, requeued=n)
    poll = request.build_absolute_uri(f"/api/v1/cases/{case.pk}/urls/?state=queued")
    return Status(202, {"requeued": n, "poll": poll})


class MediaOut(Schema):
    id: int
    kind: str
    sha256: str
    width: int | None
    height: int | None
    has_content: bool = Field(description="Whether the evidence bytes were kept (they are never sent here).")


class EvidenceMatch(Schema):
    reference_id: int
    reference_label: str
    method: str
    distance: float
    media: MediaOut


class UrlEvidenceOut(Schema):
    url: UrlOut
    fetches: list[FetchOut]
    matches: list[EvidenceMatch]


@router.get(
    "cases/{int:case_id}/urls/{int:url_id}/",
    response={200: UrlEvidenceOut, **ERRORS},
    summary="One URL with its evidence",
)
def url_evidence(
    request: HttpRequest, case_id: int = CaseId, url_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """Fetch records, the media found and their matches — descriptions and hashes only, never image bytes."""
    from app.fetching.models import FetchRecord

    case = get_case(request, case_id)
    reported = case_selectors.reported_url_get_for(case=case, url_id=url_id)
    [row] = api_selectors.reported_url_rows(urls=[reported])
    evidence = case_selectors.reported_url_evidence(reported=reported)
    fetches = list(
        FetchRecord.objects.filter(reported_url=reported)
        .order_by("-fetched_at", "-id")
        .values(*[f for f in api_selectors.FETCH_FIELDS if f != "reported_url_id"])[:50]
    )
    matches = []
    for m in evidence.matches:
        media = m.media_item  # type: ignore[attr-defined]
        matches.append(
            {
                "reference_id": m.reference_id,  # type: ignore[attr-defined]
                "reference_label": m.reference.label,  # type: ignore[attr-defined]
                "method": m.method,  # type: ignore[attr-defined]
                "distance": m.distance,  # type: ignore[attr-defined]
                "media": {
                    "id": media.pk,
                    "kind": getattr(media, "kind", ""),
                    "sha256": getattr(media, "sha256", ""),
                    "width": getattr(media, "width", None),
                    "height": getattr(media, "height", None),
                    "has_content": bool(getattr(media, "has_content", False)),
                },
            }
        )
    audit(context(request), "api.url.evidence", case, url_id=reported.pk)
    return {"url": url_out(row), "fetches": fetches, "matches": matches}
