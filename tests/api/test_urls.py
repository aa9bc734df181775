"""GET/POST /api/v1/cases/<id>/urls/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.accounts.models import AuditEvent
from app.api.routes.urls import MAX_URLS
from app.cases.models import ReportedUrl, UrlState
from app.cases.services import reported_urls_add, whitelist_set
from app.fetching.models import FetchRecord, FetchStatus
from tests.web.helpers import make_evidence


def test_list_with_matches_and_evidence(api_for, case, teammate):
    reported, _media, match = make_evidence(case, url="https://pics.example/p/1")
    reported_urls_add(case=case, actor=None, urls=["https://other.example/x"])
    body = api_for(teammate).get(f"/api/v1/cases/{case.pk}/urls/").json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first["id"] == reported.pk
    assert first["url"] == first["normalized_url"] == "https://pics.example/p/1"
    assert first["state"] == "matched"
    assert first["last_scanned_at"].endswith("Z")
    assert first["matches"] == [
        {"reference_id": match.reference_id, "method": "orb-homography", "distance": 31.5}
    ]
    fetch = first["last_fetch"]
    assert fetch["final_url"] == "https://pics.example/p/1"
    assert fetch["http_status"] == 200
    assert fetch["sha256"] == "ab" * 32
    assert fetch["purpose"] == "scan" and fetch["status"] == "ok"
    assert set(fetch) == {
        "purpose",
        "status",
        "error_code",
        "final_url",
        "http_status",
        "sha256",
        "fetched_at",
    }
    assert (second["state"], second["matches"], second["last_fetch"]) == ("queued", [], None)
    event = AuditEvent.objects.get(action="api.case.urls")
    assert (event.case_id, event.actor) == (case.pk, teammate.user)


def test_last_fetch_is_the_latest(api_for, case, owner):
    reported, _media, _match = make_evidence(case)
    FetchRecord.objects.create(
        reported_url=reported,
        requested_url=reported.url,
        final_url=reported.url,
        http_status=404,
        fetched_at=datetime.now(UTC) + timedelta(days=2),
        status=FetchStatus.OK,
        purpose="recheck",
    )
    [row] = api_for(owner).get(f"/api/v1/cases/{case.pk}/urls/").json()["results"]
    assert (row["last_fetch"]["purpose"], row["last_fetch"]["http_status"]) == ("recheck", 404)


def test_state_filter_and_pagination(api_for, case, owner):
    reported_urls_add(case=case, actor=None, urls=[f"https://many.example/{i}" for i in range(130)])
    ReportedUrl.objects.filter(case=case, normalized_url__endswith="/7").update(
        state=UrlState.FAILED, error="timed out"
    )
    api = api_for(owner)
    path = f"/api/v1/cases/{case.pk}/urls/"
    first = api.get(path).json()
    assert (first["count"], first["pages"], len(first["results"])) == (130, 2, 100)
    second = api.get(path, {"page": 2}).json()
    assert len(second["results"]) == 30
    assert [u["id"] for u in first["results"] + second["results"]] == sorted(
        ReportedUrl.objects.filter(case=case).values_list("id", flat=True)
    )
    failed = api.get(path, {"state": "failed"}).json()
    assert [(u["normalized_url"], u["error"]) for u in failed["results"]] == [
        ("https://many.example/7", "timed out")
    ]
    queued = api.get(path, {"state": "queued", "page": 1}).json()
    assert queued["count"] == 129
    assert queued["next"] == f"http://testserver{path}?state=queued&page=2"
    response = api.get(path, {"state": "nonsense"})
    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


def test_add(api_for, case, teammate, django_capture_on_commit_callbacks):
    whitelist_set(case=case, actor=None, values=["my.own.example"])
    api = api_for(teammate)
    urls = [
        "https://Pics.Example/a#frag",
        "pics.example/a",
        "https://pics.example/b",
        "https://my.own.example/me",
        "not a url",
        "ftp://files.example/x",
        "https://long.example/" + "x" * 4000,
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(f"/api/v1/cases/{case.pk}/urls/", {"urls": urls})
    assert response.status_code == 200
    body = response.json()
    assert [(u["normalized_url"], u["state"]) for u in body["added"]] == [
        ("https://pics.example/a", "queued"),
        ("https://pics.example/b", "queued"),
        ("https://my.own.example/me", "whitelisted"),
    ]
    assert body["duplicates"] == 1
    assert sorted(i["url"][:22] for i in body["invalid"]) == [
        "ftp://files.example/x",
        "https://long.example/x",
        "not a url",
    ]
    assert all(i["reason"] == "Not a web address we can check." for i in body["invalid"])
    assert len(callbacks) == 1  # scanning is queued once the rows are committed
    assert ReportedUrl.objects.filter(case=case).count() == 3
    again = api.post(f"/api/v1/cases/{case.pk}/urls/", {"urls": ["https://pics.example/b"]}).json()
    assert (again["added"], again["duplicates"]) == ([], 1)
    assert AuditEvent.objects.filter(action="api.case.urls_add", case_id=case.pk).count() == 2


def test_add_too_many(api_for, case, owner):
    urls = [f"https://many.example/{i}" for i in range(MAX_URLS + 1)]
    response = api_for(owner).post(f"/api/v1/cases/{case.pk}/urls/", {"urls": urls})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many"
    assert "5000" in error["message"]
    assert not ReportedUrl.objects.exists()


def test_add_bad_bodies(api_for, case, owner):
    api = api_for(owner)
    path = f"/api/v1/cases/{case.pk}/urls/"
    for payload in [
        {},
        {"urls": "https://a.example"},
        {"urls": []},
        {"urls": ["https://a.example", 5]},
        {"url": ["x"]},
    ]:
        response = api.post(path, payload)
        assert response.status_code == 400, payload
        assert response.json()["error"]["fields"], payload
    response = api.post(path, body='{"urls": ["https://a.example",]}')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert not ReportedUrl.objects.exists()


def test_filters_retry_and_evidence(api_for, case, owner):
    reported, media, match = make_evidence(case, url="https://pics.example/p/1")
    reported_urls_add(case=case, actor=None, urls=["https://other.example/x", "https://third.example/y"])
    ReportedUrl.objects.filter(normalized_url="https://other.example/x").update(state=UrlState.FAILED)
    api = api_for(owner)
    path = f"/api/v1/cases/{case.pk}/urls/"
    assert [u["id"] for u in api.get(path, {"filter": "matched"}).json()["results"]] == [reported.pk]
    assert [u["url"] for u in api.get(path, {"filter": "failed"}).json()["results"]] == [
        "https://other.example/x"
    ]
    for empty in ("overdue", "removed", "reappeared"):
        assert api.get(path, {"filter": empty}).json()["count"] == 0
    assert api.get(path, {"filter": "nonsense"}).status_code == 400

    retry = api.post(f"{path}retry/")
    assert retry.status_code == 202
    assert retry.json()["requeued"] == 1
    assert retry.json()["poll"].endswith(f"{path}?state=queued")
    assert ReportedUrl.objects.get(normalized_url="https://other.example/x").state == UrlState.QUEUED

    evidence = api.get(f"{path}{reported.pk}/")
    assert evidence.status_code == 200
    body = evidence.json()
    assert body["url"]["id"] == reported.pk
    assert body["fetches"][0]["sha256"] == "ab" * 32
    [found] = body["matches"]
    assert found["reference_id"] == match.reference_id
    assert found["media"]["sha256"] == media.sha256
    # Descriptions and hashes only: nothing in the answer carries image bytes.
    assert "content" not in found["media"] and "base64" not in evidence.content.decode()
    assert api.get(f"{path}{reported.pk + 1000}/").status_code == 404
    assert AuditEvent.objects.filter(action="api.url.evidence", case_id=case.pk).exists()
