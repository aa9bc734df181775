"""Face stage services: consent first, intake, erasure (real database, real face model)."""

from __future__ import annotations

import pytest
from django.db import connection

from app.cases.services import case_erase
from app.faces.models import FaceConsent, FaceEmbedding, FacePendingCrop, PendingFaces
from app.faces.selectors import face_matcher_for_case
from app.faces.services import (
    FaceInputError,
    face_consent_withdraw,
    face_pending_pick,
    face_photos_add,
)
from tests.conftest import photo_paths
from tests.faces.helpers import consent, face_photo, two_faces


def _raw(table: str, column: str, pk: int) -> bytes:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return bytes(cur.fetchone()[0])


def test_no_face_photo_before_consent(case, owner) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FaceInputError):
        face_photos_add(case=case, actor=owner.user, photos=[("a.jpg", face_photo())])
    assert not FaceEmbedding.objects.exists()
    assert face_matcher_for_case(case=case) is None


def test_consent_records_who_when_how_and_a_guardian_encrypted(case, owner) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FaceInputError):
        consent(case, owner.user, consenter="guardian")  # a guardian must be named
    with pytest.raises(FaceInputError):
        consent(case, owner.user, method="  ")
    record = consent(
        case, owner.user, consenter="guardian", guardian_name="박민준", guardian_relationship="father",
        method="signed form at the centre",
    )  # fmt: skip
    record = FaceConsent.objects.get(pk=record.pk)
    assert record.enabled and record.consenter == "guardian" and record.guardian_name == "박민준"
    assert record.recorded_by == owner.user and record.method == "signed form at the centre"
    assert record.consented_at.year == 2026 and record.explanation.startswith("faces-v1")
    assert "박민준".encode() not in _raw("faces_faceconsent", "guardian_name", record.pk)
    assert case.organization.audit_events.filter(action="faces.consent", case_id=case.pk).exists()


def test_intake_one_encrypted_embedding_per_face_photos_discarded(case, owner) -> None:  # type: ignore[no-untyped-def]
    consent(case, owner.user)
    landscape = photo_paths()[0].read_bytes()
    result = face_photos_add(
        case=case,
        actor=owner.user,
        photos=[
            ("me.jpg", face_photo()),
            ("view.jpg", landscape),
            ("bad.jpg", b"not an image"),
            ("two.jpg", two_faces()),
        ],
    )
    assert (
        result.added == 1 and result.no_face == ["view.jpg"] and [n for n, _ in result.errors] == ["bad.jpg"]
    )
    face = FaceEmbedding.objects.get()
    assert face.label == "me.jpg" and face.face_px > 50
    raw = _raw("faces_faceembedding", "embedding", face.pk)
    assert bytes(face.embedding) not in raw and len(bytes(face.embedding)) == 512
    # Several faces: nothing kept until a caseworker picks; then the crops and the rest go.
    pending = PendingFaces.objects.get()
    assert pending.crop_rows.count() == 2
    with pytest.raises(FaceInputError):
        face_pending_pick(pending=pending, actor=owner.user, indices=[7])
    # Left unpicked for a day, a group photo's faces expire (hourly beat task).
    from datetime import timedelta

    from django.utils import timezone

    from app.faces.services import face_pending_expire

    assert face_pending_expire() == 0
    PendingFaces.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert face_pending_expire() == 1 and not FacePendingCrop.objects.exists()
    face_photos_add(case=case, actor=owner.user, photos=[("two.jpg", two_faces())])
    pending = PendingFaces.objects.get()
    assert face_pending_pick(pending=pending, actor=owner.user, indices=[0]) == 1
    assert FaceEmbedding.objects.count() == 2
    assert not PendingFaces.objects.exists() and not FacePendingCrop.objects.exists()
    matcher = face_matcher_for_case(case=case)
    assert matcher is not None and len(matcher) == 2


def test_withdrawal_and_case_erasure_remove_every_embedding(case, owner) -> None:  # type: ignore[no-untyped-def]
    consent(case, owner.user)
    face_photos_add(case=case, actor=owner.user, photos=[("me.jpg", face_photo()), ("two.jpg", two_faces())])
    assert FaceEmbedding.objects.count() == 1 and PendingFaces.objects.count() == 1
    assert face_consent_withdraw(case=case, actor=owner.user) == 1
    assert not FaceEmbedding.objects.exists() and not PendingFaces.objects.exists()
    record = FaceConsent.objects.get(case=case)
    assert not record.enabled and record.withdrawn_at is not None
    assert face_matcher_for_case(case=case) is None
    with pytest.raises(FaceInputError):
        face_photos_add(case=case, actor=owner.user, photos=[("me.jpg", face_photo())])

    consent(case, owner.user)
    face_photos_add(case=case, actor=owner.user, photos=[("me.jpg", face_photo())])
    case_erase(case=case, actor=owner.user)
    assert not FaceEmbedding.objects.exists() and not FaceConsent.objects.exists()


def test_a_childs_case_needs_the_guardian_and_keeps_no_face_picture(org, owner) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from app.cases.services import case_create
    from app.faces.services import face_media_purge

    child = case_create(
        organization=org, actor=owner.user, alias="Daisy", jurisdiction="KR", age_group="minor", under_14=True,
        guardian_name="박민준", guardian_relation="father", guardian_consent_on=date(2026, 12, 1),
    )  # fmt: skip
    with pytest.raises(FaceInputError):
        consent(child, owner.user)  # the child alone cannot consent under 14
    consent(child, owner.user, consenter="guardian", guardian_name="박민준", guardian_relationship="father")
    result = face_photos_add(
        case=child, actor=owner.user, photos=[("alone.jpg", face_photo()), ("group.jpg", two_faces())]
    )
    # A group photo would need its crops kept until someone picks: refused for a child.
    assert result.added == 1 and [n for n, _ in result.errors] == ["group.jpg"]
    assert not PendingFaces.objects.exists() and not FacePendingCrop.objects.exists()
    assert face_media_purge(case=child) == 0
