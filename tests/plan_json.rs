//! `plan -json` and `show -json PLANFILE` print Terraform's plan JSON
//! (https://developer.hashicorp.com/terraform/internals/json-format), so tools
//! made for Terraform plans read dumcel's. The expectations were written from
//! what Terraform 1.11 prints for the same stack written with terraform_data;
//! the last test runs checkov, a real consumer of Terraform plans.

mod common;

use common::TestStack;
use serde_json::{Value as Json, json};

const SECRET: &str = "hunter2-s3cret";

fn stack() -> TestStack {
    TestStack::new(&format!(
        r#"
variable "name" {{
  default = "alpha"
}}

variable "secret" {{
  default   = "{SECRET}"
  sensitive = true
}}

resource "null_resource" "a" {{
  triggers = {{
    name = var.name
  }}
}}

resource "null_resource" "b" {{
  count = 2
  triggers = {{
    up = null_resource.a.id
    i  = "${{count.index}}"
  }}
}}

resource "null_resource" "s" {{
  triggers = {{
    secret = var.secret
  }}
}}

module "files" {{
  source = "./modules/files"
  text   = var.name
}}

output "a_id" {{
  value = null_resource.a.id
}}

output "greeting" {{
  value = "hello ${{var.name}}"
}}

output "secret" {{
  value     = var.secret
  sensitive = true
}}
"#
    ))
}

fn with_module(s: &TestStack) {
    s.write(
        "modules/files/main.hcl",
        r#"
variable "text" {}

resource "local_file" "f" {
  filename = "${path.root}/out.txt"
  content  = var.text
}
"#,
    );
}

