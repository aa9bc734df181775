"""Fetching a reported URL and keeping the evidence of what was found."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from app.cases.models import ReportedUrl, UrlState
from app.fetching.models import FetchRecord, FetchStatus, MediaItem

log = logging.getLogger(__name__)


def reported_url_fetch_and_match(*, reported_url: ReportedUrl, purpose: str = "scan") -> ReportedUrl:
    from app.fetching.scan import scan_url
    from app.lib.http import policy_from_settings
    from app.matching.fingerprint import HASH_VERSIONS
    from app.matching.models import Match
    from app.matching.selectors import case_matcher

    case = reported_url.case
    matcher = case_matcher(case=case)
    outcome = scan_url(
        reported_url.normalized_url,
        policy=policy_from_settings(),
        matcher=matcher,
        max_media=settings.FETCH_MAX_MEDIA_PER_PAGE,
        keep_bytes=case.keep_evidence,
    )
    page = outcome.page
    with transaction.atomic():
        locked = ReportedUrl.objects.select_for_update().filter(pk=reported_url.pk).first()
        if locked is None:  # the case was erased while we were fetching
            return reported_url
        if purpose == "scan":
            # A redelivered task replaces its own earlier, unfinished attempt.
            FetchRecord.objects.filter(reported_url=locked, purpose="scan").delete()
        record = FetchRecord.objects.create(
            reported_url=locked,
            requested_url=reported_url.normalized_url,
            redirect_chain=list(page.redirect_chain) if page else [],
            final_url=(page.final_url if page else "")[:4000],
            resolved_ip=(page.resolved_ip or "") if page else "",
            http_status=page.http_status if page else None,
            headers=dict(page.headers) if page else {},
            fetched_at=page.fetched_at if page else timezone.now(),
            size=page.size if page else None,
            sha256=page.sha256 if page else "",
            status=outcome.status,
            error=(outcome.error or "")[:500],
            purpose=purpose,
        )
        matched = False
        for item in outcome.media:
            fp = getattr(item, "fingerprint", None)
            media = MediaItem.objects.create(
                fetch=record,
                url=item.url[:4000],
                kind=item.kind or "",
                mime=(item.mime or "")[:100],
                sha256=item.sha256 or "",
                width=item.width,
                height=item.height,
                size=getattr(item, "size", None),
                pdq_hex=fp.pdq.hex() if fp is not None else "",
                fingerprint=fp.to_bytes() if fp is not None else None,
                hash_versions=dict(HASH_VERSIONS) if fp is not None else {},
                error=(item.error or "")[:500],
                content=item.content if case.keep_evidence and getattr(item, "content", None) else None,
            )
            if item.match is not None:
                matched = True
                Match.objects.get_or_create(
                    media_item=media,
                    reference_id=int(str(item.match.reference_key)),
                    defaults={
                        "reported_url": locked,
                        "method": item.match.method,
                        "distance": float(item.match.distance),
                        "details": item.match.details,
                    },
                )
        if purpose == "scan":
            if outcome.status != FetchStatus.OK:
                locked.state = UrlState.FAILED
            else:
                locked.state = UrlState.MATCHED if matched else UrlState.NO_MATCH
            locked.error = (outcome.error or "")[:500]
            locked.last_scanned_at = timezone.now()
            locked.save(update_fields=["state", "error", "last_scanned_at", "updated_at"])
    return locked
