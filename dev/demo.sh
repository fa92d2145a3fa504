#!/usr/bin/env bash
# The demo: a whole stack on this machine, no cloud account. Builds dumcel,
# starts a local Docker engine (dev/services/docker.sh), then, in a scratch
# copy of examples/local and examples/app: init, plan, apply (builds the app's
# image, runs two containers on their own network), fetches each URL, a no-op
# plan, a changed page that rebuilds the image and replaces the containers,
# and destroy, checked to leave nothing behind. Then the reference AWS stack
# (examples/stack.hcl: ECS on Fargate in its own VPC behind an HTTPS ALB, with
# its DNS zone and certificate, logs, ECR, S3, a secret and autoscaling)
# against moto, an AWS API emulator on loopback (dev/services/moto.sh):
# apply, a no-op plan, a new image tag rolled out in place, destroy. Last, the pipeline daemon
# (dev/pipeline/local.sh): signed GitHub push deliveries to its webhook, queued
# on Kafka (tansu, dev/services/kafka.sh), built and pushed to the local
# registry. On this Docker host, behind the router (HAProxy,
# dev/services/router.sh), each release is fetched at its URL: a new page, a
# release failing its health check that is never served, a preview at its own
# URL that is gone with its branch. Then the same on ECS (moto), where nothing
# serves the app. Nothing reaches AWS.
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
start=$SECONDS
elapsed() { printf '\n(%s: %d s since the demo started)\n' "$1" $((SECONDS - start)); }

# The services install and the broker builds while cargo builds.
. dev/services/prepare.sh
prepare_start

# The demo profile (Cargo.toml): dependencies unoptimised. On a fresh 2-core
# machine this build takes 12 minutes, the dev profile's 33 (README, "First
# run"). Both binaries in one build: one feature resolution, no second compile.
cargo build --workspace --bins --profile demo
bin="$CARGO_TARGET_DIR/demo"
dumcel="$bin/dumcel"
elapsed "dumcel and dumcel-pipeline built"
prepare_wait services
elapsed "services ready"
export DOCKER_HOST=unix:///var/run/docker.sock

# tests/docker_local_stack.rs applies examples/local with the same defaults
# (objects named dumcel-demo*, ports 18081 and 18082): one at a time.
exec 9>"${TMPDIR:-/tmp}/dumcel-demo.lock"
flock -n 9 || { echo "waiting for another run of examples/local to finish"; flock 9; }

work="$(mktemp -d)"
cp -r examples/local examples/app "$work/"
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
flock -u 9

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
# The app's secret: a sensitive variable, never shown in plans or logs.
DUMCEL_VAR_app_secret="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export DUMCEL_VAR_app_secret
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
# Without waiting for the rollout: moto never completes a second ECS
# deployment (UpdateService keeps the first one as PRIMARY), so a wait would
# run into the service's update timeout. Against AWS, leave it on.
step apply -auto-approve -var image_tag=v2 -var wait_for_steady_state=false
step destroy -auto-approve -var image_tag=v2

elapsed "engine part done"
prepare_wait broker
brokers="$(bash dev/services/kafka.sh)"
elapsed "broker ready"
# pipeline_setup applies the ECS platform stack with it.
export DUMCEL_BIN="$dumcel"
# shellcheck source=dev/pipeline/local.sh
. dev/pipeline/local.sh
# What the worker did, event by event.
events() { grep "sha=$1" "$PIPELINE_WORK/worker.log" | grep -o 'event=[a-z_"]*' | tr -d '"' | sed 's/^event=/  /'; }
show() { printf '\n\033[1m%s\033[0m\n' "$*"; }
fetch() { printf '$ curl %s\n' "$1"; curl -sS -w '  (HTTP %{http_code})\n' "$1"; }
# Waits (up to a minute) until the worker logs EVENT.
wait_event() {
  local _
  for _ in $(seq 1 300); do
    grep -q "event=\"$1\"" "$PIPELINE_WORK/worker.log" && return 0
    sleep 0.2
  done
  tail -n 30 "$PIPELINE_WORK/worker.log" >&2
  return 1
}

echo; echo "Now the pipeline daemon on this Docker host (its default target): a git push becomes the live site."
bash dev/services/router.sh
mkdir "$work/pipeline-docker"
pipeline_setup "$work/pipeline-docker" "$brokers" 5m docker
forget_docker_site() {
  # The demo's containers and routes, whatever happened.
  docker ps -aq --filter "label=dumcel.project=$PIPELINE_PROJECT" | xargs -r docker rm -f >/dev/null
}
trap 'pipeline_stop; forget_docker_site; rm -rf "$work"' EXIT
pipeline_start "$bin/dumcel-pipeline"
site="http://$PIPELINE_PROJECT.localhost:8480/"

