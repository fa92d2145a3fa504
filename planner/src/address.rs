//! Resource addresses as users write them: `null_resource.a`, `null_resource.a[0]`,
//! `local_file.f["x"]`, `data.local_file.cfg`, `module.web.null_resource.a`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which instance of a resource (or module) an address names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InstanceKey {
    /// The resource has neither `count` nor `for_each`.
    None,
    /// `count.index`
    Int(i64),
    /// `each.key`
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Mode {
    Managed,
    Data,
}

/// One step of a module path: `module.web` or `module.web["blue"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A resource block, not yet expanded: `null_resource.a` (inside a module instance).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceAddr {
    pub module: Vec<ModuleStep>,
    pub mode: Mode,
    pub resource_type: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn managed(resource_type: &str, name: &str) -> ResourceAddr {
        ResourceAddr {
            module: Vec::new(),
            mode: Mode::Managed,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
        }
    }

    pub fn instance(&self, key: InstanceKey) -> InstanceAddr {
        InstanceAddr {
            resource: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Pieces, not `write!`: addresses are formatted thousands of times a
        // plan, and format arguments cost more than the copying.
        for step in &self.module {
            f.write_str("module.")?;
            f.write_str(&step.name)?;
            fmt::Display::fmt(&step.key, f)?;
            f.write_str(".")?;
        }
        // The rest in one write: `to_string` then allocates once, where a
        // write per piece grew the string twice (most of an address's cost).
        let mode = if self.mode == Mode::Data { "data." } else { "" };
        let pieces = [mode, &self.resource_type, ".", &self.name];
        let mut buf = [0u8; 128];
        let mut len = 0;
        for piece in pieces {
            let Some(slot) = buf.get_mut(len..len + piece.len()) else {
                // Longer than the buffer: piece by piece.
                return pieces.iter().try_for_each(|p| f.write_str(p));
            };
            slot.copy_from_slice(piece.as_bytes());
            len += piece.len();
        }
        // Whole `str`s joined end to end: always UTF-8.
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

/// One resource instance: the unit that state records and providers act on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InstanceAddr {
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.resource, f)?;
        fmt::Display::fmt(&self.key, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address {input:?}: {reason}")]
pub struct AddressError {
    pub input: String,
    pub reason: String,
}

impl FromStr for InstanceAddr {
    type Err = AddressError;

    fn from_str(input: &str) -> Result<InstanceAddr, AddressError> {
        let err = |reason: &str| AddressError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parser = Parser { rest: input };
        let mut module = Vec::new();
        let mut mode = Mode::Managed;
        loop {
            let word = parser.ident().ok_or_else(|| err("expected a name"))?;
            if word == "module" {
                parser
                    .dot()
                    .ok_or_else(|| err("expected `.` after `module`"))?;
                let name = parser
                    .ident()
                    .ok_or_else(|| err("expected a module name"))?;
                let key = parser.key().map_err(|r| err(&r))?;
                parser
                    .dot()
                    .ok_or_else(|| err("expected `.` after the module"))?;
                module.push(ModuleStep { name, key });
                continue;
            }
            let resource_type = if word == "data" && mode == Mode::Managed {
                mode = Mode::Data;
                parser
                    .dot()
                    .ok_or_else(|| err("expected `.` after `data`"))?;
                parser
                    .ident()
                    .ok_or_else(|| err("expected a data source type"))?
            } else {
                word
            };
            parser.dot().ok_or_else(|| err("expected `TYPE.NAME`"))?;
            let name = parser
                .ident()
                .ok_or_else(|| err("expected a resource name"))?;
            let key = parser.key().map_err(|r| err(&r))?;
            if !parser.rest.is_empty() {
                return Err(err("unexpected text after the address"));
            }
            return Ok(InstanceAddr {
                resource: ResourceAddr {
                    module,
                    mode,
                    resource_type,
                    name,
                },
                key,
            });
        }
    }
}

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn ident(&mut self) -> Option<String> {
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(word.to_owned())
    }

    fn dot(&mut self) -> Option<()> {
        self.rest = self.rest.strip_prefix('.')?;
        Some(())
    }

    fn key(&mut self) -> Result<InstanceKey, String> {
        let Some(after) = self.rest.strip_prefix('[') else {
            return Ok(InstanceKey::None);
        };
        let close = if after.starts_with('"') {
            // A JSON string, then `]`.
            let mut de = serde_json::Deserializer::from_str(after).into_iter::<String>();
            let key = match de.next() {
                Some(Ok(s)) => s,
                _ => return Err("bad quoted key".into()),
            };
            let used = de.byte_offset();
            let rest = &after[used..];
            let rest = rest.strip_prefix(']').ok_or("expected `]`")?;
            self.rest = rest;
            return Ok(InstanceKey::Str(key));
        } else {
            after.find(']').ok_or("expected `]`")?
        };
        let index: i64 = after[..close]
            .trim()
            .parse()
            .map_err(|_| "an index must be a whole number or a quoted string".to_string())?;
        self.rest = &after[close + 1..];
        Ok(InstanceKey::Int(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "null_resource.a",
            "null_resource.a[3]",
            "local_file.f[\"x y\"]",
            "data.local_file.cfg",
            "module.web[\"blue\"].module.db.aws_s3_bucket.b[0]",
        ] {
            let addr: InstanceAddr = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn names_longer_than_the_formatting_buffer_round_trip() {
        let long = "n".repeat(200);
        for text in [
            format!("null_resource.{long}"),
            format!("data.local_file.{long}[\"k\"]"),
            format!("module.m.{long}_type.x"),
        ] {
            let addr: InstanceAddr = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "a", "a.", "a.b[", "a.b[x]", "a.b[\"x\"", "a.b c"] {
            assert!(text.parse::<InstanceAddr>().is_err(), "{text}");
        }
    }
}
