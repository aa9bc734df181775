"""Reads for cases, always through the reader's organisation and role."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from app.accounts.models import Membership, Role
from app.accounts.selectors import membership_for_user
from app.cases.models import FINAL_URL_STATES, Case, ReportedUrl, UrlState


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
    counts = ReportedUrl.objects.filter(case=case).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(state__in=FINAL_URL_STATES)),
        matched=Count("id", filter=Q(state=UrlState.MATCHED)),
        no_match=Count("id", filter=Q(state=UrlState.NO_MATCH)),
        failed=Count("id", filter=Q(state=UrlState.FAILED)),
        whitelisted=Count("id", filter=Q(state=UrlState.WHITELISTED)),
    )
    return CaseProgress(pending=counts["total"] - counts["done"], **counts)


def reported_url_list(*, case: Case, state: str | None = None) -> QuerySet[ReportedUrl]:
    qs = ReportedUrl.objects.filter(case=case).order_by("id")
    if state:
        qs = qs.filter(state=state)
    return qs
