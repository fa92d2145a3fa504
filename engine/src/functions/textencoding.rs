//! Character encodings: `textencodebase64(string, encoding)` and
//! `textdecodebase64(source, encoding)`.
//!
//! Terraform accepts every IANA character set Go knows; dumcel knows the
//! ones stacks use: UTF-8, UTF-16 (big-endian with a byte order mark),
//! UTF-16LE, UTF-16BE, ISO-8859-1, windows-1252 and US-ASCII, by their IANA
//! names and aliases (case-insensitive). Errors name the encoding by its IANA
//! name, as Terraform's do.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Args, Arity, Def, FuncContext, invalid};
use dumcel_planner::Value;

pub(super) const FUNCTIONS: &[Def] = &[
    Def::new("textdecodebase64", Arity::Exactly(2), textdecodebase64),
    Def::new("textencodebase64", Arity::Exactly(2), textencodebase64),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    /// Big-endian, with a byte order mark (read either way).
    Utf16,
    Utf16Le,
    Utf16Be,
    Latin1,
    Windows1252,
    Ascii,
}

/// (canonical IANA name, aliases) per encoding.
const NAMES: &[(Encoding, &str, &[&str])] = &[
    (Encoding::Utf8, "UTF-8", &["csUTF8"]),
    (Encoding::Utf16, "UTF-16", &["csUTF16"]),
    (Encoding::Utf16Le, "UTF-16LE", &["csUTF16LE"]),
    (Encoding::Utf16Be, "UTF-16BE", &["csUTF16BE"]),
    (
        Encoding::Latin1,
        "ISO_8859-1:1987",
        &[
            "ISO-8859-1",
            "ISO_8859-1",
            "iso-ir-100",
            "latin1",
            "l1",
            "IBM819",
            "CP819",
            "csISOLatin1",
        ],
    ),
    (Encoding::Windows1252, "windows-1252", &["cswindows1252"]),
    (
        Encoding::Ascii,
        "US-ASCII",
        &[
            "iso-ir-6",
            "ANSI_X3.4-1968",
            "ANSI_X3.4-1986",
            "ISO_646.irv:1991",
            "ISO646-US",
            "us",
            "IBM367",
            "cp367",
            "csASCII",
        ],
    ),
];

/// windows-1252's bytes 0x80..=0x9F (the rest is ISO-8859-1). The five
/// unassigned bytes map to the C1 controls, as WHATWG's table does.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

fn encoding(a: &Args, i: usize) -> Result<(Encoding, &'static str), String> {
    let given = a.string(i)?;
    NAMES
        .iter()
        .find(|(_, name, aliases)| {
            name.eq_ignore_ascii_case(&given)
                || aliases
                    .iter()
                    .any(|alias| alias.eq_ignore_ascii_case(&given))
        })
        .map(|(enc, name, _)| (*enc, *name))
        .ok_or_else(|| {
            invalid(
                "encoding",
                format!(
                    "{given:?} is not an encoding dumcel supports; use one of UTF-8, UTF-16, \
                     UTF-16LE, UTF-16BE, ISO-8859-1, windows-1252 or US-ASCII"
                ),
            )
        })
}

fn textencodebase64(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (enc, name) = encoding(a, 1)?;
    let text = a.string(0)?;
    let bytes = encode(&text, enc).ok_or_else(|| {
        invalid(
            "string",
            format!("the given string contains characters that cannot be represented in {name}"),
        )
    })?;
    Ok(Value::String(STANDARD.encode(bytes)))
}

fn textdecodebase64(a: &mut Args, _: &FuncContext<'_>) -> Result<Value, String> {
    let (enc, name) = encoding(a, 1)?;
    let bytes = STANDARD.decode(a.string(0)?.as_bytes()).map_err(|e| {
        invalid(
            "source",
            match e {
                base64::DecodeError::InvalidByte(at, _) => {
                    format!("the given value is has an invalid base64 symbol at offset {at}")
                }
                other => format!("the given value is not valid base64: {other}"),
            },
        )
    })?;
    decode(&bytes, enc).map(Value::String).ok_or_else(|| {
        invalid(
            "source",
            format!("the given string contains symbols that are not defined for {name}"),
        )
    })
}

/// `None` when a character has no encoding.
fn encode(text: &str, enc: Encoding) -> Option<Vec<u8>> {
    let units = |be: bool| {
        text.encode_utf16()
            .flat_map(move |u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
    };
    match enc {
        Encoding::Utf8 => Some(text.as_bytes().to_vec()),
        Encoding::Utf16 => Some([0xFE, 0xFF].into_iter().chain(units(true)).collect()),
        Encoding::Utf16Be => Some(units(true).collect()),
        Encoding::Utf16Le => Some(units(false).collect()),
        Encoding::Latin1 => text.chars().map(|c| u8::try_from(c).ok()).collect(),
        Encoding::Ascii => text
            .chars()
            .map(|c| u8::try_from(c).ok().filter(u8::is_ascii))
            .collect(),
        Encoding::Windows1252 => text
            .chars()
            .map(|c| match CP1252_HIGH.iter().position(|&h| h == c) {
                Some(i) => Some(0x80 + i as u8),
                None => u8::try_from(c).ok().filter(|b| !(0x80..0xA0).contains(b)),
            })
            .collect(),
    }
}

/// `None` when the bytes are not text in that encoding.
fn decode(bytes: &[u8], enc: Encoding) -> Option<String> {
    let utf16 = |bytes: &[u8], be: bool| {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let units = bytes.chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if be {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    match enc {
        Encoding::Utf8 => String::from_utf8(bytes.to_vec()).ok(),
        Encoding::Utf16 => match bytes {
            [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
            [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
            _ => utf16(bytes, true),
        },
        Encoding::Utf16Be => utf16(bytes, true),
        Encoding::Utf16Le => utf16(bytes, false),
        Encoding::Latin1 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Encoding::Ascii => bytes
            .iter()
            .map(|&b| b.is_ascii().then_some(char::from(b)))
            .collect(),
        Encoding::Windows1252 => Some(
            bytes
                .iter()
                .map(|&b| match b {
                    0x80..0xA0 => CP1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                })
                .collect(),
        ),
    }
}
