"""Reads that turn stored fingerprints into ready-to-use matchers."""

from __future__ import annotations

import threading
from collections import OrderedDict

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
