from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from app.accounts.models import Role
from app.cases.services import case_create
from tests.web.helpers import assert_not_found_for_outsider, status_for


def _case_without_victim(org, owner):
    return case_create(organization=org, actor=owner.user, alias="Case Lily", jurisdiction="US")


def test_staff_create_account_that_sees_only_this_case(client, org, owner, teammate, case):
    lily = _case_without_victim(org, owner)
    url = reverse("case_victim_account", args=[lily.pk])
    assert status_for(client, owner, url) == 200
    org.caseworkers_may_create_victim_accounts = True  # this organisation lets caseworkers do it
    org.save()
    client.force_login(teammate.user)
    response = client.post(url, {"username": "lily"})
    assert response.status_code == 200
    password = response.context["created"]["password"]
    lily.refresh_from_db()
    user = User.objects.get(username="lily")
    assert lily.victim_user == user
    assert user.memberships.get().role == Role.VICTIM
    assert password in response.content.decode()
    # The new account can log in with the password shown, and sees only Case Lily.
    fresh = Client()
    assert fresh.login(username="lily", password=password)
    assert fresh.get(reverse("case_detail", args=[lily.pk])).status_code == 200
    assert fresh.get(reverse("case_detail", args=[case.pk])).status_code == 404
    # A second account for the same case is refused.
    again = client.post(url, {"username": "lily2"})
    assert again.context["created"] is None
    assert not User.objects.filter(username="lily2").exists()


def test_username_taken(client, org, owner, teammate):
    lily = _case_without_victim(org, owner)
    client.force_login(owner.user)
    response = client.post(reverse("case_victim_account", args=[lily.pk]), {"username": "bob"})
    assert response.context["created"] is None
    assert "taken" in response.content.decode()


def test_outsider_and_victim_get_404(client, case, outsider, victim):
    url = reverse("case_victim_account", args=[case.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"username": "evil"})
    assert status_for(client, victim, url) == 404
    assert not User.objects.filter(username="evil").exists()


def test_csrf(org, owner):
    lily = _case_without_victim(org, owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("case_victim_account", args=[lily.pk]), {"username": "x"}).status_code == 403


def test_by_default_only_admins_create_accounts(client, org, owner, teammate):
    lily = _case_without_victim(org, owner)
    url = reverse("case_victim_account", args=[lily.pk])
    client.force_login(teammate.user)
    assert "Ask an admin" in client.get(url).content.decode()
    assert client.post(url, {"username": "lily"}).status_code == 403
    assert not User.objects.filter(username="lily").exists()
    client.force_login(owner.user)
    assert client.post(url, {"username": "lily"}).context["created"]["username"] == "lily"
