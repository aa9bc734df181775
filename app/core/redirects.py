"""The one place a ``next`` address from the browser is read: only paths on this site come out."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The request's ``next`` (POST first, then GET) when it stays on this site, else ``default``.

    A ``startswith("/")`` check is not enough: browsers read ``/\\evil.example/`` as
    ``//evil.example/``. Django's check knows these spellings, and we only accept plain paths so
    a link never points to another scheme or host even if ALLOWED_HOSTS lists several.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    ):
        return target
    return default
