"""The organisation-wide hash-list import page: a partner's list becomes a case of its own."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from app.cases.models import AgeGroup, Case, Reference
from tests.web.helpers import status_for

A, B = "a" * 64, "0123456789abcdef" * 4
URL = "/hash-lists/import/"


def test_staff_import_a_list_into_a_new_case(client, case, teammate):
    client.force_login(teammate.user)
    assert 'href="/hash-lists/import/"' in client.get(reverse("case_list")).content.decode()
    assert client.get(URL).status_code == 200
    bank = [
        {
            "id": 1,
            "disable_until_ts": 1,
            "signals": {"pdq": A, "video_md5": "d41d8cd98f00b204e9800998ecf8427e"},
        }
    ]
    response = client.post(
        URL,
        {
            "name": "HMA bank NCII 2026-12",
            "list_file": SimpleUploadedFile("bank.json", json.dumps(bank).encode()),
        },
        follow=True,
    )
    listed = Case.objects.get(alias="HMA bank NCII 2026-12")
    assert response.redirect_chain[-1][0] == reverse("case_detail", args=[listed.pk])
    page = response.content.decode()
    assert "1 hash imported" in page and "1 entry was not a PDQ hash" in page
    assert listed.organization_id == case.organization_id and listed.age_group == AgeGroup.ADULT
    assert list(Reference.objects.filter(case=listed).values_list("pdq_hex", flat=True)) == [A]


def test_pasted_lists_in_every_shape(client, case, owner):
    client.force_login(owner.user)
    lists = {
        "pdq": f"{A}\n{B}\n",
        "te": f"pdq {A}\npdq {B}\n",
        "te_csv": f"signal_type,signal_str,collab,category,tags\npdq,{A},X,POSITIVE_CLASS,\npdq,{B},X,,\n",
        "stopncii": json.dumps({"signals": [{"signalType": "ImagePDQ", "hashValue": h} for h in (A, B)]}),
        "hma": json.dumps([{"pdq": A}, {"pdq": B, "note": "x"}]),
    }
    for name, text in lists.items():
        client.post(URL, {"name": name, "list_text": text})
        listed = Case.objects.get(alias=name)
        assert set(Reference.objects.filter(case=listed).values_list("pdq_hex", flat=True)) == {A, B}, name


def test_young_peoples_list_and_refusals(client, case, owner):
    client.force_login(owner.user)
    client.post(URL, {"name": "Hotline list", "list_text": A, "young_people": "on"})
    assert Case.objects.get(alias="Hotline list").age_group == AgeGroup.MINOR
    before = Case.objects.count()
    for data in (
        {"name": "Empty", "list_text": ""},
        {"name": "", "list_text": A},
        {"name": "V", "list_text": "video_md5 d41d8cd98f00b204e9800998ecf8427e"},
    ):
        response = client.post(URL, data)
        assert response.status_code == 200 and 'class="error"' in response.content.decode(), data
    assert Case.objects.count() == before


def test_victim_and_anonymous_cannot_import(client, case, victim):
    assert status_for(client, victim, URL, "post", {"name": "x", "list_text": A}) == 404
    anonymous = Client()
    assert anonymous.post(URL, {"name": "x", "list_text": A}).status_code == 302
    assert Case.objects.count() == 1 and not Reference.objects.exists()


def test_outsiders_list_stays_in_their_organisation(client, case, outsider):
    client.force_login(outsider.user)
    client.post(URL, {"name": "Their list", "list_text": A})
    assert Case.objects.get(alias="Their list").organization_id == outsider.organization_id
    assert not Reference.objects.filter(case__organization=case.organization).exists()


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(URL, {"name": "x", "list_text": A}).status_code == 403


def test_video_hashes_in_a_list_become_reference_videos(client, case, owner):
    from app.matching.models import VideoHash

    client.force_login(owner.user)
    frames = json.dumps([f"{B},100,0.000", f"{A},90,1.000"])
    # As `threatexchange hash` prints a vpdq signal (JSON with its spaces), pasted on the org page.
    client.post(URL, {"name": "Videos", "list_text": f"vpdq {frames}\n"})
    listed = Case.objects.get(alias="Videos")
    reference = Reference.objects.get(case=listed)
    assert reference.pdq_hex == B and VideoHash.objects.get(reference=reference).frames == 2
    # A list whose only video hash cannot be read makes no case, and says why.
    before = Case.objects.count()
    response = client.post(URL, {"name": "Bad", "list_text": json.dumps([{"signals": {"vpdq": "[1]"}}])})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert Case.objects.count() == before
    # A case's own import form reads them too.
    client.post(
        reverse("case_references_import", args=[case.pk]),
        {"hashes_text": json.dumps([{"vpdq": frames, "note": "x"}])},
    )
    assert VideoHash.objects.filter(reference__case=case).count() == 1


def test_a_list_case_shows_as_a_hash_list_not_a_person(client, case, owner):
    """The list's case is labelled as a hash list on the case list and its own page, in English and
    Korean, and leaves out what applies only to a person: the account, own links, faces, takedown
    requests, uploads and the person-centred wording. A person's case keeps all of it."""
    client.force_login(owner.user)
    client.post(URL, {"name": "Partner list", "list_text": f"{A}\n{B}\n"})
    listed = Case.objects.get(alias="Partner list")
    assert listed.is_hash_list and not case.is_hash_list

    def person_only(pk: int) -> list[str]:
        return [
            f'href="{reverse(name, args=[pk])}"'
            for name in ("case_victim_account", "case_whitelist", "case_edit", "case_notices")
        ] + [
            f'action="{reverse("case_references_upload", args=[pk])}"',
            'id="faces"',
            "Where the person lives",
            "Belongs to the person",
            "Import fingerprints made on the person",
            "Erase this case",
        ]

    page = client.get(reverse("case_detail", args=[listed.pk])).content.decode()
    assert 'id="kind-badge"' in page and "not a person's case" in page
    assert "1. Hashes in the list" in page and "Erase this list" in page
    assert [text for text in person_only(listed.pk) if text in page] == []
    person = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert 'id="kind-badge"' not in person and "Hashes in the list" not in person
    assert [text for text in person_only(case.pk) if text not in person] == []

    rows = client.get(reverse("case_list")).content.decode()
    assert rows.count('class="badge kind-list"') == 1 and "Hashes checked against every case" in rows

    client.cookies["django_language"] = "ko"
    page = client.get(reverse("case_detail", args=[listed.pk])).content.decode()
    assert "해시 목록" in page and "한 사람의 사례가 아니에요" in page and "이 목록 완전 삭제" in page
    assert "Hash list" not in page
    assert "모든 사례의 링크와 대조하는 해시" in client.get(reverse("case_list")).content.decode()
