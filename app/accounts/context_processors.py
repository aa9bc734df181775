from typing import Any

from django.http import HttpRequest

from app.accounts.selectors import membership_for_user


def membership(request: HttpRequest) -> dict[str, Any]:
    if not hasattr(request, "_membership_cache"):
        request._membership_cache = membership_for_user(user=request.user) if hasattr(request, "user") else None  # type: ignore[attr-defined]
    return {"membership": request._membership_cache}  # type: ignore[attr-defined]
