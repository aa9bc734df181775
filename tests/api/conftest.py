"""API test helpers: tokens for the usual users and a small client that speaks JSON with a bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from app.accounts.models import Membership
from app.api.models import ApiToken
from app.api.services import api_token_create, token_sha256


class Api:
    """Django's test client with an Authorization header on every request (or none, for token=None)."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, headers=self._headers())

    def post(
        self,
        path: str,
        payload: Any = None,
        *,
        body: str | bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        data = body if body is not None else json.dumps(payload if payload is not None else {})
        return self.client.post(path, data, content_type=content_type, headers=self._headers())

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        if method == "get":
            return self.get(path)
        if method == "post":
            return self.post(path, payload)
        if payload is not None:
            return getattr(self.client, method)(
                path, json.dumps(payload), content_type="application/json", headers=self._headers()
            )
        return getattr(self.client, method)(path, headers=self._headers())


def raw_token_for(user: Any, name: str = "test") -> str:
    """A token row written the way the service writes it, for people the service would refuse."""
    raw = f"jium_test-{user.pk}-{name}"
    ApiToken.objects.create(user=user, name=name, prefix=raw[:11], token_sha256=token_sha256(raw))
    return raw


@pytest.fixture
def api_for(client: Client):  # type: ignore[no-untyped-def]
    """api_for(membership) -> Api acting with a fresh token of that member (victims included)."""

    def make(membership: Membership | None, *, token: str | None = None) -> Api:
        if token is None and membership is not None:
            if membership.is_staff_role:
                token = api_token_create(user=membership.user, name="test")[1]
            else:
                token = raw_token_for(membership.user)
        return Api(client, token)

    return make
