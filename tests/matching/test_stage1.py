"""Fast stage-1 hashes (app/matching/stage1.py): JPEGs decoded at a reduced DCT scale.

Pure functions, no database.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import simplejpeg  # noqa: F401  # pinned in uv.lock: a stale virtualenv fails here, plainly (uv sync)
from PIL import Image, ImageOps

from app.matching.decode import DecodeError, _jpeg_orientation, decode_jpeg_blocks, decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import (
    PDQ_MIN_QUALITY,
    PDQ_SIDE,
    Fingerprint,
    _pdq_of_small,
    _shrink,
    fingerprint_hash_only,
    fingerprint_hash_only_bytes,
    fingerprint_reference,
)
from app.matching.stage1 import MIN_SIDE, fingerprint_stage1_bytes, stage1_of_decoded

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


def _hashes(fps: list[Fingerprint] | None) -> object:
    return fps and [(f.pdq, f.pdq_quality, f.pdq_trim, f.pdq_trim_quality) for f in fps]


def _photos_dev() -> list[bytes]:
    return [p.read_bytes() for p in sorted(PHOTOS.iterdir()) if p.suffix.lower() in {".jpg", ".jpeg"}]


def test_simplejpeg_blocks_are_pillows_draft_pixels() -> None:
    """decode_jpeg_blocks (simplejpeg) gives the very pixels Pillow's draft mode gave, at the same
    scale, on every photos-dev JPEG and for every EXIF orientation."""
    datas = _photos_dev()
    img = _photo(REF_NAMES[2]).crop((0, 0, 1021, 711))
    datas += [_jpeg_with_orientation(img, o) for o in range(1, 9)]
    datas.append(_bytes(img.convert("L"), "JPEG", quality=85))  # a greyscale JPEG
    datas.append(_bytes(img, "JPEG", quality=85, progressive=True))
    scales = []
    for data in datas:
        blocks = decode_jpeg_blocks(data, min_side=MIN_SIDE)
        media = decode_media(data, draft_size=PDQ_SIDE, mode="L", min_side=MIN_SIDE)
        assert blocks is not None
        scales.append(blocks.scale)
        assert (blocks.scale, blocks.orientation) == (media.scale, media.orientation)
        assert (blocks.width, blocks.height) == (media.width, media.height)
        np.testing.assert_array_equal(blocks.pixels, np.asarray(media.frames[0]))
        assert _hashes(stage1_of_decoded(blocks)) == _hashes(stage1_of_decoded(media))
    # photos-dev has all four: 1024 px photos at 1/4, 320 px thumbnails at 1/2, 320x213 ones
    # in full (hashed the exact way, from simplejpeg's pixels instead of Pillow's).
    assert scales.count(4) >= 50 and scales.count(2) >= 30 and scales.count(1) >= 15


def test_simplejpeg_draft_decode_is_decode_medias_in_both_modes() -> None:
    """The exact (exported) hashes decode JPEGs through simplejpeg at Pillow's draft scale: the
    very pixels decode_media gives, luma and RGB, every EXIF orientation, greyscale, progressive,
    small and large; so their hashes are unchanged (those agree with Meta's tools, tested)."""
    img = _photo(REF_NAMES[2]).crop((0, 0, 1021, 711))
    datas = [_jpeg_with_orientation(img, o) for o in range(1, 9)]
    datas += [_bytes(img.convert("L"), "JPEG", quality=85), _bytes(img, "JPEG", quality=85, progressive=True)]
    datas += [_bytes(img.resize((3000, 1000)), "JPEG", quality=80), _bytes(img.resize((300, 200)), "JPEG")]
    datas += _photos_dev()[::7]
    for data in datas:
        for mode in ("L", "RGB"):
            fast = decode_jpeg_blocks(data, draft_size=PDQ_SIDE, mode=mode)
            media = decode_media(data, draft_size=PDQ_SIDE, mode=mode)
            assert fast is not None
            assert (fast.scale, fast.orientation, fast.width, fast.height) == (
                media.scale, media.orientation, media.width, media.height,
            )  # fmt: skip
            np.testing.assert_array_equal(fast.pixels, np.asarray(media.frames[0]))


def test_exact_hash_of_a_near_flat_jpeg_still_comes_from_rgb() -> None:
    """Below PDQ's quality floor the exported hash is taken from RGB, as Meta's tools do: the
    fast decode must not change which pixels that is."""
    flat = Image.new("RGB", (640, 480), (120, 121, 119))
    flat.paste((123, 120, 121), (0, 0, 320, 240))
    data = _bytes(flat, "JPEG", quality=95)
    fp = fingerprint_hash_only_bytes(data)[0]
    assert fp.pdq_quality < PDQ_MIN_QUALITY
    rgb = decode_media(data, draft_size=PDQ_SIDE, mode="RGB").frames[0]
    assert (fp.pdq, fp.pdq_quality) == (
        fingerprint_hash_only(rgb).pdq,
        fingerprint_hash_only(rgb).pdq_quality,
    )
    luma = decode_media(data, draft_size=PDQ_SIDE, mode="L").frames[0]
    assert fingerprint_hash_only(luma).pdq != fp.pdq  # so the test tells the two apart


def test_fast_hash_is_within_a_few_bits_of_the_exact_hash_on_every_photos_dev_jpeg() -> None:
    """PDQ's match distance is 31 bits: the fast hash spends at most a third of it on any photo.
    Trimmed hashes are looser (the border is found on the blocks, so its edge can fall a block
    apart): most photos agree on whether there is a border at all."""
    trims, disagree = [], 0
    for path in sorted(PHOTOS.iterdir()):
        if path.suffix.lower() not in {".jpg", ".jpeg"}:
            continue
        data = path.read_bytes()
        fast = fingerprint_stage1_bytes(data)[0]
        exact = fingerprint_hash_only_bytes(data)[0]
        assert _bits(fast.pdq, exact.pdq) <= 12, path.name
        assert abs(fast.pdq_quality - exact.pdq_quality) <= 5, path.name
        if fast.pdq_trim is not None and exact.pdq_trim is not None:
            trims.append(_bits(fast.pdq_trim, exact.pdq_trim))
        else:
            disagree += fast.pdq_trim is not exact.pdq_trim
    assert len(trims) >= 30 and disagree <= 6
    assert np.median(trims) <= 8 and max(trims) <= 48


def test_cmyk_and_damaged_jpegs_are_left_to_pillow() -> None:
    img = _photo(REF_NAMES[1])
    cmyk = _bytes(img.convert("CMYK"), "JPEG", quality=90)
    assert decode_jpeg_blocks(cmyk, min_side=MIN_SIDE) is None
    assert _bits(fingerprint_stage1_bytes(cmyk)[0].pdq, fingerprint_hash_only_bytes(cmyk)[0].pdq) <= 12
    good = (PHOTOS / REF_NAMES[0]).read_bytes()
    assert decode_jpeg_blocks(good[: len(good) // 2], min_side=MIN_SIDE) is None
    # Over the pixel limit: decode_media refuses it, with its code.
    assert decode_jpeg_blocks(good, min_side=MIN_SIDE, max_pixels=1000) is None
    with pytest.raises(DecodeError) as exc:
        fingerprint_stage1_bytes(good, max_pixels=1000)
    assert exc.value.code == "decode_too_large"


def _with_app1(data: bytes, payload: bytes) -> bytes:
    return data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


@pytest.mark.parametrize("orientation", range(10))
def test_exif_orientation_is_read_as_pillow_reads_it(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x010F] = "camera"
    exif[0x0112] = orientation
    buf = io.BytesIO()
    _photo(REF_NAMES[0]).resize((64, 36)).save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    expected = Image.open(io.BytesIO(data)).getexif().get(0x0112, 1)
    found = _jpeg_orientation(data)
    # None: left to Pillow (values it does not know how to apply).
    assert found == expected if 1 <= orientation <= 8 else found is None


def test_exif_orientation_big_endian_missing_and_xmp() -> None:
    plain = _bytes(_photo(REF_NAMES[0]).resize((64, 36)), "JPEG")
    assert _jpeg_orientation(plain) == 1
    tiff = b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big")
    tiff += (
        (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big") + b"\x00\x06\x00\x00"
    )
    big_endian = _with_app1(plain, b"Exif\x00\x00" + tiff + b"\x00" * 4)
    assert _jpeg_orientation(big_endian) == 6 == Image.open(io.BytesIO(big_endian)).getexif().get(0x0112)
    # XMP can carry an orientation that Pillow applies: that file is left to Pillow.
    xmp = _with_app1(plain, b'http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta tiff:Orientation="8"/>')
    assert _jpeg_orientation(xmp) is None
    blocks = decode_jpeg_blocks(
        _with_app1(
            _bytes(_photo(REF_NAMES[0]), "JPEG"), b'http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation="8"/>'
        ),
        min_side=MIN_SIDE,
    )
    assert blocks is not None and blocks.orientation == 8 and (blocks.width, blocks.height) == (576, 1024)
    # A damaged EXIF block: left to Pillow, which decides.
    assert _jpeg_orientation(_with_app1(plain, b"Exif\x00\x00II\x2a\x00\xff\xff\xff\xff")) is None
