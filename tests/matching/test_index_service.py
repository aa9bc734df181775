"""The NGO-wide PDQ index built from real reference rows: build, incremental add and delete,
organisation isolation, and hits narrowed to the cases a person may see."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.accounts.models import Membership, Organization, Role
from app.accounts.services import member_create
from app.cases.models import Case, Reference, ReportedUrl
from app.cases.services import case_assign, case_create, reference_add_image, reference_delete
from app.fetching.models import FetchRecord, MediaItem
from app.matching.fingerprint import fingerprint_candidate
from app.matching.index import PdqIndex
from app.matching.selectors import media_item_other_case_hits, references_near
from app.matching.services import VARIANTS, pdq_index_path, pdq_index_refresh, pdq_indexes_clear

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos-dev"
NAMES = [
    "001_gcompris_erase_1234826.jpg",
    "157_gcompris_explore_monuments_1016655.jpg",
    "209_gcompris_explore_world_animals_1356348.jpg",
]
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_indexes() -> Iterator[None]:
    # Indexes live in the process; each test has its own database rows.
    pdq_indexes_clear()
    yield
    pdq_indexes_clear()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _photo(i: int) -> Image.Image:
    return Image.open(PHOTOS / NAMES[i]).convert("RGB")


def _add(case: Case, i: int) -> Reference:
    return reference_add_image(
        case=case, actor=None, data=(PHOTOS / NAMES[i]).read_bytes(), filename=NAMES[i]
    )


def _mirror_pdq(i: int) -> bytes:
    # A mirrored re-encode: found through the reference's dihedral hashes.
    return fingerprint_candidate(Image.open(io.BytesIO(_jpeg(ImageOps.mirror(_photo(i)))))).pdq


def _case(org: Organization, owner: Membership, alias: str) -> Case:
    return case_create(organization=org, actor=owner.user, alias=alias, jurisdiction="KR", language="ko")


def test_index_built_from_rows_then_kept_fresh(org: Organization, owner: Membership, case: Case) -> None:
    ref0 = _add(case, 0)
    other = _case(org, owner, "Case Tulip")
    ref1 = _add(other, 1)
    state = pdq_index_refresh(organization_id=org.pk)  # the shared file is built from the rows on first use
    assert state.file_refs_alive == 2 and state.tail_case_of == {}

    hits = references_near(organization_id=org.pk, pdq=_mirror_pdq(0))
    assert [(r, c) for r, c, _ in hits] == [(ref0.pk, case.pk)]
    assert 0 <= hits[0][2] <= 31
    assert references_near(organization_id=org.pk, pdq=_mirror_pdq(1), case_ids=[case.pk]) == []
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=_mirror_pdq(1))] == [ref1.pk]

    # Incremental add: a new reference is found by the next query, without a rebuild.
    probe = _mirror_pdq(2)
    assert references_near(organization_id=org.pk, pdq=probe) == []
    ref2 = _add(other, 2)
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=probe)] == [ref2.pk]

    assert ref2.pk in state.tail_case_of  # in this process's tail until the file is rebuilt

    # Delete (here without its on-commit erasure: the test's transaction never commits): the
    # next query sees the count drop and rebuilds the shared file without it.
    reference_delete(reference=ref0, actor=None)
    assert references_near(organization_id=org.pk, pdq=_mirror_pdq(0)) == []
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=probe)] == [ref2.pk]


def test_erasure_clears_the_shared_file_before_it_returns(
    org: Organization, case: Case, django_capture_on_commit_callbacks
) -> None:
    ref0 = _add(case, 0)
    _add(case, 1)
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=_mirror_pdq(0))] == [ref0.pk]
    # Another process's view: its own read-only map of the same file, never refreshed.
    path = pdq_index_path(organization_id=org.pk)
    elsewhere = PdqIndex.open(path)
    entry_ids = [i for i, _ in elsewhere.query(_mirror_pdq(0))]
    assert entry_ids and {i // VARIANTS for i in entry_ids} == {ref0.pk}
    with django_capture_on_commit_callbacks(execute=True):
        reference_delete(reference=ref0, actor=None)
    assert elsewhere.query(_mirror_pdq(0)) == []  # same pages: gone for every process at once
    stored = PdqIndex.open(path)  # and the hashes themselves are zeroed in the file
    rows = np.isin(stored._ids, entry_ids)
    assert rows.sum() == len(entry_ids) and not stored._codes[rows].any() and not stored._alive[rows].any()
    assert references_near(organization_id=org.pk, pdq=_mirror_pdq(0)) == []
    assert pdq_index_refresh(organization_id=org.pk).file_refs_alive == 1


def test_organisations_never_see_each_others_references(
    org: Organization, owner: Membership, case: Case, other_org: Organization, outsider: Membership
) -> None:
    theirs = _add(_case(other_org, outsider, "Case Beta"), 0)
    probe = _mirror_pdq(0)
    assert references_near(organization_id=org.pk, pdq=probe) == []
    ours = _add(case, 0)  # the same photo in both organisations
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=probe)] == [ours.pk]
    assert [r for r, _, _ in references_near(organization_id=other_org.pk, pdq=probe)] == [theirs.pk]
    # Naming the other organisation's case does not reach into it.
    assert references_near(organization_id=org.pk, pdq=probe, case_ids=[theirs.case_id]) == []


def _media_item(case: Case, img: Image.Image) -> MediaItem:
    reported = ReportedUrl.objects.create(
        case=case,
        url="https://example.test/p/1",
        normalized_url="https://example.test/p/1",
        url_key="k" * 64,
        host="example.test",
    )
    fetch = FetchRecord.objects.create(
        reported_url=reported, requested_url=reported.url, fetched_at=datetime.now(UTC)
    )
    fp = fingerprint_candidate(img)
    return MediaItem.objects.create(
        fetch=fetch,
        url="https://example.test/i/1.jpg",
        kind="image",
        pdq_hex=fp.pdq.hex(),
        fingerprint=fp.to_bytes(),
    )


def test_other_case_hits_only_in_cases_the_user_may_see(
    org: Organization,
    owner: Membership,
    case: Case,
    victim: Membership,
    other_org: Organization,
    outsider: Membership,
) -> None:
    tulip = _case(org, owner, "Case Tulip")
    rose = _case(org, owner, "Case Rose")
    in_tulip = _add(tulip, 0)
    in_rose = _add(rose, 0)
    _add(_case(other_org, outsider, "Case Beta"), 0)
    _add(case, 1)  # the media item's own case: never reported as "another case"
    item = _media_item(case, ImageOps.mirror(_photo(0)))

    hits = media_item_other_case_hits(media_item=item, user=owner.user)
    assert sorted((r, c) for r, c, _ in hits) == sorted([(in_tulip.pk, tulip.pk), (in_rose.pk, rose.pk)])

    # A caseworker who sees only assigned cases: the media item's case and Tulip.
    org.caseworkers_see_assigned_only = True
    org.save(update_fields=["caseworkers_see_assigned_only"])
    worker = member_create(organization=org, username="carol", password=PASSWORD, role=Role.CASEWORKER)
    for c in (case, tulip):
        case_assign(case=c, actor=owner.user, user_ids=[worker.user.pk])
    assert [(r, c) for r, c, _ in media_item_other_case_hits(media_item=item, user=worker.user)] == [
        (in_tulip.pk, tulip.pk)
    ]
    # The victim sees only their own case; someone from another organisation sees nothing.
    assert media_item_other_case_hits(media_item=item, user=victim.user) == []
    assert media_item_other_case_hits(media_item=item, user=outsider.user) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the builder thread reads committed rows
def test_web_workers_build_every_organisations_index_as_they_start(
    org: Organization, owner: Membership, other_org: Organization, outsider: Membership
) -> None:
    from app import gunicorn_conf
    from app.matching.services import _indexes

    mine = _add(_case(org, owner, "A"), 0)
    theirs = _add(_case(other_org, outsider, "B"), 1)
    Organization.objects.create(name="Empty NGO", slug="empty-ngo")  # no references: no index

    builder = gunicorn_conf.post_worker_init(worker=None)
    builder.join(timeout=60)
    assert not builder.is_alive()
    assert set(_indexes) == {org.id, other_org.id}
    assert _indexes[org.id].case_of(mine.id) == mine.case_id and _indexes[org.id].case_of(theirs.id) is None
    assert _indexes[other_org.id].case_of(theirs.id) == theirs.case_id
    assert _indexes[org.id].file_refs_alive == _indexes[other_org.id].file_refs_alive == 1
