"""match_images --faces: the face stage on the command line, same output contract."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import photo_paths
from tests.faces.helpers import FACES, OTHER, PERSON


def _lines(**options) -> list[dict]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("match_images", json=True, stdout=out, stderr=io.StringIO(), **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_faces_without_references_and_image_matches_first(tmp_path: Path) -> None:
    faces, cands, refs = tmp_path / "faces", tmp_path / "cands", tmp_path / "refs"
    for d in (faces, cands, refs):
        d.mkdir()
    shutil.copy(FACES / "people" / PERSON / "1.jpg", faces / "me.jpg")
    shutil.copy(FACES / "people" / PERSON / "2.jpg", cands / "a_same_person.jpg")
    shutil.copy(FACES / "people" / OTHER / "1.jpg", cands / "b_someone_else.jpg")
    (cands / "c_broken.jpg").write_bytes(b"\xff\xd8\xff nothing")

    lines = _lines(faces=faces, candidates=cands)
    assert [Path(line["candidate"]).name for line in lines] == [
        "a_same_person.jpg",
        "b_someone_else.jpg",
        "c_broken.jpg",
    ]
    same, other, broken = lines
    assert same["method"] == "face" and same["reference"] == str(faces / "me.jpg")
    assert 0 < same["distance"] <= 0.47
    assert other == {
        "candidate": str(cands / "b_someone_else.jpg"),
        "reference": None,
        "method": None,
        "distance": None,
    }
    assert "error" in broken

    # The same photo is also a reference image: the image match wins over the face match.
    shutil.copy(FACES / "people" / PERSON / "2.jpg", refs / "r.jpg")
    shutil.copy(photo_paths()[0], refs / "landscape.jpg")
    same = _lines(faces=faces, candidates=cands, references=refs)[0]
    assert same["method"].startswith("pdq") and same["reference"] == str(refs / "r.jpg")


def test_nothing_to_match_with_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("match_images", candidates=tmp_path)
    with pytest.raises(CommandError):
        call_command("match_images", candidates=tmp_path, faces=tmp_path / "missing")
