//! Create, no-op re-plan, update in place, replace, destroy: through the binary.

mod common;

use common::TestStack;

const STACK: &str = r#"
variable "content" {
  default = "one"
}

resource "null_resource" "base" {
  triggers = { version = "1" }
}

resource "local_file" "note" {
  filename = "${path.module}/note.txt"
  content  = "${var.content} ${null_resource.base.id}"
}

resource "time_sleep" "settle" {
  create_duration = "0s"
  depends_on      = [local_file.note]
}

output "note_id" {
  value = local_file.note.id
}
"#;

#[test]
fn create_then_no_op_update_replace_destroy() {
    let s = TestStack::new(STACK);

    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );

    let apply = s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{}",
        apply.all()
    );
    let base_id = s.attr("null_resource.base", "id");
    let base_id = base_id.as_str().expect("id recorded");
    assert_eq!(s.read("note.txt"), format!("one {base_id}"));
    let out = s.ok(&["output", "-raw", "note_id"]);
    assert_eq!(
        out.stdout,
        s.attr("local_file.note", "id").as_str().unwrap()
    );

    // Nothing changed: exit 0 with -detailed-exitcode and says so.
    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // time_sleep's duration updates in place.
    s.write(
        "main.hcl",
        &STACK.replace("create_duration = \"0s\"", "create_duration = \"1ms\""),
    );
    let upd = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(upd.code, 2, "{}", upd.all());
    assert!(
        upd.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        upd.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.attr("time_sleep.settle", "create_duration"), "1ms");

    // A new trigger replaces the null resource, and the file that uses its id.
    let updated = STACK.replace("create_duration = \"0s\"", "create_duration = \"1ms\"");
    s.write(
        "main.hcl",
        &updated.replace("version = \"1\"", "version = \"2\""),
    );
    let rep = s.ok(&["plan", "-no-color"]);
    assert!(
        rep.stdout.contains("2 to add, 0 to change, 2 to destroy"),
        "{}",
        rep.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    let new_id = s.attr("null_resource.base", "id");
    assert_ne!(new_id.as_str(), Some(base_id));
    assert_eq!(
        s.read("note.txt"),
        format!("one {}", new_id.as_str().unwrap())
    );

    let destroy = s.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 3 destroyed."),
        "{}",
        destroy.all()
    );
    assert!(s.state_addresses().is_empty());
    assert!(!s.file("note.txt").exists());
    assert_eq!(s.state()["outputs"], serde_json::json!({}));
}

#[test]
fn apply_without_approval_is_refused_off_a_terminal() {
    let s = TestStack::new(STACK);
    let r = s.run(&["apply", "-input=false"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("-auto-approve"), "{}", r.all());
    assert!(!s.file("note.txt").exists(), "nothing may be applied");
}

#[test]
fn count_for_each_and_removed_instances() {
    let s = TestStack::new(
        r#"
variable "names" {
  type    = list(string)
  default = ["a", "b", "c"]
}
resource "null_resource" "n" {
  count    = length(var.names)
  triggers = { name = var.names[count.index] }
}
resource "null_resource" "m" {
  for_each = toset(var.names)
  triggers = { upper = upper(each.key) }
}
"#,
    );
    s.ok(&["apply", "-auto-approve"]);
    let mut addrs = s.state_addresses();
    addrs.sort();
    assert_eq!(
        addrs,
        [
            "null_resource.m[\"a\"]",
            "null_resource.m[\"b\"]",
            "null_resource.m[\"c\"]",
            "null_resource.n[0]",
            "null_resource.n[1]",
            "null_resource.n[2]"
        ]
    );
    assert_eq!(
        s.state()["resources"]["null_resource.m[\"b\"]"]["attributes"]["triggers"]["upper"],
        "B"
    );
    let plan = s.ok(&["plan", "-no-color", "-var", "names=[\"a\"]"]);
    assert!(
        plan.stdout.contains("0 to add, 0 to change, 4 to destroy"),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve", "-var", "names=[\"a\"]"]);
    let mut addrs = s.state_addresses();
    addrs.sort();
    assert_eq!(addrs, ["null_resource.m[\"a\"]", "null_resource.n[0]"]);
}
