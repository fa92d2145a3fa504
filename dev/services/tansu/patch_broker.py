#!/usr/bin/env python3
"""Mends tansu-broker 0.6.0's group coordinator before dev/services/kafka.sh
builds it. Four mends, all about a member dropped for missed heartbeats:

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

3. A formed group's heartbeat dropped a silent member by itself: it took the
   member out, answered "rebalance in progress" to the one member whose
   heartbeat noticed, and kept the group formed, under the same generation
   and with the dead member's partitions still assigned to it. The others
   went on heartbeating with "no error"; the one told to rebalance joined
   again and, when its subscription was what it had sent before (a worker
   that owns nothing new), was handed the same generation and assignment
   back. The dead member's partitions stayed with nobody
   (services/pipeline-daemon/tests/worker.rs,
   a_worker_killed_for_good_hands_its_partition_to_the_one_left, which
   sets up exactly that case; chaos.rs once in CI). The heartbeat now leaves the dropping to the
   controller's check right after it, which is mend 1's: a new generation,
   and every member's next heartbeat answers "rebalance in progress".

4. A forming group took its leader's assignments even when they were made
   for members that had since been dropped (or without members that had
   joined since): the group formed with partitions assigned to a member
   that was no longer there, and nothing would move them. The leader's
   sync now settles the group only when it assigns to exactly the group's
   members; otherwise it answers "rebalance in progress", and the leader
   joins again and sees who is there.

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
    (
        """        if self.missed_heartbeat(group_id, now) || (generation_id < self.generation_id) {
            return (""",
        """        // dumcel: the controller drops a silent member after this, with a
        // new generation (dev/services/tansu/patch_broker.py, mend 3).
        if generation_id < self.generation_id {
            return (""",
    ),
    (
        """        debug!(?assignments);
""",
        """        debug!(?assignments);

        // dumcel: assignments for other members than the group's do not
        // settle it (dev/services/tansu/patch_broker.py, mend 4).
        if !assignments.keys().eq(self.members.keys()) {
            debug!(?self.members, sync_outcome = ?ErrorCode::RebalanceInProgress);

            let sync_group_response = SyncGroupResponse::default()
                .throttle_time_ms(Some(0))
                .error_code(ErrorCode::RebalanceInProgress.into())
                .protocol_type(self.state.protocol_type.clone())
                .protocol_name(self.state.protocol_name.clone())
                .assignment(Bytes::from_static(b""));

            return (self.into(), sync_group_response.into());
        }
""",
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
