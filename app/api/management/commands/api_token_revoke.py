"""Revoke API tokens: one by its id, or every token of a user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from app.api.selectors import api_token_list
from app.api.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke an API token by its id (see api_token_list), or all tokens of --user."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("token_id", nargs="?", type=int)
        parser.add_argument("--user", help="revoke every token of this username")

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["token_id"] is None) == (options["user"] is None):
            raise CommandError(_("Give either a token id or --user."))
        qs = api_token_list().filter(revoked_at__isnull=True)
        if options["token_id"] is not None:
            qs = qs.filter(pk=options["token_id"])
        else:
            qs = qs.filter(user__username=options["user"])
        tokens = list(qs)
        if not tokens:
            raise CommandError(_("No active token matches."))
        for token in tokens:
            api_token_revoke(token=token)
            self.stdout.write(
                _("Revoked token %(id)d (%(prefix)s…).") % {"id": token.pk, "prefix": token.prefix}
            )
