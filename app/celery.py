import os
import sys
from typing import Any

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init

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


@task_prerun.connect
@task_postrun.connect
def _close_old_db_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each web request: close a database connection
    that is older than DATABASE_CONN_MAX_AGE, left in a transaction, or broken (an error occurred
    on it and it no longer answers); keep the others for the next task.

    Celery's Django fix-up would close every connection here instead (a new PostgreSQL backend for
    every task); CELERY_DB_REUSE_MAX in settings turns that off. Eager tasks run inside the caller's
    request or transaction, whose connection is not theirs to close."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
