from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization
from app.core.fields import EncryptedBinaryField, EncryptedTextField


class Jurisdiction(models.TextChoices):
    KR = "KR", _("South Korea")
    US = "US", _("United States")
    EU = "EU", _("European Union")
    UK = "UK", _("United Kingdom")
    OTHER = "other", _("Other")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CaseKind(models.TextChoices):
    """What a case stands for. A hash list imported for the whole organisation lives in a case of
    its own (every hash belongs to a case: matching, the shared index, access and erasure are built
    on that), but there is no person behind it: pages leave out what only applies to a person."""

    PERSON = "person", _("A person's case")
    HASH_LIST = "hash_list", _("Hash list")


class AgeGroup(models.TextChoices):
    """Whether the person depicted is (or was, when the images were made) a minor.

    Under 18 — under 19 by the Korean rule (청소년성보호법 제2조제1호). "Not sure" is handled
    exactly like "minor": the cost of treating an adult as a minor is a few missing thumbnails,
    the cost of the reverse is holding child sexual abuse material.
    """

    ADULT = "adult", _("Adult (18 or older, 19 in Korea, when the images were made)")
    MINOR = "minor", _("Under 18 (under 19 in Korea) when the images were made")
    UNSURE = "unsure", _("Not sure")


class Case(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="cases")
    alias = models.CharField(
        _("alias"), max_length=100, help_text=_("A name for this case that does not identify the person.")
    )
    real_name = EncryptedTextField(_("real name (optional)"))
    contact = EncryptedTextField(_("contact details"))
    jurisdiction = models.CharField(_("where the person lives"), max_length=8, choices=Jurisdiction.choices)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.PERSON)
    keep_originals = models.BooleanField(
        _("keep original reference images (encrypted)"),
        default=False,
        help_text=_("Off: images are hashed and then deleted at once."),
    )
    keep_evidence = models.BooleanField(
        _("keep copies of found images as evidence (encrypted)"), default=False
    )
    age_group = models.CharField(
        _("age of the person in the images"), max_length=8, choices=AgeGroup.choices, default=AgeGroup.ADULT
    )
    # Korea's PIPA (제22조의2): under 14, consent comes from the legal guardian.
    under_14 = models.BooleanField(_("under 14 now"), default=False)
    guardian_name = EncryptedTextField(_("legal guardian's name"))
    guardian_relation = models.CharField(_("relationship to the person"), max_length=100, blank=True)
    guardian_consent_on = models.DateField(_("date the guardian consented"), null=True, blank=True)
    # A minor's name never goes into a notice unless a caseworker turns this on for the case.
    minor_name_in_notices = models.BooleanField(_("put the young person's name in requests"), default=False)
    # The person's written authorisation for the organisation to act for them.
    authorised_on = models.DateField(_("authorisation date"), null=True, blank=True)
    authorisation_method = models.CharField(_("how authorisation was given"), max_length=200, blank=True)
    authorisation_letter = EncryptedBinaryField()
    # Whether notices name the person: "" follows each law (named only where the law requires it),
    # "include" / "omit" is the caseworker's recorded choice for this case.
    notice_name = models.CharField(
        _("the person's name in notices"), max_length=10, blank=True,
        choices=[("", _("Only where the law requires it")), ("include", _("Always")), ("omit", _("Never"))],
    )  # fmt: skip
    authorisation_letter_name = models.CharField(max_length=200, blank=True)
    assigned_to = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_cases")
    victim_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="own_cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.alias

    @property
    def is_hash_list(self) -> bool:
        return self.kind == CaseKind.HASH_LIST

    @property
    def is_minor(self) -> bool:
        """A minor's case, or one where nobody is sure: no media may be stored, shown or asked for."""
        return self.age_group != AgeGroup.ADULT

    @property
    def may_keep_media(self) -> bool:
        return not self.is_minor

    @property
    def needs_guardian(self) -> bool:
        return self.is_minor and self.under_14


