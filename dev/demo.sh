#!/usr/bin/env bash
# The demo: a whole stack on this machine, no cloud account. Builds dumcel,
# starts a local Docker engine (dev/services/docker.sh), then, in a scratch
# copy of examples/local and examples/app: init, plan, apply (builds the app's
# image, runs two containers on their own network), fetches each URL, a no-op
# plan, a changed page that rebuilds the image and replaces the containers,
# and destroy, checked to leave nothing behind. Then the reference AWS stack
# (examples/stack.hcl: ECS behind an ALB, ECR, S3, DynamoDB) against moto, an
# AWS API emulator on loopback (dev/services/moto.sh): apply, a no-op plan, a
# new image tag rolled out in place, destroy. Last, the pipeline daemon
# (dev/pipeline/local.sh): a signed GitHub push delivery to its webhook, queued
# on Kafka (tansu, dev/services/kafka.sh), built, pushed to the local registry
# standing in for ECR, rolled out on ECS; then a preview branch, up and gone
# with its branch. Nothing reaches AWS.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dumcel-target}"

# Both binaries in one build: one feature resolution, no second compile.
cargo build --release -p dumcel -p dumcel-pipeline-daemon --bins
dumcel="$CARGO_TARGET_DIR/release/dumcel"
bash dev/services/docker.sh
export DOCKER_HOST=unix:///var/run/docker.sock

work="$(mktemp -d)"
cp -r examples/local examples/app "$work/"
cp "$(command -v busybox)" "$work/app/busybox"
stack="$work/local"
cleanup() {
  # Whatever happened, leave no container, network, volume or image behind.
  "$dumcel" -chdir="$stack" destroy -auto-approve >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ dumcel %s\033[0m\n' "$*"; "$dumcel" -chdir="$stack" "$@"; }
fetch_all() {
  for url in $("$dumcel" -chdir="$stack" output -json urls | grep -o 'http://[^"]*'); do
    printf '\n\033[1m$ curl %s\033[0m\n' "$url"
    curl -fsS "$url"
  done
}

step init
step plan
step apply -auto-approve
step output
fetch_all
set +e
step plan -detailed-exitcode
code=$?
set -e
[ "$code" = 0 ] || { echo "expected a no-op plan (exit 0), got $code" >&2; exit 1; }

echo; echo "Changing the page: the context hash changes, so the image is rebuilt and the containers replaced."
echo '<h1>Hello again: a new page, a new image, new containers.</h1>' >"$work/app/www/index.html"
step apply -auto-approve
fetch_all

step destroy -auto-approve
left=$(docker ps -aq --filter name=dumcel-demo; docker network ls -q --filter name=dumcel-demo; docker volume ls -q --filter name=dumcel-demo)
[ -z "$left" ] || { echo "destroy left Docker objects behind: $left" >&2; exit 1; }
echo; echo "Local stack: built, served, rebuilt on change, destroyed; nothing left in Docker."

echo; echo "Now the reference AWS stack, against the emulator."
AWS_ENDPOINT_URL="$(bash dev/services/moto.sh)"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
mkdir "$work/aws"
cp examples/stack.hcl "$work/aws/"
stack="$work/aws"
# A name of its own, so the demo can run again against the same emulator.
export DUMCEL_VAR_name="demo-$(date +%s)"
cleanup_aws() {
  "$dumcel" -chdir="$stack" destroy -auto-approve >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup_aws EXIT
step init
step apply -auto-approve
step output
set +e
step plan -detailed-exitcode
code=$?
set -e
[ "$code" = 0 ] || { echo "expected a no-op plan (exit 0), got $code" >&2; exit 1; }
echo; echo "A new image tag: a new task definition revision, the service updated in place."
step apply -auto-approve -var image_tag=v2
step destroy -auto-approve -var image_tag=v2

echo; echo "Now the pipeline daemon: a git push becomes a deployment."
brokers="$(bash dev/services/kafka.sh)"
# shellcheck source=dev/pipeline/local.sh
. dev/pipeline/local.sh
mkdir "$work/pipeline"
pipeline_setup "$work/pipeline" "$brokers"
trap 'pipeline_stop; rm -rf "$work"' EXIT
pipeline_start "$CARGO_TARGET_DIR/release/dumcel-pipeline"
# What the worker did, event by event.
events() { grep "sha=$1" "$work/pipeline/worker.log" | grep -o 'event=[a-z_"]*' | tr -d '"' | sed 's/^event=/  /'; }
show() { printf '\n\033[1m%s\033[0m\n' "$*"; }

sha="$(git -C "$work/pipeline/app" rev-parse HEAD)"
show "push to main ($sha): webhook -> Kafka -> worker"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
events "$sha"
grep -q 'event="deploy_succeeded"' "$work/pipeline/worker.log" || { tail -n 30 "$work/pipeline/worker.log"; exit 1; }
show "ECS now runs:"
# Asked of ECS with boto3 from moto's venv, not through dumcel.
aws_image() {
  "${DUMCEL_CACHE:-$HOME/.cache/dumcel}/moto-venv/bin/python3" - "$1" <<'PY'
import os, sys, boto3
ecs = boto3.client("ecs", region_name=os.environ["AWS_REGION"],
                   endpoint_url=os.environ["AWS_ENDPOINT_URL"])
svc = ecs.describe_services(cluster=sys.argv[1], services=["app"])["services"][0]
td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
print(f"  {sys.argv[1]}/app runs {td['containerDefinitions'][0]['image']}")
PY
}
aws_image "$PIPELINE_PROJECT-production"

preview="$(pipeline_commit feature "a preview of the next change")"
show "push to branch feature ($preview): a preview environment of its own"
pipeline_deliver feature "$preview"
pipeline_wait "$preview"
events "$preview"
aws_image "$PIPELINE_PROJECT-preview-feature"
show "branch feature deleted: the preview goes away"
git -C "$work/pipeline/app" push --quiet origin :feature
pipeline_deliver feature "$preview" deleted
for _ in $(seq 1 300); do
  grep -q 'event="preview_destroyed"' "$work/pipeline/worker.log" && break
  sleep 0.2
done
events "$preview" | tail -n 1
grep -q 'event="preview_destroyed"' "$work/pipeline/worker.log" || { tail -n 30 "$work/pipeline/worker.log"; exit 1; }
pipeline_stop
echo; echo "Demo finished: the local stack on Docker, the AWS stack on the emulator, and a push deployed by the pipeline daemon."
