from django.urls import reverse

from tests.web.helpers import status_for


def test_admin_sees_own_org_history_only(client, owner, teammate, outsider, case):
    client.force_login(owner.user)
    body = client.get(reverse("organization_audit")).content.decode()
    assert "Opened this case." in body
    client.force_login(outsider.user)
    assert "Opened this case." not in client.get(reverse("organization_audit")).content.decode()


def test_teammate_and_victim_get_404(client, teammate, victim):
    assert status_for(client, teammate, reverse("organization_audit")) == 404
    assert status_for(client, victim, reverse("organization_audit")) == 404
