"""Hash lists in the formats of Meta's ThreatExchange tools and Hasher-Matcher-Actioner, and the
organisation-wide import (POST /api/v1/hashes/)."""

from __future__ import annotations

import json
import time

import pytest

from app.accounts.models import AuditEvent
from app.cases.models import AgeGroup, Case, Reference, ReportedUrl, UrlState
from app.cases.services import case_create, reported_url_scan, reported_urls_add
from tests.fetching.servers import (
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
)

A, B, C = "a" * 64, "0123456789abcdef" * 4, "f" * 48 + "0" * 16
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _hashlist(api, case, fmt: str, content: str):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/cases/{case.pk}/references/hashlist/", {"format": fmt, "content": content})


def test_exports_in_threatexchange_and_hma_shapes(api_for, case, owner):
    api = api_for(owner)
    api.post(f"/api/v1/cases/{case.pk}/references/hashes/", {"hashes": [A, B]})
    path = f"/api/v1/cases/{case.pk}/references/hashes/"
    # `threatexchange hash` / `dataset -P -S`: "<signal type> <signal>" per line.
    te = api.get(path, {"format": "te"})
    assert te["Content-Type"].startswith("text/plain")
    assert te.content.decode() == f"pdq {A}\npdq {B}\n"
    # `threatexchange dataset -P --csv`.
    te_csv = api.get(path, {"format": "te_csv"})
    assert te_csv["Content-Type"].startswith("text/csv")
    assert te_csv.content.decode().splitlines() == [
        "signal_type,signal_str,collab,category,tags",
        f"pdq,{A},jium,POSITIVE_CLASS,",
        f"pdq,{B},jium,POSITIVE_CLASS,",
    ]
    # HMA: the bodies of POST /c/bank/<bank>/signal.
    hma = api.get(path, {"format": "hma"})
    assert hma.json() == [{"pdq": A}, {"pdq": B}]
    assert 'filename="case-' in hma["Content-Disposition"]
    # The organisation's list in the same shapes.
    assert api.get("/api/v1/hashes/", {"format": "te"}).content.decode() == f"pdq {B}\npdq {A}\n"
    assert api.get("/api/v1/hashes/", {"format": "hma"}).json() == [{"pdq": B}, {"pdq": A}]


@pytest.mark.parametrize("fmt", ["te", "te_csv", "hma"])
def test_every_export_reads_back_in(api_for, case, owner, fmt):
    api = api_for(owner)
    api.post(f"/api/v1/cases/{case.pk}/references/hashes/", {"hashes": [A, B, C]})
    exported = api.get(f"/api/v1/cases/{case.pk}/references/hashes/", {"format": fmt}).content.decode()
    other = case_create(organization=case.organization, actor=owner.user, alias="Other", jurisdiction="KR")
    body = _hashlist(api, other, fmt, exported).json()
    assert [h["pdq_hex"] for h in body["created"]] == [A, B, C]
    assert body["skipped"] == [] and body["already_present"] == 0
    again = _hashlist(api, other, fmt, exported).json()
    assert again["created"] == [] and again["already_present"] == 3


def test_threatexchange_text_keeps_pdq_and_says_what_it_skipped(api_for, case, owner):
    api = api_for(owner)
    content = "\n".join(
        [
            "# from threatexchange dataset -P",
            f"pdq {A} 'Sample Data' POSITIVE_CLASS",
            f"video_md5 {MD5}",
            B,  # a bare hash, as `match --hashes` reads
            "pdq 1234",
            "",
        ]
    )
    body = _hashlist(api, case, "te", content).json()
    assert [h["pdq_hex"] for h in body["created"]] == [A, B]
    assert body["skipped"] == [
        "line 3: video_md5 is not a signal type Jium matches",
        "line 5: not a PDQ hash (64 hexadecimal characters expected)",
    ]
    assert {r.source for r in Reference.objects.filter(case=case)} == {"hash_import"}


