//! The same directory of Terraform files planned by Terraform and by
//! dumcel, side by side: the same addresses with the same actions, on an
//! empty state, after apply, and after a change that adds, removes,
//! replaces and moves instances. Terraform 1.0.3 (always installed by
//! dev/install-terraform.sh) and 1.11 (when the machine has it) are the
//! oracles; the null provider comes from the local mirror.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::TestStack;
use common::terraform;

const MAIN_TF: &str = r#"
variable "names" {
  type    = list(string)
  default = ["a", "b"]
}

variable "base_version" {
  type    = string
  default = "1"
}

locals {
  upper = { for n in var.names : n => upper(n) }
}

resource "null_resource" "base" {
  triggers = {
    version = var.base_version
  }
}

resource "null_resource" "each" {
  for_each = local.upper
  triggers = {
    name = each.value
    base = null_resource.base.id
  }
}

resource "null_resource" "counted" {
  count = length(var.names)
  triggers = {
    index = count.index
  }
}

module "child" {
  source = "./child"
  prefix = "p-${var.base_version}"
}

output "counted_ids" {
  value = null_resource.counted[*].id
}
"#;

const CHILD_TF: &str = r#"
variable "prefix" {
  type = string
}

resource "null_resource" "x" {
  triggers = {
    prefix = var.prefix
  }
}

output "id" {
  value = null_resource.x.id
}
"#;

/// address → actions, from a plan in Terraform's JSON format; "no-op"
/// entries are left out (Terraform lists them, and so may dumcel).
fn actions(plan_json: &[u8]) -> BTreeMap<String, Vec<String>> {
    let plan: serde_json::Value = serde_json::from_slice(plan_json).expect("plan JSON");
    plan["resource_changes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|rc| {
            let acts: Vec<String> = rc["change"]["actions"]
                .as_array()?
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            let address = rc["address"].as_str()?.to_owned();
            (acts != ["no-op"]).then_some((address, acts))
        })
        .collect()
}

struct Pair<'a> {
    bin: &'a str,
    tf: TestStack,
    dumcel: TestStack,
}

impl Pair<'_> {
    fn write(&self, name: &str, text: &str) {
        self.tf.write(name, text);
        self.dumcel.write(name, text);
    }

    fn terraform_plan(&self) -> BTreeMap<String, Vec<String>> {
        terraform::run(
            self.bin,
            self.tf.path(),
            &["plan", "-out=tfplan", "-input=false", "-no-color"],
        );
        actions(&terraform::run(self.bin, self.tf.path(), &["show", "-json", "tfplan"]).stdout)
    }

    fn dumcel_plan(&self) -> BTreeMap<String, Vec<String>> {
        self.dumcel
            .ok(&["plan", "-out=dplan", "-input=false", "-no-color"]);
        actions(
            self.dumcel
                .ok(&["show", "-json", "dplan"])
                .stdout
                .as_bytes(),
        )
    }

    /// Both plan; the actions must be the same; both apply their plan.
    fn plan_same_and_apply(&self, step: &str) -> BTreeMap<String, Vec<String>> {
        let theirs = self.terraform_plan();
        let ours = self.dumcel_plan();
        assert_eq!(
            ours, theirs,
            "{}: {step}: dumcel's plan (left) differs from Terraform's (right)",
            self.bin
        );
        terraform::run(
            self.bin,
            self.tf.path(),
            &["apply", "-input=false", "-no-color", "tfplan"],
        );
        self.dumcel.ok(&["apply", "-no-color", "dplan"]);
        ours
    }
}

