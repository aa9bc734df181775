"""vPDQ (app/matching/vpdq.py): frame selection, Meta's and HMA's formats, the match rule, bad input.

Pure functions, no database. Videos are written with PyAV from photos-dev.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageOps

from app.matching.decode import DecodeError, decode_media
from app.matching.fingerprint import pdq_hash
from app.matching.vpdq import (
    MAX_FEATURES,
    VpdqComparison,
    VpdqFeature,
    VpdqFormatError,
    VpdqFrames,
    VpdqMatcher,
    comparison_details,
    vpdq_compare,
    vpdq_from_bytes,
    vpdq_from_signal,
    vpdq_from_text,
    vpdq_hash_reference,
    vpdq_hash_video,
    vpdq_is_match,
    vpdq_to_bytes,
    vpdq_to_signal,
    vpdq_to_text,
)

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos-dev"
NAMES = sorted(p.name for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def _photo(i: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    return Image.open(PHOTOS / NAMES[i]).convert("RGB").resize(size)


def _video(
    photos: list[Image.Image],
    *,
    fps: int = 10,
    seconds_each: int = 2,
    fmt: str = "mp4",
    codec: str = "libx264",
) -> bytes:
    out = io.BytesIO()
    w, h = photos[0].size
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for img in photos:
            for _ in range(fps * seconds_each):
                for packet in stream.encode(av.VideoFrame.from_image(img)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _flip_bits(h: bytes, n: int) -> bytes:
    bits = np.unpackbits(np.frombuffer(h, np.uint8))
    bits[:n] ^= 1
    return np.packbits(bits).tobytes()


def _f(i: int, pdq: bytes, quality: int = 100) -> VpdqFeature:
    return VpdqFeature(i, quality, pdq, float(i))


# ----------------------------------------------------------------------------- hashing


@pytest.mark.parametrize(("fmt", "codec"), [("mp4", "libx264"), ("webm", "libvpx-vp9"), ("mov", "libx264")])
def test_one_frame_a_second_counted_in_frames_as_meta_does(fmt: str, codec: str) -> None:
    photos = [_photo(i) for i in (0, 10, 20)]
    data = _video(photos, fps=10, seconds_each=2, fmt=fmt, codec=codec)
    features = vpdq_hash_video(data)
    # 60 frames at 10 fps: frame n is hashed when n % 10 == 0, its timestamp is n / 10.
    assert [f.frame_number for f in features] == list(range(0, 60, 10))
    assert [f.timestamp for f in features] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(f.quality >= 50 for f in features)
    # Each hash is the PDQ of the frame shown then (a re-encoded picture: a few bits off at most).
    frames = decode_media(data).frames
    assert pdq_hash(frames[0])[0] != pdq_hash(frames[-1])[0]
    for f, photo in zip(features[::2], photos, strict=True):
        distance = int(
            np.unpackbits(
                np.frombuffer(bytes(a ^ b for a, b in zip(f.pdq, pdq_hash(photo)[0], strict=True)), np.uint8)
            ).sum()
        )
        assert distance <= 16, distance
    # Two seconds a hash: every 20th frame.
    assert [f.frame_number for f in vpdq_hash_video(data, seconds_per_hash=2.0)] == [0, 20, 40]


def test_bad_videos_are_decode_errors() -> None:
    data = _video([_photo(0), _photo(10)])
    with pytest.raises(DecodeError) as empty:
        vpdq_hash_video(b"")
    assert empty.value.code == "decode_empty"
    with pytest.raises(DecodeError) as image:
        vpdq_hash_video((PHOTOS / NAMES[0]).read_bytes())
    assert image.value.code == "not_media"
    with pytest.raises(DecodeError) as corrupt:
        vpdq_hash_video(data[:600])  # the header and nothing else
    assert corrupt.value.code == "decode_corrupt"
    garbage = data[:32] + bytes(range(256)) * 40
    with pytest.raises(DecodeError) as garbled:
        vpdq_hash_video(garbage)
    assert garbled.value.code == "decode_corrupt"
    with pytest.raises(DecodeError) as tiny:
        vpdq_hash_video(data, max_pixels=100)
    assert tiny.value.code == "decode_too_large"
    with pytest.raises(ValueError):
        vpdq_hash_video(data, seconds_per_hash=0)


@pytest.mark.parametrize(("fmt", "codec"), [("mp4", "libx264"), ("webm", "libvpx-vp9")])
def test_video_with_zero_frames_is_a_decode_error(fmt: str, codec: str) -> None:
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        container.start_encoding()  # headers and a video stream, but not one frame
        for packet in stream.encode():
            container.mux(packet)
    assert len(out.getvalue()) > 200
    with pytest.raises(DecodeError) as exc:
        vpdq_hash_video(out.getvalue())
    assert exc.value.code == "decode_corrupt"


def test_video_cut_short_keeps_the_frames_before_the_cut() -> None:
    data = _video([_photo(i) for i in (0, 10, 20, 30)], seconds_each=3)
    full = vpdq_hash_video(data)
    # WebM/MP4 written by PyAV put the index at the end for MP4; cut a WebM instead (streamable).
    webm = _video([_photo(i) for i in (0, 10, 20, 30)], seconds_each=3, fmt="webm", codec="libvpx-vp9")
    part = vpdq_hash_video(webm[: len(webm) // 2])
    assert 1 <= len(part) < len(full) == 12


def test_only_the_first_ten_minutes_are_hashed() -> None:
    data = _video([_photo(0), _photo(10)], seconds_each=3)
    assert [f.timestamp for f in vpdq_hash_video(data, max_video_seconds=2.5)] == [0.0, 1.0, 2.0]


def _decoded(data: bytes, **kwargs: object) -> tuple[list[bytes], str]:
    try:
        media = decode_media(data, **kwargs)  # type: ignore[arg-type]
    except DecodeError as exc:
        return [], exc.code
    return [np.asarray(f).tobytes() for f in media.frames], ""


def _hashed(hasher: VpdqFrames) -> tuple[object, str]:
    try:
        return hasher.result(), ""
    except DecodeError as exc:
        return None, exc.code


@pytest.mark.parametrize(
    ("fmt", "codec", "cut", "max_frames", "hasher_seconds"),
    [
        ("mp4", "libx264", False, 40, 600.0),  # vPDQ and keyframes end together
        ("mp4", "libx264", False, 2, 600.0),  # vPDQ goes on after the last keyframe
        ("mp4", "libx264", False, 40, 1.5),  # the keyframes go on after vPDQ has stopped
        ("webm", "libvpx-vp9", True, 40, 600.0),  # cut short: both keep what came before the cut
    ],
)
def test_one_decoding_gives_the_keyframes_and_vpdq_hash_that_two_did(
    fmt: str, codec: str, cut: bool, max_frames: int, hasher_seconds: float
) -> None:
    data = _video([_photo(i) for i in (0, 10, 20, 30)], seconds_each=3, fmt=fmt, codec=codec)
    if cut:
        data = data[: len(data) // 2]
    for between in (1, 5):
        hasher = VpdqFrames(between=between, max_video_seconds=hasher_seconds)
        offered: list[int] = []

        def sink(stream: object, hasher: VpdqFrames = hasher, offered: list[int] = offered) -> object:
            offer = hasher.start(stream)

            def counted(number: int, frame: object) -> bool:
                offered.append(number)
                return offer(number, frame)

            return counted

        together = _decoded(data, max_frames=max_frames, frame_sink=sink)
        assert together == _decoded(data, max_frames=max_frames) and together[0]
        alone = _hash_video_alone(data, between, hasher_seconds)
        assert _hashed(hasher) == alone and alone[0]
        assert offered == list(range(len(offered))), "each frame offered once, in decoding order"


def _hash_video_alone(data: bytes, between: int, seconds: float) -> tuple[object, str]:
    try:
        if between == 1:
            return (vpdq_hash_video(data, max_video_seconds=seconds), []), ""
        return vpdq_hash_reference(data, between=between, max_video_seconds=seconds), ""
    except DecodeError as exc:
        return None, exc.code


def test_a_frame_too_large_for_vpdq_fails_the_hash_not_the_keyframes() -> None:
    data = _video([_photo(0), _photo(10)], seconds_each=2)
    hasher = VpdqFrames(max_pixels=320 * 240 - 1)
    frames, code = _decoded(data, frame_sink=hasher.start)
    assert frames and not code and frames == _decoded(data)[0]
    assert _hashed(hasher) == (None, "decode_too_large")
    with pytest.raises(DecodeError) as refused:
        vpdq_hash_video(data, max_pixels=320 * 240 - 1)
    assert refused.value.code == "decode_too_large"


# ----------------------------------------------------------------------------- formats


def test_meta_text_format_round_trip_and_errors() -> None:
    h = bytes(range(32))
    features = [VpdqFeature(0, 100, h, 0.0), VpdqFeature(30, 87, _flip_bits(h, 3), 1.001)]
    text = vpdq_to_text(features)
    assert text.splitlines() == [f"0,100,{h.hex()},0.000", f"30,87,{_flip_bits(h, 3).hex()},1.001"]
    assert vpdq_from_text(text) == features
    assert vpdq_from_text("\n" + text.upper().replace("X", "x") + "\n\n") == features  # hex in capitals
    bad = {
        f"0,100,{h.hex()}": 1,  # three fields
        f"0,100,{h.hex()},0.0\n1,100,{h.hex()[:-1]},1.0": 2,  # short hash
        f"0,101,{h.hex()},0.0": 1,  # quality out of range
        f"0,100,{h.hex()},-1": 1,  # negative time
        f"0,100,{h.hex()},nan": 1,
        f"x,100,{h.hex()},0": 1,
        f"0,100,{'g' * 64},0": 1,
    }
    for text_, line in bad.items():
        with pytest.raises(VpdqFormatError) as exc:
            vpdq_from_text(text_)
        assert exc.value.line == line, text_
    with pytest.raises(VpdqFormatError):
        vpdq_from_text("  \n")
    with pytest.raises(VpdqFormatError):
        vpdq_from_text(f"0,100,{h.hex()},0\n" * (MAX_FEATURES + 1))


def test_hma_signal_round_trip_old_form_and_errors() -> None:
    h = bytes(range(32))
    features = [VpdqFeature(0, 100, h, 0.0), VpdqFeature(1, 60, _flip_bits(h, 9), 1.0)]
    signal = vpdq_to_signal(features)
    assert json.loads(signal) == [f"{h.hex()},100,0.000", f"{_flip_bits(h, 9).hex()},60,1.000"]
    # The compact form has no frame numbers: they come back in list order.
    assert vpdq_from_signal(signal) == features
    older = json.dumps(
        {
            "5": {"quality": 90, "hash": h.hex(), "timestamp": 0.2},
            "0": {"quality": 80, "hash": h.hex(), "timestamp": 0},
        }
    )
    assert [(f.frame_number, f.quality) for f in vpdq_from_signal(older)] == [(0, 80), (5, 90)]
    for bad in (
        "not json",
        "[]",
        "{}",
        "3",
        '["abc"]',
        f'["{h.hex()},100"]',
        "[1, 2]",
        '{"0": 5}',
        "[" * 100000,
    ):
        with pytest.raises(VpdqFormatError):
            vpdq_from_signal(bad)


def test_storage_bytes_round_trip_and_damage() -> None:
    h = bytes(range(32))
    features = [VpdqFeature(i * 25, 50 + i, _flip_bits(h, i), i * 1.0) for i in range(5)]
    blob = vpdq_to_bytes(features)
    assert len(blob) == 8 + 41 * 5
    assert vpdq_from_bytes(blob) == features
    for damaged in (b"", b"JFP" + blob[3:], blob[:-1], blob + b"\x00", blob[:3] + b"\x09" + blob[4:]):
        with pytest.raises(VpdqFormatError):
            vpdq_from_bytes(damaged)


# ----------------------------------------------------------------------------- matching


def test_match_rule_threshold_dedupe_and_quality_filter() -> None:
    rng = np.random.default_rng(7)
    base = [rng.bytes(32) for _ in range(4)]
    ref = [_f(i, h) for i, h in enumerate(base)]
    # 31 bits away still matches (inclusive, as python-threatexchange), 32 does not.
    near = [_f(0, _flip_bits(base[0], 31)), _f(1, _flip_bits(base[1], 32))]
    c = vpdq_compare(near, ref)
    assert (c.query_matched, c.query_frames, c.compared_matched, c.compared_frames) == (1, 2, 1, 4)
    assert c.query_percent == 50.0 and c.compared_percent == 25.0 and c.mean_distance == 31.0
    # Identical hashes count once; frames under quality 50 are not compared at all.
    repeated = [_f(i, base[0]) for i in range(10)] + [_f(10, base[1], quality=49)]
    c = vpdq_compare(repeated, ref)
    assert (c.query_frames, c.query_matched, c.query_percent) == (1, 1, 100.0)
    assert (c.query_from, c.query_to) == (0.0, 0.0)
    # Nothing usable on one side: 0 %, never a division by zero, never a match.
    flat = vpdq_compare([_f(0, base[0], quality=10)], ref)
    assert flat.query_percent == flat.compared_percent == 0.0 and not vpdq_is_match(flat)


def test_jium_rule_accepts_either_side_at_eighty_percent() -> None:
    def cmp(q: float, c: float) -> VpdqComparison:
        return VpdqComparison(q, c, 10, 10, int(q // 10), int(c // 10), 3.0, 0.0, 1.0)

    assert vpdq_is_match(cmp(100, 30))  # a cut from the reference (HMA's own rule)
    assert vpdq_is_match(cmp(30, 100))  # the reference inside a longer video
    assert vpdq_is_match(cmp(80, 0.0 + 10))
    assert not vpdq_is_match(cmp(70, 70))
    assert not vpdq_is_match(cmp(0, 0))


def test_matcher_finds_cuts_and_longer_videos_and_not_others() -> None:
    photos = [_photo(i) for i in range(0, 60, 10)]
    reference = vpdq_hash_video(_video(photos))
    other = vpdq_hash_video(_video([_photo(i) for i in range(3, 60, 10)]))
    matcher = VpdqMatcher([("ref", reference), ("other", other)])
    assert len(matcher) == 2
    cut = vpdq_hash_video(_video(photos[2:4], fps=12))  # another frame rate too
    key, result = matcher.match(cut) or (None, None)
    assert (
        key == "ref" and result is not None and result.query_percent == 100.0 and result.compared_percent < 50
    )
    longer = vpdq_hash_video(_video([_photo(5), *photos, _photo(15), _photo(25)]))
    found = matcher.match(longer)
    assert found is not None and found[0] == "ref" and found[1].compared_percent == 100.0
    details = comparison_details(found[1])
    assert details["reference_percent"] == 100.0 and details["from_seconds"] == 2.0
    assert matcher.match(vpdq_hash_video(_video([_photo(i) for i in range(7, 60, 10)]))) is None
    # Plain PDQ per frame: a mirrored copy is not a vPDQ match (the keyframes' flipped hashes are).
    assert matcher.match(vpdq_hash_video(_video([ImageOps.mirror(p) for p in photos]))) is None


def _pan(seconds: int, fps: int, offset: int = 0) -> list[Image.Image]:
    """A slow pan across one photo, 3 px a frame: neighbouring seconds differ by far more than PDQ's
    threshold, neighbouring frames do not."""
    photo = _photo(20, (900, 300))
    return [photo.crop((3 * i, 0, 3 * i + 320, 240)) for i in range(offset, offset + seconds * fps)]


def _frames_video(frames: list[Image.Image], fps: int) -> bytes:
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_reference_frames_in_between_let_a_cut_from_any_frame_match() -> None:
    fps = 10
    reference = _frames_video(_pan(8, fps), fps)
    main, between = vpdq_hash_reference(reference)
    # Meta's frames exactly, and 4 more a second in between (never the same frame twice).
    assert main == vpdq_hash_video(reference)
    assert [f.frame_number for f in between[:4]] == [2, 4, 6, 8]
    assert len(between) == 80 // 2 - 8 and not {f.frame_number for f in main} & {
        f.frame_number for f in between
    }
    # A cut starting half a second in: its frames a second apart fall between the reference's.
    cut = vpdq_hash_video(_frames_video(_pan(4, fps, offset=25), fps))
    plain = vpdq_compare(cut, main)
    dense = vpdq_compare(cut, main, compared_between=between)
    assert plain.query_percent < 80 <= dense.query_percent
    assert dense.compared_percent == plain.compared_percent  # the reference's share: its own frames only
    assert VpdqMatcher([("ref", main)]).match(cut) is None
    assert VpdqMatcher([("ref", main)], {"ref": between}).match(cut) is not None
    assert vpdq_hash_reference(reference, between=1)[1] == []
