"""A match in plain words, the same for letters and pages, in Korean and English."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from app.matching.labels import describe_match


@pytest.mark.parametrize(
    ("method", "distance", "details", "kind", "certainty"),
    [
        ("pdq", 0.0, {"pdq_distance": 0}, "same", "certain"),
        ("pdq", 26.0, {"pdq_distance": 26}, "same", "likely"),
        ("pdq-trim", 12.0, {}, "edited", "very_likely"),
        ("pdq-dihedral", 2.0, {}, "mirrored", "certain"),
        ("orb-homography", 24.92, {"inliers": 41}, "edited", "very_likely"),
        ("orb-similarity-mirror", 30.1, {"inliers": 19}, "mirrored", "likely"),
        ("orb-similarity", 20.0, {"inliers": 120}, "edited", "certain"),
        ("orb-similarity", 33.0, {"inliers": 120, "guided": True, "seed_inliers": 12}, "edited", "likely"),
    ],
)
def test_describe_match(method, distance, details, kind, certainty):
    d = describe_match(method, distance, details)
    assert (d.kind, d.certainty) == (kind, certainty)


@pytest.mark.parametrize(
    ("lang", "what", "sure"),
    [
        ("en", "Same photo, cropped or edited", "Very likely"),
        ("ko", "같은 사진(일부를 잘라내거나 편집함)", "거의 확실함"),
    ],
)
def test_template_filter_speaks_plainly(lang, what, sure):
    match = {"method": "orb-homography", "distance": 24.92, "details": {"inliers": 41}}
    with translation.override(lang):
        text = Template(
            "{% load jium %}{% with d=m|match_plain %}{{ d.what }} · {{ d.how_sure }}{% endwith %}"
        ).render(Context({"m": match}))
    assert text == f"{what} · {sure}"
    assert "orb" not in text and "24" not in text
