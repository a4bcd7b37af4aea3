//! Index entries: parsing a `plugins.yml` (or Tutor's `cache.yml`) into [`PluginEntry`]s the
//! way Tutor's `tutor/plugins/indexes.py` does, merging indexes, and writing the cache layout.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::IndexError;
use crate::source::{Source, SourceError};
use crate::tutor::yaml;

/// One plugin of a plugin index.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginEntry {
    /// The plugin name, lower-cased (as Tutor stores it in its cache).
    pub name: String,
    /// The raw `src` (see [`crate::source::Source::parse`]).
    pub src: String,
    /// Home page.
    pub url: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Maintainer.
    pub maintainer: Option<String>,
    /// Description, raw (the first line is the short description).
    pub description: Option<String>,
    /// The index file (URL or path) this entry came from, as Tutor writes it in its cache.
    pub index: String,
    /// Every other key, kept as read (and typed fields that were not strings).
    pub extra: BTreeMap<String, Value>,
}

/// Python's `str.isspace`, which Tutor's `strip()` and `splitlines()` follow.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.splitlines` separators.
fn is_py_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

impl PluginEntry {
    /// The description without surrounding whitespace (Tutor's `IndexEntry.description`).
    pub fn description_text(&self) -> &str {
        self.description
            .as_deref()
            .unwrap_or_default()
            .trim_matches(is_py_space)
    }

    /// The first line of the description, at most 128 characters (Tutor's
    /// `IndexEntry.short_description`).
    pub fn short_description(&self) -> String {
        let text = self.description_text();
        let first = text.split(is_py_line_break).next().unwrap_or_default();
        first.chars().take(128).collect()
    }

    /// Case-insensitive substring match on name and description; an empty pattern matches
    /// everything (Tutor's `IndexEntry.match`).
    pub fn matches(&self, pattern: &str) -> bool {
        if pattern.is_empty() {
            return true;
        }
        let pattern = pattern.to_lowercase();
        self.name.to_lowercase().contains(&pattern)
            || self.description_text().to_lowercase().contains(&pattern)
    }

    /// The parsed `src`; the error names this entry and its index.
    pub fn source(&self) -> Result<Source, IndexError> {
        Source::parse(&self.src).map_err(|source| self.bad_source(source))
    }

    /// Wraps a source error with this entry's name and index.
    pub fn bad_source(&self, source: SourceError) -> IndexError {
        IndexError::BadSource {
            index: self.index.clone(),
            entry: self.name.clone(),
            source,
        }
    }

    /// The entry as the mapping Tutor keeps in its cache (keys sorted).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut sorted: BTreeMap<String, Value> = self.extra.clone();
        let mut put = |key: &str, value: Option<&String>| {
            if let Some(v) = value {
                sorted.insert(key.to_string(), Value::String(v.clone()));
            }
        };
        put("name", Some(&self.name));
        put("src", Some(&self.src));
        put("url", self.url.as_ref());
        put("author", self.author.as_ref());
        put("maintainer", self.maintainer.as_ref());
        put("description", self.description.as_ref());
        put("index", Some(&self.index));
        // Insert in sorted order so the layout is sorted whatever `Map` is backed by.
        sorted.into_iter().collect()
    }
}

/// An entry dropped while reading an index: a soft failure, reported as a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The index file.
    pub index: String,
    /// 1-based position of the entry in the file's list.
    pub position: usize,
    /// The entry's name when it has a usable one.
    pub name: Option<String>,
    /// Why it was dropped.
    pub reason: String,
}

impl std::fmt::Display for SkippedEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(
                f,
                "skipped plugin `{name}` (entry {}) of the plugin index `{}`: {}",
                self.position,
                crate::source::redact(&self.index),
                self.reason
            ),
            None => write!(
                f,
                "skipped entry {} of the plugin index `{}`: {}",
                self.position,
                crate::source::redact(&self.index),
                self.reason
            ),
        }
    }
}

/// The usable entries of one index file and the ones that were dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedIndex {
    /// Entries in file order (names lower-cased; duplicates kept, [`merge`] resolves them).
    pub entries: Vec<PluginEntry>,
    /// Entries without a usable `name` or `src`.
    pub skipped: Vec<SkippedEntry>,
}

/// What a YAML value is, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Parses the text of an index file fetched from `index`. Every entry gets `index` as its
/// `index` key, as Tutor does. `[]` is an empty index; anything but a list is an error; an
/// entry without a string `name` or `src` is skipped.
pub fn parse_index(content: &str, index: &str) -> Result<ParsedIndex, IndexError> {
    parse_entries(content, index, Some(index))
}

/// Parses a cache file (Tutor's or plonk's): like [`parse_index`] but each entry's `index`
/// comes from the entry itself.
pub fn parse_cache(content: &str, origin: &str) -> Result<ParsedIndex, IndexError> {
    parse_entries(content, origin, None)
}

