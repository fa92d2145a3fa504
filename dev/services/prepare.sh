# shellcheck shell=bash
# Sourced by dev/demo.sh and dev/test.sh. On a fresh machine most of their
# wait is compiling, so what the services need is prepared beside it:
#   prepare_start          starts two background jobs: the Docker engine, the
#                          registries, the router and moto (their packages
#                          install, mostly waiting on the network), and the
#                          broker's build (tansu, dev/services/kafka.sh) at
#                          the lowest priority, so it takes only what cargo
#                          leaves idle;
#   prepare_wait services  waits for the first, prepare_wait broker for the
#                          second; either fails with the end of its log.
# Needs dev/env.sh sourced first.

prepare_start() {
  local dir="$DUMCEL_CACHE/prepare"
  mkdir -p "$dir"
  (bash dev/services/docker.sh && bash dev/services/router.sh && bash dev/services/moto.sh) \
    >"$dir/services.log" 2>&1 &
  prepare_services_pid=$!
  nice -n 19 bash dev/services/kafka.sh install >"$dir/broker.log" 2>&1 &
  prepare_broker_pid=$!
}

prepare_wait() {
  local pid log="$DUMCEL_CACHE/prepare/$1.log"
  case "$1" in
    services) pid="$prepare_services_pid" ;;
    broker) pid="$prepare_broker_pid" ;;
  esac
  wait "$pid" || {
    echo "error: preparing the $1 failed; the end of $log:" >&2
    tail -n 30 "$log" >&2
    return 1
  }
}
