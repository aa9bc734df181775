"""PATCH a case, close and reopen it, erase it, and its whitelist — through the web's services."""

from __future__ import annotations

from app.accounts.models import AuditEvent
from app.cases.models import Case, ReportedUrl


def test_update_only_what_is_sent(api_for, case, teammate):
    api = api_for(teammate)
    path = f"/api/v1/cases/{case.pk}/"
    response = api.call("patch", path, {"alias": " Case Rose ", "keep_evidence": True})
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.alias, case.keep_evidence, case.jurisdiction) == ("Case Rose", True, "KR")
    assert response.json()["alias"] == "Case Rose"
    event = AuditEvent.objects.get(action="case.update", case_id=case.pk)
    assert event.detail == {"fields": ["alias", "keep_evidence"]}  # names, never values
    assert AuditEvent.objects.filter(action="api.case.update", case_id=case.pk).exists()
    for bad, field in [
        ({"alias": ""}, "alias"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"keep_evidence": "yes"}, "keep_evidence"),
        ({"real_name": "Kim"}, "real_name"),  # edited in the web only
        ({"alias": None}, "alias"),
    ]:
        response = api.call("patch", path, bad)
        assert response.status_code == 400, bad
        assert field in response.json()["error"]["fields"], bad
    case.refresh_from_db()
    assert case.alias == "Case Rose"


def test_close_reopen_and_erase(api_for, case, owner):
    api = api_for(owner)
    assert api.post(f"/api/v1/cases/{case.pk}/status/", {"status": "closed"}).json()["status"] == "closed"
    assert api.post(f"/api/v1/cases/{case.pk}/status/", {"status": "open"}).json()["status"] == "open"
    assert api.post(f"/api/v1/cases/{case.pk}/status/", {"status": "gone"}).status_code == 400
    api.post(f"/api/v1/cases/{case.pk}/urls/", {"urls": ["https://pics.example/a"]})
    wrong = api.post(f"/api/v1/cases/{case.pk}/erase/", {"confirm": "Case Tulip"})
    assert wrong.status_code == 400 and "confirm" in wrong.json()["error"]["fields"]
    assert Case.objects.filter(pk=case.pk).exists()
    assert api.post(f"/api/v1/cases/{case.pk}/erase/", {"confirm": "Case Sunflower"}).status_code == 204
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not ReportedUrl.objects.exists()
    assert not AuditEvent.objects.filter(case_id=case.pk).exists()
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_whitelist(api_for, case, teammate):
    api = api_for(teammate)
    path = f"/api/v1/cases/{case.pk}/whitelist/"
    response = api.call("put", path, {"values": ["me.example", " https://blog.example/me ", ""]})
    assert response.json() == {"values": ["https://blog.example/me", "me.example"]}
    assert api.get(path).json()["values"] == ["https://blog.example/me", "me.example"]
    added = api.post(f"/api/v1/cases/{case.pk}/urls/", {"urls": ["https://sub.me.example/x"]}).json()
    assert added["added"][0]["state"] == "whitelisted"
    assert api.call("put", path, {"values": "me.example"}).status_code == 400


def test_age_group(api_for, case, owner, teammate):
    from tests.web.helpers import small_jpeg

    created = api_for(teammate).post(
        "/api/v1/cases/", {"alias": "Case Ivy", "jurisdiction": "KR", "age_group": "unsure"}
    )
    assert created.status_code == 201 and created.json()["age_group"] == "unsure"
    path = f"/api/v1/cases/{case.pk}/"
    assert api_for(owner).get(path).json()["age_group"] == "adult"
    api_for(owner).call("patch", path, {"keep_originals": True})
    from app.cases.services import reference_add_image

    reference_add_image(case=Case.objects.get(pk=case.pk), actor=None, data=small_jpeg(0))
    assert api_for(teammate).call("patch", path, {"age_group": "minor"}).status_code == 403
    response = api_for(owner).call("patch", path, {"age_group": "minor", "keep_originals": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["age_group"], body["keep_originals"]) == ("minor", False)
    from app.cases.models import Reference

    assert not Reference.objects.filter(case=case, original__isnull=False).exists()
