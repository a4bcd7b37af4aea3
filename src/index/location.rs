//! Where plugin indexes are: aliases (`main`, `contrib`), local folders made absolute, and the
//! index file of a release, `<base>/<release>/plugins.yml`, built exactly as Tutor builds it
//! (the string is also the `index` key of every cached entry, so it must match Tutor's).

use std::path::{Component, Path, PathBuf};

use url::Url;

/// `main`: the official index.
pub const MAIN_INDEX: &str = "https://overhang.io/tutor/main";
/// `contrib`: the community index.
pub const CONTRIB_INDEX: &str = "https://overhang.io/tutor/contrib";

/// Expands the aliases `main` and `contrib`; anything else is returned as is.
pub fn expand_alias(index: &str) -> &str {
    match index {
        "main" => MAIN_INDEX,
        "contrib" => CONTRIB_INDEX,
        other => other,
    }
}

/// Tutor's `utils.is_http`: the text starts with `http://` or `https://`.
pub fn is_http(index: &str) -> bool {
    index.starts_with("http://") || index.starts_with("https://")
}

/// The form an index takes in the configuration, as `tutor plugins index add` writes it:
/// aliases expanded, and an existing local path made absolute (Python's `os.path.abspath`:
/// joined to `cwd` and normalized without resolving symbolic links).
pub fn normalize_index(index: &str, cwd: &Path) -> String {
    let expanded = expand_alias(index);
    if !is_http(expanded) {
        let absolute = abspath(Path::new(expanded), cwd);
        if absolute.exists() {
            return absolute.to_string_lossy().into_owned();
        }
    }
    expanded.to_string()
}

/// Python's `os.path.abspath` on POSIX: `normpath(join(cwd, path))`.
pub fn abspath(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                // `..` at the root stays at the root, as in normpath.
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

/// The index file of `release` for the index `base`, as Tutor's `named_index_url` writes it:
/// `base/release/plugins.yml` for http(s) URLs (one `/` whether or not `base` ends with one),
/// `os.path.join(base, release, "plugins.yml")` for anything else.
pub fn index_file_location(base: &str, release: &str) -> String {
    let base = expand_alias(base);
    if is_http(base) {
        let separator = if base.ends_with('/') { "" } else { "/" };
        return format!("{base}{separator}{release}/plugins.yml");
    }
    let mut out = base.to_string();
    for part in [release, "plugins.yml"] {
        if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

/// How to read an index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexFile {
    /// Over HTTP(S), or a `file://` URL.
    Url(Url),
    /// A local file (relative paths are relative to the working folder, as in Tutor).
    Path(PathBuf),
}

/// How to read the index file at `location` (a string from [`index_file_location`]).
pub fn index_file(location: &str) -> Option<IndexFile> {
    if is_http(location) || location.starts_with("file://") {
        return Url::parse(location).ok().map(IndexFile::Url);
    }
    if location.is_empty() {
        return None;
    }
    Some(IndexFile::Path(PathBuf::from(location)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_building_like_tutor() {
        let rows = [
            (
                "https://overhang.io/tutor/main",
                "redwood",
                "https://overhang.io/tutor/main/redwood/plugins.yml",
            ),
            (
                "https://overhang.io/tutor/main/",
                "redwood",
                "https://overhang.io/tutor/main/redwood/plugins.yml",
            ),
            (
                "http://127.0.0.1:8000",
                "main",
                "http://127.0.0.1:8000/main/plugins.yml",
            ),
            (
                "main",
                "ulmo",
                "https://overhang.io/tutor/main/ulmo/plugins.yml",
            ),
            (
                "contrib",
                "teak",
                "https://overhang.io/tutor/contrib/teak/plugins.yml",
            ),
            ("/srv/index", "sumac", "/srv/index/sumac/plugins.yml"),
            ("/srv/index/", "sumac", "/srv/index/sumac/plugins.yml"),
            ("relative/dir", "palm", "relative/dir/palm/plugins.yml"),
            (
                "file:///srv/index",
                "palm",
                "file:///srv/index/palm/plugins.yml",
            ),
        ];
        for (base, release, expected) in rows {
            assert_eq!(index_file_location(base, release), expected, "{base}");
        }
    }

    #[test]
    fn index_files() {
        assert_eq!(
            index_file("https://h/x/plugins.yml"),
            Some(IndexFile::Url(
                Url::parse("https://h/x/plugins.yml").unwrap()
            ))
        );
        assert_eq!(
            index_file("/srv/a/plugins.yml"),
            Some(IndexFile::Path("/srv/a/plugins.yml".into()))
        );
        assert_eq!(index_file(""), None);
        assert_eq!(index_file("https://[broken/plugins.yml"), None);
    }

    #[test]
    fn normalization() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("idx")).unwrap();
        assert_eq!(normalize_index("main", tmp.path()), MAIN_INDEX);
        assert_eq!(normalize_index("contrib", tmp.path()), CONTRIB_INDEX);
        assert_eq!(
            normalize_index("idx", tmp.path()),
            tmp.path().join("idx").to_string_lossy()
        );
        assert_eq!(
            normalize_index("./idx/", tmp.path()),
            tmp.path().join("idx").to_string_lossy()
        );
        assert_eq!(
            normalize_index("idx/../idx", tmp.path()),
            tmp.path().join("idx").to_string_lossy()
        );
        // A path that does not exist is kept as given, as in Tutor.
        assert_eq!(normalize_index("missing", tmp.path()), "missing");
        assert_eq!(normalize_index("https://h/x/", tmp.path()), "https://h/x/");
        assert_eq!(
            abspath(Path::new("/../a/./b//c/.."), Path::new("/x")),
            PathBuf::from("/a/b")
        );
        assert_eq!(abspath(Path::new("."), Path::new("/")), PathBuf::from("/"));
    }
}
