//! Crypto functions: bcrypt and rsadecrypt.
//!
//! `bcrypt` is impure, as in Terraform: its salt is random, so it is unknown
//! while planning and gets its value at apply.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;

use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("bcrypt", Arity::Between(1, 2), bcrypt),
    Def::new("rsadecrypt", Arity::Exactly(2), rsadecrypt),
];

fn bcrypt(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    let password = a.string(0)?;
    let cost = if a.len() > 1 {
        a.integer(1, "cost")?
    } else {
        10
    };
    if !ctx.clock.applying {
        return Ok(Value::Unknown);
    }
    bcrypt_hash(&password, cost).map(Value::String)
}

/// A `$2a$` hash as Go's bcrypt makes it: a cost under 4 means the default
/// 10, and a password over 72 bytes is refused rather than cut.
pub(crate) fn bcrypt_hash(password: &str, cost: i64) -> Result<String, String> {
    let cost = if cost < 4 { 10 } else { cost };
    if cost > 31 {
        return Err(format!("cost {cost} is outside the allowed range (4, 31)"));
    }
    if password.len() > 72 {
        return Err("password length exceeds 72 bytes".into());
    }
    ::bcrypt::hash_with_result(password, cost as u32)
        .map(|h| h.format_for_version(::bcrypt::Version::TwoA))
        .map_err(|e| format!("error occurred generating password: {e}"))
}

/// PKCS #1 v1.5 decryption of base64 `ciphertext` with a PEM private key in
/// PKCS #1 (`RSA PRIVATE KEY`) or PKCS #8 (`PRIVATE KEY`) form. Errors never
/// quote the key.
fn rsadecrypt(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let ciphertext = STANDARD
        .decode(a.string(0)?.trim().as_bytes())
        .map_err(|_| "failed to decode input: the ciphertext is not valid base64".to_string())?;
    let pem = a.string(1)?;
    let key = rsa::PrivateKey::from_pkcs1_pem(&pem)
        .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(&pem))
        .map_err(|_| {
            "invalid private key: expected an RSA key in PEM form (\"-----BEGIN RSA PRIVATE KEY-----\" or \"-----BEGIN PRIVATE KEY-----\")".to_string()
        })?;
    let plain = key
        .decrypt(rsa::Pkcs1v15Encrypt, &ciphertext)
        .map_err(|_| {
            "failed to decrypt: the ciphertext was not encrypted for this key".to_string()
        })?;
    // rsa answers a ciphertext made for another key with random bytes
    // (implicit rejection, against timing attacks), which are not text.
    String::from_utf8(plain).map(Value::String).map_err(|_| {
        "failed to decrypt: the result is not text; was the ciphertext encrypted for this key?"
            .into()
    })
}
