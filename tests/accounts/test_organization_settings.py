from django.test import Client
from django.urls import reverse

from tests.web.helpers import status_for


def _form(org, **extra):
    return {
        "name": org.name,
        "notice_sender_name": "",
        "notice_sender_email": "",
        "country": org.country,
        "time_zone": org.time_zone,
        **extra,
    }


def test_admin_changes_settings(client, org, owner):
    url = reverse("organization_settings")
    assert status_for(client, owner, url) == 200
    assert (
        status_for(
            client,
            owner,
            url,
            "post",
            _form(org, require_two_factor="on", caseworkers_see_assigned_only="on"),
        )
        == 302
    )
    org.refresh_from_db()
    assert org.require_two_factor and org.caseworkers_see_assigned_only


def test_outsider_changes_only_their_own_org(client, org, other_org, outsider):
    client.force_login(outsider.user)
    client.post(reverse("organization_settings"), _form(other_org, require_two_factor="on"))
    org.refresh_from_db()
    other_org.refresh_from_db()
    assert not org.require_two_factor
    assert other_org.require_two_factor


def test_teammate_and_victim_get_404(client, org, teammate, victim):
    url = reverse("organization_settings")
    assert status_for(client, teammate, url, "post", _form(org, require_two_factor="on")) == 404
    assert status_for(client, victim, url) == 404
    org.refresh_from_db()
    assert not org.require_two_factor


def test_csrf(org, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("organization_settings"), _form(org)).status_code == 403


def test_time_zone_follows_the_country_unless_chosen(client, org, owner):
    assert (org.country, org.time_zone) == ("KR", "Asia/Seoul")
    url = reverse("organization_settings")
    assert status_for(client, owner, url, "post", _form(org, country="US")) == 302
    org.refresh_from_db()
    assert (org.country, org.time_zone) == ("US", "America/New_York")
    assert status_for(client, owner, url, "post", _form(org, country="GB", time_zone="Asia/Seoul")) == 302
    org.refresh_from_db()
    assert (org.country, org.time_zone) == ("GB", "Asia/Seoul")


def test_unknown_time_zone_is_refused_in_both_languages(client, org, owner):
    client.force_login(owner.user)
    url = reverse("organization_settings")
    english = client.post(url, _form(org, time_zone="Mars/Olympus"), HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200 and "Mars/Olympus" in english.content.decode()
    client.cookies["django_language"] = "ko"
    korean = client.post(url, _form(org, time_zone="Mars/Olympus")).content.decode()
    assert "시간대" in korean
    org.refresh_from_db()
    assert org.time_zone == "Asia/Seoul"
