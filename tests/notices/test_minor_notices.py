"""A minor's case: child-protection wording per regime, removal and preservation, no name by default."""

from __future__ import annotations

import pytest

from app.notices.services import notice_drafts_for_case
from tests.notices.conftest import pdf_text, squash

URLS = ("https://x.com/someone/status/1790000000000000001",)

# Regime asked for (auto-chosen or picked by a caseworker) -> the minor's version and what it must say.
EXPECTED = {
    ("kr", "ko"): (
        "kr-minor",
        [
            "「전기통신사업법」 제22조의5",
            "「아동·청소년의 성보호에 관한 법률」 제2조제5호·제11조",
            "아동·청소년성착취물",
            "보존하여 주시기 바랍니다",
        ],
    ),
    ("kr", "en"): (
        "kr-minor",
        [
            "Article 22-5 of the Telecommunications Business Act",
            "Article 2(5) and Article 11",
            "preserve the material",
        ],
    ),
    ("take-it-down", "en"): (
        "take-it-down-minor",
        [
            "TAKE IT DOWN Act",
            "18 U.S.C. § 2258A",
            "CyberTipline",
            "preserve it for law enforcement",
            "48 hours",
        ],
    ),
    ("take-it-down", "ko"): ("take-it-down-minor", ["TAKE IT DOWN Act", "18 U.S.C. § 2258A", "1년간 보존"]),
    ("dsa", "en"): (
        "dsa-minor",
        [
            "Article 16(2)(c)",
            "need not contain the name and email address",
            "Directive 2011/93/EU",
            "preserve",
        ],
    ),
    ("dsa", "ko"): ("dsa-minor", ["제16조제2항(c)", "이름과 이메일 주소를 적지 않아도", "보존"]),
    ("uk", "en"): (
        "uk-minor",
        ["Protection of Children Act 1978", "pseudo-photograph", "Internet Watch Foundation", "preserve"],
    ),
    ("uk", "ko"): ("uk-minor", ["「아동보호법」", "인터넷감시재단(IWF)", "보존"]),
    ("dmca", "en"): ("kr-minor", ["Article 22-5"]),  # copyright never fits: the case's own law instead
    ("platform", "en"): ("platform-minor", ["child sexual abuse material", "preserve"]),
}


@pytest.mark.parametrize(("asked", "lang"), sorted(EXPECTED))
def test_child_protection_wording_removal_and_preservation(matched_case, owner, asked, lang, tmp_path):  # type: ignore[no-untyped-def]
    case = matched_case(*URLS, age_group="minor")
    [notice] = notice_drafts_for_case(
        case=case, actor=owner.user, regime=asked, lang=lang, with_pdf=asked == "kr"
    )
    expected_regime, phrases = EXPECTED[(asked, lang)]
    assert notice.regime == expected_regime
    text = notice.subject + "\n" + notice.body
    for phrase in phrases:
        assert phrase in text, f"{asked}/{lang}: missing {phrase!r}"
    assert "김지은" not in text  # the minor's name, never unless a caseworker adds it
    assert ("이름 비공개" if lang == "ko" else "name withheld") in text
    if notice.pdf:
        pdf = bytes(notice.pdf)
        assert b"/Image" not in pdf
        assert squash(phrases[0]) in squash(pdf_text(pdf, tmp_path))


def test_name_only_when_a_caseworker_adds_it(matched_case, owner):  # type: ignore[no-untyped-def]
    case = matched_case(*URLS, age_group="unsure", minor_name_in_notices=True)
    [notice] = notice_drafts_for_case(case=case, actor=owner.user, regime="kr", lang="ko", with_pdf=False)
    assert notice.regime == "kr-minor" and "김지은" in notice.body


def test_adult_case_keeps_the_adult_wording(matched_case, owner):  # type: ignore[no-untyped-def]
    case = matched_case(*URLS)
    [notice] = notice_drafts_for_case(case=case, actor=owner.user, regime="kr", lang="ko", with_pdf=False)
    assert notice.regime == "kr" and "성착취물" not in notice.body
