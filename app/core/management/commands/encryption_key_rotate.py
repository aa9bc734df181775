"""``python manage.py encryption_key_rotate``: re-encrypt everything under the first key.

Rotation: put the new key first in JIUM_ENCRYPTION_KEYS (keep the old ones after it), restart the
web processes and workers, run this command, then remove the old keys. See docs/deploy.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from app.core.services import encryption_rotate_all


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the first key in JIUM_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for count in encryption_rotate_all():
            total += count.rows
            if count.rows:
                self.stdout.write(f"{count.model}.{count.field}: {count.rows}")
        self.stdout.write(
            f"Re-encrypted {total} values under the first key. The other keys can now be removed."
        )
