//! The pipeline's promises under faults, on the Docker-host target: three
//! workers in one group, pushes to three projects (production and a preview
//! each), workers killed with -9 and started again on a seeded schedule, and
//! the broker (tansu, its log in moto's S3) restarted once in the middle.
//! The broker expires a silent worker's membership after 6 s (librdkafka's
//! default is 45), so a killed worker's partitions move within the test.
//! At the end, read from the world and from the records file:
//! - every environment serves its last pushed commit (through the router)
//!   and runs that commit's image (Docker's API);
//! - every push has exactly one record, and it is final (none in progress);
//! - no commit was deployed twice.
//!
//! The schedule comes from DUMCEL_CHAOS_SEED (default 7) and
//! DUMCEL_CHAOS_PUSHES (default 30); bench/chaos.sh runs long ones.

mod common;
#[path = "../../../tests/docker_support/mod.rs"]
mod docker_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::harness::{Daemon, Harness, Target};
use docker_support::{ProjectLeftovers, docker, require_docker, routed_get};
use serde_json::Value;

/// A small seeded generator (xorshift64*): the same seed, the same schedule.
struct Schedule(u64);

impl Schedule {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The rows of the records file, as a person would read them with sqlite3:
/// (project, environment, delivery, sha, outcome).
fn records(h: &Harness) -> Vec<(String, String, String, String, String)> {
    let db = h.dir.path().join("daemon/deployments.sqlite3");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, json; print(json.dumps(sqlite3.connect(sys.argv[1]).execute('select project, environment, delivery, sha, outcome from pushes').fetchall()))",
        ])
        .arg(&db)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

fn host(project: &str, environment: &str) -> String {
    match environment {
        "production" => format!("{project}.localhost"),
        _ => format!("feature--{project}.localhost"),
    }
}

