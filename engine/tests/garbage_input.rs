//! Garbage and truncated stacks give diagnostics, never panics, all the way
//! through loading, graph building, variable resolution and planning.

use std::path::Path;

use proptest::prelude::*;

use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use dumcel_engine::plan::{PlanOptions, Refreshed, plan};
use dumcel_engine::provider::Registry;
use dumcel_engine::stack::Stack;
use dumcel_engine::variables::resolve;
use dumcel_state::State;

const VALID: &str = r#"
variable "names" {
  type    = list(string)
  default = ["a", "b"]
}
locals {
  upper = [for n in var.names : upper(n) if n != ""]
  joined = "%{ for n in var.names }${n}-%{ endfor }"
}
resource "null_resource" "n" {
  count    = length(var.names)
  triggers = { name = var.names[count.index], all = join(",", local.upper) }
}
resource "local_file" "f" {
  for_each = toset(var.names)
  filename = "${path.module}/${each.key}.txt"
  content  = try(null_resource.n[0].id, "none")
  depends_on = [null_resource.n]
}
output "ids" {
  value = null_resource.n[*].id
}
"#;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn run_pipeline(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.hcl"), text).unwrap();
    let mut sources = SourceMap::default();
    let Ok(module) = load_module(dir, &mut sources) else {
        return;
    };
    let Ok(vars) = resolve(&module, &mut sources, &[], &[], None) else {
        return;
    };
    let mut registry = Registry::new();
    dumcel_engine::builtin::register(&mut registry);
    let Ok(stack) = Stack::new(module, sources, registry, vars, "default") else {
        return;
    };
    let _ = block_on(plan(
        &stack,
        &State::new(),
        &Refreshed::default(),
        &PlanOptions::default(),
    ));
}

#[test]
fn the_valid_stack_plans() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), VALID).unwrap();
    let mut sources = SourceMap::default();
    let module = load_module(dir.path(), &mut sources).expect("loads");
    let vars = resolve(&module, &mut sources, &[], &[], None).expect("vars");
    let mut registry = Registry::new();
    dumcel_engine::builtin::register(&mut registry);
    let stack = Stack::new(module, sources, registry, vars, "default").expect("graph");
    let (p, _) = block_on(plan(
        &stack,
        &State::new(),
        &Refreshed::default(),
        &PlanOptions::default(),
    ))
    .expect("plans");
    assert_eq!(p.changes.len(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn truncated_stacks_never_panic(cut in 0usize..VALID.len()) {
        let dir = tempfile::tempdir().unwrap();
        let cut = (0..=cut).rev().find(|c| VALID.is_char_boundary(*c)).unwrap_or(0);
        run_pipeline(dir.path(), &VALID[..cut]);
    }

    #[test]
    fn mutated_stacks_never_panic(pos in 0usize..VALID.len(), junk in "[\\[\\]{}()\"$%~=.*,:?!<>a-z0-9 \n-]{0,8}") {
        let dir = tempfile::tempdir().unwrap();
        let pos = (0..=pos).rev().find(|c| VALID.is_char_boundary(*c)).unwrap_or(0);
        let text = format!("{}{}{}", &VALID[..pos], junk, &VALID[pos..]);
        run_pipeline(dir.path(), &text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        run_pipeline(dir.path(), &text);
    }
}
