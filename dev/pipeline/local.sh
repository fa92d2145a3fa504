# shellcheck shell=bash
# The pipeline daemon on loopback, for the demo and bench/pipeline.sh. Source
# it after dev/env.sh, with the services running and AWS_* pointing at moto:
#
#   pipeline_setup WORK BROKERS [ROLLOUT_TIMEOUT] [TARGET]
#       a bare repository WORK/origin.git holding the example app (examples/app
#       and its deploy/ stack: examples/pipeline/deploy for
#       TARGET ecs, the default, or examples/pipeline/deploy-docker for TARGET
#       docker, served by the router at http://$PIPELINE_PROJECT.localhost:8480/)
#       as project $PIPELINE_PROJECT, a working copy WORK/app, and
#       WORK/pipeline.hcl with topics, table and webhook port of its own.
#       For TARGET ecs it first applies examples/pipeline/platform (the ALB,
#       HTTPS listener and ECS cluster every environment shares) as
#       $PIPELINE_PLATFORM, with $DUMCEL_BIN (default: dumcel on the PATH),
#       state and log in WORK/platform
#       The deployments API is on 127.0.0.1:$PIPELINE_API_PORT; its token
#       (which may deploy the project) is in the header file
#       WORK/api-token.header, so it never sits in a process's arguments.
#   pipeline_start DAEMON   starts `DAEMON webhook`, `DAEMON worker` and
#                           `DAEMON serve`, logs in WORK/webhook.log,
#                           WORK/worker.log and WORK/serve.log
#   pipeline_commit BRANCH TEXT   commits TEXT as the page on BRANCH, pushes
#                                 it, prints the SHA
#   pipeline_commit_file BRANCH FILE CONTENT   the same for any file
#   pipeline_deliver BRANCH SHA [deleted]   a signed GitHub push delivery
#   pipeline_wait ID        until the worker logs the end of the pipeline
#                           of ID, a commit's SHA or a delivery id
#   pipeline_api METHOD PATH [JSON]   calls the API (PATH under /api/v1/)
#   pipeline_stop           SIGTERM to both daemons, waiting for them

pipeline_setup() {
  PIPELINE_WORK="$1"
  local brokers="$2" timeout="${3:-5m}" target="${4:-ecs}" root stack domain
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  PIPELINE_PROJECT="app$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  PIPELINE_REPOSITORY="dumcel-demo/$PIPELINE_PROJECT"
  PIPELINE_SECRET="local-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  # The key the webhook signs push messages with and the workers check.
  PIPELINE_SIGNING_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  PIPELINE_PORT="$(_pipeline_free_port)"
  PIPELINE_API_PORT="$(_pipeline_free_port)"
  local token hash
  token="dcp_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  hash="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
  mkdir -p "$PIPELINE_WORK"
  printf 'Authorization: Bearer %s\n' "$token" >"$PIPELINE_WORK/api-token.header"
  chmod 600 "$PIPELINE_WORK/api-token.header"
  PIPELINE_PIDS=()
  local topic="dumcel.local.$PIPELINE_PROJECT"
  git init --quiet --bare "$PIPELINE_WORK/origin.git"
  git init --quiet -b main "$PIPELINE_WORK/app"
  case "$target" in
    ecs) stack=deploy domain=apps.test ;;
    docker) stack=deploy-docker domain=localhost ;;
    *) echo "pipeline_setup: TARGET is ecs or docker, not $target" >&2; return 1 ;;
  esac
  cp -r "$root/examples/app/Dockerfile" "$root/examples/app/www" "$PIPELINE_WORK/app/"
  cp -r "$root/examples/pipeline/$stack" "$PIPELINE_WORK/app/deploy"
  sed -i "s/default = \"shop\"/default = \"$PIPELINE_PROJECT\"/" "$PIPELINE_WORK/app/deploy/stack.hcl"
  if [ "$target" = ecs ]; then
    PIPELINE_PLATFORM="$PIPELINE_PROJECT-pf"
    mkdir -p "$PIPELINE_WORK/platform"
    cp "$root/examples/pipeline/platform/stack.hcl" "$PIPELINE_WORK/platform/"
    "${DUMCEL_BIN:-dumcel}" -chdir="$PIPELINE_WORK/platform" apply -auto-approve -input=false -no-color \
      -var "name=$PIPELINE_PLATFORM" -var "domain=$domain" >"$PIPELINE_WORK/platform/apply.log" 2>&1 || {
      tail -n 30 "$PIPELINE_WORK/platform/apply.log" >&2
      echo "pipeline_setup: applying the platform stack failed" >&2
      return 1
    }
    # The deploy stack finds the platform's ALB and cluster by this name.
    sed -i "s/default     = \"apps\"/default     = \"$PIPELINE_PLATFORM\"/" "$PIPELINE_WORK/app/deploy/stack.hcl"
  fi
  _pipeline_git add -A
  _pipeline_git commit --quiet -m "the app"
  _pipeline_git remote add origin "$PIPELINE_WORK/origin.git"
  _pipeline_git push --quiet origin main
  cat >"$PIPELINE_WORK/pipeline.hcl" <<HCL
