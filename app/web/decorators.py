from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from app.accounts.models import Role
from app.accounts.selectors import membership_for_user


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in and a member of an organisation; the membership is on request.membership."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = membership_for_user(user=request.user)
        if membership is None:
            raise Http404("No organisation")
        request.membership = membership  # type: ignore[attr-defined]
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