fn parse_entries(
    content: &str,
    origin: &str,
    index: Option<&str>,
) -> Result<ParsedIndex, IndexError> {
    let head = content.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if head.starts_with('<') {
        return Err(IndexError::Html {
            index: origin.to_string(),
        });
    }
    let value = yaml::parse(content).map_err(|source| IndexError::Yaml {
        index: origin.to_string(),
        source,
    })?;
    let Value::Array(items) = value else {
        return Err(IndexError::NotAList {
            index: origin.to_string(),
            found: kind_of(&value),
        });
    };
    let mut parsed = ParsedIndex::default();
    for (i, item) in items.into_iter().enumerate() {
        match entry_from_value(item, index) {
            Ok(entry) => parsed.entries.push(entry),
            Err((name, reason)) => parsed.skipped.push(SkippedEntry {
                index: origin.to_string(),
                position: i + 1,
                name,
                reason,
            }),
        }
    }
    Ok(parsed)
}

type Rejection = (Option<String>, String);

fn entry_from_value(value: Value, index: Option<&str>) -> Result<PluginEntry, Rejection> {
    let Value::Object(mut map) = value else {
        return Err((None, format!("it is {}, not a mapping", kind_of(&value))));
    };
    let name = match map.remove("name") {
        None => return Err((None, "it has no `name`".to_string())),
        Some(Value::String(name)) if name.trim().is_empty() => {
            return Err((None, "its `name` is empty".to_string()));
        }
        Some(Value::String(name)) => name.to_lowercase(),
        Some(other) => {
            return Err((
                None,
                format!("its `name` is {}, not a string", kind_of(&other)),
            ));
        }
    };
    let src = match map.remove("src") {
        Some(Value::String(src)) if !src.trim().is_empty() => src,
        Some(Value::String(_)) => return Err((Some(name), "its `src` is empty".to_string())),
        None => return Err((Some(name), "it has no `src`".to_string())),
        Some(other) => {
            return Err((
                Some(name),
                format!("its `src` is {}, not a string", kind_of(&other)),
            ));
        }
    };
    let mut take = |key: &str| match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        // Kept as read, so that nothing is lost when the cache is written.
        Some(other) => {
            map.insert(key.to_string(), other);
            None
        }
    };
    let url = take("url");
    let author = take("author");
    let maintainer = take("maintainer");
    let description = take("description");
    let own_index = take("index");
    let index = match index {
        Some(index) => {
            map.remove("index");
            index.to_string()
        }
        None => own_index.unwrap_or_default(),
    };
    Ok(PluginEntry {
        name,
        src,
        url,
        author,
        maintainer,
        description,
        index,
        extra: map.into_iter().collect(),
    })
}

/// Merges indexes in order: a later entry wins over an earlier one of the same (lower-cased)
/// name; the result is sorted by name (Tutor's `deduplicate_plugins`).
pub fn merge<I: IntoIterator<Item = PluginEntry>>(entries: I) -> Vec<PluginEntry> {
    let mut by_name: BTreeMap<String, PluginEntry> = BTreeMap::new();
    for mut entry in entries {
        entry.name = entry.name.to_lowercase();
        by_name.insert(entry.name.clone(), entry);
    }
    by_name.into_values().collect()
}

/// The cache file's text: a YAML list sorted by name with sorted keys, as Tutor writes it.
pub fn render_cache(entries: &[PluginEntry]) -> String {
    let maps: Vec<Map<String, Value>> = entries.iter().map(PluginEntry::to_map).collect();
    yaml::block_list_of_maps(&maps)
}

