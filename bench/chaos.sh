#!/usr/bin/env bash
# The pipeline's long chaos schedule: tests/chaos.rs (three workers, pushes
# over three projects with previews, workers killed with -9 and restarted,
# the broker restarted once) with more pushes and several seeds. Every run
# checks the same promises as the test suite's short one: every environment
# ends on its last pushed commit, every push has exactly one final record, no
# commit is deployed twice.
#
#   bench/chaos.sh                 # seeds 1..5, 80 pushes each
#   SEEDS="11 12" PUSHES=120 bench/chaos.sh
#   LOAD=1 SEEDS="7 11 13" PUSHES=30 bench/chaos.sh   # all at once, on a busy machine
#
# Needs what dev/test.sh starts: dockerd, the registry, the router, moto,
# tansu (its binary; each run starts a broker of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
bash dev/services/docker.sh >/dev/null
bash dev/services/router.sh >/dev/null
AWS_ENDPOINT_URL="$(bash dev/services/moto.sh)"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
DUMCEL_KAFKA="$(bash dev/services/kafka.sh)"
export DUMCEL_KAFKA
cargo test --workspace --no-run >/dev/null 2>&1 || cargo test --workspace --no-run
# One seed's run; its line of the summary on stdout, its status as exit code.
run_seed() {
  local seed="$1" start log="${TMPDIR:-/tmp}/dumcel-chaos-$1.log"
  start=$(date +%s)
  if DUMCEL_CHAOS_SEED="$seed" DUMCEL_CHAOS_PUSHES="${PUSHES:-80}" \
      cargo test --workspace --test chaos -- --exact \
      every_push_ends_once_and_every_environment_on_its_last_commit_through_kills --nocapture \
      >"$log" 2>&1; then
    echo "seed $seed: ok in $(( $(date +%s) - start )) s ($(grep -c 'kill -9' "$log") kills)"
  else
    echo "seed $seed: FAILED, see $log"
    return 1
  fi
}

failed=0
if [ -n "${LOAD:-}" ]; then
  # A loaded machine: every seed at once, and two busy loops beside them.
  # This is how tansu's group coordinator bug showed (bench/README.md,
  # "Pipeline chaos, the long schedule").
  burners=()
  for _ in 1 2; do
    nice -n 5 sh -c 'while :; do :; done' &
    burners+=($!)
  done
  trap 'kill "${burners[@]}" 2>/dev/null' EXIT
  runs=()
  for seed in ${SEEDS:-1 2 3 4 5}; do
    run_seed "$seed" &
    runs+=($!)
  done
  for run in "${runs[@]}"; do
    wait "$run" || failed=1
  done
else
  for seed in ${SEEDS:-1 2 3 4 5}; do
    run_seed "$seed" || failed=1
  done
fi
exit "$failed"
