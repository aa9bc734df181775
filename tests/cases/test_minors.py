"""A minor's case stores no media: intake, switching an adult case to minor, and the scan pipeline."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from app.accounts.models import AuditEvent
from app.cases.models import AgeGroup, Case, Reference
from app.cases.services import (
    CaseInputError,
    case_create,
    case_set_age_group,
    case_update,
    reference_add_image,
    reference_import_hashes,
    reported_url_scan,
    reported_urls_add,
)
from app.fetching.models import FetchRecord, MediaItem
from app.matching.fingerprint import fingerprint_reference
from tests.fetching.servers import (
    TEST_NETWORKS,
    Internet,
    internet,  # noqa: F401 - fixture
    photo_bytes,
    photo_names,
)
from tests.web.helpers import make_evidence, small_jpeg

NAMES = photo_names()


@pytest.fixture(autouse=True)
def _fetch_settings(settings):  # type: ignore[no-untyped-def]
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = list(TEST_NETWORKS)
    settings.FETCH_TOTAL_TIMEOUT = 4.0
    settings.FETCH_RETRIES = 0


def _minor(org, owner, **kw) -> Case:  # type: ignore[no-untyped-def]
    return case_create(
        organization=org, actor=owner.user, alias="Case Daisy", jurisdiction="KR", age_group="minor", **kw
    )


def test_not_sure_is_a_minor_and_opt_ins_are_forced_off(org, owner) -> None:  # type: ignore[no-untyped-def]
    case = case_create(
        organization=org, actor=owner.user, alias="Unsure", jurisdiction="US", age_group="unsure",
        keep_originals=True, keep_evidence=True,
    )  # fmt: skip
    assert case.is_minor and not case.may_keep_media
    assert (case.keep_originals, case.keep_evidence) == (False, False)
    case_update(case=case, actor=owner.user, keep_originals=True, keep_evidence=True)
    case.refresh_from_db()
    assert (case.keep_originals, case.keep_evidence) == (False, False)
    with pytest.raises(CaseInputError):
        case_create(organization=org, actor=owner.user, alias="X", jurisdiction="US", age_group="teen")


def test_no_image_upload_into_a_minors_case(org, owner) -> None:  # type: ignore[no-untyped-def]
    case = _minor(org, owner)
    with pytest.raises(CaseInputError):
        reference_add_image(case=case, actor=owner.user, data=small_jpeg(0), filename="a.jpg")
    assert not Reference.objects.filter(case=case).exists()
    # Fingerprints made on the person's own device are the way in.
    created, _errors = reference_import_hashes(case=case, actor=owner.user, text="ab" * 32)
    assert len(created) == 1


def test_only_an_admin_changes_the_age_and_it_is_audited(case, owner, teammate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseInputError):
        case_set_age_group(case=case, actor=teammate.user, age_group="minor")
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    case_set_age_group(case=case, actor=owner.user, age_group="minor")
    event = AuditEvent.objects.get(case_id=case.pk, action="case.age_group")
    assert event.detail["from"] == "adult" and event.detail["to"] == "minor"
    assert event.actor_id == owner.user.pk


def test_switching_to_minor_deletes_stored_media_at_once(case, owner) -> None:  # type: ignore[no-untyped-def]
    case.keep_originals = case.keep_evidence = True
    case.save()
    _reported, media, match = make_evidence(case)
    FetchRecord.objects.filter(pk=media.fetch_id).update(content=b"<html>page copy</html>")
    reference = match.reference
    assert Reference.objects.get(pk=reference.pk).original
    assert MediaItem.objects.get(pk=media.pk).content

    purge = case_set_age_group(case=case, actor=owner.user, age_group="unsure")

    assert (purge.originals, purge.page_copies, purge.media_copies) == (1, 1, 1)
    assert not Reference.objects.get(pk=reference.pk).original
    assert not MediaItem.objects.get(pk=media.pk).content
    assert not FetchRecord.objects.get(pk=media.fetch_id).content
    case.refresh_from_db()
    assert (case.keep_originals, case.keep_evidence, case.is_minor) == (False, False, True)
    # Hashes, addresses and evidence metadata stay: the case can still be worked.
    kept = MediaItem.objects.get(pk=media.pk)
    assert kept.sha256 and kept.url and Reference.objects.get(pk=reference.pk).pdq_hex


def _chunks(data: bytes) -> list[bytes]:
    """Three 48-byte slices from the middle of a file: any copy, whole or in part, contains them."""
    n = len(data)
    return [data[n * k // 4 : n * k // 4 + 48] for k in (1, 2, 3)]


def _db_holds(chunks: list[bytes]) -> list[str]:
    """Every stored binary and text value of every model, read through the ORM (so decrypted)."""
    found = []
    for model in apps.get_models():
        fields = [
            f for f in model._meta.concrete_fields
            if isinstance(f, models.BinaryField | models.TextField | models.CharField | models.JSONField)
        ]  # fmt: skip
        for row in model.objects.all().values_list("pk", *[f.name for f in fields]):
            for field, value in zip(fields, row[1:], strict=True):
                raw = (
                    bytes(value)
                    if isinstance(value, bytes | memoryview)
                    else str(value).encode("latin-1", "ignore")
                )
                if any(c in raw for c in chunks):
                    found.append(f"{model._meta.label}.{field.name}#{row[0]}")
    return found


def _files_holding(root: Path, chunks: list[bytes]) -> list[str]:
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if any(c in data for c in chunks):
                found.append(str(path))
    return found


def test_scan_in_a_minors_case_keeps_no_media_anywhere(  # type: ignore[no-untyped-def]
    internet: Internet, org, owner, tmp_path, monkeypatch
) -> None:
    from app.notices.evidence import evidence_pdf
    from app.notices.services import notice_drafts_for_case

    # Everything that asks Python (or a C library) for a temporary file lands here, to be searched.
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    image = photo_bytes(NAMES[0])
    chunks = _chunks(image)
    case = _minor(org, owner)
    # The opt-in is forced off at intake; set it behind the service's back: the pipeline must still refuse.
    Case.objects.filter(pk=case.pk).update(keep_evidence=True)
    case.refresh_from_db()
    from app.matching.decode import decode_media

    pdq = fingerprint_reference(decode_media(image, max_frames=1).frames[0]).pdq.hex()
    reference_import_hashes(case=case, actor=owner.user, text=pdq)
    page = internet.site.page(
        "/room/1", f'<html><body><img src="{internet.cdn.url("/photos/" + NAMES[0])}"></body></html>'
    )
    direct = internet.cdn.url("/photos/" + NAMES[0])
    for added in reported_urls_add(case=case, actor=owner.user, urls=[page, direct]).added:
        reported_url_scan(reported_url_id=added.pk)

    media = list(MediaItem.objects.filter(fetch__reported_url__case=case))
    assert media and all(m.sha256 and not m.content for m in media)
    assert any(m.matches.exists() for m in media)  # matching ran, in memory
    assert not FetchRecord.objects.filter(reported_url__case=case).exclude(content=None).exclude(content=b"")
    notices = notice_drafts_for_case(case=case, actor=owner.user)
    assert notices
    pdfs = [bytes(n.pdf) for n in notices] + [evidence_pdf(case=case)]

    assert _db_holds(chunks) == []
    assert _files_holding(Path(settings.DATA_DIR), chunks) == []
    assert _files_holding(temp, chunks) == []
    for pdf in pdfs:
        assert pdf.startswith(b"%PDF") and b"/Image" not in pdf
