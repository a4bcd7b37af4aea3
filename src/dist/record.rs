//! `RECORD` files: CSV rows of `path,hash,size` (binary distribution format and
//! recording-installed-packages specifications).
//!
//! Parsing keeps paths verbatim; deciding whether a path is safe to touch is the installer's
//! job, since the same path may be fine inside a wheel and hostile in an uninstall.

use super::DistError;

/// One row of a RECORD file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordEntry {
    /// Path relative to site-packages, `/`-separated (may be `../../../bin/x` for scripts).
    pub path: String,
    /// `<algorithm>=<urlsafe-base64-nopad digest>`, e.g. `sha256=...`; `None` for RECORD itself,
    /// `.pyc` files and other files that are allowed to change.
    pub hash: Option<String>,
    /// Size in bytes, when recorded.
    pub size: Option<u64>,
}

/// A parsed RECORD file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The rows, in file order.
    pub entries: Vec<RecordEntry>,
}

impl Record {
    /// Parse RECORD bytes (UTF-8 CSV, `"` quoting, `\n` or `\r\n` line ends).
    pub fn parse(bytes: &[u8]) -> Result<Self, DistError> {
        let text = std::str::from_utf8(bytes).map_err(|e| DistError::InvalidRecord {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            reason: "it is not valid UTF-8".to_string(),
        })?;
        let mut entries = Vec::new();
        for (line, fields) in parse_csv(text)? {
            if fields.iter().all(|f| f.is_empty()) {
                continue;
            }
            let mut it = fields.into_iter();
            let path = it.next().unwrap_or_default();
            let hash = it.next().unwrap_or_default();
            let size = it.next().unwrap_or_default();
            if it.next().is_some() {
                return Err(DistError::InvalidRecord {
                    line,
                    reason: "it has more than three fields".to_string(),
                });
            }
            if path.is_empty() {
                return Err(DistError::InvalidRecord {
                    line,
                    reason: "the path is empty".to_string(),
                });
            }
            let hash = if hash.is_empty() {
                None
            } else {
                if !hash.contains('=') {
                    return Err(DistError::InvalidRecord {
                        line,
                        reason: format!("the hash `{hash}` is not `<algorithm>=<digest>`"),
                    });
                }
                Some(hash)
            };
            let size = if size.is_empty() {
                None
            } else {
                Some(size.parse::<u64>().map_err(|_| DistError::InvalidRecord {
                    line,
                    reason: format!("the size `{size}` is not a number"),
                })?)
            };
            entries.push(RecordEntry { path, hash, size });
        }
        Ok(Record { entries })
    }

    /// Render as CSV, one `\n`-terminated row per entry, quoting fields when needed (as
    /// Python's `csv` module with `QUOTE_MINIMAL` does).
    pub fn write(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            push_field(&mut out, &e.path);
            out.push(',');
            push_field(&mut out, e.hash.as_deref().unwrap_or(""));
            out.push(',');
            if let Some(size) = e.size {
                out.push_str(&size.to_string());
            }
            out.push('\n');
        }
        out
    }

    /// The entry for `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&RecordEntry> {
        self.entries.iter().find(|e| e.path == path)
    }
}

fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Minimal RFC 4180 reader: returns `(line number of the row start, fields)`.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, DistError> {
    let mut rows = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let row_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some('"') if field.is_empty() => {
                    // Quoted field: runs to the closing quote, `""` is a literal quote.
                    loop {
                        match chars.next() {
                            None => {
                                return Err(DistError::InvalidRecord {
                                    line: row_line,
                                    reason: "a quoted field is not closed".to_string(),
                                });
                            }
                            Some('"') => {
                                if chars.peek() == Some(&'"') {
                                    chars.next();
                                    field.push('"');
                                } else {
                                    break;
                                }
                            }
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(_) => {
                            return Err(DistError::InvalidRecord {
                                line: row_line,
                                reason: "text follows a closing quote".to_string(),
                            });
                        }
                    }
                }
                Some(c) => field.push(c),
            }
        }
        rows.push((row_line, fields));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_valid() {
        let text = "foo/__init__.py,sha256=AVTFPZpEKzuHr7OvQZmhaU3LvwKz06AJw8mT_pNh2yI,4\r\n\
\"foo/a,b.py\",sha256=x_y,10\n\
\"foo/q\"\"uote.py\",,\n\
foo-1.0.dist-info/RECORD,,\n\
\n\
../../../bin/foo,sha256=abc,12";
        let r = Record::parse(text.as_bytes()).unwrap();
        assert_eq!(r.entries.len(), 5);
        assert_eq!(r.entries[0].size, Some(4));
        assert_eq!(r.entries[1].path, "foo/a,b.py");
        assert_eq!(r.entries[2].path, "foo/q\"uote.py");
        assert_eq!(r.entries[2].hash, None);
        assert_eq!(r.entries[3].size, None);
        assert_eq!(r.entries[4].path, "../../../bin/foo");
        assert!(r.get("foo/a,b.py").is_some());
    }

    #[test]
    fn roundtrip() {
        let r = Record {
            entries: vec![
                RecordEntry {
                    path: "a,b\"c".into(),
                    hash: Some("sha256=xyz".into()),
                    size: Some(3),
                },
                RecordEntry {
                    path: "line\nbreak".into(),
                    hash: None,
                    size: None,
                },
                RecordEntry {
                    path: "plain.py".into(),
                    hash: None,
                    size: None,
                },
            ],
        };
        let text = r.write();
        assert!(text.ends_with("plain.py,,\n"));
        assert_eq!(Record::parse(text.as_bytes()).unwrap(), r);
    }

    #[test]
    fn parse_garbage() {
        for bad in [
            "a,b,c,d\n",
            "a,sha256=x,notanumber\n",
            "a,nohash,1\n",
            "\"unclosed,x,1\n",
            "\"a\"b,x,1\n",
            ",sha256=x,1\n",
        ] {
            assert!(Record::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(Record::parse(b"a,,\n\xff,,\n").is_err());
        // Truncated mid-hash is an error; truncated before the size is a row without size.
        assert!(Record::parse(b"a/b.py,sha256=x,1\na/c.py,sha2").is_err());
        let r = Record::parse(b"a/b.py,sha256=x,1\na/c.py,sha256=y").unwrap();
        assert_eq!(r.entries[1].size, None);
    }

    #[test]
    fn hostile_paths_are_kept_verbatim() {
        // The parser does not judge paths; the installer and uninstaller do.
        let r = Record::parse(b"../../etc/passwd,,\n/abs/path,,\n").unwrap();
        assert_eq!(r.entries[0].path, "../../etc/passwd");
        assert_eq!(r.entries[1].path, "/abs/path");
    }
}
