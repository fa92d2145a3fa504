#!/usr/bin/env bash
# The pipeline daemon's own overhead, from a push message to the start of its
# deploy, without the time spent waiting on others. Everything is real and on
# loopback: tansu, moto, dockerd, the local registry and a bare git repository.
#
#   bench/pipeline.sh              10 pushes, one after the other
#   bench/pipeline.sh --pushes 20
#
# Each push is a new commit of the example app (examples/app with
# examples/pipeline/deploy), sent
# as a signed GitHub delivery to `dumcel-pipeline webhook`, which queues it;
# `dumcel-pipeline worker` handles it. When the worker starts a deploy it logs
# (target dumcel_pipeline::timings) the time since the message was produced
# (its Kafka timestamp) and how much of it went to waiting on others:
# DynamoDB, git, ECR, the image build and the push. The rest is the daemon's
# own: reading the message, deciding, bookkeeping, publishing events. The
# next push is sent once the previous pipeline has ended. moto never rolls a
# service's second deployment, so from the second push on the rollout times
# out (after 1 s here) and is rolled back; that is after the deploy starts
# and not measured. The Markdown table goes to stdout, progress to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=dev/env.sh
. "$root/dev/env.sh"

pushes=10
while [ $# -gt 0 ]; do
  case "$1" in
    --pushes) pushes="${2:?--pushes needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pipeline.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$pushes" in ''|*[!0-9]*|0) echo "pipeline.sh: --pushes must be a positive number" >&2; exit 2 ;; esac

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# --- services -------------------------------------------------------------------

say "starting (or finding) dockerd and the registry, moto, tansu"
bash "$root/dev/services/docker.sh" >&2
AWS_ENDPOINT_URL="$(bash "$root/dev/services/moto.sh")"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
brokers="$(bash "$root/dev/services/kafka.sh")"
case "$brokers$AWS_ENDPOINT_URL" in *127.*127.*) ;; *) die "a service is not on loopback" ;; esac

say "building the daemon and dumcel (release)"
# dumcel applies the platform stack (the shared ALB and cluster) in pipeline_setup.
(cd "$root" && cargo build --release -p dumcel-pipeline-daemon -p dumcel --bins) >&2
daemon="$CARGO_TARGET_DIR/release/dumcel-pipeline"
export DUMCEL_BIN="$CARGO_TARGET_DIR/release/dumcel"

# shellcheck source=dev/pipeline/local.sh
. "$root/dev/pipeline/local.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/dumcel-pipeline-bench.XXXXXX")"
trap 'pipeline_stop; rm -rf "$work"' EXIT
pipeline_setup "$work" "$brokers" 1s
pipeline_start "$daemon" || die "the daemon did not start"

for i in $(seq 1 "$pushes"); do
  sha="$(pipeline_commit main "push $i")"
  pipeline_deliver main "$sha" || die "the webhook refused push $i"
  pipeline_wait "$sha" || die "push $i did not end"
  say "push $i/$pushes ($sha) done"
done

# --- the table ----------------------------------------------------------------------

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
python3 - "$work/worker.log" "$pushes" "$commit" "$cpu" <<'EOF'
import re, statistics, sys
log, pushes, commit, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = []
for line in open(log):
    if "deploy starts" not in line:
        continue
    fields = dict(re.findall(r"(\w+)=(\d+)", line))
    rows.append({k: int(fields[k]) for k in ("message_to_deploy_ms", "external_ms", "overhead_ms")})
if len(rows) != pushes:
    sys.exit(f"expected {pushes} deploy starts in the worker log, found {len(rows)}")
print(f"Pipeline daemon, commit {commit}; {pushes} pushes one after the other; {cpu}.\n")
print("| ms | p50 | mean | max |")
print("| --- | ---: | ---: | ---: |")
for key, label in (("message_to_deploy_ms", "message to deploy start"),
                   ("external_ms", "waiting on DynamoDB, git, ECR, build, push"),
                   ("overhead_ms", "the daemon's own overhead")):
    v = [r[key] for r in rows]
    print(f"| {label} | {statistics.median(v):.0f} | {statistics.mean(v):.0f} | {max(v)} |")
EOF
