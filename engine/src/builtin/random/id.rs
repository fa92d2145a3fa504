//! `random_id`: `byte_length` random bytes, given as URL-safe base64 (`id`,
//! `b64_url`), standard base64 (`b64_std`), hex and decimal, the last four
//! after `prefix`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngExt;

use dumcel_planner::{Attribute, Schema, Value};

use super::Generator;
use super::args::{check, int, object, rng, string};

pub(crate) struct RandomId;

/// The bytes as one big-endian number, in decimal.
fn decimal(bytes: &[u8]) -> String {
    // Base-10^9 limbs, least significant first.
    let mut limbs: Vec<u32> = vec![0];
    for &b in bytes {
        let mut carry = b as u64;
        for limb in &mut limbs {
            let v = (*limb as u64) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut out = limbs.last().map(u32::to_string).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// Every attribute the bytes give, after `prefix`.
fn encoded(planned: &Value, bytes: &[u8], prefix: &str) -> Value {
    let mut out = planned.clone();
    for (name, text) in [
        ("id", URL_SAFE_NO_PAD.encode(bytes)),
        (
            "b64_url",
            format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)),
        ),
        ("b64_std", format!("{prefix}{}", STANDARD.encode(bytes))),
        ("hex", format!("{prefix}{}", hex::encode(bytes))),
        ("dec", format!("{prefix}{}", decimal(bytes))),
    ] {
        out = super::with_attr(&out, name, Value::String(text));
    }
    out
}

impl Generator for RandomId {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr(
                "id",
                Attribute::computed().describe("URL-safe base64, no prefix."),
            )
            .attr(
                "byte_length",
                Attribute::required()
                    .force_new()
                    .describe("How many random bytes."),
            )
            .attr(
                "prefix",
                Attribute::optional()
                    .force_new()
                    .describe("Text put before b64_url, b64_std, hex and dec."),
            );
        for name in ["b64_url", "b64_std", "hex", "dec"] {
            s = s.attr(name, Attribute::computed());
        }
        s
    }

    fn validate(&self, config: &Value) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        match int(config, "byte_length") {
            Ok(Some(n)) if !(1..=1024 * 1024).contains(&n) => errors.push((
                "byte_length".to_owned(),
                "must be at least 1 (and at most 1048576)".to_owned(),
            )),
            r => check(&mut errors, "byte_length", r),
        }
        check(&mut errors, "prefix", string(config, "prefix"));
        errors
    }

    fn generate(&self, planned: &Value) -> Result<Value, String> {
        let n = int(planned, "byte_length")?.ok_or("byte_length is required")?;
        let mut bytes = vec![0u8; n.max(0) as usize];
        rng(None).fill(&mut bytes[..]);
        let prefix = string(planned, "prefix")?.unwrap_or_default();
        Ok(encoded(planned, &bytes, &prefix))
    }

    /// By the URL-safe base64 id, with the prefix before a comma when there
    /// is one (`my-prefix-,p-9E-RpA`), as the provider imports.
    fn import(&self, id: &str) -> Result<Value, String> {
        let (prefix, b64) = match id.rsplit_once(',') {
            Some((p, b)) => (Some(p), b),
            None => (None, id),
        };
        let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|e| {
            format!("import random_id by its id (URL-safe base64 without padding, prefix and a comma before it if any): {b64:?} does not decode ({e})")
        })?;
        if bytes.is_empty() {
            return Err("import random_id by its id; the id given is empty".to_owned());
        }
        let planned = object(vec![
            ("byte_length", Value::Number(bytes.len() as f64)),
            ("prefix", prefix.map_or(Value::Null, Value::string)),
        ]);
        Ok(encoded(&planned, &bytes, prefix.unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_the_big_endian_number() {
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
        assert_eq!(decimal(&[0xff; 8]), u64::MAX.to_string());
        assert_eq!(
            decimal(&[0xff; 16]),
            "340282366920938463463374607431768211455"
        );
    }

    #[test]
    fn encodings_agree_and_import_reverses_the_id() {
        let v = encoded(&object(vec![]), &[0xde, 0xad, 0xbe, 0xef], "p-");
        assert_eq!(v.get("id"), Some(&Value::string("3q2-7w")));
        assert_eq!(v.get("b64_url"), Some(&Value::string("p-3q2-7w")));
        assert_eq!(v.get("b64_std"), Some(&Value::string("p-3q2+7w==")));
        assert_eq!(v.get("hex"), Some(&Value::string("p-deadbeef")));
        assert_eq!(v.get("dec"), Some(&Value::string("p-3735928559")));
        let back = RandomId.import("p-,3q2-7w").unwrap();
        assert_eq!(back.get("hex"), Some(&Value::string("p-deadbeef")));
        assert_eq!(back.get("byte_length"), Some(&Value::Number(4.0)));
        assert!(RandomId.import("***").is_err());
    }
}
