"""The OpenAPI schema at /api/v1/openapi.json and the interactive docs (logged-in staff only, no CDN)."""

from __future__ import annotations

import re


def test_schema_is_openapi_3_and_lists_every_route(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/cases/" in paths
    assert set(paths["/api/v1/cases/{case_id}/"]) == {"get", "patch"}
    assert "/api/v1/cases/{case_id}/references/hashes/" in paths
    # Bearer authentication is documented, and every operation uses it.
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("security") == [{"BearerToken": []}], (method, path)
            # The one error shape is documented on every operation.
            assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }


def test_docs_need_a_staff_login(client, owner, victim):
    assert client.get("/api/v1/docs/").status_code == 302  # to the login page
    client.force_login(victim.user)
    assert client.get("/api/v1/docs/").status_code == 404
    client.force_login(owner.user)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts
    assert "cdn" not in html.lower()
    # No inline script: a CSP of script-src 'self' holds (the settings block is JSON data, not code).
    assert re.findall(r"<script(?![^>]*(src=|application/json))[^>]*>", html) == []
    assert "/api/v1/openapi.json" in html
