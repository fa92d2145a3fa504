//! A large file parsed in parts, two at a time, each part handed on as soon
//! as it is parsed. hcl-edit's parser is a third of a 1,000-resource plan and
//! runs on one core, and its syntax tree takes some 60 times the text's size
//! (a 100,000-resource file of 11 MB peaked at 650 MB held whole). A stack's
//! top-level blocks do not depend on each other's text, so the file is cut
//! between two of them into parts. A helper thread parses parts ahead, in
//! order, while this thread lowers each part, and drops its tree, in file
//! order; when the helper falls behind, this thread parses the part it needs
//! itself. Lowering costs about as much as parsing, so both threads stay busy.
//! At most three parts' trees are alive.
//!
//! The cuts are found by a light scan (strings, templates, heredocs,
//! comments, brackets). A wrong cut cannot go unnoticed: it would end the
//! part before it inside a string, heredoc, comment or block, which does not
//! parse. Whenever a part fails, the whole file is parsed again, so every
//! syntax error is reported exactly as for a file parsed whole; the caller
//! drops what it made of the parts before (see `load.rs`).

use std::sync::{Condvar, Mutex, MutexGuard};

use hcl_edit::Span as _;
use hcl_edit::structure::Body;

use super::repeated_keys::parse_allowing_repeats;

/// Smaller files are parsed whole: a second thread costs more than it saves.
const MIN_SPLIT_LEN: usize = 64 * 1024;

/// About how long a part is; a file under twice this is cut in two halves.
const PART_LEN: usize = 256 * 1024;

/// The parsing thread's stack: the main thread's on Linux, not a spawned
/// thread's default 2 MiB, since the parser recurses once per nesting level
/// and the part it parses must not fail where the whole file would not.
const PARSER_STACK: usize = 8 << 20;

/// Parses `text` and hands `lower` each part's top-level body with the
/// offset of its text in the file (spans in a part are relative to it), in
/// file order. On a syntax error anywhere, returns the error parsing the
/// whole file gives.
pub fn parse_each(
    text: &str,
    mut lower: impl FnMut(usize, Body),
) -> Result<(), hcl_edit::parser::Error> {
    let starts = part_starts(text);
    if starts.len() < 2 {
        lower(0, parse_allowing_repeats(text)?);
        return Ok(());
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    let parts: Vec<(usize, &str)> = starts
        .iter()
        .zip(ends)
        .map(|(&a, b)| (a, &text[a..b]))
        .collect();
    let queue = Queue::new(parts.len());
    let failed_at = std::thread::scope(|s| {
        let helper = std::thread::Builder::new()
            .name("parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(s, || {
                let _gone = HelperGone(&queue);
                while let Some(i) = queue.claim_ahead() {
                    queue.deliver(i, parse_allowing_repeats(parts[i].1));
                }
            });
        // Stops the helper however this loop ends, a panic in `lower`
        // included: a helper waiting for room would keep the scope open.
        let stop = StopOnDrop(&queue);
        let mut failed_at = None;
        for (i, &(offset, part)) in parts.iter().enumerate() {
            let parsed = match queue.take(i) {
                Taken::Parsed(parsed) => parsed,
                // Unclaimed: the helper is behind (or was never started).
                Taken::Yours => parse_allowing_repeats(part),
                // The helper panicked: joined below.
                Taken::HelperGone => break,
            };
            match parsed {
                Ok(body) => lower(offset, body),
                Err(_) => {
                    failed_at = Some(offset);
                    break;
                }
            }
            queue.lowered(i);
        }
        drop(stop);
        if let Ok(helper) = helper
            && let Err(panic) = helper.join()
        {
            // A panic in the parser is the parser's; it is not swallowed here.
            std::panic::resume_unwind(panic);
        }
        failed_at
    });
    let Some(failed_at) = failed_at else {
        return Ok(());
    };
    // Every part before the failed one parsed, so the failed one starts at a
    // true boundary. The file as a whole fails too, unless the scan cut
    // where it should not have: then lower the rest of the whole parse.
    let whole = parse_allowing_repeats(text)?;
    lower(
        0,
        whole
            .into_iter()
            .filter(|s| s.span().is_none_or(|r| r.start >= failed_at))
            .collect(),
    );
    Ok(())
}

/// How many parts may be parsed and not yet lowered: each holds its tree.
const PARTS_ALIVE: usize = 3;

type Parsed = Result<Body, hcl_edit::parser::Error>;

/// The parts shared by the two threads. Parts are claimed in file order by
/// whichever thread is free: the helper parses ahead, at most
/// `PARTS_ALIVE` parts past the last one lowered; the lowering thread parses
/// the part it needs itself when the helper has not claimed it yet, so
/// neither waits while the other has work it could share.
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

struct QueueState {
    /// The next part nobody has claimed.
    next: usize,
    /// How many parts have been lowered (and their trees dropped).
    lowered: usize,
    /// By part: what the helper parsed, waiting to be lowered.
    ready: Vec<Option<Parsed>>,
    /// The lowering thread is done (finished, failed or gave up).
    stopped: bool,
    /// The helper ended, by returning or by a panic.
    helper_gone: bool,
}

