"""Reads of fetch evidence."""

from __future__ import annotations

from django.db.models import QuerySet

from app.cases.models import ReportedUrl
from app.fetching.models import FetchRecord, MediaItem


def fetch_records_for(*, reported_url: ReportedUrl, purpose: str | None = None) -> QuerySet[FetchRecord]:
    """Every fetch of a reported URL, newest first, without kept page bytes."""
    qs = FetchRecord.objects.filter(reported_url=reported_url).defer("content")
    if purpose is not None:
        qs = qs.filter(purpose=purpose)
    return qs.order_by("-fetched_at", "-id")


def fetch_record_latest(*, reported_url: ReportedUrl, purpose: str = "scan") -> FetchRecord | None:
    return fetch_records_for(reported_url=reported_url, purpose=purpose).first()


def media_items_for(*, fetch: FetchRecord) -> QuerySet[MediaItem]:
    """Media found by one fetch, in page order, without fingerprints or kept bytes (both large)."""
    return MediaItem.objects.filter(fetch=fetch).defer("fingerprint", "content").order_by("id")


def media_item_content(*, media_item: MediaItem) -> bytes | None:
    """The kept (decrypted) bytes of a media item, when its case opted in to keeping them."""
    row = MediaItem.objects.filter(pk=media_item.pk).values_list("content", flat=True).first()
    return bytes(row) if row else None