fn json_of(stdout: &str) -> Json {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn addresses(resources: &Json) -> Vec<String> {
    resources
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {resources}"))
        .iter()
        .map(|r| r["address"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn plan_json_has_terraforms_sections_in_terraforms_order() {
    let s = stack();
    with_module(&s);
    let r = s.ok(&["plan", "-json"]);
    assert!(!r.stdout.contains(SECRET), "secret in clear:\n{}", r.stdout);
    let j = json_of(&r.stdout);

    // Terraform's keys, in the order Terraform prints them (dumcel's own
    // fields sit between them).
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let terraform_order = [
        "format_version",
        "terraform_version",
        "variables",
        "planned_values",
        "resource_changes",
        "output_changes",
        "prior_state",
        "configuration",
        "relevant_attributes",
        "timestamp",
        "applyable",
        "complete",
        "errored",
    ];
    let positions: Vec<usize> = terraform_order
        .iter()
        .map(|k| {
            keys.iter()
                .position(|x| x == k)
                .unwrap_or_else(|| panic!("no {k} in {keys:?}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert_eq!(j["format_version"], "1.2");
    assert_eq!(j["terraform_version"], "1.11.4");
    assert!(j["dumcel_version"].is_string());
    assert_eq!(j["applyable"], true);
    assert_eq!(j["complete"], true);
    assert_eq!(j["errored"], false);
    let ts = j["timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );

    // Sensitive variables are left out.
    assert_eq!(j["variables"], json!({ "name": { "value": "alpha" } }));

    // planned_values: what the state will hold, unknowns left out.
    let pv = &j["planned_values"];
    let root = &pv["root_module"];
    assert_eq!(
        addresses(&root["resources"]),
        [
            "null_resource.a",
            "null_resource.b[0]",
            "null_resource.b[1]",
            "null_resource.s"
        ]
    );
    let a = &root["resources"][0];
    assert_eq!(a["mode"], "managed");
    assert_eq!(a["type"], "null_resource");
    assert_eq!(a["name"], "a");
    assert_eq!(a["schema_version"], 0);
    assert!(a.get("index").is_none(), "{a}");
    assert_eq!(a["values"]["triggers"], json!({ "name": "alpha" }));
    assert!(
        a["values"].get("id").is_none(),
        "unknown id must be left out: {a}"
    );
    // As Terraform: a non-sensitive map is an empty object.
    assert_eq!(a["sensitive_values"], json!({ "triggers": {} }));
    assert_eq!(root["resources"][2]["index"], 1);
    let secret = &root["resources"][3];
    assert_ne!(secret["sensitive_values"], json!({}), "{secret}");
    let child = &root["child_modules"][0];
    assert_eq!(child["address"], "module.files");
    assert_eq!(
        addresses(&child["resources"]),
        ["module.files.local_file.f"]
    );
    assert_eq!(child["resources"][0]["values"]["content"], "alpha");
    assert_eq!(
        pv["outputs"]["greeting"],
        json!({ "sensitive": false, "value": "hello alpha" })
    );
    assert_eq!(pv["outputs"]["a_id"], json!({ "sensitive": false }));
    assert_eq!(pv["outputs"]["secret"], json!({ "sensitive": true }));

    // configuration: declarations, arguments as constants or references.
    let cfg = &j["configuration"];
    let croot = &cfg["root_module"];
    let b = croot["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "null_resource.b")
        .expect("null_resource.b in configuration");
    assert_eq!(b["mode"], "managed");
    assert_eq!(b["count_expression"], json!({ "constant_value": 2 }));
    let refs = &b["expressions"]["triggers"]["references"];
    for want in ["null_resource.a.id", "null_resource.a", "count.index"] {
        assert!(
            refs.as_array().unwrap().contains(&json!(want)),
            "{want} not in {refs}"
        );
    }
    let key = b["provider_config_key"].as_str().unwrap();
    assert!(
        cfg["provider_config"][key]["full_name"].is_string(),
        "{cfg}"
    );
    assert_eq!(croot["variables"]["name"], json!({ "default": "alpha" }));
    assert_eq!(croot["variables"]["secret"], json!({ "sensitive": true }));
    assert_eq!(
        croot["outputs"]["secret"],
        json!({ "sensitive": true, "expression": { "references": ["var.secret"] } })
    );
    let call = &croot["module_calls"]["files"];
    assert_eq!(call["source"], "./modules/files");
    assert_eq!(
        call["expressions"]["text"],
        json!({ "references": ["var.name"] })
    );
    assert_eq!(
        call["module"]["resources"][0]["expressions"]["content"],
        json!({ "references": ["var.text"] })
    );
    assert!(
        j["relevant_attributes"]
            .as_array()
            .unwrap()
            .contains(&json!({ "resource": "null_resource.a", "attribute": ["id"] })),
        "{}",
        j["relevant_attributes"]
    );

    // The existing fields are still there.
    assert_eq!(j["resource_changes"][0]["address"], "null_resource.a");
    assert_eq!(
        j["resource_changes"][0]["change"]["actions"],
        json!(["create"])
    );
}

#[test]
fn saved_plan_after_apply_carries_the_prior_state() {
    let s = stack();
    with_module(&s);
    s.ok(&["apply", "-auto-approve"]);
    let id = s.attr("null_resource.a", "id");
    assert!(id.is_string(), "{}", s.read("dumcel.tfstate"));
    s.write(
        "extra.hcl",
        "resource \"null_resource\" \"c\" {\n  triggers = { after = null_resource.a.id }\n}\n",
    );
    s.ok(&["plan", "-out=p.plan"]);
    let r = s.ok(&["show", "-json", "p.plan"]);
    assert!(!r.stdout.contains(SECRET), "secret in clear:\n{}", r.stdout);
    let j = json_of(&r.stdout);

    let prior = &j["prior_state"];
    assert_eq!(prior["format_version"], "1.0");
    assert_eq!(prior["terraform_version"], "1.11.4");
    let root = &prior["values"]["root_module"];
    let a = root["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "null_resource.a")
        .expect("null_resource.a in prior_state");
    assert_eq!(a["values"]["id"], id);
    assert_eq!(a["values"]["triggers"], json!({ "name": "alpha" }));
    assert_eq!(root["child_modules"][0]["address"], "module.files");
    assert_eq!(
        prior["values"]["outputs"]["secret"],
        json!({ "sensitive": true, "value": null })
    );
    assert_eq!(
        prior["values"]["outputs"]["greeting"]["value"],
        "hello alpha"
    );

    // The known id now flows into the new resource's planned values.
    let planned = &j["planned_values"]["root_module"]["resources"];
    let c = planned
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "null_resource.c")
        .expect("null_resource.c planned");
    assert_eq!(c["values"]["triggers"]["after"], id);
    assert_eq!(planned.as_array().unwrap().len(), 5, "{planned}");
    assert_eq!(j["applyable"], true);

    // `show -json` of the state is the same document as prior_state.
    let state = json_of(&s.ok(&["show", "-json"]).stdout);
    assert_eq!(state["values"], prior["values"]);
}

#[test]
fn targeted_plan_is_not_complete() {
    let s = stack();
    with_module(&s);
    let j = json_of(&s.ok(&["plan", "-json", "-target=null_resource.a"]).stdout);
    assert_eq!(j["complete"], false);
    assert_eq!(
        addresses(&j["planned_values"]["root_module"]["resources"]),
        ["null_resource.a"]
    );
}

/// checkov (from PyPI, installed by dev/checkov.sh) reads a dumcel plan of an
/// AWS stack and finds what it would find in Terraform's: an S3 bucket with
/// no versioning or logging, SSH open to the world.
#[test]
fn checkov_reads_dumcel_plans() {
    let root = env!("CARGO_MANIFEST_DIR");
    let install = std::process::Command::new("bash")
        .arg(format!("{root}/dev/checkov.sh"))
        .output()
        .expect("run dev/checkov.sh");
    assert!(
        install.status.success(),
        "dev/checkov.sh could not install checkov:\n{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let checkov = String::from_utf8_lossy(&install.stdout).trim().to_owned();

    let s = TestStack::new(
        r#"
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    s3  = "http://127.0.0.1:5005"
    ec2 = "http://127.0.0.1:5005"
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "dumcel-checkov-logs"
}

resource "aws_security_group" "ssh" {
  name        = "open-ssh"
  description = "SSH from anywhere"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#,
    );
    // Nothing is in state, so planning makes no AWS call: nothing needs to answer.
    let r = s.ok(&["plan", "-json", "-refresh=false"]);
    assert!(
        !r.stdout.contains("testing"),
        "provider keys in clear:\n{}",
        r.stdout
    );
    s.write("plan.json", &r.stdout);

    let out = std::process::Command::new(&checkov)
        .args([
            "-f",
            "plan.json",
            "--framework",
            "terraform_plan",
            "-o",
            "json",
            "--quiet",
        ])
        .current_dir(s.path())
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failed: Vec<(String, String)> = report["results"]["failed_checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no failed_checks in {report}"))
        .iter()
        .map(|c| {
            (
                c["check_id"].as_str().unwrap_or_default().to_owned(),
                c["resource"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (check, resource) in [
        // Ensure no security groups allow ingress from 0.0.0.0:0 to port 22.
        ("CKV_AWS_24", "aws_security_group.ssh"),
        // Ensure all data stored in the S3 bucket have versioning enabled.
        ("CKV_AWS_21", "aws_s3_bucket.logs"),
        // Ensure the S3 bucket has access logging enabled.
        ("CKV_AWS_18", "aws_s3_bucket.logs"),
    ] {
        assert!(
            failed.iter().any(|(c, r)| c == check && r == resource),
            "checkov did not fail {check} on {resource}; it failed {failed:?}"
        );
    }
}
