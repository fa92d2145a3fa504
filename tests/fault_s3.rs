//! Crashes and interrupts of real applies against moto, state in S3 with the
//! DynamoDB lock: `kill -9` or Ctrl-C after k completed operations (k spread
//! over the run) of a create, an update and a destroy of 100 objects of four
//! types; Ctrl-C once and twice, SIGTERM, an interrupted plan; and a journal
//! left by a crash that no longer fits the state in S3. After each fault the next command runs from the
//! same directory or from a fresh copy of the configuration (a second machine),
//! and the world is checked through the AWS SDK, not through dumcel: every
//! object that exists is in the state, no lock needs force-unlock, the state
//! loads, a final apply converges and destroy leaves nothing.
//!
//! The schedule of kill points is seeded: `DUMCEL_FAULT_SEED` picks it and
//! `DUMCEL_FAULT_KILLS` how many per create and destroy (3 here);
//! `bench/faults.sh` runs a longer one.

mod common;
#[path = "common/aws.rs"]
mod emulator;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Run, TestStack};
use emulator::{emulator_env, lock_table, s3, sdk, unique};

const BUCKETS: usize = 30;
const TABLES: usize = 25;
const REPOSITORIES: usize = 25;
const CLUSTERS: usize = 20;
const OBJECTS: usize = BUCKETS + TABLES + REPOSITORIES + CLUSTERS;

/// A stack of 100 objects named `<prefix>-<kind>-<i>`, its state in S3.
fn stack_hcl(prefix: &str, state_bucket: &str) -> String {
    format!(
        r#"terraform {{
  backend "s3" {{
    bucket         = "{state_bucket}"
    key            = "faults/dumcel.tfstate"
    region         = "us-east-1"
    dynamodb_table = "{state_bucket}-locks"
  }}
}}

variable "generation" {{
  type    = string
  default = "1"
}}

resource "aws_s3_bucket" "b" {{
  count  = {BUCKETS}
  bucket = "{prefix}-b-${{count.index}}"
  tags   = {{ generation = var.generation }}
}}

resource "aws_dynamodb_table" "t" {{
  count        = {TABLES}
  name         = "{prefix}-t-${{count.index}}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
  tags = {{ generation = var.generation }}
}}

resource "aws_ecr_repository" "r" {{
  count = {REPOSITORIES}
  name  = "{prefix}-r-${{count.index}}"
  tags  = {{ generation = var.generation }}
}}

resource "aws_ecs_cluster" "c" {{
  count = {CLUSTERS}
  name  = "{prefix}-c-${{count.index}}"
  tags  = {{ generation = var.generation }}
}}
"#
    )
}

/// The state bucket and lock table, made with the SDK.
async fn state_backend(name: &str) {
    let c = sdk().await;
    s3(&c).create_bucket().bucket(name).send().await.unwrap();
    lock_table(&c, &format!("{name}-locks")).await;
}

