from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from app.accounts.models import Membership, Role
from app.accounts.selectors import membership_for_user


def two_factor_redirect(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """Where a logged-in person must go first: the code check if they enrolled, enrolment if the org requires it."""
    from django_otp import user_has_device

    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return None
    query = urlencode({"next": request.get_full_path()})
    if user_has_device(user, confirmed=True):
        return redirect(f"{reverse('two_factor_verify')}?{query}")
    if membership.is_staff_role and membership.organization.require_two_factor:
        return redirect(f"{reverse('two_factor_setup')}?{query}")
    return None


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, a member of an organisation, and past two-step login where it applies.

    The membership is on request.membership.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = membership_for_user(user=request.user)
        if membership is None:
            raise Http404("No organisation")
        request.membership = membership  # type: ignore[attr-defined]
        detour = two_factor_redirect(request, membership)
        if detour is not None:
            return detour
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Organisation admins and caseworkers (not the people they help)."""

    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership.role not in (Role.ADMIN, Role.CASEWORKER):  # type: ignore[attr-defined]
            raise Http404("Not available")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership.role != Role.ADMIN:  # type: ignore[attr-defined]
            raise Http404("Not available")
        return view(request, *args, **kwargs)

    return wrapper
