"""POST /api/v1/cases/<id>/references/hashes/."""

from __future__ import annotations

from app.accounts.models import AuditEvent
from app.cases.models import Reference, ReferenceSource

HASH_A = "f" * 48 + "0" * 16
HASH_B = "0123456789abcdef" * 4


def test_import(api_for, case, teammate):
    api = api_for(teammate)
    path = f"/api/v1/cases/{case.pk}/references/hashes/"
    response = api.post(path, {"hashes": [HASH_A, f" {HASH_B.upper()} ", HASH_A, "abc", "g" * 64]})
    assert response.status_code == 200
    body = response.json()
    refs = list(Reference.objects.filter(case=case).order_by("id"))
    assert [r.pdq_hex for r in refs] == [HASH_A, HASH_B]
    assert {r.source for r in refs} == {ReferenceSource.HASH_IMPORT}
    assert body["created"] == [{"id": r.pk, "pdq_hex": r.pdq_hex} for r in refs]
    assert body["already_present"] == 0
    assert [(i["index"], i["value"]) for i in body["invalid"]] == [(3, "abc"), (4, "g" * 64)]
    again = api.post(path, {"hashes": [HASH_B]}).json()
    assert (again["created"], again["already_present"], again["invalid"]) == ([], 1, [])
    assert AuditEvent.objects.filter(action="api.case.references_import", case_id=case.pk).count() == 2
    assert AuditEvent.objects.filter(action="reference.import", case_id=case.pk).count() == 2


def test_nothing_usable(api_for, case, owner):
    api = api_for(owner)
    path = f"/api/v1/cases/{case.pk}/references/hashes/"
    response = api.post(path, {"hashes": ["abc", "x" * 64]})
    assert response.status_code == 400
    assert "64 hexadecimal" in response.json()["error"]["message"]
    for payload in [{"hashes": []}, {"hashes": HASH_A}, {"hashes": [None]}, {"pdq": [HASH_A]}]:
        assert api.post(path, payload).status_code == 400, payload
    assert api.post(path, {"hashes": [HASH_A] * 5001}).json()["error"]["code"] == "too_many"
    assert not Reference.objects.exists()
