"""The face-stage card on the case page: on or off, how many faces, how many matches to check."""

from __future__ import annotations

from typing import Any

from django import template

from app.cases.models import Case

register = template.Library()


@register.simple_tag
def face_summary(case: Case) -> dict[str, Any]:
    from app.faces import selectors

    consent = selectors.face_consent_for(case=case)
    return {
        "enabled": bool(consent and consent.enabled),
        "faces": selectors.face_list(case=case).count(),
        "to_check": selectors.face_match_counts(case=case)["pending"],
    }
