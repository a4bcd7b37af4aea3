//! The YAML dialect plonk shares with Tutor (PyYAML, YAML 1.1): reading a document into a
//! generic value, and writing scalars and values back so that PyYAML's `safe_load` and
//! serde-saphyr read exactly what was meant. Used for `config.yml` edits and the index cache.

use serde_json::{Map, Number, Value};

/// Parses one YAML document into a generic value, the way PyYAML's `safe_load` would read it:
/// duplicate keys keep the last value, YAML 1.1 booleans (`yes`, `on`) are booleans, an empty
/// document is `null`. Alias expansion and nesting are bounded by serde-saphyr's budget.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        // An empty document (or only comments) is `None` in PyYAML.
        return Ok(Value::Null);
    }
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options).map_err(YamlError::from)
}

/// A YAML document that could not be read; the parser's message, in words for a user.
#[derive(Debug)]
pub struct YamlError(String);

impl From<serde_saphyr::Error> for YamlError {
    fn from(err: serde_saphyr::Error) -> Self {
        let text = err.to_string();
        // The parser reports its safety limits as a Rust-looking dump.
        if text.contains("budget breached") {
            return YamlError(
                "it is too large or expands too many aliases (refused as a YAML bomb)".to_string(),
            );
        }
        YamlError(text)
    }
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for YamlError {}

/// Words that YAML 1.1 or 1.2 resolve to something other than a string.
const RESERVED_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
];

/// Whether `s` can be written as a plain (unquoted) scalar and still be read back as the same
/// string by any YAML 1.1 or 1.2 parser. Deliberately conservative: anything doubtful is quoted.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/') {
        return false;
    }
    if s.ends_with(' ') || s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if RESERVED_WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || " -_./:@<>=,+~()%".contains(c)
            || (!c.is_ascii() && c.is_alphabetic())
    })
}

/// Writes `s` as a YAML scalar: plain when that is unambiguous, else double-quoted with every
/// character PyYAML would reject or fold (controls, line breaks, BOM) escaped.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// A YAML double-quoted scalar for `s`.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02X}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters outside PyYAML's printable set, plus the Unicode line breaks that a YAML 1.1
/// reader would fold inside a quoted scalar.
fn needs_escape(c: char) -> bool {
    let code = u32::from(c);
    !matches!(code, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff)
        || matches!(code, 0x2028 | 0x2029 | 0xfeff)
}

/// Writes a number so that YAML 1.1 (PyYAML) reads the same type and value: floats always
/// carry a `.` and a signed exponent (`1.0e+300`), which YAML 1.1's float pattern requires.
fn number(n: &Number) -> String {
    if n.is_f64() {
        let text = n.to_string();
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], Some(&text[at + 1..])),
            None => (text.as_str(), None),
        };
        let mut out = mantissa.to_string();
        if !out.contains('.') {
            out.push_str(".0");
        }
        if let Some(exp) = exponent {
            out.push('e');
            if !exp.starts_with(['-', '+']) {
                out.push('+');
            }
            out.push_str(exp);
        }
        out
    } else {
        n.to_string()
    }
}

/// Writes a value on one line (flow style). Strings inside collections are always quoted, so
/// that flow indicators (`,`, `]`, `}`) in them are never misread.
pub fn flow(value: &Value) -> String {
    flow_inner(value, false)
}

fn flow_inner(value: &Value, nested: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) if nested => double_quoted(s),
        Value::String(s) => scalar(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| flow_inner(v, true)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", double_quoted(k), flow_inner(v, true)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Writes a list of mappings in block style, one `- key: value` item per mapping with its keys
/// in the map's order (sorted for a `serde_json::Map`), as PyYAML's `dump` lays out
/// Tutor's index cache. An empty list is `[]`.
pub fn block_list_of_maps(items: &[Map<String, Value>]) -> String {
    if items.is_empty() {
        return "[]\n".to_string();
    }
    let mut out = String::new();
    for item in items {
        if item.is_empty() {
            out.push_str("- {}\n");
            continue;
        }
        for (i, (key, value)) in item.iter().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(&scalar(key));
            out.push_str(": ");
            out.push_str(&flow(value));
            out.push('\n');
        }
    }
    out
}

