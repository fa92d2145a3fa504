//! Taking over a state Terraform wrote: a real Terraform (1.0.3 with the
//! null provider, from dev/install-terraform.sh, and the Terraform 1.11 at
//! /usr/local/bin/terraform when the machine has it) applies a stack; `dumcel
//! state import-terraform` takes its state, and dumcel's next plan of the
//! same files is empty.

mod common;

use common::TestStack;
use common::terraform;
use std::path::Path;

const MAIN_TF: &str = r#"
resource "null_resource" "a" {
  triggers = {
    v = "1"
  }
}
resource "null_resource" "b" {
  count = 2
  triggers = {
    a = null_resource.a.id
  }
}
module "m" {
  source = "./m"
}
output "a" {
  value = null_resource.a.id
}
"#;

const MODULE_TF: &str = r#"
resource "null_resource" "x" {
  for_each = toset(["k1", "k2"])
  triggers = {
    key = each.key
  }
}
"#;

fn terraform(bin: &str, dir: &Path, args: &[&str]) {
    terraform::run(bin, dir, args);
}

fn take_over(bin: &str) {
    let s = TestStack::empty();
    s.write("main.tf", MAIN_TF);
    s.write("m/main.tf", MODULE_TF);
    let versions = terraform::NULL_FROM_MIRROR;
    s.write("versions.tf", versions);
    s.write("m/versions.tf", versions);
    terraform(bin, s.path(), &["init", "-input=false", "-no-color"]);
    terraform(
        bin,
        s.path(),
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    std::fs::remove_file(s.file("versions.tf")).unwrap();
    std::fs::remove_file(s.file("m/versions.tf")).unwrap();
    let tf_state: serde_json::Value =
        serde_json::from_str(&s.read("terraform.tfstate")).expect("Terraform wrote its state");
    let a_id = tf_state["outputs"]["a"]["value"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = s.ok(&[
        "state",
        "import-terraform",
        "terraform.tfstate",
        "-no-color",
    ]);
    assert!(
        r.stdout.contains("Took over 5 resource instance(s)"),
        "{bin}: {}",
        r.all()
    );
    let list = s.ok(&["state", "list"]);
    assert_eq!(
        list.stdout,
        "module.m.null_resource.x[\"k1\"]\nmodule.m.null_resource.x[\"k2\"]\nnull_resource.a\nnull_resource.b[0]\nnull_resource.b[1]\n",
        "{bin}"
    );
    assert_eq!(s.attr("null_resource.a", "id"), a_id.as_str());
    assert_eq!(
        s.state()["lineage"],
        tf_state["lineage"],
        "{bin}: the lineage is kept"
    );

    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "{bin}: the unchanged configuration plans nothing:\n{}",
        plan.all()
    );
    assert_eq!(s.ok(&["output", "-raw", "a"]).stdout, a_id);

    // dumcel now manages them: a change replaces what depends on it.
    s.write("main.tf", &MAIN_TF.replace("v = \"1\"", "v = \"2\""));
    let r = s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        r.stdout.contains("3 added, 0 changed, 3 destroyed"),
        "{bin}: {}",
        r.all()
    );

    // `init -migrate-state` takes over terraform.tfstate the same way.
    let migrated = TestStack::empty();
    migrated.write("main.tf", MAIN_TF);
    migrated.write("m/main.tf", MODULE_TF);
    migrated.write("terraform.tfstate", &s.read("terraform.tfstate"));
    let r = migrated.ok(&["init", "-migrate-state", "-no-color"]);
    assert!(
        r.stdout.contains("Took over 5 resource instance(s)"),
        "{}",
        r.all()
    );
    let plan = migrated.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 0, "{bin}: {}", plan.all());

    // A second take-over into a state that records objects is refused.
    let again = s.run(&["state", "import-terraform", "terraform.tfstate"]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(
        again
            .stderr
            .contains("import a Terraform state only into an empty one"),
        "{}",
        again.all()
    );
}

#[test]
fn a_state_terraform_1_0_wrote_is_taken_over() {
    take_over(&terraform::terraform_103());
}

#[test]
fn a_state_terraform_1_11_wrote_is_taken_over() {
    let Some(bin) = terraform::terraform_111() else {
        eprintln!(
            "note: no Terraform 1.11 at /usr/local/bin/terraform; only the 1.0.3 take-over ran"
        );
        return;
    };
    take_over(bin);
}

#[test]
fn a_state_with_types_dumcel_lacks_is_refused_by_name() {
    let s = TestStack::new("resource \"null_resource\" \"a\" {}\n");
    s.write(
        "tf.tfstate",
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "l",
            "resources": [{"mode": "managed", "type": "google_compute_instance", "name": "vm",
              "provider": "provider[\"registry.terraform.io/hashicorp/google\"]", "instances": []}]}"#,
    );
    let r = s.run(&["state", "import-terraform", "tf.tfstate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("google_compute_instance") && r.stderr.contains("tf.tfstate"),
        "{}",
        r.all()
    );
    assert!(!s.file("dumcel.tfstate").exists() || s.state_addresses().is_empty());
}
