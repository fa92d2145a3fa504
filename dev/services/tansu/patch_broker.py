#!/usr/bin/env python3
"""Mends tansu-broker 0.6.0's group coordinator before dev/services/kafka.sh
builds it: a member dropped for missed heartbeats must start a new generation.

Without it, the group goes back to forming under the same generation. The
first member to rejoin becomes leader and hands out an assignment that the
members which already synced that generation never receive: their heartbeats
still answer "no error", so a killed worker's partitions can stay with nobody
(services/pipeline-daemon/tests/chaos.rs caught it once in CI, and in one of
three runs on a loaded machine). Upstream fixed it after 0.6.0 (commit
50e5666, "fix group coordinator generation_id"), in releases that need a
newer Rust than this project's.

    dev/services/tansu/patch_broker.py TANSU_BROKER_SOURCE_DIR
"""

import sys
from pathlib import Path

FILE = "src/coordinator/group/administrator.rs"
OLD = """                        members: inner.members,
                        generation_id: inner.generation_id,
                        state: Forming {"""
NEW = """                        members: inner.members,
                        // dumcel: a missed heartbeat starts a new generation
                        // (dev/services/tansu/patch_broker.py says why).
                        generation_id: inner.generation_id + 1,
                        state: Forming {"""


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    path = Path(sys.argv[1]) / FILE
    text = path.read_text()
    if text.count(OLD) != 1:
        sys.exit(f"{path}: the code to mend is not there once (another tansu version?)")
    path.write_text(text.replace(OLD, NEW))


if __name__ == "__main__":
    main()
