"""Every element each regime requires, in the text and in the PDF, in Korean and in English."""

from __future__ import annotations

from datetime import date

import pytest

from app.notices.models import Notice
from app.notices.services import notice_drafts_for_case, notice_edit, notice_sign
from tests.notices.conftest import ORG_REPLY as CONTACT
from tests.notices.conftest import pdf_fonts, pdf_text, squash

URLS = ("https://x.com/someone/status/1790000000000000001", "https://pbs.twimg.com/media/GAbCdEf.jpg")
PERSON_CONTACT = "jieun@example.org"  # the person's own: never in a notice by default
SIGNER = "Lee Sumin"

# (regime, lang) -> phrases that carry each required element (besides URLs, contact and signature,
# which every notice is checked for).
ELEMENTS: dict[tuple[str, str], dict[str, list[str]]] = {
    ("take-it-down", "en"): {
        "legal basis": ["TAKE IT DOWN Act (Public Law 119-12), section 3"],
        "identification of the depiction": [
            "Identification of the intimate visual depiction",
            "sufficient to locate it",
        ],
        "good-faith statement of non-consent": [
            "I have a good-faith belief that the intimate visual depiction identified above is not consensual"
        ],
        "48-hour removal + identical copies": ["48 hours", "known identical copies"],
    },
    ("take-it-down", "ko"): {
        "legal basis": ["미국 「TAKE IT DOWN Act」(Public Law 119-12) 제3조"],
        "identification of the depiction": ["친밀한 영상물의 특정", "위치를 충분히 특정할 수 있습니다"],
        "good-faith statement of non-consent": ["동의 없이 게시되었다고 선의로 믿습니다"],
        "48-hour removal + identical copies": ["48시간 이내에", "동일한 복제물"],
    },
    ("dsa", "en"): {
        "legal basis": ["Article 16 of Regulation (EU) 2022/2065 (Digital Services Act)"],
        "(a) explanation why illegal": ["Explanation of why the content is illegal", "illegal under the law"],
        "(b) exact electronic location": ["exact URLs"],
        "(d) bona fide statement": [
            "I confirm my bona fide belief that the information and allegations contained in this notice are accurate and complete."
        ],
    },
    ("dsa", "ko"): {
        "legal basis": ["EU 「디지털서비스법」(Regulation (EU) 2022/2065) 제16조"],
        "(a) explanation why illegal": ["콘텐츠가 불법인 이유", "EU 법에 따라 불법"],
        "(b) exact electronic location": ["게시물의 위치(URL)"],
        "(d) bona fide statement": [
            "이 신고에 포함된 정보와 주장이 정확하고 완전하다고 선의로 믿고 있음을 확인합니다"
        ],
    },
    ("dmca", "en"): {
        "legal basis": ["17 U.S.C. § 512(c)(3)"],
        "identification of the copyrighted work": [
            "Identification of the copyrighted work",
            "owns the copyright",
        ],
        "identification of infringing material": [
            "Identification of the infringing material and its location"
        ],
        "good-faith statement": ["not authorized by the copyright owner, its agent, or the law"],
        "accuracy + penalty of perjury": [
            "information in this notification is accurate",
            "under penalty of perjury",
            "authorized to act on behalf of the owner",
        ],
    },
    ("dmca", "ko"): {
        "legal basis": ["17 U.S.C. 제512조(c)(3)"],
        "identification of the copyrighted work": ["저작물의 특정", "저작권을 보유한 사진"],
        "identification of infringing material": ["침해 게시물의 특정 및 위치(URL)"],
        "good-faith statement": ["허락되지 않았다고 선의로 믿습니다"],
        "accuracy + penalty of perjury": [
            "이 통지의 내용이 정확하며",
            "위증 시 처벌",
            "권리자를 대리할 권한",
        ],
    },
    ("kr", "ko"): {
        "form title": ["불법촬영물등 유통 신고·삭제요청서"],
        "legal basis": ["「전기통신사업법」 제22조의5"],
        "ground": [
            "「성폭력범죄의 처벌 등에 관한 특례법」 제14조(카메라 등을 이용한 촬영)",
            "제14조의2(허위영상물 등의 반포등)",
        ],
        "requester and victim": ["피해자: 김지은", "신고인: Alpha Support Centre"],
        "post titles": ["게시물 제목"],
        "description of the material": ["불법촬영물등의 내용", "허위영상물(딥페이크)"],
        "request to delete or block": ["지체 없이 삭제하거나 접속을 차단하여 주시기 바랍니다"],
    },
    ("kr", "en"): {
        "form title": ["불법촬영물등 유통 신고·삭제요청서"],
        "legal basis": ["Article 22-5 of the Telecommunications Business Act"],
        "ground": [
            "Article 14 (filming using cameras, etc.)",
            "Article 14-2 (distribution of false video products, etc.)",
        ],
        "requester and victim": ["Person depicted: 김지은", "Sent on their behalf by: Alpha Support Centre"],
        "post titles": ["Post titles"],
        "description of the material": ["Description of the material", "sexual deepfake"],
        "request to delete or block": ["delete or block access to the material above without delay"],
    },
    ("uk", "en"): {
        "legal basis": ["Online Safety Act 2023", "section 66B of the Sexual Offences Act 2003"],
        "identification": ["The URLs above show an intimate image"],
        "lack of consent": ["did not consent to this image being shared"],
    },
    ("uk", "ko"): {
        "legal basis": ["「온라인안전법」(Online Safety Act 2023)", "제66B조"],
        "identification": ["위 URL에는 피해자의 친밀한 이미지가 게시되어 있습니다"],
        "lack of consent": ["공유에 동의하지 않았습니다"],
    },
    ("platform", "en"): {
        "policy basis": ["your policy against non-consensual intimate imagery"],
        "lack of consent": ["did not consent to this image being published"],
    },
    ("platform", "ko"): {
        "policy basis": ["귀사의 비동의 친밀 이미지 금지 정책"],
        "lack of consent": ["게시에 동의하지 않았습니다"],
    },
}

