"""Fixtures shared by the matching tests."""

from __future__ import annotations

import pytest

from app.matching.decode import decode_media
from app.matching.fingerprint import Fingerprint, fingerprint_reference
from tests.conftest import PHOTOS


@pytest.fixture(scope="session")
def bench_references() -> list[tuple[str, Fingerprint]]:
    """The accuracy bench's 60 references (every other photo of photos-dev), server-made. With
    fewer, the ratio test has fewer rivals and the same edit gives other fits."""
    names = sorted(p.name for p in PHOTOS.iterdir() if p.suffix.lower() == ".jpg")[::2][:60]
    return [
        (name, fingerprint_reference(decode_media((PHOTOS / name).read_bytes()).frames[0])) for name in names
    ]
