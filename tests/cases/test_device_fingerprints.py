"""Fingerprint documents made on the person's device: import, intake links, encryption at rest."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from app.cases import services
from app.cases.models import FingerprintIntake, Reference, ReferenceSource
from app.matching.decode import decode_media
from app.matching.fingerprint import Fingerprint, fingerprint_reference
from tests.conftest import photo_paths


def _document(*fps: Fingerprint, names: list[str] | None = None) -> str:
    return json.dumps(
        {
            "format": "jium-fingerprints",
            "version": 1,
            "fingerprints": [
                {
                    "name": (names or [""] * len(fps))[i],
                    "pdq": fp.pdq.hex(),
                    "fingerprint": base64.b64encode(fp.to_bytes()).decode(),
                    "width": 640,
                    "height": 480,
                }
                for i, fp in enumerate(fps)
            ],
        }
    )


@pytest.fixture(scope="module")
def fingerprints() -> list[Fingerprint]:
    return [fingerprint_reference(decode_media(p.read_bytes()).frames[0]) for p in photo_paths()[:2]]


def test_import_stores_full_fingerprints_encrypted(case, owner, fingerprints):
    result = services.reference_fingerprints_import(
        case=case, actor=owner.user, document=_document(*fingerprints, names=["holiday", ""])
    )
    assert len(result.created) == 2 and not result.skipped
    from app.accounts.audit_text import audit_sentence
    from app.accounts.models import AuditEvent

    event = AuditEvent.objects.get(action="reference.import_device", case_id=case.pk)
    from django.utils import translation

    with translation.override("en"):
        assert audit_sentence(event) == "Imported 2 fingerprints made on the person's device."
    refs = list(Reference.objects.filter(case=case).order_by("id"))
    assert [r.label for r in refs] == ["holiday", "Image 2"]
    assert {r.source for r in refs} == {ReferenceSource.DEVICE}
    stored = Fingerprint.from_bytes(refs[0].fingerprint)
    assert stored.has_features and len(stored.mirror_descriptors) > 0
    assert refs[0].pdq_hex == fingerprints[0].pdq.hex()  # readable, for the NGO-wide hash index
    with connection.cursor() as cursor:
        cursor.execute("SELECT fingerprint FROM cases_reference WHERE id = %s", [refs[0].pk])
        raw = bytes(cursor.fetchone()[0])
    # At rest: a Fernet token, with none of the keypoint descriptors in clear.
    assert raw.startswith(b"gAAAAA")
    assert fingerprints[0].descriptors[:4].tobytes() not in raw
    assert fingerprints[0].pdq not in raw


def test_server_made_fingerprints_are_encrypted_too(case, owner):
    ref = services.reference_add_image(case=case, actor=owner.user, data=photo_paths()[3].read_bytes())
    with connection.cursor() as cursor:
        cursor.execute("SELECT fingerprint FROM cases_reference WHERE id = %s", [ref.pk])
        assert bytes(cursor.fetchone()[0]).startswith(b"gAAAAA")
    assert Fingerprint.from_bytes(Reference.objects.get(pk=ref.pk).fingerprint).has_features


def test_hash_only_upgraded_by_features_and_duplicates_counted(case, owner, fingerprints):
    hash_only = Fingerprint(pdq=fingerprints[0].pdq, pdq_quality=fingerprints[0].pdq_quality)
    services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(hash_only))
    result = services.reference_fingerprints_import(
        case=case, actor=owner.user, document=_document(fingerprints[0])
    )
    assert len(result.upgraded) == 1 and not result.created
    again = services.reference_fingerprints_import(
        case=case, actor=owner.user, document=_document(fingerprints[0])
    )
    assert again.duplicates == 1
    assert Fingerprint.from_bytes(Reference.objects.get(case=case).fingerprint).has_features


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        '{"format": "other"}',
        '{"format": "jium-fingerprints", "version": 9, "fingerprints": [1]}',
        '{"format": "jium-fingerprints", "version": 1, "fingerprints": []}',
    ],
)
def test_unusable_documents_are_refused_plainly(case, owner, document):
    with pytest.raises(services.CaseInputError):
        services.reference_fingerprints_import(case=case, actor=owner.user, document=document)
    assert not Reference.objects.exists()


def test_tampered_fingerprints_are_skipped(case, owner, fingerprints):
    doc = json.loads(_document(*fingerprints))
    doc["fingerprints"][0]["pdq"] = "0" * 64  # disagrees with the fingerprint
    doc["fingerprints"].append({"fingerprint": base64.b64encode(b"JFP\x01\x00" + b"x" * 10).decode()})
    result = services.reference_fingerprints_import(case=case, actor=owner.user, document=json.dumps(doc))
    assert len(result.created) == 1 and len(result.skipped) == 2


def test_band_hashes_are_checked_and_nothing_bad_is_stored(case, owner, fingerprints):
    fp = fingerprints[0]
    assert len(fp.bands) == 9 * 32  # server-made like the page's: band hashes after the features
    blob = fp.to_bytes()
    too_good = bytearray(blob)
    too_good[-1] = 101  # the last band's quality byte
    no_features = Fingerprint(
        pdq=fp.pdq, pdq_quality=fp.pdq_quality, bands=fp.bands, band_qualities=fp.band_qualities
    )
    doc = json.loads(_document(fp))
    good = doc["fingerprints"][0]
    doc["fingerprints"] = [
        {**good, "fingerprint": base64.b64encode(blob[:-3]).decode()},  # band block cut short
        {**good, "fingerprint": base64.b64encode(blob + b"\x00").decode()},
        {**good, "fingerprint": base64.b64encode(bytes(too_good)).decode()},
        {**good, "fingerprint": base64.b64encode(no_features.to_bytes()).decode()},
    ]
    bad = services.reference_fingerprints_import(case=case, actor=owner.user, document=json.dumps(doc))
    assert len(bad.skipped) == 4 and not bad.created and not Reference.objects.exists()
    doc["fingerprints"].append(good)
    result = services.reference_fingerprints_import(case=case, actor=owner.user, document=json.dumps(doc))
    assert len(result.created) == 1 and len(result.skipped) == 4
    assert "band" in " ".join(result.skipped[2:])
    stored = Fingerprint.from_bytes(Reference.objects.get(case=case).fingerprint)
    assert stored.bands == fp.bands and stored.band_qualities == fp.band_qualities


def test_device_fingerprints_without_bands_still_import_and_gain_them_when_sent_again(
    case, owner, fingerprints
):
    fp = fingerprints[0]
    older = Fingerprint.from_bytes(fp.to_bytes())
    older.bands = older.band_qualities = b""  # made by the page before it computed band hashes
    first = services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(older))
    assert len(first.created) == 1
    ref = Reference.objects.get(case=case)
    assert Fingerprint.from_bytes(ref.fingerprint).bands == b""
    again = services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(fp))
    assert [r.pk for r in again.upgraded] == [ref.pk] and not again.created
    stored = Fingerprint.from_bytes(Reference.objects.get(pk=ref.pk).fingerprint)
    assert stored.bands == fp.bands and stored.band_qualities == fp.band_qualities
    assert np.array_equal(stored.descriptors, older.descriptors)  # the stored features stay
    third = services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(fp))
    assert third.duplicates == 1 and not third.upgraded


def test_intake_link_is_single_use_and_expires(case, owner, fingerprints):
    _intake, token = services.fingerprint_intake_create(case=case, actor=owner.user)
    assert services.fingerprint_intake_get(token=token) is not None
    assert not FingerprintIntake.objects.filter(token_hash=token).exists()  # only a hash is kept
    with pytest.raises(services.CaseInputError):  # nothing usable: the link stays valid
        services.fingerprint_intake_submit(
            token=token, document='{"format": "jium-fingerprints", "version": 1, "fingerprints": [{}]}'
        )
    result = services.fingerprint_intake_submit(token=token, document=_document(fingerprints[0]))
    assert len(result.created) == 1 and result.created[0].case == case
    with pytest.raises(services.CaseInputError):
        services.fingerprint_intake_submit(token=token, document=_document(fingerprints[1]))
    assert services.fingerprint_intake_get(token=token) is None

    _old, token2 = services.fingerprint_intake_create(case=case, actor=owner.user)
    FingerprintIntake.objects.filter(pk=_old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.fingerprint_intake_get(token=token2) is None


def test_erasing_the_case_erases_device_fingerprints_and_links(case, owner, fingerprints):
    services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(*fingerprints))
    services.fingerprint_intake_create(case=case, actor=owner.user)
    services.case_erase(case=case, actor=owner.user)
    assert not Reference.objects.exists() and not FingerprintIntake.objects.exists()


def test_a_workers_cached_matcher_follows_a_reference_upgraded_in_place(case, owner, fingerprints):
    """A worker keeps each case's matcher while the case's references stay the same; a reference
    that gains features (or band hashes) in place must not leave it matching with the old one."""
    from app.matching.fingerprint import fingerprint_candidate
    from app.matching.selectors import case_matcher, case_matchers

    fp = fingerprints[0]
    hash_only = Fingerprint(pdq=fp.pdq, pdq_quality=fp.pdq_quality)
    services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(hash_only))
    # Features are what a hash-only reference cannot match with.
    candidate = fingerprint_candidate(decode_media(photo_paths()[0].read_bytes()).frames[0])
    before = case_matcher(case=case)
    assert before is not None and before.match_features(candidate) is None  # no features yet
    older = Fingerprint.from_bytes(fp.to_bytes())
    older.bands = older.band_qualities = b""
    services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(older))
    upgraded = case_matcher(case=case)
    assert upgraded is not before
    assert upgraded is not None and upgraded.match_features(candidate) is not None
    assert case_matchers(case=case)[0] is upgraded  # the scan's lookup agrees
    services.reference_fingerprints_import(case=case, actor=owner.user, document=_document(fp))
    with_bands = case_matcher(case=case)
    assert with_bands is not upgraded and with_bands is case_matcher(case=case)  # cached again
