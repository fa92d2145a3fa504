//! A project's numbers, from its records: how many builds and deploys,
//! how many failed, and the median time each takes.

use std::time::Duration;

use super::layout::between;
use crate::records::{Outcome, Record};

#[derive(Debug, PartialEq, Eq)]
pub struct Analytics {
    /// Pushes that built an image, or failed to.
    pub builds: usize,
    /// Deployments that ended serving what they deployed.
    pub deploys: usize,
    /// Builds that failed, deploys that failed or were rolled back.
    pub failures: usize,
    /// From the push's start to its image pushed.
    pub median_build: Option<Duration>,
    /// From the image (or the action's start, when it built none) to the
    /// environment serving it.
    pub median_deploy: Option<Duration>,
}

impl Analytics {
    pub fn of(records: &[Record]) -> Analytics {
        let built = |r: &&Record| !r.built_at.is_empty() || r.outcome == Outcome::BuildFailed;
        let succeeded = |r: &&Record| r.outcome == Outcome::Succeeded;
        let failed = |r: &&Record| {
            matches!(
                r.outcome,
                Outcome::BuildFailed | Outcome::DeployFailed | Outcome::RolledBack
            )
        };
        let build_times = records
            .iter()
            .filter_map(|r| between(&r.started_at, &r.built_at))
            .collect();
        let deploy_times = records
            .iter()
            .filter(succeeded)
            .filter_map(|r| {
                let from = if r.built_at.is_empty() {
                    &r.started_at
                } else {
                    &r.built_at
                };
                between(from, &r.finished_at)
            })
            .collect();
        Analytics {
            builds: records.iter().filter(built).count(),
            deploys: records.iter().filter(succeeded).count(),
            failures: records.iter().filter(failed).count(),
            median_build: median(build_times),
            median_deploy: median(deploy_times),
        }
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut values: Vec<Duration>) -> Option<Duration> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome, started: &str, built: &str, finished: &str) -> Record {
        Record {
            outcome,
            started_at: format!("2026-12-01T10:{started}Z"),
            built_at: if built.is_empty() {
                String::new()
            } else {
                format!("2026-12-01T10:{built}Z")
            },
            finished_at: format!("2026-12-01T10:{finished}Z"),
            ..Record::start("shop", "production", "d", "main", "sha")
        }
    }

    #[test]
    fn counts_and_medians_come_from_the_records() {
        let records = [
            // Built in 30 s, deployed in 10 s.
            record(Outcome::Succeeded, "00:00", "00:30", "00:40"),
            // Built in 50 s, deployed in 20 s.
            record(Outcome::Succeeded, "01:00", "01:50", "02:10"),
            // Built in 40 s, then the deploy failed and was rolled back.
            record(Outcome::RolledBack, "03:00", "03:40", "04:00"),
            // The build failed: no image, no build time.
            record(Outcome::BuildFailed, "05:00", "", "05:20"),
            // A rollback: no build, deployed in 6 s.
            record(Outcome::Succeeded, "06:00", "", "06:06"),
            record(Outcome::Superseded, "07:00", "", "07:01"),
        ];
        assert_eq!(
            Analytics::of(&records),
            Analytics {
                builds: 4,
                deploys: 3,
                failures: 2,
                median_build: Some(Duration::from_secs(40)),
                median_deploy: Some(Duration::from_secs(10)),
            }
        );
        let none = Analytics::of(&[]);
        assert_eq!((none.builds, none.median_build), (0, None));
    }
}
