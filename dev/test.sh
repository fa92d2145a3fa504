#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test of every crate
# (unit, property and end-to-end tests of the real binary). The Docker
# provider's tests need a Docker engine and local registries: started first by
# dev/services/docker.sh (installs them on a fresh Debian machine; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dumcel-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== services"
bash dev/services/docker.sh
echo "== cargo test"
cargo test --workspace --no-fail-fast
