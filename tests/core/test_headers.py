"""Headers: a Content-Security-Policy on every page, HSTS for https, a clean `check --deploy`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]


def script_src(policy: str) -> list[str]:
    for directive in policy.split(";"):
        parts = directive.split()
        if parts and parts[0] == "script-src":
            return parts[1:]
    return []


def test_every_page_has_a_policy_that_allows_only_our_own_scripts(client, owner, case):
    client.force_login(owner.user)
    for url in (reverse("login"), reverse("case_list"), reverse("case_detail", args=[case.pk])):
        policy = client.get(url)["Content-Security-Policy"]
        assert script_src(policy) == ["'self'"], (url, policy)
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_no_template_has_inline_script_or_event_handlers():
    """With script-src 'self' an inline script or onclick= would silently stop working."""
    offenders = []
    for path in sorted((REPO / "templates").rglob("*.html")):
        if "/pdf/" in str(path):  # rendered by WeasyPrint, never run by a browser
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path.name}: inline <script>")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        offenders += [
            f"{path.name}: javascript: URL"
            for m in re.findall(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", text, re.I)
        ]
    assert offenders == []


def production_env() -> dict[str, str]:
    """The production settings block of docs/deploy.md, with real secrets in place of the dots."""
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = text.split("<!-- production-env -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    env = dict(line.split("=", 1) for line in block.strip().splitlines())
    env["SECRET_KEY"] = "k" + "Zq8-Lm3Tx0Rb7Wn2Yc5Vh9Jd4Gf6Ps1Ae0Uo3Ki8Nl2Mr7Qt5Sx9Bw4Cv6Dy1Ez3F"
    env["JIUM_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return env


def manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set in this process by the browser tests (for their own ORM calls);
    # a deployment never has it, and check --deploy rightly refuses it.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "JIUM_", "DATABASE_URL", "SITE_URL", "SECURE_", "BEHIND_", "DJANGO_ALLOW_ASYNC_UNSAFE"))}  # fmt: skip
    base.update({"JIUM_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=base, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    done = manage(["check", "--deploy", "--fail-level", "WARNING"], production_env(), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_https_site_gets_a_year_of_hsts_and_ssl_redirect_can_be_set(tmp_path):
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    env = {**production_env(), "BEHIND_TLS_PROXY": "off"}
    assert manage(["shell", "-v", "0", "-c", code], env, tmp_path).stdout.split() == ["31536000", "False"]
    env["SECURE_SSL_REDIRECT"] = "on"
    assert manage(["shell", "-v", "0", "-c", code], env, tmp_path).stdout.split() == ["31536000", "True"]
    plain = {**env, "SITE_URL": "http://127.0.0.1:8000", "SECURE_SSL_REDIRECT": "off"}
    assert manage(["shell", "-v", "0", "-c", code], plain, tmp_path).stdout.split() == ["0", "False"]
