"""Issue 11.3: every channel in the shipped directory has an address its kind can use."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from app.platforms.models import Channel, ChannelKind


def _problem(channel: Channel) -> str | None:
    address = channel.address.strip()
    if channel.kind == ChannelKind.EMAIL:
        try:
            validate_email(address.removeprefix("mailto:"))
        except ValidationError:
            return f"email channel without a valid address: {address!r}"
    elif channel.kind == ChannelKind.WEB_FORM:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in address:
            return f"web form without an http(s) address: {address!r}"
    elif channel.kind == ChannelKind.IN_APP:
        if len(address) < 3:
            return "in-app channel without the steps to report"
    else:
        return f"unknown channel kind {channel.kind!r}"
    return None


def test_every_channel_in_the_directory_has_a_kind_appropriate_address(directory):
    channels = list(Channel.objects.select_related("platform"))
    assert len(channels) > 20
    problems = [f"{c.platform.slug}: {p}" for c in channels if (p := _problem(c))]
    assert problems == []
