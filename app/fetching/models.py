"""Evidence of what Jium fetched: one FetchRecord per scan of a reported URL, one MediaItem per
image or video found on it. Times are UTC; bytes are kept only when the case opted in, encrypted.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from app.accounts.models import Organization
from app.cases.models import Case, ReportedUrl
from app.core.fields import EncryptedBinaryField, EncryptedTextField


class FetchStatus(models.TextChoices):
    OK = "ok", _("Fetched")
    REFUSED = "refused", _("Refused (not a public address)")
    ERROR = "error", _("Failed")


class SharedFetch(models.Model):
    """One organisation's latest fetch of one reported address, for the other cases of that
    organisation that report it within the re-check window (see docs/pipeline.md, "Fetch once").

    ``data`` (encrypted) holds the outcome of the scan as evidence fields and the candidate
    features of every media item (fingerprints of each image / video frame), never bytes, so a
    second case matches its own references without a request. Keyed by the organisation and
    ReportedUrl.url_key: nothing is shared across organisations. Deleted when it expires
    (``fetching.expire_shared_fetches``), and with the case that fetched it (erasure) or when that
    case becomes a minor's case.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    url_key = models.CharField(max_length=64)
    created_by_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    data = EncryptedBinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "url_key"], name="fetching_shared_fetch_per_url")
        ]

    def __str__(self) -> str:
        return f"shared fetch {self.url_key[:12]} of organisation {self.organization_id}"


class FetchRecord(models.Model):
    """Evidence of one fetch of a reported URL: what was asked, where it led, what came back."""

    reported_url = models.ForeignKey(ReportedUrl, on_delete=models.CASCADE, related_name="fetches")
    requested_url = models.CharField(max_length=4000)
    # Every URL requested, in order, from the requested one to the final one.
    redirect_chain = models.JSONField(default=list)
    final_url = models.CharField(max_length=4000, blank=True)
    resolved_ip = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    fetched_at = models.DateTimeField(db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=FetchStatus.choices)
    error = models.CharField(max_length=500, blank=True)
    # Stable identifier of the failure (see app/lib/http.py and app/fetching/scan.py), for the UI.
    error_code = models.CharField(max_length=40, blank=True)
    # "scan" for the first check, "recheck" for later ones (tracking).
    purpose = models.CharField(max_length=20, default="scan")
    page_kind = models.CharField(max_length=10, blank=True)  # html | image | video
    links_found = models.PositiveIntegerField(default=0)
    # The page's <title> (or og:title), so a notice can name the post; encrypted: titles often
    # carry the person's name.
    page_title = EncryptedTextField()
    # More media on the page than the per-page cap: the rest were not checked.
    truncated = models.BooleanField(default=False)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    # The page's bytes, only when the case opted in to keeping evidence copies.
    content = EncryptedBinaryField()
    # True when no request was made for this record: its evidence fields are those of the shared
    # fetch another case of the organisation made (fetched_at is when that request was made).
    reused = models.BooleanField(default=False)
    shared_fetch = models.ForeignKey(
        SharedFetch, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )

    class Meta:
        ordering = ["-fetched_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status} {self.http_status} {self.final_url or self.requested_url}"


class MediaItem(models.Model):
    fetch = models.ForeignKey(FetchRecord, on_delete=models.CASCADE, related_name="media")
    url = models.CharField(max_length=4000)
    # How the page showed it: "direct" (the URL itself), "img", "srcset", "og:image", ...
    source = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=10)  # image | video
    mime = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pdq_hex = models.CharField(max_length=64, blank=True)
    # Fingerprint of the image, or of the video frame that matched best: complete (with local
    # features) for a match, hashes only (PDQ, trimmed PDQ of the first frame) otherwise.
    fingerprint = models.BinaryField(null=True, blank=True)
    # PDQ (hex) of every video frame looked at; empty for images.
    frame_hashes = models.JSONField(default=list, blank=True)
    match_frame = models.PositiveSmallIntegerField(null=True, blank=True)
    hash_versions = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=FetchStatus.choices, default=FetchStatus.OK)
    error = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    # Evidence of the fetch of this file (it may live on another host than the page).
    redirect_chain = models.JSONField(default=list, blank=True)
    final_url = models.CharField(max_length=4000, blank=True)
    resolved_ip = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    # Only when the case opted in to keeping evidence copies.
    content = EncryptedBinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url