/// The entry called `name` (case-insensitive).
pub fn lookup_entry<'a>(entries: &'a [PluginEntry], name: &str) -> Option<&'a PluginEntry> {
    let name = name.to_lowercase();
    entries.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "https://idx.example/main/redwood/plugins.yml";

    fn entry(name: &str, description: Option<&str>) -> PluginEntry {
        PluginEntry {
            name: name.to_string(),
            src: format!("tutor-{name}"),
            url: None,
            author: None,
            maintainer: None,
            description: description.map(str::to_string),
            index: INDEX.to_string(),
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn tutor_rows() {
        // `[]` is an empty index.
        assert_eq!(parse_index("[]", INDEX).unwrap(), ParsedIndex::default());
        // `{}` and `[` are errors.
        let err = parse_index("{}", INDEX).unwrap_err();
        assert!(
            matches!(
                err,
                IndexError::NotAList {
                    found: "a mapping",
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            parse_index("[", INDEX).unwrap_err(),
            IndexError::Yaml { .. }
        ));
        // An entry missing `name` is dropped with a warning.
        let parsed = parse_index("- src: tutor-x\n- name: ok\n  src: tutor-ok\n", INDEX).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(
            parsed.skipped[0].to_string(),
            format!("skipped entry 1 of the plugin index `{INDEX}`: it has no `name`")
        );
        // A later duplicate wins and is lower-cased.
        let parsed = parse_index(
            "- name: Dup\n  src: first\n- name: other\n  src: o\n- name: DUP\n  src: second\n",
            INDEX,
        )
        .unwrap();
        let merged = merge(parsed.entries);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].name, "dup");
        assert_eq!(merged[0].src, "second");
        assert_eq!(merged[1].name, "other");
    }

    #[test]
    fn short_description_rows() {
        let long = "x".repeat(300);
        let rows = [
            (None, ""),
            (Some(""), ""),
            (Some("  \n  One line.\nSecond line\n"), "One line."),
            (Some("Windows\r\nlines"), "Windows"),
            (Some(long.as_str()), &long[..128]),
            (Some("ünïcödé ✓ line\u{2028}next"), "ünïcödé ✓ line"),
        ];
        for (description, expected) in rows {
            assert_eq!(
                entry("a", description).short_description(),
                expected,
                "{description:?}"
            );
        }
        let emoji = "🎁".repeat(200);
        assert_eq!(
            entry("a", Some(&emoji)).short_description().chars().count(),
            128
        );
    }

    #[test]
    fn matching_is_case_insensitive_on_name_and_description() {
        let e = entry("mfe", Some("Micro FRONTENDS for Open edX"));
        for pattern in ["", "MFE", "front", "OPEN EDX", "m"] {
            assert!(e.matches(pattern), "{pattern}");
        }
        for pattern in ["forum", "tutor-mfe"] {
            assert!(!e.matches(pattern), "{pattern}");
        }
    }

    #[test]
    fn garbage_and_hostile_rows() {
        let rows: &[(&str, &str)] = &[
            ("", "not an empty document"),
            ("just a string", "a string"),
            ("42", "a number"),
            ("name: x\nsrc: y\n", "a mapping"),
            ("[", "not valid YAML"),
            ("- name: [\n", "not valid YAML"),
            ("<!DOCTYPE html><html><body>404</body></html>", "HTML page"),
            ("\n  <html>", "HTML page"),
        ];
        for (text, expected) in rows {
            let err = match parse_index(text, INDEX) {
                Err(err) => err.to_string(),
                Ok(p) => panic!("{text:?} parsed: {p:?}"),
            };
            let expected = expected.replace("not an empty document", "an empty document");
            assert!(err.contains(&expected), "{text:?}: {err}");
            assert!(err.contains(INDEX), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let skipped_rows: &[(&str, &str)] = &[
            ("- just a string\n", "it is a string, not a mapping"),
            (
                "- name: 123\n  src: x\n",
                "its `name` is a number, not a string",
            ),
            ("- name: [a]\n  src: x\n", "its `name` is a list"),
            ("- name: ''\n  src: x\n", "its `name` is empty"),
            ("- name: a\n", "plugin `a` (entry 1)"),
            ("- name: a\n  src: {x: 1}\n", "its `src` is a mapping"),
            ("- name: a\n  src: '  '\n", "its `src` is empty"),
            ("- null\n", "it is an empty document, not a mapping"),
        ];
        for (text, expected) in skipped_rows {
            let parsed = parse_index(text, INDEX).unwrap();
            assert!(parsed.entries.is_empty(), "{text:?}");
            let message = parsed.skipped[0].to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(message.contains(INDEX), "{message}");
        }
    }

    #[test]
    fn unknown_keys_and_odd_types_are_kept() {
        let text = "- name: Odd\n  src: tutor-odd\n  description: 42\n  tags: [a, b]\n  index: ignored\n  url: null\n";
        let parsed = parse_index(text, INDEX).unwrap();
        let e = &parsed.entries[0];
        assert_eq!(e.name, "odd");
        assert_eq!(e.description, None);
        assert_eq!(e.index, INDEX);
        assert_eq!(e.extra["description"], serde_json::json!(42));
        assert_eq!(e.extra["tags"], serde_json::json!(["a", "b"]));
        let map = e.to_map();
        let keys: Vec<&String> = map.keys().collect();
        assert_eq!(keys, vec!["description", "index", "name", "src", "tags"]);
    }

    #[test]
    fn cache_round_trip() {
        let text = "- name: B\n  src: tutor-b>=1,<2\n  description: |\n    Line one: with colon\n    Line two\n  author: Ünï <a@b.c>\n  custom: {k: [1, 2.5, true]}\n- name: a\n  src: \"-e git+https://h/r@v1#egg=a\"\n";
        let merged = merge(parse_index(text, INDEX).unwrap().entries);
        let rendered = render_cache(&merged);
        assert!(rendered.starts_with("- index: "), "{rendered}");
        let back = parse_cache(&rendered, "cache.yml").unwrap();
        assert!(back.skipped.is_empty());
        assert_eq!(back.entries, merged);
        assert_eq!(render_cache(&[]), "[]\n");
        assert_eq!(lookup_entry(&merged, "B").unwrap().name, "b");
        assert!(lookup_entry(&merged, "c").is_none());
    }

    #[test]
    fn bad_source_names_entry_and_index() {
        let mut e = entry("broken", None);
        e.src = "tutor-x --hash=abc".to_string();
        let err = e.source().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("the `src` of plugin `broken` in the plugin index `{INDEX}` is not usable")
        );
    }
}
