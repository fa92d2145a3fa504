//! Tests of yamldecode, yamlencode, csvdecode, base64gzip, bcrypt,
//! rsadecrypt and the `core::` names. Expected values are what
//! `terraform console` (1.11.4) printed for the same calls.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::tests::{err, list, map, n, ok, s};
use super::yamldecode::decode;
use super::yamlencode::encode;
use super::{Clock, FuncContext, call};
use dumcel_planner::Value;

fn yaml(text: &str) -> Value {
    decode(text).unwrap_or_else(|e| panic!("yamldecode({text:?}): {e}"))
}

#[test]
fn yamldecode_resolves_scalars_as_terraform() {
    let got = yaml(
        "a: yes\nb: on\nc: 0x10\nd: 1e3\ne: ~\nf: 2001-12-14\ng: .inf\nh: 010\ni: 0o10\nj: '1'\nk: Null\nl: TRUE",
    );
    let want = map(&[
        ("a", Value::Bool(true)),
        ("b", Value::Bool(true)),
        ("c", n(16.0)),
        ("d", n(1000.0)),
        ("e", Value::Null),
        ("f", s("2001-12-14T00:00:00Z")),
        ("g", n(f64::INFINITY)),
        ("h", n(10.0)),
        ("i", n(8.0)),
        ("j", s("1")),
        ("k", Value::Null),
        ("l", Value::Bool(true)),
    ]);
    assert_eq!(got, want);
    // y and n are booleans even as keys, which then read "true" and "false".
    let got = yaml(
        "a: y\nb: n\nc: Off\nd: 1_000\ne: 0b101\nf: -0x1F\ng: +12\nh: 1.\ni: .5\nj: -.inf\nl: 2001-12-14t21:59:43.10-05:00\nm: 2001-12-14 21:59:43.10 -5\nn: 0o17\np: 07\nq: 09\ns: 0.0",
    );
    let want = map(&[
        ("a", Value::Bool(true)),
        ("b", Value::Bool(false)),
        ("c", Value::Bool(false)),
        ("d", s("1_000")),
        ("e", s("0b101")),
        ("f", s("-0x1F")),
        ("false", n(15.0)),
        ("g", n(12.0)),
        ("h", n(1.0)),
        ("i", n(0.5)),
        ("j", n(f64::NEG_INFINITY)),
        ("l", s("2001-12-14T21:59:43-05:00")),
        ("m", s("2001-12-14 21:59:43.10 -5")),
        ("p", n(7.0)),
        ("q", n(9.0)),
        ("s", n(0.0)),
    ]);
    assert_eq!(got, want);
}

#[test]
fn yamldecode_tags_anchors_merges_and_blocks() {
    let got = yaml(
        "a: !!int '3'\nb: !!float '3'\nc: !!bool 'yes'\nd: !!null ''\ne: !!binary aGVsbG8=\nf: !!timestamp 2001-12-14\ng: !!str 1",
    );
    let want = map(&[
        ("a", s("3")),
        ("b", s("3")),
        ("c", s("yes")),
        ("d", s("")),
        ("e", s("aGVsbG8=")),
        ("f", s("2001-12-14T00:00:00Z")),
        ("g", s("1")),
    ]);
    assert_eq!(got, want);
    let got = yaml("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3");
    let base = map(&[("true", n(2.0)), ("x", n(1.0))]);
    let derived = map(&[("true", n(3.0)), ("x", n(1.0))]);
    assert_eq!(got, map(&[("base", base), ("derived", derived)]));
    assert_eq!(
        yaml("- 1\n- [2, 3]\n- {a: b}"),
        list(vec![
            n(1.0),
            list(vec![n(2.0), n(3.0)]),
            map(&[("a", s("b"))])
        ])
    );
    assert_eq!(yaml("[1: 2]"), list(vec![map(&[("1", n(2.0))])]));
    assert_eq!(yaml("a: 1\na: 2"), map(&[("a", n(2.0))]));
    assert_eq!(yaml("null"), Value::Null);
    assert_eq!(yaml("'multi\n  line'"), s("multi line"));
    assert_eq!(
        yaml("a: |\n  x\n  y\nb: >\n  x\n  y\n"),
        map(&[("a", s("x\ny\n")), ("b", s("x y\n"))])
    );
}

