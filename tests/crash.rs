//! kill -9 in the middle of an apply: the state file is never corrupt and the
//! next plan knows every resource that was created.

mod common;

use std::time::Duration;

use common::TestStack;

#[test]
fn kill_9_during_apply_loses_nothing() {
    // Ten independent sleeps, two at a time: killed after the first few finish.
    let mut hcl = String::new();
    for i in 0..10 {
        hcl.push_str(&format!(
            "resource \"time_sleep\" \"s{i}\" {{\n  create_duration = \"400ms\"\n}}\n"
        ));
    }
    let s = TestStack::new(&hcl);
    let mut child = s.spawn(&["apply", "-auto-approve", "-parallelism=2"]);
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().expect("kill -9");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let completed: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains("Creation complete"))
        .map(|l| l.split(':').next().unwrap_or("").to_owned())
        .collect();
    assert!(
        !completed.is_empty() && completed.len() < 10,
        "the kill must land mid-apply: {stdout}"
    );

    // The next command recovers from the journal and reports what was in flight.
    let plan = s.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stderr.contains("interrupted"), "{}", plan.all());
    let recorded = s.state_addresses();
    for address in &completed {
        assert!(
            recorded.contains(address),
            "{address} completed but is not in state: {}",
            plan.all()
        );
    }
    let still_to_create = 10 - recorded.len();
    assert!(
        plan.stdout.contains(&format!(
            "Plan: {still_to_create} to add, 0 to change, 0 to destroy."
        )),
        "plan creates exactly what is missing: {}",
        plan.all()
    );
    // The snapshot is valid JSON and the apply finishes what was left.
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.state_addresses().len(), 10);
}

#[test]
fn an_operation_whose_outcome_is_unknown_stays_pending_until_settled() {
    // A create cut off by a crash, whose object cannot be looked up: its
    // path runs through a file, so reading it back fails (not "not found").
    let s = TestStack::new(
        "resource \"local_file\" \"f\" {\n  filename = \"blocker/out.txt\"\n  content  = \"hi\"\n}\n",
    );
    s.write("blocker", "a file, not a directory\n");
    let state = serde_json::json!({
        "version": 1,
        "serial": 3,
        "lineage": "5f0e6a3c-2b7d-4c1e-9a8f-0d6b2e4c8a10",
        "dumcel_version": "0.1.0",
        "resources": {},
        "pending": [{
            "seq": 1,
            "address": "local_file.f",
            "operation": "create",
            "planned": {"filename": "blocker/out.txt", "content": "hi"},
            "resource_type": "local_file",
            "provider": "builtin"
        }]
    });
    s.write("dumcel.tfstate", &state.to_string());

    // plan says what is unknown and what settles it; apply changes nothing.
    let plan = s.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stderr.contains("local_file.f was in flight")
            && plan.stderr.contains("kept as pending")
            && plan.stderr.contains("dumcel state rm local_file.f"),
        "{}",
        plan.all()
    );
    let apply = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert!(apply.stderr.contains("unknown outcome"), "{}", apply.all());
    assert_eq!(s.state()["pending"][0]["address"], "local_file.f");

    // Saying it was never made settles it.
    let rm = s.ok(&["state", "rm", "local_file.f"]);
    assert!(
        rm.stdout.contains("Settled 1 pending operation"),
        "{}",
        rm.all()
    );
    assert!(s.state()["pending"].is_null());
}
