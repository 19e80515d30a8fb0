#!/usr/bin/env bash
# Set up (first run only) and serve Grid Optimizer at http://127.0.0.1:${OPTIMIZER_PORT:-8000}:
# migrations, bundled datasets, the job orchestrator with its local workers, and the web app.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
. "$ROOT/scripts/setup.sh" requirements.txt

export OPTIMIZER_ENV="${OPTIMIZER_ENV:-production}"
export OPTIMIZER_HOST="${OPTIMIZER_HOST:-127.0.0.1}"
export OPTIMIZER_PORT="${OPTIMIZER_PORT:-8000}"
export OPTIMIZER_DATA_DIR="${OPTIMIZER_DATA_DIR:-$ROOT/data}"
mkdir -p "$OPTIMIZER_DATA_DIR"
export OPTIMIZER_DATA_DIR="$(cd "$OPTIMIZER_DATA_DIR" && pwd)"

# A random signing key, made once and kept in the data folder (unless one is configured).
if [ -z "${OPTIMIZER_JWT_SECRET:-}" ]; then
  secret_file="$OPTIMIZER_DATA_DIR/.jwt-secret"
  if [ ! -s "$secret_file" ]; then
    (umask 077; python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$secret_file")
  fi
  OPTIMIZER_JWT_SECRET="$(cat "$secret_file")"
  export OPTIMIZER_JWT_SECRET
fi

# The web server and the orchestrator are separate processes: their metrics meet in one folder.
export PROMETHEUS_MULTIPROC_DIR="$OPTIMIZER_DATA_DIR/metrics"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

log "applying database migrations"
alembic upgrade head
log "registering bundled datasets"
python -m optimizer_app.services.bootstrap

children=()
cleanup() {
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ "${OPTIMIZER_RUN_ORCHESTRATOR:-true}" != "false" ]; then
  log "starting the job orchestrator"
  # Its own session: Ctrl-C reaches the orchestrator only through the TERM sent below, so it
  # hands its jobs back and shuts its worker processes down in order.
  setsid python -m optimizer_app.orchestration &
  children+=($!)
fi

log "serving on http://$OPTIMIZER_HOST:$OPTIMIZER_PORT"
reflex run --env prod --backend-host "$OPTIMIZER_HOST" --backend-port "$OPTIMIZER_PORT" &
children+=($!)
wait -n "${children[@]}"
