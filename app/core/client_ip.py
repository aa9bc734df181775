"""The client's address for login throttling (django-axes), read from the proxy only when told to.

Behind nginx every request comes from 127.0.0.1, so throttling by REMOTE_ADDR would let anyone
lock everybody out. With ``TRUSTED_PROXY_COUNT`` = N (the proxies in front of Jium, usually 1),
the address is the one the nearest of them appended to X-Forwarded-For, counted from the right:
entries further left were written by the client and can say anything. Without it the header is
ignored, so a direct client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
