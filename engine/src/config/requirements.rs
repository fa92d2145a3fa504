//! `terraform { required_version, required_providers }`: what a
//! configuration says it needs, checked as Terraform checks it.

use super::diagnostics::Diagnostic;
use super::source::Span;

/// The Terraform release whose language dumcel follows: `required_version`
/// is checked against it, as that Terraform would check it.
pub const TERRAFORM_VERSION: &str = "1.11.4";

/// Provider sources the built-in types stand in for (`null_resource`,
/// `local_file`, `time_sleep`, `terraform_data`).
pub const BUILTIN_SOURCES: [&str; 4] = [
    "hashicorp/null",
    "hashicorp/local",
    "hashicorp/time",
    "terraform.io/builtin/terraform",
];

/// One entry of `required_providers`.
#[derive(Debug, Clone)]
pub struct RequiredProvider {
    /// The local name (`aws`).
    pub name: String,
    /// `NAMESPACE/TYPE`, or `HOST/NAMESPACE/TYPE` for other hosts, lower case.
    pub source: String,
    pub span: Span,
}

/// A source address as Terraform compares them: the default host left
/// out, lower case; a bare name means `hashicorp/NAME`.
pub fn normalize_source(source: &str) -> String {
    let s = source.trim().to_ascii_lowercase();
    let s = s.strip_prefix("registry.terraform.io/").unwrap_or(&s);
    if s.contains('/') {
        s.to_owned()
    } else {
        format!("hashicorp/{s}")
    }
}

/// The error for a provider dumcel does not have, or `None`.
pub fn check_provider(required: &RequiredProvider, available: &[String]) -> Option<Diagnostic> {
    if available.contains(&required.source) {
        return None;
    }
    let mut have: Vec<&str> = available.iter().map(String::as_str).collect();
    have.sort_unstable();
    have.dedup();
    Some(Diagnostic::error(
        format!("Provider \"{}\" is not available", required.source),
        format!(
            "required_providers asks for {} (as \"{}\"), which dumcel does not have. Dumcel has: {}. Remove the requirement and the resources that need it, or run this configuration with Terraform.",
            required.source,
            required.name,
            have.join(", ")
        ),
        Some(required.span),
    ))
}

/// Whether `constraint` (Terraform's syntax: `>= 1.0, < 2.0`, `~> 1.5`,
/// `!= 1.2.0`, `1.11.4`) allows `version`; `Err` says what is wrong with it.
pub fn version_allows(constraint: &str, version: &str) -> Result<bool, String> {
    let (have, _) = parse_version(version)?;
    for part in constraint.split(',') {
        let part = part.trim();
        let (op, rest) = [">=", "<=", "~>", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("=", part));
        let (want, parts) = parse_version(rest.trim())?;
        let ok = match op {
            "=" => have == want,
            "!=" => have != want,
            ">" => have > want,
            ">=" => have >= want,
            "<" => have < want,
            "<=" => have <= want,
            // `~> 1.2` allows 1.x from 1.2; `~> 1.2.3` allows 1.2.x from 1.2.3.
            _ => {
                let upper = match parts {
                    1 | 2 => (want.0 + 1, 0, 0),
                    _ => (want.0, want.1 + 1, 0),
                };
                have >= want && have < upper
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `1`, `1.2` or `1.2.3` (a `-beta` suffix is ignored), with how many parts
/// were written.
fn parse_version(text: &str) -> Result<((u64, u64, u64), usize), String> {
    let core = text.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let bad = || format!("\"{text}\" is not a version: write MAJOR.MINOR.PATCH, for example 1.5.0");
    if parts.is_empty() || parts.len() > 3 {
        return Err(bad());
    }
    let mut n = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        n[i] = p.parse().map_err(|_| bad())?;
    }
    Ok(((n[0], n[1], n[2]), parts.len()))
}

/// The error when `required_version` leaves out the Terraform dumcel follows.
pub fn check_version(constraint: &str, span: Span) -> Option<Diagnostic> {
    match version_allows(constraint, TERRAFORM_VERSION) {
        Ok(true) => None,
        Ok(false) => Some(Diagnostic::error(
            "Unsupported Terraform Core version",
            format!(
                "This configuration does not support Terraform version {TERRAFORM_VERSION}, whose language dumcel follows (required_version = \"{constraint}\"). Update the constraint if the configuration works with it."
            ),
            Some(span),
        )),
        Err(why) => Some(Diagnostic::error(
            "Invalid required_version",
            why,
            Some(span),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_read_as_terraform_reads_them() {
        for (c, ok) in [
            (">= 1.0", true),
            (">= 0.13.1", true),
            (">= 1.0, < 2.0", true),
            ("~> 1.5", true),
            ("~> 1.11.0", true),
            ("~> 1.10.0", false),
            ("~> 1", true),
            ("1.11.4", true),
            ("= 1.11.3", false),
            ("!= 1.11.4", false),
            ("< 1.5", false),
            (">= 1.12", false),
        ] {
            assert_eq!(version_allows(c, TERRAFORM_VERSION), Ok(ok), "{c}");
        }
        assert!(version_allows(">= one", TERRAFORM_VERSION).is_err());
    }

    #[test]
    fn sources_compare_without_the_default_host() {
        assert_eq!(
            normalize_source("registry.terraform.io/HashiCorp/AWS"),
            "hashicorp/aws"
        );
        assert_eq!(normalize_source("aws"), "hashicorp/aws");
        assert_eq!(normalize_source("kreuzwerker/docker"), "kreuzwerker/docker");
    }
}
