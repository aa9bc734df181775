"""python manage.py recheck [--case ID] [--all-due] --json

Re-checks tracked URLs now, in this process, through the same service the Celery task calls, and
prints one JSON object per URL: {"url", "state", "checked_at", "http_status", "still_matching", "error"}.
Without --case or --all-due it re-checks every URL that is due.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from app.core.database import database_migrate_if_needed
from app.tracking.models import UrlTracking
from app.tracking.services import tracking_sweep, url_recheck


class Command(BaseCommand):
    help = "Re-check tracked URLs now and record whether their content is still online."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", type=int, help="re-check every tracked URL of this case")
        parser.add_argument("--all-due", action="store_true", help="re-check every URL whose check is due")
        parser.add_argument("--json", action="store_true", help="print one JSON object per URL")

    def handle(self, *args: Any, **options: Any) -> None:
        database_migrate_if_needed()
        qs = UrlTracking.objects.select_related("reported_url").order_by("id")
        if options["case"] is not None:
            qs = qs.filter(case_id=options["case"])
            if not qs.exists() and not options["all_due"]:
                from app.cases.models import Case

                if not Case.objects.filter(pk=options["case"]).exists():
                    raise CommandError(f"no case with id {options['case']}")
        if options["all_due"] or options["case"] is None:
            qs = qs.filter(next_check_at__lte=timezone.now())
        for tracking in list(qs):
            check = url_recheck(tracking_id=tracking.pk)
            tracking.refresh_from_db()
            row = {
                "url": tracking.reported_url.normalized_url,
                "state": tracking.status,
                "checked_at": check.checked_at.isoformat() if check else None,
                "http_status": check.http_status if check else None,
                "still_matching": bool(check.still_matching) if check else False,
                "error": (check.error or None) if check else "not checked (case closed or erased)",
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                status = row["http_status"] if row["http_status"] is not None else "-"
                self.stdout.write(f"{row['state']:<10} {status!s:<4} {row['url']}")
        # What beat would do next for these URLs: deadlines that passed get their escalation drafts.
        tracking_sweep(enqueue=False)
