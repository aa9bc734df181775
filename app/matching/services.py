"""The NGO-wide PDQ index: every reference of every case of one organisation, shared on a machine.

Each organisation's index is one file (``PdqIndex.save``) under ``settings.PDQ_INDEX_DIR``, which
every web and worker process maps read-only: one copy in memory per machine, however many
processes read it. The file is rebuilt from the database and swapped in atomically
(``os.replace``); a process notices the new file by its inode on its next query and maps it.

Freshness, per query (one indexed aggregate, as before the file existed): references above the
file's id watermark are loaded into a small per-process tail, so additions are visible at once;
when the tail grows past TAIL_REBUILD entries the file is rebuilt. Erasure
(``pdq_index_forget``) clears the references' entries *in the shared file* (alive flag off,
hash bytes zeroed) under the file's lock before it returns, so no process can find them from
then on; every process drops them from its own tail on its next query, which first compares
the database's reference count with the index's. Any other mismatch (a reference deleted by a
path that did not call ``pdq_index_forget``) makes that query rebuild the file.

Organisations never share a file, so a query cannot see another organisation's references.
Each reference contributes its PDQ hash, its 7 rotations/flips and its border-trimmed hash
(read from the plain ``Reference.pdq_hashes`` column, so a rebuild decrypts nothing), each under
entry id
``reference_id * 16 + variant``.
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max

from app.cases.models import Reference
from app.matching.fingerprint import PDQ_MIN_QUALITY, PDQ_PREFIX_BYTES, Fingerprint, pdq_hashes_from_prefix
from app.matching.index import PdqIndex

logger = logging.getLogger(__name__)

VARIANTS = 16  # entry id = reference id * VARIANTS + variant (0 as given, 1-7 rotations/flips, 8 trimmed)
_TRIM_VARIANT = 8
_LOAD_BATCH = 5000
TAIL_REBUILD = 20_000  # tail entries (per process, brute force) before the shared file is rebuilt


@dataclass
class OrgPdqIndex:
    organization_id: int
    index: PdqIndex = field(default_factory=PdqIndex)  # the mapped file (empty if none yet)
    file_key: tuple[int, int] | None = None  # (inode, size) of the mapped file
    watermark: int = 0  # highest reference id in the file
    tail_watermark: int = 0  # highest reference id loaded into this process's tail
    tail: PdqIndex = field(default_factory=lambda: PdqIndex(auto_rebuild=False))
    tail_case_of: dict[int, int] = field(default_factory=dict)  # reference id -> case id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _file_array(self, name: str) -> np.ndarray:
        return self.index.extra.get(name, np.zeros(0, np.int64))

    @property
    def file_refs_alive(self) -> int:
        counters = self._file_array("counters")
        return int(counters[0]) if len(counters) else 0

    def case_of(self, ref_id: int) -> int | None:
        """Case of a reference in this index (file or tail), or None."""
        if ref_id in self.tail_case_of:
            return self.tail_case_of[ref_id]
        refs = self._file_array("refs")
        i = int(np.searchsorted(refs, ref_id))
        if i < len(refs) and refs[i] == ref_id and self._file_array("ref_alive")[i]:
            return int(self._file_array("ref_cases")[i])
        return None

    def query(self, pdq: bytes, radius: int) -> list[tuple[int, int]]:
        hits = self.index.query(pdq, radius) + self.tail.query(pdq, radius)
        return sorted(hits, key=lambda h: (h[1], h[0]))

    @property
    def size(self) -> int:
        return len(self.index) + len(self.tail)


_indexes: dict[int, OrgPdqIndex] = {}
_indexes_lock = threading.Lock()


def _folder() -> Path:
    # One folder per database, so test databases and several deployments never share files.
    db = connection.settings_dict
    key = re.sub(
        r"[^A-Za-z0-9_.-]+", "_", f"{db['ENGINE'].rsplit('.', 1)[-1]}-{db.get('HOST') or ''}-{db['NAME']}"
    )
    folder = Path(settings.PDQ_INDEX_DIR) / key[-120:]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(organization_id: int) -> Path:
    return _folder() / f"org-{int(organization_id)}.pdqx"


def pdq_index_path(*, organization_id: int) -> Path:
    """Where the organisation's shared index file is (it may not exist yet)."""
    return _path(organization_id)


