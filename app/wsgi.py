import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: without the production secrets the web process does not start.
from app.core.checks import refuse_to_start_without_secrets  # noqa: E402

refuse_to_start_without_secrets("web process")
