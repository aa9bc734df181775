from __future__ import annotations

import pytest

from app.platforms.resolve import directory_changed
from app.platforms.services import platforms_sync


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    # The shared fixtures create four users with passwords; the default hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def directory(db):  # type: ignore[no-untyped-def]
    directory_changed()
    result = platforms_sync()
    yield result
    directory_changed()
