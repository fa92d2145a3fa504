//! Workspaces: one state each, `terraform.workspace` in expressions.

mod common;

use common::TestStack;

const STACK: &str = r#"
resource "local_file" "marker" {
  filename = "${terraform.workspace}.txt"
  content  = "workspace ${terraform.workspace}"
}
"#;

#[test]
fn each_workspace_keeps_its_own_state() {
    let s = TestStack::new(STACK);
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("default.txt"), "workspace default");

    let created = s.ok(&["workspace", "new", "staging", "-no-color"]);
    assert!(
        created
            .stdout
            .contains("Created and switched to workspace \"staging\""),
        "{}",
        created.all()
    );
    assert_eq!(s.ok(&["workspace", "show"]).stdout, "staging\n");
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout.contains("1 to add"),
        "a new workspace starts empty: {}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("staging.txt"), "workspace staging");
    assert!(s.file("dumcel.tfstate.d/staging/dumcel.tfstate").exists());
    assert_eq!(
        s.ok(&["workspace", "list"]).stdout,
        "  default\n* staging\n"
    );

    // Back on default nothing changed; the staging state is separate.
    s.ok(&["workspace", "select", "default"]);
    let plan = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(s.state_addresses(), ["local_file.marker"]);

    // DUMCEL_WORKSPACE picks a workspace for one command.
    let out = s
        .command(&["state", "list"])
        .env("DUMCEL_WORKSPACE", "staging")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "local_file.marker\n");

    let refused = s.run(&["workspace", "delete", "staging"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("still records 1 resource"),
        "{}",
        refused.all()
    );
    s.ok(&["workspace", "delete", "-force", "staging"]);
    assert_eq!(s.ok(&["workspace", "list"]).stdout, "* default\n");

    let missing = s.run(&["workspace", "select", "nope"]);
    assert_eq!(missing.code, 1, "{}", missing.all());
    assert!(
        missing.stderr.contains("workspace new nope"),
        "{}",
        missing.all()
    );
    let bad = s.run(&["workspace", "new", "../escape"]);
    assert_eq!(bad.code, 1, "{}", bad.all());
}
