#!/usr/bin/env bash
# Webhook receiver throughput: signed GitHub push deliveries per second through
# the real path, all on loopback: HTTP -> size and signature checks -> push
# parsed -> produced to Kafka (a tansu broker, acks=all) -> 202.
#
#   bench/webhook.sh                         20,000 deliveries at concurrency 1, 8, 64
#   bench/webhook.sh --requests 5000         fewer deliveries per run
#   bench/webhook.sh --concurrency "1 16"    other concurrencies
#
# It starts (or finds) tansu with dev/services/kafka.sh, takes GitHub's first
# example branch push from @octokit/webhooks-examples (dev/fixtures/
# github-examples.sh), builds the daemon and the load generator
# (services/pipeline-daemon/examples/webhook_load.rs) in release mode, starts
# `dumcel-pipeline webhook` on a free 127.0.0.1 port with topics of its own,
# sends a warm-up, then one run per concurrency, and stops the daemon with
# SIGTERM. The Markdown table goes to stdout; progress to stderr. tansu is left
# running (stop it with `dev/services/kafka.sh stop`).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=dev/env.sh
. "$root/dev/env.sh"

requests=20000
concurrency="1 8 64"
warmup=500
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="${2:?--requests needs a number}"; shift 2 ;;
    --concurrency) concurrency="${2:?--concurrency needs a list, e.g. \"1 8 64\"}"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "webhook.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$requests" in ''|*[!0-9]*|0) echo "webhook.sh: --requests must be a positive number" >&2; exit 2 ;; esac

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed (to pick the payload and a free port)"

# --- broker and payload -------------------------------------------------------

say "starting (or finding) tansu"
brokers="$(bash "$root/dev/services/kafka.sh")"
case "$brokers" in 127.*) ;; *) die "the broker is not on loopback: $brokers" ;; esac
say "broker: $brokers"

index="$(bash "$root/dev/fixtures/github-examples.sh")"

work="$(mktemp -d "${TMPDIR:-/tmp}/dumcel-webhook-bench.XXXXXX")"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The first branch push among GitHub's examples (as the daemon's tests pick
# it), sent compact as GitHub does. Prints its repository and branch.
read -r repository branch < <(python3 - "$index" "$work/push.json" <<'EOF'
import json, sys
index, out = sys.argv[1], sys.argv[2]
events = json.load(open(index))
pushes = next(e["examples"] for e in events if e["name"] == "push")
push = next(p for p in pushes if p.get("ref", "").startswith("refs/heads/"))
with open(out, "w") as f:
    json.dump(push, f, separators=(",", ":"))
print(push["repository"]["full_name"], push["ref"][len("refs/heads/"):])
EOF
)
[ -n "${branch:-}" ] || die "no branch push among the examples in $index"
say "payload: GitHub's example push to $repository $branch ($(wc -c <"$work/push.json") bytes)"

# --- build ----------------------------------------------------------------------

say "building the daemon and the load generator (release)"
(cd "$root" && cargo build --release -p dumcel-pipeline-daemon \
  --bin dumcel-pipeline --example webhook_load) >&2
daemon="$CARGO_TARGET_DIR/release/dumcel-pipeline"
load="$CARGO_TARGET_DIR/release/examples/webhook_load"
for bin in "$daemon" "$load"; do
  [ -x "$bin" ] || die "the build left no $bin"
done

# --- daemon -----------------------------------------------------------------------

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Topics of this run only, so nothing collides with the tests or another run.
topic="dumcel.bench.webhook.$$.$(date +%s)"
secret="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/pipeline.hcl" <<EOF
kafka {
  brokers      = "$brokers"
  group        = "dumcel-bench-webhook-$$"
  push_topic   = "$topic"
  events_topic = "$topic.events"
  dlq_topic    = "$topic.dlq"
}
webhook {
  listen     = "127.0.0.1:$port"
  secret_env = "DUMCEL_BENCH_WEBHOOK_SECRET"
}
repository "$repository" {
  stack          = "."
  default_branch = "$branch"
}
EOF

say "starting dumcel-pipeline webhook on 127.0.0.1:$port (topic $topic)"
DUMCEL_BENCH_WEBHOOK_SECRET="$secret" DUMCEL_PUSH_SIGNING_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
  "$daemon" webhook --config "$work/pipeline.hcl" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
for _ in $(seq 1 150); do
  answers && break
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    tail -n 20 "$work/daemon.log" >&2
    die "the daemon exited at start"
  fi
  sleep 0.2
done
answers || { tail -n 20 "$work/daemon.log" >&2; die "the daemon never listened on $port"; }

url="http://127.0.0.1:$port/webhook"
run_load() {
  "$load" --url "$url" --secret "$secret" --payload "$work/push.json" \
    --requests "$1" --concurrency "$2"
}
# The first deliveries also open the producer's connection to the broker.
say "warm-up: $warmup deliveries"
run_load "$warmup" 8 >&2 || { tail -n 20 "$work/daemon.log" >&2; die "the warm-up failed"; }

# --- runs -------------------------------------------------------------------------

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2"; }
rows=()
loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
for c in $concurrency; do
  say "run: $requests deliveries, concurrency $c"
  line="$(run_load "$requests" "$c")" || {
    printf '%s\n' "$line" >&2
    tail -n 20 "$work/daemon.log" >&2
    die "the run at concurrency $c had failed deliveries"
  }
  say "$line"
  rows+=("| $c | $(field requests "$line") | $(field deliveries_per_s "$line") | $(field p50_ms "$line") | $(field p99_ms "$line") |")
done

say "stopping the daemon (SIGTERM)"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || { tail -n 20 "$work/daemon.log" >&2; die "the daemon did not stop cleanly"; }
daemon_pid=""

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
printf 'Webhook receiver, commit %s, %s; %s cores (%s), load average %s at the start;\n' \
  "$commit" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" "$loadavg"
printf "GitHub's example push to %s (%s bytes), tansu on %s, one keep-alive connection per concurrent sender.\n\n" \
  "$repository" "$(wc -c <"$work/push.json")" "$brokers"
echo "| concurrency | requests | deliveries/s | p50 ms | p99 ms |"
echo "| ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
