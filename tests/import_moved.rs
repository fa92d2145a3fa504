//! `dumcel import`, `import` blocks and `moved` blocks.

mod common;

use common::TestStack;

#[test]
fn import_command_adopts_an_object_into_a_declared_resource() {
    let s = TestStack::new("resource \"null_resource\" \"adopted\" {}\n");
    let r = s.ok(&["import", "null_resource.adopted", "4242", "-no-color"]);
    assert!(r.stdout.contains("Import successful!"), "{}", r.all());
    assert_eq!(s.attr("null_resource.adopted", "id"), "4242");
    let plan = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        0,
        "an adopted object matching its config plans nothing: {}",
        plan.all()
    );

    let again = s.run(&["import", "null_resource.adopted", "1"]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(again.stderr.contains("already managed"), "{}", again.all());
    let undeclared = s.run(&["import", "null_resource.nowhere", "1"]);
    assert_eq!(undeclared.code, 1, "{}", undeclared.all());
    assert!(
        undeclared.stderr.contains("not in the configuration"),
        "{}",
        undeclared.all()
    );
}

#[test]
fn import_blocks_show_in_the_plan_and_are_recorded_by_apply() {
    let s = TestStack::new(
        r#"
import {
  to = null_resource.legacy
  id = "legacy-7"
}
resource "null_resource" "legacy" {}
"#,
    );
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("null_resource.legacy will be imported"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
    assert!(!s.file("dumcel.tfstate").exists(), "plan records nothing");
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.attr("null_resource.legacy", "id"), "legacy-7");
    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        again.code,
        0,
        "the import block is done once the object is recorded: {}",
        again.all()
    );

    let bad = TestStack::new("import {\n  to = null_resource.ghost\n  id = \"1\"\n}\n");
    let r = bad.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Import target null_resource.ghost is not in configuration"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:1:"), "{}", r.all());
}

#[test]
fn moved_blocks_keep_the_object_under_its_new_address() {
    let s = TestStack::new("resource \"null_resource\" \"old\" {\n  count = 2\n}\n");
    s.ok(&["apply", "-auto-approve"]);
    let id0 = s.attr("null_resource.old[0]", "id");
    s.write(
        "main.hcl",
        "resource \"null_resource\" \"new\" {\n  count = 2\n}\nmoved {\n  from = null_resource.old\n  to   = null_resource.new\n}\n",
    );
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("null_resource.old[0] has moved to null_resource.new[0]"),
        "{}",
        plan.all()
    );
    assert!(
        !plan.stdout.contains("will be destroyed"),
        "nothing is destroyed: {}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(
        s.attr("null_resource.new[0]", "id"),
        id0,
        "same object, new address"
    );
    let again = s.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

/// `removed { from = ... lifecycle { destroy = false } }`: the object stays
/// real and leaves the state; with `destroy = true` (the default) it is
/// destroyed like any resource taken out of the configuration.
#[test]
fn removed_blocks_forget_or_destroy() {
    let s = TestStack::new(
        "resource \"local_file\" \"keep\" {\n  filename = \"keep.txt\"\n  content  = \"k\"\n}\nresource \"local_file\" \"drop\" {\n  filename = \"drop.txt\"\n  content  = \"d\"\n}\n",
    );
    s.ok(&["apply", "-auto-approve"]);
    s.write(
        "main.hcl",
        "removed {\n  from = local_file.keep\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = local_file.drop\n}\n",
    );
    let plan = s.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains(
            "# local_file.keep will no longer be managed by Dumcel, but will not be destroyed"
        ) && plan
            .stdout
            .contains("0 to add, 0 to change, 1 to destroy, 1 to forget."),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert!(s.state_addresses().is_empty(), "{:?}", s.state_addresses());
    assert_eq!(s.read("keep.txt"), "k", "forgotten, not destroyed");
    assert!(!s.file("drop.txt").exists(), "destroyed");

    // Still declared: an error naming it.
    s.write(
        "main.hcl",
        "resource \"null_resource\" \"a\" {}\nremoved {\n  from = null_resource.a\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Removed resource block still exists"),
        "{}",
        r.all()
    );
}
