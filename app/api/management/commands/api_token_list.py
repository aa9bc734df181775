"""List API tokens (never the tokens themselves: only their first characters are known)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from app.api.selectors import api_token_list


class Command(BaseCommand):
    help = "List API tokens: id, user, name, prefix, created, last used, revoked."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", help="only this username's tokens")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = api_token_list()
        if options["user"]:
            qs = qs.filter(user__username=options["user"])
        for t in qs:
            self.stdout.write(
                "\t".join(
                    [
                        str(t.pk),
                        t.user.username,
                        t.name,
                        f"{t.prefix}…",
                        t.created_at.isoformat(timespec="seconds"),
                        t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-",
                        t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-",
                    ]
                )
            )
