"""Another photo of the same face is not a copy of the picture (app/matching/fitcheck.py).

With one reference in a case, the feature rules used to accept a different LFW photo of the same
person as a copy of the reference: the inliers all lay on the face. The reference's face box and
the coverage of the inliers now tell the two apart, and copies of the reference (undress edits
included) still match. Pure functions, no database.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from app.matching.decode import decode_media
from app.matching.document import parse_document
from app.matching.engine import Matcher
from app.matching.fingerprint import (
    Fingerprint,
    candidate_face_boxes,
    fingerprint_candidate,
    fingerprint_reference,
)
from app.matching.fitcheck import coverage, face_share, mirrored_boxes
from tests.matching.test_matching import PHOTOS, _photo
from tests.matching.test_one_reference import OTHERS, _bench_transforms

FACES = PHOTOS.parent / "faces-dev" / "people"
# Pairs of different photos of one person that the one-reference feature rules accepted (37 and
# 42 inliers, all of them in the reference's face box): Kate Winslet blonde in one photo,
# red-haired in the other; Justine Pasek at two moments of one event.
PAIRS = [("Kate_Winslet/2", "Kate_Winslet/4"), ("Justine_Pasek/4", "Justine_Pasek/2")]


def _face(name: str) -> Image.Image:
    return decode_media((FACES / f"{name}.jpg").read_bytes()).frames[0]


@pytest.fixture(scope="module")
def refs() -> dict[str, Fingerprint]:
    return {ref: fingerprint_reference(_face(ref)) for ref, _ in PAIRS}


@pytest.fixture
def face_only_off() -> Iterator[None]:
    engine = sys.modules[Matcher.__module__]
    saved = engine.FACE_ONLY
    engine.FACE_ONLY = False
    try:
        yield
    finally:
        engine.FACE_ONLY = saved


def test_references_with_a_face_carry_its_box_and_keep_it_stored(refs: dict[str, Fingerprint]) -> None:
    for fp in refs.values():
        assert fp.face_boxes, "the portrait's face was not found"
        w, h = fp.feature_size
        for left, top, right, bottom in fp.face_boxes:
            assert 0 <= left < right <= w and 0 <= top < bottom <= h
        assert Fingerprint.from_bytes(fp.to_bytes()).face_boxes == fp.face_boxes
    # A picture without a face has no box, and its stored form is as before.
    blocks = fingerprint_reference(_photo(OTHERS[0]))
    assert blocks.face_boxes == []
    assert blocks.to_bytes()[4] & 64 == 0
    # A truncated box list is refused, not read as something else.
    fp = next(iter(refs.values()))
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(fp.to_bytes()[:-3])


@pytest.mark.parametrize(("ref", "cand"), PAIRS)
def test_another_photo_of_the_face_was_matched_without_the_rule(
    refs: dict[str, Fingerprint], ref: str, cand: str, face_only_off: None
) -> None:
    # The hazard is real: without the rule the case's only reference accepts the other photo.
    res = Matcher([(ref, refs[ref])]).match(fingerprint_candidate(_face(cand)))
    assert res is not None and res.method.startswith("orb"), res
    assert res.details["face_share"] >= 0.8


@pytest.mark.parametrize(("ref", "cand"), PAIRS)
def test_another_photo_of_the_face_is_not_a_copy(refs: dict[str, Fingerprint], ref: str, cand: str) -> None:
    matcher = Matcher([(ref, refs[ref])])
    fp = fingerprint_candidate(_face(cand))
    assert matcher.match(fp) is None
    # Every path gave its reason: the fits are on the face and cover little of the picture.
    fits = [v for _, v in matcher.verify_all(fp, prefilter=True, guided=True) if v["inliers"] >= 18]
    assert fits and all(v["face_share"] >= 0.8 and v["coverage"] < 0.4 for v in fits if "coverage" in v)


@pytest.mark.parametrize(
    "transform",
    ["crop20_offcentre", "screenshot", "text_bar", "collage_2x2", "mirror+crop20_offcentre", "undress_edit"],
)
def test_copies_of_a_portrait_still_match(refs: dict[str, Fingerprint], transform: str) -> None:
    others = [_photo(n) for n in OTHERS]
    for ref, _ in PAIRS:
        img = _bench_transforms()[transform](_face(ref), others)
        res = Matcher([(ref, refs[ref])]).match(fingerprint_candidate(img))
        assert res is not None and res.reference_key == ref, (ref, transform, res)


def test_face_share_and_coverage() -> None:
    boxes = np.array([[10, 10, 50, 50], [60, 60, 100, 100]], np.float32)
    pts = np.array([[20, 20], [30, 30], [40, 40], [70, 70]], np.float32)
    assert face_share(boxes, pts) == 0.75
    assert face_share(None, pts) is None and face_share(boxes[:0], pts) is None
    assert mirrored_boxes(boxes, 200).tolist() == [[150, 10, 190, 50], [100, 60, 140, 100]]
    # A grid of features; inliers around one quarter of it: a quarter of the features is covered.
    xs, ys = np.meshgrid(np.arange(5, 200, 10), np.arange(5, 200, 10))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    corners = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float32)
    identity = np.eye(3)
    assert coverage(grid, corners, identity, (200, 200)) == pytest.approx(0.25)
    # Only what the fit carries into the candidate counts: a candidate that is that quarter.
    assert coverage(grid, corners, identity, (100, 100)) == pytest.approx(1.0)
    assert coverage(grid, corners[:2], identity, (200, 200)) == 0.0


# --- References never looked at for faces (device-made, or stored before the boxes existed) ---


def _unlooked(fp: Fingerprint) -> Fingerprint:
    """The reference as the person's device makes it: the same features, nobody looked for faces."""
    return Fingerprint.from_bytes(replace(fp, face_boxes=[], faces_checked=False).to_bytes())


