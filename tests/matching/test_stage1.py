"""Fast stage-1 hashes (app/matching/stage1.py): JPEGs decoded at a reduced DCT scale.

Pure functions, no database.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.matching.decode import DecodeError, decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import (
    PDQ_SIDE,
    Fingerprint,
    _pdq_of_small,
    _shrink,
    fingerprint_hash_only_bytes,
    fingerprint_reference,
)
from app.matching.stage1 import MIN_SIDE, fingerprint_stage1_bytes

from .test_matching import PHOTOS, REF_NAMES, STRANGER_NAMES, _bytes, _photo

# Pillow's EXIF transposes (1-8) in numpy, as ImageOps.exif_transpose applies them.
_ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.T,
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).T,
    8: lambda a: np.rot90(a, 1),
}


def _bits(a: bytes, b: bytes) -> int:
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def _jpeg_with_orientation(img: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_fast_hash_is_exact_pdq_of_the_block_means(orientation: int) -> None:
    """The fast hash is PDQ's whole pipeline applied to the image whose every pixel is its
    decoded block's mean: checked against that image built at full size (sides not a multiple
    of the block, every EXIF orientation, so partial blocks end up at either edge)."""
    img = _photo(REF_NAMES[2]).crop((0, 0, 1021, 711))
    data = _jpeg_with_orientation(img, orientation)
    stored = Image.open(io.BytesIO(data))
    width, height = stored.size
    media = decode_media(data, mode="L", min_side=MIN_SIDE)
    scale = media.scale
    assert scale == 4 and media.orientation == orientation
    stored.draft("L", (width // scale, height // scale))
    blocks = np.asarray(stored, np.float32)
    full = np.repeat(np.repeat(blocks, scale, 0), scale, 1)[:height, :width]
    shown = np.ascontiguousarray(_ORIENT[orientation](full))
    # The exact pipeline on float pixels (no rounding to 8 bits after the area shrink).
    expected, quality = _pdq_of_small(_shrink(shown, PDQ_SIDE))
    fast = fingerprint_stage1_bytes(data)[0]
    assert fast.pdq == expected
    assert fast.pdq_quality == quality


def test_fast_hash_stays_close_to_meta_exact_hash_and_matches() -> None:
    refs = [(name, fingerprint_reference(_photo(name))) for name in REF_NAMES]
    matcher = Matcher(refs)
    for name in REF_NAMES + STRANGER_NAMES:
        data = (PHOTOS / name).read_bytes()
        fast = fingerprint_stage1_bytes(data)[0]
        exact = fingerprint_hash_only_bytes(data)[0]
        assert _bits(fast.pdq, exact.pdq) <= 10, name
        assert abs(fast.pdq_quality - exact.pdq_quality) <= 5, name
        res = matcher.match_hash(fast)
        assert (res.reference_key if res else None) == (name if name in REF_NAMES else None), name
    # A resized, recompressed copy is still found on the fast hash alone.
    copy = _photo(REF_NAMES[3])
    copy = copy.resize((copy.width * 3 // 4, copy.height * 3 // 4), Image.Resampling.BILINEAR)
    res = matcher.match_hash(fingerprint_stage1_bytes(_bytes(copy, "JPEG", quality=60))[0])
    assert res is not None and res.reference_key == REF_NAMES[3]


def test_letterboxed_jpeg_gets_a_trimmed_hash_that_matches() -> None:
    img = _photo(REF_NAMES[0])  # 1024 x 576
    canvas = Image.new("RGB", (1024, 1024), (0, 0, 0))
    canvas.paste(img, (0, 224))
    data = _bytes(canvas, "JPEG", quality=90)
    fast = fingerprint_stage1_bytes(data)[0]
    exact = fingerprint_hash_only_bytes(data)[0]
    assert fast.pdq_trim is not None and exact.pdq_trim is not None
    assert _bits(fast.pdq_trim, exact.pdq_trim) <= 10
    matcher = Matcher([("ref", fingerprint_reference(img))])
    res = matcher.match_hash(Fingerprint(pdq=fast.pdq_trim, pdq_quality=fast.pdq_trim_quality))
    assert res is not None and res.reference_key == "ref"
    # Without a border there is no trimmed hash.
    assert fingerprint_stage1_bytes((PHOTOS / REF_NAMES[0]).read_bytes())[0].pdq_trim is None


def test_other_formats_small_and_flat_jpegs_are_hashed_the_exact_way() -> None:
    img = _photo(REF_NAMES[1])
    for data in (
        _bytes(img, "PNG"),
        _bytes(img, "WEBP", quality=90),
        _bytes(img.resize((200, 150)), "JPEG", quality=90),  # too small to decode smaller
        _bytes(Image.new("RGB", (800, 600), (120, 130, 140)), "JPEG", quality=90),  # flat
    ):
        fast, exact = fingerprint_stage1_bytes(data), fingerprint_hash_only_bytes(data)
        assert [(f.pdq, f.pdq_quality, f.pdq_trim) for f in fast] == [
            (f.pdq, f.pdq_quality, f.pdq_trim) for f in exact
        ]


def test_dct_scale_keeps_both_sides_at_least_min_side() -> None:
    img = _photo(REF_NAMES[0])  # 1024 x 576
    for size, scale in (((1024, 576), 4), ((4000, 3000), 8), ((320, 240), 1), ((600, 300), 2)):
        media = decode_media(_bytes(img.resize(size), "JPEG", quality=80), mode="L", min_side=128)
        assert media.scale == scale, size
        assert (media.width, media.height) == size
        assert media.frames[0].size == (-(-size[0] // scale), -(-size[1] // scale))
    rotated = decode_media(_jpeg_with_orientation(img, 6), mode="L", min_side=128)
    assert (rotated.width, rotated.height, rotated.frames[0].size) == (576, 1024, (144, 256))
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(_jpeg_with_orientation(img, 6)))).size == (576, 1024)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "decode_empty"),
        (b"hello, world", "not_media"),
        ((PHOTOS / REF_NAMES[0]).read_bytes()[:4000], "decode_truncated"),
        ((PHOTOS / REF_NAMES[2]).read_bytes()[:-3000], "decode_truncated"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "decode_corrupt"),
    ],
)
def test_bad_input_is_a_decode_error_at_reduced_scale_too(data: bytes, code: str) -> None:
    with pytest.raises(DecodeError) as exc:
        fingerprint_stage1_bytes(data)
    assert exc.value.code == code
