//! Small re-implementations of the Python standard-library behaviour hatchling relies on
//! (`posixpath.normpath`, `str.splitlines`, `str.strip`, text-mode newline translation, PEP 503
//! name normalization), so that the native build computes byte-identical strings.

/// `posixpath.normpath`: collapses separators, `.` and `..` lexically.
pub(crate) fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let mut initial_slashes = if path.starts_with('/') { 1 } else { 0 };
    if path.starts_with("//") && !path.starts_with("///") {
        initial_slashes = 2;
    }
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial_slashes == 0 && comps.is_empty()) || comps.last() == Some(&"..")
        {
            comps.push(comp);
        } else if !comps.is_empty() {
            comps.pop();
        }
    }
    let joined = comps.join("/");
    let out = format!("{}{}", "/".repeat(initial_slashes), joined);
    if out.is_empty() { ".".to_string() } else { out }
}

/// hatchling's `normalize_relative_path`: `normpath(path).strip('/')`.
pub(crate) fn normalize_relative_path(path: &str) -> String {
    normpath(path).trim_matches('/').to_string()
}

/// hatchling's `normalize_relative_directory`: the relative path with one trailing `/`.
pub(crate) fn normalize_relative_directory(path: &str) -> String {
    format!("{}/", normalize_relative_path(path))
}

/// Whether Python's `str.isspace` holds for `c` (Rust's whitespace plus the information
/// separators U+001C..U+001F that Python also counts).
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.strip()` without arguments.
pub(crate) fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_space)
}

/// `str.rstrip()` without arguments.
pub(crate) fn py_rstrip(text: &str) -> &str {
    text.trim_end_matches(is_py_space)
}

/// `str.splitlines()`: splits on every line boundary Python knows, dropping the boundaries.
pub(crate) fn splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = matches!(
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
        );
        if !boundary {
            continue;
        }
        lines.push(&text[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r'
            && let Some(&(j, '\n')) = chars.peek()
        {
            chars.next();
            end = j + 1;
        }
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// What Python's text mode (`open(path, encoding="utf-8")`) does to line ends: `\r\n` and a
/// lone `\r` both become `\n`.
pub(crate) fn universal_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `f.readlines()` of a text-mode file: lines keep their (translated) `\n`.
pub(crate) fn readlines(text: &str) -> Vec<String> {
    let text = universal_newlines(text);
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// hatchling's `is_valid_project_name` (PEP 508 names).
pub(crate) fn is_valid_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// PEP 503 normalization, `re.sub(r"[-_.]+", "-", name).lower()`.
pub(crate) fn normalize_project_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// hatchling's `normalize_file_name_component`, `re.sub(r"[^\w\d.]+", "_", name)`.
pub(crate) fn file_name_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
            in_run = false;
        } else {
            if !in_run {
                out.push('_');
            }
            in_run = true;
        }
    }
    out
}

/// Python's `repr()` of a string made of printable ASCII (what hatchling's `{option!r}`
/// produces for extra names): single quotes unless the text contains one.
pub(crate) fn py_repr(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_rows() {
        let rows = [
            ("", "."),
            (".", "."),
            ("a/./b", "a/b"),
            ("a//b/", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("a/../../b", "../b"),
            ("/a/../..", "/"),
            ("//a", "//a"),
            ("///a", "/a"),
            ("src/pkg/", "src/pkg"),
        ];
        for (input, expected) in rows {
            assert_eq!(normpath(input), expected, "{input:?}");
        }
        assert_eq!(normalize_relative_directory("src"), "src/");
        assert_eq!(normalize_relative_path("/pkg/"), "pkg");
    }

    #[test]
    fn splitlines_rows() {
        assert_eq!(splitlines("a\nb\r\nc\rd"), vec!["a", "b", "c", "d"]);
        assert_eq!(splitlines("a\n"), vec!["a"]);
        assert_eq!(splitlines("a\n\nb"), vec!["a", "", "b"]);
        assert_eq!(splitlines("a\u{2028}b\u{0c}"), vec!["a", "b"]);
        assert!(splitlines("").is_empty());
        assert_eq!(readlines("a\r\nb\rc"), vec!["a\n", "b\n", "c"]);
    }

    #[test]
    fn names() {
        assert_eq!(normalize_project_name("Tutor_MFE..x"), "tutor-mfe-x");
        assert_eq!(file_name_component("tutor-mfe"), "tutor_mfe");
        assert_eq!(file_name_component("a--b.c"), "a_b.c");
        assert!(is_valid_project_name("tutor-mfe"));
        assert!(!is_valid_project_name("-a"));
        assert!(!is_valid_project_name("../evil"));
        assert!(!is_valid_project_name(""));
        assert_eq!(py_repr("dev"), "'dev'");
        assert_eq!(py_strip(" \u{1c}a b\t\n"), "a b");
    }
}
