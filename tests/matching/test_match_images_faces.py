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


def _video(*photos: Path) -> bytes:
    """A small MP4 whose scenes are the given photos, each centred on a 480x320 frame."""
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=4)
        stream.width, stream.height, stream.pix_fmt = 480, 320, "yuv420p"
        for path in photos:
            frame = Image.new("RGB", (480, 320), (90, 90, 100))
            frame.paste(Image.open(path).convert("RGB"), (115, 35))
            for _ in range(8):  # 2 s per scene
                for packet in stream.encode(av.VideoFrame.from_image(frame)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_the_face_is_found_in_a_video_keyframe(tmp_path: Path) -> None:
    faces, cands = tmp_path / "faces", tmp_path / "cands"
    faces.mkdir()
    cands.mkdir()
    shutil.copy(FACES / "people" / PERSON / "1.jpg", faces / "me.jpg")
    scenes = [FACES / "people" / OTHER / "1.jpg", photo_paths()[0], FACES / "people" / PERSON / "2.jpg"]
    (cands / "clip.mp4").write_bytes(_video(*scenes))
    (line,) = _lines(faces=faces, candidates=cands)
    assert line["method"] == "face" and line["reference"] == str(faces / "me.jpg")
    assert line["frame"] >= 1  # the person appears only in the last scene


def test_nothing_to_match_with_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("match_images", candidates=tmp_path)
    with pytest.raises(CommandError):
        call_command("match_images", candidates=tmp_path, faces=tmp_path / "missing")
