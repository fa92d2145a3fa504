//! A large file parsed in two halves at once. hcl-edit's parser is a third
//! of a 1,000-resource plan and runs on one core; a stack's top-level blocks
//! do not depend on each other's text, so the file is cut between two of them
//! near its middle and the halves are parsed on two threads.
//!
//! The cut is found by a light scan (strings, templates, heredocs, comments,
//! brackets). A wrong cut cannot go unnoticed: it would end the first half
//! inside a string, heredoc, comment or block, which does not parse. Whenever
//! either half fails, the whole file is parsed again, so every syntax error
//! is reported exactly as for a file parsed whole.

use hcl_edit::structure::Body;

use super::repeated_keys::parse_allowing_repeats;

/// Smaller files are parsed whole: a second thread costs more than it saves.
const MIN_SPLIT_LEN: usize = 64 * 1024;

/// The parsing thread's stack: the main thread's on Linux, not a spawned
/// thread's default 2 MiB, since the parser recurses once per nesting level
/// and the half it parses must not fail where the whole file would not.
const PARSER_STACK: usize = 8 << 20;

/// The file's top-level body, as one or two parts, each with the offset of
/// its text in the file (spans in a part are relative to that offset).
pub fn parse(text: &str) -> Result<Vec<(usize, Body)>, hcl_edit::parser::Error> {
    let cut = (text.len() >= MIN_SPLIT_LEN)
        .then(|| block_start_after(text, text.len() / 2))
        .flatten();
    let Some(cut) = cut else {
        return parse_allowing_repeats(text).map(|body| vec![(0, body)]);
    };
    let (first_text, second_text) = text.split_at(cut);
    let (first, second) = std::thread::scope(|s| {
        let helper = std::thread::Builder::new()
            .name("parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(s, || parse_allowing_repeats(second_text));
        let first = parse_allowing_repeats(first_text);
        let second = match helper {
            // A panic in the parser is the parser's; it is not swallowed here.
            Ok(helper) => helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: this one parses both.
            Err(_) => parse_allowing_repeats(second_text),
        };
        (first, second)
    });
    match (first, second) {
        (Ok(first), Ok(second)) => Ok(vec![(0, first), (cut, second)]),
        _ => parse_allowing_repeats(text).map(|body| vec![(0, body)]),
    }
}

/// What the scan is inside of.
enum In {
    /// Expressions and blocks; `depth` counts open brackets of all kinds.
    Code { depth: usize },
    /// A quoted string.
    Str,
    /// A heredoc, ended by a line holding only its marker.
    Heredoc { marker: String },
}

/// The offset of the first line at or after `from` that starts a top-level
/// block or argument (a letter at the start of a line, outside every string,
/// heredoc, comment and bracket), if the scan finds one.
fn block_start_after(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    // Innermost last; a template's `${` inside a string pushes code again.
    let mut stack = vec![In::Code { depth: 0 }];
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        let at_line_start = std::mem::replace(&mut line_start, false);
        let top_level = stack.len() == 1;
        match stack.last_mut()? {
            In::Code { depth } => {
                if at_line_start && *depth == 0 && top_level && i >= from && b.is_ascii_alphabetic()
                {
                    return Some(i);
                }
                match b {
                    b'{' | b'[' | b'(' => *depth += 1,
                    b'}' | b']' | b')' => {
                        if *depth == 0 {
                            // The `}` that closes a template interpolation.
                            stack.pop();
                            if stack.is_empty() {
                                return None;
                            }
                        } else {
                            *depth -= 1;
                        }
                    }
                    b'"' => stack.push(In::Str),
                    b'#' => i = line_end(bytes, i),
                    b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_end(bytes, i),
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        i = text[i + 2..].find("*/").map(|n| i + 2 + n + 1)?;
                    }
                    b'<' if bytes.get(i + 1) == Some(&b'<') => {
                        let marker_at = i + 2 + usize::from(bytes.get(i + 2) == Some(&b'-'));
                        let len = bytes[marker_at..]
                            .iter()
                            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                            .count();
                        if len > 0 {
                            let marker = text[marker_at..marker_at + len].to_owned();
                            stack.push(In::Heredoc { marker });
                            // The rest of the opening line belongs to no one.
                            i = line_end(bytes, marker_at);
                        }
                    }
                    _ => {}
                }
            }
            In::Str => match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                // `$${` and `%%{` are a literal `${` and `%{`.
                b'$' | b'%' if bytes.get(i + 1) == Some(&b) && bytes.get(i + 2) == Some(&b'{') => {
                    i += 2;
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(In::Code { depth: 0 });
                    i += 1;
                }
                _ => {}
            },
            In::Heredoc { marker } => {
                // Heredoc lines are skipped whole; interpolations in them
                // cannot hide the end marker's line from a parser either.
                let end = line_end(bytes, i);
                if at_line_start && text[i..end].trim() == marker.as_str() {
                    stack.pop();
                }
                i = end;
            }
        }
        if bytes.get(i) == Some(&b'\n') {
            line_start = true;
        }
        i += 1;
    }
    None
}

