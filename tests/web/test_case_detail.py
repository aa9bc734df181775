from django.urls import reverse

from app.accounts.models import AuditEvent
from tests.web.helpers import assert_not_found_for_outsider


def test_owner_teammate_victim_can_view(client, case, owner, teammate, victim):
    for member in (owner, teammate, victim):
        client.force_login(member.user)
        assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200


def test_outsider_gets_404(client, case, outsider):
    assert_not_found_for_outsider(client, outsider, reverse("case_detail", args=[case.pk]))


def test_unknown_id_is_404(client, owner):
    client.force_login(owner.user)
    assert client.get(reverse("case_detail", args=[999999])).status_code == 404


def test_viewing_is_audited(client, case, teammate):
    client.force_login(teammate.user)
    client.get(reverse("case_detail", args=[case.pk]))
    assert AuditEvent.objects.filter(action="case.view", case_id=case.pk, actor=teammate.user).count() == 1


def test_victim_sees_no_staff_forms(client, case, victim):
    client.force_login(victim.user)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("case_urls_add", args=[case.pk]) not in body


def test_progress_fragment_access(client, case, owner, outsider):
    client.force_login(owner.user)
    assert client.get(reverse("case_progress", args=[case.pk])).status_code == 200
    assert_not_found_for_outsider(client, outsider, reverse("case_progress", args=[case.pk]))
