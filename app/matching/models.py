from __future__ import annotations

from django.db import models

from app.cases.models import Reference, ReportedUrl
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
