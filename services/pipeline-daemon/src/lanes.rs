//! One lane per (project, environment) in a worker: one task runs its pushes
//! one at a time (see [`crate::lane`]) under the environment's lease. A
//! newer push joins the lane's queue and asks the running pipeline to stop
//! (it does, unless its deploy has started); when the lane takes its next
//! push it takes the newest, and the older ones waiting are superseded. A
//! push whose delivery is already running or waiting is a duplicate.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::pipeline::{Job, Stop};

/// Where a message came from: partition and offset.
pub type At = (i32, i64);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LaneKey {
    pub project: String,
    pub environment: String,
}

impl LaneKey {
    pub fn of(job: &Job) -> LaneKey {
        LaneKey {
            project: job.repo.project.clone(),
            environment: job.env.name.clone(),
        }
    }
}

struct Running {
    delivery: String,
    at: At,
    stop: watch::Sender<Stop>,
}

/// A lane's queue, shared by the worker's loop and the lane's task.
#[derive(Default)]
pub struct Lane {
    pending: Vec<(Job, At)>,
    running: Option<Running>,
    /// The task ended: the next push starts a new lane.
    closed: bool,
    /// Partitions whose pushes this worker gave up (revoked), or all of
    /// them (shutting down): none of their pushes runs again here.
    gone: Gone,
}

#[derive(Default)]
enum Gone {
    #[default]
    Nothing,
    Partitions(BTreeSet<i32>),
    All,
}

impl Gone {
    fn has(&self, partition: i32) -> bool {
        match self {
            Gone::Nothing => false,
            Gone::Partitions(p) => p.contains(&partition),
            Gone::All => true,
        }
    }
}

/// The next push of a lane, with its stop signal and the older pushes it
/// supersedes.
pub struct Next {
    pub job: Job,
    pub at: At,
    pub stop: watch::Receiver<Stop>,
    pub superseded: Vec<(Job, At)>,
}

impl Lane {
    /// Takes the newest waiting push; `None` closes the lane.
    pub fn take_next(&mut self) -> Option<Next> {
        self.running = None;
        let Some((job, at)) = self.pending.pop() else {
            self.closed = true;
            return None;
        };
        let superseded = std::mem::take(&mut self.pending);
        let (tx, stop) = watch::channel(Stop::Go);
        self.running = Some(Running {
            delivery: job.push.delivery.clone(),
            at,
            stop: tx,
        });
        Some(Next {
            job,
            at,
            stop,
            superseded,
        })
    }

    /// Puts a push that must be tried again back in front of the queue
    /// (behind any newer push, which then supersedes it); `false` when its
    /// partition is gone from this worker (it stays uncommitted).
    pub fn retry(&mut self, job: Job, at: At) -> bool {
        if self.gone.has(at.0) {
            return false;
        }
        self.pending.insert(0, (job, at));
        true
    }
}

pub type SharedLane = Arc<Mutex<Lane>>;

pub fn lock(lane: &SharedLane) -> std::sync::MutexGuard<'_, Lane> {
    lane.lock().unwrap_or_else(|p| p.into_inner())
}

/// What to do with a push just admitted.
pub enum Admitted {
    /// A new lane: start its task.
    Start(SharedLane),
    /// Queued in the lane already running.
    Queued,
    /// The same delivery is already running or waiting in its lane.
    Duplicate,
}

#[derive(Default)]
pub struct Lanes {
    lanes: HashMap<LaneKey, SharedLane>,
}

impl Lanes {
    pub fn admit(&mut self, job: Job, at: At) -> Admitted {
        let key = LaneKey::of(&job);
        if let Some(shared) = self.lanes.get(&key) {
            let mut lane = lock(shared);
            if !lane.closed {
                let delivery = &job.push.delivery;
                if lane
                    .running
                    .as_ref()
                    .is_some_and(|r| &r.delivery == delivery)
                    || lane
                        .pending
                        .iter()
                        .any(|(p, _)| &p.push.delivery == delivery)
                {
                    return Admitted::Duplicate;
                }
                if let Some(r) = &lane.running
                    && *r.stop.borrow() == Stop::Go
                {
                    r.stop.send_replace(Stop::Superseded {
                        by_sha: job.push.sha.clone(),
                    });
                }
                lane.pending.push((job, at));
                return Admitted::Queued;
            }
        }
        let lane = Arc::new(Mutex::new(Lane {
            pending: vec![(job, at)],
            ..Lane::default()
        }));
        self.lanes.insert(key, lane.clone());
        Admitted::Start(lane)
    }

    /// `partitions` are this worker's (again).
    pub fn assigned(&mut self, partitions: &[i32]) {
        for shared in self.lanes.values() {
            let mut lane = lock(shared);
            if let Gone::Partitions(had) = &mut lane.gone {
                had.retain(|p| !partitions.contains(p));
            }
        }
    }

