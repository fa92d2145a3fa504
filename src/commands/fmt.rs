//! `dumcel fmt`: rewrite stack files in the canonical style, comments kept.

use std::path::{Path, PathBuf};

use anyhow::Result;

use dumcel_engine::format::format_source;

use crate::session::report;
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Change nothing; exit 3 when some file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// Show the changes as a diff.
    #[arg(long)]
    pub diff: bool,
    /// Also format files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
}

fn hcl_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            if recursive {
                hcl_files(&p, recursive, out)?;
            }
        } else if p
            .extension()
            .is_some_and(|e| e == "hcl" || e == "tf" || e == "tfvars")
        {
            out.push(p);
        }
    }
    Ok(())
}

pub async fn run(_ui: &Ui, args: FmtArgs) -> Result<u8> {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_dir() {
            hcl_files(root, args.recursive, &mut files)
                .map_err(|e| report(format!("reading {}: {e}", root.display())))?;
        } else {
            files.push(root.clone());
        }
    }
    let mut unformatted = false;
    let mut failed = false;
    for file in &files {
        let name = file
            .strip_prefix("./")
            .unwrap_or(file)
            .display()
            .to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: reading {name}: {e}");
                failed = true;
                continue;
            }
        };
        let formatted = match format_source(&text) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "Error: {name}:{e}\n  Fix the syntax error; fmt only formats valid files."
                );
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted = true;
        println!("{name}");
        if args.diff {
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            print!(
                "{}",
                diff.unified_diff()
                    .header(&format!("old/{name}"), &format!("new/{name}"))
            );
        }
        if !args.check {
            std::fs::write(file, formatted).map_err(|e| report(format!("writing {name}: {e}")))?;
        }
    }
    Ok(if failed {
        2
    } else if args.check && unformatted {
        3
    } else {
        0
    })
}
