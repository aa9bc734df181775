from django.test import Client
from django.urls import reverse

from app.accounts.models import Role
from tests.web.helpers import assert_not_found_for_outsider, status_for


def test_admin_changes_a_role(client, owner, teammate):
    url = reverse("member_edit", args=[teammate.pk])
    assert status_for(client, owner, url) == 200
    assert status_for(client, owner, url, "post", {"role": Role.ADMIN}) == 302
    teammate.refresh_from_db()
    assert teammate.role == Role.ADMIN


def test_admin_cannot_demote_themselves(client, owner):
    client.force_login(owner.user)
    client.post(reverse("member_edit", args=[owner.pk]), {"role": Role.CASEWORKER})
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_victims_are_not_edited_here(client, owner, victim):
    assert status_for(client, owner, reverse("member_edit", args=[victim.pk])) == 404


def test_outsider_teammate_victim_get_404(client, owner, teammate, outsider, victim):
    url = reverse("member_edit", args=[teammate.pk])
    assert_not_found_for_outsider(client, outsider, url, "post", {"role": Role.ADMIN})
    assert status_for(client, teammate, url, "post", {"role": Role.ADMIN}) == 404
    assert status_for(client, victim, url) == 404
    teammate.refresh_from_db()
    assert teammate.role == Role.CASEWORKER


def test_csrf(owner, teammate):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("member_edit", args=[teammate.pk]), {"role": Role.ADMIN}).status_code == 403
