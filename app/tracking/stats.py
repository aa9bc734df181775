"""Platform behaviour in numbers, and the server-side SVG charts that show them (no JavaScript).

Aggregates only: the rows carry counts and durations per platform and regime, never a case,
a URL or a person. Notices of minors' cases are counted (``minors``) like any other; a site
outside the platform directory is not named for them (it could point to the young person: a
school's forum), they count under "Other sites". Percentiles use the nearest-rank method (p90 of 10 values is the 9th),
the median the usual midpoint average.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.utils.html import escape
from django.utils.translation import gettext as _

from app.accounts.models import Organization


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class StatRow:
    platform: str
    regime: str
    sent: int = 0
    removed: int = 0
    removed_within_deadline: int = 0
    refused: int = 0
    # How many of the notices were sent in a minor's case (a count only).
    minors: int = 0
    hours: list[float] = field(default_factory=list, repr=False)

    @property
    def share_within_deadline(self) -> float | None:
        return None if not self.sent else self.removed_within_deadline / self.sent

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90_hours(self) -> float | None:
        return nearest_rank(self.hours, 90)

    def export(self) -> dict[str, object]:
        data = asdict(self)
        del data["hours"]
        share = self.share_within_deadline
        data["share_removed_within_deadline"] = None if share is None else round(share, 4)
        data["median_hours_to_removal"] = None if self.median_hours is None else round(self.median_hours, 2)
        data["p90_hours_to_removal"] = None if self.p90_hours is None else round(self.p90_hours, 2)
        return data


@dataclass
class Stats:
    by_platform: list[StatRow]
    by_regime: list[StatRow]
    by_platform_regime: list[StatRow]
    total: StatRow


EXPORT_FIELDS = (
    "platform", "regime", "sent", "removed", "removed_within_deadline", "share_removed_within_deadline",
    "median_hours_to_removal", "p90_hours_to_removal", "refused", "minors",
)  # fmt: skip


def _add(
    row: StatRow,
    status: str,
    sent_at: datetime,
    deadline_at: datetime | None,
    removed_at: datetime | None,
    minor: bool = False,
) -> None:
    row.sent += 1
    row.minors += int(minor)
    if status == "refused":
        row.refused += 1
    if status == "removed" and removed_at is not None:
        row.removed += 1
        row.hours.append((removed_at - sent_at).total_seconds() / 3600)
        if deadline_at is not None and removed_at <= deadline_at:
            row.removed_within_deadline += 1


def stats_compute(
    *, organization: Organization, since: datetime | None = None, until: datetime | None = None
) -> Stats:
    from app.tracking.models import NoticeTracking

    qs = NoticeTracking.objects.filter(organization=organization)
    if since is not None:
        qs = qs.filter(sent_at__gte=since)
    if until is not None:
        qs = qs.filter(sent_at__lt=until)
    rows = qs.values_list(
        "platform_name",
        "regime",
        "status",
        "sent_at",
        "deadline_at",
        "removed_at",
        "platform_key",
        "case__age_group",
    )
    other = _("Other sites")
    return stats_from_rows(
        (
            # Directory platforms have a slug; RDAP contacts and bare hosts have "abuse:"/"host:" keys.
            other if age != "adult" and ":" in key else platform,
            regime,
            status,
            sent_at,
            deadline_at,
            removed_at,
            age != "adult",
        )
        for platform, regime, status, sent_at, deadline_at, removed_at, key, age in rows
    )


def stats_from_rows(
    rows: Iterable[tuple[str, str, str, datetime, datetime | None, datetime | None, bool]],
) -> Stats:
    platforms: dict[str, StatRow] = {}
    regimes: dict[str, StatRow] = {}
    pairs: dict[tuple[str, str], StatRow] = {}
    total = StatRow(platform="", regime="")
    for platform, regime, status, sent_at, deadline_at, removed_at, minor in rows:
        for row in (
            platforms.setdefault(platform, StatRow(platform=platform, regime="")),
            regimes.setdefault(regime, StatRow(platform="", regime=regime)),
            pairs.setdefault((platform, regime), StatRow(platform=platform, regime=regime)),
            total,
        ):
            _add(row, status, sent_at, deadline_at, removed_at, minor)
    return Stats(
        by_platform=sorted(platforms.values(), key=lambda r: (-r.sent, r.platform)),
        by_regime=sorted(regimes.values(), key=lambda r: (-r.sent, r.regime)),
        by_platform_regime=sorted(pairs.values(), key=lambda r: (r.platform, r.regime)),
        total=total,
    )


# ---- SVG -------------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    values: list[float | None]  # one per series
    texts: list[str]  # what is written at the end of each bar


def bar_chart_svg(
    *, title: str, bars: list[Bar], series: list[str], max_value: float, width: int = 640, desc: str = ""
) -> str:
    """A horizontal grouped bar chart as standalone SVG markup; every text is escaped here."""
    colours = ("#3d6b8c", "#b7791f", "#6b8e23")
    label_w, pad, bar_h, gap = 200, 8, 16, 10
    group_h = bar_h * len(series) + gap
    legend_h = 22 if len(series) > 1 else 0
    height = 34 + legend_h + max(1, len(bars)) * group_h + pad
    plot_w = width - label_w - 90
    scale = plot_w / max_value if max_value > 0 else 0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" aria-labelledby="t d">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(desc or title)}</desc>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    y = 34
    if len(series) > 1:
        x = label_w
        for i, name in enumerate(series):
            parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colours[i % 3]}"/>')
            parts.append(f'<text x="{x + 16}" y="{y}" font-size="12" fill="#222">{escape(name)}</text>')
            x += 30 + 8 * len(name)
        y += legend_h
    if not bars:
        parts.append(f'<text x="0" y="{y + 14}" font-size="13" fill="#555">–</text>')
    for bar in bars:
        label = bar.label if len(bar.label) <= 28 else bar.label[:27] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * len(series) / 2 + 4}" font-size="12" text-anchor="end" '
            f'fill="#222">{escape(label)}</text>'
        )
        for i, value in enumerate(bar.values):
            w = 0 if value is None else max(1.0, value * scale)
            by = y + i * bar_h
            parts.append(
                f'<rect x="{label_w}" y="{by + 2}" width="{w:.1f}" height="{bar_h - 4}" fill="{colours[i % 3]}"/>'
            )
            parts.append(
                f'<text x="{label_w + w + 6:.1f}" y="{by + bar_h - 4}" font-size="11" fill="#222">'
                f"{escape(bar.texts[i])}</text>"
            )
        y += group_h
    parts.append("</svg>")
    return "".join(parts)
