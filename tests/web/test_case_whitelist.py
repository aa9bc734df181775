from django.test import Client
from django.urls import reverse

from app.cases.models import WhitelistEntry
from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_owner_teammate_edit(client, case, owner, teammate):
    url = reverse("case_whitelist", args=[case.pk])
    assert status_for(client, owner, url) == 200
    client.force_login(teammate.user)
    response = client.post(
        url, {"values": "instagram.com/sunflower\n\n myblog.example \ninstagram.com/sunflower"}
    )
    assert response.status_code == 302
    assert sorted(WhitelistEntry.objects.filter(case=case).values_list("value", flat=True)) == [
        "instagram.com/sunflower",
        "myblog.example",
    ]
    body = client.get(url).content.decode()
    assert "myblog.example" in body
    client.post(url, {"values": "myblog.example"})
    assert list(WhitelistEntry.objects.filter(case=case).values_list("value", flat=True)) == [
        "myblog.example"
    ]


def test_outsider_and_victim_get_404(client, case, outsider, victim):
    url = reverse("case_whitelist", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"values": "evil.example"})
    assert status_for(client, victim, url, "post", {"values": "evil.example"}) == 404
    assert not WhitelistEntry.objects.exists()


def test_csrf(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_whitelist", args=[case.pk]), {"values": "a.example"}).status_code == 403
