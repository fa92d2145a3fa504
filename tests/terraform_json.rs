//! Terraform's JSON configuration syntax: `*.tf.json` files are read as
//! Terraform reads them (block nesting by labels, strings as templates,
//! references and types written as strings, literal defaults), alone or
//! beside `*.tf` files, and their errors name the file and the line.
//! Terraform itself (/usr/local/bin/terraform) is the oracle when present.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::TestStack;
use serde_json::Value as Json;

const MAIN_TF_JSON: &str = r#"{
  "//": "written by a generator",
  "variable": {
    "names": {
      "type": "list(string)",
      "default": ["a", "b"],
      "description": "${not a template}"
    },
    "raw": {"type": "string", "default": "${x}"},
    "map": {"type": "map(string)", "default": {"${k}": "${v}", "%{ x }": "y"}}
  },
  "locals": {
    "//": "a comment, not a local",
    "msg": "hello, ${var.names[0]}",
    "literal": "$${x}",
    "escaped": "say \"hi\" \/ ${upper(\"q\")}",
    "joined": "%{ for n in var.names }${n};%{ endfor }"
  },
  "resource": {
    "terraform_data": {
      "each": {"for_each": "${toset(var.names)}", "input": "${each.key}"},
      "counted": [{
        "count": "${length(var.names)}",
        "input": {"i": "${count.index}", "literal": "$${count.index}"},
        "depends_on": ["terraform_data.each"],
        "lifecycle": {"ignore_changes": ["input"], "create_before_destroy": true}
      }]
    }
  },
  "module": {
    "child": {"source": "./modules/child", "name": "${local.msg}"}
  },
  "output": {
    "msg": {"value": "${local.msg}"},
    "literal": {"value": "${local.literal}"},
    "names": {"value": "${var.names}", "description": "${not a template}"},
    "raw": {"value": "${var.raw}"},
    "map": {"value": "${var.map}"},
    "escaped": {"value": "${local.escaped}"},
    "joined": {"value": "${local.joined}"},
    "counted": {"value": "${terraform_data.counted[1].input}"},
    "child": {"value": "${module.child.upper}"}
  }
}
"#;

const CHILD_TF_JSON: &str = r#"{
  "variable": {"name": {"type": "string"}},
  "resource": {"terraform_data": {"c": {"input": "${var.name}"}}},
  "output": {"upper": {"value": "${upper(terraform_data.c.output)}"}}
}
"#;

fn write_stack(dir: &Path) {
    std::fs::create_dir_all(dir.join("modules/child")).unwrap();
    std::fs::write(dir.join("main.tf.json"), MAIN_TF_JSON).unwrap();
    std::fs::write(dir.join("modules/child/main.tf.json"), CHILD_TF_JSON).unwrap();
}

/// `(address, actions)` of a plan in Terraform's JSON format.
fn actions(plan: &Json) -> BTreeSet<(String, String)> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_owned(),
                c["change"]["actions"].to_string(),
            )
        })
        .collect()
}

/// Output names to values, from `output -json`.
fn output_values(json: &str) -> serde_json::Map<String, Json> {
    let all: Json = serde_json::from_str(json).expect("output -json is JSON");
    all.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect()
}

