//! The mirror marker, `plonk-mirror.json`: what the mirror holds (releases, plugin indexes,
//! targets), which wheel each built source became, and the checksum of every wheel, so a
//! re-run fetches and builds only what changed. Unknown keys are kept.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MARKER_FILE, MirrorError};

/// The mirror format this plonk writes.
pub const MIRROR_FORMAT: u32 = 1;

/// A plugin index copied into the mirror.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirroredIndex {
    /// Its folder in the mirror (`main`, `contrib`, a slug of the URL).
    pub name: String,
    /// Where it was copied from (URL or path, credentials removed).
    pub source: String,
    /// Plugins mirrored, by release.
    #[serde(default)]
    pub plugins: BTreeMap<String, Vec<String>>,
}

/// A wheel of the mirror: its checksum and size (the size tells a changed file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// sha256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The content of `plonk-mirror.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Format number ([`MIRROR_FORMAT`]); its presence is what makes a folder a mirror.
    pub plonk_mirror: u32,
    /// The plonk that wrote it.
    #[serde(default)]
    pub generator: String,
    /// The simple index, relative to the mirror root.
    #[serde(default)]
    pub simple: String,
    /// The wheels folder, relative to the mirror root.
    #[serde(default)]
    pub wheels: String,
    /// Releases whose plugin index files the mirror holds.
    #[serde(default)]
    pub releases: Vec<String>,
    /// The plugin indexes copied.
    #[serde(default)]
    pub indexes: Vec<MirroredIndex>,
    /// The targets wheels were chosen for, as labels.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Built sources: sdist sha256 (or `git:<commit>`) → the wheel file built from it.
    #[serde(default)]
    pub built: BTreeMap<String, String>,
    /// Every wheel: file name → checksum and size.
    #[serde(default)]
    pub wheel_files: BTreeMap<String, FileRecord>,
    /// Keys written by other versions, kept as read.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Default for Marker {
    fn default() -> Self {
        Marker {
            plonk_mirror: MIRROR_FORMAT,
            generator: format!("plonk {}", env!("CARGO_PKG_VERSION")),
            simple: format!("{}/", super::SIMPLE_DIR),
            wheels: format!("{}/", super::WHEELS_DIR),
            releases: Vec::new(),
            indexes: Vec::new(),
            targets: Vec::new(),
            built: BTreeMap::new(),
            wheel_files: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

impl Marker {
    /// Reads the marker of the mirror at `dir`: `None` when `dir` is missing or empty (a new
    /// mirror); an error when `dir` holds other things, or a marker plonk cannot use.
    pub fn load(dir: &Path) -> Result<Option<Marker>, MirrorError> {
        let path = dir.join(MARKER_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let marker: Marker =
                    serde_json::from_slice(&bytes).map_err(|source| MirrorError::BadMarker {
                        path: path.clone(),
                        source,
                    })?;
                if marker.plonk_mirror > MIRROR_FORMAT {
                    return Err(MirrorError::NewerFormat {
                        path,
                        found: marker.plonk_mirror,
                        supported: MIRROR_FORMAT,
                    });
                }
                Ok(Some(marker))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::read_dir(dir) {
                    Ok(mut entries) => {
                        if entries.next().is_some() {
                            return Err(MirrorError::NotAMirror {
                                path: dir.to_path_buf(),
                                marker: MARKER_FILE,
                            });
                        }
                        Ok(None)
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(MirrorError::Read {
                        path: dir.to_path_buf(),
                        source,
                    }),
                }
            }
            Err(source) => Err(MirrorError::Read { path, source }),
        }
    }

    /// Writes the marker into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), MirrorError> {
        let mut marker = self.clone();
        marker.plonk_mirror = MIRROR_FORMAT;
        marker.generator = format!("plonk {}", env!("CARGO_PKG_VERSION"));
        let mut json = serde_json::to_vec_pretty(&marker).map_err(|err| MirrorError::Write {
            path: dir.join(MARKER_FILE),
            source: std::io::Error::other(err),
        })?;
        json.push(b'\n');
        super::simple::write_file(&dir.join(MARKER_FILE), &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_save_and_refusals() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mirror");
        assert_eq!(Marker::load(&dir).unwrap(), None);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Marker::load(&dir).unwrap(), None);

        let mut marker = Marker::default();
        marker
            .built
            .insert("abc".into(), "x-1-py3-none-any.whl".into());
        marker
            .extra
            .insert("future_key".into(), Value::String("kept".into()));
        marker.save(&dir).unwrap();
        let read = Marker::load(&dir).unwrap().unwrap();
        assert_eq!(read, marker);

        std::fs::write(dir.join(MARKER_FILE), "{\"plonk_mirror\": 99}").unwrap();
        let err = Marker::load(&dir).unwrap_err();
        assert!(err.to_string().contains("newer plonk"), "{err}");
        for garbage in ["", "{", "[]", "{\"plonk_mirror\": \"x\"}", "{\"other\": 1}"] {
            std::fs::write(dir.join(MARKER_FILE), garbage).unwrap();
            let err = Marker::load(&dir).unwrap_err();
            assert!(err.to_string().contains("not valid"), "{garbage}: {err}");
        }

        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "x").unwrap();
        let err = Marker::load(&other).unwrap_err();
        assert!(err.to_string().contains("not a plonk mirror"), "{err}");
    }
}
