#!/usr/bin/env bash
# Install everything and run the whole test suite against PostgreSQL + Redis (started if they are down).
source "$(dirname "$0")/_common.sh"
ensure_packages "${APP_PACKAGES[@]}" postgresql redis-server chromium poppler-utils
ensure_python_env

# Services: on these machines they usually run already; start them when they do not.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "==> starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || as_root service postgresql start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/jium}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/7}"
export JIUM_DATA_DIR="${JIUM_DATA_DIR:-$ROOT/data/test}"
export PYTHONUNBUFFERED=1
# Outside the quick start Jium refuses to run without shared secrets (app/core/checks.py): one pair per run.
export SECRET_KEY="${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')}"
export JIUM_ENCRYPTION_KEYS="${JIUM_ENCRYPTION_KEYS:-$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')}"

echo "==> lint (ruff) and types (mypy)"
.venv/bin/ruff check .
.venv/bin/mypy app

echo "==> tests"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: that is a broken checkout, not a pass.
if [ $status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit $status
