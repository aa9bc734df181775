"""PDQ index: radius-31 query latency and memory at 1M hashes, on one core.

Compares Jium's PdqIndex (multi-index hashing, numpy) with a numpy brute-force scan
(bitwise_count), faiss IndexBinaryFlat (range_search) and faiss IndexBinaryMultiHash,
all in the same run, and checks that every method returns the same hits.

    .venv/bin/python bench/matching_index.py [--n 1000000] [--queries 300] [--rounds 3]

The machine may be shared: the load average is printed with the figures, and the queries are
run --rounds times (median over all rounds; the per-round medians are printed too).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faiss
import numpy as np
import psutil

from app.matching.index import PdqIndex


def balanced_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random 256-bit hashes with exactly 128 bits set, as PDQ's median threshold gives."""
    out = np.empty((n, 32), np.uint8)
    step = 100_000
    for s in range(0, n, step):
        m = min(step, n - s)
        keys = rng.random((m, 256), dtype=np.float32)
        bits = keys < np.median(keys, axis=1, keepdims=True)
        out[s : s + m] = np.packbits(bits, axis=1)
    return out


def flip(rng: np.random.Generator, h: np.ndarray, k: int) -> np.ndarray:
    bits = np.unpackbits(h)
    idx = rng.choice(256, k, replace=False)
    bits[idx] ^= 1
    return np.packbits(bits)


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--radius", type=int, default=31)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    codes = balanced_hashes(rng, args.n)
    ids = np.arange(args.n, dtype=np.int64) * 7 + 11
    # Queries: near copies of stored hashes (0..40 bits away) and unrelated hashes.
    planted = rng.choice(args.n, args.queries // 2, replace=False)
    queries = [flip(rng, codes[i], int(rng.integers(0, 41))) for i in planted]
    queries += list(balanced_hashes(rng, args.queries - len(queries)))

    results: dict[str, tuple[list[float], int, float, list[set[int]]]] = {}
    round_medians: dict[str, list[float]] = {}

    def measure(name: str, build, query) -> None:
        before = rss()
        t = time.perf_counter()
        obj = build()
        t_build = time.perf_counter() - t
        mem = rss() - before
        lat, hits = [], []
        round_medians[name] = []
        for k in range(args.rounds):
            this_round = []
            for q in queries:
                t = time.perf_counter()
                r = query(obj, q)
                this_round.append(time.perf_counter() - t)
                if k == 0:
                    hits.append(r)
            lat.extend(this_round)
            round_medians[name].append(1000 * statistics.median(this_round))
        results[name] = (lat, mem, t_build, hits)
        del obj
        gc.collect()

    def build_ours() -> PdqIndex:
        ix = PdqIndex()
        ix.add(ids, codes)
        ix.flush()
        return ix

    measure(
        "Jium PdqIndex (12-chunk multi-index hashing, 21-22 bits, radius 2)",
        build_ours,
        lambda ix, q: {i for i, _ in ix.query(q.tobytes(), args.radius)},
    )
    ours_nbytes = build_ours().nbytes

    c64 = codes.view(np.uint64)
    measure(
        "numpy bitwise_count brute force",
        lambda: c64,
        lambda c, q: set(ids[np.bitwise_count(c ^ q.view(np.uint64)).sum(axis=1) <= args.radius].tolist()),
    )

    def build_flat() -> faiss.IndexBinaryFlat:
        ix = faiss.IndexBinaryFlat(256)
        ix.add(codes)
        return ix

    def q_faiss(ix, q) -> set[int]:
        _, _, labels = ix.range_search(q.reshape(1, 32), args.radius + 1)  # faiss: d < radius
        return set(ids[labels].tolist())

    measure("faiss IndexBinaryFlat range_search", build_flat, q_faiss)

    def build_mh() -> faiss.IndexBinaryMultiHash:
        ix = faiss.IndexBinaryMultiHash(256, 16, 16)
        ix.nflip = 1
        ix.add(codes)
        return ix

    measure("faiss IndexBinaryMultiHash (16 x 16 bits, nflip=1)", build_mh, q_faiss)

    truth = results["numpy bitwise_count brute force"][3]
    n_hits = sum(len(h) for h in truth)
    print(
        f"{args.n:,} balanced 256-bit hashes, {len(queries)} radius-{args.radius} queries "
        f"({len(planted)} near copies of stored hashes, {len(queries) - len(planted)} unrelated; "
        f"{n_hits} hits in all), 1 thread, {args.rounds} rounds; load average "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(
        "| method | median ms/query | per-round medians | p99 ms/query | build s | memory MB "
        "| same hits as brute force |"
    )
    print("|---|---:|---|---:|---:|---:|---|")
    for name, (lat, mem, t_build, hits) in results.items():
        lat_ms = sorted(1000 * x for x in lat)
        p99 = lat_ms[min(len(lat_ms) - 1, int(0.99 * len(lat_ms)))]
        mem_mb = (ours_nbytes if name.startswith("Jium") else mem) / 1e6
        same = (
            "yes"
            if hits == truth
            else f"NO ({sum(a != b for a, b in zip(hits, truth, strict=False))} differ)"
        )
        print(
            f"| {name} | {statistics.median(lat_ms):.3f} | "
            + " / ".join(f"{m:.3f}" for m in round_medians[name])
            + f" | {p99:.3f} | {t_build:.1f} | {mem_mb:.0f} | {same} |"
        )
    print("(memory: PdqIndex.nbytes for Jium; process RSS growth while building for the others)")
    print("load average after the queries: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))

    # Incremental updates on the 1M index
    ix = build_ours()
    t = time.perf_counter()
    for k in range(100):
        ix.add(np.array([10**12 + k]), balanced_hashes(rng, 1))
    t_add = (time.perf_counter() - t) / 100
    t = time.perf_counter()
    ix.remove(ids[:100])
    t_rm = time.perf_counter() - t
    lat = []
    for q in queries[:100]:
        t = time.perf_counter()
        ix.query(q.tobytes(), args.radius)
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    ix.flush()
    t_flush = time.perf_counter() - t
    print(
        f"incremental: add one hash {1000 * t_add:.3f} ms, remove 100 ids {1000 * t_rm:.1f} ms, "
        f"query with 100 pending additions {1000 * statistics.median(lat):.3f} ms median, "
        f"full rebuild {t_flush:.1f} s"
    )


if __name__ == "__main__":
    main()
