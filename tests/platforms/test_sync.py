"""The directory loads from the shipped file and updates from a newer one without losing local edits."""

from __future__ import annotations

import json

from django.core.management import call_command

from app.platforms.models import Channel, Platform, Regime
from app.platforms.resolve import resolve_url
from app.platforms.services import DATA_FILE, platform_channels_set, platform_update, platforms_sync


def test_command_loads_and_is_idempotent(db, capsys):
    call_command("platforms_sync")
    first = Platform.objects.count()
    channels = Channel.objects.count()
    # Six regimes, and the child-protection version of five of them (a minor's case).
    assert first >= 30 and Regime.objects.count() == 11
    call_command("platforms_sync", verbosity=0)
    assert Platform.objects.count() == first
    assert Channel.objects.count() == channels
    assert "0 added" not in capsys.readouterr().out


def test_newer_file_updates_but_keeps_local_edits(db, tmp_path):
    platforms_sync()
    reddit = Platform.objects.get(slug="reddit")
    x = Platform.objects.get(slug="x")
    # An NGO corrects Reddit's notes and X's channels.
    platform_update(platform=reddit, actor=None, notes="Our contact at Reddit prefers the web form.")
    platform_channels_set(
        platform=x,
        actor=None,
        channels=[
            {"kind": "email", "address": "ncii@x.example", "confirmed": True, "source": "NGO call 2026-11-20"}
        ],
    )

    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    data["version"] = "2027.01.01"
    for p in data["platforms"]:
        if p["slug"] == "reddit":
            p["notes"] = "upstream note"
            p["domains"].append("reddit.app")
        if p["slug"] == "x":
            p["channels"] = [
                {
                    "kind": "web_form",
                    "address": "https://upstream.example/form",
                    "confirmed": True,
                    "verified_on": "2027-01-01",
                    "source": "upstream",
                }
            ]
        if p["slug"] == "discord":
            p["channels"][0]["address"] = "https://discord.com/report-v2"
    data["platforms"].append(
        {
            "slug": "newhost",
            "name": "New Host",
            "domains": ["newhost.example"],
            "regimes": ["platform"],
            "languages": ["en"],
            "verified_on": "2027-01-01",
            "source": "upstream",
            "channels": [],
        }
    )
    newer = tmp_path / "platforms.json"
    newer.write_text(json.dumps(data), encoding="utf-8")

    result = platforms_sync(path=newer)
    assert result.created == 1 and result.kept_local >= 2
    reddit.refresh_from_db()
    assert reddit.notes == "Our contact at Reddit prefers the web form."  # local edit kept
    assert "reddit.app" in reddit.domains  # untouched field updated
    assert reddit.data_version == "2027.01.01"
    assert list(Platform.objects.get(slug="x").channels.values_list("address", flat=True)) == [
        "ncii@x.example"
    ]
    assert Platform.objects.get(slug="discord").channels.first().address == "https://discord.com/report-v2"
    assert resolve_url("https://newhost.example/a").platform.slug == "newhost"
    assert resolve_url("https://reddit.app/a").platform.slug == "reddit"


def test_hotlines_carry_a_source_and_date_and_keep_local_corrections(db, tmp_path):
    from app.platforms.models import Hotline

    result = platforms_sync()
    assert result.hotlines >= 10
    assert {"KR", "US", "UK", "*"} <= set(Hotline.objects.values_list("country", flat=True))
    assert not Hotline.objects.filter(verified_on=None).exists()
    assert not Hotline.objects.filter(source="").exists()
    iwf = Hotline.objects.get(slug="uk-iwf")
    iwf.url_or_phone = "https://report.iwf.example/"
    iwf.local_edits = ["url_or_phone"]
    iwf.save()
    platforms_sync()
    assert Hotline.objects.get(slug="uk-iwf").url_or_phone == "https://report.iwf.example/"
