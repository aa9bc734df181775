from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from app.cases.models import Reference, ReferenceSource
from tests.web.helpers import assert_not_found_for_outsider, status_for

HASH_A = "f" * 48 + "0" * 16
HASH_B = "0123456789abcdef" * 4


def test_import_csv_and_json(client, case, teammate):
    client.force_login(teammate.user)
    url = reverse("case_references_import", args=[case.pk])
    client.post(url, {"hashes_file": SimpleUploadedFile("h.csv", f"hash,quality\n{HASH_A},90\n".encode())})
    client.post(url, {"hashes_text": f'["{HASH_B}"]'})
    refs = Reference.objects.filter(case=case).order_by("id")
    assert [r.pdq_hex for r in refs] == [HASH_A, HASH_B]
    assert {r.source for r in refs} == {ReferenceSource.HASH_IMPORT}


def test_nothing_given(client, case, owner):
    client.force_login(owner.user)
    response = client.post(
        reverse("case_references_import", args=[case.pk]), {"hashes_text": ""}, follow=True
    )
    assert "Choose a file or paste hashes" in response.content.decode()


def test_outsider_and_victim_cannot_import(client, case, outsider, victim):
    url = reverse("case_references_import", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"hashes_text": HASH_A})
    assert status_for(client, victim, url, "post", {"hashes_text": HASH_A}) == 404
    assert not Reference.objects.exists()


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert (
        strict.post(reverse("case_references_import", args=[case.pk]), {"hashes_text": HASH_A}).status_code
        == 403
    )