    /// Forgets lanes whose task ended.
    pub fn prune(&mut self) {
        self.lanes.retain(|_, lane| !lock(lane).closed);
    }

    /// Stops the pushes read from `partitions` (revoked from this worker, or
    /// all of them for a shutdown): waiting ones are dropped (their offsets
    /// stay uncommitted, so the partition's next owner reads them again),
    /// running ones are asked to stop before their deploy.
    pub fn stop(&mut self, partitions: Option<&[i32]>) {
        let ours = |at: &At| partitions.is_none_or(|p| p.contains(&at.0));
        for shared in self.lanes.values() {
            let mut lane = lock(shared);
            lane.gone = match (std::mem::take(&mut lane.gone), partitions) {
                (_, None) | (Gone::All, _) => Gone::All,
                (Gone::Nothing, Some(p)) => Gone::Partitions(p.iter().copied().collect()),
                (Gone::Partitions(mut had), Some(p)) => {
                    had.extend(p);
                    Gone::Partitions(had)
                }
            };
            lane.pending.retain(|(_, at)| !ours(at));
            if let Some(r) = &lane.running
                && ours(&r.at)
            {
                r.stop.send_replace(Stop::Shutdown);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::environment::for_branch;
    use crate::push::{PUSH_SCHEMA_VERSION, Push};

    fn job(sha: char, branch: &str) -> Job {
        let config = Config::parse(
            "d.hcl",
            "target = \"ecs\"\nkafka { brokers = \"b:1\" }\ndomain = \"t\"\nrepository \"o/shop\" { previews = true }\n",
        )
        .unwrap();
        let repo = config.repositories["o/shop"].clone();
        Job {
            env: for_branch(&config, &repo, branch).unwrap(),
            repo,
            push: Push {
                schema_version: PUSH_SCHEMA_VERSION,
                delivery: format!("delivery-{sha}"),
                repository: "o/shop".into(),
                branch: branch.into(),
                sha: sha.to_string().repeat(40),
                deleted: false,
                action: Default::default(),
                message: String::new(),
                pusher: String::new(),
            },
            queued_at_ms: None,
        }
    }

    #[test]
    fn the_newest_push_runs_next_and_supersedes_the_older_waiting_ones() {
        let mut lanes = Lanes::default();
        let Admitted::Start(lane) = lanes.admit(job('a', "main"), (0, 1)) else {
            panic!("the first push starts a lane");
        };
        let first = lock(&lane).take_next().unwrap();
        assert_eq!(first.job.push.sha, "a".repeat(40));
        assert!(matches!(
            lanes.admit(job('b', "main"), (0, 2)),
            Admitted::Queued
        ));
        assert_eq!(
            *first.stop.borrow(),
            Stop::Superseded {
                by_sha: "b".repeat(40)
            }
        );
        assert!(matches!(
            lanes.admit(job('c', "main"), (0, 3)),
            Admitted::Queued
        ));
        assert!(matches!(
            lanes.admit(job('c', "main"), (0, 4)),
            Admitted::Duplicate
        ));
        // Other environments have lanes of their own.
        assert!(matches!(
            lanes.admit(job('d', "feature"), (0, 5)),
            Admitted::Start(_)
        ));

        let next = lock(&lane).take_next().unwrap();
        assert_eq!(
            (next.job.push.sha.clone(), next.at),
            ("c".repeat(40), (0, 3))
        );
        assert_eq!(
            next.superseded
                .iter()
                .map(|(j, at)| (j.push.sha.clone(), *at))
                .collect::<Vec<_>>(),
            [("b".repeat(40), (0, 2))]
        );
        assert_eq!(*next.stop.borrow(), Stop::Go);
        assert!(
            lock(&lane).take_next().is_none(),
            "the lane closes when empty"
        );
        assert!(
            matches!(lanes.admit(job('e', "main"), (0, 6)), Admitted::Start(_)),
            "a push after the lane closed starts a new one"
        );
    }

    #[test]
    fn stopping_partitions_drops_their_waiting_pushes_and_stops_their_running_ones() {
        let mut lanes = Lanes::default();
        let Admitted::Start(lane) = lanes.admit(job('a', "main"), (1, 1)) else {
            panic!("a lane starts");
        };
        let running = lock(&lane).take_next().unwrap();
        lanes.admit(job('b', "main"), (2, 7));
        lanes.stop(Some(&[1]));
        assert_eq!(*running.stop.borrow(), Stop::Shutdown);
        let next = lock(&lane).take_next().expect("partition 2's push stays");
        assert_eq!(next.at, (2, 7));
        assert!(
            !lock(&lane).retry(job('a', "main"), (1, 1)),
            "partition 1 is gone"
        );
        lanes.assigned(&[1]);
        assert!(lock(&lane).retry(job('a', "main"), (1, 1)), "and back");
        lanes.stop(None);
        assert!(
            !lock(&lane).retry(job('b', "main"), (2, 7)),
            "shutting down"
        );
    }
}
