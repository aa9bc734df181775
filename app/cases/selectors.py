"""Reads for cases, always through the reader's organisation and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from app.accounts.models import Membership, Role
from app.accounts.selectors import membership_for_user
from app.cases.models import FINAL_URL_STATES, Case, HotlineReport, ReportedUrl, UrlState
from app.platforms.models import Hotline


def case_list_for(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Case]:
    """The cases this person may see: their organisation's, narrowed by role and the org's policy."""
    membership = membership_for_user(user=user)
    if membership is None:
        return Case.objects.none()
    return _visible_cases(membership)


def _visible_cases(membership: Membership) -> QuerySet[Case]:
    qs = Case.objects.filter(organization_id=membership.organization_id)
    if membership.role == Role.VICTIM:
        return qs.filter(victim_user_id=membership.user_id)
    if membership.role == Role.CASEWORKER and membership.organization.caseworkers_see_assigned_only:
        return qs.filter(assigned_to__id=membership.user_id).distinct()
    return qs


def case_get_for(*, user: AbstractBaseUser | AnonymousUser, case_id: int) -> Case:
    """The case if this person may see it; 404 otherwise, so other organisations' ids reveal nothing."""
    case = case_list_for(user=user).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


@dataclass(frozen=True)
class CaseProgress:
    total: int
    done: int
    matched: int
    no_match: int
    failed: int
    whitelisted: int
    pending: int

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.done / self.total)

    @property
    def finished(self) -> bool:
        return self.pending == 0


def case_progress(*, case: Case) -> CaseProgress:
    return case_progress_many(case_ids=[case.pk])[case.pk]


def case_progress_many(*, case_ids: list[int]) -> dict[int, CaseProgress]:
    """Progress for several cases in one query (cases without URLs count zero)."""
    rows = (
        ReportedUrl.objects.filter(case_id__in=case_ids)
        .order_by()
        .values("case_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(state__in=FINAL_URL_STATES)),
            matched=Count("id", filter=Q(state=UrlState.MATCHED)),
            no_match=Count("id", filter=Q(state=UrlState.NO_MATCH)),
            failed=Count("id", filter=Q(state=UrlState.FAILED)),
            whitelisted=Count("id", filter=Q(state=UrlState.WHITELISTED)),
        )
    )
    found = {
        row["case_id"]: CaseProgress(
            total=row["total"],
            done=row["done"],
            matched=row["matched"],
            no_match=row["no_match"],
            failed=row["failed"],
            whitelisted=row["whitelisted"],
            pending=row["total"] - row["done"],
        )
        for row in rows
    }
    empty = CaseProgress(total=0, done=0, matched=0, no_match=0, failed=0, whitelisted=0, pending=0)
    return {pk: found.get(pk, empty) for pk in case_ids}


def reported_url_list(*, case: Case, state: str | None = None) -> QuerySet[ReportedUrl]:
    qs = ReportedUrl.objects.filter(case=case).order_by("id")
    if state:
        qs = qs.filter(state=state)
    return qs


def reported_url_get_for(*, case: Case, url_id: int) -> ReportedUrl:
    reported = ReportedUrl.objects.filter(case=case, pk=url_id).first()
    if reported is None:
        raise Http404("No such link")
    return reported


@dataclass(frozen=True)
class MatchSummary:
    method: str
    distance: float
    count: int


def _file_key(url_id: int, reference_id: int, sha256: str, media_url: str) -> tuple[int, int, str]:
    """One image file on one link, matched to one reference: re-checks fetch it again, it stays one."""
    return (url_id, reference_id, sha256 or media_url)


def reported_url_match_summaries(*, url_ids: list[int]) -> dict[int, MatchSummary]:
    """The closest match of each listed URL and how many different files matched, for the URL table."""
    from app.matching.models import Match

    best: dict[int, MatchSummary] = {}
    seen: set[tuple[int, int, str]] = set()
    rows = (
        Match.objects.filter(reported_url_id__in=url_ids)
        .order_by("reported_url_id", "distance", "id")
        .values_list(
            "reported_url_id", "method", "distance", "reference_id", "media_item__sha256", "media_item__url"
        )
    )
    for url_id, method, distance, reference_id, sha256, media_url in rows:
        key = _file_key(url_id, reference_id, sha256, media_url)
        if key in seen:
            continue
        seen.add(key)
        current = best.get(url_id)
        if current is None:
            best[url_id] = MatchSummary(method=method, distance=distance, count=1)
        else:
            best[url_id] = MatchSummary(
                method=current.method, distance=current.distance, count=current.count + 1
            )
    return best


def reported_url_matches_per_file(*, reported_url: ReportedUrl) -> list[Any]:
    """The link's matches, one per file and reference (the latest finding), oldest first.

    A re-check fetches the same file again and records a new match; a letter names the file once.
    """
    from app.matching.models import Match

    latest: dict[tuple[int, int, str], Any] = {}
    for m in Match.objects.filter(reported_url=reported_url).select_related("media_item").order_by("id"):
        latest[_file_key(m.reported_url_id, m.reference_id, m.media_item.sha256, m.media_item.url)] = m
    return sorted(latest.values(), key=lambda m: m.pk)


