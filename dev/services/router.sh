#!/usr/bin/env bash
# Starts the router of the Docker-host deploy target: HAProxy (Debian's
# haproxy package), serving HTTP on 127.0.0.1:8480 and its runtime API on
# 127.0.0.1:8481. Requests are routed by their Host through the map
# dumcel-hosts.map (host -> address:port), which docker_route resources
# change live through the runtime API; a host not in it gets 404.
# Idempotent: when the runtime API already answers, it only prints the
# addresses.
#
#   dev/services/router.sh        # start (or find) it
#   dev/services/router.sh stop   # save the routes to the map file, then stop
#
# ROUTER_PORT and ROUTER_ADMIN_PORT pick other ports. The routes live in the
# router's memory; `stop` writes them to the map file, which the next start
# loads, so a restart keeps them.
set -euo pipefail
cd "$(dirname "$0")/../.."
. dev/env.sh
. dev/services/wait.sh

PORT="${ROUTER_PORT:-8480}"
ADMIN_PORT="${ROUTER_ADMIN_PORT:-8481}"
DIR="$DUMCEL_CACHE/router"
PIDFILE="$DIR/haproxy.pid"
LOG="$DIR/haproxy.log"
CONFIG="$DIR/haproxy.cfg"
MAP="$DIR/dumcel-hosts.map"
mkdir -p "$DIR"

runtime() { python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while chunk := s.recv(65536):
    out += chunk
sys.stdout.write(out.decode())' "$ADMIN_PORT" "$1"; }

answers() { runtime "show map" 2>/dev/null | grep -q dumcel-hosts.map; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ "${1:-}" = stop ]; then
  if answers; then
    runtime "show map $MAP" | awk '$1 ~ /^0x/ { print $2, $3 }' >"$MAP.new" && mv "$MAP.new" "$MAP"
  fi
  [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
  rm -f "$PIDFILE"
  exit 0
fi

if answers; then
  echo "http://127.0.0.1:$PORT (runtime API 127.0.0.1:$ADMIN_PORT)"
  exit 0
fi

if ! command -v haproxy >/dev/null; then
  echo "installing haproxy (apt-get)" >&2
  # Only the program is wanted: the router runs as this script starts it.
  { as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      apt-get install -y -qq haproxy; } >"$DIR/apt.log" 2>&1 || {
    echo "installing haproxy failed; see $DIR/apt.log" >&2
    tail -n 20 "$DIR/apt.log" >&2
    exit 1
  }
fi

touch "$MAP"
# The request's Host (without a port), looked up in the map, becomes the
# destination of the "upstream" server: 0.0.0.0:0 connects wherever set-dst
# points. Server connections are not reused, so a switched route never sends
# a request down a connection to the old container.
cat >"$CONFIG" <<CFG
global
  stats socket ipv4@127.0.0.1:$ADMIN_PORT level admin
  log stderr format raw local0 warning

defaults
  mode http
  log global
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-server-close

frontend dumcel
  bind 127.0.0.1:$PORT
  http-request set-var(txn.upstream) req.hdr(host),field(1,:),lower,map($MAP)
  http-request return status 404 content-type text/plain string "no deployment is served at this host" unless { var(txn.upstream) -m found }
  http-request set-dst var(txn.upstream),field(1,:)
  http-request set-dst-port var(txn.upstream),field(2,:)
  default_backend upstreams

backend upstreams
  http-reuse never
  server upstream 0.0.0.0:0
CFG
haproxy -c -q -f "$CONFIG"
nohup haproxy -db -f "$CONFIG" >>"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
wait_started haproxy "$PIDFILE" "$LOG" "http://127.0.0.1:$PORT (runtime API 127.0.0.1:$ADMIN_PORT)"
