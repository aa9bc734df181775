"""The face math (app/matching/faces.py) on real LFW photos and face swaps."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.matching.faces import (
    FACE_THRESHOLD,
    FaceMatcher,
    detect_faces,
    embedding_from_bytes,
    embedding_to_bytes,
)
from tests.conftest import photo_paths
from tests.faces.helpers import FACES, OTHER, PERSON, face_photo, two_faces


def _faces(data: bytes):  # type: ignore[no-untyped-def]
    return detect_faces(Image.open(io.BytesIO(data)))


def test_same_person_within_threshold_other_person_not() -> None:
    a1, a2, b1 = (_faces(face_photo(PERSON, 1)), _faces(face_photo(PERSON, 2)), _faces(face_photo(OTHER, 1)))
    assert len(a1) == len(a2) == len(b1) == 1
    matcher = FaceMatcher([("a1", a1[0].embedding)])
    same = matcher.match_faces(a2)
    assert same is not None and same.reference_key == "a1" and same.distance <= FACE_THRESHOLD
    assert matcher.match_faces(b1) is None
    assert float(matcher.distances(b1[0].embedding)[0]) > FACE_THRESHOLD
    # stored form round-trips exactly
    assert np.array_equal(embedding_from_bytes(embedding_to_bytes(a1[0].embedding)), a1[0].embedding)
    with pytest.raises(ValueError):
        embedding_from_bytes(b"\0" * 10)


def test_two_people_in_one_photo_and_no_face_in_a_landscape() -> None:
    faces = _faces(two_faces())
    assert len(faces) == 2
    assert faces[0].box[0] < 260 <= faces[1].box[0] or faces[1].box[0] < 260 <= faces[0].box[0]
    landscape = Image.open(photo_paths()[0])
    assert detect_faces(landscape) == []


def test_each_ghost_swap_is_nearer_its_source_than_its_target() -> None:
    folder = FACES / "face-swaps" / "ghost"
    for i in range(1, 5):
        emb = {
            k: detect_faces(Image.open(folder / f"{i}_{k}.png"))[0].embedding
            for k in ("source", "target", "swap")
        }
        to_source = float(np.linalg.norm(emb["swap"] - emb["source"]))
        to_target = float(np.linalg.norm(emb["swap"] - emb["target"]))
        assert to_source < to_target, (i, to_source, to_target)


def test_cnn_detector_and_hog_with_cnn_fallback() -> None:
    photo = Image.open(io.BytesIO(face_photo(PERSON, 2)))
    hog = detect_faces(photo)
    cnn = detect_faces(photo, detector="cnn")
    assert len(hog) >= 1 and len(cnn) >= 1
    # The same face, found by either detector, gives nearly the same embedding.
    assert float(np.linalg.norm(cnn[0].embedding - hog[0].embedding)) < 0.25
    # HOG found a face: the fallback is not used, the result is HOG's.
    both = detect_faces(photo, detector="hog+cnn")
    assert [f.box for f in both] == [f.box for f in hog]
    landscape = Image.open(photo_paths()[0])
    assert detect_faces(landscape, detector="hog+cnn") == []
    with pytest.raises(ValueError):
        detect_faces(landscape, detector="mtcnn")
