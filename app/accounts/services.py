from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.text import slugify

from app.accounts.models import AuditEvent, Membership, Organization, Role, time_zone_for_country


def organization_create(
    *, name: str, slug: str | None = None, country: str | None = None, time_zone: str | None = None
) -> Organization:
    """A new organisation; its time zone follows its country unless given."""
    country = country or settings.JIUM_COUNTRY
    base = slugify(slug or name) or "org"
    candidate = base
    n = 1
    while Organization.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return Organization.objects.create(
        name=name, slug=candidate, country=country, time_zone=time_zone or time_zone_for_country(country)
    )


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    username: str,
    password: str | None,
    role: str = Role.CASEWORKER,
    email: str = "",
    actor: User | None = None,
) -> Membership:
    user = User.objects.create_user(username=username, email=email, password=password)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit_record(
        organization=organization, actor=actor, action="member.create", object_type="user", object_id=user.pk
    )
    return membership


def member_set_role(*, membership: Membership, role: str, actor: User | None) -> Membership:
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="member.role",
        object_type="user",
        object_id=membership.user_id,
        detail={"role": role},
    )
    return membership


def member_remove(*, membership: Membership, actor: User | None) -> None:
    org = membership.organization
    user_id = membership.user_id
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    membership.delete()
    audit_record(organization=org, actor=actor, action="member.remove", object_type="user", object_id=user_id)


def audit_record(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    case_id: int | None = None,
    object_type: str = "",
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        case_id=case_id,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
    )


@transaction.atomic
def demo_setup() -> tuple[Membership, str | None]:
    """The quick-start organisation and its first admin; the password is returned once, only on creation."""
    existing = Membership.objects.filter(organization__slug="demo", user__username="demo").first()
    if existing is not None:
        return existing, None
    org = Organization.objects.filter(slug="demo").first() or organization_create(
        name="Demo NGO", slug="demo"
    )
    password = secrets.token_urlsafe(12)
    membership = member_create(organization=org, username="demo", password=password, role=Role.ADMIN)
    return membership, password
