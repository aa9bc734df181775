"""An in-memory PDQ index for radius queries over an NGO's references (millions of hashes).

Multi-index hashing: the 256-bit hash is cut into 16 chunks of 16 bits. If two hashes are
within 31 bits, then by the pigeonhole principle at least one chunk differs in at most 1 bit
(16 chunks x 2 bits = 32 > 31). So a query looks up, in each of 16 tables, its own chunk
value and the 16 values one bit away (272 bucket probes), and checks only those rows. Each
table is a counting-sorted permutation of row numbers (24 bits a row, kept as a uint16 and a
uint8 plane so gathering them is two flat takes) plus bucket offsets, so 1M hashes take ~93 MB
in total. Candidates are verified by popcount on uint64 views without deduplicating first
(a near hash shows up in several tables; deduplicating the few hits is cheaper than sorting
~4,000 candidates).

New hashes go to a small brute-force tail and are folded into the tables when it grows;
removals are tombstones. Pure module: no Django.
"""

from __future__ import annotations

import numpy as np

NCHUNKS = 16
CHUNK_BITS = 16
MIH_MAX_RADIUS = 2 * NCHUNKS - 1  # beyond this the pigeonhole bound no longer holds
_NBUCKETS = 1 << CHUNK_BITS
_FLIPS = np.concatenate([[0], 1 << np.arange(CHUNK_BITS)]).astype(np.uint32)  # 17 probes


def _as_codes(hashes: np.ndarray | bytes) -> np.ndarray:
    a = np.frombuffer(hashes, dtype=np.uint8) if isinstance(hashes, bytes | bytearray) else np.asarray(hashes)
    a = np.ascontiguousarray(a, dtype=np.uint8).reshape(-1, 32)
    return a


def _chunks(codes: np.ndarray) -> np.ndarray:
    """(n, 16) uint32 chunk values, big-endian 16-bit words of the hash."""
    return codes.reshape(-1, NCHUNKS, 2).astype(np.uint32) @ np.array([256, 1], np.uint32)


