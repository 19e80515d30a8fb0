#!/usr/bin/env bash
# Idempotent set-up shared by run.sh and test.sh: .venv with pinned requirements, bun for
# Reflex's frontend build. Source it (". scripts/setup.sh [requirements-file]").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REQUIREMENTS="${1:-requirements.txt}"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.11+ is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the requirement files changed.
digest="$(cat requirements*.txt | sha256sum | cut -c1-16)"
stamp=".venv/.installed-$(basename "$REQUIREMENTS" .txt)-$digest"
if [ ! -f "$stamp" ]; then
  log "installing Python packages from $REQUIREMENTS"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  find .venv -maxdepth 1 -name '.installed-*' ! -name "*-$digest" -delete
  touch "$stamp"
fi

# Reflex builds its frontend with bun; we take bun from the npm registry.
if [ ! -x node_modules/.bin/bun ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is required (apt-get install -y npm)" >&2; exit 1; }
  log "installing bun (npm registry)"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi

export PATH="$ROOT/.venv/bin:$ROOT/node_modules/.bin:$PATH"
export VIRTUAL_ENV="$ROOT/.venv"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export REFLEX_DIR="$ROOT/.reflex-home"
export BUN_INSTALL_CACHE_DIR="$ROOT/.bun-cache"
export REFLEX_BUN_PATH="$ROOT/node_modules/.bin/bun"
if [ -z "${NPM_CONFIG_REGISTRY:-}" ] && command -v npm >/dev/null 2>&1; then
  NPM_CONFIG_REGISTRY="$(npm config get registry 2>/dev/null || true)"
  export NPM_CONFIG_REGISTRY
fi
