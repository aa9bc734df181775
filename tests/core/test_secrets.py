"""Outside the quick start Jium refuses to start without its secrets; keys can be rotated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from app.cases.models import Case
from app.cases.services import case_create
from app.core.crypto import box

REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = Fernet.generate_key().decode()


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "JIUM_", "DATABASE_URL"))}
    base.update({"JIUM_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "app.settings", **env})
    return subprocess.run(args, cwd=REPO, env=base, capture_output=True, text=True, timeout=90, check=False)


PRODUCTION = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/jium_not_used"}


def test_check_and_migrate_stop_without_secrets(tmp_path):
    done = run([sys.executable, "manage.py", "check"], tmp_path, **PRODUCTION)
    assert done.returncode != 0
    assert "jium.E001" in done.stderr and "jium.E002" in done.stderr
    assert "Fernet.generate_key()" in done.stderr  # says how to make a key
    assert not (tmp_path / "data" / "encryption.key").exists()  # nothing made up and written
    bad = run([sys.executable, "manage.py", "migrate"], tmp_path, SECRET_KEY="s" * 50, JIUM_ENCRYPTION_KEYS="changeme", **PRODUCTION)  # fmt: skip
    assert bad.returncode != 0 and "jium.E003" in bad.stderr and "jium.E001" not in bad.stderr
    good = run([sys.executable, "manage.py", "check"], tmp_path, SECRET_KEY="s" * 50, JIUM_ENCRYPTION_KEYS=GOOD_KEY, **PRODUCTION)  # fmt: skip
    assert good.returncode == 0, good.stderr


def test_web_process_and_worker_refuse_to_start_without_secrets(tmp_path):
    web = run([sys.executable, "-c", "import app.wsgi"], tmp_path, **PRODUCTION)
    assert web.returncode != 0 and "jium.E002" in web.stderr and "web process will not start" in web.stderr
    worker = run(
        [sys.executable, "-m", "celery", "-A", "app", "worker", "--pool", "solo", "-Q", "never-used"],
        tmp_path, SECRET_KEY="s" * 50, JIUM_ENCRYPTION_KEYS="changeme",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/15", **PRODUCTION,
    )  # fmt: skip
    assert worker.returncode != 0 and "jium.E003" in worker.stdout + worker.stderr


def test_quick_start_still_makes_its_own_keys(tmp_path):
    done = run([sys.executable, "manage.py", "check"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "encryption.key").exists() and (tmp_path / "data" / "secret.key").exists()


@pytest.fixture
def keys(settings):  # type: ignore[no-untyped-def]
    def use(*values: str) -> None:
        settings.ENCRYPTION_KEYS = list(values)
        box.cache_clear()

    yield use
    box.cache_clear()


def raw(case: Case, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM cases_case WHERE id = %s", [case.pk])  # noqa: S608 - fixed names
        return bytes(cursor.fetchone()[0])


def test_encryption_key_rotate_re_encrypts_everything_under_the_first_key(org, owner, keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    case = case_create(organization=org, actor=owner.user, alias="R", jurisdiction="kr", real_name="김지은", contact="010-0000-0000")  # fmt: skip
    Case.objects.filter(pk=case.pk).update(authorisation_letter=b"%PDF-1.4 letter")
    keys(new, old)
    call_command("encryption_key_rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    keys(new)  # the old key is gone
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.real_name, fresh.contact, bytes(fresh.authorisation_letter)) == (
        "김지은",
        "010-0000-0000",
        b"%PDF-1.4 letter",
    )
    assert Fernet(new.encode()).decrypt(raw(case, "real_name")) == "김지은".encode()
