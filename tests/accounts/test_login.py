from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def test_login_then_cases(db, owner):
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("case_list")).status_code == 200


def test_repeated_failures_lock_the_account_for_a_while(db, owner, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": "alice", "password": "wrong password"})
    locked = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert client.get(reverse("case_list")).status_code != 200


def test_session_and_security_headers(db, owner):
    client = Client()
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    response = client.get(reverse("case_list"))
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response.cookies.get("sessionid") is None or response.cookies["sessionid"]["httponly"]


def test_password_change_page(client, teammate, victim):
    for member in (teammate, victim):
        client.force_login(member.user)
        assert client.get(reverse("password_change")).status_code == 200
