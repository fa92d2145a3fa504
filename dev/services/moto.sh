#!/usr/bin/env bash
# Starts moto (an AWS API emulator) on 127.0.0.1:5005 for the AWS provider's
# tests and the example stack. Idempotent: when it already answers, it only
# prints the endpoint. Installs `moto[server]` from PyPI into a venv under the
# cache the first time.
#
#   dev/services/moto.sh          # start (or find) it; prints the endpoint
#   dev/services/moto.sh stop     # stop the one this script started
#   MOTO_PORT=5006 dev/services/moto.sh   # a second one, e.g. for a benchmark
#
# MOTO_ECS_SERVICE_RUNNING makes new ECS services report their tasks running and
# their deployment COMPLETED (moto never rolls deployments by itself), so
# `wait_for_steady_state` has something to wait for.
# MOTO_IAM_LOAD_MANAGED_POLICIES loads AWS's managed policies, which moto
# leaves out by default: examples/stack.hcl attaches
# arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy.
set -euo pipefail
cd "$(dirname "$0")/../.."
. dev/env.sh
. dev/services/wait.sh

PORT="${MOTO_PORT:-5005}"
ENDPOINT="http://127.0.0.1:$PORT"
VENV="$DUMCEL_CACHE/moto-venv"
# A second moto on another port (MOTO_PORT=5006, for bench/refresh_calls.py)
# keeps its own pid file and log.
NAME=moto
[ "$PORT" = 5005 ] || NAME="moto-$PORT"
PIDFILE="$DUMCEL_CACHE/$NAME.pid"
LOG="$DUMCEL_CACHE/$NAME.log"
# Moto's request recorder (bench/refresh_calls.py) would write into its cwd.
RECORDING="$DUMCEL_CACHE/$NAME.recording"

answers() {
    python3 - "$ENDPOINT" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2).read()
PY
}

if [ "${1:-}" = stop ]; then
    if [ -f "$PIDFILE" ]; then
        kill "$(cat "$PIDFILE")" 2>/dev/null || true
        rm -f "$PIDFILE"
    fi
    exit 0
fi

if answers; then
    echo "$ENDPOINT"
    exit 0
fi

if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "installing moto[server] into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    "$VENV/bin/pip" install --quiet 'moto[server]' >&2
fi

MOTO_ECS_SERVICE_RUNNING="${MOTO_ECS_SERVICE_RUNNING:-3}" \
    MOTO_IAM_LOAD_MANAGED_POLICIES="${MOTO_IAM_LOAD_MANAGED_POLICIES:-true}" \
    MOTO_RECORDER_FILEPATH="$RECORDING" \
    nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
echo $! >"$PIDFILE"

wait_started moto "$PIDFILE" "$LOG" "$ENDPOINT"