#[test]
fn yamldecode_refuses_what_terraform_refuses() {
    for (text, want) in [
        ("", "missing start of document"),
        ("a: 1\n---\nb: 2", "unexpected extra content"),
        ("a: !custom 1", "unsupported tag \"!custom\""),
        ("? [1]\n: x", "only strings are allowed as mapping keys"),
        ("a: .NaN", "NaN is not supported"),
        ("a: [1", "line"),
        ("a: *nothing", "line"),
    ] {
        let e = decode(text).expect_err(text);
        assert!(e.contains(want), "{text:?}: {e}");
    }
    // Deep nesting is an error or a value, never a crash.
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    let _ = decode(&deep);
}

#[test]
fn yamlencode_matches_terraform_byte_for_byte() {
    let cases: Vec<(Value, &str)> = vec![
        (
            map(&[
                ("a", s("b")),
                (
                    "c",
                    list(vec![n(1.0), n(2.5), Value::Bool(true), Value::Null]),
                ),
                ("d", map(&[("e", s("f"))])),
                ("g h", s("multi\nline")),
                ("i", list(vec![])),
                ("j", map(&[])),
            ]),
            "\"a\": \"b\"\n\"c\":\n- 1\n- 2.5\n- true\n- null\n\"d\":\n  \"e\": \"f\"\n\"g h\": |-\n  multi\n  line\n\"i\": []\n\"j\": {}\n",
        ),
        (s("yes"), "\"yes\"\n"),
        (list(vec![s("x"), n(1.0)]), "- \"x\"\n- 1\n"),
        (map(&[]), "{}\n"),
        (s(""), "\"\"\n"),
        (
            map(&[("a", list(vec![map(&[("b", n(1.0)), ("c", s("2"))])]))]),
            "\"a\":\n- \"b\": 1\n  \"c\": \"2\"\n",
        ),
        (
            map(&[(
                "a",
                list(vec![list(vec![n(1.0), n(2.0)]), list(vec![n(3.0)])]),
            )]),
            "\"a\":\n- - 1\n  - 2\n- - 3\n",
        ),
        (n(12345678901234.0), "12345678901234\n...\n"),
        (n(0.1), "0.1\n...\n"),
        (n(1e21), "1000000000000000000000\n...\n"),
        (n(1.5e-7), "0.00000015\n...\n"),
        (Value::Null, "null\n...\n"),
        (Value::Bool(true), "true\n...\n"),
        (list(vec![Value::Null]), "- null\n"),
        (list(vec![s("x\n\n")]), "- |+\n  x\n\n"),
        (list(vec![s("\n")]), "- |2+\n\n"),
        (map(&[("a", s("x\n"))]), "\"a\": |\n  x\n"),
        (list(vec![s("x \ny")]), "- \"x \\ny\"\n"),
        (list(vec![s("x\n y")]), "- |-\n  x\n   y\n"),
        (list(vec![s("\tx\ny")]), "- \"\\tx\\ny\"\n"),
        (list(vec![s(" x\ny")]), "- |2-\n   x\n  y\n"),
        (list(vec![s("x\u{85}y")]), "- \"x\\Ny\"\n"),
        (list(vec![s("x\ry")]), "- \"x\\ry\"\n"),
        (list(vec![s("\u{a0}")]), "- \"\u{a0}\"\n"),
        (s("\u{feff}"), "\"\\uFEFF\"\n"),
        (s("\u{7}bell"), "\"\\abell\"\n"),
        (
            map(&[("é", s("ü")), ("1", s("x")), ("i", s("\"dq\""))]),
            "\"1\": \"x\"\n\"i\": \"\\\"dq\\\"\"\n\"é\": \"ü\"\n",
        ),
        (
            map(&[("? a\nb", map(&[("c", n(1.0))]))]),
            "? |-\n  ? a\n  b\n: \"c\": 1\n",
        ),
        (
            list(vec![list(vec![map(&[("a", list(vec![n(1.0)]))])])]),
            "- - \"a\":\n    - 1\n",
        ),
        (
            map(&[(
                "k",
                s(
                    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor  incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
                ),
            )]),
            "\"k\": \"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n  \\ incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud\n  exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\"\n",
        ),
        (
            list(vec![s(
                "Loremipsumdolorsitametconsecteturadipiscingelitseddoeiusmodtemporincididuntutlaboreetdoloremagnaaliqua and more words here",
            )]),
            "- \"Loremipsumdolorsitametconsecteturadipiscingelitseddoeiusmodtemporincididuntutlaboreetdoloremagnaaliqua\n  and more words here\"\n",
        ),
    ];
    for (value, want) in cases {
        assert_eq!(encode(&value), want, "yamlencode({value:?})");
    }
}

