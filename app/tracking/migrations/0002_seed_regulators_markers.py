"""Editable starting data: regulators for complaint drafts, and generic "content removed" markers.

Names and numbers cited in Jium's reference notes carry verified_on; addresses that were not
checked there are left blank or marked in `source` so an organisation checks them before use.
"""

import datetime

from django.db import migrations

NOTES = "Jium reference notes (notices-and-platforms.md, late 2026)"
VERIFIED = datetime.date(2026, 11, 26)

REGULATORS = [
    {
        "code": "ftc", "regimes": ["take-it-down"], "jurisdictions": ["US"],
        "name_en": "Federal Trade Commission (FTC)", "name_ko": "미국 연방거래위원회(FTC)",
        "complaint_url": "https://reportfraud.ftc.gov/",
        "notes_en": "Enforces the TAKE IT DOWN Act against platforms that do not remove content within 48 hours (from 19 May 2026).",
        "notes_ko": "48시간 이내에 삭제하지 않는 플랫폼에 대해 TAKE IT DOWN 법을 집행합니다(2026년 5월 19일부터).",
        "verified_on": VERIFIED, "source": NOTES + "; complaint_url not verified — check before use",
    },
    {
        "code": "kcsc", "regimes": ["kr"], "jurisdictions": ["KR"],
        "name_en": "Korea Communications Standards Commission (KCSC)", "name_ko": "방송통신심의위원회",
        "phone": "1377", "complaint_url": "https://www.kocsc.or.kr/",
        "notes_en": "Reviews reports (site menu, hotline 1377) and orders deletion or, for overseas sites, blocking; 24-hour target for sexual deepfakes since 2024.",
        "notes_ko": "신고(누리집 메뉴, 국번 없이 1377)를 심의하여 삭제를, 해외 사이트는 접속차단을 요구합니다. 2024년부터 성적 허위영상물은 24시간 내 처리를 목표로 합니다.",
        "verified_on": VERIFIED, "source": NOTES + "; complaint_url not verified; whether the KCSC was renamed in 2025 is unconfirmed",
    },
    {
        "code": "dsc", "regimes": ["dsa"], "jurisdictions": ["EU"],
        "name_en": "Digital Services Coordinator of your Member State", "name_ko": "거주 EU 회원국의 디지털서비스조정관",
        "notes_en": "Each Member State names its own Digital Services Coordinator; a complaint (DSA Article 53) goes to the one where the person lives. Fill in the address.",
        "notes_ko": "각 회원국이 디지털서비스조정관을 지정합니다. 민원(디지털서비스법 제53조)은 당사자가 거주하는 국가의 조정관에게 제출합니다. 주소를 채워 넣으십시오.",
        "verified_on": VERIFIED, "source": NOTES,
    },
    {
        "code": "ofcom", "regimes": ["uk"], "jurisdictions": ["UK"],
        "name_en": "Ofcom", "name_ko": "영국 방송통신규제기관(Ofcom)",
        "complaint_url": "https://www.ofcom.org.uk/",
        "notes_en": "Regulator under the Online Safety Act 2023; sharing intimate images without consent is a priority offence.",
        "notes_ko": "「온라인안전법」(2023)의 규제기관입니다. 동의 없는 친밀한 이미지 공유는 우선 범죄입니다.",
        "verified_on": VERIFIED, "source": NOTES + "; complaint_url not verified — check before use",
    },
]

TEXT_MARKERS = [
    "this content has been removed", "this content is no longer available", "this post has been removed",
    "this post was removed", "this page isn't available", "video has been removed",
    "removed for violating", "게시물이 삭제되었습니다", "삭제된 게시물입니다", "존재하지 않는 게시물입니다",
    "삭제된 게시글입니다", "요청하신 페이지를 찾을 수 없습니다",
]
URL_MARKERS = ["/removed.png", "/removed.jpg", "content_removed", "/removed?"]


def seed(apps, schema_editor):
    Regulator = apps.get_model("tracking", "Regulator")
    RemovalMarker = apps.get_model("tracking", "RemovalMarker")
    for row in REGULATORS:
        Regulator.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    for text in TEXT_MARKERS:
        RemovalMarker.objects.get_or_create(platform=None, kind="text", pattern=text)
    for url in URL_MARKERS:
        RemovalMarker.objects.get_or_create(platform=None, kind="url", pattern=url)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
