"""The smaller things a shared screen shows (issue 11.12)."""

from __future__ import annotations

from django.urls import reverse


def test_favicon_is_served(client, owner):
    for logged_in in (False, True):
        if logged_in:
            client.force_login(owner.user)
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/x-icon"
        assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'rel="icon"' in client.get(reverse("case_list")).content.decode()