/// The image tags of the containers running for an environment.
fn running(project: &str, environment: &str) -> Vec<String> {
    docker(&[
        "ps",
        "--filter",
        &format!("label=dumcel.project={project}"),
        "--filter",
        &format!("label=dumcel.environment={environment}"),
        "--format",
        "{{.Image}}",
    ])
    .unwrap_or_default()
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_push_ends_once_and_every_environment_on_its_last_commit_through_kills() {
    require_docker();
    let seed = env_number("DUMCEL_CHAOS_SEED", 7).max(1);
    let pushes = env_number("DUMCEL_CHAOS_PUSHES", 30);
    let mut schedule = Schedule(seed);

    let mut broker = Broker::start().await;
    let mut a = Harness::on_broker(Target::Docker, "max_attempts = 5", &broker.addr);
    a.expire_members_quickly();
    let b = Harness::sharing(&a, Target::Docker);
    let c = Harness::sharing(&a, Target::Docker);
    a.add_repository(&b);
    a.add_repository(&c);
    let _leftovers = ProjectLeftovers(vec![
        a.project.clone(),
        b.project.clone(),
        c.project.clone(),
    ]);

    let mut workers: Vec<Daemon> = (0..3).map(|_| a.worker()).collect();
    let mut kills = 0;
    let mut last: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut deliveries = BTreeSet::new();
    let restart_at = pushes / 2;
    for i in 0..pushes {
        if i == restart_at {
            eprintln!("push {i}: restarting the broker");
            broker.restart(Duration::from_secs(2));
        }
        let h = [&a, &b, &c][schedule.below(3) as usize];
        let (branch, environment) = if schedule.below(3) == 0 {
            ("feature", "preview-feature")
        } else {
            ("main", "production")
        };
        let text = format!("{} push {i}", h.project);
        let sha = h.commit(branch, "www/index.html", &format!("{text}\n"));
        let push = h.push_of(branch, &sha, false);
        deliveries.insert(push.delivery.clone());
        h.produce(&common::harness::Message::signed(
            &push,
            common::harness::SIGNING_KEY.as_bytes(),
        ))
        .await;
        last.insert((h.project.clone(), environment.to_owned()), (sha, text));
        if schedule.below(4) == 0 {
            let victim = schedule.below(workers.len() as u64) as usize;
            eprintln!("push {i}: kill -9 worker {victim}");
            let _ = workers[victim].child.kill();
            let _ = workers[victim].child.wait();
            kills += 1;
            // Started again after a while, as a supervisor would.
            std::thread::sleep(Duration::from_millis(schedule.below(1500)));
            workers[victim] = a.worker();
        }
        std::thread::sleep(Duration::from_millis(schedule.below(2500)));
    }
    eprintln!("{pushes} pushes, {kills} kills, one broker restart; waiting for the end");

    // Every environment ends on its last commit: the page the router serves
    // and the image Docker runs.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let behind: Vec<String> = last
            .iter()
            .filter(|((project, environment), (sha, text))| {
                let served = routed_get(&host(project, environment))
                    .map(|r| r.body.trim().to_owned())
                    .unwrap_or_default();
                let images = running(project, environment);
                served != *text || images.len() != 1 || !images[0].ends_with(&format!(":{sha}"))
            })
            .map(|((p, e), (sha, _))| format!("{p}/{e} (want {sha})"))
            .collect();
        let rows = records(&a);
        let in_progress = rows.iter().filter(|r| r.4 == "in_progress").count();
        if behind.is_empty() && in_progress == 0 {
            break;
        }
        if Instant::now() > deadline {
            let logs: String = workers.iter().map(Daemon::log).collect();
            panic!(
                "not settled: behind {behind:?}, {in_progress} in progress\nrecords {rows:#?}\nlogs:\n{logs}"
            );
        }
        std::thread::sleep(Duration::from_secs(2));
    }

    // Every push has exactly one record, and it is final.
    let rows = records(&a);
    let recorded: BTreeMap<&str, Vec<&str>> =
        rows.iter()
            .fold(BTreeMap::new(), |mut by, (_, _, delivery, _, outcome)| {
                by.entry(delivery.as_str())
                    .or_default()
                    .push(outcome.as_str());
                by
            });
    for delivery in &deliveries {
        let outcomes = recorded.get(delivery.as_str()).cloned().unwrap_or_default();
        assert_eq!(outcomes.len(), 1, "{delivery}: {outcomes:?}\n{rows:#?}");
        assert_ne!(outcomes[0], "in_progress", "{delivery}");
    }
    assert_eq!(
        recorded.len(),
        deliveries.len(),
        "no record of a push never made"
    );

    // No commit was deployed twice.
    let events: Vec<Value> = a.all_steps();
    let mut succeeded: BTreeMap<String, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e["event"] == "deploy_succeeded") {
        *succeeded
            .entry(e["sha"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = succeeded.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "deployed more than once: {twice:?}");

    for mut w in workers {
        assert!(
            w.terminate(Duration::from_secs(60)).success(),
            "{}",
            w.log()
        );
    }
}

/// A push that kills its worker every time (here: a worker killed during
/// each build) is started `max_attempts` times, then recorded as failed and
/// sent to the dead-letter topic with the reason; the partition goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_kills_its_worker_each_time_is_dead_lettered_after_max_attempts() {
    require_docker();
    let mut h = Harness::on(Target::Docker, "max_attempts = 2");
    h.expire_members_quickly();
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let sha = h.commit_slow_build(60);
    let push = h.push_of("main", &sha, false);
    h.produce(&common::harness::Message::signed(
        &push,
        common::harness::SIGNING_KEY.as_bytes(),
    ))
    .await;
    for attempt in 1..=2 {
        let mut worker = h.worker();
        h.events_until(&worker, Duration::from_secs(240), |e| {
            e.iter()
                .filter(|ev| ev["sha"] == sha.as_str() && ev["event"] == "build_started")
                .count()
                >= attempt
        });
        worker.child.kill().unwrap();
        worker.child.wait().unwrap();
    }
    let worker = h.worker();
    h.events_until(&worker, Duration::from_secs(240), |e| {
        e.iter()
            .any(|ev| ev["sha"] == sha.as_str() && ev["event"] == "deploy_failed")
    });
    let letters = h.dead_letters();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let reason = letters[0]["reason"].as_str().unwrap();
    assert!(reason.contains("gave up after 2 attempts"), "{reason}");
    assert!(
        letters[0]["payload"]
            .as_str()
            .unwrap()
            .contains(&push.delivery)
    );
    let rows = records(&h);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].4, "deploy_failed");
    assert!(
        running(&h.project, "production").is_empty(),
        "nothing was deployed"
    );
}

