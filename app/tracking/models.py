"""Tracking a sent notice until its content is gone: per-URL re-checks, deadlines, escalation, watches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization
from app.cases.models import Case, ReportedUrl
from app.core.fields import EncryptedBinaryField, EncryptedTextField
from app.fetching.models import FetchRecord
from app.notices.models import Notice
from app.platforms.models import Platform


class UrlStatus(models.TextChoices):
    OPEN = "open", _("Still online")
    PARTLY = "partly", _("Partly removed")
    REMOVED = "removed", _("Removed")
    REAPPEARED = "reappeared", _("Back online")


STILL_UP = (UrlStatus.OPEN, UrlStatus.PARTLY, UrlStatus.REAPPEARED)


class UrlTracking(models.Model):
    """One reported URL under watch after a notice named it."""

    reported_url = models.OneToOneField(ReportedUrl, on_delete=models.CASCADE, related_name="tracking")
    # Denormalised so the org-wide overdue list and statistics need no join through cases.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="url_trackings")
    status = models.CharField(max_length=12, choices=UrlStatus.choices, default=UrlStatus.OPEN)
    flagged = models.BooleanField(default=False)  # came back after removal; cleared by a person
    started_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    reappeared_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    still_matching = models.BooleanField(default=True)
    check_count = models.PositiveIntegerField(default=0)
    # None: not scheduled (tracking closed). The dispatcher reads only rows due on this index.
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["next_check_at"], name="tracking_url_next_check"),
            models.Index(fields=["organization", "status"], name="tracking_url_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.reported_url_id} {self.status}"

    @property
    def is_up(self) -> bool:
        return self.status in STILL_UP


class CheckReason(models.TextChoices):
    STILL_UP = "still_up", _("The matching image is still there")
    PARTLY = "partly", _("Some matching images are gone")
    GONE_STATUS = "gone_status", _("The page no longer exists")
    REMOVED_PAGE = "removed_page", _("The site shows a 'content removed' page")
    NO_MATCH = "no_match", _("The page no longer shows the image")
    INCONCLUSIVE = "inconclusive", _("Could not tell; will try again")
    MANUAL = "manual", _("Marked by a person")


class UrlCheck(models.Model):
    """One re-check, pointing at the fetch evidence it was decided on."""

    tracking = models.ForeignKey(UrlTracking, on_delete=models.CASCADE, related_name="checks")
    fetch = models.ForeignKey(FetchRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=12, choices=UrlStatus.choices)
    reason = models.CharField(max_length=20, choices=CheckReason.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    still_matching = models.BooleanField(default=False)
    matched_media = models.PositiveIntegerField(default=0)
    marker = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.status}"


class NoticeStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Received by the platform")
    PARTLY = "partly", _("Partly removed")
    REMOVED = "removed", _("Removed")
    REFUSED = "refused", _("Refused")
    NO_RESPONSE = "no_response", _("No response")


CLOSED_NOTICE = (NoticeStatus.REMOVED,)


class NoticeTracking(models.Model):
    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, related_name="tracking")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notice_trackings")
    status = models.CharField(max_length=14, choices=NoticeStatus.choices)
    # Copied at start so statistics survive a later edit of the platform directory.
    regime = models.CharField(max_length=20)
    platform_key = models.CharField(max_length=400)
    platform_name = models.CharField(max_length=300)
    sent_at = models.DateTimeField()
    deadline_hours = models.PositiveIntegerField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline_at", "id"]
        indexes = [models.Index(fields=["organization", "status"], name="tracking_notice_org_status")]

    def __str__(self) -> str:
        return f"notice {self.notice_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_NOTICE


class NoticeEvent(models.Model):
    """Every change of a notice's tracking state: when, by whom (None: Jium itself), why."""

    tracking = models.ForeignKey(NoticeTracking, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=14, blank=True)
    to_status = models.CharField(max_length=14, choices=NoticeStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class ReplyKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("They confirmed receipt")
    REMOVED = "removed", _("They say it was removed")
    REFUSED = "refused", _("They refused")
    QUESTION = "question", _("They asked for more information")
    OTHER = "other", _("Other")


class PlatformReply(models.Model):
    tracking = models.ForeignKey(NoticeTracking, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(max_length=14, choices=ReplyKind.choices)
    received_at = models.DateTimeField()
    text = EncryptedTextField()  # pasted or forwarded email: may name the person
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.received_at:%Y-%m-%d}"


class DeadlineOverride(models.Model):
    """An organisation's own deadline for a regime (the built-in defaults are in settings/regime data)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="deadline_overrides"
    )
    regime = models.CharField(max_length=20)
    hours = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "regime"], name="deadline_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.regime}: {self.hours} h"


class Regulator(models.Model):
    """An authority a complaint can go to. Editable data with a verified_on date, never template text."""

    code = models.SlugField(max_length=30, unique=True)
    regimes = models.JSONField(default=list, blank=True)  # regime codes it enforces
    jurisdictions = models.JSONField(default=list, blank=True)  # case jurisdictions it covers
    name_en = models.CharField(max_length=200)
    name_ko = models.CharField(max_length=200)
    complaint_url = models.CharField(max_length=500, blank=True)
    email = models.CharField(max_length=320, blank=True)
    postal_address = models.TextField(blank=True)
    phone = models.CharField(max_length=60, blank=True)
    notes_en = models.TextField(blank=True)
    notes_ko = models.TextField(blank=True)
    verified_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en

    def name(self, lang: str) -> str:
        return self.name_ko if lang == "ko" and self.name_ko else self.name_en

    def notes(self, lang: str) -> str:
        return self.notes_ko if lang == "ko" and self.notes_ko else self.notes_en


class RemovalMarker(models.Model):
    """Text or a final-URL fragment that means "this content was removed" (per platform, or generic)."""

    platform = models.ForeignKey(Platform, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=[("text", _("Page text")), ("url", _("Final address"))])
    pattern = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.pattern


class EscalationKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder to the platform")
    HOSTING = "hosting", _("Hosting provider's abuse contact")
    DELISTING = "delisting", _("Search engine delisting request")
    REGULATOR = "regulator", _("Complaint to the regulator")
    # A minor's case: these drafts come first.
    HOTLINE = "hotline", _("Report to the child-protection hotline")
    POLICE = "police", _("Report to the police")


class EscalationState(models.TextChoices):
    DRAFT = "draft", _("Draft — needs review")
    DONE = "done", _("Sent by a person")
    DISMISSED = "dismissed", _("Not needed")


class Escalation(models.Model):
    """A next-step draft for a person to review and send; Jium never sends these on its own."""

    tracking = models.ForeignKey(NoticeTracking, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(max_length=10, choices=EscalationKind.choices)
    state = models.CharField(max_length=10, choices=EscalationState.choices, default=EscalationState.DRAFT)
    lang = models.CharField(max_length=8)
    recipient_name = models.CharField(max_length=300)
    recipient_address = models.CharField(max_length=500, blank=True)
    regulator = models.ForeignKey(
        Regulator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = EncryptedTextField()
    body = EncryptedTextField()
    evidence_pdf = EncryptedBinaryField()
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tracking", "kind", "recipient_address"],
                condition=Q(state="draft"),
                name="escalation_one_draft_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.recipient_name}"


class Watch(models.Model):
    """A page re-scanned on a schedule for new copies (a forum board, t.me/s/NAME, a search result)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="watches")
    url = models.CharField(max_length=4000)
    normalized_url = models.CharField(max_length=4000)
    interval_hours = models.PositiveIntegerField(default=24)
    active = models.BooleanField(default=True)
    next_scan_at = models.DateTimeField(null=True, blank=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    scan_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["next_scan_at"], name="tracking_watch_next_scan")]

    def __str__(self) -> str:
        return self.normalized_url


class AlertKind(models.TextChoices):
    REMOVED = "removed", _("Removed")
    REAPPEARED = "reappeared", _("Back online")
    OVERDUE = "overdue", _("Deadline passed")
    REUPLOAD = "reupload", _("New copy found")


class Alert(models.Model):
    """Something a caseworker should look at; also what notification emails are about."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tracking_alerts")
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    reported_url = models.ForeignKey(
        ReportedUrl, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    watch = models.ForeignKey(Watch, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} case {self.case_id}"
