"""Statistics for a seeded set of notices: counts, share in time, median and p90, refusals; exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from app.cases.services import case_create
from app.tracking.models import NoticeTracking
from app.tracking.stats import Bar, bar_chart_svg, nearest_rank, stats_compute
from tests.tracking.helpers import seed_notice

# Platform A (take-it-down, 48 h): removed after 2, 10, 30, 60, 100 h; 1 refused; 1 no response.
A_HOURS = [2, 10, 30, 60, 100]


@pytest.fixture
def seeded(case):  # type: ignore[no-untyped-def]
    n = 0
    for h in A_HOURS:
        seed_notice(
            case, platform="Alpha Video", regime="take-it-down", status="removed", hours_to_removal=h, n=n
        )
        n += 1
    seed_notice(case, platform="Alpha Video", regime="take-it-down", status="refused", n=n)
    seed_notice(case, platform="Alpha Video", regime="take-it-down", status="no_response", n=n + 1)
    # Platform B (kr, 24 h): removed after 5 and 20 h (both in time), 1 partly.
    seed_notice(
        case,
        platform="Beta Board",
        regime="kr",
        status="removed",
        hours_to_removal=5,
        deadline_hours=24,
        n=n + 2,
    )
    seed_notice(
        case,
        platform="Beta Board",
        regime="kr",
        status="removed",
        hours_to_removal=20,
        deadline_hours=24,
        n=n + 3,
    )
    seed_notice(case, platform="Beta Board", regime="kr", status="partly", deadline_hours=24, n=n + 4)
    return case


def test_nearest_rank_and_median():
    assert nearest_rank([], 90) is None
    assert nearest_rank([5], 90) == 5
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(A_HOURS, 90) == 100  # ceil(4.5) = 5th of 5
    assert nearest_rank(A_HOURS, 50) == 30


def test_figures_for_the_seeded_set(seeded, other_org):
    # Another organisation's notices never count.
    other = case_create(organization=other_org, actor=None, alias="x", jurisdiction="US")
    seed_notice(
        other, platform="Alpha Video", regime="take-it-down", status="removed", hours_to_removal=1, n=99
    )

    stats = stats_compute(organization=seeded.organization)
    by_platform = {r.platform: r for r in stats.by_platform}
    a, b = by_platform["Alpha Video"], by_platform["Beta Board"]
    assert (a.sent, a.removed, a.removed_within_deadline, a.refused) == (7, 5, 3, 1)
    assert a.share_within_deadline == pytest.approx(3 / 7)
    assert a.median_hours == 30 and a.p90_hours == 100
    assert (b.sent, b.removed, b.removed_within_deadline, b.refused) == (3, 2, 2, 0)
    assert b.median_hours == pytest.approx(12.5) and b.p90_hours == 20
    assert stats.total.sent == 10 and stats.total.removed == 7 and stats.total.removed_within_deadline == 5
    assert {r.regime: r.sent for r in stats.by_regime} == {"take-it-down": 7, "kr": 3}


def test_stats_page_shows_charts_and_numbers(client, seeded, owner):
    client.force_login(owner.user)
    response = client.get(reverse("tracking_stats"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<svg") == 3 and "Alpha Video" in body
    assert "43% of 7" in body  # share in time, written on the bar
    assert "<script" not in body.split("<main", 1)[1]


def test_exports_hold_aggregates_only(client, seeded, owner):
    client.force_login(owner.user)
    data = json.loads(client.get(reverse("tracking_stats_export", args=["json"])).content)
    rows = {(r["platform"], r["regime"]): r for r in data["rows"]}
    a = rows[("Alpha Video", "take-it-down")]
    assert a["sent"] == 7 and a["removed_within_deadline"] == 3 and a["refused"] == 1
    assert a["share_removed_within_deadline"] == round(3 / 7, 4)
    assert a["median_hours_to_removal"] == 30 and a["p90_hours_to_removal"] == 100
    assert data["total"]["sent"] == 10
    response = client.get(reverse("tracking_stats_export", args=["csv"]))
    text = response.content.decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 2 and {r["platform"] for r in parsed} == {"Alpha Video", "Beta Board"}
    for leak in (seeded.alias, ".example/post", "abuse@example.org"):
        assert leak not in text and leak not in json.dumps(data)
    assert (
        set(parsed[0])
        == set(a)
        == {
            "platform",
            "regime",
            "sent",
            "removed",
            "removed_within_deadline",
            "share_removed_within_deadline",
            "median_hours_to_removal",
            "p90_hours_to_removal",
            "refused",
            "minors",
        }
    )
    assert client.get(reverse("tracking_stats_export", args=["xml"])).status_code == 404


def test_svg_escapes_labels():
    svg = bar_chart_svg(
        title="t", series=["s"], max_value=1, bars=[Bar(label="<script>x</script>", values=[1], texts=["&"])]
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp;" in svg


def test_csv_export_cells_cannot_run_as_formulas(client, case, owner):
    # Platform names come from reported hosts and RDAP holders: anyone can choose them.
    hostile = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]
    for n, name in enumerate(hostile):
        seed_notice(case, platform=name, regime="take-it-down", status="removed", hours_to_removal=3, n=n)
    client.force_login(owner.user)
    text = client.get(reverse("tracking_stats_export", args=["csv"])).content.decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["platform"] for r in parsed) == sorted("'" + name for name in hostile)
    for row in parsed:
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
        assert row["sent"] == "1"  # numbers stay numbers


def test_minors_cases_are_counted_without_their_sites_or_urls(client, case, owner):
    from app.cases.services import case_set_age_group

    adult = case_create(organization=case.organization, actor=owner.user, alias="Adult", jurisdiction="US")
    seed_notice(adult, platform="Alpha Video", regime="take-it-down", status="removed", hours_to_removal=3)
    # An overdue notice of a minor's case to a small site outside the directory.
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    minor = seed_notice(case, platform="schoolboard.example", regime="kr-minor", status="no_response", n=1)
    NoticeTracking.objects.filter(pk=minor.pk).update(platform_key="abuse:abuse@schoolboard.example")
    seed_notice(
        case, platform="Alpha Video", regime="take-it-down-minor", status="removed", hours_to_removal=5, n=2
    )
    client.force_login(owner.user)
    text = client.get(reverse("tracking_stats_export", args=["csv"])).content.decode()
    rows = {(r["platform"], r["regime"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[("Other sites", "kr-minor")]["minors"] == "1"
    assert rows[("Alpha Video", "take-it-down-minor")]["minors"] == "1"
    assert rows[("Alpha Video", "take-it-down")]["minors"] == "0"
    for leak in ("schoolboard", "/post/", case.alias):
        assert leak not in text
    data = json.loads(client.get(reverse("tracking_stats_export", args=["json"])).content)
    assert data["total"]["minors"] == 2 and "schoolboard" not in json.dumps(data)
