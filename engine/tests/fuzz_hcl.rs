//! Fuzz target `hcl`: a stack's configuration files come from a branch the
//! pipeline builds, so loading them (parse, lowering to the model, local
//! module calls) must end in a module or diagnostics, never a panic; the
//! diagnostics must render with their positions.
//! Run longer with `bench/fuzz.sh`; see `fuzz/harness.rs` for the knobs.

#[path = "../../fuzz/harness.rs"]
mod harness;

use dumcel_engine::config::SourceMap;
use dumcel_engine::config::load::load_module;
use proptest::prelude::*;

const TARGET: &str = "hcl";

/// HCL syntax and dumcel's block and argument names: the dictionary of the
/// byte mutations and the token soup's vocabulary.
const TOKENS: &[&str] = &[
    "resource",
    "data",
    "variable",
    "locals",
    "output",
    "module",
    "provider",
    "terraform",
    "moved",
    "import",
    "removed",
    "check",
    "lifecycle",
    "dynamic",
    "content",
    "connection",
    "provisioner",
    "required_providers",
    "backend",
    "\"null_resource\"",
    "\"local_file\"",
    "\"terraform_data\"",
    "\"random_id\"",
    "\"time_sleep\"",
    "\"a\"",
    "\"b\"",
    "count",
    "for_each",
    "depends_on",
    "source",
    "\"./\"",
    "\"../\"",
    "\"./m\"",
    "default",
    "type",
    "value",
    "sensitive",
    "validation",
    "condition",
    "error_message",
    "create_before_destroy",
    "prevent_destroy",
    "ignore_changes",
    "replace_triggered_by",
    "from",
    "to",
    "id",
    "each.key",
    "each.value",
    "count.index",
    "var.x",
    "local.y",
    "path.module",
    "self",
    "null",
    "true",
    "false",
    "string",
    "number",
    "bool",
    "list(string)",
    "map(number)",
    "object({a=string})",
    "any",
    "for",
    "in",
    "if",
    "endfor",
    "endif",
    "else",
    "...",
    "=>",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "?",
    ":",
    "+",
    "-",
    "*",
    "/",
    "%",
    ".",
    ",",
    "[*]",
    ".*",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "%{",
    "~}",
    "\\",
    "\\u00e9",
    "\\n",
    "<<EOT\n",
    "<<-EOT\n",
    "\nEOT\n",
    "EOT",
    "#",
    "//",
    "/*",
    "*/",
    "\n",
    "\t",
    " ",
    "0",
    "1",
    "1.5e3",
    "0x1F",
    "-1",
    "99999999999999999999",
    "upper(",
    "length(",
    "jsonencode(",
    "file(",
    "try(",
    "lookup(",
    "merge(",
    "toset(",
    "é",
    "🦀",
    "\u{feff}",
    "\r\n",
    "\0",
];

fn check(dir: &std::path::Path, bytes: &[u8]) {
    std::fs::write(dir.join("main.hcl"), bytes).expect("write the stack");
    let mut sources = SourceMap::default();
    if let Err(diagnostics) = load_module(dir, &mut sources) {
        // The CLI shows every diagnostic with its file:line:col.
        let _ = diagnostics.render_plain(&sources);
        for d in &diagnostics.0 {
            if let Some(span) = d.span {
                let _ = sources.snippet(span);
            }
        }
    }
}

/// Blocks as they are nested in real stacks, around soup, so generated
/// inputs get past the first lines more often than soup alone.
fn block_soup() -> impl Strategy<Value = Vec<u8>> {
    let soup = || harness::token_soup(TOKENS.to_vec(), 0..24);
    (
        prop::sample::select(vec![
            "resource \"null_resource\" \"a\"",
            "locals",
            "variable \"x\"",
            "output \"o\"",
            "module \"m\"",
            "data \"terraform_data\" \"d\"",
        ]),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "count", "for_each", "triggers", "value", "source", "default", "x",
                ]),
                soup(),
            ),
            0..6,
        ),
        prop::option::of(soup()),
    )
        .prop_map(|(header, arguments, nested)| {
            let mut out = format!("{header} {{\n").into_bytes();
            for (name, value) in arguments {
                out.extend(format!("  {name} = ").into_bytes());
                out.extend(value);
                out.push(b'\n');
            }
            if let Some(body) = nested {
                out.extend(b"  lifecycle {\n    ");
                out.extend(body);
                out.extend(b"\n  }\n");
            }
            out.extend(b"}\n");
            out
        })
}

/// Deep nesting: a stack file is untrusted, and a recursive parser or
/// lowering must not overflow its stack on it.
fn deep_nesting() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            "(",
            "[",
            "{a = ",
            "\"${",
            "[for x in ",
            "f(",
            "-",
            "!",
            "a ? ",
        ]),
        // The parser stops at 64 levels; both sides of that, where the
        // lowering sees the deepest expressions it is given.
        1usize..160,
        harness::token_soup(TOKENS.to_vec(), 0..8),
    )
        .prop_map(|(opener, depth, tail)| {
            let mut out = b"locals {\n  x = ".to_vec();
            out.extend(opener.repeat(depth).into_bytes());
            out.extend(tail);
            out.extend(b"\n}\n");
            out
        })
}

/// A file large enough to be parsed in parts (engine/src/config/
/// parse_in_parts.rs: two halves from 64 KiB, parts of 256 KiB from
/// 512 KiB), valid blocks with soup blocks and token soup put in at block
/// boundaries or anywhere, so that a cut lands in or next to broken text.
fn large_file() -> impl Strategy<Value = Vec<u8>> {
    (
        // 1,300 to 12,000 blocks of about 60 bytes: 70 KiB to 700 KiB.
        1_300usize..12_000,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<bool>(),
                prop_oneof![
                    block_soup(),
                    harness::token_soup(TOKENS.to_vec(), 1..12)
                ],
            ),
            1..4,
        ),
    )
        .prop_map(|(blocks, insertions)| {
            let mut starts = Vec::with_capacity(blocks);
            let mut out = Vec::with_capacity(blocks * 64);
            for i in 0..blocks {
                starts.push(out.len());
                out.extend(
                    format!("resource \"null_resource\" \"r{i}\" {{\n  triggers = {{ i = \"{i}\" }}\n}}\n\n")
                        .into_bytes(),
                );
            }
            // From the end, so earlier offsets stay where they were.
            let mut at: Vec<(usize, Vec<u8>)> = insertions
                .into_iter()
                .map(|(i, on_boundary, text)| {
                    let offset = if on_boundary {
                        starts[i.index(starts.len())]
                    } else {
                        i.index(out.len())
                    };
                    (offset, text)
                })
                .collect();
            at.sort_by_key(|(offset, _)| std::cmp::Reverse(*offset));
            for (offset, text) in at {
                out.splice(offset..offset, text);
            }
            out
        })
}

#[test]
fn fuzz_hcl() {
    // A stack directory one level down, so `source = "../"` stays in the
    // scratch directory.
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path().join("stack");
    std::fs::create_dir(&dir).expect("stack dir");
    // Large files are a few cases in each run: each is a parse of up to
    // 700 KiB.
    let structured = prop_oneof![
        5 => harness::token_soup(TOKENS.to_vec(), 0..96),
        5 => block_soup(),
        5 => deep_nesting(),
        1 => large_file(),
    ];
    harness::run(TARGET, TOKENS.to_vec(), structured, |bytes| {
        check(&dir, bytes)
    });
}
