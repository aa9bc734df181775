from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    KR = "KR", _("South Korea")
    JP = "JP", _("Japan")
    US = "US", _("United States")
    GB = "GB", _("United Kingdom")
    IE = "IE", _("Ireland")
    DE = "DE", _("Germany")
    FR = "FR", _("France")
    AU = "AU", _("Australia")
    OTHER = "--", _("Another country")


# The zone most of a country's people live in; an organisation elsewhere picks its own.
COUNTRY_TIME_ZONES = {
    "KR": "Asia/Seoul",
    "JP": "Asia/Tokyo",
    "US": "America/New_York",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "AU": "Australia/Sydney",
}


def time_zone_for_country(country: str) -> str:
    return COUNTRY_TIME_ZONES.get(country, "UTC")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("This is not a time zone we know, e.g. Asia/Seoul."), code="time_zone"
        ) from exc


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True)
    caseworkers_see_assigned_only = models.BooleanField(
        _("caseworkers see only cases assigned to them"), default=False
    )
    # Off by default so the quick start stays simple; staff who enrolled are always asked for a code.
    require_two_factor = models.BooleanField(_("staff must use two-step login"), default=False)
    # Who may do what cannot be undone or opens a case to someone new. Off: only organisation
    # admins; caseworkers may ask an admin to erase (the request is in the audit log).
    caseworkers_may_erase = models.BooleanField(_("caseworkers may erase cases"), default=False)
    caseworkers_may_create_victim_accounts = models.BooleanField(
        _("caseworkers may set up accounts for the people they help"), default=False
    )
    # The signature block and sender identity an NGO uses in notices.
    notice_sender_name = models.CharField(_("sender name in notices"), max_length=200, blank=True)
    notice_sender_email = models.EmailField(_("sender email in notices"), blank=True)
    # One zone for everybody in the organisation: colleagues reading in Korean and in English
    # must see the same deadline, so the zone does not follow the reader's language.
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.KR)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Seoul", validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class Role(models.TextChoices):
    ADMIN = "admin", _("Organisation admin")
    CASEWORKER = "caseworker", _("Caseworker")
    VICTIM = "victim", _("Person we help")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CASEWORKER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One organisation per person keeps "which organisation am I acting for" unambiguous.
            models.UniqueConstraint(fields=["user"], name="membership_one_org_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def is_staff_role(self) -> bool:
        return self.role in (Role.ADMIN, Role.CASEWORKER)


class AuditEvent(models.Model):
    """Who saw or changed what. Holds identifiers and action names only, never case content."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    # Plain ids instead of foreign keys: erasing a case removes its events by case_id, and the
    # record of the erasure itself must survive the rows it names.
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
