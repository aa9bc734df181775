from django.urls import reverse

from app.accounts.models import AuditEvent
from app.cases.services import case_set_authorisation_letter
from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_staff_download_is_audited(client, case, owner, teammate):
    case_set_authorisation_letter(case=case, actor=owner.user, data=b"%PDF letter", filename="x.pdf")
    url = reverse("case_letter", args=[case.pk])
    client.force_login(teammate.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF letter"
    assert response["Content-Type"] == "application/octet-stream"
    assert AuditEvent.objects.filter(action="case.letter_view", actor=teammate.user).count() == 1
    assert status_for(client, owner, url) == 200


def test_outsider_and_victim_get_404(client, case, owner, outsider, victim):
    case_set_authorisation_letter(case=case, actor=owner.user, data=b"%PDF letter", filename="x.pdf")
    url = reverse("case_letter", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url)
    assert status_for(client, victim, url) == 404


def test_no_letter_is_404(client, case, owner):
    assert status_for(client, owner, reverse("case_letter", args=[case.pk])) == 404
