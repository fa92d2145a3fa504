//! Modules from local paths: inputs, outputs, nesting, count and for_each,
//! addresses, and the mistakes a call site can make.

mod common;

use common::TestStack;

const ROOT: &str = r#"
variable "services" {
  type    = map(number)
  default = { web = 8080, api = 9090 }
}
data "local_file" "motd" {
  filename = "motd.txt"
}
module "svc" {
  source   = "./modules/service"
  for_each = var.services
  name     = each.key
  port     = each.value
  banner   = trimspace(data.local_file.motd.content)
}
module "extra" {
  source = "./modules/service/modules/file"
  count  = 2
  filename = "extra-${count.index}.txt"
  content  = "extra ${count.index}"
}
output "files" {
  value = { for k, m in module.svc : k => m.path }
}
output "extra_paths" {
  value = module.extra[*].path
}
"#;

const SERVICE: &str = r#"
variable "name" {}
variable "port" {
  type = number
}
variable "banner" {
  default = "none"
}
resource "null_resource" "id" {
  triggers = { name = var.name }
  lifecycle {
    create_before_destroy = true
  }
}
module "config" {
  source   = "./modules/file"
  filename = "${var.name}.conf"
  content  = "${var.banner}\nport=${var.port}\nid=${null_resource.id.id}\n"
}
output "path" {
  value = module.config.path
}
"#;

const FILE: &str = r#"
variable "filename" {}
variable "content" {}
resource "local_file" "this" {
  filename = var.filename
  content  = var.content
}
output "path" {
  value = local_file.this.filename
}
"#;

fn stack() -> TestStack {
    let s = TestStack::new(ROOT);
    std::fs::create_dir_all(s.file("modules/service/modules/file")).unwrap();
    s.write("modules/service/main.hcl", SERVICE);
    s.write("modules/service/modules/file/main.hcl", FILE);
    s.write("motd.txt", "hello\n");
    s
}

#[test]
fn two_levels_of_modules_with_for_each_plan_apply_and_settle() {
    let s = stack();
    let plan = s.ok(&["plan", "-no-color"]);
    assert!(
        plan.stdout
            .contains("# module.svc[\"web\"].module.config.local_file.this will be created"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("# module.extra[1].local_file.this will be created"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("Plan: 6 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );

    s.ok(&["apply", "-auto-approve"]);
    let id = s.attr("module.svc[\"web\"].null_resource.id", "id");
    assert_eq!(
        s.read("web.conf"),
        format!("hello\nport=8080\nid={}\n", id.as_str().unwrap())
    );
    assert_eq!(s.read("extra-1.txt"), "extra 1");
    let files: serde_json::Value =
        serde_json::from_str(&s.ok(&["output", "-json", "files"]).stdout).unwrap();
    assert_eq!(
        files,
        serde_json::json!({ "api": "api.conf", "web": "web.conf" })
    );

    let again = s.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // Dropping a key destroys that module instance's resources only.
    let plan = s.ok(&["plan", "-no-color", "-var", "services={ web = 8080 }"]);
    assert!(
        plan.stdout.contains("0 to add, 0 to change, 2 to destroy"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("module.svc[\"api\"].null_resource.id will be destroyed"),
        "{}",
        plan.all()
    );

    // A target names a module instance and takes what it needs along.
    let targeted = s.ok(&[
        "plan",
        "-no-color",
        "-target=module.svc[\"web\"]",
        "-var",
        "services={ web = 8081 }",
    ]);
    assert!(
        targeted
            .stdout
            .contains("module.svc[\"web\"].module.config.local_file.this must be replaced"),
        "{}",
        targeted.all()
    );
    let actions = targeted
        .stdout
        .split("will perform the following actions")
        .nth(1)
        .unwrap_or("");
    assert!(
        !actions.contains("module.svc[\"api\"]"),
        "{}",
        targeted.all()
    );
    assert!(
        actions.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        targeted.all()
    );
}

#[test]
fn call_site_mistakes_name_the_call_and_change_nothing() {
    let s = stack();
    s.write("main.hcl", "module \"f\" {\n  source  = \"./modules/service/modules/file\"\n  filename = \"x\"\n  contnet = \"y\"\n}\n");
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Unsupported argument \"contnet\" for module \"f\""),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("Did you mean \"content\"?"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:4:3"), "{}", r.all());
    assert!(
        r.stderr
            .contains("Missing required argument \"content\" for module \"f\""),
        "{}",
        r.all()
    );

    s.write(
        "main.hcl",
        "module \"gone\" {\n  source = \"./modules/nowhere\"\n}\n",
    );
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Module \"gone\": no module at \"./modules/nowhere\""),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:1:1"), "{}", r.all());

    s.write("main.hcl", "module \"m\" {\n  source = \"./modules/service/modules/file\"\n  filename = \"a\"\n  content = \"b\"\n}\noutput \"x\" {\n  value = module.m.nope\n}\n");
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("Unsupported attribute \"nope\" of module \"m\""),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("main.hcl:7:11"), "{}", r.all());
    assert!(
        !s.file("dumcel.tfstate").exists() && !s.file("a").exists(),
        "nothing ran"
    );

    // Errors inside a module name the module's own file.
    s.write(
        "modules/service/modules/file/main.hcl",
        &FILE.replace("var.content", "var.missing"),
    );
    let r = s.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("modules/service/modules/file/main.hcl:"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr
            .contains("Reference to undeclared input variable \"missing\""),
        "{}",
        r.all()
    );
}
