"""The project's encryption box, keyed from settings."""

from functools import cache

from django.conf import settings

from app.lib.crypto import Box


@cache
def box() -> Box:
    return Box(settings.ENCRYPTION_KEYS)


def encrypt_bytes(data: bytes) -> bytes:
    return box().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return box().decrypt(token)