/// Names of every object of this run that exists, asked of each service.
async fn existing(prefix: &str) -> BTreeSet<String> {
    let c = sdk().await;
    let mut out = BTreeSet::new();
    for b in s3(&c).list_buckets().send().await.unwrap().buckets() {
        out.extend(
            b.name()
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    let ddb = aws_sdk_dynamodb::Client::new(&c);
    let mut tables = ddb.list_tables().into_paginator().items().send();
    while let Some(t) = tables.next().await {
        let t = t.unwrap();
        if t.starts_with(prefix) {
            out.insert(t);
        }
    }
    let ecr = aws_sdk_ecr::Client::new(&c);
    for r in ecr
        .describe_repositories()
        .send()
        .await
        .unwrap()
        .repositories()
    {
        out.extend(
            r.repository_name()
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    let ecs = aws_sdk_ecs::Client::new(&c);
    let arns = ecs
        .list_clusters()
        .send()
        .await
        .unwrap()
        .cluster_arns()
        .to_vec();
    if !arns.is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(arns))
            .send()
            .await
            .unwrap();
        for cluster in described.clusters() {
            if cluster.status() == Some("ACTIVE") {
                out.extend(
                    cluster
                        .cluster_name()
                        .filter(|n| n.starts_with(prefix))
                        .map(str::to_owned),
                );
            }
        }
    }
    out
}

/// The state object in S3, as the SDK reads it.
async fn remote_state(state_bucket: &str) -> serde_json::Value {
    remote_state_if_any(state_bucket)
        .await
        .expect("the state object exists and is JSON")
}

/// The state object in S3, if there is one yet.
async fn remote_state_if_any(state_bucket: &str) -> Option<serde_json::Value> {
    let c = sdk().await;
    let got = s3(&c)
        .get_object()
        .bucket(state_bucket)
        .key("faults/dumcel.tfstate")
        .send()
        .await
        .ok()?;
    let bytes = got.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&bytes).ok()
}

/// Names the state records (bucket, table, repository and cluster names).
fn recorded(state: &serde_json::Value) -> BTreeSet<String> {
    state["resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| {
            let a = &r["attributes"];
            a["bucket"].as_str().or_else(|| a["name"].as_str())
        })
        .map(str::to_owned)
        .collect()
}

async fn lock_held(state_bucket: &str) -> bool {
    let c = sdk().await;
    aws_sdk_dynamodb::Client::new(&c)
        .get_item()
        .table_name(format!("{state_bucket}-locks"))
        .key(
            "LockID",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "{state_bucket}/faults/dumcel.tfstate"
            )),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .is_some()
}

fn run(s: &TestStack, args: &[&str]) -> Run {
    Run::from(
        emulator_env(&mut s.command(args))
            .output()
            .expect("run dumcel"),
    )
}

fn ok(s: &TestStack, args: &[&str]) -> Run {
    let r = run(s, args);
    assert_eq!(r.code, 0, "dumcel {args:?} failed:\n{}", r.all());
    r
}

/// A running dumcel whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

fn start(s: &TestStack, args: &[&str]) -> Running {
    let mut child = emulator_env(&mut s.command(args))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dumcel");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    Running {
        child,
        lines,
        seen: Vec::new(),
    }
}

impl Running {
    /// Waits until `k` operations completed; false if it finished first.
    fn wait_completed(&mut self, k: usize) -> bool {
        self.wait_lines(" complete after", k)
    }

    /// Waits until `k` lines of stdout contain `text`; false if it finished first.
    fn wait_lines(&mut self, text: &str, k: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(240);
        while self.count(text) < k {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => return false,
            }
        }
        true
    }

    fn count(&self, text: &str) -> usize {
        self.seen.iter().filter(|l| l.contains(text)).count()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit; stdout is every line it printed.
    fn finish(mut self) -> Run {
        let mut run = Run::from(self.child.wait_with_output().unwrap());
        // The reader thread ends at the pipe's end, closing the channel.
        self.seen.extend(self.lines.iter());
        run.stdout = self.seen.join("\n");
        run
    }
}

/// A fresh directory with only the configuration, as a second machine has it.
fn fresh_copy(hcl: &str) -> TestStack {
    let s = TestStack::new(hcl);
    ok(&s, &["init", "-no-color"]);
    s
}

/// The promises after a fault: the next command (in `next`) takes the lock
/// without force-unlock and records every object that exists.
async fn check_after_fault(next: &TestStack, prefix: &str, state_bucket: &str, what: &str) {
    let plan = run(next, &["plan", "-no-color", "-lock-timeout=60s"]);
    assert_eq!(
        plan.code,
        0,
        "{what}: plan after the fault:\n{}",
        plan.all()
    );
    assert!(
        !lock_held(state_bucket).await,
        "{what}: the lock is released"
    );
    let state = remote_state(state_bucket).await;
    assert!(
        state["pending"].as_array().is_none_or(Vec::is_empty),
        "{what}: nothing left unknown: {}",
        state["pending"]
    );
    let exists = existing(prefix).await;
    let known = recorded(&state);
    let orphans: Vec<&String> = exists.difference(&known).collect();
    assert!(
        orphans.is_empty(),
        "{what}: objects exist that the state does not record: {orphans:?}\n{}",
        plan.all()
    );
}

