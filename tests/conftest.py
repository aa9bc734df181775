"""Shared fixtures: the three kinds of user every access test needs, and real worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from app.accounts.models import Membership, Organization, Role
from app.accounts.services import member_create, organization_create
from app.cases.models import Case
from app.cases.services import case_create

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PHOTOS = SHARED / "data" / "photos-dev"
PDQ_REFERENCE = SHARED / "data" / "pdq-reference"
PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that commits puts the migrated rows back the same way (serialized rollback).

    A committing test without it is flushed afterwards with post_migrate re-run, which recreates
    content types under new ids; a serialized test after it then fails to restore its own rows
    (duplicate content types). Which test ran before which must not matter.
    """
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names is None or "django_db_serialized_rollback" in names:
            continue
        marker = item.get_closest_marker("django_db")
        commits = "transactional_db" in names or "live_server" in names
        if commits or (marker is not None and marker.kwargs.get("transaction")):
            names.append("django_db_serialized_rollback")


@pytest.fixture(autouse=True)
def _test_settings(settings):  # type: ignore[no-untyped-def]
    settings.AXES_ENABLED = False
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts and ends in the default language.

    A request with Accept-Language: ko, or a service call under translation.override, can leave
    Korean active in the thread; a later test calling a service directly then read Korean text and
    failed only in some orders.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def org(db) -> Organization:  # type: ignore[no-untyped-def]
    return organization_create(name="Alpha Support Centre")


@pytest.fixture
def other_org(db) -> Organization:  # type: ignore[no-untyped-def]
    return organization_create(name="Beta Helpline")


@pytest.fixture
def owner(org: Organization) -> Membership:
    return member_create(organization=org, username="alice", password=PASSWORD, role=Role.ADMIN)


@pytest.fixture
def teammate(org: Organization) -> Membership:
    return member_create(organization=org, username="bob", password=PASSWORD, role=Role.CASEWORKER)


@pytest.fixture
def outsider(other_org: Organization) -> Membership:
    return member_create(organization=other_org, username="mallory", password=PASSWORD, role=Role.ADMIN)


@pytest.fixture
def victim(org: Organization) -> Membership:
    return member_create(organization=org, username="vicky", password=PASSWORD, role=Role.VICTIM)


@pytest.fixture
def case(org: Organization, owner: Membership, victim: Membership) -> Case:
    case = case_create(
        organization=org, actor=owner.user, alias="Case Sunflower", jurisdiction="KR", language="ko"
    )
    case.victim_user = victim.user
    case.save(update_fields=["victim_user"])
    return case


@pytest.fixture
def directory(db):  # type: ignore[no-untyped-def]
    """The shipped platform directory, loaded fresh (and the resolver's cache cleared around the test)."""
    from app.platforms.resolve import directory_changed
    from app.platforms.services import platforms_sync

    directory_changed()
    result = platforms_sync()
    yield result
    directory_changed()


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    def do(membership: Membership):  # type: ignore[no-untyped-def]
        client.force_login(membership.user)
        return client

    return do


def photo_paths() -> list[Path]:
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})


# ---- real Celery workers -------------------------------------------------------------------------


def database_url_for_workers() -> str:
    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class WorkerPool:
    """Starts and stops real `celery worker` processes bound to the test database and a private queue."""

    def __init__(self, queue: str, extra_env: dict[str, str]) -> None:
        self.queue = queue
        self.extra_env = extra_env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, *, concurrency: int = 1, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = Path(settings.DATA_DIR) / f"worker-{self.queue}-{len(self.procs)}.log"
        self.logs.append(log)
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "app.settings",
            "DATABASE_URL": database_url_for_workers(),
            "CELERY_QUEUE": self.queue,
            "JIUM_DATA_DIR": str(settings.DATA_DIR),
            "SECRET_KEY": settings.SECRET_KEY,
            "JIUM_ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **self.extra_env,
            **(env or {}),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app",
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{len(self.procs)}@%h",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=REPO,
            env=full_env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    # Cold shutdown: unfinished tasks go back to the queue (acks_late); no waiting.
                    os.killpg(proc.pid, signal.SIGQUIT)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.logs if p.exists())


@pytest.fixture
def workers(transactional_db, django_db_serialized_rollback, settings) -> Iterator[WorkerPool]:  # type: ignore[no-untyped-def]
    """Real worker processes; tasks sent by the test go to a queue only these workers read.

    Workers see only committed rows, so these tests commit; the serialized rollback puts back the
    rows that data migrations seeded (regulators, removal markers) after the flush that follows.
    """
    from app.celery import app as celery_app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    pool = WorkerPool(queue, {"FETCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32,127.0.0.2/32"})
    try:
        yield pool
    finally:
        pool.stop_all()
        celery_app.conf.task_default_queue = previous


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.2,
    message: str | Callable[[], str] = "",
) -> None:
    """``message`` may be a callable (e.g. ``workers.output``): it is read when the wait fails, so
    it shows what the workers said by then, not before they started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message() if callable(message) else message}")
