//! Hash functions: md5, sha1, sha256, sha512, base64sha256, base64sha512,
//! uuidv5, and their file variants filemd5, filesha1, filesha256, filesha512,
//! filebase64sha256, filebase64sha512.
//!
//! `uuid` is impure, as in Terraform: unknown while planning (the plan shows
//! `(known after apply)`), a new random UUID at apply. `bcrypt` is left out:
//! its result changes on every call, so every plan would show a change.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

use super::filesystem::read_file;
use super::{Args, Arity, Def, FuncContext};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("base64sha256", Arity::Exactly(1), base64sha256),
    Def::new("base64sha512", Arity::Exactly(1), base64sha512),
    Def::new("filebase64sha256", Arity::Exactly(1), filebase64sha256),
    Def::new("filebase64sha512", Arity::Exactly(1), filebase64sha512),
    Def::new("filemd5", Arity::Exactly(1), filemd5),
    Def::new("filesha1", Arity::Exactly(1), filesha1),
    Def::new("filesha256", Arity::Exactly(1), filesha256),
    Def::new("filesha512", Arity::Exactly(1), filesha512),
    Def::new("md5", Arity::Exactly(1), md5),
    Def::new("sha1", Arity::Exactly(1), sha1),
    Def::new("sha256", Arity::Exactly(1), sha256),
    Def::new("sha512", Arity::Exactly(1), sha512),
    Def::new("uuid", Arity::Exactly(0), uuid),
    Def::new("uuidv5", Arity::Exactly(2), uuidv5),
];

fn hex_digest<D: Digest>(data: &[u8]) -> Result<Value, String> {
    Ok(Value::String(hex::encode(D::digest(data))))
}

fn base64_digest<D: Digest>(data: &[u8]) -> Result<Value, String> {
    Ok(Value::String(STANDARD.encode(D::digest(data))))
}

fn md5(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<md5::Md5>(a.string(0)?.as_bytes())
}

fn sha1(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha1::Sha1>(a.string(0)?.as_bytes())
}

fn sha256(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha2::Sha256>(a.string(0)?.as_bytes())
}

fn sha512(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha2::Sha512>(a.string(0)?.as_bytes())
}

fn base64sha256(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    base64_digest::<sha2::Sha256>(a.string(0)?.as_bytes())
}

fn base64sha512(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    base64_digest::<sha2::Sha512>(a.string(0)?.as_bytes())
}

fn file_bytes(a: &Args, ctx: &FuncContext<'_>) -> Result<Vec<u8>, String> {
    read_file(ctx, &a.string(0)?)
}

fn filemd5(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<md5::Md5>(&file_bytes(a, ctx)?)
}

fn filesha1(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha1::Sha1>(&file_bytes(a, ctx)?)
}

fn filesha256(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha2::Sha256>(&file_bytes(a, ctx)?)
}

fn filesha512(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    hex_digest::<sha2::Sha512>(&file_bytes(a, ctx)?)
}

fn filebase64sha256(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    base64_digest::<sha2::Sha256>(&file_bytes(a, ctx)?)
}

fn filebase64sha512(a: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    base64_digest::<sha2::Sha512>(&file_bytes(a, ctx)?)
}

/// A name-based (SHA-1) UUID, RFC 4122 version 5.
fn uuid(_: &mut Args, ctx: &FuncContext<'_>) -> Result<Value, String> {
    if !ctx.clock.applying {
        return Ok(Value::Unknown);
    }
    Ok(Value::String(uuid::Uuid::new_v4().to_string()))
}

fn uuidv5(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let ns = a.string(0)?;
    let namespace = match &*ns {
        "dns" => uuid::Uuid::from_u128(0x6ba7b810_9dad_11d1_80b4_00c04fd430c8),
        "url" => uuid::Uuid::from_u128(0x6ba7b811_9dad_11d1_80b4_00c04fd430c8),
        "oid" => uuid::Uuid::from_u128(0x6ba7b812_9dad_11d1_80b4_00c04fd430c8),
        "x500" => uuid::Uuid::from_u128(0x6ba7b814_9dad_11d1_80b4_00c04fd430c8),
        other => uuid::Uuid::parse_str(other)
            .map_err(|e| format!("uuidv5() doesn't support namespace {other:?} ({e})"))?,
    };
    let mut hasher = sha1::Sha1::new();
    hasher.update(namespace.as_bytes());
    hasher.update(a.string(1)?.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(Value::String(
        uuid::Uuid::from_bytes(bytes).hyphenated().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::functions::tests::*;

    #[test]
    fn known_vectors() {
        let hw = || vec![s("hello world")];
        assert_eq!(ok("md5", hw()), s("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(
            ok("sha1", hw()),
            s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            ok("sha256", hw()),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            ok("sha512", hw()),
            s(
                "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f\
               989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
            )
        );
        assert_eq!(
            ok("base64sha256", hw()),
            s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
        assert_eq!(
            ok("base64sha512", hw()),
            s(
                "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="
            )
        );
        assert_eq!(
            ok("sha256", vec![s("")]),
            s("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn uuidv5_documented_examples() {
        assert_eq!(
            ok("uuidv5", vec![s("dns"), s("www.terraform.io")]),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            ok("uuidv5", vec![s("url"), s("https://www.terraform.io/")]),
            s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")
        );
        assert_eq!(
            ok(
                "uuidv5",
                vec![
                    s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                    s("www.terraform.io")
                ]
            ),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert!(err("uuidv5", vec![s("nope"), s("x")]).contains("namespace"));
    }

    #[test]
    fn file_hashes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hw.txt"), "hello world").unwrap();
        let hash = |name: &str| call_in(dir.path(), name, vec![s("hw.txt")]).unwrap();
        assert_eq!(hash("filemd5"), ok("md5", vec![s("hello world")]));
        assert_eq!(hash("filesha1"), ok("sha1", vec![s("hello world")]));
        assert_eq!(hash("filesha256"), ok("sha256", vec![s("hello world")]));
        assert_eq!(hash("filesha512"), ok("sha512", vec![s("hello world")]));
        assert_eq!(
            hash("filebase64sha256"),
            ok("base64sha256", vec![s("hello world")])
        );
        assert_eq!(
            hash("filebase64sha512"),
            ok("base64sha512", vec![s("hello world")])
        );
    }
}
