import os
import sys
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")

app = Celery("jium")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_to_start_without_secrets(**kwargs: Any) -> None:
    """Workers run no system checks: without the production secrets they do not start."""
    from django.core.exceptions import ImproperlyConfigured

    from app.core.checks import refuse_to_start_without_secrets

    try:
        refuse_to_start_without_secrets("Celery process")
    except ImproperlyConfigured as exc:
        # Celery logs and ignores exceptions from signal handlers; SystemExit is the one that stops it.
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(1) from exc
