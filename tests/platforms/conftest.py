from __future__ import annotations

import pytest

from app.platforms.resolve import directory_changed
from app.platforms.services import platforms_sync


@pytest.fixture
def directory(db):  # type: ignore[no-untyped-def]
    directory_changed()
    result = platforms_sync()
    yield result
    directory_changed()
