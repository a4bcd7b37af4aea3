//! The global cache: its root, the versioned buckets inside it, and the stage-then-rename
//! helpers every writer uses so that a reader never sees a half-written entry.
//!
//! Layout: `<root>/<bucket>-v<N>/...`. A bucket's version is bumped when the format of what it
//! stores changes, so an old plonk and a new one can share one cache without misreading each
//! other; stale buckets are simply never read again (and `plonk cache clean` removes them).

mod error;

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use error::CacheError;

/// Interpreter query answers, keyed by executable path, mtime and size.
pub const INTERPRETER_BUCKET: &str = "interpreter-v1";
/// Downloaded wheels, keyed by index URL and file name.
pub const WHEELS_BUCKET: &str = "wheels-v1";
/// Wheels built from sdists, git checkouts and single-file plugins, keyed by source hash.
pub const BUILT_BUCKET: &str = "built-v1";
/// HTTP responses (index pages, JSON API answers), and inside it, in `pages-v1/`, the
/// registry's digests of the project pages it parsed (removed with the bucket).
pub const HTTP_BUCKET: &str = "http-v1";
/// Git repositories and checkouts.
pub const GIT_BUCKET: &str = "git-v1";
/// Core metadata of index files, keyed by the file's sha256 (or its URL when the index gave
/// no hash), so a warm resolution needs no range request and no sdist unpacking.
pub const METADATA_BUCKET: &str = "metadata-v1";
/// Verified unpacked wheels, keyed by the wheel's sha256, that installs hard-link from.
pub const UNPACKED_BUCKET: &str = "unpacked-v1";

/// The global cache folder. Cheap to clone; holds no open files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// The cache root (`--cache-dir`, `$PLONK_CACHE_DIR`, else `$XDG_CACHE_HOME/plonk`).
    pub root: PathBuf,
}

impl Cache {
    /// A cache rooted at `root`; nothing is created until something is written.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of a bucket (e.g. [`WHEELS_BUCKET`]); not created (see [`Cache::ensure_bucket`]).
    pub fn bucket(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The path of a bucket, created with its parents if missing.
    pub fn ensure_bucket(&self, name: &str) -> Result<PathBuf, CacheError> {
        let path = self.bucket(name);
        std::fs::create_dir_all(&path)
            .map_err(|err| CacheError::io("create the folder", &path, err))?;
        Ok(path)
    }

    /// A fresh temporary folder inside `bucket` (created on demand), removed on drop unless
    /// persisted or renamed away. Staging inside the bucket keeps the final rename on one
    /// filesystem, hence atomic.
    pub fn tempdir_in(&self, bucket: &str) -> Result<tempfile::TempDir, CacheError> {
        let dir = self.ensure_bucket(bucket)?;
        tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&dir)
            .map_err(|err| CacheError::io("create a temporary folder in", &dir, err))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (created with its
/// parents if missing) is written, flushed and renamed over `path`, so concurrent readers see
/// either the old content or the new one, never a torn file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|err| CacheError::io("create the folder", dir, err))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|err| CacheError::io("create a temporary file in", dir, err))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|err| CacheError::io("write", temp.path().to_path_buf(), err))?;
    temp.persist(path)
        .map_err(|err| CacheError::io("write", path, err.error))?;
    Ok(())
}

/// A stable cache key: the lower-case hex SHA-256 of `parts`, each length-prefixed so that
/// `["ab", "c"]` and `["a", "bc"]` differ.
pub fn cache_key(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest.iter() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_is_under_root_and_created_on_demand() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("c"));
        let bucket = cache.bucket(INTERPRETER_BUCKET);
        assert_eq!(bucket, tmp.path().join("c").join("interpreter-v1"));
        assert!(!bucket.exists());
        assert_eq!(cache.ensure_bucket(INTERPRETER_BUCKET).unwrap(), bucket);
        assert!(bucket.is_dir());
    }

    #[test]
    fn write_atomic_creates_parents_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/file.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("file.json")]);
    }

    #[test]
    fn write_atomic_into_a_file_fails_with_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = write_atomic(&file.join("inner"), b"y").unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }

    #[test]
    fn tempdir_in_bucket() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let dir = cache.tempdir_in(BUILT_BUCKET).unwrap();
        assert!(dir.path().starts_with(tmp.path().join("built-v1")));
    }

    #[test]
    fn cache_key_is_stable_and_unambiguous() {
        let a = cache_key(&[b"ab", b"c"]);
        assert_eq!(a.len(), 64);
        assert_eq!(a, cache_key(&[b"ab", b"c"]));
        assert_ne!(a, cache_key(&[b"a", b"bc"]));
    }
}