enum Taken {
    Parsed(Parsed),
    /// Nobody claimed the part: the caller parses it.
    Yours,
    HelperGone,
}

impl Queue {
    fn new(count: usize) -> Self {
        Queue {
            state: Mutex::new(QueueState {
                next: 0,
                lowered: 0,
                ready: (0..count).map(|_| None).collect(),
                stopped: false,
                helper_gone: false,
            }),
            changed: Condvar::new(),
        }
    }

    /// The state, even if a thread panicked holding it: every change to it
    /// is a single assignment, so it is never half made.
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the other thread to change the state.
    fn wait<'a>(&self, st: MutexGuard<'a, QueueState>) -> MutexGuard<'a, QueueState> {
        self.changed.wait(st).unwrap_or_else(|e| e.into_inner())
    }

    /// The helper's next part, once it may parse one more; `None`: no part
    /// is left, or the lowering thread stopped.
    fn claim_ahead(&self) -> Option<usize> {
        let mut st = self.lock();
        loop {
            if st.stopped || st.next >= st.ready.len() {
                return None;
            }
            if st.next < st.lowered + PARTS_ALIVE {
                st.next += 1;
                return Some(st.next - 1);
            }
            st = self.wait(st);
        }
    }

    fn deliver(&self, i: usize, parsed: Parsed) {
        self.lock().ready[i] = Some(parsed);
        self.changed.notify_all();
    }

    /// Part `i`, the next to lower: parsed by the helper, or the caller's
    /// to parse when nobody claimed it.
    fn take(&self, i: usize) -> Taken {
        let mut st = self.lock();
        loop {
            if let Some(parsed) = st.ready[i].take() {
                return Taken::Parsed(parsed);
            }
            if st.next == i {
                st.next += 1;
                return Taken::Yours;
            }
            if st.helper_gone {
                return Taken::HelperGone;
            }
            st = self.wait(st);
        }
    }

    fn lowered(&self, i: usize) {
        self.lock().lowered = i + 1;
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }
}

/// Stops the queue when the lowering thread is done with it, by returning or
/// by a panic.
struct StopOnDrop<'a>(&'a Queue);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Marks the helper gone when it ends, a panic included, so the lowering
/// thread never waits for a part it will not deliver.
struct HelperGone<'a>(&'a Queue);

impl Drop for HelperGone<'_> {
    fn drop(&mut self) {
        self.0.lock().helper_gone = true;
        self.0.changed.notify_all();
    }
}

