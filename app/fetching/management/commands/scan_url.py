"""python manage.py scan_url URL [--references DIR] --json

Fetches one URL safely (the same scan the Celery pipeline runs, with the FETCH_* settings), in
this process, touching no database, and prints exactly one JSON object:

    {"url", "final_url", "status": "ok" | "refused" | "error", "error", "http_status",
     "media": [{"url", "kind": "image" | "video", "sha256", "width", "height", "matches": [...]}],
     ...evidence keys}

With --references, each media item carries its matches against the image files in DIR
({"reference": file name, "method", "distance", "frame", "details"}). Exit status 0 whenever the
object was printed, whatever the outcome of the scan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from app.fetching.scan import matcher_from_files, outcome_as_json
from app.fetching.services import url_scan


class Command(BaseCommand):
    help = "Fetch one URL safely and list the images and videos on it (and their matches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url")
        parser.add_argument("--references", type=Path, help="folder of reference images to match against")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        matcher = None
        if options["references"] is not None:
            folder: Path = options["references"]
            if not folder.is_dir():
                raise CommandError(f"--references: {folder} is not a folder")
            matcher, skipped = matcher_from_files([p for p in folder.iterdir() if p.is_file()])
            for name, reason in skipped:
                self.stderr.write(f"skipped reference {name}: {reason}")
            if matcher is None:
                raise CommandError(f"--references: no usable image in {folder}")
        outcome = url_scan(url=options["url"], matcher=matcher)
        result = outcome_as_json(outcome)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"{result['status']}  {result['http_status'] or '-'}  {result['final_url'] or result['url']}"
        )
        if result["error"]:
            self.stdout.write(f"  {result['error']}")
        for item in result["media"]:
            found = ", ".join(f"{m['reference']} ({m['method']} {m['distance']:g})" for m in item["matches"])
            self.stdout.write(
                f"  {item['kind']:<5} {item['width']}x{item['height']}  {item['sha256'][:12]}  {item['url']}"
                + (f"  MATCH {found}" if found else "")
            )
        for item in result["skipped_media"]:
            self.stdout.write(f"  skipped ({item['status']}): {item['url']}: {item['error']}")
