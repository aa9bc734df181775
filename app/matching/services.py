"""The NGO-wide PDQ index: every reference of every case of one organisation, in memory.

One ``PdqIndex`` per organisation and web worker process (the process that asks it: the
link page points staff to other cases whose images appear on the same page), built from the
database when the worker starts (``app/gunicorn_conf.py``; on first use elsewhere) and kept
fresh incrementally: each query first asks the database for
the organisation's highest reference id and reference count (one indexed aggregate), loads
references above the id watermark, and drops deleted ones when the count says some went.
Organisations never share an index, so a query cannot see another organisation's references.

Each reference contributes its PDQ hash, its 7 rotations/flips and its border-trimmed hash
(from the stored fingerprint), each under entry id ``reference_id * 16 + variant``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max

from app.cases.models import Reference
from app.matching.fingerprint import PDQ_MIN_QUALITY, Fingerprint
from app.matching.index import PdqIndex

logger = logging.getLogger(__name__)

VARIANTS = 16  # entry id = reference id * VARIANTS + variant (0 as given, 1-7 rotations/flips, 8 trimmed)
_TRIM_VARIANT = 8
_LOAD_BATCH = 2000


@dataclass
class OrgPdqIndex:
    organization_id: int
    index: PdqIndex = field(default_factory=PdqIndex)
    watermark: int = 0  # highest reference id loaded
    case_of: dict[int, int] = field(default_factory=dict)  # reference id -> case id
    lock: threading.Lock = field(default_factory=threading.Lock)


_indexes: dict[int, OrgPdqIndex] = {}
_indexes_lock = threading.Lock()


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


def _fingerprint(pdq_hex: str, quality: int, blob: bytes | memoryview | None) -> Fingerprint:
    if blob:
        try:
            return Fingerprint.from_bytes(bytes(blob))
        except ValueError:
            logger.warning("unreadable reference fingerprint; using its PDQ hash only")
    return Fingerprint.from_pdq_hex(pdq_hex, quality=quality)


def _load_new(state: OrgPdqIndex) -> None:
    """Add the organisation's references above the watermark, in id order and in batches."""
    while True:
        rows = list(
            Reference.objects.filter(case__organization_id=state.organization_id, id__gt=state.watermark)
            .order_by("id")
            .values_list("id", "case_id", "pdq_hex", "pdq_quality", "fingerprint")[:_LOAD_BATCH]
        )
        if not rows:
            return
        ids: list[int] = []
        hashes: list[bytes] = []
        for ref_id, case_id, pdq_hex, quality, blob in rows:
            e_ids, e_hashes = _entries(ref_id, _fingerprint(pdq_hex, quality, blob))
            ids.extend(e_ids)
            hashes.extend(e_hashes)
            state.case_of[ref_id] = case_id
        if ids:
            state.index.add(np.array(ids, np.int64), np.frombuffer(b"".join(hashes), np.uint8))
        state.watermark = rows[-1][0]


def _drop_deleted(state: OrgPdqIndex) -> None:
    present = set(
        Reference.objects.filter(case__organization_id=state.organization_id).values_list("id", flat=True)
    )
    gone = [ref_id for ref_id in state.case_of if ref_id not in present]
    if gone:
        entry_ids = (np.array(gone, np.int64)[:, None] * VARIANTS + np.arange(VARIANTS)).ravel()
        state.index.remove(entry_ids)
        for ref_id in gone:
            del state.case_of[ref_id]


def pdq_index_refresh(*, organization_id: int) -> OrgPdqIndex:
    """The organisation's index, brought up to date with the database (built on first use)."""
    with _indexes_lock:
        state = _indexes.get(organization_id)
        if state is None:
            state = _indexes[organization_id] = OrgPdqIndex(organization_id=organization_id)
    with state.lock:
        stats = Reference.objects.filter(case__organization_id=organization_id).aggregate(
            max_id=Max("id"), count=Count("id")
        )
        max_id, count = stats["max_id"] or 0, stats["count"]
        if max_id > state.watermark:
            _load_new(state)
        if count != len(state.case_of):
            _drop_deleted(state)
            if count > len(state.case_of):  # added below the watermark: rare, start over
                state.index, state.case_of, state.watermark = PdqIndex(), {}, 0
                _load_new(state)
    return state


def pdq_indexes_build_all() -> int:
    """Build or refresh the index of every organisation that has references; how many."""
    organization_ids = sorted(set(Reference.objects.values_list("case__organization_id", flat=True)))
    for organization_id in organization_ids:
        pdq_index_refresh(organization_id=organization_id)
    return len(organization_ids)


def pdq_indexes_clear() -> None:
    """Forget every in-memory index (tests; after restoring a database backup)."""
    with _indexes_lock:
        _indexes.clear()
