//! `dumcel graph`: the dependency graph in Graphviz DOT.

use anyhow::Result;

use crate::session::{build_stack, load_config};
use crate::ui::Ui;

pub async fn run(ui: &Ui) -> Result<u8> {
    let (module, sources) = load_config(ui)?;
    // Variables do not change the graph's shape; their values are not needed.
    let stack = build_stack(ui, module, sources, Default::default())?;
    print!("{}", stack.dot());
    Ok(0)
}
