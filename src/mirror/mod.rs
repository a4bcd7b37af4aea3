//! Offline mirrors: the folder `plonk mirror` writes and any static web server (or a plain
//! copy) serves to an air-gapped host.
//!
//! Layout of a mirror `DIR`:
//! - `wheels/<file>.whl` and `wheels/<file>.whl.metadata` (PEP 658), `wheels/index.html`
//!   (a `--find-links` page);
//! - `simple/index.html`, `simple/<project>/index.html`: a PEP 503 index whose links carry
//!   the sha256 of each wheel and of its metadata;
//! - `<index>/<release>/plugins.yml`: each mirrored plugin index, and `<release>/plugins.yml`:
//!   all of them merged, so the mirror root is itself a plugin index. Every entry carries the
//!   key [`crate::index::MIRROR_KEY`] (the mirror root relative to the file's folder), which
//!   `plonk update` turns into an `--index-url` of the mirror's `simple/` in the entry's `src`;
//! - `plonk-mirror.json` (the marker, see [`Marker`]) and `SHA256SUMS` (every file but itself,
//!   in `sha256sum -c` format).
//!
//! This module only lays files out; `ops::mirror` decides what goes in.

mod error;
mod marker;
mod simple;
mod target;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use error::MirrorError;
pub use marker::{FileRecord, MIRROR_FORMAT, Marker, MirroredIndex};
pub use simple::{
    WheelEntry, describe_wheel, html_escape, render_pages, wheel_metadata_bytes, write_file,
};
pub use target::{MirrorTarget, PlatformSpec, PythonVersion, target_for};

use crate::index::{MIRROR_KEY, PluginEntry};

/// The marker file at the mirror root.
pub const MARKER_FILE: &str = "plonk-mirror.json";
/// The checksum list at the mirror root.
pub const CHECKSUMS_FILE: &str = "SHA256SUMS";
/// The simple index folder.
pub const SIMPLE_DIR: &str = "simple";
/// The wheels folder.
pub const WHEELS_DIR: &str = "wheels";

/// Folder names an index slug must not take.
const RESERVED: &[&str] = &[SIMPLE_DIR, WHEELS_DIR, "files"];

/// The folder name of a plugin index inside the mirror: `main` and `contrib` for the official
/// ones, else the last meaningful part of the URL or path, reduced to `[a-z0-9._-]`, never a
/// release name or a reserved folder, and unique among `taken`.
pub fn index_slug(base: &str, releases: &[&str], taken: &[String]) -> String {
    let expanded = crate::index::expand_alias(base);
    let slug = if expanded == crate::index::MAIN_INDEX {
        "main".to_string()
    } else if expanded == crate::index::CONTRIB_INDEX {
        "contrib".to_string()
    } else {
        let without_scheme = expanded
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(expanded);
        // Credentials never become part of a folder name.
        let without_user = match without_scheme.split_once('/') {
            Some((host, path)) => {
                let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
                format!("{host}/{path}")
            }
            None => without_scheme
                .rsplit_once('@')
                .map(|(_, h)| h.to_string())
                .unwrap_or_else(|| without_scheme.to_string()),
        };
        let last = without_user
            .split(['/', '\\'])
            .rfind(|part| !part.is_empty() && *part != "." && *part != "..")
            .unwrap_or("index");
        let cleaned: String = last
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let cleaned = cleaned.trim_matches(['.', '-']).to_string();
        if cleaned.is_empty() {
            "index".to_string()
        } else {
            cleaned
        }
    };
    let clashes =
        |s: &str| releases.contains(&s) || RESERVED.contains(&s) || taken.iter().any(|t| t == s);
    if !clashes(&slug) {
        return slug;
    }
    (2..)
        .map(|n| format!("{slug}-{n}"))
        .find(|s| !clashes(s))
        .unwrap_or(slug)
}

/// The text of a mirror's plugin index file: the entries (their `src` already rewritten for
/// the mirror), each carrying [`MIRROR_KEY`] = `root` (the mirror root relative to the
/// file's folder), without the `index` key Tutor adds when reading.
pub fn render_index(entries: &[PluginEntry], root: &str) -> String {
    if entries.is_empty() {
        return "[]\n".to_string();
    }
    let maps: Vec<serde_json::Map<String, Value>> = entries
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            entry
                .extra
                .insert(MIRROR_KEY.to_string(), Value::String(root.to_string()));
            let mut map = entry.to_map();
            map.remove("index");
            map
        })
        .collect();
    format!(
        "# Plugin index of a plonk mirror: add the mirror root with `plonk index add`.\n{}",
        crate::tutor::yaml::block_list_of_maps(&maps)
    )
}

