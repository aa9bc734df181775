"""Jium settings: one module, configured from environment variables with safe defaults.

With no environment at all Jium runs in quick-start mode: SQLite and a Celery broker stored in a
SQLite file under ``JIUM_DATA_DIR``, so nothing but Python is needed. Production sets
``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (Redis). See docs/deploy.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from app.lib.crypto import generate_key
from app.lib.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything a Jium process creates (the SQLite database and its journal, key files, the broker
# file, media) is readable by its own user only: a world-readable database would hand the case
# data to every local account. Set JIUM_UMASK=027 if a web server in the group must read files.
os.umask(int(env_str("JIUM_UMASK", "077"), 8))
DATA_DIR = Path(env_str("JIUM_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_from_data_dir(filename: str, make: object) -> str:
    """A generated secret kept beside the quick-start database, so restarts keep sessions and data readable."""
    path = DATA_DIR / filename
    if not path.exists():
        # Created 0600 in one step: never readable by others, not even between write and chmod.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(make())  # type: ignore[operator]
    return path.read_text(encoding="utf-8").strip()


def _django_secret() -> str:
    from django.core.management.utils import get_random_secret_key

    return get_random_secret_key()


DEBUG = env_bool("DEBUG", False)
# Quick start (no DATABASE_URL: SQLite under JIUM_DATA_DIR) makes its own secrets and keeps them
# beside the database. Anywhere else every machine must share the same configured secrets: a
# missing or invalid one is a system-check error that stops check, migrate, the web process and
# the workers (app/core/checks.py). Until then a throw-away value keeps imports working; it is
# never written anywhere, so nothing can be stored under it for good.
QUICK_START = not env_str("DATABASE_URL")
_secret_key = env_str("SECRET_KEY")
_encryption_keys = env_list("JIUM_ENCRYPTION_KEYS")
if QUICK_START:
    _secret_key = _secret_key or _secret_from_data_dir("secret.key", _django_secret)
    _encryption_keys = _encryption_keys or [_secret_from_data_dir("encryption.key", generate_key)]
SECRETS_MISSING = [
    name
    for name, value in (("SECRET_KEY", _secret_key), ("JIUM_ENCRYPTION_KEYS", _encryption_keys))
    if not value
]
SECRET_KEY = _secret_key or _django_secret()
# First key encrypts; every key decrypts (rotation: python manage.py encryption_key_rotate).
ENCRYPTION_KEYS = _encryption_keys or [generate_key()]
# The Django admin sees every organisation: off unless asked for, and then two-step login only.
JIUM_ADMIN_ENABLED = env_bool("JIUM_ADMIN_ENABLED", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",  # django-ninja: its Swagger UI template and static files, served locally
    "app.core",
    "app.accounts",
    "app.cases",
    "app.fetching",
    "app.matching",
    "app.faces",
    "app.platforms",
    "app.notices",
    "app.tracking",
    "app.web",
    "app.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: a static script run as a worker takes the CSP of its own response, and the
    # fingerprinting worker must compile WebAssembly, which the page's own policy allows.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "app.core.uploads.UploadLimitMiddleware",  # before CSRF: its check is the first to read the body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "app.core.middleware.UserTimezoneMiddleware",
    "app.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "app.urls"
WSGI_APPLICATION = "app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "app.accounts.context_processors.membership",
            ],
        },
    },
]

# Connections are kept for DATABASE_CONN_MAX_AGE seconds by web and worker processes alike (a
# worker scanning a URL a second would otherwise start a PostgreSQL backend a second; see
# app/celery.py), and checked before each request or task reuses one, so one the server dropped
# is replaced instead of failing the request or task.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'jium.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker processes in tests must see the test database, so it lives in a file, not in memory.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "auth.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "case_list"
LOGOUT_REDIRECT_URL = "login"
# Where the quick-exit button lands once the session is ended; empty: a neutral page of our own.
QUICK_EXIT_URL = env_str("QUICK_EXIT_URL", "https://www.google.com/search?q=weather")

# Login throttling.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.5)
# Two counts (app/core/axes_handler.py): per username and address, and per address over all usernames.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]
AXES_IP_FAILURE_LIMIT = env_int("AXES_IP_FAILURE_LIMIT", 20)
AXES_HANDLER = "app.core.axes_handler.AxesTwoLimitHandler"
# The client address comes from X-Forwarded-For only when Jium is told how many proxies are in
# front of it (app/core/client_ip.py); otherwise REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "app.core.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

# i18n: Korean and English are equals.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["app.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Pages show times in the reader's organisation's zone (Organization.time_zone), whatever the
# language. New organisations take their country from here: Jium is made in Korea first.
JIUM_COUNTRY = env_str("JIUM_COUNTRY", "KR")
# Only for screens nobody is logged in to, and for code that has no organisation at hand.
LANGUAGE_TIME_ZONES = {"ko": "Asia/Seoul", "en": "UTC"}

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[Any] = [BASE_DIR / "static"]  # paths, and (prefix, path) pairs
# JavaScript from the npm registry (package-lock.json, installed by scripts/_common.sh): only the
# built files the /fingerprint/ page loads, served like any other static file.
_OPENCV_JS = BASE_DIR / "node_modules" / "@techstark" / "opencv-js" / "dist"
if _OPENCV_JS.is_dir():
    STATICFILES_DIRS.append(("vendor/opencv-js", _OPENCV_JS))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# The NGO-wide PDQ index files, one per organisation, memory-mapped by every process of the
# machine (app/matching/services.py). Local disk; not shared between machines.
PDQ_INDEX_DIR = Path(env_str("JIUM_PDQ_INDEX_DIR", str(DATA_DIR / "pdq-index")))

# Security defaults: safe on a shared device (short sessions, nothing cached).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 4)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # "no-referrer" makes browsers send Origin: null, which fails CSRF
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_HTTPS = SITE_URL.startswith("https://")
# One year of HSTS whenever the public address is https (browsers then refuse plain http).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _HTTPS and not DEBUG else 0)
# includeSubDomains and preload from jium.example.org cover only *.jium.example.org, and preload
# does nothing until someone submits the domain to the browsers' list, so both are safe defaults.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# How many proxies (nginx...) stand in front of Jium and append to X-Forwarded-For; 0: none, the
# header is ignored. Login throttling reads the client's address from it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
# Redirect http to https here too; on by default only when the proxy tells Django which is which.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS and BEHIND_TLS_PROXY and not DEBUG)

# Content-Security-Policy (django-csp): scripts only from this site's static files, no inline
# script or handler anywhere. A view that needs more says so itself (csp.decorators.csp_update,
# e.g. 'wasm-unsafe-eval' for the in-browser fingerprinting page), never the whole site.
# Inline styles stay allowed: charts carry a style attribute; script injection is the risk CSP stops.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Email (notices and notifications).
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jium@localhost")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# Celery. Quick start uses a broker kept in a SQLite file: no server needed.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "jium")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
# The SQLite broker answers one poll per ~0.5 s: workers must reserve a few tasks at a time or they
# idle (pipeline overhead 2.6x -> 1.18x with 8). Tasks reserved by a worker that dies are queued
# again by the stuck-scan sweep. On Redis one at a time keeps redelivery exact.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int(
    "CELERY_PREFETCH_MULTIPLIER", 8 if CELERY_BROKER_URL.startswith("sqla+") else 1
)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # How long a task taken by a worker that vanished (SIGKILL, power loss) waits before redelivery.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # A sweep for such tasks runs every interval x throttle seconds (kombu's defaults: 10 x 10).
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    }
CELERY_BROKER_POOL_LIMIT = env_int("CELERY_BROKER_POOL_LIMIT", 10)
# Celery's Django fix-up closes every database connection before and after each task unless this
# is set; then it closes them only every this many tasks. Set high so that DATABASE_CONN_MAX_AGE
# decides instead, as in the web: app/celery.py closes a connection that is too old or broken
# around each task with Django's own close_old_connections().
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "recover-stuck-scans": {"task": "cases.recover_stuck_scans", "schedule": 300.0},
    # Tracking: each run reads only what is due (index on next_check_at), in bounded batches.
    "tracking-dispatch-due-rechecks": {"task": "tracking.dispatch_due_rechecks", "schedule": 60.0},
    "tracking-dispatch-due-watches": {"task": "tracking.dispatch_due_watches", "schedule": 300.0},
    "tracking-sweep": {"task": "tracking.sweep", "schedule": 300.0},
    # Face stage: faces of group photos waiting for a pick are kept at most a day.
    "faces-expire-pending": {"task": "faces.expire_pending", "schedule": 3600.0},
    # Webhooks: an old signing secret is erased once its overlap after a rotation has ended.
    "webhooks-expire-old-secrets": {"task": "api.expire_webhook_secrets", "schedule": 3600.0},
    # Fetch once per organisation and re-check window: expired shared fetches are deleted.
    "fetching-expire-shared": {"task": "fetching.expire_shared_fetches", "schedule": 600.0},
}

# Fetching (see app/lib/http.py). Private networks can only be reached when listed here.
FETCH_ALLOWED_PRIVATE_NETWORKS = env_list("FETCH_ALLOWED_PRIVATE_NETWORKS")
FETCH_PROXY = env_str("FETCH_PROXY") or None
# Where abuse contacts of unknown hosts are looked up (app/platforms/rdap.py); a mirror can stand in.
RDAP_BASE_URL = env_str("RDAP_BASE_URL", "https://rdap.org")
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 50 * 1024 * 1024)
FETCH_CONNECT_TIMEOUT = env_float("FETCH_CONNECT_TIMEOUT", 10.0)
FETCH_TOTAL_TIMEOUT = env_float("FETCH_TOTAL_TIMEOUT", 25.0)
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 5)
FETCH_USER_AGENT = env_str("FETCH_USER_AGENT", "")  # empty: app.lib.http.DEFAULT_USER_AGENT
FETCH_MAX_VIDEO_FRAMES = env_int("FETCH_MAX_VIDEO_FRAMES", 40)
FETCH_MEDIA_WORKERS = env_int("FETCH_MEDIA_WORKERS", 4)
FETCH_SCAN_TIME_BUDGET = env_float("FETCH_SCAN_TIME_BUDGET", 300.0)
FETCH_MAX_MEDIA_PER_PAGE = env_int("FETCH_MAX_MEDIA_PER_PAGE", 200)
FETCH_MAX_PIXELS = env_int("FETCH_MAX_PIXELS", 40_000_000)
FETCH_PER_HOST_CONCURRENCY = env_int("FETCH_PER_HOST_CONCURRENCY", 4)
FETCH_RETRIES = env_int("FETCH_RETRIES", 2)
# After a webhook secret is rotated, deliveries are signed with the old one too for this long
# (docs/api.md), so the receiving system can switch without refusing anything.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
# A reported address is fetched once per organisation in this window; the other cases that report
# it match the stored candidate features. Default: the shortest re-check interval
# (app/tracking/schedule.py, 6 h). 0 switches reuse off.
FETCH_REUSE_WINDOW_HOURS = env_float("FETCH_REUSE_WINDOW_HOURS", 6.0)
# The first wait before a failed webhook delivery is tried again; it doubles each time, up to an hour.
WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 30.0)

# Uploads of reference images.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("UPLOAD_MAX_FILES", 200)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
REFERENCE_MAX_BYTES = env_int("REFERENCE_MAX_BYTES", 60 * 1024 * 1024)
# Uploads never touch disk (app/core/uploads.py): each file is kept in memory up to this cap, and a
# request whose Content-Length is larger than UPLOAD_MAX_REQUEST_BYTES is refused before it is read.
# Peak memory per upload request is about UPLOAD_MAX_REQUEST_BYTES.
FILE_UPLOAD_HANDLERS = ["app.core.uploads.MemoryOnlyUploadHandler"]
UPLOAD_MAX_FILE_BYTES = REFERENCE_MAX_BYTES
UPLOAD_MAX_REQUEST_BYTES = env_int("UPLOAD_MAX_REQUEST_BYTES", 100 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
