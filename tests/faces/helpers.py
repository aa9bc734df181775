"""Face photos for tests, read from ../shared/data/faces-dev (LFW; never committed here)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from tests.conftest import SHARED

FACES = SHARED / "data" / "faces-dev"
# Two people with several photos each, and one with a single photo (a distractor).
PERSON = "Alex_Sink"
OTHER = "Arturo_Gatti"


def face_photo(name: str = PERSON, n: int = 1) -> bytes:
    return (FACES / "people" / name / f"{n}.jpg").read_bytes()


def two_faces(left: str = PERSON, right: str = OTHER, n: int = 1) -> bytes:
    """One photo with two people side by side (made from two LFW photos)."""
    canvas = Image.new("RGB", (520, 260), (200, 205, 210))
    for i, name in enumerate((left, right)):
        canvas.paste(Image.open(io.BytesIO(face_photo(name, n))).convert("RGB"), (5 + i * 260, 5))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def consent(case, actor=None, **kw):  # type: ignore[no-untyped-def]
    from app.faces.services import face_consent_grant

    args = {
        "consenter": "person",
        "method": "signed form",
        "consented_at": datetime(2026, 12, 1, 12, tzinfo=UTC),
        "language": "en",
    }
    args.update(kw)
    return face_consent_grant(case=case, actor=actor, **args)
