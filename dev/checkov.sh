#!/usr/bin/env bash
# Installs checkov (a policy scanner that reads Terraform plan JSON) into a
# venv under the cache, for tests/plan_json.rs, which runs it on a dumcel plan
# to prove that tools made for Terraform plans read dumcel's. Idempotent: when
# the venv already has checkov, it only prints the path of the executable.
#
#   dev/checkov.sh        # install (once); prints .../checkov-venv/bin/checkov
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh

VENV="$DUMCEL_CACHE/checkov-venv"
CHECKOV="$VENV/bin/checkov"

if [ ! -x "$CHECKOV" ]; then
    echo "installing checkov into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    "$VENV/bin/pip" install --quiet checkov >&2
fi
echo "$CHECKOV"