/// Where to kill, as fractions of the operations left in the phase: between
/// a fifth and four fifths of them, seeded.
fn kill_fractions(count: usize) -> Vec<f64> {
    let seed: u64 = std::env::var("DUMCEL_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    // A small LCG: the schedule only needs to be spread and repeatable.
    let mut x = seed;
    (0..count)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let jitter = (x >> 40) as f64 / (1u64 << 24) as f64;
            0.2 + 0.6 * jitter
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_and_ctrl_c_at_many_points_of_create_update_and_destroy_orphan_nothing() {
    let prefix = unique("flt");
    let state_bucket = format!("state-{prefix}");
    state_backend(&state_bucket).await;
    let hcl = stack_hcl(&prefix, &state_bucket);
    let here = TestStack::new(&hcl);
    ok(&here, &["init", "-no-color"]);

    // Create, killed three times; every other recovery runs on a "second machine".
    let phases: [(&str, &[&str]); 3] = [
        ("create", &["apply", "-auto-approve", "-no-color"]),
        (
            "update",
            &[
                "apply",
                "-auto-approve",
                "-no-color",
                "-var",
                "generation=2",
            ],
        ),
        ("destroy", &["destroy", "-auto-approve", "-no-color"]),
    ];
    let mut round = 0;
    let kills: usize = std::env::var("DUMCEL_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for (phase, args) in phases {
        for fraction in kill_fractions(if phase == "update" { 1 } else { kills }) {
            round += 1;
            // Operations left in this phase, from what S3 records now.
            let recorded_now = match remote_state_if_any(&state_bucket).await {
                Some(state) => recorded(&state).len(),
                None => 0,
            };
            let left = match phase {
                "create" => OBJECTS - recorded_now,
                "destroy" => recorded_now,
                _ => OBJECTS,
            };
            if left < 3 {
                break; // too little left to land a kill mid-run
            }
            let k = ((left as f64 * fraction) as usize).clamp(1, left - 1);
            let mut running = start(&here, args);
            let mid_run = running.wait_completed(k);
            // Every third fault is a Ctrl-C rather than a kill -9.
            let how = if round % 3 == 0 { "SIGINT" } else { "kill -9" };
            if how == "SIGINT" {
                running.signal("INT");
            } else {
                running.child.kill().expect("kill -9");
            }
            let out = running.finish();
            assert!(
                mid_run,
                "{phase}: the {how} must land mid-run (k={k} of {left}):\n{}",
                out.all()
            );
            if how == "SIGINT" {
                // Exit 1 unless the operations in flight were the last ones.
                let finished = out.code == 0 && out.stdout.contains(" complete! Resources:");
                assert!(out.code == 1 || finished, "{phase}, SIGINT:\n{}", out.all());
            }
            let what = format!("{phase}, {how} after {k} of {left}");
            if round % 2 == 0 {
                check_after_fault(&fresh_copy(&hcl), &prefix, &state_bucket, &what).await;
            } else {
                check_after_fault(&here, &prefix, &state_bucket, &what).await;
            }
        }
        // The phase finishes from where it stopped.
        ok(&here, args);
    }
    assert!(
        existing(&prefix).await.is_empty(),
        "destroy leaves nothing behind"
    );
    let state = remote_state(&state_bucket).await;
    assert!(recorded(&state).is_empty(), "{state}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_finishes_what_is_in_flight_and_twice_stops_at_once() {
    let prefix = unique("int");
    let state_bucket = format!("state-{prefix}");
    state_backend(&state_bucket).await;
    let hcl = stack_hcl(&prefix, &state_bucket);
    let s = TestStack::new(&hcl);
    ok(&s, &["init", "-no-color"]);

    // Once: operations in flight finish and are recorded, none starts after.
    let mut running = start(&s, &["apply", "-auto-approve", "-no-color"]);
    assert!(running.wait_completed(20));
    running.signal("INT");
    let out = running.finish();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("Interrupt received.")
            && out.stderr.contains("Gracefully shutting down..."),
        "{}",
        out.all()
    );
    assert!(!lock_held(&state_bucket).await, "the lock is released");
    let state = remote_state(&state_bucket).await;
    let made = existing(&prefix).await;
    assert_eq!(
        recorded(&state),
        made,
        "everything made is recorded, with no recovery needed"
    );
    assert!(made.len() < OBJECTS, "it stopped starting operations");

    // Twice: it stops at once, records what was in flight as pending and
    // lets go of the lock; the next command reads them back.
    let mut running = start(&s, &["apply", "-auto-approve", "-no-color"]);
    assert!(running.wait_completed(10));
    running.signal("INT");
    std::thread::sleep(Duration::from_millis(50));
    running.signal("INT");
    let out = running.finish();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("Two interrupts received"),
        "{}",
        out.all()
    );
    assert!(!lock_held(&state_bucket).await, "the lock is released");
    check_after_fault(&s, &prefix, &state_bucket, "Ctrl-C twice").await;

    ok(&s, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(existing(&prefix).await.len(), OBJECTS);
    let plan = run(&s, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 0, "the final apply converged:\n{}", plan.all());

    // A plan interrupted while it refreshes lets go of the DynamoDB lock.
    let mut running = start(&s, &["plan", "-no-color"]);
    assert!(running.wait_lines("Refreshing state...", 5));
    running.signal("INT");
    let out = running.finish();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("Interrupt received."), "{}", out.all());
    assert!(!lock_held(&state_bucket).await, "plan released the lock");

    // An update (SIGINT) and a destroy (SIGTERM), each interrupted once:
    // what finished is recorded, the rest is still planned.
    let update: &[&str] = &[
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "generation=2",
    ];
    let destroy: &[&str] = &["destroy", "-auto-approve", "-no-color"];
    for (what, signal, args) in [("update", "INT", update), ("destroy", "TERM", destroy)] {
        let mut running = start(&s, args);
        assert!(running.wait_completed(15), "{what} ended too soon");
        running.signal(signal);
        let out = running.finish();
        assert_eq!(out.code, 1, "{what}: {}", out.all());
        assert!(
            out.stderr.contains("Gracefully shutting down..."),
            "{what}: {}",
            out.all()
        );
        assert!(!lock_held(&state_bucket).await, "{what}: lock released");
        let made = existing(&prefix).await;
        assert_eq!(
            recorded(&remote_state(&state_bucket).await),
            made,
            "{what}: the state records exactly what exists"
        );
        let mut plan_args = args.to_vec();
        plan_args[0] = "plan";
        plan_args.retain(|a| *a != "-auto-approve");
        plan_args.push("-detailed-exitcode");
        if what == "destroy" {
            plan_args.push("-destroy");
            assert!(made.len() < OBJECTS, "the destroy began");
        }
        let left = run(&s, &plan_args);
        assert_eq!(left.code, 2, "{what}: work is left:\n{}", left.all());
        ok(&s, args);
        if what == "update" {
            let plan = run(
                &s,
                &[
                    "plan",
                    "-detailed-exitcode",
                    "-no-color",
                    "-var",
                    "generation=2",
                ],
            );
            assert_eq!(plan.code, 0, "the update converged:\n{}", plan.all());
            assert_eq!(
                bucket_generations(&prefix).await,
                BTreeSet::from(["2".to_owned()]),
                "every bucket carries the new tag, as S3 reads it"
            );
        }
    }
    assert!(existing(&prefix).await.is_empty());
}

/// The `generation` tag of every bucket of this run, as S3 reads it.
async fn bucket_generations(prefix: &str) -> BTreeSet<String> {
    let c = sdk().await;
    let mut out = BTreeSet::new();
    for i in 0..BUCKETS {
        let tags = s3(&c)
            .get_bucket_tagging()
            .bucket(format!("{prefix}-b-{i}"))
            .send()
            .await
            .unwrap();
        for tag in tags.tag_set() {
            if tag.key() == "generation" {
                out.insert(tag.value().to_owned());
            }
        }
    }
    out
}

/// Writes the state object as another tool would (Terraform, `state push`
/// from elsewhere): the object, then its digest beside the lock.
async fn put_remote_state(state_bucket: &str, state: &serde_json::Value) {
    use md5::{Digest, Md5};
    let bytes = serde_json::to_vec_pretty(state).unwrap();
    let c = sdk().await;
    s3(&c)
        .put_object()
        .bucket(state_bucket)
        .key("faults/dumcel.tfstate")
        .body(bytes.clone().into())
        .send()
        .await
        .unwrap();
    use aws_sdk_dynamodb::types::AttributeValue;
    aws_sdk_dynamodb::Client::new(&c)
        .put_item()
        .table_name(format!("{state_bucket}-locks"))
        .item(
            "LockID",
            AttributeValue::S(format!("{state_bucket}/faults/dumcel.tfstate-md5")),
        )
        .item(
            "Digest",
            AttributeValue::S(hex::encode(Md5::digest(&bytes))),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_journal_that_no_longer_fits_the_s3_state_is_refused_on_every_machine() {
    let prefix = unique("rfs");
    let state_bucket = format!("state-{prefix}");
    state_backend(&state_bucket).await;
    let hcl = stack_hcl(&prefix, &state_bucket);
    let here = TestStack::new(&hcl);
    ok(&here, &["init", "-no-color"]);
    ok(&here, &["apply", "-auto-approve", "-no-color"]);

    // An update killed mid-run leaves its journal, here and in S3.
    let update: &[&str] = &[
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "generation=2",
    ];
    let mut running = start(&here, update);
    assert!(running.wait_completed(20));
    running.child.kill().expect("kill -9");
    running.finish();
    let base = remote_state(&state_bucket).await;

    // Then S3 moves on without those changes, or goes back to an older serial.
    let serial = base["serial"].as_u64().unwrap();
    for (what, moved_serial, expected) in [
        ("moved on", serial + 1, "moved on (serial"),
        ("rolled back", serial - 1, "was rolled back or restored"),
    ] {
        let mut moved = base.clone();
        moved["serial"] = moved_serial.into();
        put_remote_state(&state_bucket, &moved).await;
        for (machine, dir) in [("same directory", &here), ("fresh copy", &fresh_copy(&hcl))] {
            let plan = run(dir, &["plan", "-no-color"]);
            assert_eq!(plan.code, 1, "{what}, {machine}:\n{}", plan.all());
            assert!(
                plan.stderr.contains(expected) && plan.stderr.contains("Nothing was written"),
                "{what}, {machine}: the refusal says why:\n{}",
                plan.all()
            );
            assert!(!lock_held(&state_bucket).await, "{what}, {machine}: lock");
            assert_eq!(
                remote_state(&state_bucket).await,
                moved,
                "{what}, {machine}: S3 keeps what it has"
            );
        }
    }

    // With S3 back where the journal began, both machines recover it.
    put_remote_state(&state_bucket, &base).await;
    check_after_fault(&fresh_copy(&hcl), &prefix, &state_bucket, "restored base").await;
    ok(&here, update);
    let plan = run(
        &here,
        &[
            "plan",
            "-detailed-exitcode",
            "-no-color",
            "-var",
            "generation=2",
        ],
    );
    assert_eq!(plan.code, 0, "converged:\n{}", plan.all());
    ok(&here, &["destroy", "-auto-approve", "-no-color"]);
    assert!(existing(&prefix).await.is_empty());
}
