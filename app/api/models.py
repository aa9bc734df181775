"""Per-user API tokens. Only a SHA-256 of each token is stored; the token itself is shown once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from app.core.fields import EncryptedTextField


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, so people can tell their tokens apart; too short to be guessed from.
    prefix = models.CharField(max_length=16)
    # Plain SHA-256 is enough: tokens carry 256 random bits, so there is nothing to brute-force.
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Optional: a token given to a script for a project can end by itself.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class ApiJobState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Working")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ApiJob(models.Model):
    """Work an API call started and a worker finishes (drafting notices...): what the 202's poll link reads."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    # Erasing the case erases its jobs: a job's result names the case's notices.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=ApiJobState.choices, default=ApiJobState.QUEUED)
    result = models.JSONField(default=dict)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


WEBHOOK_EVENTS = (
    "url.matched",
    "url.failed",
    "notice.signed",
    "notice.sent",
    "url.removed",
    "url.reappeared",
    "deadline.passed",
)


class WebhookEndpoint(models.Model):
    """An address of the organisation's own system that Jium tells about events (Standard Webhooks)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    # The signing secret ("whsec_" + base64), encrypted at rest: it lets anyone forge our events.
    secret = EncryptedTextField()
    # After a rotation the old secret keeps signing too (a second signature) until this moment, so the
    # receiving system can switch secrets without refusing a single delivery. Encrypted like the secret.
    previous_secret = EncryptedTextField()
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} -> {self.url}"


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt's outcome: the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40)
    # Ids and states only (case, URL, notice ids): never names, addresses of the person, or images.
    payload = models.JSONField(default=dict)
    state = models.CharField(
        max_length=10, choices=WebhookDeliveryState.choices, default=WebhookDeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # Stable code of the last failure (app/lib/http.py codes, "http_status", "disabled"): pages show it
    # in the reader's language; last_error keeps the English detail.
    error_code = models.CharField(max_length=40, blank=True)
    # When the worker tries again (pending deliveries only): the delivery log shows it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} -> endpoint {self.endpoint_id} ({self.state})"
