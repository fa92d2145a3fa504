#!/usr/bin/env bash
# The long fault schedule: the crash and interrupt tests of tests/fault_s3.rs
# (moto, S3 backend) and tests/fault_docker.rs (Docker, local backend) run
# again and again, each round with another seed for where the kill -9 lands
# and more kills per create and destroy than the test suite's short run.
#
#   bench/faults.sh [ROUNDS] [KILLS]     # defaults: 10 rounds, 6 kills
#
# Needs moto and dockerd (dev/services/moto.sh, dev/services/docker.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
ROUNDS="${1:-10}"
KILLS="${2:-6}"
export AWS_ENDPOINT_URL="$(bash dev/services/moto.sh)"
bash dev/services/docker.sh >&2
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true DUMCEL_FAULT_KILLS="$KILLS"
cargo test --workspace --no-run --test fault_s3 --test fault_docker --test crash >&2
failed=0
for round in $(seq "$ROUNDS"); do
    seed=$((round * 7919 + $(date +%s) % 1000))
    if DUMCEL_FAULT_SEED=$seed cargo test -q --workspace --test fault_s3 --test fault_docker \
        --test crash >"$DUMCEL_CACHE/faults-$seed.log" 2>&1; then
        echo "round $round (seed $seed): passed"
    else
        echo "round $round (seed $seed): FAILED, see $DUMCEL_CACHE/faults-$seed.log"
        failed=$((failed + 1))
    fi
done
echo "$((ROUNDS - failed)) passed, $failed failed"
[ "$failed" = 0 ]