def reported_url_error_codes(*, url_ids: list[int]) -> dict[int, str]:
    """The error code of each listed URL's latest scan, so failures can be shown in the reader's language."""
    from app.fetching.models import FetchRecord

    rows = (
        FetchRecord.objects.filter(reported_url_id__in=url_ids, purpose="scan")
        .order_by("fetched_at", "id")
        .values_list("reported_url_id", "error_code")
    )
    return dict(rows)  # the latest scan wins


@dataclass
class UrlEvidence:
    reported: ReportedUrl
    fetch: object | None  # fetching.models.FetchRecord
    matches: list[object]  # matching.models.Match, with media_item and reference loaded


@dataclass
class HostGroup:
    host: str
    items: list[UrlEvidence]

    @property
    def match_count(self) -> int:
        return sum(len(item.matches) for item in self.items)


def _evidence_for(urls: list[ReportedUrl]) -> list[UrlEvidence]:
    from app.fetching.models import FetchRecord
    from app.matching.models import Match

    ids = [u.pk for u in urls]
    fetches: dict[int, object] = {}
    for record in FetchRecord.objects.filter(reported_url_id__in=ids, purpose="scan").order_by(
        "fetched_at", "id"
    ):
        fetches[record.reported_url_id] = record  # the latest scan wins
    from app.fetching.models import MediaItem

    matches: dict[int, list[object]] = {}
    found = list(
        Match.objects.filter(reported_url_id__in=ids)
        .select_related("reference", "media_item")
        .defer(
            "reference__fingerprint", "reference__original", "media_item__fingerprint", "media_item__content"
        )
        .order_by("distance", "id")
    )
    # Whether evidence bytes were kept, without loading (and decrypting) them.
    kept = set(
        MediaItem.objects.filter(pk__in=[m.media_item_id for m in found], content__isnull=False).values_list(
            "pk", flat=True
        )
    )
    # The latest record of each file wins (a re-check fetches the same file again): newest first.
    seen: set[tuple[int, int, str]] = set()
    for m in sorted(found, key=lambda m: -m.pk):
        key = _file_key(m.reported_url_id, m.reference_id, m.media_item.sha256, m.media_item.url)
        if key in seen:
            continue
        seen.add(key)
        m.media_item.has_content = m.media_item_id in kept  # type: ignore[attr-defined]
        matches.setdefault(m.reported_url_id, []).append(m)
    for listed in matches.values():
        listed.sort(key=lambda m: (m.distance, m.pk))  # type: ignore[attr-defined]
    return [UrlEvidence(reported=u, fetch=fetches.get(u.pk), matches=matches.get(u.pk, [])) for u in urls]


def case_matches_by_host(*, case: Case, urls: list[ReportedUrl] | None = None) -> list[HostGroup]:
    """Matched links of a case (or of one page of them), grouped by domain, each with its evidence."""
    if urls is None:
        urls = list(matched_url_list(case=case))
    groups: dict[str, HostGroup] = {}
    for item in _evidence_for(urls):
        host = item.reported.host
        if host.startswith("www."):
            host = host[4:]
        groups.setdefault(host, HostGroup(host=host, items=[])).items.append(item)
    return sorted(groups.values(), key=lambda g: (-len(g.items), g.host))


def matched_url_list(*, case: Case) -> QuerySet[ReportedUrl]:
    return ReportedUrl.objects.filter(case=case, state=UrlState.MATCHED).order_by("host", "id")


def reported_url_evidence(*, reported: ReportedUrl) -> UrlEvidence:
    return _evidence_for([reported])[0]


def media_item_get_for(*, case: Case, media_id: int) -> object:
    """A fetched media item of this case (with its kept bytes, if any); 404 for anything else."""
    from app.fetching.models import MediaItem

    if case.is_minor:
        # No media route exists in a minor's case, whatever the item or who asks.
        raise Http404("No such item")
    item = MediaItem.objects.filter(pk=media_id, fetch__reported_url__case=case).first()
    if item is None:
        raise Http404("No such item")
    return item


def case_staff_choices(*, case: Case) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(
            organization_id=case.organization_id, role__in=[Role.ADMIN, Role.CASEWORKER]
        )
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )


def hotlines_for_case(*, case: Case) -> list[Hotline]:
    """Where a minor's case is reported: the country's own contacts, else the INHOPE fallback ("*")."""
    own = list(Hotline.objects.filter(active=True, country=case.jurisdiction).order_by("priority", "slug"))
    return own or list(Hotline.objects.filter(active=True, country="*").order_by("priority", "slug"))


@dataclass
class RoutingRow:
    hotline: Hotline
    reports: list[HotlineReport]


def case_routing(*, case: Case) -> list[RoutingRow]:
    """Each place to report a minor's case, with the caseworker's records of when it was done."""
    reports = list(HotlineReport.objects.filter(case=case).order_by("reported_at", "id"))
    return [
        RoutingRow(hotline=h, reports=[r for r in reports if r.hotline_id == h.pk])
        for h in hotlines_for_case(case=case)
    ]
