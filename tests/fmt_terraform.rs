//! `dumcel fmt` against `terraform fmt` as the oracle: the same files,
//! formatted by both, must come out byte for byte the same. Terraform 1.11
//! (/usr/local/bin/terraform) when the machine has it, else the 1.0.3 that
//! dev/install-terraform.sh installs.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestStack;

fn terraform() -> String {
    let modern = "/usr/local/bin/terraform";
    if Path::new(modern).exists() {
        return modern.to_owned();
    }
    std::env::var("DUMCEL_TERRAFORM_103").unwrap_or_else(|_| {
        format!(
            "{}/.cache/dumcel/bin/terraform",
            std::env::var("HOME").unwrap_or_default()
        )
    })
}

/// Files written the way people write them, each with something `fmt`
/// must change or must leave alone.
const CASES: &[(&str, &str)] = &[
    (
        "labels_comments_blank_lines.tf",
        "resource aws_s3_bucket b {\n  bucket = \"x\"   # trailing comment   \n  # comment with trailing spaces   \n}\n\n\n\n",
    ),
    (
        "alignment.tf",
        "variable \"x\" {\ntype = string\n    default = \"a\"\n  description=\"the x\"\n}\n\nlocals {\n  a = 1\n  bbb = { k = 1, longer_key = 2 }\n  # group ends\n  cc = [\n  1,\n    2,\n  ]\n\n  d = var.x\n}\n",
    ),
    (
        "nested.tf",
        "resource \"aws_security_group\" \"web\" {\n  name = \"web\"\n  ingress {\n  from_port = 443\n  to_port = 443\n  cidr_blocks = [\"0.0.0.0/0\"]\n  }\n  tags = {\n    Name = \"web\"\n    Environment = var.env\n  }\n  lifecycle {\n  create_before_destroy = true\n  }\n}\n",
    ),
    (
        "expressions.tf",
        "output \"o\" {\n  value = {\n    for k, v in var.m : k => upper(v) if v != \"\"\n  }\n}\n\noutput \"t\" {\n  value = var.a ? \"yes\" : \"no\"\n}\n\nlocals {\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{\n      Effect = \"Allow\"\n      Action = [\"s3:GetObject\"]\n    }]\n  })\n  doc = <<-EOT\n    hello\n      world\n  EOT\n}\n",
    ),
    (
        "values.tfvars",
        "region=\"us-east-1\"\ninstance_count   =  2\ntags={a=1,bb=2}\n",
    ),
];

#[test]
fn fmt_writes_what_terraform_fmt_writes() {
    let theirs = TestStack::empty();
    let ours = TestStack::empty();
    for (name, text) in CASES {
        theirs.write(name, text);
        ours.write(name, text);
    }
    let out = Command::new(terraform())
        .args(["fmt", "-no-color", "."])
        .current_dir(theirs.path())
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .expect("terraform runs (bash dev/install-terraform.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = ours.run(&["fmt", "-no-color"]);
    assert!(r.code == 0, "{}", r.all());
    let mut differ = Vec::new();
    for (name, _) in CASES {
        let (want, got) = (theirs.read(name), ours.read(name));
        if want != got {
            differ.push(format!(
                "{name}:\n--- terraform fmt ---\n{want}--- dumcel fmt ---\n{got}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // Formatted files are left alone by a second run of each.
    let check = ours.run(&["fmt", "-check"]);
    assert_eq!(check.code, 0, "{}", check.all());
}
