#!/usr/bin/env bash
# Quick start: install everything and run Jium (web + worker) on SQLite with no other services.
source "$(dirname "$0")/_common.sh"
ensure_packages "${APP_PACKAGES[@]}"
ensure_python_env --no-dev
exec .venv/bin/python manage.py quickstart "$@"
