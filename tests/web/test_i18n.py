"""Korean and English are equals: a complete Korean catalogue, the switch, and the organisation's time for both."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.conftest import REPO
from tests.web.helpers import make_evidence

PO = REPO / "locale" / "ko" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, list[str], bool]]:
    entries = []
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if msgid is None:
            continue
        mid = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        strs = [
            "".join(re.findall(r'"(.*)"', m))
            for m in re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        ]
        entries.append((mid, strs, fuzzy))
    return entries


def test_korean_catalogue_is_complete():
    entries = [e for e in _entries(PO.read_text(encoding="utf-8")) if e[0]]
    assert len(entries) > 300
    untranslated = [mid for mid, strs, _f in entries if not all(strs)]
    fuzzy = [mid for mid, _s, f in entries if f]
    assert untranslated == [], f"run makemessages and translate: {untranslated[:10]}"
    assert fuzzy == []
    for mid, strs, _f in entries:
        for placeholder in re.findall(r"%\(\w+\)[sd]", mid):
            assert all(placeholder in s for s in strs), (mid, strs)


@pytest.fixture
def korean_catalogue():
    from django.core.management import call_command
    from django.utils.translation import trans_real

    mo = PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < PO.stat().st_mtime:
        call_command("compilemessages", locale=["ko"], verbosity=0)
        trans_real._translations = {}
        trans_real._default = None
        if hasattr(trans_real.check_for_language, "cache_clear"):
            trans_real.check_for_language.cache_clear()


def test_language_switch_and_seoul_time(client, case, owner, korean_catalogue):
    reported, _media, _match = make_evidence(case)
    record = reported.fetches.get()
    record.fetched_at = datetime(2025, 5, 1, 23, 30, tzinfo=UTC)
    record.save()
    client.force_login(owner.user)
    url = reverse("case_url_detail", args=[case.pk, reported.pk])
    english = client.get(url).content.decode()
    assert "Evidence of the visit" in english
    # The organisation is in Korea: English readers see Seoul time too, with its zone named.
    assert "May 2, 2025" in english and "KST" in english
    client.post(reverse("set_language"), {"language": "ko", "next": url})
    korean = client.get(url).content.decode()
    assert '<html lang="ko">' in korean
    assert "방문 증거" in korean
    assert "Evidence of the visit" not in korean
    # 23:30 UTC on 1 May is 08:30 on 2 May in Seoul.
    assert "2025. 5. 2." in korean and "KST" in korean
