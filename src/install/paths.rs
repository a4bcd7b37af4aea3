//! Path rules shared by install and uninstall: which archive names are safe, lexical
//! normalization, and RECORD's `/`-separated paths relative to site-packages.

use std::path::{Component, Path, PathBuf};

/// Check a zip entry name and return it without a trailing `/`.
///
/// Refused: empty names, NUL, backslashes (a Windows separator that would let `a\..\..\x`
/// slip past a `/` check), absolute paths, drive letters, `.`/`..` and empty components.
pub(crate) fn validate_entry_name(name: &str) -> Result<&str, &'static str> {
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    if trimmed.is_empty() {
        return Err("the name is empty");
    }
    if trimmed.contains('\0') {
        return Err("the name contains a NUL byte");
    }
    if trimmed.contains('\\') {
        return Err("the name contains a backslash");
    }
    if trimmed.starts_with('/') {
        return Err("the name is an absolute path");
    }
    let bytes = trimmed.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err("the name starts with a drive letter");
    }
    for part in trimmed.split('/') {
        match part {
            "" => return Err("the name has an empty path component"),
            "." | ".." => return Err("the name has a `.` or `..` component"),
            _ => {}
        }
    }
    Ok(trimmed)
}

/// Resolve `.` and `..` without touching the file system. `None` when `..` climbs above the
/// first component (a relative path escaping its base).
pub(crate) fn normalize_lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(p) => {
                out.push(p);
                depth += 1;
            }
        }
    }
    Some(out)
}

/// `to` relative to the directory `from` (both absolute and normalized), using `..` where
/// needed: `relative_path("/v/lib/py/site-packages", "/v/bin/x") == "../../../bin/x"`.
pub(crate) fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_c: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(to_c.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_c[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// A path as RECORD writes it: `/`-separated.
pub(crate) fn record_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The absolute, lexically normalized form of `path`.
pub(crate) fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    Ok(normalize_lexical(&abs).unwrap_or(abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(validate_entry_name("foo/bar.py"), Ok("foo/bar.py"));
        assert_eq!(validate_entry_name("foo/"), Ok("foo"));
        assert_eq!(
            validate_entry_name("foo-1.0.data/scripts/x"),
            Ok("foo-1.0.data/scripts/x")
        );
        for bad in [
            "",
            "/",
            "../x",
            "a/../../x",
            "a/./b",
            "/etc/passwd",
            "C:/x",
            "c:x",
            "a\\..\\..\\x",
            "a//b",
            "a\0b",
            "..",
        ] {
            assert!(validate_entry_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lexical() {
        assert_eq!(
            normalize_lexical(Path::new("/a/b/../c/./d")),
            Some(PathBuf::from("/a/c/d"))
        );
        assert_eq!(normalize_lexical(Path::new("a/../../b")), None);
        assert_eq!(normalize_lexical(Path::new("/../b")), None);
        assert_eq!(
            relative_path(
                Path::new("/v/lib/python3.11/site-packages"),
                Path::new("/v/bin/foo")
            ),
            PathBuf::from("../../../bin/foo")
        );
        assert_eq!(
            relative_path(Path::new("/v/sp"), Path::new("/v/sp/a/b.py")),
            PathBuf::from("a/b.py")
        );
        assert_eq!(record_path(Path::new("../../bin/x")), "../../bin/x");
    }
}
