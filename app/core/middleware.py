from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserTimezoneMiddleware:
    """Show every time in the reader's organisation's zone, so colleagues see the same deadline.

    The language does not change the zone: a Korean and an English reader of one organisation read
    the same clock. Without an organisation (login page) the language's usual zone is used.
    The membership loaded here is left on the request for the views and templates.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from app.accounts.selectors import membership_for_user

        zone: zoneinfo.ZoneInfo | None = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_for_user(user=user)
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                zone = membership.organization.zone
        if zone is None:
            try:
                zone = zoneinfo.ZoneInfo(
                    settings.LANGUAGE_TIME_ZONES.get(translation.get_language() or "en", "UTC")
                )
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)


class NoStoreMiddleware:
    """Case pages must not linger in a shared browser's cache or back history."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response