/// Where each part starts: 0, then the first top-level line after each
/// `PART_LEN` or so (two halves for a file under `2 * PART_LEN`).
fn part_starts(text: &str) -> Vec<usize> {
    if text.len() < MIN_SPLIT_LEN {
        return vec![0];
    }
    let parts = text.len().div_ceil(PART_LEN).max(2);
    let targets = (1..parts).map(|i| text.len() / parts * i);
    let mut starts = vec![0];
    starts.extend(block_starts_after(text, targets));
    starts
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

/// For each of `targets` (ascending), the offset of the first line at or
/// after it that starts a top-level block or argument (a letter at the start
/// of a line, outside every string, heredoc, comment and bracket), in one
/// scan; targets that share a line share its offset once. Stops early, with
/// what it found, where the text stops making sense to the scan.
fn block_starts_after(text: &str, targets: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut targets = targets.into_iter().peekable();
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    // Innermost last; a template's `${` inside a string pushes code again.
    let mut stack = vec![In::Code { depth: 0 }];
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        let at_line_start = std::mem::replace(&mut line_start, false);
        let top_level = stack.len() == 1;
        let Some(innermost) = stack.last_mut() else {
            return found;
        };
        match innermost {
            In::Code { depth } => {
                if at_line_start
                    && *depth == 0
                    && top_level
                    && b.is_ascii_alphabetic()
                    && targets.peek().is_some_and(|&t| i >= t)
                {
                    found.push(i);
                    while targets.next_if(|&t| t <= i).is_some() {}
                    if targets.peek().is_none() {
                        return found;
                    }
                }
                match b {
                    b'{' | b'[' | b'(' => *depth += 1,
                    b'}' | b']' | b')' => {
                        if *depth == 0 {
                            // The `}` that closes a template interpolation.
                            stack.pop();
                            if stack.is_empty() {
                                return found;
                            }
                        } else {
                            *depth -= 1;
                        }
                    }
                    b'"' => stack.push(In::Str),
                    b'#' => i = line_end(bytes, i),
                    b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_end(bytes, i),
                    b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                        Some(n) => i += 2 + n + 1,
                        None => return found,
                    },
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
    found
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

    /// Every part as `parse_each` hands it on: offset and blocks' texts.
    fn parts(text: &str) -> Result<Vec<(usize, Vec<String>)>, hcl_edit::parser::Error> {
        let mut parts = Vec::new();
        parse_each(text, |offset, body| {
            parts.push((offset, blocks(offset, &body, text)))
        })?;
        Ok(parts)
    }

    /// The text of every top-level block of a part at `offset`, in order.
    fn blocks(offset: usize, body: &Body, text: &str) -> Vec<String> {
        body.iter()
            .map(|s| {
                let r = s.span().expect("parsed blocks have spans");
                text[offset + r.start..offset + r.end].to_owned()
            })
            .collect()
    }

    fn block_start_after(text: &str, from: usize) -> Option<usize> {
        block_starts_after(text, [from]).first().copied()
    }

    const TRICKY: &str = r#"  triggers = {
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

    #[test]
    fn a_large_file_parses_in_two_halves_with_the_same_blocks_at_the_same_places() {
        let text = stack(700, TRICKY);
        assert!(text.len() >= MIN_SPLIT_LEN && text.len() < 2 * PART_LEN);
        let parts = parts(&text).unwrap();
        assert_eq!(parts.len(), 2, "cut in two");
        let whole = parse_allowing_repeats(&text).unwrap();
        let split: Vec<String> = parts.iter().flat_map(|p| p.1.clone()).collect();
        assert_eq!(split, blocks(0, &whole, &text));
        assert!(text[parts[1].0..].starts_with("resource \"null_resource\""));
    }

    #[test]
    fn a_very_large_file_parses_in_many_parts_handed_on_in_order() {
        let text = stack(6000, TRICKY);
        let parts = parts(&text).unwrap();
        assert_eq!(
            parts.len(),
            text.len().div_ceil(PART_LEN),
            "{} bytes",
            text.len()
        );
        assert!(parts.windows(2).all(|w| w[0].0 < w[1].0), "in file order");
        let whole = parse_allowing_repeats(&text).unwrap();
        let split: Vec<String> = parts.into_iter().flat_map(|p| p.1).collect();
        assert_eq!(split, blocks(0, &whole, &text));
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
    fn targets_on_one_line_share_its_cut() {
        let text = "a = 1\nb = 2\nc = 3\n";
        assert_eq!(block_starts_after(text, [1, 3, 7, 8]), [6, 12]);
    }

    #[test]
    fn a_syntax_error_in_any_part_is_reported_as_for_the_whole_file() {
        for (blocks, broken_at) in [
            (700, 10),
            (700, 650),
            (6000, 10),
            (6000, 3100),
            (6000, 5990),
        ] {
            let mut text = stack(blocks, "  x = 1");
            let at = text
                .match_indices("resource")
                .nth(broken_at)
                .map(|(i, _)| i)
                .unwrap();
            text.insert_str(at, "resource \"a\" \"b\" { x = }\n");
            let split = parts(&text).unwrap_err();
            let whole = parse_allowing_repeats(&text).unwrap_err();
            assert_eq!(split.location().offset(), whole.location().offset());
            assert_eq!(split.message(), whole.message());
        }
    }

    #[test]
    fn a_small_file_is_parsed_whole() {
        let text = stack(10, "");
        assert_eq!(parts(&text).unwrap().len(), 1);
    }

    #[test]
    fn the_helper_parses_at_most_three_parts_ahead_of_the_lowering() {
        let queue = Queue::new(5);
        assert_eq!(
            [
                queue.claim_ahead(),
                queue.claim_ahead(),
                queue.claim_ahead()
            ],
            [Some(0), Some(1), Some(2)]
        );
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let queue = &queue;
            s.spawn(move || tx.send(queue.claim_ahead()).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                rx.try_recv().is_err(),
                "a fourth tree while three are alive"
            );
            queue.lowered(0);
            assert_eq!(rx.recv().unwrap(), Some(3));
        });
    }

    #[test]
    fn the_lowering_thread_parses_a_part_nobody_claimed_and_the_helper_skips_it() {
        let queue = Queue::new(3);
        assert!(matches!(queue.take(0), Taken::Yours));
        assert_eq!(queue.claim_ahead(), Some(1));
        queue.deliver(1, parse_allowing_repeats("a = 1\n"));
        queue.lowered(0);
        assert!(matches!(queue.take(1), Taken::Parsed(Ok(_))));
        queue.stop();
        assert_eq!(queue.claim_ahead(), None);
    }

    #[test]
    fn a_panic_while_lowering_reaches_the_caller_instead_of_waiting_for_the_helper() {
        let text = stack(20_000, "");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| {
                parse_each(&text, |_, _| panic!("a bug while lowering")).ok()
            });
            let _ = tx.send(outcome.is_err());
        });
        let panicked = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("parse_each hung after the panic");
        assert!(panicked);
    }

    #[test]
    fn a_helper_that_panicked_is_not_waited_for() {
        let queue = Queue::new(2);
        assert_eq!(queue.claim_ahead(), Some(0));
        drop(HelperGone(&queue));
        assert!(matches!(queue.take(0), Taken::HelperGone));
    }
}
