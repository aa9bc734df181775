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


def _fail(client: Client, username: str, **meta: str) -> int:
    return client.post(
        reverse("login"), {"username": username, "password": "wrong password"}, **meta
    ).status_code


def _login(client: Client, username: str, **meta: str) -> int:
    return client.post(reverse("login"), {"username": username, "password": PASSWORD}, **meta).status_code


def test_behind_the_proxy_one_client_cannot_lock_out_another(db, owner, settings):
    """Every request comes from nginx (127.0.0.1); the client is what nginx appended to X-Forwarded-For."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    alice = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for _ in range(4):
        _fail(Client(), "alice", **attacker)
    assert _login(Client(), "alice", **attacker) == 429  # the guesser is locked out
    assert _login(Client(), "alice", **alice) == 302  # the caseworker at her own address is not
    # A forged header entry from the attacker does not move them to another address.
    forged = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 198.51.100.7"}
    assert _login(Client(), "alice", **forged) == 429


def test_without_a_proxy_setting_the_header_is_ignored(db, owner, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(4):  # a new made-up address each time: still the same client
        _fail(Client(), "alice", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert _login(Client(), "alice", REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="10.0.0.99") == 429


def test_one_address_guessing_over_many_usernames_is_locked(db, owner, teammate, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_IP_FAILURE_LIMIT = 6
    for n in range(6):  # two tries per username: never 3 on one
        _fail(Client(), f"user{n // 2}", REMOTE_ADDR="198.51.100.7")
    assert _login(Client(), "alice", REMOTE_ADDR="198.51.100.7") == 429
    assert _login(Client(), "alice", REMOTE_ADDR="203.0.113.5") == 302  # other addresses are unaffected
