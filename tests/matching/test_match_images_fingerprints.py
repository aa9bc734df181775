"""match_images --reference-fingerprints: the device-made document instead of reference images."""

from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from app.matching.decode import decode_media
from app.matching.fingerprint import fingerprint_reference
from tests.conftest import photo_paths


def test_matches_crops_against_a_fingerprint_document(tmp_path):
    ref_path, other = photo_paths()[0], photo_paths()[41]
    fp = fingerprint_reference(decode_media(ref_path.read_bytes()).frames[0])
    doc = tmp_path / "fingerprints.json"
    doc.write_text(
        json.dumps(
            {
                "format": "jium-fingerprints",
                "version": 1,
                "fingerprints": [
                    {"name": "Image 1", "fingerprint": base64.b64encode(fp.to_bytes()).decode()}
                ],
            }
        )
    )
    cands = tmp_path / "cands"
    cands.mkdir()
    img = Image.open(ref_path).convert("RGB")
    w, h = img.size
    img.crop((w // 5, h // 8, w, h)).save(cands / "a_crop.jpg")  # hashes miss this; features find it
    Image.open(other).convert("RGB").save(cands / "b_other.jpg")
    out = StringIO()
    call_command("match_images", reference_fingerprints=doc, candidates=cands, json=True, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["reference"] == "Image 1" and lines[0]["method"].startswith("orb")
    assert set(lines[0]) == {"candidate", "reference", "method", "distance"}
    assert lines[1] == {
        "candidate": str(cands / "b_other.jpg"),
        "reference": None,
        "method": None,
        "distance": None,
    }


def test_unreadable_document_is_a_clear_error(tmp_path):
    doc = tmp_path / "f.json"
    doc.write_text("[1, 2]")
    with pytest.raises(CommandError, match="not a Jium fingerprint file"):
        call_command("match_images", reference_fingerprints=doc, candidates=tmp_path, json=True)
