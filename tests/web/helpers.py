"""Access-test helpers: every view is checked with owner, teammate, outsider and victim users."""

from __future__ import annotations


def assert_not_found_for_outsider(client, outsider, url: str, method: str = "get", data=None) -> None:
    client.force_login(outsider.user)
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code} to another organisation"