#[test]
fn yaml_round_trips_through_both_functions() {
    let v = map(&[
        ("list", list(vec![s("a: b"), s("multi\nline\n"), n(-3.0)])),
        (
            "nested",
            map(&[("deep", map(&[("x", Value::Bool(false))]))]),
        ),
        ("empty", s("")),
    ]);
    assert_eq!(ok("yamldecode", vec![ok("yamlencode", vec![v.clone()])]), v);
}

#[test]
fn csvdecode_matches_terraform() {
    let row =
        |pairs: &[(&str, &str)]| map(&pairs.iter().map(|(k, v)| (*k, s(v))).collect::<Vec<_>>());
    assert_eq!(
        ok("csvdecode", vec![s("a,b\n1,2\n3,\"x,y\"")]),
        list(vec![
            row(&[("a", "1"), ("b", "2")]),
            row(&[("a", "3"), ("b", "x,y")])
        ])
    );
    assert_eq!(ok("csvdecode", vec![s("a,b\n")]), list(vec![]));
    assert_eq!(
        ok("csvdecode", vec![s("a,b\r\n1,2\r\n")]),
        list(vec![row(&[("a", "1"), ("b", "2")])])
    );
    assert_eq!(
        ok("csvdecode", vec![s("\"a\"\"q\",b\n1,2")]),
        list(vec![row(&[("a\"q", "1"), ("b", "2")])])
    );
    assert_eq!(
        ok("csvdecode", vec![s("a,b\n\n1,2")]),
        list(vec![row(&[("a", "1"), ("b", "2")])])
    );
    assert_eq!(
        ok("csvdecode", vec![s("a, b\n 1,2")]),
        list(vec![row(&[("a", " 1"), (" b", "2")])])
    );
    assert_eq!(
        ok("csvdecode", vec![s("a\n\"x\ny\"")]),
        list(vec![row(&[("a", "x\ny")])])
    );
    assert!(err("csvdecode", vec![s("")]).contains("missing header line"));
    assert!(err("csvdecode", vec![s("a,b\n1")]).contains("line 2: wrong number of fields"));
    assert!(err("csvdecode", vec![s("a,b\n1,2,3")]).contains("line 2: wrong number of fields"));
    assert!(err("csvdecode", vec![s("a,a\n1,2")]).contains("duplicate column name \"a\""));
}

