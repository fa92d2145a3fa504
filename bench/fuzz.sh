#!/usr/bin/env bash
# Fuzz runs of the untrusted-input parsers, each for a time budget:
#
#   bench/fuzz.sh              60 s per target
#   bench/fuzz.sh 600          ten minutes per target
#   bench/fuzz.sh 30 plan hcl  only these targets
#
# Each target is an ordinary integration test (fuzz/harness.rs drives it)
# built with the normal debug profile, so the run shares the test suite's
# build: it replays the committed seeds of fuzz/corpus/<target>/, then
# generates inputs (seed mutations and the target's own structure-aware
# strategy) until the budget is spent. DUMCEL_FUZZ_SEED=N fixes the RNG.
# Prints one line per target with the cases it ran; exits non-zero if any
# target panicked (the shrunk input is saved under fuzz/crashes/<target>/).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=dev/env.sh
. "$root/dev/env.sh"

seconds="${1:-60}"
shift || true
case "$seconds" in
  ''|*[!0-9.]*) echo "usage: bench/fuzz.sh [SECONDS-PER-TARGET] [TARGET...]" >&2; exit 2 ;;
esac

# target  crate  test
all_targets="
hcl     dumcel-engine   fuzz_hcl
tfjson  dumcel-engine   fuzz_tfjson
yaml    dumcel-engine   fuzz_yaml
state   dumcel-state    fuzz_state
journal dumcel-state    fuzz_journal
plan    dumcel-planner  fuzz_plan
"
wanted=" $* "

cd "$root"
failed=0
summary=()
while read -r target crate test; do
  [ -n "$target" ] || continue
  if [ $# -gt 0 ] && [[ "$wanted" != *" $target "* ]]; then
    continue
  fi
  echo "== $target: $crate --test $test, ${seconds}s" >&2
  # Build first, so the budget is spent fuzzing rather than compiling.
  cargo test -q -p "$crate" --test "$test" --no-run >&2
  log="$(mktemp)"
  if DUMCEL_FUZZ_SECONDS="$seconds" cargo test -q -p "$crate" --test "$test" -- \
      --exact "$test" --nocapture >"$log" 2>&1; then
    line="$(grep -m1 "^fuzz $target:" "$log" || echo "fuzz $target: finished, no count printed")"
  else
    failed=1
    cat "$log" >&2
    line="$(grep -m1 -o "fuzz $target: .*" "$log" || echo "fuzz $target: FAILED (see above)")"
  fi
  rm -f "$log"
  summary+=("$line")
done <<<"$all_targets"

printf '%s\n' "${summary[@]}"
exit "$failed"
