//! The random provider's types and Terraform's `terraform_data`, through the
//! binary: values made at apply and kept, keepers that replace, passwords
//! that never show, and terraform_data's update/replace split.

mod common;

use common::TestStack;

const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

const STACK: &str = r##"
terraform {
  required_providers {
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "random" {}

resource "random_pet" "default" {}

resource "random_pet" "long" {
  length    = 3
  separator = "_"
  prefix    = "app"
}

resource "random_id" "bucket" {
  byte_length = 8
  prefix      = "b-"
}

resource "random_string" "lower_digits" {
  length      = 24
  special     = false
  upper       = false
  min_numeric = 6
}

resource "random_string" "only_special" {
  length           = 10
  upper            = false
  lower            = false
  numeric          = false
  override_special = "#"
}

resource "random_password" "db" {
  length      = 20
  min_upper   = 3
  min_lower   = 3
  min_numeric = 3
  min_special = 3
  keepers = {
    rotation = "1"
  }
}

resource "random_integer" "port" {
  min = 8000
  max = 8010
}

resource "random_integer" "seeded_a" {
  min  = 1
  max  = 1000000
  seed = "abc"
}

resource "random_integer" "seeded_b" {
  min  = 1
  max  = 1000000
  seed = "abc"
}

resource "random_shuffle" "zones" {
  input        = ["a", "b", "c", "d"]
  result_count = 2
}

resource "random_uuid" "u" {
  keepers = {
    rotation = "1"
  }
}

output "pet" {
  value = random_pet.default.id
}
"##;

const ADDRESSES: [&str; 11] = [
    "random_pet.default",
    "random_pet.long",
    "random_id.bucket",
    "random_string.lower_digits",
    "random_string.only_special",
    "random_password.db",
    "random_integer.port",
    "random_integer.seeded_a",
    "random_integer.seeded_b",
    "random_shuffle.zones",
    "random_uuid.u",
];

fn text(s: &TestStack, address: &str, attr: &str) -> String {
    s.attr(address, attr)
        .as_str()
        .unwrap_or_else(|| panic!("{address}.{attr} is a string in state"))
        .to_owned()
}

fn count(s: &str, f: impl Fn(char) -> bool) -> usize {
    s.chars().filter(|c| f(*c)).count()
}

#[test]
fn random_values_are_made_at_apply_kept_and_replaced_by_keepers() {
    let s = TestStack::new(STACK);

    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("Plan: 11 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("result") && plan.stdout.contains("(known after apply)"),
        "results are unknown until apply: {}",
        plan.all()
    );
    // Defaults show in the plan, as Terraform shows them.
    assert!(plan.stdout.contains("separator = \"-\""), "{}", plan.all());

    s.ok(&["apply", "-auto-approve", "-no-color"]);

    // random_pet: two words by default; three with adverb first, after the prefix.
    let pet = text(&s, "random_pet.default", "id");
    assert_eq!(pet.split('-').count(), 2, "{pet}");
    assert!(
        pet.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
        "{pet}"
    );
    let out = s.ok(&["output", "-raw", "pet"]);
    assert_eq!(out.stdout, pet);
    let long = text(&s, "random_pet.long", "id");
    let words: Vec<&str> = long.split('_').collect();
    assert_eq!(words.len(), 4, "prefix and three words: {long}");
    assert_eq!(words[0], "app");

    // random_id: 8 bytes in every encoding, prefix on all but id.
    let id = text(&s, "random_id.bucket", "id");
    assert_eq!(id.len(), 11, "8 bytes in unpadded base64: {id}");
    assert_eq!(text(&s, "random_id.bucket", "b64_url"), format!("b-{id}"));
    let hex = text(&s, "random_id.bucket", "hex");
    assert!(hex.starts_with("b-") && hex.len() == 2 + 16, "{hex}");
    let dec = text(&s, "random_id.bucket", "dec");
    let hex_value = u64::from_str_radix(&hex[2..], 16).unwrap();
    assert_eq!(dec, format!("b-{hex_value}"));
    assert!(text(&s, "random_id.bucket", "b64_std").starts_with("b-"));

    // random_string: length, classes, minimums, override_special.
    let lower = text(&s, "random_string.lower_digits", "result");
    assert_eq!(lower.len(), 24, "{lower}");
    assert!(
        lower
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{lower}"
    );
    assert!(count(&lower, |c| c.is_ascii_digit()) >= 6, "{lower}");
    assert_eq!(
        text(&s, "random_string.only_special", "result"),
        "#".repeat(10)
    );

    // random_password: every minimum met; the state holds it, marked sensitive.
    let password = text(&s, "random_password.db", "result");
    assert_eq!(password.len(), 20);
    assert!(
        count(&password, |c| c.is_ascii_uppercase()) >= 3,
        "{password}"
    );
    assert!(
        count(&password, |c| c.is_ascii_lowercase()) >= 3,
        "{password}"
    );
    assert!(count(&password, |c| c.is_ascii_digit()) >= 3, "{password}");
    assert!(count(&password, |c| SPECIAL.contains(c)) >= 3, "{password}");
    let hash = text(&s, "random_password.db", "bcrypt_hash");
    assert!(hash.starts_with("$2a$10$") && hash.len() == 60, "{hash}");
    assert_eq!(
        s.state()["resources"]["random_password.db"]["sensitive_attributes"],
        serde_json::json!(["bcrypt_hash", "result"]),
        "the state marks the result and its hash sensitive"
    );

    // random_integer: in bounds; the same seed gives the same number.
    let port = s.attr("random_integer.port", "result").as_f64().unwrap();
    assert!((8000.0..=8010.0).contains(&port), "{port}");
    assert_eq!(text(&s, "random_integer.port", "id"), format!("{port}"));
    assert_eq!(
        s.attr("random_integer.seeded_a", "result"),
        s.attr("random_integer.seeded_b", "result")
    );

    // random_shuffle: result_count distinct items of the input.
    let zones = s.attr("random_shuffle.zones", "result");
    let zones: Vec<&str> = zones
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z.as_str().unwrap())
        .collect();
    assert_eq!(zones.len(), 2, "{zones:?}");
    assert_ne!(zones[0], zones[1]);
    assert!(zones.iter().all(|z| ["a", "b", "c", "d"].contains(z)));

    let uuid = text(&s, "random_uuid.u", "result");
    assert_eq!(uuid.len(), 36, "{uuid}");
    assert_eq!(text(&s, "random_uuid.u", "id"), uuid);

    // Terraform's provider addresses, so a Terraform state matches.
    assert_eq!(
        s.state()["resources"]["random_pet.default"]["provider"],
        "provider[\"registry.terraform.io/hashicorp/random\"]"
    );

    // Refresh and re-plan change nothing: the values stay.
    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    let before: Vec<serde_json::Value> = ADDRESSES
        .iter()
        .map(|a| s.state()["resources"][*a]["attributes"].clone())
        .collect();

    // New keepers replace the password and the UUID, and only them; the
    // password shows nowhere in the plan.
    s.write(
        "main.hcl",
        &STACK.replace("rotation = \"1\"", "rotation = \"2\""),
    );
    let rotate = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(rotate.code, 2, "{}", rotate.all());
    assert!(
        rotate
            .stdout
            .contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "{}",
        rotate.all()
    );
    assert!(
        rotate
            .stdout
            .contains("random_password.db must be replaced"),
        "{}",
        rotate.all()
    );
    assert!(!rotate.all().contains(&password), "{}", rotate.all());
    assert!(
        rotate.stdout.contains("(sensitive value)"),
        "{}",
        rotate.all()
    );
    let json = s.ok(&["plan", "-json"]);
    assert!(
        !json.all().contains(&password),
        "plan -json shows the password"
    );
    assert!(json.stdout.contains("random_password.db"), "{}", json.all());

    s.ok(&["apply", "-auto-approve", "-no-color"]);
    for (address, old) in ADDRESSES.iter().zip(&before) {
        let now = &s.state()["resources"][*address]["attributes"];
        if ["random_password.db", "random_uuid.u"].contains(address) {
            assert_ne!(now["result"], old["result"], "{address} has a new value");
        } else {
            assert_eq!(now, old, "{address} stays as it was");
        }
    }
    let new_password = text(&s, "random_password.db", "result");

    let show = s.ok(&["show", "-no-color"]);
    assert!(show.stdout.contains("random_password"), "{}", show.all());
    assert!(!show.all().contains(&new_password), "{}", show.all());
    assert!(show.stdout.contains("(sensitive value)"), "{}", show.all());
    assert!(show.stdout.contains(&text(&s, "random_uuid.u", "result")));
}

const DATA: &str = r#"
resource "terraform_data" "d" {
  input            = "a"
  triggers_replace = "x"
}

output "o" {
  value = terraform_data.d.output
}
"#;

/// The same actions `terraform plan` takes for each change.
#[test]
fn terraform_data_updates_input_in_place_and_replaces_on_triggers() {
    let s = TestStack::new(DATA);

    let create = s.ok(&["plan", "-no-color"]);
    assert!(
        create
            .stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        create.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    let id = text(&s, "terraform_data.d", "id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(s.ok(&["output", "-raw", "o"]).stdout, "a");
    assert_eq!(
        s.state()["resources"]["terraform_data.d"]["provider"],
        "provider[\"terraform.io/builtin/terraform\"]"
    );

    let none = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(none.code, 0, "{}", none.all());

    // input: an update in place; output known only after apply.
    s.write("main.hcl", &DATA.replace("\"a\"", "\"b\""));
    let update = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(update.code, 2, "{}", update.all());
    assert!(
        update
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        update.all()
    );
    assert!(
        update.stdout.contains("(known after apply)"),
        "{}",
        update.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_eq!(s.ok(&["output", "-raw", "o"]).stdout, "b");
    assert_eq!(
        text(&s, "terraform_data.d", "id"),
        id,
        "updated, not replaced"
    );

    // triggers_replace: a replacement, with a new id.
    s.write(
        "main.hcl",
        &DATA.replace("\"a\"", "\"b\"").replace("\"x\"", "\"y\""),
    );
    let replace = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(replace.code, 2, "{}", replace.all());
    assert!(
        replace
            .stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        replace.all()
    );
    assert!(
        replace.stdout.contains("terraform_data.d must be replaced"),
        "{}",
        replace.all()
    );
    s.ok(&["apply", "-auto-approve"]);
    assert_ne!(text(&s, "terraform_data.d", "id"), id);
    assert_eq!(s.ok(&["output", "-raw", "o"]).stdout, "b");
}

#[test]
fn random_values_import_by_value() {
    let s = TestStack::new(
        r#"
resource "random_integer" "port" {
  min = 1
  max = 10
}

resource "random_integer" "unset" {
  min = 1
  max = 10
}

resource "random_id" "tag" {
  byte_length = 4
  prefix      = "p-"
}

resource "random_string" "code" {
  length = 6
}
"#,
    );
    s.ok(&["import", "random_integer.port", "7,1,10"]);
    s.ok(&["import", "random_id.tag", "p-,3q2-7w"]);
    s.ok(&["import", "random_string.code", "abc123"]);
    assert_eq!(s.attr("random_integer.port", "result"), 7);
    assert_eq!(s.attr("random_id.tag", "hex"), "p-deadbeef");
    assert_eq!(s.attr("random_string.code", "result"), "abc123");
    let plan = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "imported values match, only the unimported one is created: {}",
        plan.all()
    );

    let bad = s.run(&["import", "random_integer.unset", "11,1,10"]);
    assert_ne!(bad.code, 0, "{}", bad.all());
    assert!(bad.all().contains("not between"), "{}", bad.all());
}

#[test]
fn impossible_minimums_are_a_configuration_error() {
    let s = TestStack::new(
        r#"
resource "random_string" "short" {
  length    = 2
  min_upper = 2
  min_lower = 1
}
"#,
    );
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("length"), "{}", r.all());
    assert!(r.all().contains("sum of min_upper"), "{}", r.all());
}
