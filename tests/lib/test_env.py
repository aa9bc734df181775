import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.lib.env import ConfigError, env_bool, env_float, env_int, env_list, env_str

REPO = Path(__file__).resolve().parents[2]


def test_defaults_when_unset():
    assert env_str("X", "d", environ={}) == "d"
    assert env_bool("X", False, environ={}) is False
    assert env_bool("X", True, environ={}) is True
    assert env_int("X", 7, environ={}) == 7
    assert env_float("X", 1.5, environ={}) == 1.5
    assert env_list("X", ["a"], environ={}) == ["a"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("off", False), ("", False)],
)
def test_bool_spellings(raw, expected):
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_bad_values_are_clear_errors():
    with pytest.raises(ConfigError, match="X must be one of"):
        env_bool("X", environ={"X": "maybe"})
    with pytest.raises(ConfigError, match="whole number"):
        env_int("X", 1, environ={"X": "ten"})
    with pytest.raises(ConfigError, match="number"):
        env_float("X", 1.0, environ={"X": "fast"})


def test_list_strips_and_skips_empty():
    assert env_list("X", environ={"X": " 10.0.0.0/8, ,192.168.0.0/16 "}) == ["10.0.0.0/8", "192.168.0.0/16"]


def test_secret_read_from_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    assert (
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(secret), "SECRET_KEY": "ignored"}) == "s3cret"
    )


def test_unreadable_secret_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})


def _settings_in_subprocess(tmp_path, extra_env, expr):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "DEBUG", "SECRET_KEY", "JIUM_"))
    }
    env.update({"JIUM_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "app.settings", **extra_env})
    code = f"import django; django.setup(); from django.conf import settings as s; print(repr(({expr})))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def test_quick_start_defaults_are_safe_and_serverless(tmp_path):
    line = _settings_in_subprocess(
        tmp_path,
        {},
        "s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL.split(':')[0], s.FETCH_ALLOWED_PRIVATE_NETWORKS",
    )
    assert line == "(False, 'django.db.backends.sqlite3', 'sqla+sqlite', [])"
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "encryption.key").exists()


def test_production_settings_from_environment(tmp_path):
    secret = tmp_path / "sk"
    secret.write_text("from-a-file")
    line = _settings_in_subprocess(
        tmp_path,
        {
            "DATABASE_URL": "postgres://jium:pw@db.internal:5433/jium",
            "CELERY_BROKER_URL": "redis://cache:6379/2",
            "SECRET_KEY_FILE": str(secret),
            "FETCH_ALLOWED_PRIVATE_NETWORKS": "10.1.0.0/16",
            "DEBUG": "no",
        },
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['PORT'], s.CELERY_BROKER_URL, s.SECRET_KEY, s.FETCH_ALLOWED_PRIVATE_NETWORKS, s.DEBUG",
    )
    assert (
        line
        == "('django.db.backends.postgresql', 5433, 'redis://cache:6379/2', 'from-a-file', ['10.1.0.0/16'], False)"
    )
