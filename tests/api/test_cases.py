"""GET/POST /api/v1/cases/ and GET /api/v1/cases/<id>/."""

from __future__ import annotations

from app.accounts.models import AuditEvent
from app.api.http import MAX_BODY_BYTES
from app.cases.models import Case, UrlState
from app.cases.selectors import case_progress
from app.cases.services import reported_urls_add


def test_list_with_progress(api_for, case, teammate):
    reported_urls_add(
        case=case, actor=None, urls=["https://a.example/1", "https://a.example/2", "https://b.example/3"]
    )
    case.urls.filter(normalized_url="https://a.example/1").update(state=UrlState.MATCHED)
    case.urls.filter(normalized_url="https://a.example/2").update(state=UrlState.FAILED)
    api = api_for(teammate)
    body = api.get("/api/v1/cases/").json()
    assert body["count"] == 1 and body["page"] == 1 and body["pages"] == 1
    assert body["next"] is None and body["previous"] is None
    [item] = body["results"]
    assert item["id"] == case.pk
    assert item["alias"] == "Case Sunflower"
    assert (item["jurisdiction"], item["language"], item["status"]) == ("KR", "ko", "open")
    assert item["created_at"].endswith("Z")
    progress = case_progress(case=case)
    assert item["progress"] == {
        "total": 3,
        "done": 2,
        "pending": 1,
        "matched": 1,
        "no_match": 0,
        "failed": 1,
        "whitelisted": 0,
        "percent": progress.percent,
        "finished": False,
    }
    assert "real_name" not in item and "contact" not in item
    event = AuditEvent.objects.get(action="api.case.list")
    assert event.actor == teammate.user
    assert event.detail["case_ids"] == [case.pk]
    assert event.detail["token"] == teammate.user.api_tokens.get().pk


def test_list_pagination(api_for, org, owner):
    Case.objects.bulk_create(
        Case(organization=org, alias=f"Case {i:03d}", jurisdiction="KR") for i in range(205)
    )
    api = api_for(owner)
    first = api.get("/api/v1/cases/").json()
    assert (first["count"], first["pages"], first["per_page"], len(first["results"])) == (205, 3, 100, 100)
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/cases/?page=2"
    last = api.get("/api/v1/cases/", {"page": 3}).json()
    assert len(last["results"]) == 5
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/cases/?page=2"
    seen = [c["id"] for n in (1, 2, 3) for c in api.get("/api/v1/cases/", {"page": n}).json()["results"]]
    assert len(set(seen)) == 205  # every case once, newest first
    assert seen == sorted(seen, reverse=True)
    assert api.get("/api/v1/cases/", {"page": 4}).status_code == 404
    for bad in ["0", "-1", "abc", "1.5", "²", "9" * 50]:
        response = api.get("/api/v1/cases/", {"page": bad})
        assert response.status_code == 400, bad
        assert "page" in response.json()["error"]["fields"]


def test_empty_list_is_one_empty_page(api_for, owner):
    body = api_for(owner).get("/api/v1/cases/").json()
    assert (body["count"], body["pages"], body["results"]) == (0, 1, [])


def test_create(api_for, teammate):
    response = api_for(teammate).post(
        "/api/v1/cases/", {"alias": "  Case Iris ", "jurisdiction": "US", "language": "ko"}
    )
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert response["Location"] == f"http://testserver/api/v1/cases/{case.pk}/"
    assert (case.alias, case.jurisdiction, case.language, case.organization_id) == (
        "Case Iris",
        "US",
        "ko",
        teammate.organization_id,
    )
    assert list(case.assigned_to.all()) == [teammate.user]
    assert body["progress"]["total"] == 0
    actions = set(AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True))
    assert actions == {"case.create", "api.case.create"}


def test_create_language_defaults_to_english(api_for, owner):
    response = api_for(owner).post("/api/v1/cases/", {"alias": "Case Lily", "jurisdiction": "EU"})
    assert response.json()["language"] == "en"


def test_create_validation(api_for, owner):
    api = api_for(owner)
    response = api.post("/api/v1/cases/", {"alias": "   ", "jurisdiction": "XX", "language": "fr"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"alias", "jurisdiction", "language"}
    assert error["fields"]["alias"] == ["This field is required."]
    assert "XX" in error["fields"]["jurisdiction"][0]

    response = api.post("/api/v1/cases/", {"jurisdiction": "KR"})
    assert response.json()["error"]["fields"] == {"alias": ["This field is required."]}

    response = api.post("/api/v1/cases/", {"alias": 7, "jurisdiction": ["KR"]})
    assert response.json()["error"]["fields"] == {
        "alias": ["Must be text."],
        "jurisdiction": ["Must be text."],
    }

    response = api.post("/api/v1/cases/", {"alias": "x" * 101, "jurisdiction": "KR"})
    assert "alias" in response.json()["error"]["fields"]

    # Fields the API does not offer are refused, not silently dropped.
    response = api.post("/api/v1/cases/", {"alias": "Case", "jurisdiction": "KR", "real_name": "Kim"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"real_name": ["Unknown field."]}
    assert not Case.objects.exists()


def test_create_validation_in_korean(api_for, owner):
    api = api_for(owner)
    response = api.client.post(
        "/api/v1/cases/",
        "{}",
        content_type="application/json",
        headers={**api._headers(), "Accept-Language": "ko"},
    )
    assert response.status_code == 400
    assert response["Content-Language"] == "ko"
    assert response.json()["error"]["fields"]["alias"] != ["This field is required."]


def test_malformed_bodies(api_for, owner):
    api = api_for(owner)
    response = api.post("/api/v1/cases/", body='{"alias": "Case", ')
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert "line 1, column 19" in error["message"]
    for body in ['["alias"]', '"text"', "null", "1"]:
        response = api.post("/api/v1/cases/", body=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["message"] == "The request body must be a JSON object."
    response = api.post("/api/v1/cases/", body=b'{"alias": "\xff"}')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    response = api.post("/api/v1/cases/", body="[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    response = api.post(
        "/api/v1/cases/", body="alias=Case&jurisdiction=KR", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert not Case.objects.exists()


def test_body_size_limit(api_for, owner):
    response = api_for(owner).post("/api/v1/cases/", {"alias": "x" * MAX_BODY_BYTES, "jurisdiction": "KR"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert not Case.objects.exists()


def test_detail(api_for, case, owner):
    reported_urls_add(case=case, actor=None, urls=["https://a.example/1"])
    response = api_for(owner).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == case.pk and body["alias"] == "Case Sunflower"
    assert body["progress"]["total"] == 1 and body["progress"]["pending"] == 1
    event = AuditEvent.objects.get(action="api.case.view")
    assert (event.case_id, event.actor) == (case.pk, owner.user)


def test_nul_characters_are_refused_not_a_server_error(api_for, case, owner):
    """Found by the fuzzer: PostgreSQL text cannot hold NUL; the API says so instead of failing."""
    api = api_for(owner)
    response = api.call("put", f"/api/v1/cases/{case.pk}/whitelist/", {"values": ["a\u0000b"]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert api.post("/api/v1/cases/", {"alias": "x\u0000", "jurisdiction": "KR"}).status_code == 400
    assert not case.whitelist.exists()
