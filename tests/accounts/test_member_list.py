from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from app.accounts.models import AuditEvent, Role
from tests.web.helpers import status_for


def test_admin_adds_a_caseworker_who_can_log_in(client, owner, teammate):
    url = reverse("member_list")
    client.force_login(owner.user)
    body = client.get(url).content.decode()
    assert "bob" in body
    response = client.post(url, {"username": "carol", "email": "carol@ngo.example", "role": Role.CASEWORKER})
    assert response.status_code == 200
    password = response.context["created"]["password"]
    carol = User.objects.get(username="carol")
    assert carol.memberships.get().organization == owner.organization
    assert carol.memberships.get().role == Role.CASEWORKER
    assert Client().login(username="carol", password=password)
    assert AuditEvent.objects.filter(action="member.create", object_id=carol.pk, actor=owner.user).exists()


def test_victim_role_cannot_be_given_here(client, owner):
    client.force_login(owner.user)
    response = client.post(reverse("member_list"), {"username": "v2", "role": Role.VICTIM})
    assert response.context["created"] is None
    assert not User.objects.filter(username="v2").exists()


def test_outsiders_list_is_separate(client, owner, teammate, outsider):
    client.force_login(outsider.user)
    body = client.get(reverse("member_list")).content.decode()
    assert "bob" not in body and "alice" not in body


def test_teammate_and_victim_get_404(client, teammate, victim):
    url = reverse("member_list")
    assert status_for(client, teammate, url) == 404
    assert status_for(client, victim, url, "post", {"username": "x", "role": Role.ADMIN}) == 404
    assert not User.objects.filter(username="x").exists()


def test_csrf(owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("member_list"), {"username": "x", "role": Role.ADMIN}).status_code == 403
