"""Notices and tracking over the API: draft (202 + job), read, edit, sign, send, submitted, tracking,
removal, escalation, evidence package and statistics — all through the web's services."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.models import AuditEvent
from app.api.models import ApiJob
from app.api.services import api_job_run
from app.platforms.models import Platform
from app.platforms.services import platform_channels_set
from tests.notices.conftest import matched_case  # noqa: F401 -- a fixture
from tests.notices.test_send import smtp  # noqa: F401 -- a fixture


def _draft(api, case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(f"/api/v1/cases/{case.pk}/notices/draft/", {"lang": "en"})
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["state"] == "queued" and job["poll"].endswith(f"/api/v1/jobs/{job['id']}/")
    assert len(callbacks) == 1  # the worker is asked once the job row is committed
    assert api.get(job["poll"]).json()["state"] == "queued"
    api_job_run(job_id=job["id"])  # what the worker's task does
    done = api.get(job["poll"]).json()
    assert done["state"] == "done", done
    return done["result"]["notice_ids"]


@pytest.fixture
def imgur_case(matched_case):
    return matched_case(
        "https://i.imgur.com/AbCdEf.jpg", authorised_on=date(2026, 11, 20), authorisation_method="form"
    )


def test_draft_sign_submit_track_remove(api_for, imgur_case, teammate, django_capture_on_commit_callbacks):
    case = imgur_case
    api = api_for(teammate)
    [notice_id] = _draft(api, case, django_capture_on_commit_callbacks)
    base = f"/api/v1/cases/{case.pk}/notices/{notice_id}/"
    [listed] = api.get(f"/api/v1/cases/{case.pk}/notices/").json()
    assert listed["id"] == notice_id and listed["state"] == "draft" and len(listed["url_ids"]) == 1
    text = api.get(f"{base}text/").json()
    assert "https://i.imgur.com/AbCdEf.jpg" in text["body"]
    pdf = api.get(f"{base}pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    edited = api.call("patch", base, {"statement": "Posted without consent."})
    assert edited.status_code == 200 and edited.json()["statement"] == "Posted without consent."
    assert api.call("patch", base, {"regime": "nonsense"}).status_code == 400

    # Nothing is signed without the reviewer's confirmation and typed name.
    assert api.post(f"{base}sign/", {"signer_name": "Bob", "confirm": False}).status_code == 400
    assert api.post(f"{base}sign/", {"confirm": True}).status_code == 400
    # Recording a submission before signing is refused with the service's own words.
    early = api.post(f"{base}submitted/", {"channel": "web_form"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"
    signed = api.post(f"{base}sign/", {"signer_name": "Bob Caseworker", "confirm": True})
    assert signed.status_code == 200, signed.content
    assert signed.json()["state"] == "signed" and signed.json()["signed_at"]
    assert api.post(f"{base}sign/", {"signer_name": "Bob", "confirm": True}).status_code == 409

    future = api.post(f"{base}submitted/", {"submitted_at": "2999-01-01T00:00:00Z"})
    assert future.status_code == 400 and "submitted_at" in future.json()["error"]["fields"]
    submitted = api.post(
        f"{base}submitted/",
        {"submitted_at": "2026-11-27T09:00:00+09:00", "channel": "web_form", "reference": "TICKET-7"},
    )
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["state"] == "submitted" and body["submitted_at"] == "2026-11-27T00:00:00Z"
    assert body["deadline_at"]
    assert (body["submitted_channel"], body["submitted_reference"]) == ("web_form", "TICKET-7")
    event = AuditEvent.objects.get(action="api.notice.submitted")
    assert event.detail["channel"] == "web_form"

    tracking = api.get(f"/api/v1/cases/{case.pk}/tracking/").json()
    [tn] = tracking["notices"]
    assert tn["notice_id"] == notice_id and tn["deadline_at"] == body["deadline_at"]
    assert tn["overdue"] is True and tn["seconds_left"] < 0  # its deadline passed long ago
    [tu] = tracking["urls"]
    assert tu["status"] == "open"
    urls = f"/api/v1/cases/{case.pk}/urls/"
    assert api.get(urls, {"filter": "overdue"}).json()["count"] == 1

    drafts = api.post(f"/api/v1/cases/{case.pk}/tracking/notices/{tn['id']}/escalate/")
    assert drafts.status_code == 200, drafts.content
    assert drafts.json() and all(e["state"] == "draft" for e in drafts.json())
    decided = api.post(
        f"/api/v1/cases/{case.pk}/escalations/{drafts.json()[0]['id']}/decision/", {"state": "dismissed"}
    )
    assert decided.json()["state"] == "dismissed"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        recheck = api.post(f"/api/v1/cases/{case.pk}/tracking/recheck/")
    assert recheck.status_code == 202 and recheck.json()["queued"] == 1 and len(callbacks) == 1

    removed = api.post(f"/api/v1/cases/{case.pk}/tracking/urls/{tu['id']}/removed/")
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert api.get(urls, {"filter": "removed"}).json()["count"] == 1
    assert api.get(urls, {"filter": "overdue"}).json()["count"] == 0

    evidence = api.get(f"/api/v1/cases/{case.pk}/evidence/").json()
    assert evidence["urls"][0]["url"] == "https://i.imgur.com/AbCdEf.jpg"
    assert evidence["urls"][0]["matches"][0]["media_sha256"]
    assert "김지은" not in str(evidence)  # nothing that names the person
    assert api.get(f"/api/v1/cases/{case.pk}/evidence/pdf/").content.startswith(b"%PDF")

    stats = api.get("/api/v1/statistics/").json()
    assert stats["total"]["sent"] == 1 and stats["total"]["removed"] == 1
    csv = api.get("/api/v1/statistics/", {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[0].startswith("platform,regime,sent")


def test_send_by_email(api_for, matched_case, owner, smtp, django_capture_on_commit_callbacks):
    imgur = Platform.objects.get(slug="imgur")
    platform_channels_set(
        platform=imgur,
        actor=None,
        channels=[{"kind": "email", "address": "abuse@imgur.example", "confirmed": True}],
    )
    case = matched_case("https://i.imgur.com/AbCdEf.jpg", authorisation_method="form", language="en")
    api = api_for(owner)
    [notice_id] = _draft(api, case, django_capture_on_commit_callbacks)
    base = f"/api/v1/cases/{case.pk}/notices/{notice_id}/"
    unsigned = api.post(f"{base}send/")
    assert unsigned.status_code == 409 and smtp.messages == []
    api.post(f"{base}sign/", {"signer_name": "Alice Admin", "confirm": True})
    sent = api.post(f"{base}send/")
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "sent" and sent.json()["deadline_at"]
    [(_from, rcpts, _raw)] = smtp.messages
    assert rcpts == ["abuse@imgur.example"]


def test_jobs_are_the_organisations_own(
    api_for, imgur_case, owner, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = api_for(owner).post(f"/api/v1/cases/{imgur_case.pk}/notices/draft/", {}).json()
    assert api_for(outsider).get(f"/api/v1/jobs/{job['id']}/").status_code == 404
    assert ApiJob.objects.get().state == "queued"
