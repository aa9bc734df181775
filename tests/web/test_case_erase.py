from django.urls import reverse

from app.accounts.models import AuditEvent
from app.cases.models import Case, ReportedUrl
from app.cases.services import reported_urls_add
from tests.web.helpers import assert_not_found_for_outsider


def test_erase_requires_alias_confirmation(client, case, owner):
    client.force_login(owner.user)
    response = client.post(reverse("case_erase", args=[case.pk]), {"confirm": "wrong"})
    assert response.status_code == 200
    assert Case.objects.filter(pk=case.pk).exists()


def test_erase_leaves_only_the_fact_of_erasure(client, case, owner):
    reported_urls_add(case=case, actor=owner.user, urls=["https://a.example/1"])
    client.force_login(owner.user)
    client.get(reverse("case_detail", args=[case.pk]))
    response = client.post(reverse("case_erase", args=[case.pk]), {"confirm": "Case Sunflower"})
    assert response.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not ReportedUrl.objects.exists()
    assert not AuditEvent.objects.filter(case_id=case.pk).exists()
    assert list(AuditEvent.objects.exclude(action__startswith="member.").values_list("action", flat=True)) == ["case.erase"]


def test_outsider_victim_cannot_erase(client, case, outsider, victim):
    url = reverse("case_erase", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"confirm": "Case Sunflower"})
    client.force_login(victim.user)
    assert client.post(url, {"confirm": "Case Sunflower"}).status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()
