"""Every endpoint with owner, teammate, outsider and victim: other organisations' ids are 404, victims 403."""

from __future__ import annotations

import pytest

from app.accounts.models import AuditEvent
from app.cases.models import Case, Reference, ReportedUrl
from app.matching.models import VideoHash

HASH = "0123456789abcdef" * 4
VPDQ = f'vpdq ["{HASH},100,0.000", "{HASH},100,1.000"]'  # a video hash list (vPDQ), te format

# (method, path under /api/v1/ with {case} for our case's id, body for POSTs, status for a staff member)
CASE_ENDPOINTS = [
    ("get", "cases/{case}/", None, 200),
    ("patch", "cases/{case}/", {"authorisation_method": "signed form"}, 200),
    ("post", "cases/{case}/status/", {"status": "closed"}, 200),
    ("post", "cases/{case}/erase/", {"confirm": "Case Sunflower"}, 204),
    ("get", "cases/{case}/whitelist/", None, 200),
    ("put", "cases/{case}/whitelist/", {"values": ["me.example"]}, 200),
    ("get", "cases/{case}/urls/", None, 200),
    ("get", "cases/{case}/urls/?filter=overdue", None, 200),
    ("post", "cases/{case}/urls/", {"urls": ["https://pics.example/a"]}, 200),
    ("post", "cases/{case}/urls/retry/", None, 202),
    ("get", "cases/{case}/references/", None, 200),
    ("post", "cases/{case}/references/hashes/", {"hashes": [HASH]}, 200),
    ("get", "cases/{case}/references/hashes/?format=csv", None, 200),
    ("get", "cases/{case}/references/hashes/?format=hma", None, 200),
    ("get", "cases/{case}/references/hashes/?format=te", None, 200),
    ("post", "cases/{case}/references/hashlist/", {"format": "te", "content": VPDQ}, 200),
    (
        "post",
        "cases/{case}/references/hashlist/",
        {"format": "hma", "content": f'[{{"pdq": "{HASH}"}}]'},
        200,
    ),
]
ALL_ENDPOINTS = [
    ("get", "cases/", None, 200),
    ("post", "cases/", {"alias": "Case Iris", "jurisdiction": "US"}, 201),
    ("post", "hashes/", {"format": "te", "content": f"pdq {HASH}", "name": "Partner list"}, 201),
    *CASE_ENDPOINTS,
]


def _path(template: str, case: Case) -> str:
    return "/api/v1/" + template.format(case=case.pk)


@pytest.mark.parametrize(("method", "template", "body", "staff_status"), ALL_ENDPOINTS)
@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_staff_of_the_organisation(request, api_for, case, method, template, body, staff_status, who):
    response = api_for(request.getfixturevalue(who)).call(method, _path(template, case), body)
    if who == "teammate" and template.endswith("/erase/"):
        staff_status = 403  # by default only admins erase (Organization.caseworkers_may_erase)
    assert response.status_code == staff_status, response.content
    if response.status_code != 204 and "format=" not in template:
        assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store, private"


@pytest.mark.parametrize(("method", "template", "body", "staff_status"), CASE_ENDPOINTS)
def test_outsider_gets_404_for_our_case(api_for, case, outsider, method, template, body, staff_status):
    response = api_for(outsider).call(method, _path(template, case), body)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert not ReportedUrl.objects.exists()
    assert not Reference.objects.exists()
    assert not VideoHash.objects.exists()
    # Nothing about our case is written to anyone's log.
    assert not AuditEvent.objects.filter(action__startswith="api.", case_id=case.pk).exists()


