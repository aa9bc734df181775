"""A hash list with many video hashes is imported set-wise: a constant number of queries however
long the list, each entry stored whole or not at all, and the same outcome per entry as importing
the entries one after another (duplicates, videos already there, a PDQ reference that gains its
video, unreadable entries reported with their reason)."""

from __future__ import annotations

import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from app.cases.models import Reference
from app.cases.services.hashlists import ParsedList, case_hash_list_import
from app.cases.services.references import reference_import_pdq
from app.cases.services.videos import VIDEO_IMPORT_BATCH, reference_import_video_hash
from app.matching.models import VideoHash
from app.matching.videos import video_hash_features
from app.matching.vpdq import VpdqFeature, vpdq_to_signal


def _video(rng: random.Random, frames: int = 3) -> list[VpdqFeature]:
    # Distinct qualities so the best frame (the reference's own PDQ hash) is the first one.
    return [VpdqFeature(i, 100 - i, rng.randbytes(32), float(i)) for i in range(frames)]


def test_a_long_list_of_video_hashes_is_stored_set_wise(case, owner):
    rng = random.Random(3)
    videos = [_video(rng) for _ in range(VIDEO_IMPORT_BATCH + 40)]  # more than one batch
    already = _video(rng)
    reference_import_video_hash(case=case, actor=owner.user, text=vpdq_to_signal(already))
    image_only = _video(rng)  # its best frame is already an image reference, with no video yet
    reference_import_pdq(case=case, actor=owner.user, hashes=[(image_only[0].pdq.hex(), 100)])
    signals = [(f"item {i}", vpdq_to_signal(v)) for i, v in enumerate(videos)]
    signals += [
        ("item a", vpdq_to_signal(already)),
        ("item b", vpdq_to_signal(image_only)),
        ("item c", vpdq_to_signal(videos[7])),  # twice in the same list
        ("item d", "[1]"),
        ("item e", ""),
    ]
    with translation.override("en"), CaptureQueriesContext(connection) as queries:
        result = case_hash_list_import(case=case, actor=owner.user, parsed=ParsedList(videos=signals))
    # Per batch: existing references, their video hashes, the two INSERTs, the audit row (+ savepoint).
    assert len(queries) <= 20, len(queries)
    assert [r.pdq_hex for r in result.created] == [v[0].pdq.hex() for v in videos]
    assert result.already_present == 3
    assert result.skipped == ["item d: This is not a video hash list (vPDQ): line 1 cannot be read.",
                              "item e: The file is empty."]  # fmt: skip

    # Every reference has exactly its own video hash: nothing half-stored.
    assert Reference.objects.filter(case=case).count() == len(videos) + 2
    assert VideoHash.objects.filter(reference__case=case).count() == len(videos) + 2
    for reference, features in ((result.created[5], videos[5]), (result.created[-1], videos[-1])):
        assert video_hash_features(video_hash=VideoHash.objects.get(reference=reference)) == features
    gained = Reference.objects.get(case=case, pdq_hex=image_only[0].pdq.hex())
    assert video_hash_features(video_hash=VideoHash.objects.get(reference=gained)) == image_only

    # Imported again: nothing new, every entry counted as already there.
    again = case_hash_list_import(case=case, actor=owner.user, parsed=ParsedList(videos=signals[:-2]))
    assert again.created == [] and again.already_present == len(signals) - 2
    assert VideoHash.objects.filter(reference__case=case).count() == len(videos) + 2
