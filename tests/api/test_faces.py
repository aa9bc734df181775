"""Face stage through the API: consent (guardian under 14), photo intake, faces, possible deepfakes.

Owner, teammate, outsider and victim on every operation; no answer ever holds an embedding or an image.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from app.accounts.models import AuditEvent
from app.cases.models import UrlState
from app.faces.models import FaceConsent, FaceEmbedding, FaceMatch, FaceMatchState, PendingFaces
from tests.faces.helpers import consent, face_photo, two_faces
from tests.faces.test_pipeline import _face_only_url
from tests.web.helpers import small_jpeg

CONSENT = {"consenter": "person", "method": "signed form", "consented_on": "2026-12-01", "explained": True}


@pytest.fixture
def face_match(case, owner):  # type: ignore[no-untyped-def]
    consent(case, owner.user)
    return _face_only_url(case, "https://x.com/someone/status/1")


def _endpoints(case, match) -> list[tuple[str, str, object, int]]:  # type: ignore[no-untyped-def]
    """(method, path, JSON body, status for staff), reads first; withdrawal (which erases) last."""
    base = f"/api/v1/cases/{case.pk}"
    return [
        ("get", f"{base}/faces/consent/", None, 200),
        ("get", f"{base}/faces/", None, 200),
        ("get", f"{base}/faces/matches/", None, 200),
        ("get", f"{base}/faces/matches/?state=pending", None, 200),
        ("get", f"{base}/urls/{match.reported_url_id}/faces/", None, 200),
        ("post", f"{base}/faces/matches/{match.pk}/decision/", {"decision": "confirm"}, 200),
        ("post", f"{base}/faces/consent/", CONSENT, 200),
        ("delete", f"{base}/faces/{match.face_id}/", None, 204),
        ("delete", f"{base}/faces/consent/", None, 200),
    ]


def _no_biometrics(response) -> None:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    assert "embedding" not in text.replace("embeddings", "") and "face_crop" not in text
    assert 'guardian_name"' not in text


@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_staff_use_every_face_operation(request, api_for, case, face_match, who) -> None:  # type: ignore[no-untyped-def]
    api = api_for(request.getfixturevalue(who))
    for method, path, body, status in _endpoints(case, face_match):
        response = api.call(method, path, body)
        assert response.status_code == status, (path, response.content)
        assert response["Cache-Control"] == "no-store, private"
        if status != 204:
            _no_biometrics(response)
    # Withdrawal erased every face and everything found through them; the record stays, withdrawn.
    assert not FaceEmbedding.objects.exists() and not FaceMatch.objects.exists()
    record = FaceConsent.objects.get(case=case)
    assert not record.enabled and record.withdrawn_at is not None
    actions = set(AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True))
    assert {"api.case.faces_consent", "api.case.face_matches", "api.case.face_decision"} <= actions
    assert {"faces.confirm", "faces.withdraw"} <= actions  # the services' own events, as from the web


def test_outsider_gets_404_and_changes_nothing(api_for, case, outsider, face_match) -> None:  # type: ignore[no-untyped-def]
    api = api_for(outsider)
    for method, path, body, _status in _endpoints(case, face_match):
        response = api.call(method, path, body)
        assert response.status_code == 404, path
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    upload = api.client.post(
        f"/api/v1/cases/{case.pk}/faces/photos/",
        {"photos": [SimpleUploadedFile("me.jpg", face_photo(), "image/jpeg")]},
        headers=api._headers(),
    )
    assert upload.status_code == 404
    face_match.refresh_from_db()
    assert face_match.state == FaceMatchState.PENDING and FaceEmbedding.objects.count() == 1
    assert FaceConsent.objects.get(case=case).enabled
    assert not AuditEvent.objects.filter(action__startswith="api.", case_id=case.pk).exists()


def test_victim_account_gets_403(api_for, case, victim, face_match) -> None:  # type: ignore[no-untyped-def]
    api = api_for(victim)
    for method, path, body, _status in _endpoints(case, face_match):
        response = api.call(method, path, body)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    face_match.refresh_from_db()
    assert face_match.state == FaceMatchState.PENDING and FaceEmbedding.objects.count() == 1


def test_other_organisations_match_and_face_ids_are_404(api_for, case, owner, outsider) -> None:  # type: ignore[no-untyped-def]
    from app.cases.services import case_create

    theirs = case_create(
        organization=outsider.organization, actor=outsider.user, alias="T", jurisdiction="UK"
    )
    consent(theirs, outsider.user)
    their_match = _face_only_url(theirs, "https://x.com/other/status/9")
    api = api_for(owner)
    base = f"/api/v1/cases/{case.pk}"
    assert (
        api.post(f"{base}/faces/matches/{their_match.pk}/decision/", {"decision": "reject"}).status_code
        == 404
    )
    assert api.call("delete", f"{base}/faces/{their_match.face_id}/").status_code == 404
    assert api.get(f"{base}/urls/{their_match.reported_url_id}/faces/").status_code == 404
    their_match.refresh_from_db()
    assert their_match.state == FaceMatchState.PENDING and FaceEmbedding.objects.filter(case=theirs).exists()


def _photos(api, case, files):  # type: ignore[no-untyped-def]
    return api.client.post(
        f"/api/v1/cases/{case.pk}/faces/photos/", {"photos": files}, headers=api._headers()
    )


def test_consent_rules_and_photo_intake(api_for, case, owner) -> None:  # type: ignore[no-untyped-def]
    api = api_for(owner)
    base = f"/api/v1/cases/{case.pk}/faces"
    state = api.get(f"{base}/consent/").json()
    assert state["enabled"] is False and state["recorded"] is False and state["guardian_required"] is False
    # No photos before consent.
    refused = _photos(api, case, [SimpleUploadedFile("me.jpg", face_photo(), "image/jpeg")])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "face_stage_off"
    assert not FaceEmbedding.objects.exists()
    # Consent needs the explanation, a method, a date not in the future, a guardian's name for a guardian.
    not_explained = api.post(f"{base}/consent/", {**CONSENT, "explained": False})
    assert not_explained.status_code == 400 and "explained" in not_explained.json()["error"]["fields"]
    assert api.post(f"{base}/consent/", {**CONSENT, "method": ""}).status_code == 400
    assert api.post(f"{base}/consent/", {**CONSENT, "consented_on": "2999-01-01"}).status_code == 400
    no_name = api.post(f"{base}/consent/", {**CONSENT, "consenter": "guardian"})
    assert (
        no_name.status_code == 400 and no_name.json()["error"]["message"] == "Give the legal guardian's name."
    )
    assert api.post(f"{base}/consent/", {**CONSENT, "extra": 1}).status_code == 400
    assert not FaceConsent.objects.exists()
    recorded = api.post(f"{base}/consent/", {**CONSENT, "language": "ko"})
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["enabled"] is True and recorded.json()["explanation"] == "faces-v1-ko"

    response = _photos(
        api,
        case,
        [
            SimpleUploadedFile("me.jpg", face_photo(), "image/jpeg"),
            SimpleUploadedFile("group.jpg", two_faces(), "image/jpeg"),
            SimpleUploadedFile("landscape.jpg", small_jpeg(0), "image/jpeg"),
            SimpleUploadedFile("notes.txt", b"not an image", "text/plain"),
        ],
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["result"] for r in body["results"]] == ["added", "pick", "no_face", "error"]
    assert body["results"][1]["faces_found"] == 2 and body["results"][3]["error"]
    assert body["added"] == 1 and body["faces"]["count"] == 1 and body["faces"]["few_faces"] is True
    [pending] = body["faces"]["pending"]
    assert pending["faces"] == 2 and pending["pick_url"].endswith(f"/faces/#pick-{pending['id']}")
    _no_biometrics(response)
    # The photos themselves were not kept: only the embedding (and the group photo's small crops).
    face = FaceEmbedding.objects.get(case=case)
    assert len(bytes(face.embedding)) == 512 and face.label == "me.jpg"
    listed = api.get(f"{base}/").json()
    assert [f["label"] for f in listed["faces"]] == ["me.jpg"] and set(listed["faces"][0]) == {
        "id", "label", "face_px", "model_version", "created_at",
    }  # fmt: skip


def test_under_14_only_a_guardian_consents_and_no_group_photos(api_for, case, owner) -> None:  # type: ignore[no-untyped-def]
    case.age_group, case.under_14 = "minor", True
    case.save()
    api = api_for(owner)
    base = f"/api/v1/cases/{case.pk}/faces"
    assert api.get(f"{base}/consent/").json()["guardian_required"] is True
    person = api.post(f"{base}/consent/", CONSENT)
    assert person.status_code == 400
    assert (
        person.json()["error"]["message"]
        == "For a child under 14, the legal guardian must give this consent."
    )
    guardian = {
        **CONSENT,
        "consenter": "guardian",
        "guardian_name": "Park",
        "guardian_relationship": "mother",
    }
    recorded = api.post(f"{base}/consent/", guardian)
    assert recorded.status_code == 200 and recorded.json()["guardian_named"] is True
    assert "Park" not in recorded.content.decode()
    body = _photos(api, case, [SimpleUploadedFile("group.jpg", two_faces(), "image/jpeg")]).json()
    assert body["results"][0]["result"] == "error" and "alone" in body["results"][0]["error"]
    assert not PendingFaces.objects.exists()


def test_korean_error_messages(api_for, case, owner) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    api = api_for(owner)
    # The request leaves Korean active in this thread; give later tests back the language they had.
    with translation.override(translation.get_language()):
        response = api.client.post(
            f"/api/v1/cases/{case.pk}/faces/photos/",
            {"photos": [SimpleUploadedFile("me.jpg", face_photo(), "image/jpeg")]},
            headers={**api._headers(), "Accept-Language": "ko"},
        )
    assert response.status_code == 409
    assert (
        response.json()["error"]["message"] == "얼굴 사진을 올리기 전에 먼저 당사자의 동의를 기록해 주세요."
    )


def test_matches_per_case_and_url_then_decisions(api_for, case, owner, teammate, face_match) -> None:  # type: ignore[no-untyped-def]
    api = api_for(teammate)
    base = f"/api/v1/cases/{case.pk}"
    other = _face_only_url(case, "https://x.com/someone/status/2")
    listed = api.get(f"{base}/faces/matches/").json()
    assert listed["count"] == 2 and [m["state"] for m in listed["results"]] == ["pending", "pending"]
    one = listed["results"][0]
    assert set(one) >= {
        "id",
        "url_id",
        "page_url",
        "media_url",
        "state",
        "distance",
        "face_label",
        "review_url",
    }
    per_url = api.get(f"{base}/urls/{face_match.reported_url_id}/faces/").json()
    assert [m["id"] for m in per_url["results"]] == [face_match.pk]

    confirmed = api.post(f"{base}/faces/matches/{face_match.pk}/decision/", {"decision": "confirm"})
    assert confirmed.status_code == 200
    assert (
        confirmed.json()["state"] == "confirmed" and confirmed.json()["decided_by"] == teammate.user.username
    )
    face_match.reported_url.refresh_from_db()
    assert face_match.reported_url.state == UrlState.MATCHED  # can now go into a notice
    rejected = api.post(f"{base}/faces/matches/{other.pk}/decision/", {"decision": "reject"})
    assert rejected.json()["state"] == "rejected"
    assert [m["id"] for m in api.get(f"{base}/faces/matches/?state=pending").json()["results"]] == []
    assert [m["id"] for m in api.get(f"{base}/faces/matches/?state=confirmed").json()["results"]] == [
        face_match.pk
    ]
    bad = api.post(f"{base}/faces/matches/{other.pk}/decision/", {"decision": "maybe"})
    assert bad.status_code == 400 and "decision" in bad.json()["error"]["fields"]
    assert api.get(f"{base}/faces/matches/?state=maybe").status_code == 400
    # Rejecting the confirmed one again puts its link back to "no match".
    api.post(f"{base}/faces/matches/{face_match.pk}/decision/", {"decision": "reject"})
    face_match.reported_url.refresh_from_db()
    assert face_match.reported_url.state == UrlState.NO_MATCH
    assert "embedding" not in json.dumps(api.get(f"{base}/faces/matches/").json())


def test_schema_lists_the_face_operations(api_for, owner) -> None:  # type: ignore[no-untyped-def]
    schema = api_for(owner).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/cases/{case_id}/faces/consent/" in paths
    assert set(paths["/api/v1/cases/{case_id}/faces/consent/"]) == {"get", "post", "delete"}
    assert "/api/v1/cases/{case_id}/faces/matches/{match_id}/decision/" in paths
    for name, component in schema["components"]["schemas"].items():
        if name.startswith("Face"):
            assert not {"embedding", "embeddings", "face_crop", "image"} & set(
                component.get("properties", {})
            )
