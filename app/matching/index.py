"""A PDQ index for radius queries over an NGO network's references (up to ~16M hashes).

Multi-index hashing: the 256-bit hash is cut into 12 chunks (4 of 22 bits, 8 of 21). If two
hashes are within 31 bits, then by the pigeonhole principle at least one chunk differs in at
most 2 bits (12 chunks x 3 bits = 36 > 31). So a query looks up, in each of 12 tables, its own
chunk value and every value 1 or 2 bits away (~2,900 bucket probes) and checks only the rows it
finds there. At 10M hashes a bucket holds ~4 rows, so a query verifies ~12,000 rows instead of
the ~42,000 that 16 chunks of 16 bits (one bit each) would give; that is what keeps it under
2 ms. Small indexes address each table by fewer high bits of the chunk (no more buckets than
rows), so their bucket tables stay small.

Each table is a counting-sorted permutation of row numbers (24 bits a row, kept as a uint16 and
a uint8 plane so gathering them is two flat takes) plus bucket offsets. Candidates are verified
by popcount on uint64 views without deduplicating first (a near hash shows up in several
tables; deduplicating the few hits is cheaper than sorting the candidates).

An index can be saved to one file and opened by many processes as a read-only memory map: one
copy in memory for the whole machine (``save`` / ``open``). Removal clears the entry's "alive"
byte and zeroes its hash in place; on a map opened ``writable`` that is immediately what every
process that maps the same file reads. New hashes go to a small per-process brute-force tail.
Pure module: no Django.
"""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_BITS = (22, 22, 22, 22, 21, 21, 21, 21, 21, 21, 21, 21)
NCHUNKS = len(CHUNK_BITS)
CHUNK_START = tuple(int(s) for s in np.cumsum((0, *CHUNK_BITS[:-1])))
CHUNK_RADIUS = 2
MIH_MAX_RADIUS = (CHUNK_RADIUS + 1) * NCHUNKS - 1  # 35: beyond this the pigeonhole bound fails
MAX_ROWS = 1 << 24

_MAGIC = b"JIUMPDQX"
_FILE_VERSION = 2
_HEADER = 4096
_ALIGN = 64


def _flip_masks(bits: int) -> np.ndarray:
    """Every mask of ``bits`` bits with at most CHUNK_RADIUS bits set (0 first)."""
    single = [1 << i for i in range(bits)]
    pairs = [(1 << i) | (1 << j) for i in range(bits) for j in range(i + 1, bits)]
    return np.array([0, *single, *pairs], np.uint32)


_MASKS = {b: _flip_masks(b) for b in set(CHUNK_BITS)}


def _as_codes(hashes: np.ndarray | bytes) -> np.ndarray:
    a = np.frombuffer(hashes, dtype=np.uint8) if isinstance(hashes, bytes | bytearray) else np.asarray(hashes)
    return np.ascontiguousarray(a, dtype=np.uint8).reshape(-1, 32)


def _chunk(codes: np.ndarray, c: int) -> np.ndarray:
    """(n,) uint32 value of chunk c: bits CHUNK_START[c].. of the hash read as one big-endian
    256-bit number (byte 0's high bit first)."""
    words = codes.view(">u8").astype(np.uint64)  # (n, 4), native order
    start, bits = CHUNK_START[c], CHUNK_BITS[c]
    w, off = divmod(start, 64)
    if off + bits <= 64:
        v = words[:, w] >> np.uint64(64 - off - bits)
    else:
        low_bits = off + bits - 64
        v = (words[:, w] << np.uint64(low_bits)) | (words[:, w + 1] >> np.uint64(64 - low_bits))
    return (v & np.uint64((1 << bits) - 1)).astype(np.uint32)


def _bucket_bits(n: int) -> int:
    """Address bits per table: about one bucket per row, at most the chunk's own width."""
    return int(np.clip(int(np.ceil(np.log2(max(n, 2)))), 8, max(CHUNK_BITS)))


