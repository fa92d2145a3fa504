# shellcheck shell=bash
# Sourced by the service scripts: wait_started NAME PIDFILE LOG WHAT waits up
# to 20 s for the caller's `answers` function to succeed, then prints WHAT
# (the address tests use); it fails with the log's tail if the process exits
# or never answers.
wait_started() {
    local name="$1" pidfile="$2" log="$3" what="$4"
    for _ in $(seq 1 100); do
        if answers; then
            echo "$what"
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "$name exited; see $log" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "$name did not answer on $what within 20 s; see $log" >&2
    return 1
}
