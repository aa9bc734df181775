"""Multipart reference upload (the web's limits and discard rule) and hash export."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from app.cases.models import Reference
from tests.web.helpers import small_jpeg


def _upload(api, case, files):
    return api.client.post(f"/api/v1/cases/{case.pk}/references/", {"images": files}, headers=api._headers())


def test_upload_keeps_only_fingerprints(api_for, case, teammate):
    api = api_for(teammate)
    files = [
        SimpleUploadedFile("a.jpg", small_jpeg(0), "image/jpeg"),
        SimpleUploadedFile("b.jpg", small_jpeg(1), "image/jpeg"),
        SimpleUploadedFile("a-again.jpg", small_jpeg(0), "image/jpeg"),
        SimpleUploadedFile("notes.txt", b"not an image", "text/plain"),
    ]
    response = _upload(api, case, files)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["added"] == 2
    results = body["results"]
    assert [r["already_present"] for r in results[:3]] == [False, False, True]
    assert results[3]["reference"] is None and results[3]["error"]
    assert all(r["reference"]["original_kept"] is False for r in results[:3])
    assert Reference.objects.filter(case=case, original__isnull=True).count() == 2
    assert _upload(api, case, []).status_code == 400  # no files at all


def test_upload_keeps_originals_when_the_case_asks(api_for, case, owner):
    case.keep_originals = True
    case.save()
    body = _upload(api_for(owner), case, [SimpleUploadedFile("a.jpg", small_jpeg(0), "image/jpeg")]).json()
    assert body["results"][0]["reference"]["original_kept"] is True


def test_upload_size_limit(api_for, case, owner, settings):
    settings.REFERENCE_MAX_BYTES = 1000
    body = _upload(api_for(owner), case, [SimpleUploadedFile("a.jpg", small_jpeg(0), "image/jpeg")]).json()
    assert body["added"] == 0 and body["results"][0]["error"] == "The file is too large."
    assert not Reference.objects.exists()


def test_export_formats(api_for, case, owner):
    api = api_for(owner)
    hashes = ["f" * 48 + "0" * 16, "0123456789abcdef" * 4]
    api.post(f"/api/v1/cases/{case.pk}/references/hashes/", {"hashes": hashes})
    path = f"/api/v1/cases/{case.pk}/references/hashes/"
    assert api.get(path).content.decode() == "".join(f"{h}\n" for h in hashes)
    csv = api.get(path, {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines() == ["pdq_hex,quality", f"{hashes[0]},100", f"{hashes[1]},100"]
    data = api.get(path, {"format": "json"}).json()
    assert data == {"hashes": [{"pdq": h, "quality": 100} for h in hashes]}
    assert api.get(path, {"format": "xml"}).status_code == 400
    # The export reads back in.
    reimported = api.post(path, {"hashes": api.get(path).content.decode().split()}).json()
    assert reimported["already_present"] == 2


def test_hash_list_exchange_formats(api_for, case, owner, outsider):
    """HMA text and CSV, StopNCII signals in; the same out for the organisation, PDQ only."""
    from app.cases.services import case_create

    api = api_for(owner)
    a, b, c = "a" * 64, "0123456789abcdef" * 4, "f" * 48 + "0" * 16
    path = f"/api/v1/cases/{case.pk}/references/hashlist/"
    text = api.post(path, {"format": "pdq", "content": f"{a}\n{b.upper()}\n12345\n"}).json()
    assert [h["pdq_hex"] for h in text["created"]] == [a, b] and len(text["skipped"]) == 1
    csv = api.post(path, {"format": "csv", "content": f"hash,quality\n{c},80\n{a},100\n"}).json()
    assert ([h["pdq_hex"] for h in csv["created"]], csv["already_present"]) == ([c], 1)
    assert Reference.objects.get(case=case, pdq_hex=c).pdq_quality == 80
    signals = [
        {"signalType": "ImagePDQ", "hashValue": a},
        {"signalType": "VideoMD5", "hashValue": "d41d8cd98f00b204e9800998ecf8427e"},
    ]
    stop = api.post(path, {"format": "stopncii", "signals": signals}).json()
    assert stop["created"] == [] and stop["already_present"] == 1
    assert stop["skipped"] == ["item 1: VideoMD5 is not a signal type Jium matches"]
    # Asked in Korean, every reason is Korean, as for the file formats.
    signals.append({"signalType": "ImagePDQ", "hashValue": "12345"})
    korean = api.client.post(
        path,
        json.dumps({"format": "stopncii", "signals": signals}),
        content_type="application/json",
        headers={**api._headers(), "Accept-Language": "ko"},
    ).json()
    assert korean["skipped"] == [
        "1번 항목: VideoMD5 해시는 지움이 대조에 쓰지 않습니다",
        "2번 항목: PDQ 해시가 아닙니다 (16진수 64자여야 합니다)",
    ]
    assert api.post(path, {"format": "pdq", "content": ""}).status_code == 400
    assert {r.source for r in Reference.objects.filter(case=case)} == {"hash_import"}

    theirs = case_create(
        organization=outsider.organization, actor=outsider.user, alias="T", jurisdiction="UK"
    )
    api_for(outsider).post(
        f"/api/v1/cases/{theirs.pk}/references/hashlist/", {"format": "pdq", "content": "e" * 64}
    )
    exported = api.get("/api/v1/hashes/", {"format": "stopncii"}).json()
    assert exported == {
        "signals": [
            {"signalType": "ImagePDQ", "hashValue": h, "quality": q}
            for h, q in sorted([(b, 100), (a, 100), (c, 80)])
        ]
    }  # never another organisation's hashes
    assert api.get("/api/v1/hashes/").content.decode().split() == sorted([a, b, c])


def test_minors_hashes_are_never_exported_for_adult_only_partners(api_for, case, owner):
    """StopNCII is for adults: a minor's case gives no StopNCII signals, and the NGO-wide list
    (for sharing with partners) leaves minors' cases out in every format."""
    from app.cases.models import AgeGroup
    from app.cases.services import case_create

    api = api_for(owner)
    adult, young = "a" * 64, "0123456789abcdef" * 4
    minor = case_create(
        organization=case.organization, actor=owner.user, alias="Case Daisy", jurisdiction="KR",
        age_group=AgeGroup.MINOR,
    )  # fmt: skip
    api.post(f"/api/v1/cases/{case.pk}/references/hashes/", {"hashes": [adult]})
    api.post(f"/api/v1/cases/{minor.pk}/references/hashes/", {"hashes": [young]})
    refused = api.get(f"/api/v1/cases/{minor.pk}/references/hashes/", {"format": "stopncii"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "minor_case"
    korean = api.client.get(
        f"/api/v1/cases/{minor.pk}/references/hashes/",
        {"format": "stopncii"},
        headers={**api._headers(), "Accept-Language": "ko"},
    )
    assert (
        "Take It Down" in korean.json()["error"]["message"]
        and "StopNCII" in korean.json()["error"]["message"]
    )
    assert korean.json()["error"]["message"] != refused.json()["error"]["message"]
    # The case's own plain list stays available to the caseworker (e.g. for Take It Down's hotline).
    assert api.get(f"/api/v1/cases/{minor.pk}/references/hashes/").content.decode() == f"{young}\n"
    for fmt in ("pdq", "csv", "json", "stopncii"):
        body = api.get("/api/v1/hashes/", {"format": fmt}).content.decode()
        assert adult in body and young not in body, fmt
