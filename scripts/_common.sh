# Shared by scripts/run.sh and scripts/test.sh: system packages and the Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Please run as root or install sudo: needed to install: $*" >&2; return 1; fi
}

# Install Debian/Ubuntu packages that are missing (apt-get update only when something is missing).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# WeasyPrint's libraries, a Korean-capable font, gettext for translations.
APP_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-noto-cjk gettext ca-certificates)

# JavaScript for the in-browser fingerprint page, from the npm registry as package-lock.json pins
# it (served by Django as static files). Node and npm from Debian when missing.
ensure_js_deps() {
  if ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  local stamp=node_modules/.jium-lock.sha256
  if [ ! -f "$stamp" ] || [ "$(sha256sum package-lock.json | cut -d' ' -f1)" != "$(cat "$stamp")" ]; then
    echo "==> installing JavaScript dependencies (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
  fi
}

ensure_python_env() {
  if ! command -v uv >/dev/null 2>&1; then
    if [ ! -x "$ROOT/.tools/bin/uv" ]; then
      echo "==> installing uv (Python package manager) into .tools/"
      python3 -m venv "$ROOT/.tools" 2>/dev/null || { ensure_packages python3-venv; python3 -m venv "$ROOT/.tools"; }
      "$ROOT/.tools/bin/pip" install -q "uv==0.13.8"
    fi
    export PATH="$ROOT/.tools/bin:$PATH"
  fi
  echo "==> installing Python dependencies (uv.lock)"
  UV_PYTHON_DOWNLOADS=never uv sync --frozen --python python3 -q "$@"
  ensure_js_deps
  # Translations are compiled, not committed.
  if compgen -G "locale/*/LC_MESSAGES/*.po" >/dev/null; then
    .venv/bin/python manage.py compilemessages --ignore=.venv -v 0
  fi
}
