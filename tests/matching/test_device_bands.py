"""Band hashes made on the person's device (static/fingerprint/core.js, run in Node with the
page's own OpenCV.js) against the server's (app/matching/bands.py), on the same decoded pixels;
and an undress edit of a device-made reference found through them."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.matching.bands import HASH_BYTES, MIN_QUALITY, N_BANDS, band_hashes
from app.matching.decode import decode_media
from app.matching.document import parse_document
from app.matching.engine import Matcher
from app.matching.fingerprint import PDQ_SIDE, Fingerprint, _shrink, fingerprint_candidate
from app.matching.pixels import as_array
from tests.conftest import PHOTOS, REPO
from tests.matching.test_matching import BANDED_CASES, _bench_undress, _photo

NODE = shutil.which("node")
HARNESS = Path(__file__).with_name("device_core_node.js")
pytestmark = pytest.mark.skipif(
    NODE is None or not (REPO / "node_modules" / "@techstark" / "opencv-js").is_dir(),
    reason="needs Node and the page's OpenCV.js (scripts/_common.sh installs both)",
)


def _run_core(tmp_path: Path, images: list[Image.Image], mode: str) -> list[dict[str, Any]]:
    """core.js on exactly these pixels (the server's decode), one answer per image."""
    jobs = []
    for i, img in enumerate(images):
        raw = tmp_path / f"{i}.rgba"
        raw.write_bytes(np.asarray(img.convert("RGBA")).tobytes())
        jobs.append({"rgba": str(raw), "w": img.width, "h": img.height, "mode": mode})
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    try:
        out = subprocess.run(
            [str(NODE), str(HARNESS), str(tmp_path / "jobs.json")],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
    finally:
        for job in jobs:  # up to 3 MB of pixels each
            Path(job["rgba"]).unlink()
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(images)
    return answers


def _bits(a: bytes, b: bytes) -> int:
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def test_device_band_hashes_are_the_servers(tmp_path: Path) -> None:
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() == ".jpg")[::2]
    images = [decode_media(p.read_bytes()).frames[0] for p in photos]
    answers = _run_core(tmp_path, images, "bands")
    usable_bits: list[int] = []
    for path, img, answer in zip(photos, images, answers, strict=True):
        hashes, qualities = band_hashes(_shrink(as_array(img), PDQ_SIDE))
        made = bytes.fromhex(answer["bands"])
        assert len(made) == N_BANDS * HASH_BYTES and len(answer["qualities"]) == N_BANDS
        for k in range(N_BANDS):
            # The same 64x64 buffers (OpenCV's luma and area average on both sides): the quality
            # is computed from integers and came out equal on every band of photos-dev.
            assert abs(answer["qualities"][k] - qualities[k]) <= 1, (path.name, k)
            if qualities[k] >= MIN_QUALITY:
                usable_bits.append(_bits(made[32 * k : 32 * (k + 1)], hashes[32 * k : 32 * (k + 1)]))
    # Only bands of quality >= 50 are ever compared (plain ones hash noise on either side):
    # measured at most 2 bits, on 1 of 841 such bands of all of photos-dev; a band must come
    # within 31 bits to be strong evidence, so a few bits of float rounding cost nothing.
    assert len(usable_bits) > 300
    assert max(usable_bits) <= 4, sorted(usable_bits)[-5:]
    assert sum(b == 0 for b in usable_bits) >= 0.98 * len(usable_bits)


def test_undress_edit_of_a_device_made_reference_is_found_through_its_bands(
    tmp_path: Path, bench_references: list[tuple[str, Fingerprint]]
) -> None:
    undress = _bench_undress()
    names = [name for name, _ in BANDED_CASES]
    answers = _run_core(tmp_path, [_photo(name) for name in names], "features")
    # The page's document, read as the server reads one sent to it (validation included).
    document = {
        "format": "jium-fingerprints",
        "version": 1,
        "fingerprints": [
            {"name": name, "fingerprint": a["fingerprint"]} for name, a in zip(names, answers, strict=True)
        ],
    }
    items, skipped = parse_document(document)
    assert not skipped and [i.level for i in items] == ["features", "features"]
    device = {item.name: item.fingerprint for item in items}
    older = {
        name: Fingerprint.from_bytes(base64.b64decode(a["without_bands"]))
        for name, a in zip(names, answers, strict=True)
    }
    for name in names:
        assert (
            len(device[name].bands) == N_BANDS * HASH_BYTES
            and max(device[name].band_qualities) >= MIN_QUALITY
        )
        assert older[name].bands == b"" and np.array_equal(older[name].descriptors, device[name].descriptors)
    # The bench's 60 references, these two made on the device instead of on the server.
    with_bands = Matcher([(n, device.get(n, fp)) for n, fp in bench_references])
    without_bands = Matcher([(n, older.get(n, fp)) for n, fp in bench_references])
    for name, fill in BANDED_CASES:
        edited = fingerprint_candidate(undress(_photo(name), [_photo(fill)]))
        res = with_bands.match(edited)
        assert res is not None and res.reference_key == name, (name, res)
        assert res.details["guided"] is True and res.details["band_distance"] <= 64, res
        # A device fingerprint made before the page computed bands misses the same edit: the
        # bands are what finds it (as tests/matching/test_matching.py shows for server-made ones).
        assert without_bands.match(edited) is None, name


def test_a_picture_without_features_gets_no_band_hashes_and_still_imports(tmp_path: Path) -> None:
    # A plain picture: no keypoints, so no bands either (the server refuses bands without
    # features: they could only take a nomination from a reference that can be verified).
    (answer,) = _run_core(tmp_path, [Image.new("RGB", (300, 200), (200, 210, 220))], "features")
    items, skipped = parse_document(
        {
            "format": "jium-fingerprints",
            "version": 1,
            "fingerprints": [{"fingerprint": answer["fingerprint"]}],
        }
    )
    assert not skipped and items[0].level == "hash"
    assert items[0].fingerprint.bands == b"" and not items[0].fingerprint.has_features
