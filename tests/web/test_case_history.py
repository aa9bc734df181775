from django.urls import reverse

from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_staff_see_the_case_history(client, case, owner, teammate):
    url = reverse("case_history", args=[case.pk])
    client.force_login(teammate.user)
    client.get(reverse("case_detail", args=[case.pk]))
    body = client.get(url).content.decode()
    assert "Opened this case." in body
    assert "Looked at the case." in body
    assert status_for(client, owner, url) == 200


def test_outsider_and_victim_get_404(client, case, outsider, victim):
    url = reverse("case_history", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url)
    assert status_for(client, victim, url) == 404
