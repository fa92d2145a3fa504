#!/usr/bin/env bash
# Removes test and binary executables in $CARGO_TARGET_DIR/debug/deps that a
# newer build of the same target has replaced (every rebuild leaves one behind,
# hundreds of MB each), and the incremental cache when the disk is nearly full.
# A full disk shows up as a linker "Bus error", not as a clear message.
set -euo pipefail
cd "$(dirname "$0")/.."
. dev/env.sh
deps="$CARGO_TARGET_DIR/debug/deps"
[ -d "$deps" ] || exit 0
python3 - "$deps" <<'PY'
import os, sys, collections
deps = sys.argv[1]
newest = collections.defaultdict(list)
for name in os.listdir(deps):
    path = os.path.join(deps, name)
    # Executables have no extension; libraries (.rlib, .rmeta, .so, .d) are kept.
    if "." in name or "-" not in name or not os.path.isfile(path) or not os.access(path, os.X_OK):
        continue
    newest[name.rsplit("-", 1)[0]].append((os.path.getmtime(path), path))
freed = 0
for versions in newest.values():
    versions.sort()
    for _, path in versions[:-1]:
        freed += os.path.getsize(path)
        os.remove(path)
if freed:
    print(f"pruned {freed / 1e9:.1f} GB of replaced executables from {deps}", file=sys.stderr)
PY
free_kb=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((10 * 1024 * 1024)) ]; then
    echo "less than 10 GB free: removing $CARGO_TARGET_DIR/debug/incremental" >&2
    rm -rf "$CARGO_TARGET_DIR/debug/incremental"
fi
