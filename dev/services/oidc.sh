#!/usr/bin/env bash
# A real OpenID Connect provider for the pipeline API's sign-in tests: the npm
# package oidc-provider, installed once under $DUMCEL_CACHE/oidc beside
# dev/services/oidc-server.mjs (the tests start one per test, on a port of
# their own). Prints the server script's path.
set -euo pipefail
cd "$(dirname "$0")/../.."
. dev/env.sh
version=8.8.1
dir="$DUMCEL_CACHE/oidc"
if ! grep -qs "\"version\": \"$version\"" "$dir/node_modules/oidc-provider/package.json"; then
    if ! command -v npm >/dev/null; then
        apt-get install -y -q nodejs npm >&2
    fi
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "oidc-provider@$version" >&2
fi
# Beside its node_modules, so that `import 'oidc-provider'` finds it.
cp dev/services/oidc-server.mjs "$dir/server.mjs"
echo "$dir/server.mjs"
