from datetime import timedelta

import pytest
from django.utils import timezone

from app.cases.models import ReportedUrl, UrlState
from app.cases.services import (
    CaseInputError,
    reference_add_image,
    reference_import_hashes,
    reported_url_scan,
    reported_urls_add,
    reported_urls_recover_stuck,
)
from tests.conftest import photo_paths


def test_recover_requeues_only_lost_scans(case, owner, django_capture_on_commit_callbacks):
    added = reported_urls_add(
        case=case,
        actor=owner.user,
        urls=["https://a.example/1", "https://a.example/2", "https://a.example/3"],
    ).added
    old = timezone.now() - timedelta(hours=2)
    ReportedUrl.objects.filter(pk=added[0].pk).update(state=UrlState.FETCHING, updated_at=old)
    ReportedUrl.objects.filter(pk=added[1].pk).update(state=UrlState.NO_MATCH, updated_at=old)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reported_urls_recover_stuck() == 1
    assert len(callbacks) == 1


def test_scan_of_a_gone_url_returns_quietly(db):
    assert reported_url_scan(reported_url_id=123456) is None


def test_final_url_is_not_scanned_twice(case, owner):
    url = reported_urls_add(case=case, actor=owner.user, urls=["https://a.example/1"]).added[0]
    ReportedUrl.objects.filter(pk=url.pk).update(state=UrlState.NO_MATCH, last_scanned_at=timezone.now())
    again = reported_url_scan(reported_url_id=url.pk)
    assert again.state == UrlState.NO_MATCH and again.scan_attempts == 0


def test_reference_originals_are_discarded_by_default(case, owner):
    photo = photo_paths()[0]
    ref = reference_add_image(case=case, actor=owner.user, data=photo.read_bytes(), filename=photo.name)
    assert ref.original is None and len(ref.pdq_hex) == 64 and ref.fingerprint
    assert reference_add_image(case=case, actor=owner.user, data=photo.read_bytes()).pk == ref.pk


def test_reference_originals_kept_encrypted_on_request(case, owner):
    from django.db import connection

    case.keep_originals = True
    case.save()
    data = photo_paths()[1].read_bytes()
    ref = reference_add_image(case=case, actor=owner.user, data=data)
    ref.refresh_from_db()
    assert ref.original == data
    with connection.cursor() as cursor:
        cursor.execute("SELECT original FROM cases_reference WHERE id = %s", [ref.pk])
        assert bytes(cursor.fetchone()[0])[:64] != data[:64]


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 40])
def test_bad_reference_files_are_refused_clearly(case, owner, data):
    with pytest.raises(CaseInputError):
        reference_add_image(case=case, actor=owner.user, data=data)
    assert not case.references.exists()


def test_hash_import_csv_and_json(case, owner):
    good = "f" * 64
    created, errors = reference_import_hashes(
        case=case, actor=owner.user, text=f"pdq,quality\n{good},90\n1234\n"
    )
    assert [r.pdq_hex for r in created] == [good] and errors == ["1234"]
    created, _ = reference_import_hashes(case=case, actor=owner.user, text=f'["{"a" * 64}", "{good}"]')
    assert [r.pdq_hex for r in created] == ["a" * 64]
    with pytest.raises(CaseInputError):
        reference_import_hashes(case=case, actor=owner.user, text="{broken")


def test_a_portrait_reference_keeps_its_face_box_and_refuses_another_photo_of_the_face(case, owner):
    # Through the service and the database, as the pipeline sees it: the stored (encrypted)
    # fingerprint carries the face box, and the case's matcher refuses a different photo of the
    # same person that the feature rules used to take for a copy (app/matching/fitcheck.py).
    from app.matching.decode import decode_media
    from app.matching.fingerprint import Fingerprint, fingerprint_candidate
    from app.matching.selectors import case_matcher
    from tests.matching.test_fitcheck import FACES

    data = (FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    ref = reference_add_image(case=case, actor=owner.user, data=data, filename="portrait.jpg")
    ref.refresh_from_db()
    assert Fingerprint.from_bytes(bytes(ref.fingerprint)).face_boxes
    matcher = case_matcher(case=case)
    other = decode_media((FACES / "Kate_Winslet" / "4.jpg").read_bytes()).frames[0]
    assert matcher.match(fingerprint_candidate(other)) is None
    own = decode_media(data).frames[0]
    w, h = own.size
    crop = own.crop((w // 10, h // 10, w, h)).resize((w, h))
    assert matcher.match(fingerprint_candidate(crop)) is not None


def test_uploading_a_picture_again_brings_the_face_box_an_older_reference_lacks(case, owner):
    # A reference stored before face boxes existed (its fingerprint as the older code wrote it)
    # is matched as before; uploading the same picture again adds the box, and every worker's
    # cached matcher is rebuilt (the revision is in its key: the encrypted column's length need
    # not change for a few bytes more).
    from app.matching.decode import decode_media
    from app.matching.fingerprint import Fingerprint, fingerprint_candidate
    from app.matching.selectors import case_matcher
    from tests.matching.test_fitcheck import FACES

    data = (FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    ref = reference_add_image(case=case, actor=owner.user, data=data)
    older = Fingerprint.from_bytes(bytes(ref.fingerprint))
    older.face_boxes, older.faces_checked = [], False  # as stored before the boxes existed
    ref.fingerprint = older.to_bytes()
    ref.save(update_fields=["fingerprint"])
    other = fingerprint_candidate(decode_media((FACES / "Kate_Winslet" / "4.jpg").read_bytes()).frames[0])
    # On the older reference the fit cannot be decided without looking at the candidate's faces.
    pending = case_matcher(case=case).match(other)
    assert pending is not None and pending.details["faces_unchecked"]

    again = reference_add_image(case=case, actor=owner.user, data=data)
    assert again.pk == ref.pk
    ref.refresh_from_db()
    assert Fingerprint.from_bytes(bytes(ref.fingerprint)).face_boxes and ref.fingerprint_rev == 1
    assert case_matcher(case=case).match(other) is None
    # Nothing new the third time: nothing is rewritten.
    reference_add_image(case=case, actor=owner.user, data=data)
    ref.refresh_from_db()
    assert ref.fingerprint_rev == 1


def test_the_cached_matcher_follows_the_fingerprint_revision_not_only_its_length(case, owner):
    from app.matching.fingerprint import Fingerprint
    from app.matching.selectors import case_matcher
    from tests.matching.test_fitcheck import FACES

    ref = reference_add_image(
        case=case, actor=owner.user, data=(FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    )
    first = case_matcher(case=case)
    fp = Fingerprint.from_bytes(bytes(ref.fingerprint))
    fp.face_boxes = [(0, 0, 1, 1)] * len(fp.face_boxes)  # other content, the very same length
    ref.fingerprint = fp.to_bytes()
    ref.save(update_fields=["fingerprint"])
    # The hazard: a change that keeps the length is invisible to a length-only key.
    assert case_matcher(case=case) is first
    ref.fingerprint_rev += 1
    ref.save(update_fields=["fingerprint_rev"])
    assert case_matcher(case=case) is not first