/// The offset of the newline ending the line that holds `i`, or the end.
fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `blocks` resources, each `extra` added inside its body.
    fn stack(blocks: usize, extra: &str) -> String {
        (0..blocks)
            .map(|i| format!("resource \"null_resource\" \"r{i}\" {{\n{extra}\n}}\n\n"))
            .collect()
    }

    /// The text of every top-level block, in order, with its offset.
    fn blocks(parts: &[(usize, Body)], text: &str) -> Vec<String> {
        use hcl_edit::Span as _;
        parts
            .iter()
            .flat_map(|(offset, body)| {
                body.iter().map(move |s| {
                    let r = s.span().expect("parsed blocks have spans");
                    text[offset + r.start..offset + r.end].to_owned()
                })
            })
            .collect()
    }

    #[test]
    fn a_large_file_parses_in_two_halves_with_the_same_blocks_at_the_same_places() {
        let tricky = r#"  triggers = {
    a = "}\n{ ${ {x = "}"}.x } %{ if true }}{%{ endif }"
    b = <<-EOT
      }
resource "x" "y" {
      EOT
    /* }
resource "z" "w" { */
    # }
    // {
  }"#;
        let text = stack(700, tricky);
        assert!(text.len() >= MIN_SPLIT_LEN);
        let parts = parse(&text).unwrap();
        assert_eq!(parts.len(), 2, "cut in two");
        let whole = parse_allowing_repeats(&text).unwrap();
        assert_eq!(blocks(&parts, &text), blocks(&[(0, whole)], &text));
        assert!(text[parts[1].0..].starts_with("resource \"null_resource\""));
    }

    #[test]
    fn the_cut_is_never_inside_a_string_heredoc_or_comment() {
        for (inside, from) in [
            ("\"a\nresource \"x\" \"y\" {}\"", 2),
            ("<<EOT\nresource \"x\" \"y\" {}\nEOT", 6),
            ("/*\nresource \"x\" \"y\" {}\n*/", 3),
            ("{\nresource \"x\" \"y\" {}\n}", 2),
            ("\"${ {\nresource = 1 }.resource }\"", 6),
        ] {
            let text = format!("x = {inside}\n");
            assert_eq!(block_start_after(&text, from), None, "{inside:?}");
        }
        let text = "x = \"${ {a = \"}\"}.a }\"\nresource \"x\" \"y\" {}\n";
        assert_eq!(block_start_after(text, 1), text.find("resource"));
        let text = "x = \"$${ %%{\"\nresource \"x\" \"y\" {}\n";
        assert_eq!(block_start_after(text, 1), text.find("resource"));
    }

    #[test]
    fn a_syntax_error_in_either_half_is_reported_as_for_the_whole_file() {
        for broken_at in [10, 650] {
            let mut text = stack(700, "  x = 1");
            let at = text
                .match_indices("resource")
                .nth(broken_at)
                .map(|(i, _)| i)
                .unwrap();
            text.insert_str(at, "resource \"a\" \"b\" { x = }\n");
            let split = parse(&text).unwrap_err();
            let whole = parse_allowing_repeats(&text).unwrap_err();
            assert_eq!(split.location().offset(), whole.location().offset());
            assert_eq!(split.message(), whole.message());
        }
    }

    #[test]
    fn a_small_file_is_parsed_whole() {
        let text = stack(10, "");
        assert_eq!(parse(&text).unwrap().len(), 1);
    }
}
