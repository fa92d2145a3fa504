//! Terraform's file, template and time functions in a real stack: what a
//! Terraform user's module does with templatefile, fileset, formatdate,
//! timeadd, plantimestamp and timestamp, through `dumcel plan` and `apply`.
//! Expected texts are what Terraform 1.11 gives for the same expressions.

mod common;

use common::TestStack;

const STACK: &str = r#"
locals {
  fixed = "2024-02-29T22:30:00Z"
}

resource "local_file" "page" {
  filename = "out/page.txt"
  content = templatefile("${path.module}/page.tpl", {
    name  = "dumcel"
    items = fileset(path.module, "assets/**/*.css")
  })
}

resource "null_resource" "stamp" {
  triggers = {
    at = timestamp()
  }
}

output "when" {
  value = formatdate("EEEE, DD MMM YYYY hh:mm 'UTC'", timeadd(local.fixed, "90m"))
}

output "earlier" {
  value = timecmp(timeadd(local.fixed, "-24h"), local.fixed)
}

output "plan_started" {
  value = plantimestamp()
}

output "applied_at" {
  value = null_resource.stamp.triggers.at
}
"#;

const TEMPLATE: &str = "Hello ${name}!\n%{ for f in items ~}\n* ${f}\n%{ endfor ~}\nBuilt %{ if length(items) > 1 }many%{ else }one%{ endif }.\n";

fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[19] == b'Z'
        && text
            .bytes()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit())
}

#[test]
fn template_file_glob_and_time_functions_plan_and_apply() {
    let s = TestStack::new(STACK);
    s.write("page.tpl", TEMPLATE);
    s.write("assets/site.css", "body {}\n");
    s.write("assets/print/p.css", "@media print {}\n");
    s.write("assets/readme.md", "not a stylesheet\n");

    let plan = s.ok(&["plan", "-no-color"]);
    // The template is rendered at plan time, with the matched files sorted.
    assert!(
        plan.stdout.contains("Hello dumcel!"),
        "the rendered template is in the plan: {}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("Friday, 01 Mar 2024 00:00 UTC"),
        "formatdate/timeadd on a fixed time are known at plan: {}",
        plan.all()
    );
    // timestamp() is unknown until apply, as in Terraform.
    let at_line = plan
        .stdout
        .lines()
        .find(|l| l.contains("\"at\"") || l.trim_start().starts_with("+ at"))
        .unwrap_or_else(|| panic!("the trigger is in the plan: {}", plan.all()));
    assert!(
        at_line.contains("(known after apply)"),
        "timestamp() at plan: {at_line}\n{}",
        plan.all()
    );

    s.ok(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(
        s.read("out/page.txt"),
        "Hello dumcel!\n* assets/print/p.css\n* assets/site.css\nBuilt many.\n"
    );
    let state = s.state();
    let output = |name: &str| state["outputs"][name]["value"].clone();
    assert_eq!(output("when"), "Friday, 01 Mar 2024 00:00 UTC");
    assert_eq!(output("earlier"), -1);
    let started = output("plan_started");
    let started = started.as_str().expect("plantimestamp() is a string");
    assert!(is_rfc3339_utc(started), "plantimestamp() = {started}");
    let at = s.attr("null_resource.stamp", "triggers")["at"].clone();
    let at = at.as_str().expect("timestamp() is known after apply");
    assert!(is_rfc3339_utc(at), "timestamp() = {at}");
    assert_eq!(output("applied_at"), at);
    // The apply happened after its plan started (same second at the least).
    assert!(
        started <= at,
        "plantimestamp {started} after timestamp {at}"
    );
}