@contextmanager
def _file_lock(organization_id: int, *, blocking: bool = True) -> Iterator[bool]:
    with open(_folder() / f"org-{int(organization_id)}.lock", "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _entries(reference_id: int, fp: Fingerprint) -> tuple[list[int], list[bytes]]:
    ids: list[int] = []
    hashes: list[bytes] = []
    if fp.pdq_quality >= PDQ_MIN_QUALITY:
        for variant, h in enumerate([fp.pdq, *fp.pdq_dihedral[:7]]):
            ids.append(reference_id * VARIANTS + variant)
            hashes.append(h)
    if fp.pdq_trim is not None and fp.pdq_trim_quality >= PDQ_MIN_QUALITY:
        ids.append(reference_id * VARIANTS + _TRIM_VARIANT)
        hashes.append(fp.pdq_trim)
    return ids, hashes


def reference_index_hashes(*, fingerprint: bytes | Fingerprint) -> bytes:
    """What ``Reference.pdq_hashes`` holds for a fingerprint: its PDQ hashes only (as given,
    rotations/flips, trimmed, with their qualities) as a hash-only fingerprint, ~300 bytes,
    without the keypoint features that must stay encrypted."""
    fp = (
        fingerprint
        if isinstance(fingerprint, Fingerprint)
        else pdq_hashes_from_prefix(fingerprint[:PDQ_PREFIX_BYTES])
    )
    return Fingerprint(
        pdq=fp.pdq, pdq_quality=fp.pdq_quality, pdq_dihedral=list(fp.pdq_dihedral),
        pdq_trim=fp.pdq_trim, pdq_trim_quality=fp.pdq_trim_quality,
    ).to_bytes()  # fmt: skip


def _fingerprint(pdq_hex: str, quality: int, prefix: bytes | memoryview | None) -> Fingerprint:
    if prefix:
        try:
            return pdq_hashes_from_prefix(bytes(prefix)[:PDQ_PREFIX_BYTES])
        except ValueError:
            pass  # not readable as a plain fingerprint (e.g. encrypted at rest): PDQ column only
    return Fingerprint.from_pdq_hex(pdq_hex, quality=quality)


def _reference_rows(
    organization_id: int, above: int
) -> Iterator[list[tuple[int, int, str, int, bytes | memoryview | None]]]:
    """The organisation's references above an id, in id order and batches, with their plain
    PDQ hashes column. Only a row whose writer left that column empty has its fingerprint read
    (it is encrypted as a whole: all ~100 KB of it are read and decrypted for 296 bytes)."""
    last = above
    while True:
        rows = list(
            Reference.objects.filter(case__organization_id=organization_id, id__gt=last)
            .order_by("id")
            .values_list("id", "case_id", "pdq_hex", "pdq_quality", "pdq_hashes")[:_LOAD_BATCH]
        )
        if not rows:
            return
        missing = [r[0] for r in rows if r[4] is None]
        if missing:
            sealed = dict(Reference.objects.filter(id__in=missing).values_list("id", "fingerprint"))
            rows = [r if r[4] is not None else (*r[:4], sealed.get(r[0])) for r in rows]
        yield rows
        last = rows[-1][0]


def _load(index: PdqIndex, case_of: dict[int, int], organization_id: int, above: int) -> int:
    """Add references above ``above`` to ``index``; the highest id added (or ``above``)."""
    top = above
    for rows in _reference_rows(organization_id, above):
        ids: list[int] = []
        hashes: list[bytes] = []
        for ref_id, case_id, pdq_hex, quality, head in rows:
            e_ids, e_hashes = _entries(ref_id, _fingerprint(pdq_hex, quality, head))
            ids.extend(e_ids)
            hashes.extend(e_hashes)
            case_of[ref_id] = case_id
        if ids:
            index.add(np.array(ids, np.int64), np.frombuffer(b"".join(hashes), np.uint8))
        top = rows[-1][0]
    return top


def _build_file(organization_id: int) -> None:
    """Rebuild the organisation's shared file from the database (caller holds the file lock)."""
    index = PdqIndex(auto_rebuild=False)
    case_of: dict[int, int] = {}
    watermark = _load(index, case_of, organization_id, 0)
    refs = np.array(sorted(case_of), np.int64)
    index.save(
        _path(organization_id),
        meta={"organization_id": organization_id, "watermark": watermark},
        extra={
            "refs": refs,
            "ref_cases": np.array([case_of[r] for r in refs.tolist()], np.int64),
            "ref_alive": np.ones(len(refs), np.uint8),
            "counters": np.array([len(refs)], np.int64),
        },
    )
    logger.info("PDQ index of organisation %s rebuilt: %d references", organization_id, len(refs))


def _map_current(state: OrgPdqIndex) -> None:
    """Map the organisation's current file if it is not the one mapped (or build it first)."""
    path = _path(state.organization_id)
    try:
        st = path.stat()
    except FileNotFoundError:
        with _file_lock(state.organization_id):
            if not path.exists():
                _build_file(state.organization_id)
        st = path.stat()
    key = (st.st_ino, st.st_size)
    if key == state.file_key:
        return
    index = PdqIndex.open(path)
    state.index.close()
    state.index, state.file_key = index, key
    state.watermark = int(index.meta.get("watermark", 0))
    state.tail, state.tail_case_of, state.tail_watermark = PdqIndex(auto_rebuild=False), {}, state.watermark


def _rebuild_and_map(state: OrgPdqIndex, *, blocking: bool) -> None:
    with _file_lock(state.organization_id, blocking=blocking) as locked:
        if locked:
            _build_file(state.organization_id)
    _map_current(state)


def pdq_index_refresh(*, organization_id: int) -> OrgPdqIndex:
    """The organisation's index, brought up to date with the database (built on first use)."""
    with _indexes_lock:
        state = _indexes.get(organization_id)
        if state is None:
            state = _indexes[organization_id] = OrgPdqIndex(organization_id=organization_id)
    with state.lock:
        _map_current(state)
        stats = Reference.objects.filter(case__organization_id=organization_id).aggregate(
            max_id=Max("id"), count=Count("id")
        )
        max_id, count = stats["max_id"] or 0, stats["count"]
        if max_id > state.tail_watermark:
            state.tail_watermark = _load(
                state.tail, state.tail_case_of, organization_id, state.tail_watermark
            )
        if count != state.file_refs_alive + len(state.tail_case_of):
            present = set(
                Reference.objects.filter(id__in=list(state.tail_case_of)).values_list("id", flat=True)
            )
            gone = [r for r in state.tail_case_of if r not in present]
            if gone:
                state.tail.remove(
                    (np.array(gone, np.int64)[:, None] * VARIANTS + np.arange(VARIANTS)).ravel()
                )
                for ref_id in gone:
                    del state.tail_case_of[ref_id]
            if count != state.file_refs_alive + len(state.tail_case_of):
                # Deleted without pdq_index_forget, or added below the watermark: start over.
                _rebuild_and_map(state, blocking=True)
                if state.tail_watermark < (max_id or 0):
                    state.tail_watermark = _load(
                        state.tail, state.tail_case_of, organization_id, state.tail_watermark
                    )
        elif state.tail.tail_size > TAIL_REBUILD:
            # Someone else may be rebuilding it already: then keep the tail a little longer.
            _rebuild_and_map(state, blocking=False)
    return state


def pdq_index_forget(*, organization_id: int, reference_ids: list[int]) -> int:
    """Erase these references from the organisation's shared index file now (every process
    reads the same pages, so none can find them after this returns) and from this process's
    tail. Call it once they are deleted from the database. How many were in the file."""
    if not reference_ids:
        return 0
    refs = np.array(sorted({int(r) for r in reference_ids}), np.int64)
    entry_ids = (refs[:, None] * VARIANTS + np.arange(VARIANTS)).ravel()
    found = 0
    path = _path(organization_id)
    with _file_lock(organization_id):
        if path.exists():
            writable = PdqIndex.open(path, writable=True)
            writable.remove(entry_ids)
            file_refs = writable.extra["refs"]
            pos = np.searchsorted(file_refs, refs)
            inside = pos < len(file_refs)
            inside[inside] = file_refs[pos[inside]] == refs[inside]
            alive = writable.extra["ref_alive"]
            hit = pos[inside][alive[pos[inside]] != 0]
            found = len(hit)
            alive[hit] = 0
            writable.extra["counters"][0] -= found
            writable.sync()
            writable.close()
    with _indexes_lock:
        state = _indexes.get(organization_id)
    if state is not None:
        with state.lock:
            state.tail.remove(entry_ids)
            for ref_id in refs.tolist():
                state.tail_case_of.pop(ref_id, None)
    return found


def pdq_indexes_build_all() -> int:
    """Map (building if needed) the index of every organisation that has references; how many."""
    organization_ids = sorted(set(Reference.objects.values_list("case__organization_id", flat=True)))
    for organization_id in organization_ids:
        pdq_index_refresh(organization_id=organization_id)
    return len(organization_ids)


def pdq_indexes_clear() -> None:
    """Forget every index of this database, in memory and on disk (tests; after restoring a
    database backup, where the files would describe references that are not there)."""
    with _indexes_lock:
        for state in _indexes.values():
            state.index.close()
        _indexes.clear()
        shutil.rmtree(_folder(), ignore_errors=True)
