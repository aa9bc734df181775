"""POST /api/v1/cases/<id>/references/fingerprints/: the document made on the person's device."""

from __future__ import annotations

import base64
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from app.cases.models import Reference, ReferenceSource
from app.matching.decode import decode_media
from app.matching.fingerprint import Fingerprint, fingerprint_reference
from tests.conftest import photo_paths


def _document() -> dict:
    fp = fingerprint_reference(decode_media(photo_paths()[7].read_bytes()).frames[0])
    blob = base64.b64encode(fp.to_bytes()).decode()
    return {
        "format": "jium-fingerprints",
        "version": 1,
        "fingerprints": [{"name": "Image 1", "fingerprint": blob}],
    }


def test_import_as_json_body_and_as_file_then_export_has_no_features(api_for, case, teammate, outsider):
    api = api_for(teammate)
    path = f"/api/v1/cases/{case.pk}/references/fingerprints/"
    document = _document()
    response = api.post(path, document)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["label"] for c in body["created"]] == ["Image 1"] and body["created"][0]["source"] == "device"
    ref = Reference.objects.get(case=case)
    assert ref.source == ReferenceSource.DEVICE and Fingerprint.from_bytes(ref.fingerprint).has_features
    as_file = api.client.post(
        path,
        {"document": SimpleUploadedFile("f.json", json.dumps(document).encode(), "application/json")},
        headers=api._headers(),
    )
    assert as_file.status_code == 200 and as_file.json()["already_present"] == 1
    # Hash-list exports carry PDQ hashes only, never the keypoint features.
    exported = api.get(f"/api/v1/cases/{case.pk}/references/hashes/", {"format": "json"})
    assert json.loads(exported.content) == {"hashes": [{"pdq": ref.pdq_hex, "quality": ref.pdq_quality}]}
    assert api.post(path, {"format": "other"}).status_code == 400
    assert api.client.post(path, {"other": "x"}, headers=api._headers()).status_code == 400
    assert api_for(outsider).post(path, document).status_code == 404
    assert Reference.objects.filter(case=case).count() == 1
