"""Issue 11.8: statistics name the legal basis and the platform in the reader's language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from app.platforms.models import Regime
from tests.tracking.helpers import seed_notice


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_stats_show_names_not_codes(client, case, owner, directory, lang):  # type: ignore[no-untyped-def]
    seed_notice(case, platform="Google Search (delisting)", regime="kr", status="removed", hours_to_removal=5,
                deadline_hours=24, n=0)  # fmt: skip
    client.force_login(owner.user)
    client.post(reverse("set_language"), {"language": lang, "next": "/"})
    main = client.get(reverse("tracking_stats")).content.decode().split("<main", 1)[1]
    kr = Regime.objects.get(code="kr")
    assert (kr.name_ko if lang == "ko" else kr.name_en) in main
    assert ">kr<" not in main
    if lang == "ko":
        assert "구글 검색(검색 결과 제외 요청)" in main and "Google Search (delisting)" not in main
    else:
        assert "Google Search (delisting)" in main
