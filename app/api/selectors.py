"""Reads the API needs beyond the cases selectors: one query per page, not one per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet, Subquery

from app.accounts.models import Organization
from app.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from app.cases.models import ReportedUrl


def api_token_list(
    *, user: User | None = None, organization: Organization | None = None
) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user")
    if user is not None:
        qs = qs.filter(user=user)
    if organization is not None:
        # Tokens of the organisation's members only: an admin never sees another organisation's.
        qs = qs.filter(user__memberships__organization=organization).distinct()
    return qs


@dataclass
class UrlRow:
    reported: ReportedUrl
    matches: list[dict[str, Any]] = field(default_factory=list)
    last_fetch: dict[str, Any] | None = None


FETCH_FIELDS = (
    "reported_url_id",
    "purpose",
    "status",
    "error_code",
    "final_url",
    "http_status",
    "sha256",
    "fetched_at",
)


def reported_url_rows(*, urls: list[ReportedUrl]) -> list[UrlRow]:
    """Each URL with its matches (closest first) and the evidence of its latest fetch, scan or recheck."""
    from app.fetching.models import FetchRecord
    from app.matching.models import Match

    ids = [u.pk for u in urls]
    latest = (
        FetchRecord.objects.filter(reported_url_id=OuterRef("pk"))
        .order_by("-fetched_at", "-id")
        .values("id")[:1]
    )
    fetch_ids = [
        fid
        for fid in ReportedUrl.objects.filter(pk__in=ids)
        .annotate(fid=Subquery(latest))
        .values_list("fid", flat=True)
        if fid is not None
    ]
    # values(): the page's stored bytes and headers are never loaded (or decrypted) for a listing.
    fetches = {
        row["reported_url_id"]: row
        for row in FetchRecord.objects.filter(pk__in=fetch_ids).values(*FETCH_FIELDS)
    }
    matches: dict[int, list[dict[str, Any]]] = {}
    for url_id, reference_id, method, distance in (
        Match.objects.filter(reported_url_id__in=ids)
        .order_by("distance", "id")
        .values_list("reported_url_id", "reference_id", "method", "distance")
    ):
        matches.setdefault(url_id, []).append(
            {"reference_id": reference_id, "method": method, "distance": distance}
        )
    return [UrlRow(reported=u, matches=matches.get(u.pk, []), last_fetch=fetches.get(u.pk)) for u in urls]


def webhook_endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """The organisation's webhooks, each with its latest delivery's state and time (one query)."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-id")
    return WebhookEndpoint.objects.filter(organization=organization).annotate(
        last_state=Subquery(latest.values("state")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
    )


def webhook_endpoint_get(*, organization: Organization, webhook_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(organization=organization, pk=webhook_id).first()


def webhook_delivery_list(*, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    """The latest deliveries, newest first: the delivery log."""
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")[:limit])
