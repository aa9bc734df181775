"""Times: one organisation clock for every reader, Korean formats, the zone always named (issue 11.6, 11.12)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from app.web.templatetags.jium import when
from tests.tracking.helpers import seed_notice
from tests.web.browser import chromium_page, close_connections, log_in


def test_korean_formats_and_zone_named():
    moment = datetime(2026, 12, 4, 20, 13, tzinfo=UTC)  # 5:13 in the morning in Seoul
    with timezone.override("Asia/Seoul"):
        with translation.override("ko"):
            assert when(moment) == "2026. 12. 5. 오전 5:13 KST"
            shown = Template('{{ d|date:"DATE_FORMAT" }}').render(Context({"d": date(2026, 12, 5)}))
            assert shown == "2026. 12. 5."
        with translation.override("en"):
            assert when(moment) == "Dec. 5, 2026, 5:13 a.m. KST"


def test_time_left_reads_naturally_in_korean(client, case, owner):
    tracked = seed_notice(
        case, platform="Example", regime="kr", status="sent", sent_at=timezone.now() - timedelta(minutes=2)
    )
    tracked.deadline_at = timezone.now() + timedelta(hours=23, minutes=59, seconds=30)
    tracked.save(update_fields=["deadline_at"])
    client.force_login(owner.user)
    client.cookies["django_language"] = "ko"
    html = client.get(reverse("tracking_case", args=[case.pk])).content.decode()
    assert re.search(r"23시간\s5\d분\s남음", html), html
    assert "시간, " not in html


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_korean_and_english_colleagues_read_the_same_deadline(live_server, case, owner, teammate):
    sent = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    tracked = seed_notice(
        case, platform="Example", regime="kr", status="sent", sent_at=sent, deadline_hours=24
    )
    seoul = tracked.deadline_at.astimezone(timezone.get_fixed_timezone(9 * 60))
    base = live_server.url
    seen = {}
    try:
        for lang, member in (("ko", owner), ("en", teammate)):
            with chromium_page(base, lang=lang) as page:
                log_in(page, base, member.user.username)
                page.goto(f"{base}/cases/{case.pk}/tracking/")
                seen[lang] = page.locator(f"#notice-{tracked.pk} .facts dd").nth(1).inner_text()
                countdown = page.locator(f"#notice-{tracked.pk} h2 .badge").last.inner_text()
                # Counted from the real sending time: 24 h deadline, sent an hour ago.
                assert re.search(r"22시간\s5\d분|22\shours,\s5\d\sminutes", countdown), countdown
    finally:
        close_connections()
    hour12 = seoul.hour % 12 or 12
    minute = f"{seoul.minute:02d}"
    assert "KST" in seen["ko"] and "KST" in seen["en"], seen
    half = "오전" if seoul.hour < 12 else "오후"
    assert f"{seoul.year}. {seoul.month}. {seoul.day}. {half} {hour12}:{minute} KST" in seen["ko"], seen
    english_time = f"{hour12}:{minute}" if seoul.minute else f"{hour12}"
    assert f"{seoul.day}, {seoul.year}, {english_time} " in seen["en"], seen
