"""Load or update the platform directory from the shipped data file (or a newer one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from app.platforms.services import platforms_sync


class Command(BaseCommand):
    help = "Load or update the platform directory; fields corrected locally are kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, default=None, help="a newer platforms.json")

    def handle(self, *args: Any, **options: Any) -> None:
        result = platforms_sync(path=options["file"])
        if options["verbosity"]:
            self.stdout.write(
                _(
                    "Platform directory %(version)s: %(created)d added, %(updated)d updated, %(kept)d local corrections kept."
                )
                % {
                    "version": result.version,
                    "created": result.created,
                    "updated": result.updated,
                    "kept": result.kept_local,
                }
            )
