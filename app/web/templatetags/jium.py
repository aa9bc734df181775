from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _

from app.fetching.messages import fetch_error_text
from app.matching import labels
from app.platforms.models import ChannelKind

register = template.Library()

# Django's timesince/timeuntil join their parts with gettext(", "); Korean reads "23시간 59분" without
# a comma, so our Korean catalogue translates Django's ", " as a space. Marked here so that
# makemessages keeps that entry instead of dropping it as unused.
gettext_noop(", ")


# The match engine's evidence keys, in words a caseworker can check; unknown keys are shown as they are.
DETAIL_LABELS = {
    "inliers": _("Points that line up"),
    "tentative": _("Points compared"),
    "inlier_ratio": _("Share of points that line up"),
    "inlier_hamming": _("Point difference (lower is closer)"),
    "scale": _("Size change"),
    "spread": _("How widely the points are spread"),
    "pdq_distance": _("Fingerprint difference (bits)"),
    "pdq_threshold": _("Largest difference counted as a match (bits)"),
    "candidate_quality": _("Detail in the found image"),
    "reference_quality": _("Detail in the person's image"),
    "candidate_trimmed": _("Borders removed before comparing"),
    "frame": _("Video frame"),
    "mirrored": _("Flipped left to right"),
    # vPDQ (whole videos, a frame a second): app/matching/vpdq.py
    "candidate_percent": _("Share of the found video's frames in the person's video (%)"),
    "reference_percent": _("Share of the person's video's frames in the found video (%)"),
    "candidate_frames": _("Distinct frames compared in the found video"),
    "reference_frames": _("Distinct frames compared in the person's video"),
    "frames_matched": _("Frames of the found video that match"),
    "from_seconds": _("First matching moment in the found video (seconds)"),
    "to_seconds": _("Last matching moment in the found video (seconds)"),
    "vpdq": _("Whole-video comparison (vPDQ)"),
}


@register.filter
def when(value: Any, arg: str = "DATETIME_FORMAT") -> str:
    """A moment in the organisation's time zone, in the reader's format, with the zone named.

    "2026. 12. 5. 오전 5:13 KST" / "Dec. 5, 2026, 5:13 a.m. KST": colleagues reading in different
    languages see the same clock, and nobody has to guess which one.
    """
    if not isinstance(value, datetime):
        return "" if value in (None, "") else str(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    zone = local.tzname() or ""
    return f"{date_format(local, arg)} {zone}".strip()


@register.filter
def audit_sentence(event: Any) -> str:
    """An audit event as a sentence in the reader's language (history pages)."""
    from app.accounts.audit_text import audit_sentence as sentence

    return sentence(event)


@register.filter
def regime_label(code: str) -> str:
    """A legal basis code ("kr") as its name in the reader's language."""
    from app.platforms.names import regime_name

    return regime_name(str(code or ""))


@register.filter
def platform_label(name: str) -> str:
    """A platform's stored name in the reader's language ("Google Search (delisting)" / "구글 검색(…)")."""
    from app.platforms.names import platform_name

    return platform_name(str(name or ""))


@register.filter
def method_label(method: str) -> str:
    return labels.method_label(method)


@register.filter
def match_plain(match: Any) -> labels.MatchDescription:
    """A Match (or a dict with method/distance/details) in plain words: use .what, .how_sure, .how_found."""
    get = match.get if isinstance(match, dict) else lambda key, default=None: getattr(match, key, default)
    return labels.describe_match(str(get("method", "")), get("distance"), get("details") or {})


@register.filter
def is_hash_method(method: str) -> bool:
    return method.startswith(("pdq", "vpdq"))  # vpdq: mean PDQ bits of the matching frames


@register.filter
def channel_label(kind: str) -> str:
    """How a notice reaches the platform (email, web form, in-app), in the reader's language."""
    return str(ChannelKind(kind).label) if kind in ChannelKind.values else kind


@register.filter
def problem(record: Any) -> str:
    """Why a check failed, in the reader's language.

    The stored reason is an English sentence (often more specific); other languages get the text kept
    for the record's stable error code, or "" so the page shows its own translated fallback.
    """
    reason = str(getattr(record, "error", "") or "")
    if (get_language() or "en").startswith("en"):
        return reason
    return fetch_error_text(str(getattr(record, "error_code", "") or ""))


@register.filter
def detail_items(details: Any) -> list[tuple[str, Any]]:
    """Match details as short key/value pairs (numbers rounded), for the evidence table."""
    if not isinstance(details, dict):
        return []
    items = []
    for key, value in sorted(details.items()):
        if isinstance(value, float):
            value = round(value, 3)
        elif isinstance(value, list | dict):
            text = str(value)
            value = text if len(text) <= 80 else text[:77] + "…"
        if key in ("method", "pdq_distance"):  # already shown: the method in words, the difference once
            continue
        items.append((str(DETAIL_LABELS.get(key, str(key).replace("_", " "))), value))
    return items


@register.filter
def linkable(url: object) -> str:
    """The address when it may be a link (http, https, mailto); "" otherwise, so it stays text."""
    from app.lib.urls import linkable_url

    return linkable_url(url)


@register.filter
def hotline_name(hotline: Any) -> str:
    """A hotline's name in the reader's language."""
    return str(hotline.name((get_language() or "en")[:2]))


@register.filter
def hotline_description(hotline: Any) -> str:
    return str(hotline.description((get_language() or "en")[:2]))
