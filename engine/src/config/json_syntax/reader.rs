//! JSON read with the byte range of every key and value, which serde_json's
//! values do not keep.

use std::ops::Range;

#[derive(Debug)]
pub(super) struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    String(String),
    /// A number, `true`, `false` or `null`: the same text in HCL.
    Scalar,
}

#[derive(Debug)]
pub(super) struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub colon: usize,
    pub value: Node,
}

impl Node {
    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }
}

/// Reads JSON that serde_json has already accepted; `None` only if it did
/// not (then nothing is read).
pub(super) struct Reader<'a> {
    pub text: &'a str,
    pub pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    pub fn value(&mut self) -> Option<Node> {
        self.ws();
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let key_start = self.pos;
                        let key = self.string()?;
                        let key_span = key_start..self.pos;
                        self.ws();
                        if self.peek()? != b':' {
                            return None;
                        }
                        let colon = self.pos;
                        self.pos += 1;
                        let value = self.value()?;
                        members.push(Member {
                            key,
                            key_span,
                            colon,
                            value,
                        });
                        self.ws();
                        match self.peek()? {
                            b',' => self.pos += 1,
                            b'}' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Object(members)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.peek()? {
                            b',' => self.pos += 1,
                            b']' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Array(items)
            }
            b'"' => Kind::String(self.string()?),
            _ => {
                while self.peek().is_some_and(|b| {
                    !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                Kind::Scalar
            }
        };
        Some(Node {
            span: start..self.pos,
            kind,
        })
    }

    /// A string token, decoded by serde_json.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }
}
