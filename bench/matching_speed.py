"""Matching speed on one core, on photos-dev.

(1) stage 1 hashing (what a candidate needs before hash matching: decode + PDQ + trimmed PDQ
    when a border is found) in images/s, against imagehash.phash (including its Image.open
    decode) on the same JPEG files in the same run, interleaved. "Stage 1" is
    app.matching.stage1 (JPEG luma at a reduced DCT scale, PDQ's weights on the block means);
    also the Meta-exact hashes (luma at >= 512 px), stage 1 without DCT-domain downscaling,
    and as first built (RGB decode + pdqhash), to show what each part is worth. Then the
    same with decoding left out for both (secondary: decoding is most of either), and
    decoding alone. bench/stage1_instructions.py gives the same ratio in CPU instructions;
(2) the full two-stage match (decode, fingerprint, hash + feature match) per candidate
    against a 20-reference case, for candidates that are transformed copies and for
    unrelated photos (which go through every stage).

    .venv/bin/python bench/matching_speed.py [--photos DIR] [--rounds N] [--large N] [--stage1-only]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2
import faiss
import imagehash
import numpy as np
import pdqhash
import simplejpeg
from matching_accuracy import DEFAULT_PHOTOS, TRANSFORMS
from PIL import Image

from app.matching import engine, orb
from app.matching.decode import decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import (
    PDQ_SIDE,
    _shrink,
    _trim_box_array,
    fingerprint_candidate,
    fingerprint_hash_only,
    fingerprint_hash_only_bytes,
    fingerprint_reference,
)
from app.matching.stage1 import MIN_SIDE, fingerprint_stage1_bytes, stage1_of_decoded
from app.matching.stage1 import stage1_decode as stage1_decode_bytes


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _interleaved(
    methods: dict[str, Callable[[Any], object]], files: list[Any], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per round for each method over all files, wall-clock and this process's CPU
    time; rounds interleaved, so all methods see the same machine state. CPU time leaves out
    the time other processes held the core, so it moves less with the machine's load."""
    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, method in methods.items():
            t, c = time.perf_counter(), time.process_time()
            for b in files:
                method(b)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--large", type=int, default=20, help="how many 12 MP JPEGs to time (0: none)")
    ap.add_argument("--stage1-only", action="store_true", help="leave out the full two-stage match")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)

    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    blobs = [p.read_bytes() for p in files]
    mp = (
        statistics.mean(Image.open(io.BytesIO(b)).width * Image.open(io.BytesIO(b)).height for b in blobs)
        / 1e6
    )

    def phash(b: bytes) -> None:
        imagehash.phash(Image.open(io.BytesIO(b)))

    def stage1_nodraft(b: bytes) -> None:
        fingerprint_hash_only(decode_media(b, draft_size=None, mode="L").frames[0])

    def previous(b: bytes) -> None:
        # Stage 1 as first built: RGB decode with draft, pdqhash (C++) on the 512 px image.
        small = np.ascontiguousarray(
            _shrink(np.asarray(decode_media(b, draft_size=PDQ_SIDE).frames[0]), PDQ_SIDE)
        )
        pdqhash.compute(small)
        box = _trim_box_array(small)
        if box is not None:
            pdqhash.compute(np.ascontiguousarray(small[box[1] : box[3], box[0] : box[2]]))

    def stage1_pillow(b: bytes) -> Any:
        fps = stage1_of_decoded(decode_media(b, draft_size=PDQ_SIDE, mode="L", min_side=128))
        return fingerprint_hash_only_bytes(b) if fps is None else fps

    def stage1_decode(b: bytes) -> Any:
        return stage1_decode_bytes(b)

    def phash_decode(b: bytes) -> Image.Image:
        img = Image.open(io.BytesIO(b))
        img.load()
        return img

    def jpeg_dc(b: bytes) -> None:
        img = Image.open(io.BytesIO(b))
        img.draft("L", (img.width // 8, img.height // 8))
        img.load()

    def jpeg_dc_sj(b: bytes) -> None:
        simplejpeg.decode_jpeg(b, "GRAY", min_height=1, min_width=1)

    def table(
        title: str,
        timings: tuple[dict[str, list[float]], dict[str, list[float]]],
        n: int,
        rows: dict[str, str],
        base: str,
    ) -> None:
        wall, cpu = timings
        rate = {k: n / min(v) for k, v in wall.items()}
        median_rate = {k: n / statistics.median(v) for k, v in wall.items()}
        cpu_rate = {k: n / statistics.median(v) for k, v in cpu.items()}
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{title}, best of {args.rounds} interleaved rounds, 1 thread, load average {load}:")
        print(
            f"| method | images/s | ms/image | vs {base} | vs {base}, median round "
            f"| CPU ms/image (median) | vs {base}, CPU time |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for k, label in rows.items():
            print(
                f"| {label} | {rate[k]:.0f} | {1000 / rate[k]:.2f} | {rate[k] / rate[base]:.2f}x "
                f"| {median_rate[k] / median_rate[base]:.2f}x | {1000 / cpu_rate[k]:.2f} "
                f"| {cpu_rate[k] / cpu_rate[base]:.2f}x |"
            )

    timings = _interleaved(
        {
            "phash": phash,
            "stage1": fingerprint_stage1_bytes,
            "stage1_pillow": stage1_pillow,
            "stage1_exact": fingerprint_hash_only_bytes,
            "stage1_nodraft": stage1_nodraft,
            "previous": previous,
        },
        blobs,
        args.rounds,
    )
    table(
        f"Stage 1 hashing, {len(blobs)} JPEGs (mean {mp:.2f} MP), decode included",
        timings,
        len(blobs),
        {
            "phash": "imagehash.phash (Image.open + phash)",
            "stage1": f"Jium stage 1: simplejpeg luma at reduced DCT scale (both sides >= {MIN_SIDE} px) "
            "+ PDQ + trimmed PDQ",
            "stage1_pillow": "stage 1 as before 2026-12-05 b: Pillow's draft decode, both sides >= 128 px",
            "stage1_exact": "Meta-exact stage 1: luma decode (JPEG draft >= 512 px) + PDQ + trimmed PDQ",
            "stage1_nodraft": "Meta-exact stage 1 without JPEG draft (full-size luma)",
            "previous": "first stage 1: RGB decode (draft) + pdqhash + trimmed pdqhash",
        },
        "phash",
    )
    # Secondary: the same hashing with decoding left out for both (inputs decoded beforehand,
    # each the way its method decodes), and the decoding alone.
    decoded = [(phash_decode(b), stage1_decode(b)) for b in blobs]
    print()
    table(
        "Hashing only, decode excluded for both (secondary figure)",
        _interleaved(
            {"phash": lambda d: imagehash.phash(d[0]), "stage1": lambda d: stage1_of_decoded(d[1])},
            decoded,
            args.rounds,
        ),
        len(blobs),
        {"phash": "imagehash.phash on the decoded RGB image", "stage1": "Jium stage 1 on the decoded blocks"},
        "phash",
    )
    del decoded
    print()
    table(
        "Decoding only",
        _interleaved(
            {"phash": phash_decode, "stage1": stage1_decode, "floor": jpeg_dc, "floor_sj": jpeg_dc_sj},
            blobs,
            args.rounds,
        ),
        len(blobs),
        {
            "phash": "Image.open + full RGB decode (phash's)",
            "stage1": "stage1_decode: simplejpeg luma at reduced DCT scale (stage 1's)",
            "floor": "Image.open + luma at 1/8 (little but libjpeg's entropy decoding of every block)",
            "floor_sj": "simplejpeg luma at 1/8 (the same, without Pillow)",
        },
        "phash",
    )

    # ------------------------------------------------- phone-sized photos (12 MP)
    # photos-dev has no large JPEGs; upscaled copies stand in for phone photos (smoother than
    # real 12 MP photos, so their entropy decoding is a little cheaper).
    big = []
    for b in blobs[: args.large]:
        img = Image.open(io.BytesIO(b)).convert("RGB")
        img = img.resize((4000, 3000) if img.width >= img.height else (3000, 4000), Image.Resampling.BICUBIC)
        big.append(_jpeg(img))
    if big:
        big_timings, _ = _interleaved(
            {"phash": phash, "stage1": fingerprint_stage1_bytes, "stage1_exact": fingerprint_hash_only_bytes},
            big,
            args.rounds,
        )
        ms = {k: 1000 * min(v) / len(big) for k, v in big_timings.items()}
        med = {k: 1000 * statistics.median(v) / len(big) for k, v in big_timings.items()}
        print()
        print(
            f"Same on {len(big)} 12 MP JPEGs (dev photos upscaled to 4000x3000, quality 90), best of {args.rounds}:"
        )
        print("| method | ms/image | vs imagehash.phash | vs phash, median round |")
        print("|---|---:|---:|---:|")
        print(f"| imagehash.phash | {ms['phash']:.1f} | 1.00x | 1.00x |")
        for k, label in (("stage1", "Jium stage 1"), ("stage1_exact", "Meta-exact stage 1")):
            print(f"| {label} | {ms[k]:.1f} | {ms['phash'] / ms[k]:.2f}x | {med['phash'] / med[k]:.2f}x |")

    if args.stage1_only:
        return
    # ---------------------------------------------------------------- full two-stage
    rng = random.Random(3)
    photos = [decode_media(b).frames[0] for b in blobs]
    idx = list(range(len(photos)))
    rng.shuffle(idx)
    refs, others = idx[:20], idx[20:]
    t = time.perf_counter()
    ref_fps = [(i, fingerprint_reference(photos[i])) for i in refs]
    t_ref = (time.perf_counter() - t) / len(refs)
    t = time.perf_counter()
    matcher = Matcher(ref_fps)
    t_build = time.perf_counter() - t

    copies = []
    names = list(TRANSFORMS)
    for k, i in enumerate(refs * 3):
        tname = names[k % len(names)]
        pool = [photos[j] for j in rng.sample(others, 3)]
        copies.append(_jpeg(TRANSFORMS[tname](photos[i], pool)))
    strangers = [_jpeg(photos[i]) for i in others]

    # "before": the match as of 2026-11-26 (docs/benchmarks.md), with the same references and
    # matcher: no stage-2 prefilter and no second FAST pass for soft candidates.
    saved = (engine.PREFILTER, orb.LOW_FAST_THRESHOLD)

    def per_candidate(blobs_: list[bytes]) -> dict[str, tuple[float, float, int]]:
        """Per method: mean ms/candidate incl. decode (best of 2 per candidate), the same
        without decode, and matches. Methods alternate candidate by candidate."""
        out: dict[str, list[tuple[float, float]]] = {"now": [], "before": []}
        hits = {"now": 0, "before": 0}
        for b in blobs_:
            for name in ("now", "before"):
                runs = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    media = decode_media(b)
                    t1 = time.perf_counter()
                    if name == "before":
                        engine.PREFILTER, orb.LOW_FAST_THRESHOLD = False, orb.FAST_THRESHOLD
                    try:
                        res = matcher.match(fingerprint_candidate(media.frames[0]))
                    finally:
                        engine.PREFILTER, orb.LOW_FAST_THRESHOLD = saved
                    t2 = time.perf_counter()
                    runs.append((t2 - t0, t2 - t1))
                out[name].append(min(runs))
                hits[name] += res is not None
        return {
            k: (1000 * statistics.mean(r[0] for r in v), 1000 * statistics.mean(r[1] for r in v), hits[k])
            for k, v in out.items()
        }

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(
        f"Full two-stage match against a 20-reference case (1 thread; reference fingerprint "
        f"{1000 * t_ref:.0f} ms each, matcher built in {1000 * t_build:.0f} ms; load average {load}):"
    )
    print(
        "| candidates | n | matched now / before | ms/candidate incl. decode, now | before "
        "| now / before | fingerprint+match only, now | before |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, group in (("transformed copies (all kinds)", copies), ("unrelated photos", strangers)):
        r = per_candidate(group)
        (tn, mn, hn), (tb, mb, hb) = r["now"], r["before"]
        print(
            f"| {label} | {len(group)} | {hn} / {hb} | {tn:.1f} | {tb:.1f} | {tn / tb:.2f} | {mn:.1f} | {mb:.1f} |"
        )

    # The ratio test's background rivals (engine.BACKGROUND), measured in the same run: the same
    # references in a matcher built with them and one built without, alternating candidate by
    # candidate, for the 20-reference case and for one-reference cases (each reference alone).
    def rivals(on: bool, fps: list[tuple[int, Any]]) -> Matcher:
        saved_bg = engine.BACKGROUND
        engine.BACKGROUND = on
        try:
            return Matcher(fps)
        finally:
            engine.BACKGROUND = saved_bg

    cases = {
        "20-reference case": ([rivals(True, ref_fps)], [rivals(False, ref_fps)]),
        "20 one-reference cases": (
            [rivals(True, [fp]) for fp in ref_fps],
            [rivals(False, [fp]) for fp in ref_fps],
        ),
    }
    print()
    print("Background rivals of the ratio test: with / without (same run, alternating; CPU ms per candidate")
    print("for fingerprint + match against every case, decode excluded):")
    print("| cases | candidates | n | matched with / without | with | without | with / without |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case_label, (with_bg, without_bg) in cases.items():
        for label, group in (("transformed copies", copies), ("unrelated photos", strangers)):
            cpu = {"with": 0.0, "without": 0.0}
            hits = {"with": 0, "without": 0}
            for b in group:
                img = decode_media(b).frames[0]
                for name, matchers in (("with", with_bg), ("without", without_bg)):
                    t0 = time.process_time()
                    fp = fingerprint_candidate(img)
                    found = [m.match(fp) for m in matchers]
                    cpu[name] += time.process_time() - t0
                    hits[name] += any(r is not None for r in found)
            w, wo = (1000 * cpu[k] / len(group) for k in ("with", "without"))
            print(
                f"| {case_label} | {label} | {len(group)} | {hits['with']} / {hits['without']} "
                f"| {w:.1f} | {wo:.1f} | {w / wo:.2f} |"
            )
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
