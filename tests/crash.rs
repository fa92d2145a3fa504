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
