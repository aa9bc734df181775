"""Takedown notices: one per recipient per case, drafted, reviewed, signed, then sent or submitted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from app.cases.models import Case, ReportedUrl
from app.core.fields import EncryptedBinaryField, EncryptedTextField
from app.platforms.models import Platform


class RegimeCode(models.TextChoices):
    TAKE_IT_DOWN = "take-it-down", _("TAKE IT DOWN Act (US)")
    DSA = "dsa", _("Digital Services Act, Art. 16 (EU)")
    DMCA = "dmca", _("DMCA copyright notice (US)")
    KR = "kr", _("Telecommunications Business Act Art. 22-5 (Korea)")
    UK = "uk", _("Online Safety Act (UK)")
    PLATFORM = "platform", _("Platform policy")
    # A minor's case: child-protection law, removal and preservation.
    KR_MINOR = (
        "kr-minor",
        _("Youth Protection Act with Telecommunications Business Act Art. 22-5 (Korea, minor)"),
    )
    TAKE_IT_DOWN_MINOR = "take-it-down-minor", _("TAKE IT DOWN Act and 18 U.S.C. § 2258A (US, minor)")
    DSA_MINOR = "dsa-minor", _("Digital Services Act, Art. 16, child sexual abuse (EU, minor)")
    UK_MINOR = "uk-minor", _("Protection of Children Act 1978 (UK, minor)")
    PLATFORM_MINOR = "platform-minor", _("Child sexual abuse material (minor)")


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("Draft — needs review")
    SIGNED = "signed", _("Signed — ready to send")
    SENT = "sent", _("Sent by email")
    SUBMITTED = "submitted", _("Submitted through the platform")


class SubmissionChannel(models.TextChoices):
    """How a notice submitted by hand reached the platform."""

    WEB_FORM = "web_form", _("The platform's web form")
    IN_APP = "in_app", _("The platform's app or report button")
    EMAIL = "email", _("Email from our own mailbox")
    POST = "post", _("Post or fax")
    OTHER = "other", _("Another way")


class Notice(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    platform = models.ForeignKey(Platform, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who receives it: a platform slug, "abuse:<email>" for a hosting provider found over RDAP,
    # or "host:<domain>" when no contact could be found.
    recipient_key = models.CharField(max_length=400)
    recipient_name = models.CharField(max_length=300)
    regime = models.CharField(max_length=20, choices=RegimeCode.choices)
    lang = models.CharField(max_length=8, choices=settings.LANGUAGES)
    channel_kind = models.CharField(max_length=10)  # email | web_form | in_app
    channel_address = models.CharField(max_length=500, blank=True)
    channel_confirmed = models.BooleanField(default=False)
    state = models.CharField(
        max_length=10, choices=NoticeState.choices, default=NoticeState.DRAFT, db_index=True
    )
    subject = EncryptedTextField()
    body = EncryptedTextField()
    # The free-text part a caseworker may edit: extra facts that help the platform decide.
    statement = EncryptedTextField()
    signer_name = EncryptedTextField()
    signer_role = models.CharField(max_length=200, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_error = models.CharField(max_length=500, blank=True)
    # The reply address the notice gives, when a caseworker chose one for this notice: "chosen" (an
    # address they typed) or "person" (the person's own, picked after a warning). Empty: the
    # organisation's reply address, read when the notice is written.
    contact_email = models.CharField(max_length=320, blank=True)
    contact_source = models.CharField(max_length=10, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # How a notice submitted by hand reached the platform, and the platform's reference for it.
    submitted_channel = models.CharField(max_length=10, blank=True, choices=SubmissionChannel.choices)
    submitted_reference = models.CharField(max_length=200, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    pdf = EncryptedBinaryField()
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Re-drafting a case updates its open draft for a recipient instead of adding another.
            models.UniqueConstraint(
                fields=["case", "recipient_key"],
                condition=Q(state="draft"),
                name="notice_one_draft_per_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name} ({self.regime}, {self.lang})"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None and bool(self.signer_name)


class NoticeUrl(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="items")
    reported_url = models.ForeignKey(ReportedUrl, on_delete=models.CASCADE, related_name="notice_items")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["notice", "reported_url"], name="notice_url_unique")]

    def __str__(self) -> str:
        return f"notice {self.notice_id}: url {self.reported_url_id}"
