"""The one place an address from the browser (``next``, Referer) is turned into a redirect target."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_path(request: HttpRequest, target: str, default: str = "") -> str:
    """``target`` when it is a path on this site, else ``default``.

    A ``startswith("/")`` check is not enough: browsers read ``/\\evil.example/`` as
    ``//evil.example/``. Django's check knows these spellings, and we only accept plain paths so
    a link never points to another scheme or host even if ALLOWED_HOSTS lists several.
    """
    if (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and url_has_allowed_host_and_scheme(target, allowed_hosts=set())
    ):
        return target
    return default


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The request's ``next`` (POST first, then GET) when it stays on this site, else ``default``."""
    return safe_path(request, request.POST.get("next") or request.GET.get("next") or "", default)


def safe_referer(request: HttpRequest, default: str = "") -> str:
    """The page the request came from, as a path, when it is on this site."""
    parts = urlsplit(request.META.get("HTTP_REFERER", ""))
    if not parts.path or parts.netloc not in ("", request.get_host()):
        return default
    return safe_path(request, parts.path + (f"?{parts.query}" if parts.query else ""), default)
