"""Typed readers for configuration from environment variables.

Every setting can also be read from a file named by ``NAME_FILE`` so that secrets can come from
Docker/systemd credentials instead of the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A configuration value is present but cannot be understood."""


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    file_path = environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE points to {file_path!r}, which cannot be read: {exc}") from exc
    return environ.get(name, default)


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "", environ=environ).strip().lower()
    if raw == "" and name not in (os.environ if environ is None else environ):
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of yes/no/true/false/1/0, not {raw!r}")


def env_int(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    raw = env_str(name, "", environ=environ).strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float, *, environ: Mapping[str, str] | None = None) -> float:
    raw = env_str(name, "", environ=environ).strip()
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def env_list(
    name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    raw = env_str(name, "", environ=environ)
    if raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]
