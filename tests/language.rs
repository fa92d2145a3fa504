//! Language features beyond the core: data sources, variable validation.

mod common;

use common::TestStack;

#[test]
fn data_sources_read_at_plan_when_known_and_at_apply_otherwise() {
    let s = TestStack::new(
        r#"
# Known at plan: the file exists already.
data "local_file" "existing" {
  filename = "input.txt"
}

# Depends on a file this stack writes: read during apply.
resource "local_file" "generated" {
  filename = "generated.txt"
  content  = "made from ${trimspace(data.local_file.existing.content)}"
}
data "local_file" "generated" {
  filename = local_file.generated.filename
}
resource "local_file" "copy" {
  filename = "copy.txt"
  content  = upper(data.local_file.generated.content)
}
output "input_sha1" {
  value = data.local_file.existing.id
}
"#,
    );
    s.write("input.txt", "seed\n");
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("data.local_file.generated will be read during apply"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("\"made from seed\""),
        "the known read fed the plan: {}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("(because it depends on resources with changes pending)"),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.read("copy.txt"), "MADE FROM SEED");
    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());

    let missing = TestStack::new("data \"local_file\" \"x\" {\n  filename = \"nope.txt\"\n}\n");
    let r = missing.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Error reading data.local_file.x"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("nope.txt"), "{}", r.all());
}

#[test]
fn a_data_source_waits_for_apply_only_when_what_it_depends_on_changes() {
    let stack = |unrelated: &str| {
        format!(
            r#"
resource "null_resource" "dep" {{
  triggers = {{ v = "1" }}
}}
resource "null_resource" "unrelated" {{
  triggers = {{ v = "{unrelated}" }}
}}
data "local_file" "input" {{
  filename   = "input.txt"
  depends_on = [null_resource.dep]
}}
output "content" {{
  value = data.local_file.input.content
}}
"#
        )
    };
    let s = TestStack::new(&stack("1"));
    s.write("input.txt", "seed\n");
    let first = s.ok(&["plan", "-no-color"]);
    assert!(
        first
            .stdout
            .contains("data.local_file.input will be read during apply"),
        "its dependency is to be created: {}",
        first.all()
    );
    s.ok(&["apply", "-auto-approve"]);

    // Only the resource it does not depend on changes: it is read now.
    s.write("main.hcl", &stack("2"));
    let second = s.ok(&["plan", "-no-color"]);
    assert!(
        second
            .stdout
            .contains("null_resource.unrelated must be replaced"),
        "{}",
        second.all()
    );
    assert!(
        !second.stdout.contains("data.local_file.input will be read"),
        "{}",
        second.all()
    );
}

#[test]
fn variable_validation_blocks_reject_bad_values_with_their_message() {
    let s = TestStack::new(
        r#"
variable "replicas" {
  type    = number
  default = 2
  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5
    error_message = "replicas must be between 1 and 5."
  }
}
resource "null_resource" "r" {
  count = var.replicas
}
"#,
    );
    s.ok(&["plan", "-var", "replicas=3"]);
    let r = s.run(&["plan", "-var", "replicas=9", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("replicas must be between 1 and 5."),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("main.hcl:6:"),
        "points at the condition: {}",
        r.all()
    );
    let bad_type = s.run(&["plan", "-var", "replicas=many", "-no-color"]);
    assert_eq!(bad_type.code, 1, "{}", bad_type.all());
    assert!(
        bad_type.stderr.contains("a number is required"),
        "{}",
        bad_type.all()
    );
}

#[test]
fn object_types_with_optional_attributes_and_defaults() {
    let s = TestStack::new(
        r#"
variable "service" {
  type = object({
    name     = string
    replicas = optional(number, 1)
    tags     = optional(map(string))
  })
}
resource "local_file" "f" {
  filename = "f.txt"
  content  = "${var.service.name} x${var.service.replicas} tags=${length(coalesce(var.service.tags, {}))}"
}
"#,
    );
    s.ok(&[
        "apply",
        "-auto-approve",
        "-var",
        "service={ name = \"web\" }",
    ]);
    assert_eq!(s.read("f.txt"), "web x1 tags=0");
    let missing = s.run(&["plan", "-var", "service={ replicas = 2 }", "-no-color"]);
    assert_eq!(missing.code, 1, "{}", missing.all());
    assert!(
        missing.stderr.contains("attribute \"name\" is required"),
        "{}",
        missing.all()
    );
    let wrong = s.run(&[
        "plan",
        "-var",
        "service={ name = \"web\", replicas = \"many\" }",
        "-no-color",
    ]);
    assert_eq!(wrong.code, 1, "{}", wrong.all());
    assert!(
        wrong
            .stderr
            .contains(".replicas: a number is required, got string"),
        "{}",
        wrong.all()
    );
}

/// Terraform needs only a for_each map's keys at plan time: the documented
/// `{ for dvo in aws_acm_certificate.x.domain_validation_options :
/// dvo.domain_name => {...} }` has known names and record values that exist
/// only once the certificate is made. `each.value` is then what apply made.
#[test]
fn for_each_map_with_values_known_only_at_apply() {
    let s = TestStack::new(
        r#"
resource "null_resource" "server" {
  for_each = toset(["a", "b"])
}
resource "local_file" "note" {
  for_each = { for name, srv in null_resource.server : name => { id = srv.id, file = "${name}.txt" } }
  filename = each.value.file
  content  = each.value.id
}
"#,
    );
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("local_file.note[\"a\"] will be created")
            && plan
                .stdout
                .contains("local_file.note[\"b\"] will be created"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("(known after apply)"),
        "{}",
        plan.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    for name in ["a", "b"] {
        let id = s.attr(&format!("null_resource.server[\"{name}\"]"), "id");
        let id = id.as_str().expect("the server has an id");
        assert_eq!(
            s.read(&format!("{name}.txt")),
            id,
            "each.value came from apply"
        );
    }
    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());

    // Keys that are unknown still cannot make addresses.
    let unknown_keys = TestStack::new(
        r#"
resource "null_resource" "server" {}
resource "null_resource" "by_id" {
  for_each = { (null_resource.server.id) = 1 }
}
"#,
    );
    let r = unknown_keys.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Invalid for_each argument") && r.stderr.contains("main.hcl:4"),
        "{}",
        r.all()
    );
}

#[test]
fn every_independent_error_is_reported_in_one_plan() {
    let s = TestStack::new(
        r#"
resource "terraform_data" "a" {
  input = nosuchfunction("x")
}

resource "terraform_data" "b" {
  input = 1 + "two"
}

resource "terraform_data" "after_a" {
  input = terraform_data.a.output
}

resource "terraform_data" "fine" {
  input = "ok"
}
"#,
    );
    let out = s.run(&["plan", "-no-color"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("Call to unknown function \"nosuchfunction\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("main.hcl:7"),
        "the second error too: {}",
        out.stderr
    );
    // What depends on a failed block is not evaluated: no repeated error.
    assert_eq!(out.stderr.matches("error:").count(), 2, "{}", out.stderr);
}
