# shellcheck shell=bash
# Shared environment for the dev/ and bench/ scripts. Source it, don't run it:
#   . dev/env.sh
# Exports (keeping any value already set):
#   DUMCEL_CACHE      tools and data the scripts install (default ~/.cache/dumcel)
#   CARGO_TARGET_DIR  cargo's build directory (default ~/.cache/dumcel-target)
# and creates both directories. It sets no shell options, so it is safe to
# source from an interactive shell as well as from `set -euo pipefail` scripts.

export DUMCEL_CACHE="${DUMCEL_CACHE:-$HOME/.cache/dumcel}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dumcel-target}"
mkdir -p "$DUMCEL_CACHE" "$CARGO_TARGET_DIR"
