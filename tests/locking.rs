//! Two applies at once: the second waits or fails naming the holder; the
//! state is never written by both.

mod common;

use std::time::Duration;

use common::TestStack;

const STACK: &str = r#"
resource "time_sleep" "slow" {
  create_duration = "3s"
}
"#;

fn wait_for_lock_holder(s: &TestStack) {
    for _ in 0..100 {
        if s.read("dumcel.tfstate.lock").contains("\"pid\"") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the first apply never took the lock");
}

#[test]
fn a_second_apply_fails_naming_the_holder() {
    let s = TestStack::new(STACK);
    let first = s.spawn(&["apply", "-auto-approve"]);
    wait_for_lock_holder(&s);
    let second = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(second.stderr.contains("locked"), "{}", second.all());
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "names the holder: {}",
        second.all()
    );
    assert!(second.stderr.contains("\"apply\""), "{}", second.all());
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(s.state_addresses(), ["time_sleep.slow"]);
}

#[test]
fn a_configuration_error_is_reported_alone_while_another_apply_holds_the_lock() {
    // The stack is built while the state is opened: the lock held by the
    // first apply must not hide the configuration's error, nor join it.
    let s = TestStack::new(STACK);
    let mut first = s.spawn(&["apply", "-auto-approve"]);
    wait_for_lock_holder(&s);
    s.write(
        "main.hcl",
        &format!("{STACK}\noutput \"typo\" {{\n  value = time_sleep.slwo.id\n}}\n"),
    );
    for command in ["plan", "apply"] {
        let second = s.run(&[command, "-input=false", "-no-color"]);
        assert_eq!(second.code, 1, "{}", second.all());
        assert!(
            second.stderr.contains("time_sleep.slwo"),
            "{command}: {}",
            second.all()
        );
        assert!(
            !second.stderr.contains("locked"),
            "{command} reports the lock as well: {}",
            second.all()
        );
    }
    assert!(first.wait().unwrap().success());
    assert_eq!(s.state_addresses(), ["time_sleep.slow"]);
}

#[test]
fn a_second_apply_with_a_timeout_waits_its_turn() {
    let s = TestStack::new(STACK);
    let first = s.spawn(&["apply", "-auto-approve"]);
    wait_for_lock_holder(&s);
    let second = s.run(&["apply", "-auto-approve", "-lock-timeout=30s", "-no-color"]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert!(
        second.stdout.contains("No changes."),
        "it saw the first apply's state: {}",
        second.all()
    );
    assert!(first.wait_with_output().unwrap().status.success());
    assert_eq!(s.state()["serial"], 1, "written once, by the first apply");
}

#[test]
fn force_unlock_refuses_a_live_holder_and_clears_a_dead_ones_lock() {
    let s = TestStack::new(STACK);
    let mut first = s.spawn(&["apply", "-auto-approve"]);
    wait_for_lock_holder(&s);
    let info: serde_json::Value = serde_json::from_str(&s.read("dumcel.tfstate.lock")).unwrap();
    let id = info["id"].as_str().unwrap().to_owned();

    let live = s.run(&["force-unlock", &id]);
    assert_eq!(live.code, 1, "{}", live.all());
    assert!(
        live.stderr.contains(&first.id().to_string()),
        "names the live holder: {}",
        live.all()
    );

    first.kill().unwrap();
    first.wait().unwrap();
    // The kernel released the OS lock; force-unlock clears what the dead process left.
    let cleared = s.run(&["force-unlock", &id, "-no-color"]);
    assert_eq!(cleared.code, 0, "{}", cleared.all());
    assert!(
        cleared.stdout.contains("successfully unlocked"),
        "{}",
        cleared.all()
    );
    s.ok(&["plan"]);
}
