//! File-tree snapshots of a venv (or any folder) and a readable diff, for the "install then
//! remove leaves the tree identical" checks. plonk's own record (`.plonk/` at the root) is left
//! out, as the spec allows.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::packages::sha256_hex;

/// What one path of the tree is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snapshot {
    /// A folder (listed even when empty, so a left-over empty folder shows).
    Dir,
    /// A regular file: sha256 of its contents and whether the owner exec bit is set.
    File { sha256: String, executable: bool },
    /// A symbolic link and its target, not followed.
    Symlink(String),
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Snapshot::Dir => write!(f, "dir"),
            Snapshot::File { sha256, executable } => {
                let exec = if *executable { " +x" } else { "" };
                write!(f, "file {}{exec}", &sha256[..12])
            }
            Snapshot::Symlink(target) => write!(f, "symlink -> {target}"),
        }
    }
}

/// Top-level entries of a snapshot root that are never compared: plonk's own record.
pub const IGNORED: &[&str] = &[".plonk"];

/// Every path under `root` (relative, `/`-separated) except [`IGNORED`] ones.
pub fn snapshot(root: &Path) -> BTreeMap<String, Snapshot> {
    snapshot_ignoring(root, IGNORED)
}

/// Like [`snapshot`], skipping the given relative paths (and everything under them), e.g.
/// `["lib/python3.11/site-packages/__pycache__"]` when a test ran Python inside the venv.
pub fn snapshot_ignoring(root: &Path, ignored: &[&str]) -> BTreeMap<String, Snapshot> {
    let mut out = BTreeMap::new();
    walk(root, "", ignored, &mut out);
    out
}

fn walk(dir: &Path, prefix: &str, ignored: &[&str], out: &mut BTreeMap<String, Snapshot>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if ignored.iter().any(|i| *i == rel) {
            continue;
        }
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs::read_link(&path).unwrap();
            out.insert(rel, Snapshot::Symlink(target.to_string_lossy().to_string()));
        } else if kind.is_dir() {
            out.insert(rel.clone(), Snapshot::Dir);
            walk(&path, &rel, ignored, out);
        } else {
            let data = fs::read(&path).unwrap();
            out.insert(
                rel,
                Snapshot::File {
                    sha256: sha256_hex(&data),
                    executable: meta.permissions().mode() & 0o100 != 0,
                },
            );
        }
    }
}

/// The differences between two snapshots, one line each: `+ path (kind)` added,
/// `- path (kind)` removed, `~ path: before -> after` changed.
pub fn diff(
    before: &BTreeMap<String, Snapshot>,
    after: &BTreeMap<String, Snapshot>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, old) in before {
        match after.get(path) {
            None => lines.push(format!("- {path} ({old})")),
            Some(new) if new != old => lines.push(format!("~ {path}: {old} -> {new}")),
            Some(_) => {}
        }
    }
    for (path, new) in after {
        if !before.contains_key(path) {
            lines.push(format!("+ {path} ({new})"));
        }
    }
    lines.sort_by(|a, b| a[2..].cmp(&b[2..]));
    lines
}

/// Panics with the list of differences when the two snapshots differ.
#[track_caller]
pub fn assert_same_tree(before: &BTreeMap<String, Snapshot>, after: &BTreeMap<String, Snapshot>) {
    let lines = diff(before, after);
    if !lines.is_empty() {
        const MAX: usize = 60;
        let mut text = lines
            .iter()
            .take(MAX)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        if lines.len() > MAX {
            text.push_str(&format!("\n... and {} more", lines.len() - MAX));
        }
        panic!(
            "file trees differ ({} change(s); + added, - removed, ~ changed):\n{text}",
            lines.len()
        );
    }
}
