#!/usr/bin/env bash
# A fresh machine's first run, measured: dev/demo.sh (or, with --ci, the CI
# job .ci/run, the whole test suite) from a new clone of this repository's
# HEAD with every cache empty and no service running:
#   - no cargo registry (a CARGO_HOME of its own, so every crate downloads),
#   - no build directory (CARGO_TARGET_DIR of its own),
#   - no DUMCEL_CACHE (moto's venv, tansu's build),
#   - no pip or npm cache,
#   - no Docker image, container, volume or build cache, and no dockerd,
#     registry, router, moto or tansu running.
# What it does not undo: the Debian packages already installed (on a new
# machine dev/services/docker.sh installs them in the background while cargo
# builds; that is mostly network time), the Rust toolchain, and the images in
# the local registries (dev/services/docker.sh keeps their storage under
# ~/.cache/dumcel; the demo pushes its own).
#
#   bench/first_run.sh --prune-docker [--ci] [WORKDIR]
#
# --prune-docker is required because the run stops the services the dev/
# scripts started on this machine and deletes every Docker image, container,
# volume and build cache. WORKDIR (default: a new temporary directory) holds
# the clone, the caches and the log (demo.log, or ci.log). Prints a Markdown
# table of the milestones, in minutes from the start, to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != --prune-docker ]; then
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "error: pass --prune-docker to confirm" >&2
  exit 2
fi
shift
job=demo
run=(bash dev/demo.sh)
if [ "${1:-}" = --ci ]; then
  job=ci
  run=(bash .ci/run)
  shift
fi
repo="$PWD"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
[ -z "$(ls -A "$work")" ] || { echo "error: $work is not empty" >&2; exit 2; }

. dev/env.sh
say() { printf '%s\n' "$*" >&2; }

say "stopping the services the dev/ scripts started (cache $DUMCEL_CACHE)"
bash dev/services/kafka.sh stop || true
bash dev/services/moto.sh stop || true
bash dev/services/router.sh stop || true
export DOCKER_HOST=unix:///var/run/docker.sock
if docker info >/dev/null 2>&1; then
  say "deleting every Docker image, container, volume and build cache"
  docker ps -aq | xargs -r docker rm -f >/dev/null
  docker system prune -af --volumes >/dev/null
fi
# dev/services/docker.sh keeps dockerd's and the registries' pid files under
# ~/.cache/dumcel whatever DUMCEL_CACHE says. Wait for each to exit: a dockerd
# still shutting down keeps its pid file, and the demo's dockerd would refuse
# to start.
for name in dockerd registry registry-auth; do
  pidfile="$HOME/.cache/dumcel/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
done

git clone -q "$repo" "$work/clone"
log="$work/$job.log"
say "${run[*]} in $work/clone, output in $log"
start=$(date +%s)
set +e
(
  cd "$work/clone"
  export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
    DUMCEL_CACHE="$work/cache" PIP_CACHE_DIR="$work/pip-cache" \
    npm_config_cache="$work/npm-cache"
  "${run[@]}"
) >"$log" 2>&1
rc=$?
set -e
total=$(($(date +%s) - start))

minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }
# The demo prints "(<step>: <seconds> s since the demo started)".
milestone() {
  sed -n "s/^($1: \([0-9]*\) s since the demo started)$/\1/p" "$log" | tail -n 1
}
broker_log="$work/cache/prepare/broker.log"

echo "| step | minutes from the start |"
echo "| --- | ---: |"
for step in "dumcel and dumcel-pipeline built" "services ready" "engine part done" \
  "broker ready" "finished"; do
  s=$(milestone "$step")
  [ -n "$s" ] && echo "| $step | $(minutes "$s") |"
done
if grep -q "Installed package" "$broker_log" 2>/dev/null; then
  echo "| tansu built (its log's last write) | $(minutes $(($(stat -c %Y "$broker_log") - start))) |"
fi
if [ "$job" = ci ]; then
  # dev/test.sh prints "== <step> (<seconds> s since the test run started)".
  sed -n 's/^== \(.*\) (\([0-9]*\) s since the test run started)$/\1|\2/p' "$log" |
    while IFS='|' read -r name s; do echo "| $name starts | $(minutes "$s") |"; done
  # cargo test prints one "test result" line per test binary.
  grep '^test result' "$log" | awk '{ p += $4; f += $6 } END { printf "| tests: %d passed, %d failed | |\n", p, f }'
fi
echo "| ${run[*]} exited with $rc | $(minutes "$total") |"
exit "$rc"
