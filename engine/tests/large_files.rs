//! A large stack file is parsed in parts, two at once, each lowered as soon
//! as it is parsed (config/parse_in_parts.rs). Whoever reads the loaded stack
//! must not be able to tell: every block is there, in order, at its own line,
//! and errors in either half point at the line that holds them.

use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;

/// 1,000 resources (about 100 KB, over the size that is split), the
/// second half's blocks holding heredocs and templates with braces.
fn big_stack() -> String {
    (0..1000)
        .map(|i| {
            let body = if i >= 500 {
                "  triggers = {\n    t = \"${ {a = \"}\"}.a }\"\n    h = <<-EOT\n      }\n    EOT\n  }\n"
            } else {
                "  triggers = { index = \"x\" }\n"
            };
            format!("resource \"null_resource\" \"r{i:03}\" {{\n{body}}}\n\n")
        })
        .collect()
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("needle in text");
    text[..at].matches('\n').count() + 1
}

#[test]
fn every_block_of_a_large_file_is_loaded_in_order_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = big_stack();
    assert!(text.len() > 64 * 1024, "large enough to be split");
    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let mut sources = SourceMap::default();
    let module = load_module(dir.path(), &mut sources).unwrap();
    let names: Vec<&String> = module.resources.keys().collect();
    assert_eq!(names.len(), 1000);
    for (i, (key, decl)) in module.resources.iter().enumerate() {
        assert_eq!(key, &format!("null_resource.r{i:03}"));
        let header = format!("resource \"null_resource\" \"r{i:03}\"");
        let (line, col) = sources.line_col(decl.span).unwrap();
        assert_eq!((line, col), (line_of(&text, &header), 1), "{key}");
    }
}

#[test]
fn errors_in_either_half_point_at_their_line() {
    for (at, broken) in [
        (100, "resource \"null_resource\" \"r000\" {}\n"),
        (900, "resource \"null_resource\" \"r001\" {}\n"),
        (100, "resource \"null_resource\" \"bad\" { x = }\n"),
        (900, "resource \"null_resource\" \"bad\" { x = }\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut text = big_stack();
        let header = format!("resource \"null_resource\" \"r{at:03}\"");
        let offset = text.find(&header).unwrap();
        text.insert_str(offset, broken);
        std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
        let mut sources = SourceMap::default();
        let diags = load_module(dir.path(), &mut sources).unwrap_err();
        let first = diags.0.first().expect("a diagnostic");
        let (line, _) = sources.line_col(first.span.unwrap()).unwrap();
        assert_eq!(
            line,
            line_of(&text, broken),
            "{broken:?} before r{at:03}: {first:?}"
        );
    }
}

/// A syntax error is reported alone, as for a file parsed whole, although
/// the parts before it were lowered (and found wanting) first.
#[test]
fn a_syntax_error_late_in_the_file_is_the_only_error_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = big_stack();
    let late = text.find("resource \"null_resource\" \"r900\"").unwrap();
    let syntax = "resource \"null_resource\" \"bad\" { x = }\n";
    text.insert_str(late, syntax);
    let early = text.find("resource \"null_resource\" \"r100\"").unwrap();
    text.insert_str(early, "resource \"null_resource\" \"r000\" {}\n");
    std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
    let mut sources = SourceMap::default();
    let diags = load_module(dir.path(), &mut sources).unwrap_err();
    assert_eq!(diags.0.len(), 1, "{diags:?}");
    let (line, _) = sources.line_col(diags.0[0].span.unwrap()).unwrap();
    assert_eq!(line, line_of(&text, syntax));
}

#[test]
fn deep_nesting_in_the_second_half_is_parsed_or_refused_as_in_a_whole_file() {
    for (depth, loads) in [(60, true), (200, false)] {
        let dir = tempfile::tempdir().unwrap();
        let mut text = big_stack();
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        text.push_str(&format!("locals {{\n  x = {nested}\n}}\n"));
        std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
        let mut sources = SourceMap::default();
        match load_module(dir.path(), &mut sources) {
            Ok(module) => {
                assert!(loads, "depth {depth} loaded");
                assert_eq!(module.resources.len(), 1000);
                assert!(module.locals.contains_key("x"));
            }
            Err(diags) => {
                assert!(!loads, "depth {depth}: {diags:?}");
                let first = diags.0.first().expect("a diagnostic");
                let (line, _) = sources.line_col(first.span.unwrap()).unwrap();
                assert_eq!(line, line_of(&text, "  x = "), "{first:?}");
            }
        }
    }
}
