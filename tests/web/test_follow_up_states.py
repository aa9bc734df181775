"""Results list each file once per link after re-checks; the case page and list show follow-up (issue 11.10, 11.12)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from app.fetching.models import FetchRecord, MediaItem
from app.matching.models import Match
from app.tracking.models import UrlStatus, UrlTracking
from tests.tracking.helpers import seed_notice
from tests.web.helpers import make_evidence


def _get(client, member, url: str, lang: str) -> str:
    client.force_login(member.user)
    client.cookies["django_language"] = lang
    return client.get(url).content.decode()


def _recheck_same_file(reported, media, match) -> None:
    """What a re-check leaves behind: a second visit that found the very same file again."""
    first = media.fetch
    again = FetchRecord.objects.create(
        reported_url=reported, requested_url=first.requested_url, final_url=first.final_url,
        resolved_ip=first.resolved_ip, http_status=200, fetched_at=timezone.now(), sha256=first.sha256,
        status=first.status,
    )  # fmt: skip
    copy = MediaItem.objects.create(
        fetch=again, url=media.url, kind="image", mime="image/jpeg", sha256=media.sha256,
        width=media.width, height=media.height, size=media.size,
    )  # fmt: skip
    Match.objects.create(
        reported_url=reported, media_item=copy, reference=match.reference, method=match.method,
        distance=match.distance, details=match.details,
    )  # fmt: skip


def test_one_record_per_file_per_link_after_a_recheck(client, case, owner):
    reported, media, match = make_evidence(case)
    _recheck_same_file(reported, media, match)
    for lang, many in (("en", "2 matches"), ("ko", "일치 2개")):
        results = _get(client, owner, reverse("case_results", args=[case.pk]), lang)
        assert results.count('class="match"') == 1, lang
        detail = _get(client, owner, reverse("case_url_detail", args=[case.pk, reported.pk]), lang)
        assert detail.count('class="match"') == 1, lang
        rows = _get(client, owner, reverse("case_detail", args=[case.pk]), lang)
        assert many not in rows, lang


def test_case_page_shows_what_happened_after_the_request(client, case, owner):
    removed = seed_notice(case, platform="Alpha", regime="kr", status="removed", hours_to_removal=5, n=1)
    back = seed_notice(case, platform="Beta", regime="kr", status="sent", n=2)
    UrlTracking.objects.filter(case=case, reported_url__notice_items__notice=back.notice).update(
        status=UrlStatus.REAPPEARED
    )
    late = seed_notice(
        case, platform="Gamma", regime="kr", status="sent", n=3, sent_at=timezone.now() - timedelta(hours=30)
    )  # 24-hour deadline: passed 6 hours ago
    late.deadline_at = late.sent_at + timedelta(hours=24)
    late.save(update_fields=["deadline_at"])
    waiting = seed_notice(case, platform="Delta", regime="kr", status="sent", n=4, sent_at=timezone.now())
    assert removed and waiting
    words = {
        "en": ("Removed", "Back online", "Past the deadline", "Request sent, waiting", "Found a match"),
        "ko": ("삭제됨", "다시 게시됨", "기한 초과", "요청함 · 기다리는 중", "일치 발견"),
    }
    for lang, (gone, again, overdue, pending, found) in words.items():
        html = _get(client, owner, reverse("case_detail", args=[case.pk]), lang)
        table = html[html.index('id="url-table"') :]
        assert 'data-follow-up="removed"' in table and gone in table, lang
        assert 'data-follow-up="reappeared"' in table and again in table, lang
        assert 'data-follow-up="overdue"' in table and overdue in table, lang
        assert 'data-follow-up="waiting"' in table and pending in table, lang
        assert found not in table, lang  # every matched link here has been followed up


def test_case_list_shows_progress_and_next_deadline(client, case, owner):
    seed_notice(case, platform="Alpha", regime="kr", status="removed", hours_to_removal=5, n=1)
    soon = seed_notice(case, platform="Beta", regime="kr", status="sent", n=2, sent_at=timezone.now())
    english = _get(client, owner, reverse("case_list"), "en")
    assert "1 of 2 links removed" in english
    assert "KST" in english  # the next deadline, with its zone
    korean = _get(client, owner, reverse("case_list"), "ko")
    assert "링크 2개 중 1개 삭제됨" in korean
    local = timezone.localtime(soon.deadline_at, timezone.get_fixed_timezone(9 * 60))
    assert f"{local.year}. {local.month}. {local.day}." in korean
