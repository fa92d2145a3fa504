//! What every page shares: the frame, and how outcomes, commits, times
//! and durations are shown.

use std::time::Duration;

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use crate::access::Caller;

/// A whole page: `body` under the bar that names who is signed in.
pub fn page(title: &str, viewer: Option<&Caller>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Dumcel" }
                @if let Some(csrf) = viewer.and_then(|v| v.csrf.as_deref()) {
                    // Read by dashboard.js for the API's X-CSRF-Token; only
                    // this site's pages can read it.
                    meta name="csrf-token" content=(csrf);
                }
                link rel="stylesheet" href="/assets/dashboard.css";
                script src="/assets/dashboard.js" defer {}
            }
            body {
                header.bar {
                    a.brand href="/" { "Dumcel" }
                    @if let Some(viewer) = viewer {
                        span.who { (viewer.name) }
                        form.inline data-api="/auth/logout" data-then="/" {
                            button.quiet type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The page shown in place of one that cannot be.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    page(
        status.canonical_reason().unwrap_or("Error"),
        None,
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p.error role="alert" { (message) }
            p { a href="/" { "All projects" } }
        },
    )
}

/// An outcome as a coloured label.
pub fn outcome(outcome: &str) -> Markup {
    let kind = match outcome {
        "succeeded" => "good",
        "in_progress" => "busy",
        "build_failed" | "deploy_failed" | "rolled_back" => "bad",
        "awaiting_approval" => "busy",
        _ => "quiet",
    };
    html! { span class={"badge " (kind)} data-outcome=(outcome) { (outcome.replace('_', " ")) } }
}

/// A commit's first 7 hex digits, titled with the whole SHA.
pub fn commit(sha: &str) -> Markup {
    html! { code.sha title=(sha) { (sha.get(..7).unwrap_or(sha)) } }
}

/// An RFC 3339 time as `2026-12-01 19:40:45 UTC`.
pub fn when(at: &str) -> String {
    match at.strip_suffix('Z') {
        Some(utc) => format!("{} UTC", utc.replacen('T', " ", 1)),
        None => at.to_owned(),
    }
}

/// `1m 05s`, `42s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The time from `from` to `to`, both RFC 3339; `None` when either is
/// missing or unreadable, or they are out of order.
pub fn between(from: &str, to: &str) -> Option<Duration> {
    let from = humantime::parse_rfc3339_weak(from).ok()?;
    let to = humantime::parse_rfc3339_weak(to).ok()?;
    to.duration_since(from).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_plainly() {
        assert_eq!(when("2026-12-01T19:40:45Z"), "2026-12-01 19:40:45 UTC");
        assert_eq!(duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(
            between("2026-12-01T19:40:45Z", "2026-12-01T19:41:50Z"),
            Some(Duration::from_secs(65))
        );
        assert_eq!(between("", "2026-12-01T19:41:50Z"), None);
        assert_eq!(
            between("2026-12-01T19:41:50Z", "2026-12-01T19:40:45Z"),
            None
        );
    }

    #[test]
    fn what_people_wrote_is_escaped() {
        let html = page(
            "<script>",
            None,
            html! { (commit("<img src=x onerror=alert(1)>")) },
        )
        .into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img"), "{html}");
    }
}