/// Writes a top-level `KEY:` block holding a list of strings, PyYAML style (items not
/// indented), ending with `eol`.
pub fn key_with_string_list(key: &str, items: &[String], eol: &str) -> String {
    if items.is_empty() {
        return format!("{}: []{eol}", scalar(key));
    }
    let mut out = format!("{}:{eol}", scalar(key));
    for item in items {
        out.push_str("- ");
        out.push_str(&scalar(item));
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(s: &str) {
        let doc = format!("key: {}\n", scalar(s));
        let parsed = parse(&doc).unwrap_or_else(|e| panic!("{s:?} -> {doc:?}: {e}"));
        assert_eq!(parsed, json!({ "key": s }), "{s:?} written as {doc:?}");
    }

    #[test]
    fn scalars_round_trip() {
        let rows = [
            "https://overhang.io/tutor/main",
            "/tmp/some folder/index",
            "tutor-mfe>=18.0.0,<19.0.0",
            "-e git+https://github.com/x/y@main#egg=y",
            "Edly <regis.behmo@edly.io>",
            "Andrés González <andres@aulasneo.com>",
            "yes",
            "No",
            "null",
            "~",
            "",
            " leading",
            "trailing ",
            "123",
            "1.5",
            "1e3",
            "0x1f",
            ".inf",
            "2001-12-14",
            "12:30:00",
            "a: b",
            "a #b",
            "ends:",
            "line\nbreak\n",
            "tab\there",
            "quote \" and \\ backslash",
            "control \u{1}\u{7f}\u{85}\u{9f}",
            "separators \u{2028}\u{2029}\u{feff}",
            "emoji 🎁 ❄️",
            "[flow]",
            "{flow}",
            "&anchor",
            "*alias",
            "!tag",
            "|literal",
            ">folded",
            "'single'",
            "%directive",
            "@at",
            "`tick",
            "<<",
            "=",
            "?",
            "- item",
            "---",
            "...",
            "#comment",
        ];
        for s in rows {
            roundtrip(s);
        }
    }

    #[test]
    fn plain_when_safe() {
        assert_eq!(
            scalar("https://overhang.io/tutor/main"),
            "https://overhang.io/tutor/main"
        );
        assert_eq!(scalar("tutor-mfe>=18,<19"), "tutor-mfe>=18,<19");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("a\nb"), "\"a\\nb\"");
        assert_eq!(scalar("\u{85}"), "\"\\x85\"");
        assert_eq!(scalar("\u{2028}"), "\"\\u2028\"");
    }

    #[test]
    fn values_round_trip() {
        let value = json!({
            "n": 3,
            "neg": -7,
            "f": 1.5,
            "big": 1e300,
            "small": -2.5e-10,
            "b": true,
            "z": null,
            "list": ["a, b", "c]", 1, {"k": "v}"}],
            "map": {"x y": [], "e": {}},
            "s": "plain",
        });
        let text = format!("v: {}\n", flow(&value));
        assert_eq!(parse(&text).unwrap(), json!({ "v": value }), "{text}");
        assert_eq!(number(&Number::from_f64(1e300).unwrap()), "1.0e+300");
        assert_eq!(number(&Number::from_f64(2.5).unwrap()), "2.5");
    }

    #[test]
    fn list_of_maps_layout() {
        let mut a = Map::new();
        a.insert("name".into(), json!("a"));
        a.insert("description".into(), json!("Two\nlines\n"));
        let text = block_list_of_maps(&[a.clone(), Map::new()]);
        assert_eq!(text, "- description: \"Two\\nlines\\n\"\n  name: a\n- {}\n");
        assert_eq!(parse(&text).unwrap(), json!([a, {}]));
        assert_eq!(block_list_of_maps(&[]), "[]\n");
        assert_eq!(parse("[]\n").unwrap(), json!([]));
    }

    #[test]
    fn key_block() {
        let text = key_with_string_list("K", &["a".into(), "b c".into()], "\n");
        assert_eq!(text, "K:\n- a\n- b c\n");
        assert_eq!(key_with_string_list("K", &[], "\r\n"), "K: []\r\n");
    }

    #[test]
    fn parse_garbage_and_edge_documents() {
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
        assert_eq!(parse("{}").unwrap(), json!({}));
        assert!(parse("[").is_err());
        assert!(parse("a: [b\n").is_err());
        assert!(parse("key: \"unterminated").is_err());
        // YAML 1.1 booleans, as PyYAML reads them.
        assert_eq!(parse("a: yes\n").unwrap(), json!({"a": true}));
        // Duplicate keys: the last one wins, as in PyYAML.
        assert_eq!(parse("a: 1\na: 2\n").unwrap(), json!({"a": 2}));
    }

    /// What we write is read back identically by PyYAML, the reader Tutor uses (skipped when
    /// `python3` with PyYAML is not available).
    #[test]
    fn pyyaml_reads_what_we_write() {
        let strings = [
            "yes",
            "No",
            "~",
            "",
            "123",
            "1e3",
            "0x1f",
            ".inf",
            "2001-12-14",
            "12:30:00",
            "a: b",
            "line\nbreak\n",
            "control \u{1}\u{7f}\u{85}\u{9f}",
            "separators \u{2028}\u{2029}\u{feff}",
            "emoji 🎁",
            "<<",
            "=",
            "-e git+https://x/y@main#egg=y",
            "Andrés González <a@b.c>",
            "https://a/b",
        ];
        let mut item = Map::new();
        for (i, s) in strings.iter().enumerate() {
            item.insert(format!("k{i:02}"), json!(s));
        }
        item.insert(
            "num".into(),
            json!({"i": 3, "f": 1e300, "g": -2.5e-10, "b": false, "n": null, "l": ["a, b", []]}),
        );
        let text = block_list_of_maps(&[item.clone()]);
        let script = "import sys, json, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))";
        let child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else { return };
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("No module named"),
                "PyYAML failed on {text}: {err}"
            );
            return;
        }
        let read: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(read, json!([item]), "{text}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&doc).is_err());
    }
}
