"""Distinct portraits must not match: every faces-dev photo against references made from *other*
photo files, each reference alone (a one-reference case, as the pipeline builds one).

A match is a claim that the candidate *is* the reported picture; another photo of the same person
(same event, same clothes, same background) is a different picture, and so is a photo of someone
else. Pairs compared, each with a matcher holding only the reference (and its background rivals):

* same person: every ordered pair of two different photo files of one person (exhaustive);
* different people (the 300 one-photo distractors included): for each candidate, ``--others K``
  references drawn at random (seeded) from other people, plus every cross pair that the cheap
  parts of the rules could accept or nominate, found over all pairs by numpy: a PDQ distance
  within PDQ_THRESHOLD + 16 bits (any reference variant against the candidate's whole or trimmed
  hash) or a band within BAND_NOMINATE. So the hash and banded rules are covered exhaustively,
  the ordinary feature and guided rules on the sample only (all 737,022 one-reference pairs
  would take ~6 CPU-hours).

Each match is printed with the rule that accepted it (hash, features, guided, banded) and its
evidence (inliers, ratio, descriptor distance, spread, band distance), to see which rule is
responsible. ``--edited`` also runs each candidate's undress edit (bench/matching_accuracy.py);
``--people N`` keeps the first N people and 3N distractors, for a quick run.

    nice -n 19 .venv/bin/python bench/portrait_distinct.py [--faces DIR] [--others K] [--jobs N]
        [--edited] [--people N] [--no-face-only] [--unlooked]

``--unlooked``: the references as the person's device makes them (no face boxes: nobody looked
for faces), so the face-only rule counts on the candidate's side (fitcheck.face_details); the
candidates' boxes are found up front here, which decides the same as finding them when a fit
asks (engine.Matcher.match_features).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_accuracy import DEFAULT_PHOTOS, _undress, load_photos

from app.matching import engine
from app.matching.bands import band_distances, band_table
from app.matching.decode import decode_media
from app.matching.engine import Matcher
from app.matching.fingerprint import (
    PDQ_MIN_QUALITY,
    Fingerprint,
    candidate_face_boxes,
    fingerprint_candidate,
    fingerprint_reference,
)

DEFAULT_FACES = DEFAULT_PHOTOS.parent / "faces-dev"
HASH_SCREEN = engine.PDQ_THRESHOLD + 16

# Filled before the worker processes fork; read-only afterwards.
_STATE: dict[str, Any] = {}


def _fingerprint(job: tuple[int, bool, int]) -> tuple[int, bool, Fingerprint]:
    i, edited, seed = job
    img = _STATE["images"][i]
    if edited:
        fills = _STATE["fills"]
        img = _undress(img, [fills[random.Random(seed).randrange(len(fills))]])
        return i, edited, _candidate_fp(img)
    if seed < 0:
        fp = fingerprint_reference(img)
        if _STATE["unlooked"]:
            fp.face_boxes, fp.faces_checked = [], False
        return i, edited, fp
    return i, edited, _candidate_fp(img)


def _candidate_fp(img: Any) -> Fingerprint:
    fp = fingerprint_candidate(img)
    return candidate_face_boxes(fp, img) if _STATE["unlooked"] else fp


def _reference_job(job: tuple[int, list[tuple[int, bool]]]) -> tuple[list[dict[str, Any]], float]:
    """One reference alone in a matcher; each of its candidates matched against it."""
    ref, cands = job
    t = time.process_time()
    matcher = Matcher([(ref, _STATE["refs"][ref])])
    out = []
    for c, edited in cands:
        res = matcher.match(_STATE["cands"][(c, edited)])
        if res is not None:
            out.append(
                {"cand": c, "edited": edited, "ref": ref, "method": res.method, "details": res.details}
            )
    return out, time.process_time() - t


def rule_of(method: str, details: dict[str, Any]) -> str:
    if method.startswith("pdq"):
        return "hash"
    if "band_distance" in details:
        return "banded"
    return "guided" if details.get("guided") else "features"


def evidence(method: str, d: dict[str, Any]) -> str:
    if method.startswith("pdq"):
        return (
            f"{method} {d['pdq_distance']} bits (quality {d['candidate_quality']}/{d['reference_quality']})"
        )
    parts = [
        method,
        f"{d['inliers']} inliers of {d['tentative']}",
        f"ratio {d['inlier_ratio']}",
        f"hamming {d['inlier_hamming']}",
        f"spread {d['spread']}",
    ]
    if "seed_inliers" in d:
        parts.append(f"seed {d['seed_inliers']}/{d['seed_ratio']}/{d['seed_hamming']}")
    if "band_distance" in d:
        parts.append(f"band {d['band_distance']} drift {d['frame_drift']}")
    if "face_share" in d:
        parts.append(
            f"face share {d['face_share']}"
            + (" (candidate's face)" if d.get("face_side") else "")
            + (f" coverage {d['coverage']}" if "coverage" in d else "")
        )
    return ", ".join(parts)


def _hash_table(fps: list[Fingerprint]) -> tuple[np.ndarray, np.ndarray]:
    """Every usable reference hash (whole, dihedral, trimmed) as rows, and its owner."""
    rows, owners = [], []
    for i, fp in enumerate(fps):
        for h, q in (
            [(fp.pdq, fp.pdq_quality)]
            + [(d, fp.pdq_quality) for d in fp.pdq_dihedral]
            + ([(fp.pdq_trim, fp.pdq_trim_quality)] if fp.pdq_trim else [])
        ):
            if q >= PDQ_MIN_QUALITY:
                rows.append(np.frombuffer(h, np.uint64))
                owners.append(i)
    return np.array(rows), np.array(owners)


def _screen(cand: Fingerprint, table: tuple[np.ndarray, np.ndarray], bands: Any, n: int) -> np.ndarray:
    """References the hash rule could accept, or the banded path could nominate, for this candidate."""
    rows, owners = table
    near = np.zeros(n, bool)
    for h, q in [(cand.pdq, cand.pdq_quality), (cand.pdq_trim, cand.pdq_trim_quality)]:
        if h is None or q < PDQ_MIN_QUALITY:
            continue
        d = np.bitwise_count(rows ^ np.frombuffer(h, np.uint64)).sum(axis=1)
        near[owners[d <= HASH_SCREEN]] = True
    return near | (band_distances(bands, cand.bands, cand.band_qualities) <= engine.BAND_NOMINATE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    ap.add_argument("--others", type=int, default=20, help="random other-people references per candidate")
    ap.add_argument("--edited", action="store_true", help="also each candidate's undress edit")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (nice them)")
    ap.add_argument("--unlooked", action="store_true", help="references without face boxes (device-made)")
    ap.add_argument("--people", type=int, help="only the first N people and 3N distractors (a quick run)")
    ap.add_argument(
        "--no-face-only", action="store_true", help="without the face-only rule (app/matching/fitcheck.py)"
    )
    args = ap.parse_args()
    if args.no_face_only:
        engine.FACE_ONLY = False
    _STATE["unlooked"] = args.unlooked

    import cv2
    import faiss

    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    t_run = time.perf_counter()
    photos = sorted((args.faces / "people").glob("*/*.jpg"))
    distractors = sorted((args.faces / "distractors").glob("*/*.jpg"))
    people = sorted({f.parent.name for f in photos})
    if args.people:
        people, distractors = people[: args.people], distractors[: 3 * args.people]
    files = [f for f in photos if f.parent.name in set(people)] + distractors
    names = [f"{f.parent.name}/{f.stem}" for f in files]
    person = [f.parent.name for f in files]
    n = len(files)
    _STATE["images"] = [decode_media(f.read_bytes()).frames[0] for f in files]
    if args.edited:
        _STATE["fills"] = [img for _, img in load_photos(DEFAULT_PHOTOS)]
    variants = [False, True] if args.edited else [False]

    ctx = multiprocessing.get_context("fork")
    fp_jobs = [(i, False, -1) for i in range(n)] + [(i, e, 13 * n + i) for i in range(n) for e in variants]
    with ctx.Pool(args.jobs) as pool:
        fps = pool.map(_fingerprint, fp_jobs, chunksize=16)
    refs: list[Fingerprint] = [fp for i, e, fp in fps[:n]]
    cands = {(i, e): fp for i, e, fp in fps[n:]}
    _STATE["refs"], _STATE["cands"] = refs, cands
    t_fp = time.perf_counter() - t_run

    rng = random.Random(17)
    pairs: dict[int, set[tuple[int, bool]]] = {r: set() for r in range(n)}
    table, bands = _hash_table(refs), band_table([(fp.bands, fp.band_qualities) for fp in refs])
    screened = 0
    for (c, e), fp in cands.items():
        same = [r for r in range(n) if person[r] == person[c] and r != c]
        other = [r for r in range(n) if person[r] != person[c]]
        near = _screen(fp, table, bands, n)
        near[[r for r in range(n) if person[r] == person[c]]] = False
        screened += int(near.sum())
        for r in same + rng.sample(other, min(args.others, len(other))) + list(np.flatnonzero(near)):
            pairs[int(r)].add((c, e))
    jobs = [(r, sorted(cs)) for r, cs in pairs.items() if cs]
    n_pairs = sum(len(cs) for _, cs in jobs)
    n_same = sum(1 for r, cs in jobs for c, _ in cs if person[c] == person[r])

    t = time.perf_counter()
    with ctx.Pool(args.jobs) as pool:
        done = pool.map(_reference_job, jobs, chunksize=4)
    t_match = time.perf_counter() - t
    cpu = sum(s for _, s in done)
    matches = [m for out, _ in done for m in out]

    print(
        f"{n} photos ({len(people)} people, {len(distractors)} distractors); candidates "
        f"{'untouched and undress-edited' if args.edited else 'untouched'}; {n_pairs} one-reference "
        f"pairs: {n_same} same person (all), {n_pairs - n_same} different people "
        f"({args.others} random per candidate + {screened} screened by hash/band over all pairs)"
    )
    print(
        f"fingerprints {t_fp:.0f} s, matching {t_match:.0f} s wall ({cpu:.0f} CPU-s, "
        f"{1000 * cpu / max(n_pairs, 1):.1f} ms a pair incl. matcher build) with {args.jobs} job(s)"
    )
    print()
    print("| candidates | pairs compared | matches (false unless the same picture) | by rule |")
    print("|---|---:|---:|---|")
    for label, want_same in (("same person, different photo", True), ("different people", False)):
        for e in variants:
            ms = [
                m
                for m in matches
                if (person[m["cand"]] == person[m["ref"]]) == want_same and m["edited"] == e
            ]
            total = sum(
                1 for r, cs in jobs for c, ce in cs if ce == e and (person[c] == person[r]) == want_same
            )
            rules = Counter(rule_of(m["method"], m["details"]) for m in ms)
            by = ", ".join(f"{k} {v}" for k, v in sorted(rules.items())) or "-"
            print(f"| {label}{' (edited)' if e else ''} | {total} | {len(ms)} | {by} |")
    print()
    for m in sorted(matches, key=lambda m: (m["edited"], names[m["cand"]], names[m["ref"]])):
        print(
            f"  MATCH {names[m['cand']]}{' edited' if m['edited'] else ''} -> reference {names[m['ref']]}: "
            f"{rule_of(m['method'], m['details'])}; {evidence(m['method'], m['details'])}"
        )
    print(f"\ntotal {time.perf_counter() - t_run:.0f} s wall")


if __name__ == "__main__":
    main()
