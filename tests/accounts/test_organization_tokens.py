"""Organisation admins list and revoke their organisation's API tokens, and only theirs."""

from __future__ import annotations

from django.urls import reverse

from app.accounts.models import AuditEvent
from app.api.models import ApiToken
from app.api.services import api_token_authenticate, api_token_create
from tests.web.helpers import status_for


def test_admin_lists_and_revokes_the_organisations_tokens(client, owner, teammate, outsider):
    mine, _raw = api_token_create(user=teammate.user, name="url import")
    theirs, their_raw = api_token_create(user=outsider.user, name="other org script")
    client.force_login(owner.user)
    page = client.get(reverse("organization_tokens")).content.decode()
    assert "url import" in page and mine.prefix in page and teammate.user.username in page
    assert "other org script" not in page and theirs.prefix not in page
    # Another organisation's token cannot be revoked from here.
    assert client.post(reverse("organization_token_revoke", args=[theirs.pk])).status_code == 404
    assert api_token_authenticate(raw=their_raw) is not None
    assert client.post(reverse("organization_token_revoke", args=[mine.pk])).status_code == 302
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="api.token.revoke", object_id=mine.pk, actor=owner.user).exists()


def test_only_admins_reach_the_page(client, owner, teammate, victim, outsider):
    token, _raw = api_token_create(user=owner.user, name="x")
    url = reverse("organization_tokens")
    assert status_for(client, owner, url) == 200
    assert status_for(client, teammate, url) == 404
    assert status_for(client, victim, url) == 404
    revoke = reverse("organization_token_revoke", args=[token.pk])
    for member in (teammate, victim, outsider):
        assert status_for(client, member, revoke, "post") == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
