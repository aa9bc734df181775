"""The person-facing error and the clock shared by the tracking steps."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


class TrackingError(ValueError):
    """A step that cannot be done now; the message is meant for the person."""


def _now() -> datetime:
    return timezone.now()
