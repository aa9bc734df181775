"""Results pages give the conclusion in plain words; matcher figures are folded away (issue 11.9)."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.web.helpers import make_evidence


def _split(html: str) -> tuple[str, str]:
    """The page without its "technical details" boxes, and the boxes' contents."""
    outside, inside = [], []
    rest = html
    while '<details class="tech">' in rest:
        before, _, after = rest.partition('<details class="tech">')
        box, _, rest = after.partition("</details>")
        outside.append(before)
        inside.append(box)
    outside.append(rest)
    return "".join(outside), "".join(inside)


def test_results_say_what_was_found_in_plain_words(client, case, owner):
    reported, _media, _match = make_evidence(case)  # orb-homography, 57 points line up
    client.force_login(owner.user)
    words = {
        "en": (
            "Same photo, cropped or edited",
            "How sure: Very likely",
            "Technical details",
            "Points that line up",
        ),
        "ko": ("같은 사진(일부를 잘라내거나 편집함)", "확실한 정도: 거의 확실함", "기술 정보", None),
    }
    for lang, (what, sure, folded, figure_label) in words.items():
        client.cookies["django_language"] = lang
        for url in (
            reverse("case_results", args=[case.pk]),
            reverse("case_url_detail", args=[case.pk, reported.pk]),
        ):
            html = re.sub(r'data-method="[^"]*"', "", client.get(url).content.decode())  # not shown
            shown, technical = _split(html)
            assert what in shown and sure in shown, (lang, url)
            assert folded in html, (lang, url)
            # Visible text only, figures as whole numbers: a CSRF token, an id in a link or a
            # time such as 5:57 may contain the same digits without showing a figure.
            text = re.sub(r"<[^>]*>", " ", shown)
            for internal in ("orb-homography", "31.50", "57"):
                assert not re.search(rf"(?<![\w.:/-]){re.escape(internal)}(?![\w.:/-])", text), (
                    lang,
                    url,
                    internal,
                )
                assert internal in technical, (lang, url, internal)
            if figure_label:
                assert figure_label in technical and figure_label not in shown
        rows = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        table = rows[rows.index('id="url-table"') :]
        assert what in table and "distance 31" not in table and "거리 31" not in table, lang
