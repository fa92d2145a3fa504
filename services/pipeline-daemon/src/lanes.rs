//! One lane per (project, environment): at most one pipeline runs in it, and
//! at most one push waits behind it. A newer push replaces the waiting one
//! (which is superseded) and asks the running one to stop (it does, unless
//! its deploy has started). A push whose SHA is already running or waiting
//! is a duplicate delivery.

use std::collections::HashMap;

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
    sha: String,
    stop: watch::Sender<Stop>,
}

#[derive(Default)]
struct Lane {
    running: Option<Running>,
    waiting: Option<(Job, At)>,
}

/// What to do with a push just admitted.
pub enum Admitted {
    /// Start it now, watching `stop`.
    Start(watch::Receiver<Stop>),
    /// The same SHA is already running or waiting in its lane.
    Duplicate,
    /// It waits for the running pipeline; `replaced` is the push that was
    /// waiting before it, now superseded.
    Waiting { replaced: Option<Box<(Job, At)>> },
}

#[derive(Default)]
pub struct Lanes {
    lanes: HashMap<LaneKey, Lane>,
}

impl Lanes {
    pub fn admit(&mut self, job: Job, at: At) -> Admitted {
        let lane = self.lanes.entry(LaneKey::of(&job)).or_default();
        let same = |sha: &str| sha == job.push.sha && !job.push.deleted;
        let Some(running) = &lane.running else {
            let (tx, rx) = watch::channel(Stop::Go);
            lane.running = Some(Running {
                sha: job.push.sha.clone(),
                stop: tx,
            });
            return Admitted::Start(rx);
        };
        if same(&running.sha)
            || lane
                .waiting
                .as_ref()
                .is_some_and(|(w, _)| same(&w.push.sha))
        {
            return Admitted::Duplicate;
        }
        running.stop.send_replace(Stop::Superseded {
            by_sha: job.push.sha.clone(),
        });
        Admitted::Waiting {
            replaced: lane.waiting.replace((job, at)).map(Box::new),
        }
    }

    /// The lane's pipeline ended; the push to start next, with its stop
    /// signal, if one is waiting.
    pub fn finished(&mut self, key: &LaneKey) -> Option<(Job, At, watch::Receiver<Stop>)> {
        let lane = self.lanes.get_mut(key)?;
        lane.running = None;
        let Some((job, at)) = lane.waiting.take() else {
            self.lanes.remove(key);
            return None;
        };
        let (tx, rx) = watch::channel(Stop::Go);
        lane.running = Some(Running {
            sha: job.push.sha.clone(),
            stop: tx,
        });
        Some((job, at, rx))
    }

    /// Stops every lane for a shutdown: running pipelines are asked to stop,
    /// waiting pushes are dropped (their offsets stay uncommitted). How many
    /// pipelines are still running.
    pub fn shut_down(&mut self) -> usize {
        let mut running = 0;
        for lane in self.lanes.values_mut() {
            lane.waiting = None;
            if let Some(r) = &lane.running {
                r.stop.send_replace(Stop::Shutdown);
                running += 1;
            }
        }
        running
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
                delivery: "d".into(),
                repository: "o/shop".into(),
                branch: branch.into(),
                sha: sha.to_string().repeat(40),
                deleted: false,
                clone_url: String::new(),
            },
            queued_at_ms: None,
        }
    }

    #[test]
    fn a_newer_push_stops_the_running_one_and_replaces_the_waiting_one() {
        let mut lanes = Lanes::default();
        let Admitted::Start(stop_a) = lanes.admit(job('a', "main"), (0, 1)) else {
            panic!("the first push starts");
        };
        assert!(matches!(
            lanes.admit(job('b', "main"), (0, 2)),
            Admitted::Waiting { replaced: None }
        ));
        assert_eq!(
            *stop_a.borrow(),
            Stop::Superseded {
                by_sha: "b".repeat(40)
            }
        );
        let Admitted::Waiting {
            replaced: Some(replaced),
        } = lanes.admit(job('c', "main"), (0, 3))
        else {
            panic!("c replaces b");
        };
        let (replaced, at) = *replaced;
        assert_eq!(
            (replaced.push.sha.as_str(), at),
            ("b".repeat(40).as_str(), (0, 2))
        );

        // Other environments have lanes of their own.
        assert!(matches!(
            lanes.admit(job('d', "feature"), (0, 4)),
            Admitted::Start(_)
        ));

        let key = LaneKey::of(&job('a', "main"));
        let (next, at, stop_c) = lanes.finished(&key).expect("c is next");
        assert_eq!((next.push.sha, at), ("c".repeat(40), (0, 3)));
        assert_eq!(*stop_c.borrow(), Stop::Go);
        assert!(lanes.finished(&key).is_none());
        assert_eq!(
            lanes.shut_down(),
            1,
            "the feature branch's pipeline still runs"
        );
    }

    #[test]
    fn the_same_sha_twice_is_a_duplicate() {
        let mut lanes = Lanes::default();
        assert!(matches!(
            lanes.admit(job('a', "main"), (0, 1)),
            Admitted::Start(_)
        ));
        assert!(matches!(
            lanes.admit(job('a', "main"), (0, 2)),
            Admitted::Duplicate
        ));
        assert!(matches!(
            lanes.admit(job('b', "main"), (0, 3)),
            Admitted::Waiting { .. }
        ));
        assert!(matches!(
            lanes.admit(job('b', "main"), (0, 4)),
            Admitted::Duplicate
        ));
    }
}
