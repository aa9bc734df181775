"""The whole run, driven only through the API, with a real Celery worker on Redis and PostgreSQL:
case -> hashes -> URLs -> poll -> notices -> signed -> submitted by hand -> removed.

The internet is a local site on 127.0.0.1 serving real photos and a local RDAP service; the worker
fetches, matches, drafts and re-checks exactly as in production.
"""

from __future__ import annotations

import pytest

from app.api.services import api_token_create
from app.matching.decode import decode_media
from app.matching.fingerprint import fingerprint_reference
from tests.api.conftest import Api
from tests.conftest import photo_paths, wait_until
from tests.servers import page_with_images, serve
from tests.tracking.conftest import ABUSE_EMAIL, jpeg, rdap_answer


def _pdq(data: bytes) -> str:
    """The PDQ hash the person's own device would send (computed here, the image never uploaded)."""
    return fingerprint_reference(decode_media(data, max_pixels=40_000_000, max_frames=1).frames[0]).pdq.hex()


@pytest.mark.slow
def test_whole_run_through_the_api(workers, client, org, owner, directory):
    # The organisation's own settings (made once in the web): where platforms write back.
    org.notice_sender_email = "help@ngo.example"
    org.save()
    api = Api(client, api_token_create(user=owner.user, name="ngo system")[1])
    photos = photo_paths()[:3]
    files = {}
    for i, photo in enumerate(photos):
        files[f"/img/{i}.jpg"] = (jpeg(photo), "image/jpeg")
        files[f"/post/{i}"] = (page_with_images(f"/img/{i}.jpg"), "text/html; charset=utf-8")
    files["/post/3"] = (page_with_images("/img/3.jpg"), "text/html; charset=utf-8")
    files["/img/3.jpg"] = (jpeg(photo_paths()[12]), "image/jpeg")  # someone else's photo

    with serve(files) as site, serve({"/ip/127.0.0.1": (rdap_answer(), "application/rdap+json")}) as rdap:
        workers.start(concurrency=2, env={"RDAP_BASE_URL": rdap.base, "FETCH_RETRIES": "0"})

        # 1. The case, with the person's authorisation on record so staff may sign for them.
        created = api.post(
            "/api/v1/cases/", {"alias": "Case Magnolia", "jurisdiction": "US", "language": "en"}
        )
        assert created.status_code == 201, created.content
        case = f"/api/v1/cases/{created.json()['id']}"
        patched = api.call(
            "patch", f"{case}/", {"authorised_on": "2026-11-20", "authorisation_method": "signed letter"}
        )
        assert patched.status_code == 200, patched.content

        # 2. Hashes made on the person's device: no image reaches the server.
        hashes = [_pdq(p.read_bytes()) for p in photos]
        imported = api.post(f"{case}/references/hashes/", {"hashes": hashes})
        assert len(imported.json()["created"]) == 3

        # 3. The reported links; the worker scans them.
        added = api.post(f"{case}/urls/", {"urls": [f"{site.base}/post/{i}" for i in range(4)]})
        assert len(added.json()["added"]) == 4

        # 4. Poll until every link has a final state.
        def scanned() -> bool:
            body = api.get(f"{case}/").json()
            return bool(body["progress"]["finished"])

        wait_until(scanned, timeout=120, message=workers.output)
        matched = api.get(f"{case}/urls/", {"filter": "matched"}).json()
        assert sorted(u["url"].rsplit("/", 1)[-1] for u in matched["results"]) == ["0", "1", "2"]
        assert all(u["matches"] for u in matched["results"])

        # 5. Notices: drafted by the worker (contact lookup over RDAP), polled as a job.
        job = api.post(f"{case}/notices/draft/", {"regime": "take-it-down"})
        assert job.status_code == 202
        poll = job.json()["poll"]
        wait_until(
            lambda: api.get(poll).json()["state"] in ("done", "failed"), timeout=120, message=workers.output
        )
        result = api.get(poll).json()
        assert result["state"] == "done", result
        notices = api.get(f"{case}/notices/").json()
        [notice] = [n for n in notices if n["channel_address"] == ABUSE_EMAIL]
        assert len(notice["url_ids"]) == 3
        base = f"{case}/notices/{notice['id']}"
        assert "TAKE IT DOWN" in api.get(f"{base}/text/").json()["subject"]

        # 6. A person reviews and signs; then records that it went in through the host's web form.
        signed = api.post(f"{base}/sign/", {"signer_name": "Alice Caseworker", "confirm": True})
        assert signed.status_code == 200, signed.content
        submitted = api.post(f"{base}/submitted/", {"channel": "web_form", "reference": "CASE-2041"})
        assert submitted.status_code == 200, submitted.content
        assert submitted.json()["state"] == "submitted" and submitted.json()["deadline_at"]

        # 7. The host takes the pages down; "re-check now" has the worker look again.
        for i in range(3):
            del site.files[f"/post/{i}"]
        recheck = api.post(f"{case}/tracking/recheck/")
        assert recheck.status_code == 202 and recheck.json()["queued"] == 3

        def removed() -> bool:
            return api.get(recheck.json()["poll"]).json()["removed"] == 3

        wait_until(removed, timeout=120, message=workers.output)

    tracking = api.get(f"{case}/tracking/").json()
    [tn] = tracking["notices"]
    assert tn["status"] == "removed" and tn["removed_at"]
    assert api.get(f"{case}/urls/", {"filter": "removed"}).json()["count"] == 3
    stats = api.get("/api/v1/statistics/").json()
    assert (stats["total"]["sent"], stats["total"]["removed"]) == (1, 1)
