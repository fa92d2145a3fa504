#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test of every crate
# (unit, property and end-to-end tests of the real binary). The Docker
# provider's tests need a Docker engine and local registries: started first by
# dev/services/docker.sh (installs them on a fresh Debian machine; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The property tests draw the same cases on every run, so a red CI is never
# luck; `PROPTEST_RNG_SEED=N dev/test.sh` (or plain `cargo test`, which seeds
# at random) explores others.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-1}"
# The services install and the broker builds while cargo checks and builds.
. dev/services/prepare.sh
prepare_start
# Each step's start, in seconds since this script started (bench/first_run.sh
# reads them to say where a run's time went).
step() { echo "== $* ($SECONDS s since the test run started)"; }

bash dev/prune-target.sh
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# Built before the services are waited for: the broker's build and the
# services' installs then finish in whatever the test build leaves idle.
step "cargo test --no-run"
cargo test --workspace --no-run
step "services"
prepare_wait services
bash dev/services/docker.sh
# The Docker-host target's router (HAProxy) on 127.0.0.1:8480, runtime API :8481.
bash dev/services/router.sh
# The AWS provider's tests talk to moto on loopback, with fake credentials;
# IMDS is off so nothing ever looks past 127.0.0.1 for credentials or region.
AWS_ENDPOINT_URL="$(bash dev/services/moto.sh)"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
# The pipeline daemon's tests: a Kafka-compatible broker (tansu) on loopback
# and GitHub's example webhook payloads.
prepare_wait broker
DUMCEL_KAFKA="$(bash dev/services/kafka.sh)"
DUMCEL_GITHUB_EXAMPLES="$(bash dev/fixtures/github-examples.sh)"
# The API's sign-in tests: a real OpenID Connect provider (oidc-provider).
DUMCEL_OIDC_SERVER="$(bash dev/services/oidc.sh)"
# The dashboard's end-to-end tests: Debian's chromium and Playwright.
DUMCEL_PLAYWRIGHT="$(bash dev/services/browser.sh)"
export DUMCEL_KAFKA DUMCEL_GITHUB_EXAMPLES DUMCEL_OIDC_SERVER DUMCEL_PLAYWRIGHT
# A real Terraform (1.0.3 and the null provider) writes the states that
# tests/terraform_state.rs takes over.
DUMCEL_TERRAFORM_103="$(bash dev/install-terraform.sh)"
export DUMCEL_TERRAFORM_103
step "cargo test"
cargo test --workspace --no-fail-fast