#[test]
fn a_json_stack_plans_and_applies_as_in_terraform() {
    let s = TestStack::empty();
    write_stack(s.path());
    let plan: Json = serde_json::from_str(&s.ok(&["plan", "-json"]).stdout).expect("plan JSON");
    let planned = actions(&plan);
    let want: BTreeSet<(String, String)> = [
        "terraform_data.each[\"a\"]",
        "terraform_data.each[\"b\"]",
        "terraform_data.counted[0]",
        "terraform_data.counted[1]",
        "module.child.terraform_data.c",
    ]
    .into_iter()
    .map(|a| (a.to_owned(), "[\"create\"]".to_owned()))
    .collect();
    assert_eq!(planned, want);

    s.ok(&["apply", "-auto-approve", "-no-color"]);
    let outputs = output_values(&s.ok(&["output", "-json"]).stdout);
    let expect = serde_json::json!({
        "msg": "hello, a",
        // `$${` is a literal `${`; a variable's default is taken literally.
        "literal": "${x}",
        "raw": "${x}",
        "map": {"${k}": "${v}", "%{ x }": "y"},
        // A single interpolation keeps its value's type.
        "names": ["a", "b"],
        "escaped": "say \"hi\" / Q",
        "joined": "a;b;",
        "counted": {"i": 1, "literal": "${count.index}"},
        "child": "HELLO, A",
    });
    assert_eq!(Json::Object(outputs.clone()), expect);
    // ignore_changes and the rest of the lifecycle were read: a second plan
    // changes nothing.
    let again: Json = serde_json::from_str(&s.ok(&["plan", "-json"]).stdout).unwrap();
    assert!(
        actions(&again).iter().all(|(_, a)| a == "[\"no-op\"]"),
        "{again:#}"
    );

    // The same directory under Terraform: the same actions and outputs.
    let terraform = "/usr/local/bin/terraform";
    if !Path::new(terraform).exists() {
        eprintln!("skipping the comparison with Terraform: {terraform} is absent");
        return;
    }
    let tf = tempfile::tempdir().unwrap();
    write_stack(tf.path());
    let run = |args: &[&str]| {
        let out = Command::new(terraform)
            .args(args)
            .current_dir(tf.path())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("run terraform");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "terraform {args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    run(&["init", "-input=false", "-no-color"]);
    run(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let tf_plan: Json = serde_json::from_str(&run(&["show", "-json", "tfplan"])).unwrap();
    assert_eq!(actions(&tf_plan), planned, "Terraform plans otherwise");
    run(&["apply", "-input=false", "-no-color", "tfplan"]);
    let tf_outputs = output_values(&run(&["output", "-json"]));
    assert_eq!(tf_outputs, outputs, "Terraform's outputs differ");
}

#[test]
fn json_and_native_files_mix_in_one_stack() {
    let s = TestStack::empty();
    s.write(
        "main.tf",
        r#"
variable "who" {
  default = "native"
}
resource "terraform_data" "native" {
  input = terraform_data.json.output
}
output "both" {
  value = "${terraform_data.native.output}+${local.from_json}"
}
"#,
    );
    s.write(
        "extra.tf.json",
        r#"{
  "locals": {"from_json": "json-${var.who}"},
  "resource": {"terraform_data": {"json": {"input": "${var.who}"}}}
}"#,
    );
    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        s.ok(&["output", "-raw", "both"]).stdout,
        "native+json-native"
    );
    // Both files are stack files for fmt's purposes too: fmt leaves JSON alone.
    let fmt = s.run(&["fmt", "-check", "-no-color"]);
    assert!(!fmt.stdout.contains("extra.tf.json"), "{}", fmt.all());
    // JSON override files merge into the configuration in Terraform; dumcel
    // names them rather than read them as plain files.
    s.write(
        "extra_override.tf.json",
        r#"{"locals": {"from_json": "x"}}"#,
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("extra_override.tf.json") && r.stderr.contains("Override files"),
        "{}",
        r.all()
    );
}

/// Runs `plan` on a stack of one `main.tf.json` and returns stderr.
fn plan_error(text: &str) -> String {
    let s = TestStack::empty();
    s.write("main.tf.json", text);
    let r = s.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(r.code, 1, "{}", r.all());
    r.stderr
}

#[test]
fn errors_in_json_files_name_the_file_and_line() {
    // JSON syntax: a trailing comma.
    let e = plan_error("{\n  \"locals\": {\n    \"a\": 1,\n  }\n}\n");
    assert!(
        e.contains("main.tf.json:4") && e.contains("Invalid JSON syntax"),
        "{e}"
    );
    // A block type Terraform does not have.
    let e = plan_error("{\n  \"locals\": {},\n  \"resurce\": {}\n}\n");
    assert!(
        e.contains("main.tf.json:3") && e.contains("Unsupported block type \"resurce\""),
        "{e}"
    );
    // An argument the resource type does not take.
    let e = plan_error(
        "{\"resource\": {\"terraform_data\": {\"a\": {\n  \"input\": 1,\n  \"inptu\": 2\n}}}}\n",
    );
    assert!(
        e.contains("main.tf.json:3") && e.contains("Unsupported argument \"inptu\""),
        "{e}"
    );
    // A broken interpolation.
    let e = plan_error("{\n  \"output\": {\"o\": {\n    \"value\": \"${var.}\"\n  }}\n}\n");
    assert!(e.contains("main.tf.json:3"), "{e}");
    // A reference that is not one.
    let e = plan_error(
        "{\"resource\": {\"terraform_data\": {\"a\": {\n  \"depends_on\": [\"terraform_data.b, x\"]\n}}}}\n",
    );
    assert!(e.contains("main.tf.json:2"), "{e}");
    // A block written as something else than an object.
    let e = plan_error("{\n  \"resource\": {\n    \"terraform_data\": [1]\n  }\n}\n");
    assert!(
        e.contains("main.tf.json:3") && e.contains("Invalid resource block"),
        "{e}"
    );
}
