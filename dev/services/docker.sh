#!/usr/bin/env bash
# Installs and starts what the Docker provider's tests and the local demo use,
# all on this machine:
#   - a Docker engine (Debian's docker.io), vfs storage, on the default socket;
#   - an image registry (Debian's docker-registry) on 127.0.0.1:5000, open;
#   - a second one on 127.0.0.1:5001 that asks for a password (user
#     dumcel-test, password dumcel-test-password: test fixtures, not secrets);
#   - busybox-static, the one binary test images are built from (nothing can be
#     pulled from a public registry), and from it a local `busybox` image
#     (dev/services/base-images.sh), so that the examples' `FROM busybox`
#     builds as it would on any machine.
# Idempotent, and quick when everything already answers. Needs root (or sudo).
# State and logs live under $HOME/.cache/dumcel.
set -euo pipefail

state="$HOME/.cache/dumcel"
mkdir -p "$state"
sock=unix:///var/run/docker.sock
auth_user=dumcel-test
auth_password=dumcel-test-password

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# docker_cli ARGS: the docker CLI against the engine this script manages,
# whatever DOCKER_HOST the caller has.
docker_cli() { DOCKER_HOST="$sock" docker "$@"; }

# static_busybox: whether a statically linked busybox is installed (Debian's
# `busybox` package is dynamically linked, which an image FROM scratch cannot
# run). ldd fails on a static binary, saying so.
static_busybox() {
  local p
  for p in /bin/busybox /usr/bin/busybox; do
    [ -x "$p" ] && [[ "$(ldd "$p" 2>&1)" == *"not a dynamic executable"* ]] && return 0
  done
  return 1
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  static_busybox || missing+=(busybox-static)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    local log="$state/apt.log"
    if ! { as_root apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
        apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
      echo "error: installing ${missing[*]} failed; the end of $log:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
  fi
}

# wait_for SECONDS LOG COMMAND...: retries COMMAND until it succeeds; on
# timeout prints the end of LOG and fails.
wait_for() {
  local seconds=$1 log=$2
  shift 2
  for _ in $(seq $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "error: gave up after ${seconds}s waiting for: $*" >&2
  echo "--- last lines of $log" >&2
  tail -n 40 "$log" >&2 || true
  return 1
}

start_dockerd() {
  if docker_cli info >/dev/null 2>&1; then
    echo "dockerd: already running ($sock)"
    return
  fi
  local pidfile="$state/dockerd.pid" log="$state/dockerd.log"
  # A pidfile left by a dockerd that died makes the next one refuse to start.
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    rm -f "$pidfile"
  fi
  # vfs: overlay storage does not work on these machines' filesystems.
  as_root nohup dockerd --storage-driver=vfs --host="$sock" --pidfile="$pidfile" \
    >>"$log" 2>&1 </dev/null &
  wait_for 60 "$log" docker_cli info
  echo "dockerd: started ($sock, storage vfs, log $log)"
}

registry_answers() {
  # 200 for the open registry, 401 for the one that asks for a password.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/") || return 1
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

# start_registry PORT NAME [htpasswd-file]
start_registry() {
  local port=$1 name=$2 htpasswd=${3:-}
  if registry_answers "$port"; then
    echo "$name: already running (127.0.0.1:$port)"
    return
  fi
  local config="$state/$name.yml" log="$state/$name.log"
  mkdir -p "$state/$name"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: \"$state/$name\"}"
    echo "  delete: {enabled: true}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: dumcel-local-registry"
    if [ -n "$htpasswd" ]; then
      echo "auth:"
      echo "  htpasswd: {realm: dumcel, path: \"$htpasswd\"}"
    fi
  } >"$config"
  nohup docker-registry serve "$config" >>"$log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
  wait_for 20 "$log" registry_answers "$port"
  echo "$name: started (127.0.0.1:$port, storage $state/$name, log $log)"
}

install_packages
start_dockerd
DOCKER_HOST="$sock" bash "$(dirname "${BASH_SOURCE[0]}")/base-images.sh"
start_registry 5000 registry
htpasswd -Bbn "$auth_user" "$auth_password" >"$state/registry-auth.htpasswd"
start_registry 5001 registry-auth "$state/registry-auth.htpasswd"
