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


def test_threatexchange_and_hma_lists_are_recognised(client, case, teammate):
    """Lists from Meta's tools pasted or uploaded as they are: signal types and bank states respected."""
    import json

    client.force_login(teammate.user)
    url = reverse("case_references_import", args=[case.pk])
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    response = client.post(url, {"hashes_text": f"pdq {HASH_A}\nvideo_md5 {md5}\n"}, follow=True)
    assert "1 lines were not PDQ hashes" in response.content.decode()
    te_csv = f"signal_type,signal_str,collab,category,tags\npdq,{HASH_B},X,NEGATIVE_CLASS,\n"
    client.post(url, {"hashes_file": SimpleUploadedFile("dataset.csv", te_csv.encode())})
    bank = [{"id": 3, "disable_until_ts": 1, "signals": {"pdq": HASH_B}}]
    client.post(url, {"hashes_file": SimpleUploadedFile("bank.json", json.dumps(bank).encode())})
    assert list(Reference.objects.filter(case=case).order_by("id").values_list("pdq_hex", flat=True)) == [
        HASH_A,
        HASH_B,
    ]
