"""Model fields whose values are encrypted at rest (victims' names, contact details, evidence bytes)."""

from __future__ import annotations

from typing import Any

from django.db import models

from app.core.crypto import decrypt_bytes, encrypt_bytes


class EncryptedTextField(models.BinaryField):
    """Text stored as a Fernet token. Not searchable or orderable, by design."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", b"")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return decrypt_bytes(bytes(value)).decode("utf-8")

    def to_python(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return decrypt_bytes(bytes(value)).decode("utf-8")

    def get_prep_value(self, value: Any) -> bytes:
        if not value:
            return b""
        return encrypt_bytes(str(value).encode("utf-8"))

    def value_to_string(self, obj: models.Model) -> str:
        return str(self.value_from_object(obj))

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return forms.CharField(required=not self.blank, **kwargs)


class EncryptedBinaryField(models.BinaryField):
    """Bytes (e.g. kept evidence or an original reference) stored as a Fernet token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> bytes | None:
        if value is None:
            return None
        return decrypt_bytes(bytes(value))

    def get_prep_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        return encrypt_bytes(bytes(value))
