"""Nearest-neighbour search for the matcher: PDQ hash rows by popcount, ORB descriptors in faiss.
Pure module: no Django."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU probing is noise
import faiss  # noqa: E402

# Parallelism comes from running several worker processes; faiss's own OpenMP threads on top of
# that made one match 2.3 s instead of 0.17 s on 2 cores (threads fighting over the same cores).
faiss.omp_set_num_threads(1)

FLAT_MAX = 8000  # descriptors; beyond this an IVF index answers ~10x faster
NPROBE = 8


def hash_rows(hashes: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(hashes), dtype=np.uint64).reshape(-1, 4)


def popcount_distance(table: np.ndarray, h: bytes) -> np.ndarray:
    q = np.frombuffer(h, dtype=np.uint64)
    return np.bitwise_count(table ^ q).sum(axis=1, dtype=np.int32)


def feature_index(descs: np.ndarray) -> faiss.IndexBinary:
    """Exact search for small sets; an inverted file beyond, as brute force grows linearly."""
    n = len(descs)
    if n <= FLAT_MAX:
        flat = faiss.IndexBinaryFlat(256)
        if n:
            flat.add(descs)
        return flat
    nlist = int(np.clip(n // 220, 32, 4096))
    quantizer = faiss.IndexBinaryFlat(256)
    index = faiss.IndexBinaryIVF(quantizer, 256, nlist)
    index.cp.niter = 8
    index.cp.max_points_per_centroid = 48  # k-means on a sample is plenty for coarse cells
    index.cp.seed = 1234  # same references, same cells, same answers
    index.train(descs)
    index.add(descs)
    index.nprobe = NPROBE
    index.own_fields = True
    quantizer.this.disown()  # type: ignore[attr-defined]
    return index
