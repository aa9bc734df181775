"""Reads that turn stored fingerprints into ready-to-use matchers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from app.cases.models import Case, Reference
from app.matching.engine import Matcher
from app.matching.fingerprint import Fingerprint

_CACHE_SIZE = 32
_cache: OrderedDict[tuple[int, tuple[int, ...]], Matcher] = OrderedDict()
_lock = threading.Lock()


def case_matcher(*, case: Case) -> Matcher | None:
    """The case's matcher, cached per worker process while the case's references stay the same."""
    ids = tuple(Reference.objects.filter(case=case).order_by("id").values_list("id", flat=True))
    if not ids:
        return None
    key = (case.pk, ids)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    references = [
        (ref_id, Fingerprint.from_bytes(bytes(blob)))
        for ref_id, blob in Reference.objects.filter(id__in=ids)
        .order_by("id")
        .values_list("id", "fingerprint")
    ]
    matcher = Matcher(references)
    with _lock:
        _cache[key] = matcher
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return matcher


def references_near(
    *, organization_id: int, pdq: bytes, radius: int = 31, case_ids: Iterable[int] | None = None
) -> list[tuple[int, int, int]]:
    """The organisation's references whose PDQ hash (or a rotation, flip or trimmed variant of it)
    is within ``radius`` bits of ``pdq``: (reference id, case id, distance), nearest first.

    ``case_ids`` narrows the answer to those cases (the ones a person may see); the index holds
    only this organisation's references, so nothing from another organisation can come back.
    """
    from app.matching.services import VARIANTS, pdq_index_refresh

    if len(pdq) != 32:
        raise ValueError("a PDQ hash is 32 bytes")
    state = pdq_index_refresh(organization_id=organization_id)
    allowed = None if case_ids is None else {int(c) for c in case_ids}
    best: dict[int, int] = {}
    for entry_id, distance in state.index.query(pdq, radius):
        ref_id = entry_id // VARIANTS
        if ref_id not in best:  # hits come nearest first
            best[ref_id] = distance
    out = []
    for ref_id, distance in best.items():
        case_id = state.case_of.get(ref_id)
        if case_id is not None and (allowed is None or case_id in allowed):
            out.append((ref_id, case_id, distance))
    return sorted(out, key=lambda t: (t[2], t[0]))
