#!/usr/bin/env bash
# The demo: builds dumcel and runs a whole stack end to end in a scratch copy
# of examples/builtin: init, plan, apply, outputs, a no-op plan, destroy.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dumcel-target}"

cargo build --release --bin dumcel
dumcel="$CARGO_TARGET_DIR/release/dumcel"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r examples/builtin/. "$work/"

step() { printf '\n\033[1m$ dumcel %s\033[0m\n' "$*"; "$dumcel" -chdir="$work" "$@"; }
step init
step plan
step apply -auto-approve
step output
echo; echo "Files written by the stack:"; ls -l "$work/out"
set +e
step plan -detailed-exitcode
code=$?
set -e
[ "$code" = 0 ] || { echo "expected a no-op plan (exit 0), got $code" >&2; exit 1; }
step destroy -auto-approve
echo; echo "Demo finished: created, verified unchanged, destroyed."
