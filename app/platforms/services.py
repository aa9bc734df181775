"""Loading the shipped platform directory and keeping local corrections across updates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from app.accounts.models import Organization
from app.accounts.services import audit_record
from app.platforms.models import Channel, Hotline, Platform, Regime
from app.platforms.resolve import ascii_host

DATA_FILE = Path(__file__).resolve().parent / "data" / "platforms.json"

PLATFORM_FIELDS = (
    "name", "name_ko", "kind", "domains", "shorteners", "regimes", "languages", "stopncii_partner",
    "notes", "verified_on", "source",
)  # fmt: skip
REGIME_FIELDS = (
    "name_en", "name_ko", "citation_en", "citation_ko", "ground_en", "ground_ko",
    "escalation_en", "escalation_ko", "preservation_en", "preservation_ko", "deadline_hours",
    "name_required", "verified_on", "source",
)  # fmt: skip
HOTLINE_FIELDS = (
    "country", "kind", "name_en", "name_ko", "url_or_phone", "description_en", "description_ko",
    "escalate", "confirmed", "verified_on", "source", "priority",
)  # fmt: skip
CHANNEL_FIELDS = (
    "kind", "address", "regimes", "instructions_en", "instructions_ko", "confirmed",
    "verified_on", "source", "priority",
)  # fmt: skip


@dataclass
class SyncResult:
    version: str = ""
    created: int = 0
    updated: int = 0
    kept_local: int = 0
    regimes: int = 0
    hotlines: int = 0


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _clean_platform(raw: dict[str, Any]) -> dict[str, Any]:
    values = {f: raw.get(f) for f in PLATFORM_FIELDS if f in raw}
    for key in ("domains", "shorteners"):
        if key in values:
            values[key] = sorted({ascii_host(d) for d in values[key] or [] if d})
    if "verified_on" in values:
        values["verified_on"] = _date(values["verified_on"])
    return values


def _channels_from(raw: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in raw.get("channels", []):
        values = {f: item[f] for f in CHANNEL_FIELDS if f in item}
        values["verified_on"] = _date(values.get("verified_on"))
        out.append(values)
    return out


def _channel_defaults(values: dict[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "address": "", "regimes": [], "instructions_en": "", "instructions_ko": "",
        "confirmed": False, "verified_on": None, "source": "", "priority": 100,
    }  # fmt: skip
    return {f: values.get(f, defaults.get(f)) for f in CHANNEL_FIELDS}


def load_data_file(path: Path | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path or DATA_FILE).read_text(encoding="utf-8"))
    return data


@transaction.atomic
def platforms_sync(*, path: Path | None = None) -> SyncResult:
    """Bring the directory up to a data file; fields corrected locally are left as they are.

    Platforms are matched by slug. A platform the file no longer lists is kept (an NGO may rely
    on it); removing one is a local decision.
    """
    data = load_data_file(path)
    result = SyncResult(version=str(data.get("version", "")))
    for raw in data.get("regimes", []):
        values = {f: raw.get(f) for f in REGIME_FIELDS if f in raw}
        values["verified_on"] = _date(values.get("verified_on"))
        regime = Regime.objects.filter(code=raw["code"]).first()
        if regime is None:
            Regime.objects.create(code=raw["code"], **values)
        else:
            for field, value in values.items():
                if field not in regime.local_edits:
                    setattr(regime, field, value)
            regime.save()
        result.regimes += 1
    for raw in data.get("hotlines", []):
        values = {f: raw.get(f) for f in HOTLINE_FIELDS if f in raw}
        values["verified_on"] = _date(values.get("verified_on"))
        hotline = Hotline.objects.filter(slug=raw["slug"]).first()
        if hotline is None:
            Hotline.objects.create(slug=raw["slug"], **values)
        else:
            for field, value in values.items():
                if field not in hotline.local_edits:
                    setattr(hotline, field, value)
            hotline.save()
        result.hotlines += 1
    for raw in data.get("platforms", []):
        values = _clean_platform(raw)
        platform = Platform.objects.filter(slug=raw["slug"]).first()
        if platform is None:
            platform = Platform.objects.create(slug=raw["slug"], data_version=result.version, **values)
            for ch in _channels_from(raw):
                Channel.objects.create(platform=platform, **ch)
            result.created += 1
            continue
        changed = False
        for field, value in values.items():
            if field in platform.local_edits:
                result.kept_local += 1
                continue
            if getattr(platform, field) != value:
                setattr(platform, field, value)
                changed = True
        if "channels" in platform.local_edits:
            result.kept_local += 1
        else:
            wanted = sorted(
                (_channel_defaults(ch) for ch in _channels_from(raw)), key=lambda c: c["priority"]
            )
            current = [{f: getattr(c, f) for f in CHANNEL_FIELDS} for c in platform.channels.all()]
            if current != wanted:
                platform.channels.all().delete()
                for ch in wanted:
                    Channel.objects.create(platform=platform, **ch)
                changed = True
        platform.data_version = result.version
        platform.save()
        result.updated += int(changed)
    from app.platforms.resolve import directory_changed

    directory_changed()
    return result


def platform_update(
    *, platform: Platform, actor: User | None, organization: Organization | None = None, **fields: Any
) -> Platform:
    """A local correction: the named fields are set and protected from later data-file updates."""
    unknown = set(fields) - set(PLATFORM_FIELDS) - {"active"}
    if unknown:
        raise ValueError(f"unknown platform fields: {sorted(unknown)}")
    for key in ("domains", "shorteners"):
        if key in fields:
            fields[key] = sorted({ascii_host(d) for d in fields[key] if d and d.strip()})
    edits = set(platform.local_edits)
    for field, value in fields.items():
        setattr(platform, field, value)
        edits.add(field)
    platform.local_edits = sorted(edits)
    platform.save()
    if organization is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action="platform.update",
            object_type="platform",
            object_id=platform.pk,
            detail={"fields": sorted(fields)},
        )
    from app.platforms.resolve import directory_changed

    directory_changed()
    return platform


@transaction.atomic
def platform_channels_set(
    *,
    platform: Platform,
    actor: User | None,
    channels: list[dict[str, Any]],
    organization: Organization | None = None,
) -> list[Channel]:
    """Replace a platform's channels by local ones; a newer data file will not replace them back."""
    platform.channels.all().delete()
    created = [
        Channel.objects.create(platform=platform, **{k: v for k, v in ch.items() if k in CHANNEL_FIELDS})
        for ch in channels
    ]
    platform.local_edits = sorted({*platform.local_edits, "channels"})
    platform.save(update_fields=["local_edits", "updated_at"])
    if organization is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action="platform.channels",
            object_type="platform",
            object_id=platform.pk,
            detail={"count": len(created)},
        )
    return created


def platform_revert(*, platform: Platform, fields: list[str] | None = None) -> Platform:
    """Forget local corrections so the next sync takes the data file's values again."""
    platform.local_edits = [] if fields is None else [f for f in platform.local_edits if f not in fields]
    platform.save(update_fields=["local_edits", "updated_at"])
    return platform