class _Faces:
    """The candidate's face boxes, as the scan adds them (candidate_face_boxes), counting calls."""

    def __init__(self, img: Image.Image) -> None:
        self.img, self.calls = img, 0

    def __call__(self, fp: Fingerprint) -> None:
        self.calls += 1
        candidate_face_boxes(fp, self.img)


def test_faces_checked_is_stored_and_an_empty_list_then_means_no_face(refs: dict[str, Fingerprint]) -> None:
    blocks = fingerprint_reference(_photo(OTHERS[0]))
    assert blocks.faces_checked and blocks.face_boxes == [] and blocks.faces_known
    stored = Fingerprint.from_bytes(blocks.to_bytes())
    assert stored.faces_checked and stored.face_boxes == []
    unlooked = _unlooked(blocks)
    assert not unlooked.faces_known and unlooked.to_bytes()[4] & 128 == 0
    # Boxes stored before the flag existed still say where the faces are.
    portrait = next(iter(refs.values()))
    older = Fingerprint.from_bytes(replace(portrait, faces_checked=False).to_bytes())
    assert older.faces_known and older.face_boxes == portrait.face_boxes
    # A candidate is fingerprinted without looking for faces: that costs tens of milliseconds.
    assert not fingerprint_candidate(_face(PAIRS[0][1])).faces_known


@pytest.mark.parametrize(("ref", "cand"), PAIRS)
def test_a_device_made_reference_uses_the_candidates_face(
    refs: dict[str, Fingerprint], ref: str, cand: str
) -> None:
    matcher = Matcher([(ref, _unlooked(refs[ref]))])
    # Without anything to look at, the fit that covers only the face is not taken as decided.
    pending = matcher.match(fingerprint_candidate(_face(cand)))
    assert pending is not None and pending.details["faces_unchecked"], pending
    # With the picture at hand the matcher asks for its faces once, and refuses the other photo.
    fp = fingerprint_candidate(_face(cand))
    faces = _Faces(_face(cand))
    assert matcher.match(fp, faces=faces) is None
    assert faces.calls == 1 and fp.faces_checked and fp.face_boxes
    # What it found is kept in the candidate's stored form: matching it again needs no picture.
    again = Fingerprint.from_bytes(fp.to_bytes())
    assert again.face_boxes == fp.face_boxes and matcher.match(again) is None


@pytest.mark.parametrize(
    "transform", ["crop20_offcentre", "screenshot", "collage_2x2", "mirror+crop20_offcentre", "undress_edit"]
)
def test_copies_of_a_device_made_portrait_still_match(refs: dict[str, Fingerprint], transform: str) -> None:
    others = [_photo(n) for n in OTHERS]
    for ref, _ in PAIRS:
        img = _bench_transforms()[transform](_face(ref), others)
        res = Matcher([(ref, _unlooked(refs[ref]))]).match(fingerprint_candidate(img), faces=_Faces(img))
        assert res is not None and res.reference_key == ref and "faces_unchecked" not in res.details, (
            ref,
            transform,
            res,
        )


def test_no_face_lookup_when_the_reference_is_known_to_have_none() -> None:
    # A crop of a photo without a face, against its reference looked at and found faceless:
    # nothing to ask; the same reference as a device makes it asks once and matches all the same.
    img = _bench_transforms()["crop20_offcentre"](_photo(OTHERS[0]), [_photo(n) for n in OTHERS])
    server_made = fingerprint_reference(_photo(OTHERS[0]))
    for reference, calls in ((server_made, 0), (_unlooked(server_made), None)):
        faces = _Faces(img)
        res = Matcher([("blocks", reference)]).match(fingerprint_candidate(img), faces=faces)
        assert res is not None and res.reference_key == "blocks"
        if calls is not None:
            assert faces.calls == calls


def test_a_device_document_cannot_say_where_faces_are(refs: dict[str, Fingerprint]) -> None:
    # A device never looks for faces; a document claiming it did would switch the check off, so
    # what it says of faces is dropped.
    portrait = next(iter(refs.values()))
    device = _unlooked(portrait)
    document = {
        "format": "jium-fingerprints",
        "version": 1,
        "fingerprints": [
            {"fingerprint": base64.b64encode(fp.to_bytes()).decode()}
            for fp in (replace(device, faces_checked=True), portrait, device)
        ],
    }
    items, skipped = parse_document(document)
    assert len(items) == 3 and not skipped
    assert not any(item.fingerprint.faces_known for item in items)
    assert all(item.fingerprint.descriptors.shape == portrait.descriptors.shape for item in items)
