"""The face-stage card on the case page: on or off, how many faces, how many matches (and links) to check."""

from __future__ import annotations

from typing import Any

from django import template

from app.cases.models import Case, ReportedUrl

register = template.Library()


@register.simple_tag
def face_summary(case: Case) -> dict[str, Any]:
    from app.faces import selectors

    consent = selectors.face_consent_for(case=case)
    return {
        "enabled": bool(consent and consent.enabled),
        "faces": selectors.face_list(case=case).count(),
        "to_check": selectors.face_match_counts(case=case)["pending"],
        "urls_to_check": selectors.reported_urls_with_faces_to_check_count(case=case),
    }


@register.simple_tag
def url_face_counts(reported: ReportedUrl) -> Any:
    """One link's possible deepfakes by state (None when the face stage found nothing there)."""
    from app.faces import selectors

    return selectors.face_match_counts_by_url(url_ids=[reported.pk]).get(reported.pk)