/// Writes `SHA256SUMS`: every file of the mirror but the list itself, sorted, in the format
/// of `sha256sum`. Wheels whose size matches `known` reuse its checksum.
pub fn write_checksums(
    dir: &Path,
    known: &BTreeMap<String, FileRecord>,
) -> Result<(), MirrorError> {
    let mut lines = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|err| MirrorError::Read {
            path: err
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.to_path_buf()),
            source: std::io::Error::other(err.to_string()),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let Ok(relative) = path.strip_prefix(dir) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        let name = entry.file_name().to_string_lossy();
        if relative == CHECKSUMS_FILE || name.starts_with('.') {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let reused = relative
            .strip_prefix(&format!("{WHEELS_DIR}/"))
            .and_then(|file| known.get(file))
            .filter(|record| record.size == size)
            .map(|record| record.sha256.clone());
        let sha256 = match reused {
            Some(sha) => sha,
            None => file_sha256(path)?,
        };
        lines.push(format!("{sha256}  {relative}\n"));
    }
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    write_file(&dir.join(CHECKSUMS_FILE), lines.concat().as_bytes())
}

/// sha256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String, MirrorError> {
    use sha2::Digest;
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|source| MirrorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(|source| MirrorError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The plugin index files of a mirror, as relative paths: `<index>/<release>/plugins.yml`
/// and `<release>/plugins.yml`.
pub fn index_file_paths(index: Option<&str>, release: &str) -> PathBuf {
    match index {
        Some(index) => Path::new(index).join(release).join("plugins.yml"),
        None => Path::new(release).join("plugins.yml"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let releases = ["verawood", "ulmo"];
        let rows = [
            ("main", "main"),
            ("https://overhang.io/tutor/contrib", "contrib"),
            (
                "https://user:secret@idx.example.com/tutor/private/",
                "private",
            ),
            ("https://idx.example.com", "idx.example.com"),
            ("https://u:p@idx.example.com", "idx.example.com"),
            ("/srv/plugin index/", "plugin-index"),
            ("/srv/verawood", "verawood-2"),
            ("/srv/simple", "simple-2"),
            ("../..", "index"),
            ("/", "index"),
            ("C:\\indexes\\Acme", "acme"),
        ];
        for (base, expected) in rows {
            assert_eq!(index_slug(base, &releases, &[]), expected, "{base}");
        }
        let taken = vec!["private".to_string(), "private-2".to_string()];
        assert_eq!(
            index_slug("https://other.example/private", &releases, &taken),
            "private-3"
        );
    }

    #[test]
    fn index_text_round_trips_with_the_key() {
        let entry = PluginEntry {
            name: "mfe".into(),
            src: "tutor-mfe>=22,<23".into(),
            url: None,
            author: None,
            maintainer: None,
            description: Some("Micro frontends\nsecond line".into()),
            index: "https://overhang.io/tutor/main/verawood/plugins.yml".into(),
            extra: Default::default(),
        };
        let text = render_index(std::slice::from_ref(&entry), "../../");
        let parsed = crate::index::parse_index(&text, "/m/main/verawood/plugins.yml").unwrap();
        assert_eq!(parsed.entries.len(), 1);
        let read = &parsed.entries[0];
        assert_eq!(read.src, entry.src);
        assert_eq!(read.description, entry.description);
        assert_eq!(
            read.extra.get(MIRROR_KEY),
            Some(&Value::String("../../".into()))
        );
        assert!(!text.contains("overhang.io"), "{text}");
        assert_eq!(render_index(&[], "../"), "[]\n");
    }

    #[test]
    fn checksum_list() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("wheels")).unwrap();
        std::fs::write(tmp.path().join("wheels/a.whl"), "aaa").unwrap();
        std::fs::write(tmp.path().join("wheels/.part"), "tmp").unwrap();
        std::fs::write(tmp.path().join("plonk-mirror.json"), "{}").unwrap();
        let mut known = BTreeMap::new();
        known.insert(
            "a.whl".to_string(),
            FileRecord {
                sha256: "f".repeat(64),
                size: 3,
            },
        );
        write_checksums(tmp.path(), &known).unwrap();
        let text = std::fs::read_to_string(tmp.path().join(CHECKSUMS_FILE)).unwrap();
        assert_eq!(
            text,
            format!(
                "{}  plonk-mirror.json\n{}  wheels/a.whl\n",
                crate::dist::sha256_hex(b"{}"),
                "f".repeat(64)
            )
        );
        // A size change means the known checksum is stale.
        known.get_mut("a.whl").unwrap().size = 4;
        write_checksums(tmp.path(), &known).unwrap();
        let text = std::fs::read_to_string(tmp.path().join(CHECKSUMS_FILE)).unwrap();
        assert!(text.contains(&crate::dist::sha256_hex(b"aaa")), "{text}");
    }
}
