"""Jium refuses to start without the secrets production needs (see docs/deploy.md).

Registered as Django system checks, so ``check``, ``migrate`` and ``runserver`` stop on them; the
web process (app/wsgi.py) and the Celery workers (app/celery.py) run the same checks at start.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

FERNET_KEY_RECIPE = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
DJANGO_KEY_RECIPE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def _invalid_keys(keys: list[str]) -> list[int]:
    from cryptography.fernet import Fernet

    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            bad.append(position)
    return bad


@checks.register("jium")
def secrets_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    missing = getattr(settings, "SECRETS_MISSING", [])
    if "SECRET_KEY" in missing:
        errors.append(
            checks.Error(
                "SECRET_KEY is not set. Outside the quick start every web process and worker must "
                "share one, so Jium does not make one up.",
                hint=f"Make one with: {DJANGO_KEY_RECIPE} and set SECRET_KEY (or SECRET_KEY_FILE).",
                id="jium.E001",
            )
        )
    if "JIUM_ENCRYPTION_KEYS" in missing:
        errors.append(
            checks.Error(
                "JIUM_ENCRYPTION_KEYS is not set. Outside the quick start every web process and "
                "worker must share the same keys, or they cannot read each other's data.",
                hint=f"Make a key with: {FERNET_KEY_RECIPE} and set JIUM_ENCRYPTION_KEYS "
                "(or JIUM_ENCRYPTION_KEYS_FILE). Keep a copy: data encrypted with it is lost without it.",
                id="jium.E002",
            )
        )
    else:
        bad = _invalid_keys(list(settings.ENCRYPTION_KEYS))
        if bad:
            errors.append(
                checks.Error(
                    "JIUM_ENCRYPTION_KEYS holds a value that is not an encryption key "
                    f"(position {', '.join(map(str, bad))} in the comma-separated list). A key is "
                    "32 random bytes in URL-safe base64 (44 characters).",
                    hint=f"Make a key with: {FERNET_KEY_RECIPE}",
                    id="jium.E003",
                )
            )
    return errors


def refuse_to_start_without_secrets(process: str) -> None:
    """For processes that do not run Django's checks themselves (gunicorn, Celery)."""
    errors = secrets_check()
    if errors:
        lines = [f"{e.id}: {e.msg}\n    HINT: {e.hint}" for e in errors]
        raise ImproperlyConfigured(f"Jium's {process} will not start:\n" + "\n".join(lines))
