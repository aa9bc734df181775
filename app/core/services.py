"""Re-encrypting stored data under the first configured key (key rotation)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from app.core.fields import EncryptedBinaryField, EncryptedTextField

_BATCH = 200


@dataclass(frozen=True)
class RotationCount:
    model: str
    field: str
    rows: int


def encrypted_fields() -> list[tuple[type, str]]:
    """Every (model, field name) stored encrypted, across all apps."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedTextField | EncryptedBinaryField):
                found.append((model, field.name))
    return found


def encryption_rotate_all() -> list[RotationCount]:
    """Read every encrypted value with any configured key and write it back under the first one.

    Reading decrypts with whichever key fits; writing always encrypts with the first. Each batch is
    its own transaction, so a run that stops half-way can simply be run again.
    """
    counts = []
    for model, name in encrypted_fields():
        manager = model._default_manager  # type: ignore[attr-defined]
        rows = 0
        pks = list(manager.exclude(**{f"{name}__isnull": True}).values_list("pk", flat=True).order_by("pk"))
        for start in range(0, len(pks), _BATCH):
            with transaction.atomic():
                for pk, value in manager.filter(pk__in=pks[start : start + _BATCH]).values_list("pk", name):
                    if value in (None, "", b""):
                        continue
                    manager.filter(pk=pk).update(**{name: value})
                    rows += 1
        counts.append(RotationCount(model=model._meta.label, field=name, rows=rows))  # type: ignore[attr-defined]
    return counts