#[test]
fn base64gzip_is_a_gzip_of_the_text_with_gos_header() {
    for text in ["", "hello", "hello hello hello hello hello"] {
        let Value::String(encoded) = ok("base64gzip", vec![s(text)]) else {
            panic!("base64gzip returns a string");
        };
        let bytes = STANDARD.decode(encoded).expect("base64");
        // Go's gzip header, as Terraform's begins "H4sIAAAAAAAA/": no
        // flags, no time, unknown OS.
        assert_eq!(&bytes[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .expect("valid gzip");
        assert_eq!(out, text);
    }
}

fn applying(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let ctx = FuncContext {
        base_dir: std::path::Path::new("."),
        confine_files: None,
        clock: Clock::default().applying(true),
    };
    call(name, args, &ctx).expect("a built-in function")
}

#[test]
fn bcrypt_is_unknown_in_a_plan_and_a_go_style_hash_at_apply() {
    assert_eq!(ok("bcrypt", vec![s("x")]), Value::Unknown);
    let Ok(Value::String(hash)) = applying("bcrypt", vec![s("hunter2")]) else {
        panic!("bcrypt at apply is a string");
    };
    assert_eq!(hash.len(), 60);
    assert!(hash.starts_with("$2a$10$"), "{hash}");
    assert!(::bcrypt::verify("hunter2", &hash).expect("a valid hash"));
    assert!(!::bcrypt::verify("hunter3", &hash).expect("a valid hash"));
    // Go's rules: a cost under 4 is the default; over 31 and over 72
    // bytes are errors.
    let Ok(Value::String(low)) = applying("bcrypt", vec![s("a"), n(3.0)]) else {
        panic!("bcrypt with cost 3");
    };
    assert!(low.starts_with("$2a$10$"), "{low}");
    let Ok(Value::String(four)) = applying("bcrypt", vec![s("a"), n(4.0)]) else {
        panic!("bcrypt with cost 4");
    };
    assert!(four.starts_with("$2a$04$"), "{four}");
    assert!(applying("bcrypt", vec![s("a"), n(32.0)]).is_err());
    let long = "a".repeat(73);
    let e = applying("bcrypt", vec![s(&long)]).expect_err("73 bytes");
    assert!(e.contains("exceeds 72 bytes"), "{e}");
}

#[test]
fn rsadecrypt_reads_pkcs1_and_pkcs8_keys() {
    // A ciphertext made with `openssl pkeyutl -encrypt` (PKCS #1 v1.5);
    // terraform console decrypts it to the same text with both keys.
    let ciphertext = include_str!("testdata/rsa_hello_world.b64").trim();
    for key in [
        include_str!("testdata/rsa_test_key_pkcs1.pem"),
        include_str!("testdata/rsa_test_key_pkcs8.pem"),
    ] {
        assert_eq!(
            ok("rsadecrypt", vec![s(ciphertext), s(key)]),
            s("hello, world")
        );
    }
    let key = include_str!("testdata/rsa_test_key_pkcs1.pem");
    let e = err("rsadecrypt", vec![s("not base64!"), s(key)]);
    assert!(e.contains("not valid base64"), "{e}");
    let e = err(
        "rsadecrypt",
        vec![
            s(ciphertext),
            s("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
        ],
    );
    assert!(e.contains("invalid private key"), "{e}");
    let e = err("rsadecrypt", vec![s(&STANDARD.encode([1u8; 256])), s(key)]);
    assert!(e.contains("failed to decrypt"), "{e}");
    assert!(!e.contains("PRIVATE"), "errors never quote the key: {e}");
}

#[test]
fn core_prefix_names_the_builtin_functions() {
    assert_eq!(ok("core::length", vec![list(vec![n(1.0), n(2.0)])]), n(2.0));
    assert_eq!(ok("core::upper", vec![s("a")]), s("A"));
}

/// Every function `terraform metadata functions -json` lists for 1.11.4
/// (without the `core::` copies): none is missing.
#[test]
fn every_terraform_1_11_function_is_here() {
    const TERRAFORM_1_11: &str = "abs abspath alltrue anytrue base64decode base64encode base64gzip base64sha256 base64sha512 basename bcrypt can ceil chomp chunklist cidrhost cidrnetmask cidrsubnet cidrsubnets coalesce coalescelist compact concat contains csvdecode dirname distinct element endswith ephemeralasnull file filebase64 filebase64sha256 filebase64sha512 fileexists filemd5 fileset filesha1 filesha256 filesha512 flatten floor format formatdate formatlist indent index issensitive join jsondecode jsonencode keys length log lookup lower matchkeys max md5 merge min nonsensitive one parseint pathexpand plantimestamp pow range regex regexall replace reverse rsadecrypt sensitive setintersection setproduct setsubtract setunion sha1 sha256 sha512 signum slice sort split startswith strcontains strrev substr sum templatefile templatestring textdecodebase64 textencodebase64 timeadd timecmp timestamp title tobool tolist tomap tonumber toset tostring transpose trim trimprefix trimspace trimsuffix try upper urlencode uuid uuidv5 values yamldecode yamlencode zipmap";
    // `can` and `try` need lazy arguments: the evaluator has them.
    let missing: Vec<&str> = TERRAFORM_1_11
        .split(' ')
        .filter(|n| !matches!(*n, "can" | "try"))
        .filter(|n| !super::names().contains(n))
        .collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(TERRAFORM_1_11.split(' ').count(), 118);
}
