//! Plugin indexes served by a plonk mirror: their entries carry [`MIRROR_KEY`] (the mirror
//! root relative to the index file's folder), and reading such an index routes each entry's
//! package downloads to the mirror: its `src` gets an `--index-url` of the mirror's `simple/`
//! folder, which plonk applies to that entry and its dependencies, and which `tutor plugins
//! install` hands to pip as a requirements-file option.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use url::Url;

use super::entry::PluginEntry;
use super::location::{IndexFile, index_file};
use crate::source::{FileLocation, Source};

/// The entry key a mirror writes into its plugin index files.
pub const MIRROR_KEY: &str = "plonk_mirror";

/// The mirror root of an index file, relative to the file's folder: `./`, `../`, `../../`…
/// Anything else (absolute paths, other folders) is not a mirror written by plonk.
fn relative_root(value: &str) -> Option<usize> {
    let trimmed = value.trim();
    if trimmed == "./" || trimmed == "." {
        return Some(0);
    }
    let mut rest = trimmed;
    let mut ups = 0;
    while let Some(after) = rest.strip_prefix("../") {
        ups += 1;
        rest = after;
    }
    if rest == ".." {
        ups += 1;
        rest = "";
    }
    (rest.is_empty() && (1..=4).contains(&ups)).then_some(ups)
}

/// Where a mirror is: a URL (http(s) or file) or a local folder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    Url(Url),
    Path(PathBuf),
}

impl Root {
    fn join(&self, relative: &str) -> Option<String> {
        match self {
            Root::Url(url) => url.join(relative).ok().map(|u| u.to_string()),
            Root::Path(path) => Some(path.join(relative).to_string_lossy().into_owned()),
        }
    }

    fn simple_index(&self) -> Option<String> {
        match self {
            Root::Url(url) => url.join("simple/").ok().map(|u| u.to_string()),
            Root::Path(path) => Url::from_directory_path(path.join("simple"))
                .ok()
                .map(|u| u.to_string()),
        }
    }
}

/// Lexically folds `..` (the mirror folder may not exist on this host yet).
fn fold(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn mirror_root(location: &str, ups: usize) -> Option<Root> {
    let relative = if ups == 0 {
        "./".to_string()
    } else {
        "../".repeat(ups)
    };
    match index_file(location)? {
        IndexFile::Url(url) => url.join(&relative).ok().map(Root::Url),
        IndexFile::Path(path) => {
            let absolute = std::path::absolute(&path).ok()?;
            let mut folder = absolute.parent()?.to_path_buf();
            for _ in 0..ups {
                folder = folder.parent()?.to_path_buf();
            }
            Some(Root::Path(fold(&folder)))
        }
    }
}

/// Rewrites the `src` of an entry read from a plonk mirror (one with [`MIRROR_KEY`]) so its
/// packages come from the mirror: requirement lines get `--index-url <root>/simple/` in front
/// (replacing any index option of their own), a relative single-file path becomes a path or
/// URL inside the mirror. Entries without the key, or with a key that does not describe a
/// mirror root, are left as they are. Returns whether the entry was rewritten.
pub fn route_mirror_entry(entry: &mut PluginEntry) -> bool {
    let Some(Value::String(value)) = entry.extra.get(MIRROR_KEY) else {
        return false;
    };
    let Some(ups) = relative_root(value) else {
        return false;
    };
    let Some(root) = mirror_root(&entry.index, ups) else {
        return false;
    };
    match Source::parse(&entry.src) {
        Ok(Source::SingleFile(file)) => {
            let FileLocation::Path(path) = &file.location else {
                return false;
            };
            let inside =
                !path.is_absolute() && path.components().all(|c| matches!(c, Component::Normal(_)));
            let Some(joined) = inside.then(|| root.join(&path.to_string_lossy())).flatten() else {
                return false;
            };
            entry.src = joined;
            true
        }
        Ok(Source::Requirements { .. }) => {
            let Some(simple) = root.simple_index() else {
                return false;
            };
            let lines: Vec<&str> = entry
                .src
                .lines()
                .map(str::trim)
                .filter(|line| {
                    !line.is_empty()
                        && ![
                            "--index-url",
                            "-i",
                            "--extra-index-url",
                            "--find-links",
                            "-f",
                            "--no-index",
                        ]
                        .iter()
                        .any(|option| line.starts_with(option))
                })
                .collect();
            entry.src = format!("--index-url {simple}\n{}", lines.join("\n"));
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(src: &str, index: &str, key: Option<&str>) -> PluginEntry {
        let mut extra = std::collections::BTreeMap::new();
        if let Some(key) = key {
            extra.insert(MIRROR_KEY.to_string(), Value::String(key.to_string()));
        }
        PluginEntry {
            name: "mfe".into(),
            src: src.into(),
            url: None,
            author: None,
            maintainer: None,
            description: None,
            index: index.into(),
            extra,
        }
    }

    #[test]
    fn routes_requirements_to_the_simple_index() {
        let rows = [
            (
                "tutor-mfe>=22,<23",
                "http://m.local:8080/main/verawood/plugins.yml",
                "../../",
                "--index-url http://m.local:8080/simple/\ntutor-mfe>=22,<23",
            ),
            (
                "tutor-mfe",
                "https://u:pw@m.local/mirror/verawood/plugins.yml",
                "../",
                "--index-url https://u:pw@m.local/mirror/simple/\ntutor-mfe",
            ),
            (
                "--index-url https://elsewhere/simple\ntutor-mfe\n",
                "/srv/mirror/verawood/plugins.yml",
                "../",
                "--index-url file:///srv/mirror/simple/\ntutor-mfe",
            ),
            (
                "tutor-mfe",
                "file:///srv/m/main/verawood/plugins.yml",
                "../../",
                "--index-url file:///srv/m/simple/\ntutor-mfe",
            ),
        ];
        for (src, index, key, expected) in rows {
            let mut e = entry(src, index, Some(key));
            assert!(route_mirror_entry(&mut e), "{src} {index}");
            assert_eq!(e.src, expected, "{src} {index}");
            // The rewritten src is one plonk (and pip) can read.
            assert!(Source::parse(&e.src).is_ok(), "{}", e.src);
        }
    }

    #[test]
    fn single_files_and_refusals() {
        let mut e = entry(
            "files/theme.yml",
            "http://m.local/main/verawood/plugins.yml",
            Some("../../"),
        );
        assert!(route_mirror_entry(&mut e));
        assert_eq!(e.src, "http://m.local/files/theme.yml");

        // No key, or a key that is not a relative root: untouched.
        let untouched = [
            entry("tutor-mfe", "http://m/v/plugins.yml", None),
            entry("tutor-mfe", "http://m/v/plugins.yml", Some("/etc/")),
            entry("tutor-mfe", "http://m/v/plugins.yml", Some("../x/")),
            entry(
                "tutor-mfe",
                "http://m/v/plugins.yml",
                Some("../../../../../"),
            ),
            entry("tutor-mfe", "http://m/v/plugins.yml", Some("")),
            entry(
                "files/../../etc/x.yml",
                "http://m/a/v/plugins.yml",
                Some("../../"),
            ),
            entry("/etc/passwd.yml", "/srv/m/a/v/plugins.yml", Some("../../")),
            entry("https://h/p.py", "/srv/m/a/v/plugins.yml", Some("../../")),
        ];
        for mut e in untouched {
            let before = e.src.clone();
            assert!(!route_mirror_entry(&mut e), "{before}");
            assert_eq!(e.src, before);
        }
        assert_eq!(relative_root(".."), Some(1));
        assert_eq!(relative_root("./"), Some(0));
    }
}
