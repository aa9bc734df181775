"""When to look again. Framework-free so the bench and the tests can reason about it directly.

Open URLs are checked every 6 h for the first 3 days after the notice, then daily until day 14,
then weekly until the case is closed. Removed URLs are checked weekly for a while (a URL that comes
back is reopened) and then left alone. Every interval gets a random extra 0-20 %, so URLs from
one bulk send drift apart and never all fall due in the same minute.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
JITTER = 0.2
FIRST_CHECK = 6 * HOUR
# How long a URL handed to a worker stays claimed before the dispatcher may hand it out again.
LEASE = timedelta(minutes=30)


def base_interval(*, age: timedelta, removed: bool) -> timedelta:
    if removed:
        return WEEK
    if age < 3 * DAY:
        return 6 * HOUR
    if age < 14 * DAY:
        return DAY
    return WEEK


def jittered(interval: timedelta, rng: random.Random | None = None) -> timedelta:
    r = (rng or random).random()
    return interval * (1 + JITTER * r)


def next_check(
    *,
    now: datetime,
    started_at: datetime,
    removed_since: datetime | None,
    watch_removed_for: timedelta = timedelta(days=90),
    rng: random.Random | None = None,
) -> datetime | None:
    """The next time to check a URL; None once a removal has held for ``watch_removed_for``."""
    if removed_since is not None and now - removed_since >= watch_removed_for:
        return None
    interval = base_interval(age=now - started_at, removed=removed_since is not None)
    return now + jittered(interval, rng)


def first_check(*, started_at: datetime, rng: random.Random | None = None) -> datetime:
    return started_at + jittered(FIRST_CHECK, rng)
