"""Band hashes (app/matching/bands.py) on real photos: what an undress edit keeps."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from app.matching.bands import (
    N_BANDS,
    _hash_buffers,
    band_distances,
    band_hashes,
    band_hashes_with_mirror,
    band_table,
)
from app.matching.decode import decode_media
from app.matching.document import parse_document
from app.matching.engine import BAND_NOMINATE, BAND_STRONG, Matcher
from app.matching.fingerprint import (
    Fingerprint,
    _pdq_of_buffer,
    fingerprint_candidate,
    fingerprint_hash_only,
    fingerprint_reference,
)
from app.matching.labels import LIKELY, MIRRORED, match_certainty, match_kind
from tests.matching.test_matching import PHOTOS, _bench_undress, _photo

OWL = "229_gcompris_explore_farm_animals_856834.jpg"
OTHERS = [
    "125_gcompris_categorization_38734.jpg",
    "045_gcompris_categorization_1251760.jpg",
    "105_gcompris_categorization_2939670.jpg",
]


def _lower_centre_replaced(img: Image.Image) -> Image.Image:
    """Half the picture, over the lower centre, painted over; then shrunk by 10 %."""
    out = img.copy()
    w, h = out.size
    ImageDraw.Draw(out).rectangle((w * 0.15, h * 0.3, w * 0.85, h), fill=(200, 120, 90))
    return out.resize((round(w * 0.9), round(h * 0.9)), Image.Resampling.LANCZOS)


def test_band_hash_is_pdq_bit_layout_and_quality() -> None:
    rng = np.random.default_rng(3)
    bufs = (rng.random((3, 64, 64)) * 255).astype(np.float32)
    codes, qualities = _hash_buffers(bufs)
    for i in range(3):
        code, quality = _pdq_of_buffer(bufs[i])
        assert codes[32 * i : 32 * (i + 1)] == code and qualities[i] == quality


def test_bands_survive_a_lower_centre_edit_and_tell_photos_apart() -> None:
    owl = fingerprint_reference(_photo(OWL))
    assert len(owl.bands) == 32 * N_BANDS and len(owl.band_qualities) == N_BANDS
    table = band_table(
        [(owl.bands, owl.band_qualities)]
        + [(fp.bands, fp.band_qualities) for fp in (fingerprint_reference(_photo(n)) for n in OTHERS)]
    )
    edited = fingerprint_candidate(_lower_centre_replaced(_photo(OWL)))
    own, *others = band_distances(table, edited.bands, edited.band_qualities)
    assert own <= 31 and min(others) > 64, (own, others)
    # The whole-picture hash does not survive the same edit.
    assert (
        int(np.unpackbits(np.frombuffer(owl.pdq, np.uint8) ^ np.frombuffer(edited.pdq, np.uint8)).sum()) > 31
    )


def test_plain_bands_and_fingerprints_without_bands_are_never_evidence() -> None:
    plain = Image.new("RGB", (400, 300), (240, 240, 240))
    ImageDraw.Draw(plain).ellipse((150, 150, 250, 300), fill=(30, 90, 200))  # only the lower centre
    fp = fingerprint_reference(plain)
    assert max(fp.band_qualities) < 50
    edited = fingerprint_candidate(_lower_centre_replaced(plain))
    assert (
        band_distances(band_table([(fp.bands, fp.band_qualities)]), edited.bands, edited.band_qualities)[0]
        == 256
    )
    # Hash-only and older (or device-made) fingerprints have no bands: quality 0, never nominated.
    owl = fingerprint_reference(_photo(OWL))
    assert fingerprint_hash_only(_photo(OWL)).bands == b""
    table = band_table([(b"", b""), (owl.bands, owl.band_qualities)])
    assert list(band_distances(table, owl.bands, owl.band_qualities)) == [256, 0]
    assert band_distances(table, b"", b"").tolist() == [256, 256]


def test_bands_round_trip_and_older_fingerprints_still_read() -> None:
    fp = fingerprint_reference(_photo(OWL))
    again = Fingerprint.from_bytes(fp.to_bytes())
    assert again.bands == fp.bands and again.band_qualities == fp.band_qualities
    assert np.array_equal(again.descriptors, fp.descriptors)
    older = Fingerprint(
        pdq=fp.pdq,
        pdq_quality=fp.pdq_quality,
        feature_size=fp.feature_size,
        keypoints=fp.keypoints,
        descriptors=fp.descriptors,
    )
    assert Fingerprint.from_bytes(older.to_bytes()).bands == b""
    try:
        Fingerprint.from_bytes(fp.to_bytes()[:-5])
    except ValueError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a cut fingerprint must not read")


# ----------------------------------------------------------------------------- mirrored edits

# (photo, fill) as the accuracy bench pairs them for undress_edit, found only by the banded path:
# the owl keeps its branches (inliers in a clump, band 12 bits), the windmill its sails (a seed
# too weak for guided matching). Flipped after the edit, as reposts are to evade matching.
MIRRORED_CASES = [
    ("229_gcompris_explore_farm_animals_856834.jpg", "231_gcompris_explore_world_music_1676863.jpg"),
    ("125_gcompris_categorization_38734.jpg", "075_gcompris_categorization_2254170.jpg"),
]
# An LFW portrait (aligned like all of them: face centred, black corner wedges) whose mirror image
# has a band within 10 bits of another person's photo, well inside BAND_STRONG: the closest such
# pair among faces-dev's 759 other photos, mirrored, against photo 1 of its 100 people.
FACES = PHOTOS.parent / "faces-dev"
FACE_REFERENCE = FACES / "people" / "Kimi_Raikkonen" / "1.jpg"
FACE_STRANGER = FACES / "distractors" / "Edina_Batar" / "1.jpg"


def test_mirror_bands_are_the_bands_of_the_flipped_picture() -> None:
    # Computed from the flipped pixels, exactly; the picture's own bands exactly as band_hashes
    # gives them (references use that, and nothing about them may move).
    small = np.asarray(_photo(OWL))
    hashes, qualities, mirror, mirror_qualities = band_hashes_with_mirror(small)
    assert (hashes, qualities) == band_hashes(small)
    assert (mirror, mirror_qualities) == band_hashes(np.ascontiguousarray(small[:, ::-1]))
    assert mirror != hashes


@pytest.fixture(scope="module")
def mirror_matcher() -> Matcher:
    names = [name for name, _ in MIRRORED_CASES] + OTHERS[1:]
    refs = [(name, fingerprint_reference(_photo(name))) for name in names]
    face = decode_media(FACE_REFERENCE.read_bytes()).frames[0]
    return Matcher([*refs, ("face", fingerprint_reference(face))])


def _mirrored_undress(name: str, fill: str) -> Image.Image:
    return ImageOps.mirror(_bench_undress()(_photo(name), [_photo(fill)]))


def test_mirrored_undress_edit_is_found_through_its_mirror_bands(mirror_matcher: Matcher) -> None:
    for name, fill in MIRRORED_CASES:
        edited = fingerprint_candidate(_mirrored_undress(name, fill))
        assert edited.mirror_bands and len(edited.mirror_band_qualities) == N_BANDS
        # Unmirrored, its bands are as far from the reference's as an unrelated photo's.
        assert mirror_matcher._banded(edited) == []
        res = mirror_matcher.match(edited)
        assert res is not None and res.reference_key == name, (name, res)
        json.dumps(res.details)
        assert res.method.endswith("-mirror") and res.details["mirrored"] is True, res
        assert res.details["guided"] is True and res.details["band_distance"] <= BAND_NOMINATE, res
        assert res.details["frame_drift"] <= 0.03 and res.details["inliers"] >= 24, res
        assert match_kind(res.method) == MIRRORED
        assert match_certainty(res.method, res.distance, res.details) == LIKELY  # never more
        # A kept candidate matched again later decides as the scan did ...
        again = Fingerprint.from_bytes(edited.to_bytes())
        assert again.mirror_bands == edited.mirror_bands
        assert again.mirror_band_qualities == edited.mirror_band_qualities
        res_again = mirror_matcher.match(again)  # (keypoints kept to a quarter pixel)
        assert res_again is not None and res_again.reference_key == name and res_again.method == res.method
        assert res_again.details["band_distance"] == res.details["band_distance"]
        # ... and one kept before candidates had mirror bands reads and matches as it did then:
        # the mirror bands are what finds the flipped edit.
        older = Fingerprint.from_bytes(
            replace(edited, mirror_bands=b"", mirror_band_qualities=b"").to_bytes()
        )
        assert older.mirror_bands == b"" and older.bands == edited.bands
        assert mirror_matcher.match(older) is None


def test_unmirrored_edits_and_older_fingerprints_match_as_before(mirror_matcher: Matcher) -> None:
    # References keep no mirror bands (none grows; their mirror view's features are enough).
    owl = fingerprint_reference(_photo(MIRRORED_CASES[0][0]))
    assert owl.mirror_bands == b"" and Fingerprint.from_bytes(owl.to_bytes()).mirror_bands == b""
    for name, fill in MIRRORED_CASES:
        edited = fingerprint_candidate(_bench_undress()(_photo(name), [_photo(fill)]))
        res = mirror_matcher.match(edited)
        assert res is not None and res.reference_key == name and "band_distance" in res.details, res
        assert not res.method.endswith("-mirror") and "mirrored" not in res.details, res
        # Kept with and without mirror bands, it is matched again the same way.
        kept = mirror_matcher.match(Fingerprint.from_bytes(edited.to_bytes()))
        older = replace(edited, mirror_bands=b"", mirror_band_qualities=b"")
        assert kept is not None and mirror_matcher.match(Fingerprint.from_bytes(older.to_bytes())) == kept
    # A blob cut inside the mirror bands does not read.
    blob = fingerprint_candidate(_photo(OTHERS[0])).to_bytes()
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(blob[:-5])


def test_unrelated_mirrored_photos_are_not_found(mirror_matcher: Matcher) -> None:
    # Another person's portrait, mirrored, untouched or edited: a band within 10 bits nominates
    # the reference, and the whole-frame verification against its mirror view turns it down.
    stranger = decode_media(FACE_STRANGER.read_bytes()).frames[0]
    fill = _photo(MIRRORED_CASES[0][1])
    face = mirror_matcher.keys.index("face")
    untouched = fingerprint_candidate(ImageOps.mirror(stranger))
    dist = band_distances(mirror_matcher._bands, untouched.mirror_bands, untouched.mirror_band_qualities)
    assert dist[face] <= BAND_STRONG, dist  # the strongest nomination: clumped inliers would do
    for fp in (untouched, fingerprint_candidate(ImageOps.mirror(_bench_undress()(stranger, [fill])))):
        assert not [v for _, v in mirror_matcher._banded(fp, mirrored=True) if Matcher._accept_banded(v)]
        assert mirror_matcher.match(fp) is None
    # Photos of photos-dev, mirrored, untouched or edited: nothing even nominated.
    for name in ("051_gcompris_categorization_1556234.jpg", "067_gcompris_categorization_204706.jpg"):
        for variant in (
            ImageOps.mirror(_photo(name)),
            ImageOps.mirror(_bench_undress()(_photo(name), [fill])),
        ):
            fp = fingerprint_candidate(variant)
            assert mirror_matcher._banded(fp, mirrored=True) == [], name
            assert mirror_matcher.match(fp) is None, name
    # A plain top band, mirrored or not, is never evidence (quality under 50 on both sides).
    plain = Image.new("RGB", (400, 300), (240, 240, 240))
    ImageDraw.Draw(plain).ellipse((150, 150, 250, 300), fill=(30, 90, 200))
    table = band_table([(fingerprint_reference(plain).bands, fingerprint_reference(plain).band_qualities)])
    fp = fingerprint_candidate(ImageOps.mirror(plain))
    assert band_distances(table, fp.mirror_bands, fp.mirror_band_qualities)[0] == 256


def test_a_reference_document_with_mirror_bands_is_refused() -> None:
    # Mirror bands are a fetched picture's; a reference uploaded with them (no page makes one)
    # would only store 297 bytes nothing reads.
    candidate = fingerprint_candidate(_photo(OWL))
    reference = fingerprint_reference(_photo(OWL))
    document = {
        "format": "jium-fingerprints",
        "version": 1,
        "fingerprints": [
            {"fingerprint": base64.b64encode(fp.to_bytes()).decode()}
            for fp in (
                replace(
                    reference,
                    mirror_bands=candidate.mirror_bands,
                    mirror_band_qualities=candidate.mirror_band_qualities,
                ),
                reference,
            )
        ],
    }
    items, skipped = parse_document(document)
    assert len(items) == 1 and items[0].fingerprint.bands == reference.bands
    assert skipped == ["#1: mirror band hashes belong to fetched pictures, not references"]
