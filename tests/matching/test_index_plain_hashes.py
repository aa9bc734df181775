"""The shared PDQ index is rebuilt from the plain ``Reference.pdq_hashes`` column: every writer
fills it, the rebuild reads no fingerprint, old rows are filled by the migration, and erasure
takes the hashes with the row."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import ImageOps

from app.accounts.models import Organization
from app.cases import services
from app.cases.models import Case, Reference
from app.matching.decode import decode_media
from app.matching.fingerprint import (
    PDQ_PREFIX_BYTES,
    Fingerprint,
    fingerprint_candidate,
    fingerprint_reference,
)
from app.matching.selectors import references_near
from app.matching.services import pdq_index_refresh, pdq_indexes_clear, reference_index_hashes
from tests.cases.test_device_fingerprints import _document
from tests.conftest import photo_paths

fill_pdq_hashes = importlib.import_module("app.cases.migrations.0006_reference_pdq_hashes").fill_pdq_hashes


@pytest.fixture(autouse=True)
def _fresh_indexes() -> Iterator[None]:
    pdq_indexes_clear()
    yield
    pdq_indexes_clear()


def _hashes(fp: Fingerprint) -> tuple[bytes, int, list[bytes], bytes | None, int]:
    return fp.pdq, fp.pdq_quality, fp.pdq_dihedral, fp.pdq_trim, fp.pdq_trim_quality


def _mirror_pdq(i: int) -> bytes:
    from PIL import Image

    return fingerprint_candidate(ImageOps.mirror(Image.open(photo_paths()[i]).convert("RGB"))).pdq


def _assert_plain_hashes_match(ref: Reference) -> None:
    ref.refresh_from_db()
    full = Fingerprint.from_bytes(bytes(ref.fingerprint))
    plain = Fingerprint.from_bytes(bytes(ref.pdq_hashes))  # a hash-only fingerprint
    assert _hashes(plain) == _hashes(full)
    assert not plain.has_features and len(ref.pdq_hashes) <= PDQ_PREFIX_BYTES
    with connection.cursor() as cursor:
        cursor.execute("SELECT pdq_hashes FROM cases_reference WHERE id = %s", [ref.pk])
        assert bytes(cursor.fetchone()[0]) == bytes(ref.pdq_hashes)  # stored in plain


def test_every_writer_fills_the_plain_hashes(case: Case, owner) -> None:  # type: ignore[no-untyped-def]
    uploaded = services.reference_add_image(case=case, actor=owner.user, data=photo_paths()[0].read_bytes())
    assert len(Fingerprint.from_bytes(bytes(uploaded.pdq_hashes)).pdq_dihedral) == 7
    _assert_plain_hashes_match(uploaded)

    imported, _ = services.reference_import_hashes(case=case, actor=owner.user, text="ab" * 32 + ",80\n")
    _assert_plain_hashes_match(imported[0])

    fp1, fp2 = (fingerprint_reference(decode_media(p.read_bytes()).frames[0]) for p in photo_paths()[1:3])
    hash_only = Fingerprint(pdq=fp2.pdq, pdq_quality=fp2.pdq_quality)
    result = services.reference_fingerprints_import(
        case=case, actor=owner.user, document=_document(fp1, hash_only)
    )
    for ref in result.created:
        _assert_plain_hashes_match(ref)
    assert Fingerprint.from_bytes(bytes(result.created[1].pdq_hashes)).pdq_dihedral == []
    # Upgraded from hash-only to full: the plain hashes follow (now with rotations/flips).
    upgraded = services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(fp2))
    assert [r.pk for r in upgraded.upgraded] == [result.created[1].pk]
    _assert_plain_hashes_match(upgraded.upgraded[0])
    assert len(Fingerprint.from_bytes(bytes(upgraded.upgraded[0].pdq_hashes)).pdq_dihedral) == 7


def test_rebuild_reads_no_fingerprint(org: Organization, case: Case) -> None:
    refs = [
        services.reference_add_image(case=case, actor=None, data=photo_paths()[i].read_bytes())
        for i in (0, 1)
    ]
    with CaptureQueriesContext(connection) as ctx:
        state = pdq_index_refresh(organization_id=org.pk)
    assert state.file_refs_alive == 2
    assert not [q["sql"] for q in ctx.captured_queries if '"fingerprint"' in q["sql"]]
    # Found through a rotation/flip variant, read from the plain column.
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=_mirror_pdq(0))] == [refs[0].pk]

    # A row whose writer left the column empty (e.g. made by older code) is still indexed in
    # full, from its fingerprint: only that row's fingerprint is read.
    Reference.objects.filter(pk=refs[1].pk).update(pdq_hashes=None)
    pdq_indexes_clear()
    with CaptureQueriesContext(connection) as ctx:
        pdq_index_refresh(organization_id=org.pk)
    reads = [q["sql"] for q in ctx.captured_queries if '"fingerprint"' in q["sql"]]
    assert len(reads) == 1 and str(refs[1].pk) in reads[0] and str(refs[0].pk) not in reads[0].split("IN")[-1]
    assert [r for r, _, _ in references_near(organization_id=org.pk, pdq=_mirror_pdq(1))] == [refs[1].pk]


def test_migration_fills_existing_rows_from_their_fingerprints(case: Case) -> None:
    refs = [
        services.reference_add_image(case=case, actor=None, data=photo_paths()[i].read_bytes())
        for i in (0, 1)
    ]
    expected = {r.pk: bytes(r.pdq_hashes) for r in refs}
    empty = Reference.objects.create(case=case, pdq_hex="cd" * 32, pdq_quality=90, fingerprint=b"")
    Reference.objects.filter(case=case).update(pdq_hashes=None)  # as before the column existed

    fill_pdq_hashes(apps, connection.schema_editor())

    got = dict(Reference.objects.filter(case=case).values_list("id", "pdq_hashes"))
    assert {pk: bytes(v) for pk, v in got.items() if pk != empty.pk} == expected
    assert got[empty.pk] is None  # nothing readable to fill it from: the index uses pdq_hex
    assert reference_index_hashes(fingerprint=bytes(refs[0].fingerprint)) == expected[refs[0].pk]


def test_erasure_takes_the_plain_hashes_with_the_row(case: Case, owner) -> None:  # type: ignore[no-untyped-def]
    kept = services.reference_add_image(case=case, actor=owner.user, data=photo_paths()[0].read_bytes())
    gone = services.reference_add_image(case=case, actor=owner.user, data=photo_paths()[1].read_bytes())
    plain = bytes(gone.pdq_hashes)
    services.reference_delete(reference=gone, actor=owner.user)

    def stored() -> list[bytes]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pdq_hashes FROM cases_reference WHERE pdq_hashes IS NOT NULL")
            return [bytes(r[0]) for r in cursor.fetchall()]

    assert plain not in stored() and bytes(kept.pdq_hashes) in stored()
    services.case_erase(case=case, actor=owner.user)
    assert stored() == []
