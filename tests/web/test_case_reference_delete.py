from django.test import Client
from django.urls import reverse

from app.cases.models import Reference
from app.cases.services import reference_import_hashes
from tests.web.helpers import assert_not_found_for_outsider, status_for

HASH = "0123456789abcdef" * 4


def _ref(case):
    created, _errors = reference_import_hashes(case=case, actor=None, text=HASH)
    return created[0]


def test_staff_remove(client, case, teammate):
    ref = _ref(case)
    assert (
        status_for(client, teammate, reverse("case_reference_delete", args=[case.pk, ref.pk]), "post") == 302
    )
    assert not Reference.objects.exists()


def test_outsider_victim_and_wrong_case(client, case, org, owner, outsider, victim):
    from app.cases.services import case_create

    ref = _ref(case)
    url = reverse("case_reference_delete", args=[case.pk, ref.pk])
    assert_not_found_for_outsider(client, outsider, url, "post")
    assert status_for(client, victim, url, "post") == 404
    other = case_create(organization=org, actor=owner.user, alias="Other", jurisdiction="US")
    assert status_for(client, owner, reverse("case_reference_delete", args=[other.pk, ref.pk]), "post") == 404
    assert Reference.objects.filter(pk=ref.pk).exists()


def test_get_not_allowed_and_csrf(client, case, owner):
    ref = _ref(case)
    url = reverse("case_reference_delete", args=[case.pk, ref.pk])
    assert status_for(client, owner, url) == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(url).status_code == 403
