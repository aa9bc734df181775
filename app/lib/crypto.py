"""Symmetric encryption for data at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Several keys may be configured: the first encrypts, all of them decrypt, so keys can be rotated
without re-encrypting everything at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """Stored ciphertext could not be decrypted with any configured key."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


class Box:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise DecryptionError("stored data could not be decrypted with the configured keys") from exc
