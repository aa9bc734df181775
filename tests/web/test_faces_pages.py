"""Face stage pages: consent form, photo intake, possible deepfakes; org isolation of face data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from app.faces.models import FaceConsent, FaceEmbedding, FaceMatch, FaceMatchState
from tests.faces.helpers import consent, face_photo
from tests.faces.test_pipeline import _face_only_url
from tests.web.helpers import assert_not_found_for_outsider, small_jpeg, status_for


@pytest.fixture
def face_match(case, owner):  # type: ignore[no-untyped-def]
    consent(case, owner.user)
    match = _face_only_url(case, "https://x.com/someone/status/1")
    match.face_crop = small_jpeg(0, 120)
    match.save()
    return match


def _urls(case, match):  # type: ignore[no-untyped-def]
    face = match.face
    return [
        ("get", reverse("faces_page", args=[case.pk]), None),
        (
            "post",
            reverse("faces_consent", args=[case.pk]),
            {"consenter": "person", "method": "form", "consented_on": "2026-12-01", "explained": "on"},
        ),
        ("get", reverse("faces_withdraw", args=[case.pk]), None),
        ("post", reverse("faces_photos_add", args=[case.pk]), None),
        ("post", reverse("faces_delete", args=[case.pk, face.pk]), None),
        ("get", reverse("face_match_image", args=[case.pk, match.pk]), None),
        ("get", reverse("face_match_reveal", args=[case.pk, match.pk]), None),
        ("post", reverse("face_match_decide", args=[case.pk, match.pk]), {"decision": "confirm"}),
    ]


def test_outsider_and_victim_account_see_no_face_data(
    client, case, owner, outsider, victim, face_match
) -> None:  # type: ignore[no-untyped-def]
    for method, url, data in _urls(case, face_match):
        assert_not_found_for_outsider(client, outsider, url, method, data)
        assert status_for(client, victim, url, method, data) == 404, url
    face_match.refresh_from_db()
    assert face_match.state == FaceMatchState.PENDING and FaceEmbedding.objects.count() == 1
    # The case page shows the face card to staff only.
    client.force_login(victim.user)
    assert b'id="faces"' not in client.get(reverse("case_detail", args=[case.pk])).content


def test_teammate_checks_a_possible_deepfake_blurred_first(client, case, teammate, face_match) -> None:  # type: ignore[no-untyped-def]
    client.force_login(teammate.user)
    page = client.get(reverse("faces_page", args=[case.pk])).content.decode()
    assert "Possible deepfake: same face, different picture" in page and 'id="face-match-' in page
    image_url = reverse("face_match_image", args=[case.pk, face_match.pk])
    blurred = client.get(image_url).content
    assert blurred != bytes(face_match.face_crop)
    assert client.post(reverse("face_match_reveal", args=[case.pk, face_match.pk])).status_code == 302
    assert client.get(image_url).content == bytes(face_match.face_crop)
    assert case.organization.audit_events.filter(action="faces.reveal", object_id=face_match.pk).exists()
    client.post(reverse("face_match_decide", args=[case.pk, face_match.pk]), {"decision": "confirm"})
    face_match.refresh_from_db()
    assert face_match.state == FaceMatchState.CONFIRMED and face_match.decided_by == teammate.user
    # Confirmed, the address is among the case's matches, ready for a notice.
    results = client.get(reverse("case_results", args=[case.pk]))
    assert results.status_code == 200 and "x.com" in results.content.decode()


def test_consent_form_then_photos_then_withdraw(client, case, owner) -> None:  # type: ignore[no-untyped-def]
    client.force_login(owner.user)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("faces_page", args=[case.pk]) in page
    url = reverse("faces_consent", args=[case.pk])
    # Not explained -> nothing recorded, the form says why.
    response = client.post(
        url, {"consenter": "person", "method": "signed form", "consented_on": "2026-12-01"}
    )
    assert response.status_code == 200 and not FaceConsent.objects.exists()
    response = client.post(
        url, {"consenter": "guardian", "method": "form", "consented_on": "2026-12-01", "explained": "on"}
    )
    assert response.status_code == 200 and not FaceConsent.objects.exists()
    client.post(
        url, {"consenter": "person", "method": "signed form", "consented_on": "2026-12-01", "explained": "on"}
    )
    assert FaceConsent.objects.get(case=case).enabled

    response = client.post(
        reverse("faces_photos_add", args=[case.pk]),
        {"photos": [_upload("me.jpg", face_photo())]},
        follow=True,
    )
    text = response.content.decode()
    assert FaceEmbedding.objects.filter(case=case).count() == 1
    assert 'id="face-count"' in text and "different angles" in text  # few faces: ask for more

    response = client.post(reverse("faces_withdraw", args=[case.pk]), follow=True)
    assert not FaceEmbedding.objects.exists() and not FaceConsent.objects.get(case=case).enabled
    assert not FaceMatch.objects.exists()


def test_posts_need_csrf(case, owner, face_match) -> None:  # type: ignore[no-untyped-def]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert (
        strict.post(
            reverse("face_match_decide", args=[case.pk, face_match.pk]), {"decision": "confirm"}
        ).status_code
        == 403
    )


def _upload(name: str, data: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")
