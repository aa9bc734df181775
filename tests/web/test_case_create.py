from django.urls import reverse

from app.cases.models import Case


def _form(**extra):
    return {
        "alias": "Case Magnolia",
        "jurisdiction": "US",
        "language": "en",
        "real_name": "Jane Roe",
        "contact": "jane@example.org",
        "age_group": "adult",
        **extra,
    }


def test_caseworker_creates_case_with_encrypted_details(client, teammate):
    client.force_login(teammate.user)
    response = client.post(reverse("case_create"), _form())
    case = Case.objects.get(alias="Case Magnolia")
    assert response.status_code == 302
    assert response.url == reverse("case_detail", args=[case.pk])
    assert case.organization == teammate.organization
    assert case.real_name == "Jane Roe"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT real_name, contact FROM cases_case WHERE id = %s", [case.pk])
        raw_name, raw_contact = cursor.fetchone()
    assert b"Jane" not in bytes(raw_name)
    assert b"jane@example.org" not in bytes(raw_contact)


def test_invalid_form_is_shown_again(client, owner):
    client.force_login(owner.user)
    response = client.post(reverse("case_create"), _form(jurisdiction="MARS"))
    assert response.status_code == 200
    assert not Case.objects.exists()


def test_victim_cannot_open_cases(client, victim):
    client.force_login(victim.user)
    assert client.get(reverse("case_create")).status_code == 404


def test_csrf_is_enforced(db, owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_create"), _form()).status_code == 403
    assert not Case.objects.exists()


def test_age_must_be_answered_and_not_sure_makes_a_minors_case(client, teammate):
    client.force_login(teammate.user)
    response = client.post(reverse("case_create"), _form(age_group=""))
    assert response.status_code == 200 and not Case.objects.exists()
    client.post(reverse("case_create"), _form(age_group="unsure", keep_originals="on", keep_evidence="on"))
    case = Case.objects.get()
    assert case.is_minor and not case.keep_originals and not case.keep_evidence


def test_under_14_needs_the_guardian_named(client, teammate):
    client.force_login(teammate.user)
    response = client.post(reverse("case_create"), _form(age_group="minor", under_14="on"))
    assert response.status_code == 200 and not Case.objects.exists()
    client.post(
        reverse("case_create"),
        _form(age_group="minor", under_14="on", guardian_name="Mary Roe", guardian_relation="mother"),
    )
    case = Case.objects.get()
    assert (case.under_14, case.guardian_name, case.guardian_relation) == (True, "Mary Roe", "mother")
