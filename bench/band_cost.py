"""What the band hashes (app/matching/bands.py) cost an ordinary candidate, in CPU time.

Every candidate now carries band hashes, and one that matched nothing compares them with the
references' (Matcher._banded). Against a 20-reference case on photos-dev, per unrelated photo
(the common case, and the one that goes through every stage): CPU time of the whole match
(decode, fingerprint_candidate, Matcher.match) beside that of the band hashes alone and of the
band comparison alone, in the same run, best of 3 each; and what the candidate's mirror-image
bands add (hashes of both against the picture's alone, and the mirrored comparison). CPU time,
not wall clock: the machine is shared.

    .venv/bin/python bench/band_cost.py [--photos DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
import faiss
from matching_accuracy import DEFAULT_PHOTOS

from app.matching import fingerprint
from app.matching.bands import band_hashes, band_hashes_with_mirror
from app.matching.decode import decode_media
from app.matching.engine import Matcher
from app.matching.pixels import as_array


def _cpu(fn, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    blobs = [p.read_bytes() for p in sorted(args.photos.iterdir()) if p.suffix.lower() == ".jpg"]
    rng = random.Random(3)
    idx = list(range(len(blobs)))
    rng.shuffle(idx)
    refs, others = idx[:20], idx[20:]
    matcher = Matcher(
        [(i, fingerprint.fingerprint_reference(decode_media(blobs[i]).frames[0])) for i in refs]
    )
    full, bands, both, compare, compare_m, matched = [], [], [], [], [], 0
    for i in others:
        img = decode_media(blobs[i]).frames[0]
        small = fingerprint._shrink(as_array(img), fingerprint.PDQ_SIDE)
        fp = fingerprint.fingerprint_candidate(img)
        matched += matcher.match(fp) is not None
        full.append(
            _cpu(
                lambda i=i: matcher.match(fingerprint.fingerprint_candidate(decode_media(blobs[i]).frames[0]))
            )
        )
        bands.append(_cpu(lambda small=small: band_hashes(small)))
        both.append(_cpu(lambda small=small: band_hashes_with_mirror(small)))
        compare.append(_cpu(lambda fp=fp: matcher._banded(fp)))
        compare_m.append(_cpu(lambda fp=fp: matcher._banded(fp, mirrored=True)))
    f, b, b2, c, cm = (1000 * statistics.mean(x) for x in (full, bands, both, compare, compare_m))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{len(others)} unrelated photos against 20 references ({matched} matched), CPU ms per photo, load {load}:"
    )
    print("| part | CPU ms | share of the whole match |")
    print("|---|---:|---:|")
    print(f"| whole match (decode, fingerprint_candidate with bands, match) | {f:.2f} | 100 % |")
    print(f"| band hashes of the picture alone | {b:.3f} | {100 * b / f:.1f} % |")
    print(
        f"| band hashes of the picture and its mirror (in fingerprint_candidate) | {b2:.3f} | {100 * b2 / f:.1f} % |"
    )
    print(f"| of which the mirror's | {b2 - b:.3f} | {100 * (b2 - b) / f:.1f} % |")
    print(f"| band comparison (Matcher._banded, nothing nominated) | {c:.3f} | {100 * c / f:.2f} % |")
    print(
        f"| mirrored band comparison (Matcher._banded mirrored, nothing nominated) | {cm:.3f} | {100 * cm / f:.2f} % |"
    )


if __name__ == "__main__":
    main()
