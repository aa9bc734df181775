"""Band hashes (app/matching/bands.py) on real photos: what an undress edit keeps."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from app.matching.bands import N_BANDS, _hash_buffers, band_distances, band_table
from app.matching.decode import decode_media
from app.matching.fingerprint import (
    Fingerprint,
    _pdq_of_buffer,
    fingerprint_candidate,
    fingerprint_hash_only,
    fingerprint_reference,
)
from tests.matching.test_matching import PHOTOS

OWL = "229_gcompris_explore_farm_animals_856834.jpg"
OTHERS = [
    "125_gcompris_categorization_38734.jpg",
    "045_gcompris_categorization_1251760.jpg",
    "105_gcompris_categorization_2939670.jpg",
]


def _photo(name: str) -> Image.Image:
    return decode_media((PHOTOS / name).read_bytes()).frames[0]


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
