#!/usr/bin/env bash
# A real browser for the dashboard's end-to-end tests: Debian's chromium,
# driven by Playwright (the npm package playwright-core, which uses the
# installed browser and downloads none), installed once under
# $DUMCEL_CACHE/browser. Prints the directory holding playwright-core's
# node_modules, for tests to load it from (DUMCEL_PLAYWRIGHT).
set -euo pipefail
cd "$(dirname "$0")/../.."
. dev/env.sh
version=1.64.1
dir="$DUMCEL_CACHE/browser"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
# Fonts, so that screenshots show text.
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)" >&2
  mkdir -p "$DUMCEL_CACHE"
  { as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      apt-get install -y -qq "${missing[@]}"; } >"$DUMCEL_CACHE/browser-apt.log" 2>&1 || {
    echo "installing ${missing[*]} failed; the end of $DUMCEL_CACHE/browser-apt.log:" >&2
    tail -n 20 "$DUMCEL_CACHE/browser-apt.log" >&2
    exit 1
  }
fi
if ! grep -qs "\"version\": \"$version\"" "$dir/node_modules/playwright-core/package.json"; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent "playwright-core@$version" >&2
fi
echo "$dir"
