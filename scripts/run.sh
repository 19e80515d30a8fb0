#!/usr/bin/env bash
# Set up (first run only) and serve Grid Optimizer at http://127.0.0.1:${OPTIMIZER_PORT:-8000}:
# migrations, bundled datasets, the job orchestrator with its local workers, and the web app.
#
# Several instances may run from one checkout, each with its own OPTIMIZER_PORT and
# OPTIMIZER_DATA_DIR: each builds and serves its own copy of the frontend, in a private
# runtime folder that also holds its metrics files and is removed when it stops.
# SIGTERM, Ctrl-C or a closed terminal (SIGHUP) stops everything within 10 s; if this script is killed outright, the
# web server and the orchestrator are told to stop by the kernel (Linux) and the
# orchestrator also notices by itself.
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

# Seconds the processes get to stop after SIGTERM before they are killed.
STOP_GRACE_SECONDS=7

# A random signing key, made once and kept in the data folder (unless one is configured).
if [ -z "${OPTIMIZER_JWT_SECRET:-}" ]; then
  secret_file="$OPTIMIZER_DATA_DIR/.jwt-secret"
  if [ ! -s "$secret_file" ]; then
    (umask 077; python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$secret_file")
  fi
  OPTIMIZER_JWT_SECRET="$(cat "$secret_file")"
  export OPTIMIZER_JWT_SECRET
fi

# --- This instance's runtime folder: in memory (tmpfs) when possible, not in the data folder --
runtime_base() {
  local dir
  for dir in "${XDG_RUNTIME_DIR:-}" /dev/shm /tmp; do
    if [ -n "$dir" ] && [ -d "$dir" ] && [ -w "$dir" ]; then echo "$dir"; return; fi
  done
  echo /tmp
}
RUNTIME_BASE="$(runtime_base)"
# Folders left behind by instances that were killed outright.
for stale in "$RUNTIME_BASE"/grid-optimizer.*; do
  [ -f "$stale/owner" ] || continue
  owner="$(cat "$stale/owner" 2>/dev/null || true)"
  if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then rm -rf "$stale" 2>/dev/null || true; fi
done
RUN_DIR="$(mktemp -d "$RUNTIME_BASE/grid-optimizer.XXXXXX")"
echo "$$" > "$RUN_DIR/owner"

children=()
stop_children() {
  # SIGTERM to each child (its own process group), SIGKILL to what is left after the grace.
  trap 'for pid in "${children[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done' HUP INT TERM
  if [ "${#children[@]}" -gt 0 ]; then
    for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    (
      trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
      sleep "$STOP_GRACE_SECONDS" &
      sleeper=$!
      wait "$sleeper"
      for pid in "${children[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    ) &
    local timer=$!
    wait "${children[@]}" 2>/dev/null || true
    kill "$timer" 2>/dev/null || true
    # Anything a child left running in its group (e.g. a worker process) goes too.
    for pid in "${children[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  fi
  rm -rf "$RUN_DIR"
}
trap stop_children EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Prometheus multiprocess files are memory-mapped: on a full disk a write to one raises
# SIGBUS in the web server. They live in the runtime folder, one per instance.
export PROMETHEUS_MULTIPROC_DIR="$RUN_DIR/metrics"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

log "applying database migrations"
alembic upgrade head
log "registering bundled datasets"
python -m optimizer_app.services.bootstrap

# --- The frontend: built by this instance in its own web folder --------------------------
# Reflex compiles and builds the frontend on every production start. Sharing one `.web`
# let a second instance (or a test run) rebuild the pages a first one was serving. The
# shared `.web` now only holds the installed frontend packages (made once, under a lock);
# each instance copies its sources and links its node_modules.
reflex_version="$(python -c 'import importlib.metadata as m; print(m.version("reflex"))')"
shared_web_ready() {
  [ -d "$ROOT/.web/node_modules" ] &&
    [ -f "$ROOT/.web/reflex.install_frontend_packages.cached" ] &&
    grep -q "\"version\": \"$reflex_version\"" "$ROOT/.web/reflex.json" 2>/dev/null
}
mkdir -p "$REFLEX_DIR"
exec 8>"$REFLEX_DIR/web.lock"
if ! shared_web_ready; then
  flock 8
  if ! shared_web_ready; then
    log "installing the frontend packages (first run)"
    REFLEX_WEB_WORKDIR="$ROOT/.web" reflex compile --no-rich >/dev/null
  fi
  flock -u 8
fi
flock -s 8
mkdir "$RUN_DIR/web"
tar -C "$ROOT/.web" --exclude=./node_modules --exclude=./build --exclude=./.react-router \
  -cf - . | tar -C "$RUN_DIR/web" -xf -
flock -u 8
exec 8>&-
ln -s "$ROOT/.web/node_modules" "$RUN_DIR/web/node_modules"
export REFLEX_WEB_WORKDIR="$RUN_DIR/web"

# --- The processes -------------------------------------------------------------------------
# Each runs in a process group of its own: Ctrl-C reaches only this script, which stops them
# in order (the orchestrator hands its jobs back and shuts its workers down). They stay in
# this script's session: Linux shares the CPU between sessions first (autogroups) and only
# then by niceness, so in sessions of their own the local workers (niceness 10) got as much
# CPU as the web server and its requests waited behind the backtests. Each is also given
# PR_SET_PDEATHSIG: should this script die without cleaning up, the kernel sends SIGTERM.
CHILD_OF_THIS_SCRIPT='
import ctypes, os, signal, sys
try:
    os.setpgid(0, 0)  # its own process group, in this session
except OSError:
    pass  # already a group leader
try:
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass  # not Linux
if os.getppid() != int(sys.argv[1]):
    sys.exit("the parent process is gone")
os.execvp(sys.argv[2], sys.argv[2:])
'
start_child() {
  python -c "$CHILD_OF_THIS_SCRIPT" "$$" "$@" &
  children+=($!)
}

if [ "${OPTIMIZER_RUN_ORCHESTRATOR:-true}" != "false" ]; then
  log "starting the job orchestrator"
  start_child python -m optimizer_app.orchestration --parent-pid "$$"
fi

log "serving on http://$OPTIMIZER_HOST:$OPTIMIZER_PORT"
start_child reflex run --env prod --backend-host "$OPTIMIZER_HOST" --backend-port "$OPTIMIZER_PORT"

status=0
wait -n "${children[@]}" || status=$?
exit "$status"
