"""Undress edits of portraits (faces-dev), the photos such edits are made from.

The bench's undress edit (bench/matching_accuracy.py ``_undress``: the lower centre replaced by
other content, then re-rendered) applied to face photos: photo 1 of each of the 100 people is a
reference; its edit must match it. Every other photo (the same people's other photos, which
share their pose, clothes and often the event, and the 300 distractors), edited the same way
and untouched, must match nothing. LFW's deep-funneled photos are all aligned the same way
(250 px, face centred, black corner wedges), which makes their top and side bands alike: a hard
case for band hashes. Same run with and without the band-nominated verification, and with it
for unmirrored edits only. Every candidate is also matched flipped left to right (the edit
mirrored, as reposts are to evade matching; and every negative mirrored): aligned portraits are
nearly symmetric, so another person's mirror image is where mirrored bands could mislead.

    .venv/bin/python bench/undress_faces.py [--faces DIR]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_accuracy import DEFAULT_PHOTOS, _undress, load_photos

from app.matching import engine
from app.matching.decode import decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import Fingerprint, fingerprint_candidate, fingerprint_reference

DEFAULT_FACES = DEFAULT_PHOTOS.parent / "faces-dev"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    args = ap.parse_args()

    import cv2
    import faiss

    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    people = sorted(p for p in (args.faces / "people").iterdir() if p.is_dir())
    distractors = sorted((args.faces / "distractors").glob("*/*.jpg"))

    def load(p: Path):
        return decode_media(p.read_bytes()).frames[0]

    refs = [(p.name, load(p / "1.jpg")) for p in people]
    others = [
        (f"{p.name}/{f.name}", load(f)) for p in people for f in sorted(p.glob("*.jpg")) if f.name != "1.jpg"
    ]
    others += [(f"{f.parent.name}/{f.name}", load(f)) for f in distractors]
    fills = [img for _, img in load_photos(DEFAULT_PHOTOS)]
    rng = random.Random(13)
    t = time.perf_counter()
    matcher = Matcher([(name, fingerprint_reference(img)) for name, img in refs])
    print(
        f"{len(refs)} references, {len(others)} other photos (fingerprinted in {time.perf_counter() - t:.0f} s)"
    )

    edited_refs = [(name, _undress(img, [rng.choice(fills)])) for name, img in refs]
    edited_others = [(f"{name} edited", _undress(img, [rng.choice(fills)])) for name, img in others]
    untouched = [(f"{name} untouched", img) for name, img in others]

    def prints(pictures: list[tuple[str, Image.Image]], mirrored: bool) -> list[tuple[str, Fingerprint]]:
        return [
            (name, fingerprint_candidate(ImageOps.mirror(img) if mirrored else img)) for name, img in pictures
        ]

    print(
        "| candidates | run | recall (edited photo 1) | of which banded | false matches (other photos, edited + untouched) |"
    )
    print("|---|---|---:|---:|---:|")
    for mirrored in (False, True):
        positives = prints(edited_refs, mirrored)
        negatives = prints(edited_others, mirrored) + prints(untouched, mirrored)
        for label, banded, banded_mirror in (
            ("without band hashes", False, False),
            ("band hashes, unmirrored only", True, False),
            ("band hashes, and the mirror's", True, True),
        ):
            engine.BANDED, engine.BANDED_MIRROR = banded, banded_mirror
            found = banded_hits = 0
            for name, fp in positives:
                res = matcher.match(fp)
                if res is not None and res.reference_key == name:
                    found += 1
                    banded_hits += "band_distance" in res.details
            false = []
            for name, fp in negatives:
                res = matcher.match(fp)
                # Another photo of the same person is still a different photo: a false match.
                if res is not None:
                    false.append(f"{name} -> {res.reference_key} ({res.method} {res.details})")
            n = len(positives)
            print(
                f"| {'mirrored' if mirrored else 'as edited'} | {label} | {found / n:.3f} ({found}/{n}) | "
                f"{banded_hits} | {len(false)} / {len(negatives)} |"
            )
            for f in false:
                print("  FALSE:", f)
    engine.BANDED = engine.BANDED_MIRROR = True


if __name__ == "__main__":
    main()
