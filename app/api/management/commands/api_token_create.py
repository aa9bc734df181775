"""Create an API token for a staff member and print it once: it is not stored and cannot be shown again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from app.api.services import ApiTokenError, api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME (an organisation admin or caseworker) and print it once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. 'url-import script'")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="the token stops working after this many days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(_("No user named %(name)s.") % {"name": options["username"]})
        try:
            days = options["expires_in_days"]
            expires_at = timezone.now() + timedelta(days=days) if days is not None else None
            token, raw = api_token_create(user=user, name=options["name"], expires_at=expires_at)
        except ApiTokenError as exc:
            raise CommandError(str(exc)) from exc
        # The token alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stdout.write(raw)
        self.stderr.write(
            _("Token %(id)d (%(prefix)s…) created for %(user)s. It is shown only this once; keep it secret.")
            % {"id": token.pk, "prefix": token.prefix, "user": user.username}
        )
