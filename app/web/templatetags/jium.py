from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

METHOD_LABELS = {
    "pdq": _("Same picture"),
    "pdq-dihedral": _("Same picture, flipped or rotated"),
    "pdq-trim": _("Same picture, borders cut off"),
    "orb-similarity": _("Same picture, resized or cropped"),
    "orb-homography": _("Same picture, edited or photographed"),
}


@register.filter
def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


@register.filter
def is_hash_method(method: str) -> bool:
    return method.startswith("pdq")


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
        items.append((str(key).replace("_", " "), value))
    return items
