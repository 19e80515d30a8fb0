#!/usr/bin/env bash
# Set up everything (Python packages, bun, Debian's Chromium) and run every test:
# unit, integration (SQLite and PostgreSQL, embedded and Dask cluster) and end-to-end (browser).
# Extra arguments go to pytest (e.g. ./scripts/test.sh tests/unit -x).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
. "$ROOT/scripts/setup.sh" requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
  log "installing Chromium (Debian package) for the browser tests"
  if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

log "lint and type check"
ruff check optimizer_app tests benchmarks
mypy optimizer_app

log "tests"
if [ "$#" -gt 0 ]; then
  python -m pytest "$@"
else
  # The browser tests start their own app (scripts/run.sh) for the whole session; the other
  # suites start and stop their own servers first, so the two never overlap.
  python -m pytest tests --ignore=tests/e2e
  log "browser tests"
  python -m pytest tests/e2e
fi