class PdqIndex:
    def __init__(self, *, rebuild_fraction: float = 0.05, min_tail: int = 4096) -> None:
        self._codes = np.zeros((0, 32), np.uint8)
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._perm_lo = np.zeros((NCHUNKS, 0), np.uint16)
        self._perm_hi = np.zeros((NCHUNKS, 0), np.uint8)
        self._offsets = np.zeros((NCHUNKS, _NBUCKETS + 1), np.uint32)
        self._tail_codes: list[np.ndarray] = []
        self._tail_ids: list[np.ndarray] = []
        self._tail_n = 0
        self._rebuild_fraction = rebuild_fraction
        self._min_tail = min_tail

    # ------------------------------------------------------------------ building

    def __len__(self) -> int:
        return int(self._alive.sum()) + self._tail_n

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        codes = _as_codes(hashes)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(codes):
            raise ValueError("ids and hashes differ in length")
        if not len(ids):
            return
        # One contiguous tail, so a query scans it in one go.
        self._tail_codes = [np.concatenate([*self._tail_codes, codes])]
        self._tail_ids = [np.concatenate([*self._tail_ids, ids])]
        self._tail_n += len(ids)
        if self._tail_n > max(self._min_tail, self._rebuild_fraction * len(self._codes)):
            self._rebuild()

    def remove(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(self._ids):
            self._alive &= ~np.isin(self._ids, ids)
        if self._tail_n:
            keep = [~np.isin(t, ids) for t in self._tail_ids]
            self._tail_codes = [c[k] for c, k in zip(self._tail_codes, keep, strict=True)]
            self._tail_ids = [t[k] for t, k in zip(self._tail_ids, keep, strict=True)]
            self._tail_n = sum(len(t) for t in self._tail_ids)

    def _rebuild(self) -> None:
        alive = self._alive
        codes = np.concatenate([self._codes[alive], *self._tail_codes])
        ids = np.concatenate([self._ids[alive], *self._tail_ids])
        n = len(codes)
        if n >= 1 << 24:
            raise ValueError("PdqIndex holds at most 16.7M hashes")
        chunks = _chunks(codes)
        perm_lo = np.empty((NCHUNKS, n), np.uint16)
        perm_hi = np.empty((NCHUNKS, n), np.uint8)
        offsets = np.empty((NCHUNKS, _NBUCKETS + 1), np.uint32)
        for c in range(NCHUNKS):
            order = np.argsort(chunks[:, c], kind="stable").astype(np.uint32)
            perm_lo[c] = order & 0xFFFF
            perm_hi[c] = order >> 16
            counts = np.bincount(chunks[:, c], minlength=_NBUCKETS)
            offsets[c, 0] = 0
            np.cumsum(counts, out=offsets[c, 1:])
        self._codes, self._ids, self._alive = codes, ids, np.ones(n, bool)
        self._perm_lo, self._perm_hi, self._offsets = perm_lo, perm_hi, offsets
        self._tail_codes, self._tail_ids, self._tail_n = [], [], 0

    def flush(self) -> None:
        """Fold pending additions and removals into the tables now."""
        if self._tail_n or not self._alive.all():
            self._rebuild()

    @property
    def nbytes(self) -> int:
        return int(
            self._codes.nbytes
            + self._ids.nbytes
            + self._alive.nbytes
            + self._perm_lo.nbytes
            + self._perm_hi.nbytes
            + self._offsets.nbytes
            + sum(c.nbytes for c in self._tail_codes)
            + sum(t.nbytes for t in self._tail_ids)
        )

    # ------------------------------------------------------------------ queries

    def _candidate_rows(self, q_chunks: np.ndarray) -> np.ndarray:
        probes = (q_chunks[:, None] ^ _FLIPS[None, :]).astype(np.int64)  # (16, 17)
        table = np.arange(NCHUNKS)[:, None]
        starts = self._offsets[table, probes].ravel().astype(np.int64)
        ends = self._offsets[table, probes + 1].ravel().astype(np.int64)
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        n = len(self._codes)
        base = (np.repeat(np.arange(NCHUNKS), len(_FLIPS)) * n).astype(np.int64)
        # Concatenate the bucket ranges without a Python loop.
        cum = np.cumsum(lengths) - lengths
        pos = np.repeat(starts + base - cum, lengths) + np.arange(total)
        rows = self._perm_hi.ravel()[pos].astype(np.int64) << 16
        rows |= self._perm_lo.ravel()[pos]
        return rows  # with repeats: a row near the query sits in the probed bucket of several tables

    def query(self, hash32: bytes, radius: int = 31) -> list[tuple[int, int]]:
        """(id, distance) of every stored hash within ``radius`` bits, nearest first."""
        q = _as_codes(hash32)
        if len(q) != 1:
            raise ValueError("query takes one 32-byte hash")
        q64 = q.view(np.uint64)[0]
        out_ids: list[np.ndarray] = []
        out_d: list[np.ndarray] = []
        if len(self._codes):
            if radius <= MIH_MAX_RADIUS:
                rows = self._candidate_rows(_chunks(q)[0])
            else:
                rows = np.flatnonzero(self._alive)
            d = np.bitwise_count(self._codes.view(np.uint64)[rows] ^ q64).sum(axis=1, dtype=np.int32)
            hit = d <= radius
            rows, first = np.unique(rows[hit], return_index=True)
            d = d[hit][first]
            keep = self._alive[rows]
            out_ids.append(self._ids[rows[keep]])
            out_d.append(d[keep])
        for codes, ids in zip(self._tail_codes, self._tail_ids, strict=True):
            d = np.bitwise_count(codes.view(np.uint64) ^ q64).sum(axis=1, dtype=np.int32)
            hit = d <= radius
            out_ids.append(ids[hit])
            out_d.append(d[hit])
        if not out_ids:
            return []
        all_ids = np.concatenate(out_ids)
        all_d = np.concatenate(out_d)
        order = np.lexsort((all_ids, all_d))
        return [(int(all_ids[i]), int(all_d[i])) for i in order]
