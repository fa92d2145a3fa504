//! A directory of Terraform files: `*.tf`, `terraform.tfvars`,
//! `*.auto.tfvars`, `*.tfvars.json` and `TF_VAR_name` are read as Terraform
//! reads them; module paths resolve at any depth; what dumcel cannot read is
//! an error that names it, never skipped.

mod common;

use common::TestStack;

const VARIABLES_TF: &str = r#"
variable "from_tfvars" {
  type = string
}
variable "from_auto" {
  type = string
}
variable "from_json" {
  type = list(string)
}
variable "from_env" {
  type = string
}
variable "overridden" {
  type    = string
  default = "default"
}
"#;

const MAIN_TF: &str = r#"
resource "local_file" "values" {
  filename = "values.txt"
  content  = join(",", concat([var.from_tfvars, var.from_auto, var.from_env, var.overridden], var.from_json))
}
"#;

#[test]
fn tf_files_and_tfvars_are_read_with_terraforms_precedence() {
    let s = TestStack::empty();
    s.write("variables.tf", VARIABLES_TF);
    s.write("main.tf", MAIN_TF);
    s.write(
        "terraform.tfvars",
        "from_tfvars = \"tfvars\"\nfrom_auto = \"tfvars\"\noverridden = \"tfvars\"\n",
    );
    s.write("b.auto.tfvars", "from_auto = \"auto-b\"\n");
    s.write("a.auto.tfvars", "from_auto = \"auto-a\"\n");
    s.write(
        "c.auto.tfvars.json",
        r#"{ "from_json": ["j1", "j2"], "overridden": "json" }"#,
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["apply", "-auto-approve", "-no-color"];
        args.extend_from_slice(extra);
        let out = s
            .command(&args)
            .env("TF_VAR_from_env", "env")
            .env("TF_VAR_from_auto", "env-loses")
            .output()
            .expect("run dumcel");
        common::Run::from(out)
    };
    let r = run(&[]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Later auto files win over earlier ones and over terraform.tfvars,
    // which wins over the environment.
    assert_eq!(s.read("values.txt"), "tfvars,auto-b,env,json,j1,j2");
    let r = run(&["-var", "overridden=cli"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(s.read("values.txt"), "tfvars,auto-b,env,cli,j1,j2");

    // A missing value names Terraform's ways to give one.
    let s2 = TestStack::empty();
    s2.write("main.tf", "variable \"region\" {}\n");
    let r = s2.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("No value for required variable \"region\"")
            && r.stderr.contains("TF_VAR_region"),
        "{}",
        r.all()
    );

    // Broken JSON names the file and the line.
    s.write("c.auto.tfvars.json", "{\n  \"from_json\": [\"j1\",\n}\n");
    let r = run(&[]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("c.auto.tfvars.json:3"), "{}", r.all());
}

#[test]
fn an_empty_directory_plans_nothing_and_says_so() {
    let s = TestStack::empty();
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("No configuration files"), "{}", r.all());
    // As in Terraform, destroying everything is still possible.
    let r = s.run(&["plan", "-destroy", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn files_dumcel_cannot_read_are_named_not_skipped() {
    let s = TestStack::empty();
    s.write("main.tf", "resource \"null_resource\" \"a\" {}\n");
    // (`*.tf.json` files are read: tests/terraform_json.rs.)
    s.write("main_override.tf", "resource \"null_resource\" \"a\" {}\n");
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("main_override.tf"), "{}", r.all());
}

/// The layout of public modules: the module at the top, its submodules
/// under modules/, and examples/complete calling `../..` and
/// `../../modules/x`.
#[test]
fn module_paths_resolve_at_any_depth() {
    let s = TestStack::empty();
    s.write(
        "main.tf",
        r#"
variable "name" {
  type = string
}
variable "tags" {
  type = object({
    names = optional(list(string), ["index"])
    extra = optional(map(string), { team = "web" })
  })
  default = {}
}
module "file" {
  source  = "./modules/file"
  name    = "${var.name}.txt"
  content = join(",", concat(var.tags.names, [var.tags.extra.team]))
}
output "path" {
  value = module.file.path
}
"#,
    );
    s.write(
        "modules/file/main.tf",
        r#"
variable "name" {}
variable "content" {}
resource "local_file" "f" {
  filename = var.name
  content  = var.content
}
output "path" {
  value = local_file.f.filename
}
"#,
    );
    s.write(
        "examples/complete/main.tf",
        r#"
module "top" {
  source = "../.."
  name   = "top"
}
module "direct" {
  source  = "../../modules/file"
  name    = "direct.txt"
  content = "direct"
}
"#,
    );
    let r = s.run(&[
        "-chdir=examples/complete",
        "apply",
        "-auto-approve",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(s.read("examples/complete/top.txt"), "index,web");
    assert_eq!(s.read("examples/complete/direct.txt"), "direct");
    let again = s.run(&[
        "-chdir=examples/complete",
        "plan",
        "-detailed-exitcode",
        "-no-color",
    ]);
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn a_module_that_reaches_itself_is_an_error_naming_the_chain() {
    let s = TestStack::empty();
    s.write("main.tf", "module \"a\" {\n  source = \"./modules/a\"\n}\n");
    s.write(
        "modules/a/main.tf",
        "module \"b\" {\n  source = \"../b\"\n}\n",
    );
    s.write(
        "modules/b/main.tf",
        "module \"back\" {\n  source = \"../a\"\n}\n",
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Module \"back\" reaches itself")
            && r.stderr.contains("module.a.module.b.module.back")
            && r.stderr.contains("the directory of module.a"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.len() < 4000,
        "one error, not thousands: {}",
        r.stderr.len()
    );

    // `../..` from a module inside the caller reaches the caller.
    let s = TestStack::empty();
    s.write("main.tf", "module \"x\" {\n  source = \"./sub/x\"\n}\n");
    s.write(
        "sub/x/main.tf",
        "module \"up\" {\n  source = \"../..\"\n}\n",
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("reaches itself") && r.stderr.contains("the root module"),
        "{}",
        r.all()
    );
}

#[test]
fn registry_sources_are_named_with_how_to_vendor_them_and_git_ones_need_init() {
    let s = TestStack::empty();
    s.write(
        "main.tf",
        r#"
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}
module "lib" {
  source = "git::https://example.com/lib.git?ref=v1"
}
"#,
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    for want in [
        "Module \"vpc\": unsupported source \"terraform-aws-modules/vpc/aws\"",
        "module registry address",
        // Git sources load once `dumcel init` installed them.
        "Module not installed",
        "module.lib (source \"git::https://example.com/lib.git?ref=v1\") is not yet installed",
        "./modules/NAME",
        "main.tf:2",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.all());
    }
}

#[test]
fn repeated_object_keys_keep_the_last_as_terraform_does() {
    let s = TestStack::empty();
    s.write(
        "main.tf",
        "locals {\n  ports = { port = 80, port = 443 }\n}\noutput \"port\" {\n  value = local.ports.port\n}\n",
    );
    let r = s.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("port = 443"), "{}", r.all());
}

/// `validate -json` carries every diagnostic, loading errors included, on
/// stdout in Terraform's format.
#[test]
fn validate_json_carries_loading_errors() {
    let s = TestStack::empty();
    s.write(
        "main.tf",
        "resource \"null_resource\" \"a\" {\n  triggers = {\n}\n",
    );
    s.write("vars.tf", "variable \"x\" {\n  type = strang\n}\n");
    let r = s.run(&["validate", "-json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let json: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.all()));
    assert_eq!(json["format_version"], "1.0");
    assert_eq!(json["valid"], false);
    assert_eq!(json["error_count"], 2, "{json}");
    let diags = json["diagnostics"].as_array().unwrap();
    let files: Vec<&str> = diags
        .iter()
        .filter_map(|d| d["range"]["filename"].as_str())
        .collect();
    assert_eq!(files, ["main.tf", "vars.tf"], "{json}");
    assert_eq!(diags[1]["range"]["start"]["line"], 2, "{json}");
    assert!(diags.iter().all(|d| d["severity"] == "error"), "{json}");
}

/// `terraform { required_version, required_providers }` is checked as
/// Terraform 1.11 checks it: a provider dumcel lacks is named.
#[test]
fn terraform_block_requirements_are_checked() {
    let s = TestStack::empty();
    s.write(
        "versions.tf",
        r#"
terraform {
  required_version = ">= 1.0, < 2.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    docker = {
      source = "kreuzwerker/docker"
    }
    null = {
      source = "registry.terraform.io/hashicorp/null"
    }
  }
}
resource "null_resource" "a" {}
"#,
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());

    s.write(
        "versions.tf",
        r#"
terraform {
  required_version = "~> 1.5.0"
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}
"#,
    );
    let r = s.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    for want in [
        "Unsupported Terraform Core version",
        "~> 1.5.0",
        "versions.tf:3",
        "Provider \"hashicorp/google\" is not available",
        "hashicorp/aws",
        "versions.tf:5",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.all());
    }
}