target = "$target"
kafka {
  brokers      = "$brokers"
  group        = "$topic.workers"
  push_topic   = "$topic.push"
  events_topic = "$topic.events"
  dlq_topic    = "$topic.dlq"
}
webhook {
  listen     = "127.0.0.1:$PIPELINE_PORT"
  secret_env = "DUMCEL_WEBHOOK_SECRET"
}
domain                = "$domain"
deployments_table     = "$topic.deployments"
rollout_timeout       = "$timeout"
registry_endpoint     = "127.0.0.1:5000"
work_dir              = "$PIPELINE_WORK/daemon"
api {
  listen          = "127.0.0.1:$PIPELINE_API_PORT"
  environment_url = "$([ "$target" = docker ] && echo 'http://{host}:8480/' || echo 'https://{host}/')"
  token "demo" {
    sha256 = "$hash"
  }
}
repository "$PIPELINE_REPOSITORY" {
  stack     = "deploy"
  previews  = true
  clone_url = "$PIPELINE_WORK/origin.git"
  access {
    deploy = ["token:demo"]
  }
}
HCL
}

_pipeline_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_pipeline_listening() {
  local port="$1" log="$2" _
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  tail -n 20 "$log" >&2
  echo "nothing listened on 127.0.0.1:$port (see $log)" >&2
  return 1
}

pipeline_api() {
  local method="$1" path="$2" body="${3:-}"
  curl -sS -X "$method" -H @"$PIPELINE_WORK/api-token.header" \
    ${body:+-H 'Content-Type: application/json' --data "$body"} \
    "http://127.0.0.1:$PIPELINE_API_PORT/api/v1/$path"
}

_pipeline_git() {
  git -C "$PIPELINE_WORK/app" -c user.name=dumcel -c user.email=demo@dumcel.invalid "$@"
}

pipeline_start() {
  local daemon="$1"
  DUMCEL_WEBHOOK_SECRET="$PIPELINE_SECRET" DUMCEL_PUSH_SIGNING_KEY="$PIPELINE_SIGNING_KEY" \
    DUMCEL_LOG="${DUMCEL_LOG:-info}" "$daemon" webhook --config "$PIPELINE_WORK/pipeline.hcl" >"$PIPELINE_WORK/webhook.log" 2>&1 &
  PIPELINE_PIDS+=($!)
  DUMCEL_PUSH_SIGNING_KEY="$PIPELINE_SIGNING_KEY" DUMCEL_LOG="${DUMCEL_LOG:-info}" \
    "$daemon" worker --config "$PIPELINE_WORK/pipeline.hcl" >"$PIPELINE_WORK/worker.log" 2>&1 &
  PIPELINE_PIDS+=($!)
  DUMCEL_PUSH_SIGNING_KEY="$PIPELINE_SIGNING_KEY" DUMCEL_LOG="${DUMCEL_LOG:-info}" \
    "$daemon" serve --config "$PIPELINE_WORK/pipeline.hcl" >"$PIPELINE_WORK/serve.log" 2>&1 &
  PIPELINE_PIDS+=($!)
  _pipeline_listening "$PIPELINE_PORT" "$PIPELINE_WORK/webhook.log" &&
    _pipeline_listening "$PIPELINE_API_PORT" "$PIPELINE_WORK/serve.log"
}

pipeline_commit() {
  pipeline_commit_file "$1" www/index.html "$2"
}

pipeline_commit_file() {
  local branch="$1" file="$2" content="$3"
  _pipeline_git checkout --quiet -B "$branch"
  printf '%s\n' "$content" >"$PIPELINE_WORK/app/$file"
  _pipeline_git commit --quiet -am "$file: ${content:0:40}"
  _pipeline_git push --quiet --force origin "$branch"
  _pipeline_git rev-parse HEAD
  _pipeline_git checkout --quiet main
}

pipeline_deliver() {
  python3 - "$PIPELINE_PORT" "$PIPELINE_SECRET" "$PIPELINE_REPOSITORY" "$@" <<'PY'
import hashlib, hmac, json, sys, urllib.request
port, secret, repository, branch, sha = sys.argv[1:6]
deleted = len(sys.argv) > 6 and sys.argv[6] == "deleted"
zero = "0" * 40
body = json.dumps({
    "ref": f"refs/heads/{branch}", "before": sha if deleted else zero,
    "after": zero if deleted else sha, "deleted": deleted,
    "repository": {"full_name": repository,
                   "clone_url": f"https://github.com/{repository}.git"},
}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, headers={
    "X-GitHub-Event": "push", "X-GitHub-Delivery": f"{sha[:12]}-{'del' if deleted else 'push'}",
    "X-Hub-Signature-256": sig, "Content-Type": "application/json"})
sys.exit(0 if urllib.request.urlopen(req).status == 202 else 1)
PY
}

pipeline_wait() {
  local id="$1" _
  for _ in $(seq 1 900); do
    if grep "push ended" "$PIPELINE_WORK/worker.log" | grep -q -e "sha=$id " -e "delivery=$id "; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$PIPELINE_WORK/worker.log" >&2
  echo "the pipeline of $id did not end" >&2
  return 1
}

pipeline_stop() {
  local pid
  for pid in "${PIPELINE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIPELINE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIPELINE_PIDS=()
}
