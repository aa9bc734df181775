"""Run Jium on one machine with no services: SQLite, a SQLite-backed broker, web server and worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from app.accounts.services import demo_setup
from app.core.database import database_migrate_if_needed
from app.platforms.services import platforms_sync


class Command(BaseCommand):
    help = "Create the database, a demo organisation and user, then run the web server and a Celery worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("JIUM_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("JIUM_PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args: Any, **options: Any) -> None:
        database_migrate_if_needed()
        platforms_sync()  # the shipped directory; local edits are kept
        membership, password = demo_setup()
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(_("Jium is starting at %(url)s") % {"url": url}))
        if password:
            self.stdout.write(
                _("Log in as '%(user)s' with password: %(password)s")
                % {"user": membership.user.username, "password": password}
            )
            self.stdout.write(_("This password is shown only once. Change it after logging in."))
        else:
            self.stdout.write(
                _("Log in as '%(user)s' with the password shown on the first start.")
                % {"user": membership.user.username}
            )
        self.stdout.flush()

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "app.settings",
            "JIUM_DATA_DIR": str(settings.DATA_DIR),
        }
        python = sys.executable
        processes: list[subprocess.Popen[bytes]] = [
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(settings.BASE_DIR / "app" / "gunicorn_conf.py"),
                    "app.wsgi",
                    "--bind",
                    f"{options['host']}:{options['port']}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "10",
                ],
                env=env,
            )
        ]
        if not options["no_worker"]:
            processes.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "app",
                        "worker",
                        "--beat",
                        "--loglevel",
                        "INFO",
                        "--concurrency",
                        str(options["concurrency"]),
                        "--schedule",
                        str(settings.DATA_DIR / "celerybeat-schedule"),
                    ],
                    env=env,
                )
            )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(p.poll() is None for p in processes):
                time.sleep(0.5)
        finally:
            for p in processes:
                if p.poll() is None:
                    p.terminate()
            deadline = time.monotonic() + 20
            for p in processes:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
        self.stdout.write(_("Jium has stopped."))
