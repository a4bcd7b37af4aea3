//! Test helpers: wheels built at test time (with knobs to make them hostile), byte patches
//! for archives the zip writer refuses to produce, and file-tree snapshots.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::dist::record_hash;

/// Builds a wheel: `.dist-info/{METADATA,WHEEL,RECORD}` are added unless overridden.
pub(crate) struct WheelBuilder {
    pub name: String,
    pub version: String,
    pub tag: String,
    pub purelib: bool,
    pub files: Vec<(String, Vec<u8>, u32)>,
    pub symlinks: Vec<(String, String)>,
    /// Left out of RECORD.
    pub unrecorded: HashSet<String>,
    /// RECORD rows written verbatim instead of computed, by path.
    pub record_rows: BTreeMap<String, String>,
    /// The `.dist-info` folder name, when not the right one.
    pub dist_info_name: Option<String>,
    pub metadata_name: Option<String>,
}

impl WheelBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        WheelBuilder {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".to_string(),
            purelib: true,
            files: Vec::new(),
            symlinks: Vec::new(),
            unrecorded: HashSet::new(),
            record_rows: BTreeMap::new(),
            dist_info_name: None,
            metadata_name: None,
        }
    }

    pub fn dist_info(&self) -> String {
        self.dist_info_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}.dist-info", self.name, self.version))
    }

    pub fn data(&self) -> String {
        format!("{}-{}.data", self.name, self.version)
    }

    pub fn file(mut self, name: &str, content: &[u8]) -> Self {
        self.files.push((name.to_string(), content.to_vec(), 0o644));
        self
    }

    pub fn exec_file(mut self, name: &str, content: &[u8]) -> Self {
        self.files.push((name.to_string(), content.to_vec(), 0o755));
        self
    }

    pub fn data_file(self, key: &str, path: &str, content: &[u8]) -> Self {
        let name = format!("{}/{key}/{path}", self.data());
        self.file(&name, content)
    }

    pub fn entry_points(self, text: &str) -> Self {
        let name = format!("{}/entry_points.txt", self.dist_info());
        self.file(&name, text.as_bytes())
    }

    pub fn filename(&self) -> String {
        format!("{}-{}-{}.whl", self.name, self.version, self.tag)
    }

    /// The archive bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let di = self.dist_info();
        let mut files = self.files.clone();
        let meta_name = self
            .metadata_name
            .clone()
            .unwrap_or_else(|| self.name.clone());
        files.push((
            format!("{di}/METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {meta_name}\nVersion: {}\nSummary: test\n",
                self.version
            )
            .into_bytes(),
            0o644,
        ));
        files.push((
            format!("{di}/WHEEL"),
            format!(
                "Wheel-Version: 1.0\nGenerator: plonk-test\nRoot-Is-Purelib: {}\nTag: {}\n",
                self.purelib, self.tag
            )
            .into_bytes(),
            0o644,
        ));
        let mut record = String::new();
        for (name, content, _) in &files {
            if self.unrecorded.contains(name) {
                continue;
            }
            match self.record_rows.get(name) {
                Some(row) => record.push_str(row),
                None => record.push_str(&format!(
                    "{name},{},{}",
                    record_hash(content),
                    content.len()
                )),
            }
            record.push('\n');
        }
        record.push_str(&format!("{di}/RECORD,,\n"));
        files.push((format!("{di}/RECORD"), record.into_bytes(), 0o644));

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content, mode) in &files {
            let opts = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .unix_permissions(*mode);
            zip.start_file(name.as_str(), opts).unwrap();
            zip.write_all(content).unwrap();
        }
        for (name, target) in &self.symlinks {
            zip.add_symlink(name.as_str(), target.as_str(), SimpleFileOptions::default())
                .unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Write the wheel into `dir` and return its path.
    pub fn build(&self, dir: &Path) -> PathBuf {
        let path = dir.join(self.filename());
        std::fs::write(&path, self.bytes()).unwrap();
        path
    }
}

/// Replace every occurrence of `from` by `to` (same length) in `bytes`, e.g. to rename an
/// entry in both its local and central headers.
pub(crate) fn patch_bytes(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut count = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            count += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    count
}

/// Set the declared uncompressed size of entry `name` in its local and central headers.
pub(crate) fn patch_declared_size(bytes: &mut [u8], name: &str, size: u32) {
    let name = name.as_bytes();
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(46) {
        let sig = &bytes[i..i + 4];
        let (size_at, name_len_at, name_at) = if sig == [0x50, 0x4b, 0x03, 0x04] {
            (22, 26, 30)
        } else if sig == [0x50, 0x4b, 0x01, 0x02] {
            (24, 28, 46)
        } else {
            continue;
        };
        let len = u16::from_le_bytes([bytes[i + name_len_at], bytes[i + name_len_at + 1]]) as usize;
        if len == name.len() && bytes.get(i + name_at..i + name_at + len) == Some(name) {
            bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "entry not found in both headers");
}

/// A file tree: relative path → (`d` dir | `f` + content | `l` + link target, executable).
pub(crate) type Tree = BTreeMap<String, (char, Vec<u8>, bool)>;

/// Snapshot every file, folder and link under `root` (contents included).
pub(crate) fn snapshot(root: &Path) -> Tree {
    use std::os::unix::fs::PermissionsExt;
    let mut tree = Tree::new();
    for entry in walkdir::WalkDir::new(root).min_depth(1).follow_links(false) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = entry.path().symlink_metadata().unwrap();
        let value = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            ('l', target.to_string_lossy().as_bytes().to_vec(), false)
        } else if meta.is_dir() {
            ('d', Vec::new(), false)
        } else {
            let exec = meta.permissions().mode() & 0o111 != 0;
            ('f', std::fs::read(entry.path()).unwrap(), exec)
        };
        tree.insert(rel, value);
    }
    tree
}

/// Paths present in one tree only, or with different content, for assertion messages.
pub(crate) fn diff(a: &Tree, b: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => out.push(format!("- {k}")),
            Some(w) if w != v => out.push(format!("~ {k}")),
            _ => {}
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            out.push(format!("+ {k}"));
        }
    }
    out
}