/// The ECS target's first deploys under the same faults, on moto (which
/// completes a service's first deployment only, so each environment gets
/// one push): three workers, six environments, kills and a broker restart;
/// every service ends on its push's image (the ECS API) and every push has
/// one final record (DynamoDB).
#[tokio::test(flavor = "multi_thread")]
async fn first_deploys_on_ecs_end_once_through_kills() {
    let seed = env_number("DUMCEL_CHAOS_SEED", 7).max(1);
    let mut schedule = Schedule(seed);
    let mut broker = Broker::start().await;
    let mut a = Harness::on_broker(Target::Ecs, "max_attempts = 5", &broker.addr);
    a.expire_members_quickly();
    let b = Harness::sharing(&a, Target::Ecs);
    let c = Harness::sharing(&a, Target::Ecs);
    a.add_repository(&b);
    a.add_repository(&c);
    let mut workers: Vec<Daemon> = (0..3).map(|_| a.worker()).collect();

    let mut want = Vec::new();
    for i in 0..3 {
        let h = [&a, &b, &c][i];
        for (branch, environment) in [("main", "production"), ("feature", "preview-feature")] {
            let sha = h.commit(
                branch,
                "www/index.html",
                &format!("{} {branch}\n", h.project),
            );
            h.produce(&common::harness::Message::signed(
                &h.push_of(branch, &sha, false),
                common::harness::SIGNING_KEY.as_bytes(),
            ))
            .await;
            want.push((i, environment, sha));
        }
        if i == 1 {
            broker.restart(Duration::from_secs(2));
        }
        let victim = schedule.below(3) as usize;
        std::thread::sleep(Duration::from_millis(schedule.below(4000)));
        let _ = workers[victim].child.kill();
        let _ = workers[victim].child.wait();
        workers[victim] = a.worker();
    }

    let deadline = Instant::now() + Duration::from_secs(600);
    for (i, environment, sha) in &want {
        let h = [&a, &b, &c][*i];
        loop {
            let records = a.records_of(&h.project, environment).await;
            if records.len() == 1 && records[0].1 != "in_progress" {
                assert_eq!(
                    records[0],
                    (sha.clone(), "succeeded".to_owned(), h.image(sha))
                );
                break;
            }
            if Instant::now() > deadline {
                let logs: String = workers.iter().map(Daemon::log).collect();
                panic!("{}/{environment}: {records:?}\n{logs}", h.project);
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        assert_eq!(h.running_image(environment).await.0, h.image(sha));
    }
    let events = a.all_steps();
    let succeeded: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "deploy_succeeded")
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["project"], e["environment"], e["delivery"], e["at"]
            )
        })
        .collect();
    assert_eq!(
        succeeded.len(),
        want.len(),
        "one deployment per push: {succeeded:#?}\n{}",
        workers.iter().map(Daemon::log).collect::<String>()
    );
    for mut w in workers {
        assert!(
            w.terminate(Duration::from_secs(60)).success(),
            "{}",
            w.log()
        );
    }
}

/// A worker frozen (SIGSTOP) in the middle of a build loses its lease and
/// its partition; another worker takes the push over and deploys it. When
/// the frozen one wakes up, its lease is fenced: it deploys nothing and
/// writes nothing, and the push is deployed and recorded once.
#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_worker_that_lost_its_lease_touches_nothing_when_it_wakes() {
    require_docker();
    let mut h = Harness::on(Target::Docker, "");
    h.expire_members_quickly();
    let _leftovers = ProjectLeftovers(vec![h.project.clone()]);
    let sha = h.commit_slow_build(15);
    h.produce(&h.push("main", &sha, false)).await;
    let frozen = h.worker();
    let count = |e: &[Value], name: &str| {
        e.iter()
            .filter(|ev| ev["sha"] == sha.as_str() && ev["event"] == name)
            .count()
    };
    h.events_until(&frozen, Duration::from_secs(240), |e| {
        count(e, "build_started") == 1
    });
    let signal = |sig: &str| {
        let pid = frozen.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    signal("-STOP");

    let other = h.worker();
    let events = h.events_until(&other, Duration::from_secs(240), |e| {
        count(e, "deploy_succeeded") == 1
    });
    assert_eq!(
        count(&events, "build_started"),
        2,
        "taken over: built again"
    );
    signal("-CONT");
    // The woken worker finishes its build, finds its lease gone, and stops.
    let deadline = Instant::now() + Duration::from_secs(90);
    while !frozen.log().contains("lease lost") && !frozen.log().contains("partitions revoked") {
        assert!(Instant::now() < deadline, "{}", frozen.log());
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(20));
    let events = h.all_events();
    assert_eq!(count(&events, "deploy_started"), 1, "deployed once");
    assert_eq!(count(&events, "deploy_succeeded"), 1);
    let rows = records(&h);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].4, "succeeded");
    let host = format!("{}.localhost", h.project);
    assert_eq!(running(&h.project, "production").len(), 1);
    assert_eq!(routed_get(&host).unwrap().status, 200);
}