@pytest.mark.parametrize(("method", "template", "body", "staff_status"), CASE_ENDPOINTS)
def test_missing_case_is_404_like_another_organisations(
    api_for, case, owner, method, template, body, staff_status
):
    response = api_for(owner).call(method, "/api/v1/" + template.format(case=case.pk + 1000), body)
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "template", "body", "staff_status"), ALL_ENDPOINTS)
def test_victim_gets_403_everywhere(api_for, case, victim, method, template, body, staff_status):
    response = api_for(victim).call(method, _path(template, case), body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Case.objects.count() == 1
    assert Case.objects.get().status == "open"
    assert not ReportedUrl.objects.exists()


def test_outsider_lists_only_their_own_cases(api_for, case, outsider):
    from app.cases.services import case_create

    theirs = case_create(
        organization=outsider.organization, actor=outsider.user, alias="Theirs", jurisdiction="UK"
    )
    results = api_for(outsider).get("/api/v1/cases/").json()["results"]
    assert [c["id"] for c in results] == [theirs.pk]


def test_outsider_creates_cases_in_their_own_organisation(api_for, case, outsider):
    response = api_for(outsider).post("/api/v1/cases/", {"alias": "Theirs", "jurisdiction": "UK"})
    assert response.status_code == 201
    assert Case.objects.get(pk=response.json()["id"]).organization_id == outsider.organization_id


def test_caseworker_limited_to_assigned_cases(api_for, case, teammate, org):
    """The organisation's 'assigned cases only' policy holds in the API as in the web."""
    org.caseworkers_see_assigned_only = True
    org.save()
    api = api_for(teammate)
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api.get("/api/v1/cases/").json()["results"] == []
    case.assigned_to.add(teammate.user)
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 200


# Notices, tracking, jobs and evidence: every endpoint with a real notice of our case.
NOTICE_ENDPOINTS = [
    ("get", "cases/{case}/notices/", None),
    ("post", "cases/{case}/notices/draft/", {}),
    ("get", "cases/{case}/notices/{notice}/", None),
    ("patch", "cases/{case}/notices/{notice}/", {"statement": "x"}),
    ("get", "cases/{case}/notices/{notice}/text/", None),
    ("get", "cases/{case}/notices/{notice}/pdf/", None),
    ("post", "cases/{case}/notices/{notice}/sign/", {"signer_name": "M", "confirm": True}),
    ("post", "cases/{case}/notices/{notice}/send/", None),
    ("post", "cases/{case}/notices/{notice}/submitted/", {}),
    ("get", "cases/{case}/tracking/", None),
    ("post", "cases/{case}/tracking/recheck/", None),
    ("post", "cases/{case}/tracking/urls/{url_tracking}/removed/", None),
    ("post", "cases/{case}/tracking/notices/{tracking}/escalate/", None),
    ("get", "cases/{case}/evidence/", None),
    ("get", "cases/{case}/evidence/pdf/", None),
    ("get", "cases/{case}/urls/{url}/", None),
    ("delete", "cases/{case}/references/{reference}/", None),
    ("get", "jobs/{job}/", None),
]


@pytest.fixture
def seeded(case, owner):
    from app.api.models import ApiJob
    from app.tracking.models import NoticeStatus
    from tests.tracking.helpers import seed_notice

    tracking = seed_notice(case, platform="Imgur", regime="take-it-down", status=NoticeStatus.SENT)
    reference = Reference.objects.create(case=case, label="r", pdq_hex="f" * 64, fingerprint=b"")
    job = ApiJob.objects.create(organization=case.organization, case=case, kind="notices.draft")
    url_tracking = tracking.notice.items.get().reported_url.tracking
    return {
        "case": case.pk,
        "notice": tracking.notice_id,
        "tracking": tracking.pk,
        "url_tracking": url_tracking.pk,
        "url": url_tracking.reported_url_id,
        "reference": reference.pk,
        "job": job.pk,
    }


def _counts():
    from app.notices.models import Notice
    from app.tracking.models import Escalation, UrlCheck

    return (
        Notice.objects.filter(state="sent").count(),
        Escalation.objects.count(),
        UrlCheck.objects.count(),
        Reference.objects.count(),
    )


@pytest.mark.parametrize(("method", "template", "body"), NOTICE_ENDPOINTS)
@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("victim", 403)])
def test_notice_endpoints_refuse_outsiders_and_victims(
    request, api_for, seeded, django_capture_on_commit_callbacks, method, template, body, who, status
):
    before = _counts()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_for(request.getfixturevalue(who)).call(
            method, "/api/v1/" + template.format(**seeded), body
        )
    assert response.status_code == status, response.content
    assert _counts() == before and callbacks == []
    assert not AuditEvent.objects.filter(action__startswith="api.", case_id=seeded["case"]).exists()


@pytest.mark.parametrize(("method", "template", "body"), NOTICE_ENDPOINTS)
def test_notice_endpoints_answer_a_teammate(
    api_for, seeded, teammate, django_capture_on_commit_callbacks, method, template, body
):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_for(teammate).call(method, "/api/v1/" + template.format(**seeded), body)
    # Each endpoint either does its work or says in the usual shape why it may not (e.g. a sent
    # notice cannot be signed again): never 404 or 403 for the case's own staff, never a 500.
    assert response.status_code in (200, 202, 204, 400, 409), response.content
    if response.status_code >= 400:
        assert response.json()["error"]["code"] in ("invalid", "conflict")


def test_caseworkers_erase_through_the_api_only_when_the_organisation_allows_it(api_for, case, teammate):
    path = _path("cases/{case}/erase/", case)
    assert api_for(teammate).call("post", path, {"confirm": "Case Sunflower"}).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()
    case.organization.caseworkers_may_erase = True
    case.organization.save()
    assert api_for(teammate).call("post", path, {"confirm": "Case Sunflower"}).status_code == 204
    assert not Case.objects.filter(pk=case.pk).exists()
