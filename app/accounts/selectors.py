from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from app.accounts.models import AuditEvent, Membership, Organization, Role


def membership_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("organization").filter(user_id=user.pk).first()


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization).select_related("user").order_by("user__username")
    )


def audit_event_list(*, organization: Organization, case_id: int | None = None) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(organization=organization).select_related("actor")
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs


def membership_may_erase_cases(*, membership: Membership) -> bool:
    """Organisation admins always; caseworkers only when the organisation allows it."""
    if membership.role == Role.ADMIN:
        return True
    return membership.role == Role.CASEWORKER and membership.organization.caseworkers_may_erase


def membership_may_create_victim_accounts(*, membership: Membership) -> bool:
    if membership.role == Role.ADMIN:
        return True
    return (
        membership.role == Role.CASEWORKER and membership.organization.caseworkers_may_create_victim_accounts
    )


def case_erasure_requests(*, organization: Organization, case_id: int) -> QuerySet[AuditEvent]:
    """Caseworkers' requests that an admin erase this case, newest first."""
    return audit_event_list(organization=organization, case_id=case_id).filter(action="case.erase_request")
