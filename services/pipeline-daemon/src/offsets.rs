//! Which offsets of each partition may be committed. A message is open from
//! the moment it is read until its push is done with (deployed, failed,
//! skipped, superseded or dead-lettered); the commit point of a partition is
//! its lowest open offset, or the one after the last read when none is open.
//! So a push is never committed before it ended, even when later pushes (of
//! other projects) ended first. A partition revoked from this worker is
//! forgotten: its commits are its next owner's.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

#[derive(Default)]
struct Partition {
    open: BTreeSet<i64>,
    /// One past the highest offset read.
    next: i64,
    committed: Option<i64>,
}

impl Partition {
    fn commit_point(&self) -> i64 {
        self.open.first().copied().unwrap_or(self.next)
    }
}

#[derive(Default)]
pub struct Offsets {
    partitions: BTreeMap<i32, Partition>,
}

impl Offsets {
    pub fn read(&mut self, partition: i32, offset: i64) {
        let p = self.partitions.entry(partition).or_default();
        p.open.insert(offset);
        p.next = p.next.max(offset + 1);
    }

    pub fn done(&mut self, partition: i32, offset: i64) {
        if let Some(p) = self.partitions.get_mut(&partition) {
            p.open.remove(&offset);
        }
    }

    /// How many messages of `partition` are open.
    pub fn open(&self, partition: i32) -> usize {
        self.partitions.get(&partition).map_or(0, |p| p.open.len())
    }

    /// The partitions whose commit point moved since the last call, with
    /// it; only `among` when given.
    pub fn to_commit(&mut self, among: Option<&[i32]>) -> Vec<(i32, i64)> {
        let mut out = Vec::new();
        for (&id, p) in &mut self.partitions {
            if among.is_some_and(|a| !a.contains(&id)) {
                continue;
            }
            let point = p.commit_point();
            if p.committed != Some(point) && point > 0 {
                p.committed = Some(point);
                out.push((id, point));
            }
        }
        out
    }

    /// Forgets `partition` (revoked): a push of it that ends later is not
    /// this worker's to commit.
    pub fn forget(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_point_waits_for_the_oldest_open_message() {
        let mut o = Offsets::default();
        for off in 10..13 {
            o.read(0, off);
        }
        o.read(1, 5);
        o.done(0, 11);
        o.done(0, 12);
        assert_eq!(o.to_commit(None), [(0, 10), (1, 5)]);
        assert_eq!(o.open(0), 1);
        o.done(0, 10);
        o.done(1, 5);
        assert_eq!(o.to_commit(Some(&[1])), [(1, 6)]);
        assert_eq!(o.to_commit(None), [(0, 13)]);
        assert_eq!(o.to_commit(None), [], "nothing moved");
    }

    #[test]
    fn a_forgotten_partition_is_never_committed() {
        let mut o = Offsets::default();
        o.read(3, 1);
        o.forget(3);
        o.done(3, 1);
        assert_eq!(o.to_commit(None), []);
        assert_eq!(o.open(3), 0);
    }
}