class WhitelistEntry(models.Model):
    """A URL prefix or account that belongs to the person and must never be reported."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="whitelist")
    value = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "value"], name="whitelist_unique_per_case")]

    def __str__(self) -> str:
        return self.value


class ReferenceSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded image")
    HASH_IMPORT = "hash_import", _("Imported hash")
    DEVICE = "device", _("Fingerprint made on the person's device")


class Reference(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="references")
    label = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, choices=ReferenceSource.choices, default=ReferenceSource.UPLOAD)
    pdq_hex = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField(default=0)
    # The whole fingerprint (Fingerprint.to_bytes), encrypted: its keypoint features could be
    # partly inverted into a rough picture.
    fingerprint = EncryptedBinaryField()
    # Its PDQ hashes only (as given, 7 rotations/flips, border-trimmed; a hash-only fingerprint,
    # app.matching.services.reference_index_hashes), in plain: PDQ hashes are what hash-list
    # partners receive anyway, and the shared PDQ index is rebuilt from this column without
    # decrypting ~100 KB per reference. Erased with the row. NULL: not filled by its writer
    # (the index then reads the fingerprint).
    pdq_hashes = models.BinaryField(null=True, blank=True, editable=False)
    # Counts the in-place changes of ``fingerprint`` (the same picture sent again with what the
    # stored one lacks: features, band hashes, face boxes). Worker processes key their cached
    # matchers on it (matching.selectors): the encrypted column's length need not change.
    fingerprint_rev = models.PositiveIntegerField(default=0, editable=False)
    hash_versions = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original = EncryptedBinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "pdq_hex"], name="reference_unique_hash_per_case"),
        ]

    def __str__(self) -> str:
        return self.label or f"reference {self.pk}"


class FingerprintIntake(models.Model):
    """A single-use, expiring link a caseworker gives the person, so they can make fingerprints
    of their images on their own device (/fingerprint/) and send them straight into the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="fingerprint_intakes")
    # Only a hash of the link's secret is stored: the link itself is shown once.
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    references_added = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"intake link {self.pk}"


class UrlState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    FETCHING = "fetching", _("Checking")
    MATCHED = "matched", _("Found a match")
    NO_MATCH = "no_match", _("No match")
    FAILED = "failed", _("Could not check")
    WHITELISTED = "whitelisted", _("Belongs to the person (never reported)")


FINAL_URL_STATES = (UrlState.MATCHED, UrlState.NO_MATCH, UrlState.FAILED, UrlState.WHITELISTED)


class ReportedUrl(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="urls")
    url = models.CharField(max_length=4000)
    normalized_url = models.CharField(max_length=4000)
    # Hash of normalized_url: unique indexes on 4,000-character text are not portable.
    url_key = models.CharField(max_length=64)
    host = models.CharField(max_length=255, db_index=True)
    state = models.CharField(max_length=20, choices=UrlState.choices, default=UrlState.QUEUED, db_index=True)
    error = models.CharField(max_length=500, blank=True)
    scan_attempts = models.PositiveIntegerField(default=0)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "url_key"], name="reported_url_unique_per_case"),
        ]
        indexes = [
            models.Index(fields=["case", "state"]),
            # Other cases of the organisation reporting the same address (fetching.reuse).
            models.Index(fields=["url_key"], name="reported_url_key"),
        ]

    def __str__(self) -> str:
        return self.normalized_url

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_URL_STATES


class HotlineReport(models.Model):
    """The caseworker's own record that a minor's case was reported to a hotline or the police."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hotline_reports")
    hotline = models.ForeignKey(
        "platforms.Hotline", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name as it was when reported: directory rows can be corrected or removed later.
    hotline_name = models.CharField(max_length=200)
    reported_at = models.DateTimeField()
    # The hotline's report number, when it gave one.
    reference = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reported_at", "id"]

    def __str__(self) -> str:
        return f"{self.hotline_name} {self.reported_at:%Y-%m-%d}"
