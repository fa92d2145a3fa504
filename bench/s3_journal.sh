#!/usr/bin/env bash
# What the S3 backend's durability costs: the same apply of N S3 buckets on
# moto, with the state in the local backend (journal fsynced locally) and in
# the S3 backend (journal also copied to S3 before each group of intents is
# acknowledged, DynamoDB lock with a lease, upload with its digest), run in
# turns, RUNS times each; prints each run and the medians and their ratio.
#
#   bench/s3_journal.sh [N] [RUNS]      # defaults: 100 buckets, 5 runs
#
# Needs moto (dev/services/moto.sh) and a built dumcel (DUMCEL_BIN, else the
# debug build in $CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
N="${1:-100}"
RUNS="${2:-5}"
ENDPOINT="$(bash dev/services/moto.sh)"
BIN="${DUMCEL_BIN:-$CARGO_TARGET_DIR/debug/dumcel}"
[ -x "$BIN" ] || { echo "no dumcel at $BIN: cargo build --bin dumcel first" >&2; exit 1; }
export AWS_ENDPOINT_URL="$ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
PY="$DUMCEL_CACHE/moto-venv/bin/python"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tag="bench$$"
"$PY" - "$ENDPOINT" "$tag" <<'PY'
import sys, boto3
endpoint, tag = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
boto3.client("s3", **kw).create_bucket(Bucket=f"{tag}-state")
boto3.client("dynamodb", **kw).create_table(
    TableName=f"{tag}-locks", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}])
PY

stack() { # DIR BACKEND
    mkdir -p "$1"
    cat >"$1/main.hcl" <<EOF
resource "aws_s3_bucket" "b" {
  count  = $N
  bucket = "$tag-$(basename "$1")-\${count.index}"
}
EOF
    if [ "$2" = s3 ]; then
        cat >"$1/backend.hcl" <<EOF
terraform {
  backend "s3" {
    bucket         = "$tag-state"
    key            = "bench/dumcel.tfstate"
    region         = "us-east-1"
    dynamodb_table = "$tag-locks"
  }
}
EOF
    fi
    (cd "$1" && "$BIN" init -no-color >/dev/null)
}
stack "$work/local" local
stack "$work/s3" s3

timed_apply() { # DIR -> seconds
    local start end
    start=$(date +%s.%N)
    (cd "$1" && "$BIN" apply -auto-approve -no-color >/dev/null)
    end=$(date +%s.%N)
    (cd "$1" && "$BIN" destroy -auto-approve -no-color >/dev/null)
    echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/local.times"
: >"$work/s3.times"
for run in $(seq "$RUNS"); do
    l=$(timed_apply "$work/local")
    s=$(timed_apply "$work/s3")
    echo "run $run: local backend ${l}s, S3 backend ${s}s" >&2
    echo "$l" >>"$work/local.times"
    echo "$s" >>"$work/s3.times"
done
ml=$(median <"$work/local.times")
ms=$(median <"$work/s3.times")
echo "apply of $N buckets, median of $RUNS: local backend ${ml}s, S3 backend ${ms}s, ratio $(echo "scale=2; $ms / $ml" | bc)"
