#!/usr/bin/env python3
"""Mends tansu-broker 0.6.0's group coordinator before dev/services/kafka.sh
builds it. Two mends, both about a member dropped for missed heartbeats:

1. It must start a new generation. Without it, the group goes back to
   forming under the same generation. The first member to rejoin becomes
   leader and hands out an assignment that the members which already synced
   that generation never receive: their heartbeats still answer "no error",
   so a killed worker's partitions can stay with nobody
   (services/pipeline-daemon/tests/chaos.rs caught it once in CI, and in one
   of three runs on a loaded machine). Upstream fixed it after 0.6.0 (commit
   50e5666, "fix group coordinator generation_id"), in releases that need a
   newer Rust than this project's.

2. While the group forms, only its leader's SyncGroup may settle it. A
   follower's JoinGroup answer names the leader as the coordinator saw it
   3 s earlier (tansu holds a follower's join that long). When the leader
   was a killed worker whose session ran out in between, the follower's
   sync found no leader at all, and tansu took its empty list of
   assignments as the group's: the group formed with every partition
   assigned to nobody, and stayed so, heartbeats answering "no error". It
   takes a new member that joined a few seconds after the leader's last
   heartbeat (services/pipeline-daemon/tests/worker.rs, a worker killed mid
   build and restarted: once in CI on a loaded machine, and in the one run
   with a 5 s restart delay before this mend). A sync from anyone but
   the leader, a missing leader included, now answers "rebalance in
   progress", as one from a follower already did: the member joins again
   and, alone, leads.

    dev/services/tansu/patch_broker.py TANSU_BROKER_SOURCE_DIR
"""

import sys
from pathlib import Path

FILE = "src/coordinator/group/administrator.rs"
MENDS = [
    (
        """                        members: inner.members,
                        generation_id: inner.generation_id,
                        state: Forming {""",
        """                        members: inner.members,
                        // dumcel: a missed heartbeat starts a new generation
                        // (dev/services/tansu/patch_broker.py says why).
                        generation_id: inner.generation_id + 1,
                        state: Forming {""",
    ),
    (
        """            .is_some_and(|leader_id| member_id != leader_id.as_str())""",
        """            // dumcel: no leader is not a leader's sync
            // (dev/services/tansu/patch_broker.py says why).
            .is_none_or(|leader_id| member_id != leader_id.as_str())""",
    ),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    path = Path(sys.argv[1]) / FILE
    text = path.read_text()
    for number, (old, new) in enumerate(MENDS, 1):
        if text.count(old) != 1:
            sys.exit(f"{path}: the code of mend {number} is not there once (another tansu version?)")
        text = text.replace(old, new)
    path.write_text(text)


if __name__ == "__main__":
    main()
