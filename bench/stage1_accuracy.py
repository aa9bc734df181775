"""Stage-1 (hash) accuracy from file bytes: Meta-exact PDQ against the fast 1/8-scale hashes.

The same photos, references, distractors and transformations as bench/matching_accuracy.py
(and its --mirrored combinations). Every candidate is saved as a JPEG (quality 90), as a fetched
file would arrive, then hashed two ways from those bytes:

- exact: ``fingerprint.fingerprint_hash_only_bytes`` (luma decoded at >= 512 px; agrees with
  Meta's tools);
- fast: ``stage1.fingerprint_stage1_bytes`` (JPEG decoded at a reduced DCT scale, PDQ's
  weights applied to the block means).

Each is matched on hashes alone (``Matcher.match_hash``: PDQ and trimmed PDQ against the
references' 8 rotations/flips and trimmed hashes, distance <= 31) against the references'
usual fingerprints. Printed per transformation: hash-stage recall, exact vs fast; then false
matches over all candidate/reference pairs of distinct photos, and how many bits the fast
hashes differ from the exact ones.

    .venv/bin/python bench/stage1_accuracy.py [--photos DIR] [--refs N]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_accuracy import DEFAULT_PHOTOS, MIRRORED, TRANSFORMS, load_photos, split

from app.matching.engine import Matcher
from app.matching.fingerprint import Fingerprint, fingerprint_hash_only_bytes, fingerprint_reference
from app.matching.stage1 import fingerprint_stage1_bytes


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _bits(a: bytes, b: bytes) -> int:
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--refs", type=int, default=60)
    args = ap.parse_args()

    import cv2

    cv2.setNumThreads(1)
    photos = load_photos(args.photos)
    ref_ids, distractor_ids = split(photos, args.refs)
    matcher = Matcher([(i, fingerprint_reference(photos[i][1])) for i in ref_ids])
    refs = set(ref_ids)
    methods = {"exact": fingerprint_hash_only_bytes, "fast": fingerprint_stage1_bytes}
    recall: dict[str, dict[str, list[int]]] = {m: defaultdict(lambda: [0, 0]) for m in methods}
    false: dict[str, list[str]] = {m: [] for m in methods}
    seconds = dict.fromkeys(methods, 0.0)
    pdq_bits: list[int] = []
    trim_bits: list[int] = []
    trim_disagree = 0
    negatives = 0

    def run(src: int, tname: str, img: Image.Image) -> None:
        nonlocal negatives, trim_disagree
        data = _jpeg(img)
        fps: dict[str, Fingerprint] = {}
        for name, fn in methods.items():
            t = time.perf_counter()
            fps[name] = fn(data)[0]
            seconds[name] += time.perf_counter() - t
            res = matcher.match_hash(fps[name])
            if src in refs:
                recall[name][tname][1] += 1
                recall[name][tname][0] += res is not None and res.reference_key == src
            if res is not None and res.reference_key != src:
                false[name].append(f"{photos[src][0]} [{tname}] -> {photos[res.reference_key][0]}")
        exact, fast = fps["exact"], fps["fast"]
        pdq_bits.append(_bits(exact.pdq, fast.pdq))
        if exact.pdq_trim is not None and fast.pdq_trim is not None:
            trim_bits.append(_bits(exact.pdq_trim, fast.pdq_trim))
        elif (exact.pdq_trim is None) != (fast.pdq_trim is None):
            trim_disagree += 1
        negatives += len(ref_ids) - (1 if src in refs else 0)

    rng = random.Random(1)
    names = list(TRANSFORMS) + list(MIRRORED)
    transforms = {**TRANSFORMS, **MIRRORED}
    all_ids = ref_ids + distractor_ids
    for i in distractor_ids:
        run(i, "distractor_original", photos[i][1])
    for tname in names:
        for i in all_ids:
            pool = distractor_ids if i in refs else [d for d in distractor_ids if d != i]
            others = [photos[j][1] for j in rng.sample(pool, 3)]
            run(i, tname, transforms[tname](photos[i][1], others))

    print(
        f"{len(photos)} photos: {len(ref_ids)} references, {len(distractor_ids)} distractors; candidates as JPEG q90"
    )
    print()
    print("| transformation | hash-stage recall, exact PDQ | fast stage 1 |")
    print("|---|---:|---:|")
    totals = {m: [0, 0] for m in methods}
    for tname in names:
        cells = []
        for m in methods:
            hit, n = recall[m][tname]
            totals[m][0] += hit
            totals[m][1] += n
            cells.append(f"{hit / n:.3f} ({hit}/{n})")
        print(f"| {tname} | {cells[0]} | {cells[1]} |")
    cells = [f"**{h / n:.3f}** ({h}/{n})" for h, n in totals.values()]
    print(f"| **all** | {cells[0]} | {cells[1]} |")
    print()
    for m in methods:
        print(
            f"false matches, {m}: {len(false[m])} over {negatives} candidate/reference pairs of distinct photos"
        )
        for f in false[m]:
            print("  FALSE:", f)
    n = len(pdq_bits)
    p = np.array(pdq_bits)
    print()
    print(
        f"fast vs exact PDQ over {n} candidates: mean {p.mean():.2f} bits, median {np.median(p):.0f}, "
        f"p95 {np.percentile(p, 95):.0f}, max {p.max()}"
    )
    if trim_bits:
        t = np.array(trim_bits)
        print(
            f"trimmed PDQ, both found a border ({len(t)}): mean {t.mean():.2f} bits, p95 "
            f"{np.percentile(t, 95):.0f}, max {t.max()}; only one found a border: {trim_disagree}"
        )
    print(
        "hashing time: "
        + ", ".join(f"{m} {1000 * s / n:.2f} ms/candidate" for m, s in seconds.items())
        + " (not a speed figure: see bench/matching_speed.py)"
    )


if __name__ == "__main__":
    main()
