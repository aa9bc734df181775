"""The Django admin: off unless JIUM_ADMIN_ENABLED, and then only after two-step login.

The admin lists every organisation's data and can move people between organisations, so a
password alone must never open it: it is django-otp's OTPAdminSite, which requires a confirmed
authenticator verified in this session (enrol one at /account/two-factor/ first).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.urls import path
from django_otp.admin import OTPAdminSite


def admin_urlpatterns() -> list[Any]:
    if not settings.JIUM_ADMIN_ENABLED:
        return []
    # Every app registers on django.contrib.admin.site: turn that one site into the OTP one.
    admin.site.__class__ = OTPAdminSite
    return [path("admin/", admin.site.urls)]