def test_threatexchange_csv_leaves_out_false_positives(api_for, case, owner):
    api = api_for(owner)
    content = (
        "signal_type,signal_str,collab,category,tags\n"
        f"pdq,{A},Sample Data,POSITIVE_CLASS,ncii\n"
        f"pdq,{B},Sample Data,NEGATIVE_CLASS,\n"
        f"video_md5,{MD5},Sample Data,INVESTIGATION_SEED,\n"
        f"pdq,{C},Sample Data,INVESTIGATION_SEED,\n"
    )
    body = _hashlist(api, case, "te_csv", content).json()
    assert [h["pdq_hex"] for h in body["created"]] == [A, C]
    assert body["skipped"] == [
        "line 3: marked as a false positive (NEGATIVE_CLASS) by the list's maker",
        "line 4: video_md5 is not a signal type Jium matches",
    ]
    refused = _hashlist(api, case, "te_csv", f"{A},100\n")
    assert refused.status_code == 400
    assert "signal_type" in refused.json()["error"]["message"]


def test_hma_bank_content_and_signal_bodies(api_for, case, owner):
    api = api_for(owner)
    future = int(time.time()) + 3600
    content = json.dumps(
        [
            {"pdq": A, "note": "Reported by user X"},  # POST /c/bank/<bank>/signal body
            {"id": 7, "disable_until_ts": 1, "signals": {"pdq": B, "video_md5": MD5}},  # bank content
            {"id": 8, "disable_until_ts": 0, "signals": {"pdq": C}},  # disabled in its bank
            {"id": 9, "disable_until_ts": future, "signals": {"pdq": C}},  # disabled for an hour
            "not an object",
        ]
    )
    body = _hashlist(api, case, "hma", content).json()
    assert [h["pdq_hex"] for h in body["created"]] == [A, B]
    assert body["skipped"] == [
        "item 1: video_md5 is not a signal type Jium matches",
        "item 2: disabled in its bank",
        "item 3: disabled in its bank",
        "item 4: not a bank content object",
    ]
    assert _hashlist(api, case, "hma", "{broken").status_code == 400
    assert _hashlist(api, case, "hma", json.dumps({"id": 1, "signals": {"pdq": B}})).status_code == 200


def test_messages_in_korean(api_for, case, owner):
    from django.utils import translation

    api = api_for(owner)
    # The request leaves Korean active in this thread; give later tests back the language they had.
    with translation.override(translation.get_language()):
        response = api.client.post(
            f"/api/v1/cases/{case.pk}/references/hashlist/",
            json.dumps({"format": "te", "content": f"video_md5 {MD5}\npdq {A}\n"}),
            content_type="application/json",
            headers={**api._headers(), "Accept-Language": "ko"},
        )
    skipped = response.json()["skipped"]
    assert len(skipped) == 1 and "video_md5" in skipped[0] and "line" not in skipped[0]


# ---- the organisation-wide import --------------------------------------------------------------


def _org_import(api, **body):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/hashes/", {"format": "hma", "content": json.dumps([{"pdq": A}, {"pdq": B}]), **body}
    )


@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_org_import_makes_a_list_case(request, api_for, case, who):
    member = request.getfixturevalue(who)
    api = api_for(member)
    response = _org_import(api, name="StopNCII partner list 2026-12")
    assert response.status_code == 201, response.content
    body = response.json()
    listed = Case.objects.get(pk=body["case_id"])
    assert listed.organization_id == case.organization_id and listed.alias == "StopNCII partner list 2026-12"
    assert listed.age_group == AgeGroup.ADULT and listed.real_name == ""
    assert (
        response["Location"].endswith(f"/api/v1/cases/{listed.pk}/")
        and body["case_url"] == response["Location"]
    )
    assert [h["pdq_hex"] for h in body["created"]] == [A, B]
    assert set(Reference.objects.filter(case=listed).values_list("pdq_hex", flat=True)) == {A, B}
    # It reads like any case, and later versions of the list go through the case's own import.
    assert api.get(f"/api/v1/cases/{listed.pk}/").status_code == 200
    again = _hashlist(api, listed, "te", f"pdq {A}\npdq {C}\n").json()
    assert [h["pdq_hex"] for h in again["created"]] == [C] and again["already_present"] == 1
    actions = set(AuditEvent.objects.filter(case_id=listed.pk).values_list("action", flat=True))
    assert {"case.create", "hashlist.import", "api.hashes.import"} <= actions


