"""A match in plain words: what kind of copy it is and how sure Jium is, for letters and screens.

One place so a legal letter, the results page and the evidence PDF never describe the same match
differently. Words are gettext_lazy: render them with ``translation.override(lang)`` for a letter's
language, or as they are on a page (the reader's language). Nothing here shows matcher internals
(distances, point counts); those stay under "technical details" on the pages that want them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The engine's method names, one line each (kept for the technical details on the results page).
METHOD_LABELS: dict[str, Promise] = {
    "pdq": _("Same picture"),
    "pdq-dihedral": _("Same picture, flipped or rotated"),
    "pdq-trim": _("Same picture, borders cut off"),
    "orb-similarity": _("Same picture, resized or cropped"),
    "orb-homography": _("Same picture, edited or photographed"),
    "orb-similarity-mirror": _("Same picture, flipped and resized or cropped"),
    "orb-homography-mirror": _("Same picture, flipped and edited or photographed"),
    "vpdq": _("Same video, compared frame by frame"),
}

# What kind of copy, in three plain answers.
SAME, EDITED, MIRRORED, SAME_VIDEO = "same", "edited", "mirrored", "same_video"
KIND_LABELS: dict[str, Promise] = {
    SAME: _("Same photo"),
    SAME_VIDEO: _("Same video"),
    EDITED: _("Same photo, cropped or edited"),
    MIRRORED: _("Same photo, mirrored"),
}

# How sure. Thresholds follow the engine's own acceptance limits (app/matching/engine.py): a match
# is only ever stored when it passed them, so the lowest level is still "likely", never "maybe".
CERTAIN, VERY_LIKELY, LIKELY = "certain", "very_likely", "likely"
CERTAINTY_LABELS: dict[str, Promise] = {
    CERTAIN: _("Certain"),
    VERY_LIKELY: _("Very likely"),
    LIKELY: _("Likely"),
}

# How the copy was identified, for a letter: the method family, never its numbers.
HOW_FOUND: dict[str, Promise] = {
    "pdq": _("compared by the image's visual fingerprint"),
    "orb": _("compared by distinctive details in the picture"),
    "vpdq": _("compared frame by frame by the video's visual fingerprint"),
}

PDQ_CERTAIN_BITS = 8  # of 256: re-encoding and resizing alone stay below this
PDQ_VERY_LIKELY_BITS = 20  # Meta's match threshold is 31
ORB_CERTAIN_INLIERS = 60  # twice the engine's "weak match" line (30)
ORB_VERY_LIKELY_INLIERS = 30
# vPDQ: share of the video's frames (the fetched video's or the reference's, whichever is
# higher) that are the same picture; a match needs 80 (app/matching/vpdq.py).
VPDQ_CERTAIN_PERCENT = 95


def match_kind(method: str) -> str:
    if method.endswith("-mirror") or method == "pdq-dihedral":
        return MIRRORED
    if method == "vpdq":
        return SAME_VIDEO
    if method == "pdq":
        return SAME
    return EDITED


def match_certainty(
    method: str, distance: float | None = None, details: Mapping[str, Any] | None = None
) -> str:
    details = details if isinstance(details, Mapping) else {}
    if method == "vpdq":
        share = max(
            float(details.get("candidate_percent") or 0), float(details.get("reference_percent") or 0)
        )
        return CERTAIN if share >= VPDQ_CERTAIN_PERCENT else VERY_LIKELY
    if method.startswith("pdq"):
        bits = details.get("pdq_distance", distance)
        if bits is None:
            return LIKELY
        if float(bits) <= PDQ_CERTAIN_BITS:
            return CERTAIN
        return VERY_LIKELY if float(bits) <= PDQ_VERY_LIKELY_BITS else LIKELY
    inliers = details.get("inliers")
    if inliers is None:
        return LIKELY
    if details.get("guided"):
        # Found from a small fit and grown by guided matching (a picture of which only a part
        # survives, as after an "undress" edit): its point count is not comparable.
        return LIKELY
    if int(inliers) >= ORB_CERTAIN_INLIERS:
        return CERTAIN
    return VERY_LIKELY if int(inliers) >= ORB_VERY_LIKELY_INLIERS else LIKELY


@dataclass(frozen=True)
class MatchDescription:
    kind: str  # SAME | EDITED | MIRRORED | SAME_VIDEO
    certainty: str  # CERTAIN | VERY_LIKELY | LIKELY
    what: Promise  # "Same photo, cropped or edited"
    how_sure: Promise  # "Very likely"
    how_found: Promise  # "compared by distinctive details in the picture"

    def __str__(self) -> str:
        return f"{self.what} ({self.how_sure})"


def describe_match(
    method: str, distance: float | None = None, details: Mapping[str, Any] | None = None
) -> MatchDescription:
    """The plain-words description of one match (method, distance and details as stored on Match)."""
    kind = match_kind(method)
    certainty = match_certainty(method, distance, details)
    family = "vpdq" if method == "vpdq" else "pdq" if method.startswith("pdq") else "orb"
    return MatchDescription(
        kind=kind,
        certainty=certainty,
        what=KIND_LABELS[kind],
        how_sure=CERTAINTY_LABELS[certainty],
        how_found=HOW_FOUND[family],
    )


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))
