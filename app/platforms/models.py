"""The platform directory: who hosts what, and where they take removal requests.

Rows come from the shipped data file (``data/platforms.json``) and can be corrected by an
organisation admin. A field changed locally is listed in ``local_edits`` and a newer data file
never overwrites it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB_FORM = "web_form", _("Web form")
    IN_APP = "in_app", _("In-app report only")


class PlatformKind(models.TextChoices):
    HOST = "host", _("Hosts content")
    SEARCH = "search", _("Search engine (delisting only)")


class Regime(models.Model):
    """A legal basis for a removal request, with the citations and authority names notices use."""

    code = models.SlugField(max_length=30, unique=True)
    name_en = models.CharField(max_length=200)
    name_ko = models.CharField(max_length=200)
    # Citations and authority names as the readers of each language write them.
    citation_en = models.TextField(blank=True)
    citation_ko = models.TextField(blank=True)
    ground_en = models.TextField(blank=True)
    ground_ko = models.TextField(blank=True)
    escalation_en = models.TextField(blank=True)
    escalation_ko = models.TextField(blank=True)
    # Child-protection regimes: the request to preserve the material for law enforcement.
    preservation_en = models.TextField(blank=True)
    preservation_ko = models.TextField(blank=True)
    deadline_hours = models.PositiveIntegerField(null=True, blank=True)
    # Whether a valid notice under this law must name the person depicted. When it need not, the
    # person's name stays out of notices unless the case chooses otherwise (least disclosure).
    name_required = models.BooleanField(default=False)
    verified_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    local_edits = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def text(self, field: str, lang: str) -> str:
        return str(getattr(self, f"{field}_{'ko' if lang == 'ko' else 'en'}", "") or "")


class Platform(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The name as Korean readers know it, when it differs (e.g. "구글 검색(검색 결과 제외)").
    name_ko = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=PlatformKind.choices, default=PlatformKind.HOST)
    # ASCII (punycode) host names; a name also covers its subdomains.
    domains = models.JSONField(default=list, blank=True)
    # Short-link hosts: the link is followed (safe fetcher) to find the real page first.
    shorteners = models.JSONField(default=list, blank=True)
    # Legal regimes this platform accepts, in order of preference.
    regimes = models.JSONField(default=list, blank=True)
    # Languages a notice may be written in, preferred first; empty when unknown.
    languages = models.JSONField(default=list, blank=True)
    stopncii_partner = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    verified_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    # Names of fields (and "channels") corrected locally; the data file never overwrites them.
    local_edits = models.JSONField(default=list, blank=True)
    data_version = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def display_name(self, lang: str | None) -> str:
        return self.name_ko if (lang or "").startswith("ko") and self.name_ko else self.name


class Channel(models.Model):
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # An email address, a form URL, or (in-app) the app's reporting path in plain words.
    address = models.CharField(max_length=500, blank=True)
    regimes = models.JSONField(default=list, blank=True)  # empty: any the platform accepts
    instructions_en = models.TextField(blank=True)
    instructions_ko = models.TextField(blank=True)
    # Whether the source confirms this channel; unconfirmed ones are shown with a warning.
    confirmed = models.BooleanField(default=False)
    verified_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    priority = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.platform}: {self.kind} {self.address}"

    def instructions(self, lang: str) -> str:
        return self.instructions_ko if lang == "ko" and self.instructions_ko else self.instructions_en


class HotlineKind(models.TextChoices):
    HOTLINE = "hotline", _("Child-protection hotline")
    POLICE = "police", _("Police")
    SUPPORT = "support", _("Support for the young person")
    HASHING = "hashing", _("Hashing on the young person's own device")


class Hotline(models.Model):
    """Where a minor's case is reported, by country: editable directory data, never template text.

    ``country`` uses the case jurisdiction codes (KR, US, EU, UK); "*" is the fallback for
    everywhere else (the INHOPE member hotline of the person's country).
    """

    slug = models.SlugField(max_length=60, unique=True)
    country = models.CharField(max_length=8, db_index=True)
    kind = models.CharField(max_length=10, choices=HotlineKind.choices)
    name_en = models.CharField(max_length=200)
    name_ko = models.CharField(max_length=200)
    # What to open or dial: a web address, a phone number, or both ("1366 / 02-735-8994").
    url_or_phone = models.CharField(max_length=300)
    description_en = models.TextField(blank=True)
    description_ko = models.TextField(blank=True)
    # Escalation drafts of a minor's case go to these first (hotline and police).
    escalate = models.BooleanField(default=False)
    # Whether the source confirms this contact; unconfirmed ones are shown with a warning.
    confirmed = models.BooleanField(default=False)
    verified_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    priority = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)
    local_edits = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "slug"]

    def __str__(self) -> str:
        return self.name_en

    def name(self, lang: str) -> str:
        return self.name_ko if lang == "ko" and self.name_ko else self.name_en

    def description(self, lang: str) -> str:
        return self.description_ko if lang == "ko" and self.description_ko else self.description_en

    @property
    def url(self) -> str:
        """The web address to link to, when the contact is one."""
        first = self.url_or_phone.split(" ")[0]
        return first if first.startswith(("https://", "http://")) else ""

    @property
    def phone(self) -> str:
        """What follows the web address, when the contact gives both ("https://... 02-735-8994")."""
        return self.url_or_phone[len(self.url) :].strip() if self.url else self.url_or_phone


class RdapCache(models.Model):
    """An RDAP answer about a domain or an IP address, so a case of 500 URLs asks once per host."""

    kind = models.CharField(max_length=10)  # "domain" | "ip"
    key = models.CharField(max_length=255)
    ok = models.BooleanField(default=False)
    abuse_email = models.CharField(max_length=320, blank=True)
    holder_name = models.CharField(max_length=300, blank=True)
    rdap_url = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="rdap_cache_unique_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