def test_org_import_of_a_young_peoples_list_stays_out_of_the_export(api_for, case, owner):
    api = api_for(owner)
    body = _org_import(api, name="Hotline list", age_group="minor").json()
    assert Case.objects.get(pk=body["case_id"]).age_group == AgeGroup.MINOR
    for fmt in ("pdq", "te", "te_csv", "hma", "stopncii"):
        exported = api.get("/api/v1/hashes/", {"format": fmt}).content.decode()
        assert A not in exported and B not in exported, fmt


def test_org_import_without_any_pdq_hash_creates_nothing(api_for, case, owner):
    api = api_for(owner)
    response = api.post(
        "/api/v1/hashes/", {"format": "te", "content": f"video_md5 {MD5}\n", "name": "Videos"}
    )
    assert response.status_code == 400
    assert "video_md5" in " ".join(response.json()["error"]["fields"]["content"])
    assert api.post("/api/v1/hashes/", {"format": "te", "content": "", "name": "Empty"}).status_code == 400
    assert _org_import(api, name="   ").status_code == 400
    assert _org_import(api).status_code == 400  # a name is required
    assert Case.objects.count() == 1 and not Reference.objects.exists()


def test_org_import_is_refused_to_victims(api_for, case, victim):
    response = _org_import(api_for(victim), name="Mine")
    assert response.status_code == 403
    assert Case.objects.count() == 1 and not Reference.objects.exists()


def test_outsiders_list_stays_in_their_organisation(api_for, case, owner, outsider):
    body = _org_import(api_for(outsider), name="Their list").json()
    theirs = Case.objects.get(pk=body["case_id"])
    assert theirs.organization_id == outsider.organization_id
    api = api_for(owner)
    assert api.get(f"/api/v1/cases/{theirs.pk}/").status_code == 404
    assert _hashlist(api, theirs, "te", f"pdq {C}\n").status_code == 404
    assert api.get("/api/v1/hashes/", {"format": "te"}).content.decode() == ""
    assert not Reference.objects.filter(case__organization=case.organization).exists()


# ---- imported hashes behave like Jium's --------------------------------------------------------


def test_an_imported_list_matches_and_is_erased_with_its_case(
    internet: Internet, api_for, case, owner, settings
):  # type: ignore[no-untyped-def]
    from app.matching.decode import decode_media
    from app.matching.fingerprint import fingerprint_reference
    from app.matching.selectors import references_near

    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 4.0
    settings.FETCH_RETRIES = 0
    name = photo_names()[0]
    pdq = fingerprint_reference(decode_media(photo_bytes(name), max_frames=1).frames[0]).pdq
    api = api_for(owner)
    content = json.dumps([{"id": 1, "disable_until_ts": 1, "signals": {"pdq": pdq.hex()}}])
    listed = Case.objects.get(
        pk=api.post("/api/v1/hashes/", {"format": "hma", "content": content, "name": "Bank"}).json()[
            "case_id"
        ]
    )
    # Found in the organisation-wide index, as other cases' evidence shows it.
    assert [
        case_id for _ref, case_id, _d in references_near(organization_id=listed.organization_id, pdq=pdq)
    ] == [listed.pk]
    # A URL reported to the list's case is matched against it.
    added = reported_urls_add(
        case=listed, actor=owner.user, urls=[internet.cdn.url("/photos/" + name)]
    ).added[0]
    assert reported_url_scan(reported_url_id=added.pk).state == UrlState.MATCHED
    # Erasing the case erases the list, the index entries with it.
    erased = api.post(f"/api/v1/cases/{listed.pk}/erase/", {"confirm": "Bank"})
    assert erased.status_code == 204, erased.content
    assert not Reference.objects.filter(case_id=listed.pk).exists()
    assert not ReportedUrl.objects.filter(case_id=listed.pk).exists()
    assert references_near(organization_id=listed.organization_id, pdq=pdq) == []


def test_the_api_tells_a_list_case_from_a_persons(api_for, case, owner):
    api = api_for(owner)
    made = api.post("/api/v1/hashes/", {"name": "Bank", "format": "pdq", "content": "a" * 64})
    assert made.status_code == 201, made.content
    assert api.get(f"/api/v1/cases/{made.json()['case_id']}/").json()["kind"] == "hash_list"
    assert api.get(f"/api/v1/cases/{case.pk}/").json()["kind"] == "person"