sha="$(git -C "$PIPELINE_WORK/app" rev-parse HEAD)"
first="$sha"
show "push to main ($sha): built, pushed to the local registry, run, routed"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
events "$sha"
fetch "$site"
sha="$(pipeline_commit main "<h1>Release 2: pushed, and live.</h1>")"
show "push to main ($sha): the new container must pass its health check, then the route switches"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
events "$sha"
fetch "$site"
dockerfile="$(cat "$PIPELINE_WORK/app/Dockerfile")"
sha="$(pipeline_commit_file main Dockerfile "${dockerfile//\"\/www\"/\"\/bin\"}")"
show "push to main ($sha): a release that fails its health check (no index page) is never served"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
events "$sha"
fetch "$site"
grep "sha=$sha" "$PIPELINE_WORK/worker.log" | grep -q 'event="rolled_back"' || { tail -n 30 "$PIPELINE_WORK/worker.log"; exit 1; }
sha="$(pipeline_commit_file main Dockerfile "$dockerfile")"
show "push to main ($sha): fixed"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
fetch "$site"
show "through the API: roll production back to the first release (POST .../environments/production/rollback)"
answer="$(pipeline_api POST "projects/$PIPELINE_PROJECT/environments/production/rollback" "{\"deployment\": \"${first:0:12}-push\"}")"
echo "  $answer"
delivery="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["delivery"])' <<<"$answer")"
pipeline_wait "$delivery"
fetch "$site"
show "the API's view of the project (GET .../projects/$PIPELINE_PROJECT)"
pipeline_api GET "projects/$PIPELINE_PROJECT" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["environments"]:
    last = e["last_deployment"] or {}
    print("  %s: %s serves %s; last: %s, %s" % (e["name"], e["url"], (e["serving"] or {}).get("sha", "-")[:12],
                                             last.get("trigger"), last.get("outcome")))
'
preview="$(pipeline_commit feature "<h1>A preview of the next change.</h1>")"
show "push to branch feature ($preview): a URL of its own"
pipeline_deliver feature "$preview"
pipeline_wait "$preview"
fetch "http://feature--$PIPELINE_PROJECT.localhost:8480/"
show "branch feature deleted: its URL is gone"
git -C "$PIPELINE_WORK/app" push --quiet origin :feature
pipeline_deliver feature "$preview" deleted
wait_event preview_destroyed
fetch "http://feature--$PIPELINE_PROJECT.localhost:8480/"
fetch "$site"
pipeline_stop
forget_docker_site

echo; echo "Now the same pipeline on ECS (moto): what moto can show of it."
mkdir "$work/pipeline"
pipeline_setup "$work/pipeline" "$brokers"
trap 'pipeline_stop; rm -rf "$work"' EXIT
pipeline_start "$bin/dumcel-pipeline"

sha="$(git -C "$PIPELINE_WORK/app" rev-parse HEAD)"
show "push to main ($sha): webhook -> Kafka -> worker"
pipeline_deliver main "$sha"
pipeline_wait "$sha"
events "$sha"
grep -q 'event="deploy_succeeded"' "$PIPELINE_WORK/worker.log" || { tail -n 30 "$work/pipeline/worker.log"; exit 1; }
show "ECS now runs:"
# Asked of ECS with boto3 from moto's venv, not through dumcel.
aws_image() {
  "${DUMCEL_CACHE:-$HOME/.cache/dumcel}/moto-venv/bin/python3" - "$1" "$2" <<'PY'
import os, sys, boto3
ecs = boto3.client("ecs", region_name=os.environ["AWS_REGION"],
                   endpoint_url=os.environ["AWS_ENDPOINT_URL"])
found = ecs.describe_services(cluster=sys.argv[1], services=[sys.argv[2]])
if not found["services"]:
    listed = ecs.list_services(cluster=sys.argv[1])["serviceArns"]
    sys.exit(f"ECS has no service {sys.argv[2]} in cluster {sys.argv[1]}: "
             f"failures {found['failures']}, the cluster lists {listed}")
td = ecs.describe_task_definition(taskDefinition=found["services"][0]["taskDefinition"])["taskDefinition"]
print(f"  {sys.argv[1]}/{sys.argv[2]} runs {td['containerDefinitions'][0]['image']}")
PY
}
# Every environment's service runs in the platform's one cluster.
aws_image "$PIPELINE_PLATFORM" "$PIPELINE_PROJECT-production"

preview="$(pipeline_commit feature "a preview of the next change")"
show "push to branch feature ($preview): a preview environment of its own"
pipeline_deliver feature "$preview"
pipeline_wait "$preview"
events "$preview"
aws_image "$PIPELINE_PLATFORM" "$PIPELINE_PROJECT-preview-feature"
show "branch feature deleted: the preview goes away"
git -C "$PIPELINE_WORK/app" push --quiet origin :feature
pipeline_deliver feature "$preview" deleted
wait_event preview_destroyed
events "$preview" | tail -n 2
pipeline_stop
elapsed "finished"
echo; echo "Demo finished: the local stack on Docker, the AWS stack on the emulator, and pushes deployed by the pipeline daemon to this Docker host (live at their URLs) and to ECS on the emulator."
