from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from app.accounts.models import AuditEvent
from tests.web.helpers import assert_not_found_for_outsider, status_for


def _form(case, **extra):
    return {
        "alias": case.alias,
        "jurisdiction": case.jurisdiction,
        "language": case.language,
        "real_name": "",
        "contact": "",
        "authorised_on": "",
        "authorisation_method": "",
        **extra,
    }


def test_owner_and_teammate_can_open_the_form(client, case, owner, teammate):
    url = reverse("case_edit", args=[case.pk])
    assert status_for(client, owner, url) == 200
    assert status_for(client, teammate, url) == 200


def test_outsider_and_victim_get_404(client, case, outsider, victim):
    url = reverse("case_edit", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", _form(case, alias="Hacked"))
    assert status_for(client, victim, url) == 404
    assert status_for(client, victim, url, "post", _form(case, alias="Hacked")) == 404
    case.refresh_from_db()
    assert case.alias == "Case Sunflower"


def test_edit_records_consent_letter_and_assignment(client, case, owner, teammate):
    client.force_login(owner.user)
    letter = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed by the person")
    response = client.post(
        reverse("case_edit", args=[case.pk]),
        _form(
            case,
            authorised_on="2025-03-04",
            authorisation_method="Signed letter",
            real_name="Kim Min-ji",
            contact="010-0000-0000",
            assigned_to=[teammate.user.pk],
            authorisation_letter_file=letter,
            keep_evidence="on",
        ),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert str(case.authorised_on) == "2025-03-04"
    assert case.authorisation_method == "Signed letter"
    assert case.real_name == "Kim Min-ji"
    assert case.keep_evidence is True
    assert list(case.assigned_to.values_list("username", flat=True)) == ["bob"]
    assert bytes(case.authorisation_letter) == b"%PDF-1.4 signed by the person"
    with connection.cursor() as cursor:
        cursor.execute("SELECT authorisation_letter, real_name FROM cases_case WHERE id = %s", [case.pk])
        raw_letter, raw_name = cursor.fetchone()
    assert b"signed by the person" not in bytes(raw_letter)
    assert b"Kim" not in bytes(raw_name)
    update = AuditEvent.objects.get(action="case.update", case_id=case.pk)
    assert "real_name" in update.detail["fields"]
    assert "Kim" not in str(update.detail)  # the log names fields, never values


def test_outsider_cannot_be_assigned(client, case, owner, outsider):
    client.force_login(owner.user)
    response = client.post(reverse("case_edit", args=[case.pk]), _form(case, assigned_to=[outsider.user.pk]))
    assert response.status_code == 200  # not a valid choice
    assert outsider.user not in case.assigned_to.all()


def test_letter_can_be_removed(client, case, owner):
    from app.cases.services import case_set_authorisation_letter

    case_set_authorisation_letter(case=case, actor=owner.user, data=b"letter", filename="l.pdf")
    client.force_login(owner.user)
    client.post(reverse("case_edit", args=[case.pk]), _form(case, remove_letter="1"))
    case.refresh_from_db()
    assert case.authorisation_letter is None


def test_csrf_is_enforced(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_edit", args=[case.pk]), _form(case, alias="Changed")).status_code == 403


def test_seeing_the_name_and_contact_on_the_edit_page_is_logged(client, case, teammate):
    case.real_name, case.contact = "김지은", "010-0000-0000"
    case.save()
    client.force_login(teammate.user)
    page = client.get(reverse("case_edit", args=[case.pk])).content.decode()
    assert "김지은" in page
    event = AuditEvent.objects.get(action="case.identity_view")
    assert (event.actor, event.case_id) == (teammate.user, case.pk)