fn same_plans_as(bin: &str, with_moved_blocks: bool) {
    let pair = Pair {
        bin,
        tf: TestStack::empty(),
        dumcel: TestStack::empty(),
    };
    pair.write("main.tf", MAIN_TF);
    pair.write("child/main.tf", CHILD_TF);
    pair.tf.write("versions.tf", terraform::NULL_FROM_MIRROR);
    pair.tf
        .write("child/versions.tf", terraform::NULL_FROM_MIRROR);
    terraform::run(bin, pair.tf.path(), &["init", "-input=false", "-no-color"]);

    let first = pair.plan_same_and_apply("on an empty state");
    assert_eq!(first.len(), 6, "{first:?}");
    assert!(first.values().all(|a| a == &["create"]), "{first:?}");

    let again = pair.plan_same_and_apply("after apply");
    assert!(again.is_empty(), "{again:?}");

    // A new key, a key gone, a trigger that replaces, a count that grows.
    pair.write(
        "terraform.tfvars",
        "names = [\"b\", \"c\", \"d\"]\nbase_version = \"2\"\n",
    );
    let changed = pair.plan_same_and_apply("after changing the variables");
    assert_eq!(
        changed.get("null_resource.base").map(Vec::as_slice),
        Some(&["delete".to_string(), "create".to_string()][..])
    );
    assert_eq!(
        changed.get("null_resource.each[\"a\"]").map(Vec::as_slice),
        Some(&["delete".to_string()][..])
    );
    assert_eq!(
        changed.get("null_resource.each[\"d\"]").map(Vec::as_slice),
        Some(&["create".to_string()][..])
    );
    assert_eq!(
        changed.get("null_resource.counted[2]").map(Vec::as_slice),
        Some(&["create".to_string()][..])
    );

    // A resource taken out of the files is destroyed.
    let without_counted = MAIN_TF
        .replace(
            "resource \"null_resource\" \"counted\" {\n  count = length(var.names)\n  triggers = {\n    index = count.index\n  }\n}\n",
            "",
        )
        .replace("null_resource.counted[*].id", "[]");
    pair.write("main.tf", &without_counted);
    let removed = pair.plan_same_and_apply("after a resource is taken out");
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(removed.values().all(|a| a == &["delete"]), "{removed:?}");

    // A moved block (Terraform 1.1 and later) renames without replacing.
    if with_moved_blocks {
        let moved = without_counted
            .replace(
                "resource \"null_resource\" \"base\"",
                "resource \"null_resource\" \"root\"",
            )
            .replace("null_resource.base.id", "null_resource.root.id")
            + "\nmoved {\n  from = null_resource.base\n  to   = null_resource.root\n}\n";
        pair.write("main.tf", &moved);
        let after_move = pair.plan_same_and_apply("after a move");
        assert!(after_move.is_empty(), "moved, not replaced: {after_move:?}");
    }

    // Destroy plans agree too.
    terraform::run(
        bin,
        pair.tf.path(),
        &[
            "plan",
            "-destroy",
            "-out=tfplan",
            "-input=false",
            "-no-color",
        ],
    );
    let theirs = actions(&terraform::run(bin, pair.tf.path(), &["show", "-json", "tfplan"]).stdout);
    pair.dumcel.ok(&[
        "plan",
        "-destroy",
        "-out=dplan",
        "-input=false",
        "-no-color",
    ]);
    let ours = actions(
        pair.dumcel
            .ok(&["show", "-json", "dplan"])
            .stdout
            .as_bytes(),
    );
    assert_eq!(ours, theirs, "{bin}: destroy plans differ");
    assert!(
        ours.values().all(|a| a == &["delete"]) && ours.len() == 5,
        "{ours:?}"
    );
}

#[test]
fn plans_the_same_actions_as_terraform_1_0() {
    same_plans_as(&terraform::terraform_103(), false);
}

#[test]
fn plans_the_same_actions_as_terraform_1_11() {
    let Some(bin) = terraform::terraform_111() else {
        eprintln!(
            "note: no Terraform 1.11 at /usr/local/bin/terraform; only the 1.0.3 comparison ran"
        );
        return;
    };
    same_plans_as(bin, true);
}

#[test]
fn terraform_is_at_hand() {
    // The comparison above must never pass for want of a Terraform.
    assert!(
        Path::new(&terraform::terraform_103()).exists(),
        "bash dev/install-terraform.sh installs it"
    );
}