COMMON = {
    "en": {
        "signature": [f"Signature: /s/ {SIGNER}, Caseworker"],
        "contact": [f"Email: {CONTACT}"],
        "authorisation": [
            "is authorised to act for the person depicted (authorisation dated 2026-11-20; how it was given: signed consent form)"
        ],
        "no image": ["No image is attached to this notice."],
    },
    "ko": {
        "signature": [f"서명: /s/ {SIGNER}(Caseworker)"],
        "contact": [f"연락처(이메일): {CONTACT}"],
        "authorisation": ["피해자를 대리하여 신고함", "위임일: 2026-11-20, 위임 방법: signed consent form"],
        "no image": ["어떠한 이미지도 첨부하지 않았습니다"],
    },
}


@pytest.fixture
def signed_notice(matched_case, owner):  # type: ignore[no-untyped-def]
    case = matched_case(*URLS, authorised_on=date(2026, 11, 20), authorisation_method="signed consent form")

    def make(regime: str, lang: str) -> Notice:
        [notice] = notice_drafts_for_case(
            case=case, actor=owner.user, regime=regime, lang=lang, with_pdf=False
        )
        if notice.lang != lang:
            notice = notice_edit(notice=notice, actor=owner.user, lang=lang)
        assert (notice.regime, notice.lang) == (regime, lang)
        return notice_sign(notice=notice, actor=owner.user, signer_name=SIGNER, signer_role="Caseworker")

    return make


def test_every_regime_and_language_is_covered():
    assert {r for r, _ in ELEMENTS} == {"take-it-down", "dsa", "dmca", "kr", "uk", "platform"}
    assert len(ELEMENTS) == 12


@pytest.mark.parametrize(("regime", "lang"), sorted(ELEMENTS))
def test_required_elements_in_text_and_pdf(signed_notice, regime, lang, tmp_path):
    notice = signed_notice(regime, lang)
    text = notice.subject + "\n" + notice.body
    pdf = squash(pdf_text(bytes(notice.pdf), tmp_path))
    required = {**ELEMENTS[(regime, lang)], **COMMON[lang], "locations": list(URLS)}
    for element, phrases in required.items():
        for phrase in phrases:
            assert phrase in text, f"{regime}/{lang}: {element!r} missing from text: {phrase!r}"
            assert squash(phrase) in pdf, f"{regime}/{lang}: {element!r} missing from PDF: {phrase!r}"
    assert "b''" not in text and "Additional information" not in text and "추가 설명" not in text
    assert PERSON_CONTACT not in text
    assert "given by" not in text and "Person depicted: the person depicted" not in text
    # No image bytes, only evidence: every match's SHA-256 is cited.
    for item in notice.items.all():
        media_sha = item.reported_url.matches.first().media_item.sha256
        assert media_sha in text
    assert b"/Subtype /Image" not in bytes(notice.pdf)


def test_pdf_embeds_a_korean_font(signed_notice, tmp_path):
    notice = signed_notice("kr", "ko")
    fonts = pdf_fonts(bytes(notice.pdf), tmp_path)
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(" yes " in row for row in rows), fonts  # embedded
    assert any("NotoSansCJK" in row for row in rows), fonts
    assert "불법촬영물등" in pdf_text(bytes(notice.pdf), tmp_path)


def test_victim_signing_for_themselves_does_not_claim_an_ngo(matched_case, victim, tmp_path):
    case = matched_case(URLS[0])
    [notice] = notice_drafts_for_case(case=case, actor=None, regime="take-it-down", lang="en", with_pdf=False)
    signed = notice_sign(notice=notice, actor=victim.user, signer_name="Kim Jieun")
    # The TAKE IT DOWN Act does not require the person's name: least disclosure leaves it out.
    assert "on their behalf" not in signed.body and "김지은" not in signed.body
    assert "Signature: /s/ Kim Jieun" in signed.body
