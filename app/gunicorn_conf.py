"""gunicorn settings for the web processes: ``gunicorn -c app/gunicorn_conf.py app.wsgi``.

Used by the quick start and by the production units in docs/deploy.md.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger("app.gunicorn")


def _build_pdq_indexes() -> None:
    from django.db import connection

    from app.matching.services import pdq_indexes_build_all

    try:
        count = pdq_indexes_build_all()
        logger.info("NGO-wide PDQ index built for %d organisation(s)", count)
    except Exception:
        # A web worker must still serve pages; the index is then built on first use.
        logger.exception("building the NGO-wide PDQ index at start failed")
    finally:
        connection.close()


def post_worker_init(worker: Any) -> threading.Thread:
    # Each web worker maps its organisations' shared PDQ index files as it starts (the first
    # process to find one missing builds it from the database), in the background so it
    # answers requests at once (a page that needs an index being built waits for it).
    # gunicorn ignores the return value; tests wait on it.
    builder = threading.Thread(target=_build_pdq_indexes, name="pdq-index-build", daemon=True)
    builder.start()
    return builder
