#!/usr/bin/env bash
# From a push to the new version served, on the Docker-host target, and the
# daemon's own share of it. Everything is real and on loopback: tansu,
# dockerd, the local registry, the router (HAProxy) and a bare git repository;
# no AWS.
#
#   bench/pipeline_docker.sh              10 pushes, one after the other
#   bench/pipeline_docker.sh --pushes 20
#   DUMCEL_BENCH_PROFILE=debug bench/pipeline_docker.sh   the debug build instead of release
#
# Each push is a new commit of the example app (examples/app with
# examples/pipeline/deploy-docker) changing its page, sent as a signed GitHub
# delivery to `dumcel-pipeline webhook`. The clock starts when the delivery is
# sent and stops when the router serves the new page at the production URL
# (polled every 20 ms). The worker's log gives, per push, the time from the
# message to the start of the deploy and how much of it went to waiting on
# others (git, the registry, the image build and push); the rest of that is
# the daemon's own. From the deploy's start to the page served is the apply:
# the new container's start and health check (its interval is 1 s), and the
# route switch. The Markdown table goes to stdout, progress to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=dev/env.sh
. "$root/dev/env.sh"

pushes=10
while [ $# -gt 0 ]; do
  case "$1" in
    --pushes) pushes="${2:?--pushes needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pipeline_docker.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$pushes" in ''|*[!0-9]*|0) echo "pipeline_docker.sh: --pushes must be a positive number" >&2; exit 2 ;; esac
profile="${DUMCEL_BENCH_PROFILE:-release}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

say "starting (or finding) dockerd and the registry, the router, tansu"
bash "$root/dev/services/docker.sh" >&2
bash "$root/dev/services/router.sh" >&2
brokers="$(bash "$root/dev/services/kafka.sh")"
case "$brokers" in 127.*) ;; *) die "the broker is not on loopback" ;; esac

say "building the daemon ($profile)"
if [ "$profile" = release ]; then
  (cd "$root" && cargo build --release -p dumcel-pipeline-daemon --bin dumcel-pipeline) >&2
else
  (cd "$root" && cargo test --workspace --no-run) >&2
fi
daemon="$CARGO_TARGET_DIR/$profile/dumcel-pipeline"
[ -x "$daemon" ] || die "no $daemon"

# shellcheck source=dev/pipeline/local.sh
. "$root/dev/pipeline/local.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/dumcel-pipeline-docker-bench.XXXXXX")"
pipeline_setup "$work" "$brokers" 5m docker
cleanup() {
  pipeline_stop
  docker ps -aq --filter "label=dumcel.project=$PIPELINE_PROJECT" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
pipeline_start "$daemon" || die "the daemon did not start"
site="$PIPELINE_PROJECT.localhost"

# The first push makes the environment; it is not measured.
sha="$(pipeline_commit main "push 0")"
pipeline_deliver main "$sha" && pipeline_wait "$sha" || die "the first push did not deploy"

: >"$work/served.txt"
for i in $(seq 1 "$pushes"); do
  sha="$(pipeline_commit main "push $i")"
  served_ms="$(python3 - "$PIPELINE_PORT" "$PIPELINE_SECRET" "$PIPELINE_REPOSITORY" "$sha" "$site" "push $i" <<'PY'
import hashlib, hmac, json, socket, sys, time, urllib.request
port, secret, repository, sha, site, page = sys.argv[1:7]
body = json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": sha, "deleted": False,
                   "repository": {"full_name": repository,
                                  "clone_url": f"https://github.com/{repository}.git"}}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, headers={
    "X-GitHub-Event": "push", "X-GitHub-Delivery": f"bench-{sha}",
    "X-Hub-Signature-256": sig, "Content-Type": "application/json"})
start = time.monotonic()
assert urllib.request.urlopen(req).status == 202
def served():
    s = socket.create_connection(("127.0.0.1", 8480), timeout=5)
    s.sendall(f"GET / HTTP/1.1\r\nHost: {site}\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()
while served() != page:
    if time.monotonic() - start > 300:
        sys.exit("not served within 300 s")
    time.sleep(0.02)
print(round((time.monotonic() - start) * 1000))
PY
)" || die "push $i was not served"
  echo "$served_ms" >>"$work/served.txt"
  pipeline_wait "$sha" || die "push $i did not end"
  say "push $i/$pushes ($sha) served after ${served_ms} ms"
done

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
python3 - "$work/worker.log" "$work/served.txt" "$pushes" "$commit" "$cpu" "$profile" <<'EOF'
import re, statistics, sys
log, served, pushes, commit, cpu, profile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
rows = []
for line in open(log):
    if "deploy starts" in line:
        fields = dict(re.findall(r"(\w+)=(\d+)", line))
        rows.append({k: int(fields[k]) for k in ("message_to_deploy_ms", "external_ms", "overhead_ms")})
rows = rows[1:]  # the first push made the environment
served = [int(x) for x in open(served).read().split()]
if len(rows) != pushes or len(served) != pushes:
    sys.exit(f"expected {pushes} measured pushes, found {len(rows)} deploy starts and {len(served)} served")
for r, s in zip(rows, served):
    r["served_ms"] = s
    r["apply_ms"] = max(s - r["message_to_deploy_ms"], 0)
print(f"Pipeline daemon on the Docker-host target ({profile} build), commit {commit}; {pushes} pushes one after the other; {cpu}.\n")
print("| ms | median | mean | max |")
print("| --- | ---: | ---: | ---: |")
for key, label in (("served_ms", "push delivered to new page served"),
                   ("message_to_deploy_ms", "message to deploy start"),
                   ("external_ms", "waiting on git, the registry, build and push"),
                   ("overhead_ms", "the daemon's own share (before the deploy)"),
                   ("apply_ms", "deploy start to served (container start, health check, switch)")):
    v = [r[key] for r in rows]
    print(f"| {label} | {statistics.median(v):.0f} | {statistics.mean(v):.0f} | {max(v)} |")
EOF
