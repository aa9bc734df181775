"""``python manage.py references_complete [--case ID] [--json]``: fingerprint kept originals again.

For cases that chose to keep their reference originals (encrypted): each is fingerprinted again
with this version's code, and a stored fingerprint that lacks a part the matcher now uses (face
boxes, band hashes) is completed, so references made before an upgrade get its improvements.
Cases that discarded their originals (the default) are completed by uploading the picture again.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from app.cases.models import Case
from app.cases.services import references_complete_from_originals


class Command(BaseCommand):
    help = "Fingerprint the kept reference originals again and complete older fingerprints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", type=int, help="only this case (its number)")
        parser.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        case = None
        if options["case"] is not None:
            case = Case.objects.filter(pk=options["case"]).first()
            if case is None:
                raise CommandError(f"No case {options['case']}.")
        result = references_complete_from_originals(case=case)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "checked": result.checked,
                        "completed": result.completed,
                        "skipped": [{"reference": r, "reason": why} for r, why in result.skipped],
                    }
                )
            )
            return
        self.stdout.write(
            f"{result.checked} kept originals fingerprinted again; {result.completed} stored fingerprints completed."
        )
        for ref_id, why in result.skipped:
            self.stdout.write(f"reference {ref_id}: {why}")
