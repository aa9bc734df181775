"""The face stage's records: the person's consent, their face embeddings, and possible deepfakes.

A face embedding is biometric data (GDPR special category; PIPA sensitive information): kept only
while the case's face consent stands, encrypted at rest, and erased when consent is withdrawn or
the case is erased. The photos the faces came from are never kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from app.cases.models import Case, ReportedUrl
from app.core.fields import EncryptedBinaryField, EncryptedTextField
from app.fetching.models import MediaItem


class Consenter(models.TextChoices):
    PERSON = "person", _("The person themself")
    GUARDIAN = "guardian", _("Their legal guardian")


class FaceConsent(models.Model):
    """Who agreed to the face stage for this case, when and how. One per case; a withdrawal
    keeps the record (with ``withdrawn_at``) but no embedding survives it."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="face_consent")
    enabled = models.BooleanField(default=False)
    consenter = models.CharField(max_length=10, choices=Consenter.choices, default=Consenter.PERSON)
    # A guardian's name and relationship identify a family member: encrypted like the case's name.
    guardian_name = EncryptedTextField(_("guardian's name"))
    guardian_relationship = models.CharField(_("relationship to the person"), max_length=100, blank=True)
    method = models.CharField(_("how consent was given"), max_length=200)
    consented_at = models.DateTimeField()
    # Which explanation the person was shown (its version and language).
    explanation = models.CharField(max_length=40)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"face consent for case {self.case_id}"


class FaceEmbedding(models.Model):
    """One face of the person, as the model's 128 numbers (encrypted). The photo is gone."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="face_embeddings")
    label = models.CharField(max_length=200, blank=True)  # the photo's file name, for people
    embedding = EncryptedBinaryField()
    face_px = models.PositiveIntegerField(default=0)  # size of the face in the photo
    model_version = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label or f"face {self.pk}"


class PendingFaces(models.Model):
    """A photo with several faces, waiting for a caseworker to say which one is the person's.

    Holds every face's embedding and a small crop (both encrypted) only until the choice is made
    (or for FACE_PENDING_HOURS); the photo itself is already gone.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pending_faces")
    label = models.CharField(max_length=200, blank=True)
    embeddings = EncryptedBinaryField()  # n x 512 bytes
    sizes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label or f"photo {self.pk}"


class FacePendingCrop(models.Model):
    pending = models.ForeignKey(PendingFaces, on_delete=models.CASCADE, related_name="crop_rows")
    index = models.PositiveSmallIntegerField()
    image = EncryptedBinaryField()  # JPEG of the face region only

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"face {self.index + 1}"


class FaceMatchState(models.TextChoices):
    PENDING = "pending", _("Waiting for a person to check")
    CONFIRMED = "confirmed", _("Confirmed: the person's face")
    REJECTED = "rejected", _("Not the person")


class FaceMatch(models.Model):
    """A fetched image or video with a face near one of the person's: a possible deepfake.

    Never used in a notice until a caseworker confirms it.
    """

    reported_url = models.ForeignKey(ReportedUrl, on_delete=models.CASCADE, related_name="face_matches")
    media_item = models.ForeignKey(MediaItem, on_delete=models.CASCADE, related_name="face_matches")
    face = models.ForeignKey(FaceEmbedding, on_delete=models.CASCADE, related_name="matches")
    distance = models.FloatField()
    frame = models.PositiveSmallIntegerField(default=0)
    box = models.JSONField(default=list)
    details = models.JSONField(default=dict)
    # Only the face region, encrypted; never for a minor's case (no media is kept for minors).
    face_crop = EncryptedBinaryField()
    state = models.CharField(max_length=10, choices=FaceMatchState.choices, default=FaceMatchState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["media_item"], name="face_match_one_per_media_item"),
        ]

    def __str__(self) -> str:
        return f"face {self.distance:g} ({self.state})"
