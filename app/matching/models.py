from __future__ import annotations

from django.db import models

from app.cases.models import Reference, ReportedUrl
from app.core.fields import EncryptedBinaryField
from app.fetching.models import MediaItem


class Match(models.Model):
    """A fetched image or video that is one of the case's reference images, with how we know."""

    reported_url = models.ForeignKey(ReportedUrl, on_delete=models.CASCADE, related_name="matches")
    media_item = models.ForeignKey(MediaItem, on_delete=models.CASCADE, related_name="matches")
    reference = models.ForeignKey(Reference, on_delete=models.CASCADE, related_name="matches")
    method = models.CharField(max_length=40)
    distance = models.FloatField()
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["media_item", "reference"], name="match_unique_media_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.distance:g}"


class VideoHash(models.Model):
    """The vPDQ hash (app/matching/vpdq.py) of a reference video or of a fetched video: one PDQ
    hash a second of video, beside the keyframes the image stages look at.

    Exactly one of ``reference`` and ``media_item`` is set; both cascade, so erasing a case or a
    reference erases its video hashes too.
    """

    reference = models.OneToOneField(
        Reference, null=True, blank=True, on_delete=models.CASCADE, related_name="video_hash"
    )
    media_item = models.OneToOneField(
        MediaItem, null=True, blank=True, on_delete=models.CASCADE, related_name="video_hash"
    )
    # vpdq.vpdq_to_bytes, encrypted like reference fingerprints: a hash a second outlines the video.
    features = EncryptedBinaryField()
    # Reference videos only: the frames hashed between those a second (vpdq.vpdq_hash_reference),
    # compared with but never exported. Same storage form.
    between = EncryptedBinaryField()
    frames = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)  # timestamp of the last hashed frame
    version = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reference__isnull=False, media_item__isnull=True)
                | models.Q(reference__isnull=True, media_item__isnull=False),
                name="video_hash_of_reference_or_media",
            ),
        ]

    def __str__(self) -> str:
        return f"vPDQ {self.frames} frames"
