"""Creating, listing and revoking tokens: by service and by management command."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from app.accounts.models import AuditEvent
from app.api.models import ApiToken
from app.api.services import ApiTokenError, api_token_create, api_token_revoke
from tests.api.conftest import Api


def test_only_a_hash_is_stored(owner):
    token, raw = api_token_create(user=owner.user, name="  url import  ")
    assert raw.startswith("jium_") and len(raw) >= 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert stored["token_sha256"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"]) and len(stored["prefix"]) == 11
    assert stored["name"] == "url import"
    assert api_token_create(user=owner.user, name="again")[1] != raw
    event = AuditEvent.objects.get(action="api.token.create", object_id=token.pk)
    assert event.detail == {"user_id": owner.user.pk}


def test_refused_for_people_who_cannot_use_the_api(owner, victim, django_user_model):
    with pytest.raises(ApiTokenError):
        api_token_create(user=victim.user, name="x")
    with pytest.raises(ApiTokenError):
        api_token_create(user=django_user_model.objects.create_user("loner"), name="x")
    with pytest.raises(ApiTokenError):
        api_token_create(user=owner.user, name="   ")
    owner.user.is_active = False
    owner.user.save()
    with pytest.raises(ApiTokenError):
        api_token_create(user=owner.user, name="x")
    assert not ApiToken.objects.exists()


def test_revoke_is_recorded_once(owner):
    token, _raw = api_token_create(user=owner.user, name="x")
    api_token_revoke(token=token, actor=owner.user)
    first = token.revoked_at
    assert first is not None
    api_token_revoke(token=token, actor=owner.user)
    token.refresh_from_db()
    assert token.revoked_at == first
    assert AuditEvent.objects.filter(action="api.token.revoke", object_id=token.pk).count() == 1


def test_create_command_prints_the_token_once(client, case, teammate):
    out, err = StringIO(), StringIO()
    call_command("api_token_create", "bob", "--name", "nightly import", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("jium_")
    assert raw not in err.getvalue()
    assert "shown only this once" in err.getvalue()
    token = ApiToken.objects.get(user=teammate.user)
    assert token.name == "nightly import"
    assert Api(client, raw).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_create_command_errors(owner, victim):
    with pytest.raises(CommandError, match="No user named"):
        call_command("api_token_create", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="admins and caseworkers"):
        call_command("api_token_create", "vicky", "--name", "x")
    with pytest.raises(CommandError):
        call_command("api_token_create", "alice")  # --name is required


def test_list_and_revoke_commands(client, case, owner, teammate):
    token, raw = api_token_create(user=owner.user, name="script one")
    _other, raw_bob = api_token_create(user=teammate.user, name="script two")
    out = StringIO()
    call_command("api_token_list", stdout=out)
    listing = out.getvalue()
    assert "script one" in listing and "script two" in listing and token.prefix in listing
    assert raw not in listing and raw_bob not in listing

    call_command("api_token_revoke", str(token.pk), stdout=StringIO())
    assert Api(client, raw).get("/api/v1/cases/").status_code == 401
    assert Api(client, raw_bob).get("/api/v1/cases/").status_code == 200
    with pytest.raises(CommandError, match="No active token"):
        call_command("api_token_revoke", str(token.pk))

    call_command("api_token_revoke", "--user", "bob", stdout=StringIO())
    assert Api(client, raw_bob).get("/api/v1/cases/").status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token_revoke")


def test_an_expired_token_stops_working_everywhere(client, owner, case):
    from datetime import timedelta

    from django.utils import timezone

    token, raw = api_token_create(
        user=owner.user, name="project", expires_at=timezone.now() + timedelta(days=1)
    )
    api = Api(client, raw)
    assert api.call("get", "/api/v1/cases/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.call("get", "/api/v1/cases/").status_code == 401
    assert api.call("get", f"/api/v1/cases/{case.pk}/").status_code == 401
    with pytest.raises(ApiTokenError):
        api_token_create(user=owner.user, name="past", expires_at=timezone.now() - timedelta(days=1))
    out = StringIO()
    call_command("api_token_create", owner.user.username, "--name", "cli", "--expires-in-days", "30", stdout=out, stderr=StringIO())  # fmt: skip
    made = ApiToken.objects.get(name="cli")
    assert made.expires_at is not None and 29 <= (made.expires_at - timezone.now()).days <= 30
