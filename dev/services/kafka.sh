#!/usr/bin/env bash
# Starts a Kafka-compatible broker for the pipeline daemon's tests: tansu, with
# in-memory storage, on 127.0.0.1:9092. Idempotent: when it already answers,
# it only prints the bootstrap address. The first time it builds tansu with
# cargo (kept under $CARGO_HOME/bin and the cache's build dir).
# Topics are not created on first use by tansu: the daemon creates its own.
#
#   dev/services/kafka.sh          # start (or find) it; prints host:port
#   dev/services/kafka.sh install  # only build it (dev/demo.sh and dev/test.sh
#                                  # do this in the background, at low priority)
#   dev/services/kafka.sh stop     # stop the one this script started
set -euo pipefail
cd "$(dirname "$0")/../.."
. dev/env.sh
. dev/services/wait.sh

PORT="${KAFKA_PORT:-9092}"
ADDR="127.0.0.1:$PORT"
VERSION=0.6.0
PIDFILE="$DUMCEL_CACHE/tansu.pid"
LOG="$DUMCEL_CACHE/tansu.log"
TANSU="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if [ "${1:-}" = stop ]; then
    if [ -f "$PIDFILE" ]; then
        kill "$(cat "$PIDFILE")" 2>/dev/null || true
        rm -f "$PIDFILE"
    fi
    exit 0
fi

# How tansu is built; a binary built otherwise (an older version, unmended,
# or the opt-level 1 of earlier scripts) is built again. The "(4)" is the
# mends' revision: raise it when patch_broker.py changes.
BUILD="tansu@$VERSION --features dynostore, broker mended by dev/services/tansu/patch_broker.py (4), opt-level 0, no debug info"
STAMP="$DUMCEL_CACHE/tansu.built"

# Unpacks tansu and tansu-broker from cargo's download cache into $1 (cargo
# info downloads a crate without building anything), mends the broker, and
# points tansu's build at the mended copy.
mended_sources() {
    local dir="$1" crate archive
    rm -rf "$dir"
    mkdir -p "$dir"
    for crate in tansu tansu-broker; do
        cargo info --quiet "$crate@$VERSION" >/dev/null
        archive="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$crate-$VERSION.crate" | head -n 1)"
        tar -xzf "$archive" -C "$dir"
    done
    python3 dev/services/tansu/patch_broker.py "$dir/tansu-broker-$VERSION"
    printf '\n[patch.crates-io]\ntansu-broker = { path = "../tansu-broker-%s" }\n' "$VERSION" \
        >>"$dir/tansu-$VERSION/Cargo.toml"
    # The lock file shipped with tansu, with only tansu-broker's source moved.
    cargo metadata --quiet --format-version 1 --manifest-path "$dir/tansu-$VERSION/Cargo.toml" >/dev/null
}

install_tansu() {
    if [ -x "$TANSU" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$BUILD" ]; then
        return 0
    fi
    echo "building $BUILD (once)" >&2
    local sources="$DUMCEL_CACHE/tansu-src"
    mended_sources "$sources"
    # Only what the tests use: the default features are the broker itself,
    # and dynostore is the one storage engine that has memory://.
    # opt-level 0 and no debug info: a broker for a test suite's few messages
    # needs no optimiser, and this builds in 6 minutes on 2 cores against 20
    # at opt-level 1 (README, "First run"). Its own target dir: the project's
    # builds never wait on it, and an interrupted build resumes.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
        CARGO_PROFILE_RELEASE_INCREMENTAL=false \
        cargo install --locked --force --path "$sources/tansu-$VERSION" --features dynostore \
        --target-dir "$DUMCEL_CACHE/tansu-build" >&2
    echo "$BUILD" >"$STAMP"
}

if [ "${1:-}" = install ]; then
    install_tansu
    exit 0
fi

if answers; then
    echo "$ADDR"
    exit 0
fi

install_tansu

nohup "$TANSU" broker \
    --listener-url "tcp://$ADDR" \
    --advertised-listener-url "tcp://$ADDR" \
    --storage-engine memory://tansu/ >"$LOG" 2>&1 &
echo $! >"$PIDFILE"

wait_started tansu "$PIDFILE" "$LOG" "$ADDR"
