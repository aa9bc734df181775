"""Bearer tokens only: no token, a wrong or revoked token, or a session cookie alone is 401."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from app.accounts.models import Role
from app.accounts.services import member_remove, member_set_role
from app.api.models import ApiToken
from app.api.services import api_token_create, api_token_revoke
from app.cases.models import Case
from tests.api.conftest import Api, raw_token_for


def test_no_token(api_for, case):
    response = api_for(None).get("/api/v1/cases/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    assert response["WWW-Authenticate"] == 'Bearer realm="jium"'


def test_wrong_tokens(client, case, owner):
    good = api_token_create(user=owner.user, name="good")[1]
    for header in [
        "Bearer jium_not-a-real-token",
        f"Bearer {good}x",
        f"Token {good}",  # wrong scheme
        f"Basic {good}",
        "Bearer",
        "Bearer ",
        f"Bearer jium_{'a' * 300}",
    ]:
        response = client.get("/api/v1/cases/", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "invalid_token"
        assert "invalid_token" in response["WWW-Authenticate"]
    assert client.get("/api/v1/cases/", headers={"Authorization": f"bearer {good}"}).status_code == 200


def test_revoked_token(client, case, owner):
    token, raw = api_token_create(user=owner.user, name="script")
    api = Api(client, raw)
    assert api.get("/api/v1/cases/").status_code == 200
    api_token_revoke(token=token, actor=owner.user)
    assert api.get("/api/v1/cases/").status_code == 401
    assert api.post("/api/v1/cases/", {"alias": "x", "jurisdiction": "KR"}).status_code == 401
    assert Case.objects.count() == 1


def test_removed_member_token_stops_working(client, case, owner, teammate):
    raw = api_token_create(user=teammate.user, name="script")[1]
    member_remove(membership=teammate, actor=owner.user)  # deactivates the account
    assert Api(client, raw).get("/api/v1/cases/").status_code == 401


def test_member_made_victim_is_refused(client, case, teammate):
    raw = api_token_create(user=teammate.user, name="script")[1]
    member_set_role(membership=teammate, role=Role.VICTIM, actor=None)
    assert Api(client, raw).get("/api/v1/cases/").status_code == 403


def test_user_without_organisation_is_refused(client, django_user_model):
    loner = django_user_model.objects.create_user(username="loner", password="x" * 12)
    response = Api(client, raw_token_for(loner)).get("/api/v1/cases/")
    assert response.status_code == 403


def test_session_cookie_without_token_is_401(client, case, owner):
    client.force_login(owner.user)
    assert client.get(f"/cases/{case.pk}/").status_code == 200  # the session itself works for the web
    for response in [
        client.get("/api/v1/cases/"),
        client.get(f"/api/v1/cases/{case.pk}/"),
        client.post("/api/v1/cases/", {"alias": "x", "jurisdiction": "KR"}, content_type="application/json"),
    ]:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "missing_token"
    assert Case.objects.count() == 1


def test_token_decides_who_acts_not_the_session(client, case, owner, outsider):
    """A session of one person and a token of another: the request is the token's person's."""
    client.force_login(owner.user)
    api = Api(client, api_token_create(user=outsider.user, name="script")[1])
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api.get("/api/v1/cases/").json()["results"] == []


def test_no_csrf_token_needed_with_bearer(case, owner):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)  # a browser session is present, yet only the token counts
    api = Api(strict, api_token_create(user=owner.user, name="script")[1])
    assert api.post("/api/v1/cases/", {"alias": "From a script", "jurisdiction": "KR"}).status_code == 201


def test_last_used_at_is_recorded(client, case, owner):
    token, raw = api_token_create(user=owner.user, name="script")
    assert token.last_used_at is None
    Api(client, raw).get("/api/v1/cases/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    Api(client, raw).get("/api/v1/cases/")
    token.refresh_from_db()
    assert token.last_used_at == first  # not written again within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    Api(client, raw).get("/api/v1/cases/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)
    assert token.last_used_at <= timezone.now()


def test_wrong_method_is_405(api_for, case, owner):
    api = api_for(owner)
    response = api.call("delete", f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert api.call("put", "/api/v1/cases/")["Allow"] == "GET, POST"
    assert api.call("delete", f"/api/v1/cases/{case.pk}/urls/").status_code == 405
    assert Case.objects.filter(pk=case.pk).exists()


def test_method_is_checked_after_the_token(api_for, case):
    assert api_for(None).call("delete", f"/api/v1/cases/{case.pk}/").status_code == 401


def test_unknown_address_is_json_404(api_for, owner):
    response = api_for(owner).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_errors_in_korean(api_for, case):
    response = api_for(None).client.get("/api/v1/cases/", headers={"Accept-Language": "ko"})
    assert response.status_code == 401
    assert response["Content-Language"] == "ko"