class PdqIndex:
    def __init__(
        self, *, rebuild_fraction: float = 0.05, min_tail: int = 4096, auto_rebuild: bool = True
    ) -> None:
        self._codes = np.zeros((0, 32), np.uint8)
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, np.uint8)
        self._bits = [min(8, b) for b in CHUNK_BITS]
        self._perm_lo: list[np.ndarray] = [np.zeros(0, np.uint16)] * NCHUNKS
        self._perm_hi: list[np.ndarray] = [np.zeros(0, np.uint8)] * NCHUNKS
        self._offsets: list[np.ndarray] = [np.zeros((1 << b) + 1, np.uint32) for b in self._bits]
        self._tail_codes = np.zeros((0, 32), np.uint8)
        self._tail_ids = np.zeros(0, np.int64)
        self._rebuild_fraction = rebuild_fraction
        self._min_tail = min_tail
        self._auto_rebuild = auto_rebuild
        self._mmap: mmap.mmap | None = None
        self.meta: dict[str, Any] = {}
        # Arrays saved beside the index (``save(extra=)``); in a writable map, writes to them go
        # to the shared file.
        self.extra: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ building

    def __len__(self) -> int:
        return int(np.count_nonzero(self._alive)) + len(self._tail_ids)

    @property
    def rows(self) -> int:
        """Entries in the tables (alive or not), without the tail."""
        return len(self._codes)

    @property
    def tail_size(self) -> int:
        return len(self._tail_ids)

    def add(self, ids: np.ndarray, hashes: np.ndarray | bytes) -> None:
        codes = _as_codes(hashes)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(codes):
            raise ValueError("ids and hashes differ in length")
        if not len(ids):
            return
        # One contiguous tail, so a query scans it in one go.
        self._tail_codes = np.concatenate([self._tail_codes, codes])
        self._tail_ids = np.concatenate([self._tail_ids, ids])
        if self._auto_rebuild and len(self._tail_ids) > max(
            self._min_tail, self._rebuild_fraction * len(self._codes)
        ):
            self._rebuild()

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        if not len(self._ids):
            return np.zeros(0, np.int64)
        if self.meta.get("sorted_ids"):
            lo = np.searchsorted(self._ids, ids, side="left")
            hi = np.searchsorted(self._ids, ids, side="right")
            return np.concatenate(
                [np.arange(a, b) for a, b in zip(lo, hi, strict=True)] or [np.zeros(0, int)]
            )
        return np.flatnonzero(np.isin(self._ids, ids))

    def remove(self, ids: np.ndarray) -> int:
        """Remove these entry ids; how many table rows were alive and are now gone. The removed
        rows' hashes are zeroed too (in the shared file when the index was opened writable; a
        read-only map only drops them from this process's tail)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        gone = 0
        rows = self._rows_of(ids) if self._alive.flags.writeable else np.zeros(0, np.int64)
        if len(rows):
            rows = rows[self._alive[rows] != 0]
            gone = len(rows)
            self._alive[rows] = 0
            self._codes[rows] = 0
        if len(self._tail_ids):
            keep = ~np.isin(self._tail_ids, ids)
            self._tail_codes, self._tail_ids = self._tail_codes[keep], self._tail_ids[keep]
        return gone

    def _rebuild(self) -> None:
        alive = self._alive != 0
        codes = np.concatenate([self._codes[alive], self._tail_codes])
        ids = np.concatenate([self._ids[alive], self._tail_ids])
        order = np.argsort(ids, kind="stable")  # id order: removal by id is a binary search
        codes, ids = codes[order], ids[order]
        n = len(codes)
        if n >= MAX_ROWS:
            raise ValueError("PdqIndex holds at most 16.7M hashes")
        perm_lo, perm_hi, offsets, bits = [], [], [], []
        b = _bucket_bits(n)
        for c in range(NCHUNKS):
            nb = min(b, CHUNK_BITS[c])
            keys = _chunk(codes, c) >> np.uint32(CHUNK_BITS[c] - nb)
            perm = np.argsort(keys, kind="stable").astype(np.uint32)
            perm_lo.append((perm & 0xFFFF).astype(np.uint16))
            perm_hi.append((perm >> 16).astype(np.uint8))
            off = np.zeros((1 << nb) + 1, np.uint32)
            np.cumsum(np.bincount(keys, minlength=1 << nb), out=off[1:])
            offsets.append(off)
            bits.append(nb)
        self._close()
        self._codes, self._ids, self._alive = codes, ids, np.ones(n, np.uint8)
        self._perm_lo, self._perm_hi, self._offsets, self._bits = perm_lo, perm_hi, offsets, bits
        self._tail_codes, self._tail_ids = np.zeros((0, 32), np.uint8), np.zeros(0, np.int64)
        self.meta = {**self.meta, "sorted_ids": True}

    def flush(self) -> None:
        """Fold pending additions and removals into the tables now."""
        if len(self._tail_ids) or not self._alive.all() or not self.meta.get("sorted_ids"):
            self._rebuild()

    @property
    def nbytes(self) -> int:
        return int(
            self._codes.nbytes
            + self._ids.nbytes
            + self._alive.nbytes
            + sum(a.nbytes for a in self._perm_lo)
            + sum(a.nbytes for a in self._perm_hi)
            + sum(a.nbytes for a in self._offsets)
            + self._tail_codes.nbytes
            + self._tail_ids.nbytes
        )

    # ------------------------------------------------------------------ one file, many processes

    def _arrays(self) -> list[tuple[str, np.ndarray]]:
        out: list[tuple[str, np.ndarray]] = [
            ("codes", self._codes),
            ("ids", self._ids),
            ("alive", self._alive),
        ]
        for c in range(NCHUNKS):
            out += [
                (f"lo{c}", self._perm_lo[c]),
                (f"hi{c}", self._perm_hi[c]),
                (f"off{c}", self._offsets[c]),
            ]
        return out

    def save(
        self, path: Path, meta: dict[str, Any] | None = None, extra: dict[str, np.ndarray] | None = None
    ) -> None:
        """Write the index (pending additions folded in) to ``path`` atomically: a reader sees
        the old file or the new one, never half of one. ``extra``: arrays kept beside it."""
        self.flush()
        path = Path(path)
        arrays = self._arrays() + [(f"x:{k}", np.ascontiguousarray(v)) for k, v in (extra or {}).items()]
        sections: list[dict[str, Any]] = []
        pos = _HEADER
        for name, a in arrays:
            sections.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": pos})
            pos += -(-a.nbytes // _ALIGN) * _ALIGN
        header = json.dumps(
            {"version": _FILE_VERSION, "bits": self._bits, "sections": sections, "meta": meta or {}}
        ).encode()
        if len(header) + len(_MAGIC) + 4 > _HEADER:
            raise ValueError("index metadata too large")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(_MAGIC + len(header).to_bytes(4, "little") + header)
            for (_, a), s in zip(arrays, sections, strict=True):
                f.seek(s["offset"])
                f.write(np.ascontiguousarray(a).tobytes())
            f.truncate(pos)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def open(cls, path: Path, *, writable: bool = False) -> PdqIndex:
        """Map a saved index. Read-only maps share one copy of the file's pages between all the
        processes of the machine; a writable map (erasure) writes through to that same copy."""
        with open(path, "r+b" if writable else "rb") as f:
            if writable:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)
            else:
                # Readers map every page up front (MAP_POPULATE): the pages are shared anyway, and
                # a fresh process would otherwise take a page fault on most rows it first reads.
                mm = mmap.mmap(
                    f.fileno(),
                    0,
                    flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                    prot=mmap.PROT_READ,
                )
        if mm[: len(_MAGIC)] != _MAGIC:
            mm.close()
            raise ValueError("not a Jium PDQ index file")
        size = int.from_bytes(mm[len(_MAGIC) : len(_MAGIC) + 4], "little")
        head = json.loads(mm[len(_MAGIC) + 4 : len(_MAGIC) + 4 + size])
        if head.get("version") != _FILE_VERSION:
            mm.close()
            raise ValueError("PDQ index file of another version")
        arrays = {
            s["name"]: np.frombuffer(
                mm, dtype=np.dtype(s["dtype"]), count=int(np.prod(s["shape"])), offset=s["offset"]
            ).reshape(s["shape"])
            for s in head["sections"]
        }
        ix = cls(auto_rebuild=False)
        ix._codes, ix._ids, ix._alive = arrays["codes"], arrays["ids"], arrays["alive"]
        ix._perm_lo = [arrays[f"lo{c}"] for c in range(NCHUNKS)]
        ix._perm_hi = [arrays[f"hi{c}"] for c in range(NCHUNKS)]
        ix._offsets = [arrays[f"off{c}"] for c in range(NCHUNKS)]
        ix._bits = list(head["bits"])
        ix.meta = {**head["meta"], "sorted_ids": True}
        ix.extra = {k[2:]: v for k, v in arrays.items() if k.startswith("x:")}
        ix._mmap = mm
        return ix

    def _close(self) -> None:
        if self._mmap is not None:
            mm, self._mmap = self._mmap, None
            try:
                mm.flush()
                mm.close()
            except BufferError:  # arrays still refer to it: the map goes when they do
                pass

    def close(self) -> None:
        """Unmap a file-backed index (it is empty afterwards)."""
        self.__init__()  # type: ignore[misc]

    def sync(self) -> None:
        """Push in-place removals on a writable map to the file."""
        if self._mmap is not None:
            self._mmap.flush()

    # ------------------------------------------------------------------ queries

    def _candidate_rows(self, q: np.ndarray) -> np.ndarray:
        starts_l: list[np.ndarray] = []
        lengths_l: list[np.ndarray] = []
        per_table: list[int] = []
        q_chunks = [_chunk(q, c)[0] for c in range(NCHUNKS)]
        for c in range(NCHUNKS):
            shift = np.uint32(CHUNK_BITS[c] - self._bits[c])
            keys = (q_chunks[c] ^ _MASKS[CHUNK_BITS[c]]) >> shift
            if shift:
                keys = np.unique(keys)
            off = self._offsets[c]
            s = off[keys].astype(np.int64)
            length = off[keys + 1].astype(np.int64) - s
            starts_l.append(s)
            lengths_l.append(length)
            per_table.append(int(length.sum()))
        starts = np.concatenate(starts_l)
        lengths = np.concatenate(lengths_l)
        total = sum(per_table)
        if total == 0:
            return np.zeros(0, np.int64)
        # Concatenate the bucket ranges without a Python loop; the tables' ranges come one
        # table after another, so each table's positions are one slice.
        cum = np.cumsum(lengths) - lengths
        pos = np.repeat(starts - cum, lengths) + np.arange(total)
        rows = np.empty(total, np.int64)
        end = 0
        for c, count in enumerate(per_table):
            if count:
                p = pos[end : end + count]
                rows[end : end + count] = (self._perm_hi[c][p].astype(np.int64) << 16) | self._perm_lo[c][p]
                end += count
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
            rows = self._candidate_rows(q) if radius <= MIH_MAX_RADIUS else np.flatnonzero(self._alive)
            d = np.bitwise_count(self._codes.view(np.uint64)[rows] ^ q64).sum(axis=1, dtype=np.int32)
            hit = d <= radius
            rows, first = np.unique(rows[hit], return_index=True)
            d = d[hit][first]
            keep = self._alive[rows] != 0
            out_ids.append(self._ids[rows[keep]])
            out_d.append(d[keep])
        if len(self._tail_ids):
            d = np.bitwise_count(self._tail_codes.view(np.uint64) ^ q64).sum(axis=1, dtype=np.int32)
            hit = d <= radius
            out_ids.append(self._tail_ids[hit])
            out_d.append(d[hit])
        if not out_ids:
            return []
        all_ids = np.concatenate(out_ids)
        all_d = np.concatenate(out_d)
        order = np.lexsort((all_ids, all_d))
        return [(int(all_ids[i]), int(all_d[i])) for i in order]
