"""What an undress edit of the accuracy bench leaves of each reference, and whether any matcher
could find it there (issue 13.1: the 0.97 recall target).

``bench/matching_accuracy.py``'s ``undress_edit`` replaces a soft region over the lower centre
(40-60 % of the picture) with other content. On a portrait the face and hair stay above it; on
photos-dev's pictures of one object on a plain background, the region can take the whole object.
For each reference this prints:

* **kept structure**: the share of the picture's gradient energy (Sobel, grey, at 256 px) outside
  the edit (mask < 0.05): 0 means nothing but flat background is left;
* **kept vs nearest other**: the mean absolute grey difference, over that kept region, between
  the reference and (a) its own edited copy, brought back to the reference's size (what the
  re-render changed), (b) the nearest of every other photo of the set (distractors and other
  references, resized to the reference). When (b) <= (a) the edited copy is no closer to its
  source than to another photo in what the edit kept: a rule that accepted it would accept the
  same edit of that other photo too, a false match.

Then whether Jium's matcher (shipped settings, one matcher holding the 60 references, as the
accuracy bench) found each edit.

    .venv/bin/python bench/undress_ceiling.py [--photos DIR] [--refs N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_accuracy import (
    DEFAULT_PHOTOS,
    TRANSFORMS,
    _undress,
    _undress_mask,
    fill_draws,
    load_photos,
    split,
)

from app.matching.engine import Matcher
from app.matching.fingerprint import candidate_face_boxes, fingerprint_candidate, fingerprint_reference

SIDE = 256
KEPT = 0.05  # mask below this: the picture as it was


def _grey(img: Image.Image, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(img.convert("L").resize(size, Image.Resampling.BILINEAR), np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--refs", type=int, default=60)
    args = ap.parse_args()
    cv2.setNumThreads(1)

    photos = load_photos(args.photos)
    ref_ids, distractor_ids = split(photos, args.refs)
    draws = fill_draws(list(TRANSFORMS), ref_ids, distractor_ids)  # as the accuracy bench's default run
    matcher = Matcher([(i, fingerprint_reference(photos[i][1])) for i in ref_ids])

    rows = []
    for i in ref_ids:
        name, img = photos[i]
        w, h = img.size
        k = SIDE / max(w, h)
        size = (max(1, round(w * k)), max(1, round(h * k)))
        _, mask = _undress_mask(img)
        kept = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) < KEPT
        edited = _undress(img, [photos[j][1] for j in draws["undress_edit", i]])
        ref_g = _grey(img, size)
        gx, gy = cv2.Sobel(ref_g, cv2.CV_32F, 1, 0), cv2.Sobel(ref_g, cv2.CV_32F, 0, 1)
        energy = gx * gx + gy * gy
        structure = float(energy[kept].sum() / max(energy.sum(), 1e-6))
        own = float(np.abs(_grey(edited, size) - ref_g)[kept].mean())
        nearest, nearest_name = min(
            (float(np.abs(_grey(photos[j][1], size) - ref_g)[kept].mean()), photos[j][0])
            for j in range(len(photos))
            if j != i
        )
        fp = fingerprint_candidate(edited)
        res = matcher.match(fp, faces=lambda f, e=edited: candidate_face_boxes(f, e))
        found = res is not None and res.reference_key == i
        rows.append((structure, name, own, nearest, nearest_name, found, res.method if found else "-"))

    rows.sort()
    print(
        f"{len(rows)} references of {args.photos.name}, undress_edit as bench/matching_accuracy.py makes it"
    )
    print()
    print("| reference | kept structure | kept: own edit vs reference | kept: nearest other photo | found |")
    print("|---|---:|---:|---|---|")
    for structure, name, own, nearest, nearest_name, found, method in rows:
        flag = " **(<= own)**" if nearest <= own else ""
        print(
            f"| {name[:40]} | {structure:.3f} | {own:.1f} | {nearest:.1f}{flag} ({nearest_name[:28]}) | "
            f"{'yes, ' + method if found else '**no**'} |"
        )
    hidden = [r for r in rows if r[3] <= r[2]]
    missed = [r for r in rows if not r[5]]
    print()
    print(
        f"found {len(rows) - len(missed)}/{len(rows)} ({(len(rows) - len(missed)) / len(rows):.3f}); "
        f"{len(hidden)} edits keep nothing closer to their source than to another photo "
        f"(at most {(len(rows) - len(hidden)) / len(rows):.3f} findable without false matches); "
        f"missed: {', '.join(r[1][:3] for r in missed) or 'none'}"
    )


if __name__ == "__main__":
    main()
