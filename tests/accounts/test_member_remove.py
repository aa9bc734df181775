from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from app.accounts.models import Membership
from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_admin_removes_a_member(client, owner, teammate):
    assert status_for(client, owner, reverse("member_remove", args=[teammate.pk]), "post") == 302
    assert not Membership.objects.filter(pk=teammate.pk).exists()
    assert not User.objects.get(pk=teammate.user_id).is_active


def test_cannot_remove_yourself(client, owner):
    client.force_login(owner.user)
    client.post(reverse("member_remove", args=[owner.pk]))
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_outsider_teammate_victim_get_404(client, owner, teammate, outsider, victim):
    url = reverse("member_remove", args=[owner.pk])
    assert_not_found_for_outsider(client, outsider, url, "post")
    assert status_for(client, teammate, url, "post") == 404
    assert status_for(client, victim, url, "post") == 404
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_get_not_allowed_and_csrf(client, owner, teammate):
    url = reverse("member_remove", args=[teammate.pk])
    assert status_for(client, owner, url) == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(url).status_code == 403
    assert Membership.objects.filter(pk=teammate.pk).exists()
