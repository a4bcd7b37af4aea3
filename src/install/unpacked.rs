//! Unpacked wheels: a wheel read and verified once, its files written flat into a folder
//! (`f0`, `f1`, …) with a manifest saying where each goes. The global cache keeps them in
//! `<cache>/unpacked-v1/<wheel sha256>/{manifest.json,files/}` so that installs hard-link
//! files from there instead of unzipping and hashing again.
//!
//! A cache entry is built in a temporary folder of the bucket and renamed into place whole:
//! readers never see half an entry, and when two processes fill the same entry, one rename
//! wins and the other process uses the winner's (identical) entry. An entry whose manifest is
//! unreadable or describes another wheel is replaced. Linked files are shared with every
//! environment they were installed into, so nothing here or in the installer ever writes to
//! them once they are in place: files that differ per environment are written fresh.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::InstallError;
use super::wheel::{MAX_UNPACKED_SIZE, unpack_archive, wheel_filename};
use crate::dist::{PackageName, Version, WheelFilename};

const MANIFEST_FILE: &str = "manifest.json";
const FILES_DIR: &str = "files";

/// What an unpacked folder holds and how it installs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// [`Manifest::FORMAT`]; any other value is an entry of another plonk, rebuilt.
    pub(crate) format: u32,
    /// The wheel's file name, checked against the wheel asked for.
    pub(crate) wheel: String,
    /// `Root-Is-Purelib` of the WHEEL file.
    pub(crate) root_is_purelib: bool,
    /// The `.dist-info` folder name as in the archive.
    pub(crate) dist_info: String,
    /// The `.data` folder name, if any.
    pub(crate) data: Option<String>,
    /// The distribution name as spelled in the `.dist-info` name (headers folder).
    pub(crate) dist_name: String,
    /// Every file of the archive but the installer-written ones, in archive order.
    pub(crate) files: Vec<ManifestFile>,
    /// `console_scripts` and `gui_scripts` entry points.
    pub(crate) launchers: Vec<ManifestEntryPoint>,
}

impl Manifest {
    /// The manifest format this plonk writes.
    pub(crate) const FORMAT: u32 = 1;
}

/// One file of an unpacked wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManifestFile {
    /// Archive name (validated), e.g. `pkg/__init__.py` or `pkg-1.0.data/scripts/x`.
    pub(crate) name: String,
    /// The file's name in the flat folder (`f<n>`).
    pub(crate) stored: String,
    /// RECORD hash of the content (`sha256=<urlsafe b64>`), verified when unpacked.
    pub(crate) hash: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Whether it has execute bits (already set on the stored file).
    pub(crate) executable: bool,
    /// A script starting with `#!python`: rewritten per environment, never linked.
    pub(crate) python_shebang: bool,
}

/// A console or GUI script entry point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManifestEntryPoint {
    /// `console_scripts` or `gui_scripts`.
    pub(crate) group: String,
    /// Script name.
    pub(crate) name: String,
    /// Object reference.
    pub(crate) value: String,
}

/// A wheel whose files were verified against its RECORD and written out, ready to be
/// installed by [`super::install_unpacked`] (hard links) any number of times.
#[derive(Debug, Clone)]
pub struct UnpackedWheel {
    /// The wheel it came from (named in error messages).
    pub(crate) wheel: PathBuf,
    /// Its parsed file name.
    pub(crate) filename: WheelFilename,
    /// The flat folder of its files.
    pub(crate) files: PathBuf,
    /// What the files are.
    pub(crate) manifest: Arc<Manifest>,
}

impl UnpackedWheel {
    /// Distribution name.
    pub fn name(&self) -> &PackageName {
        &self.filename.name
    }

    /// Version.
    pub fn version(&self) -> &Version {
        &self.filename.version
    }

    /// The folder of unpacked files (what installs link from).
    pub fn files_dir(&self) -> &Path {
        &self.files
    }

    /// The stored copy of `file`; its name comes from the manifest and must be `f<digits>`.
    pub(crate) fn stored_path(&self, file: &ManifestFile) -> Result<PathBuf, InstallError> {
        let valid = file
            .stored
            .strip_prefix('f')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return Err(InstallError::UnsafeEntry {
                wheel: self.wheel.clone(),
                entry: file.name.clone(),
                reason: "the unpacked copy in the cache has an invalid file name",
            });
        }
        Ok(self.files.join(&file.stored))
    }
}

/// The unpacked form of `wheel` in the cache bucket `bucket` under `key` (its sha256): the
/// existing entry when there is a valid one, else unpacked, verified and renamed into place.
/// Errors are those of installing the archive (a wheel that does not verify never enters
/// the cache) or of writing the bucket.
pub fn unpack_cached(
    wheel: &Path,
    bucket: &Path,
    key: &str,
) -> Result<UnpackedWheel, InstallError> {
    let filename = wheel_filename(wheel)?;
    // Keys come from index data: anything but a plain name is hashed into one.
    let key = if !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        key.to_string()
    } else {
        crate::cache::cache_key(&[key.as_bytes()])
    };
    let entry = bucket.join(&key);
    if let Some(found) = open_entry(&entry, wheel, &filename) {
        return Ok(found);
    }
    fs::create_dir_all(bucket).map_err(|e| InstallError::io("create directory", bucket, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(bucket)
        .map_err(|e| InstallError::io("create a temporary folder in", bucket, e))?;
    let files = temp.path().join(FILES_DIR);
    fs::create_dir(&files).map_err(|e| InstallError::io("create directory", &files, e))?;
    let manifest = unpack_archive(wheel, &filename, &files, MAX_UNPACKED_SIZE)?;
    let manifest_path = temp.path().join(MANIFEST_FILE);
    let json = serde_json::to_vec(&manifest).map_err(|e| {
        InstallError::io(
            "write",
            &manifest_path,
            std::io::Error::other(e.to_string()),
        )
    })?;
    fs::write(&manifest_path, json).map_err(|e| InstallError::io("write", &manifest_path, e))?;

    if fs::symlink_metadata(&entry).is_ok() {
        // Another process may have replaced the broken entry meanwhile.
        if let Some(found) = open_entry(&entry, wheel, &filename) {
            return Ok(found);
        }
        // A broken entry (open_entry refused it): move it aside, then delete it.
        let trash = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(bucket)
            .map_err(|e| InstallError::io("create a temporary folder in", bucket, e))?;
        let _ = fs::rename(&entry, trash.path().join("old"));
    }
    match fs::rename(temp.path(), &entry) {
        Ok(()) => {
            // Renamed away: nothing left for the guard to delete.
            let _ = temp.keep();
            Ok(UnpackedWheel {
                wheel: wheel.to_path_buf(),
                filename,
                files: entry.join(FILES_DIR),
                manifest: Arc::new(manifest),
            })
        }
        // Another process renamed its copy first: use it (the temporary one is deleted).
        Err(err) => open_entry(&entry, wheel, &filename)
            .ok_or_else(|| InstallError::io("move into the cache", &entry, err)),
    }
}

/// A complete cache entry for `filename`, or `None` (missing, unreadable, another wheel).
fn open_entry(entry: &Path, wheel: &Path, filename: &WheelFilename) -> Option<UnpackedWheel> {
    let bytes = fs::read(entry.join(MANIFEST_FILE)).ok()?;
    let manifest: Manifest = serde_json::from_slice(&bytes).ok()?;
    if manifest.format != Manifest::FORMAT
        || WheelFilename::from_str(&manifest.wheel).ok().as_ref() != Some(filename)
    {
        return None;
    }
    Some(UnpackedWheel {
        wheel: wheel.to_path_buf(),
        filename: filename.clone(),
        files: entry.join(FILES_DIR),
        manifest: Arc::new(manifest),
    })
}

/// Puts files of the cache into an environment: hard links when possible; after the first
/// "cross-device" refusal every further file is copied without trying (one notice is the
/// caller's, see [`links_possible`]). Other link failures (too many links) copy that file.
pub(crate) struct Linker {
    link: fn(&Path, &Path) -> std::io::Result<()>,
    copy_only: bool,
    /// Files hard-linked.
    pub(crate) linked: usize,
    /// Files copied.
    pub(crate) copied: usize,
}

impl Linker {
    /// A linker using `std::fs::hard_link`.
    pub(crate) fn new() -> Self {
        Self::with_link(|from, to| fs::hard_link(from, to))
    }

    /// A linker with another link function (tests simulate filesystems).
    pub(crate) fn with_link(link: fn(&Path, &Path) -> std::io::Result<()>) -> Self {
        Linker {
            link,
            copy_only: false,
            linked: 0,
            copied: 0,
        }
    }

    /// Link `from` at `to` (which does not exist), or copy it (content and mode; reflinked
    /// by the kernel where the filesystem can).
    pub(crate) fn link_or_copy(&mut self, from: &Path, to: &Path) -> Result<(), InstallError> {
        if !self.copy_only {
            match (self.link)(from, to) {
                Ok(()) => {
                    self.linked += 1;
                    return Ok(());
                }
                Err(err) if err.kind() == ErrorKind::CrossesDevices => self.copy_only = true,
                Err(_) => {}
            }
        }
        fs::copy(from, to).map_err(|e| InstallError::io("copy", to, e))?;
        self.copied += 1;
        Ok(())
    }
}

/// Whether files in `cache_dir` can be hard-linked into `env_dir` (same filesystem, links
/// supported). Probes with a temporary file and a link that are both removed at once.
pub fn links_possible(cache_dir: &Path, env_dir: &Path) -> bool {
    if fs::create_dir_all(cache_dir).is_err() {
        return false;
    }
    let Ok(probe) = tempfile::Builder::new()
        .prefix(".tmp-link-probe-")
        .tempfile_in(cache_dir)
    else {
        return false;
    };
    let Some(name) = probe.path().file_name() else {
        return false;
    };
    let target = env_dir.join(name);
    let linked = fs::hard_link(probe.path(), &target).is_ok();
    if linked {
        let _ = fs::remove_file(&target);
    }
    linked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::testing::{WheelBuilder, diff, snapshot};
    use crate::install::wheel::install_unpacked_with;
    use crate::install::{
        InstallOptions, InstallTarget, install_unpacked_into, install_wheel_into, uninstall_from,
    };
    use std::os::unix::fs::MetadataExt;

    fn layout(tmp: &Path) -> InstallTarget {
        let root = tmp.join("venv");
        let target = InstallTarget::posix_venv(&root, 3, 11);
        fs::create_dir_all(&target.purelib).unwrap();
        fs::create_dir_all(&target.scripts).unwrap();
        fs::write(root.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        target
    }

    fn demo() -> WheelBuilder {
        WheelBuilder::new("demo_pkg", "1.0")
            .file("demo_pkg/__init__.py", b"VALUE = 1\n")
            .file("demo_pkg/cli.py", b"def main():\n    return 0\n")
            .exec_file("demo_pkg/tool.sh", b"#!/bin/sh\necho tool\n")
            .data_file("scripts", "demo-run", b"#!python\nprint('run')\n")
            .data_file("scripts", "demo-sh", b"#!/bin/sh\necho sh\n")
            .data_file("data", "share/demo/x.txt", b"shared data\n")
            .entry_points("[console_scripts]\ndemo = demo_pkg.cli:main\n")
    }

    fn opts() -> InstallOptions {
        InstallOptions {
            requested: true,
            ..InstallOptions::default()
        }
    }

    fn ino(path: &Path) -> (u64, u64) {
        let meta = fs::metadata(path).unwrap();
        (meta.dev(), meta.ino())
    }

    /// The stored copy of the archive entry `name`.
    fn stored(unpacked: &UnpackedWheel, name: &str) -> PathBuf {
        let file = unpacked
            .manifest
            .files
            .iter()
            .find(|f| f.name == name)
            .unwrap();
        unpacked.stored_path(file).unwrap()
    }

    #[test]
    fn linked_install_shares_inodes_and_matches_a_copy_install() {
        let tmp = tempfile::tempdir().unwrap();
        let target = layout(tmp.path());
        let bucket = tmp.path().join("cache/unpacked-v1");
        let wheels = tempfile::tempdir().unwrap();
        let wheel = demo().build(wheels.path());
        let empty = snapshot(&target.root);

        // Reference: the archive installed directly, then removed again.
        let copied = install_wheel_into(&wheel, &target, &opts()).unwrap();
        let reference = snapshot(&target.root);
        uninstall_from(&target, &copied.dist_info, None).unwrap();
        assert_eq!(diff(&empty, &snapshot(&target.root)), Vec::<String>::new());

        let unpacked = unpack_cached(&wheel, &bucket, "abc123").unwrap();
        let cache_before = snapshot(&bucket);
        let mut linker = Linker::new();
        let installed = install_unpacked_with(&unpacked, &target, &opts(), &mut linker).unwrap();
        // The same tree, byte for byte and mode for mode, and the same RECORD.
        assert_eq!(
            diff(&reference, &snapshot(&target.root)),
            Vec::<String>::new()
        );
        assert_eq!(installed.record, copied.record);

        // Package files are the cache's inodes; per-environment files are not.
        let site = &target.purelib;
        assert_eq!(
            ino(&site.join("demo_pkg/__init__.py")),
            ino(&stored(&unpacked, "demo_pkg/__init__.py"))
        );
        assert_eq!(
            ino(&target.scripts.join("demo-sh")),
            ino(&stored(&unpacked, "demo_pkg-1.0.data/scripts/demo-sh"))
        );
        for fresh in [
            target.scripts.join("demo-run"),
            target.scripts.join("demo"),
            site.join("demo_pkg-1.0.dist-info/RECORD"),
            site.join("demo_pkg-1.0.dist-info/INSTALLER"),
            site.join("demo_pkg-1.0.dist-info/REQUESTED"),
        ] {
            assert_eq!(
                fs::metadata(&fresh).unwrap().nlink(),
                1,
                "{}",
                fresh.display()
            );
        }
        assert!(linker.linked >= 5 && linker.copied == 0);

        // Uninstalling only unlinks: the cache is exactly as it was.
        uninstall_from(&target, &installed.dist_info, None).unwrap();
        assert_eq!(diff(&empty, &snapshot(&target.root)), Vec::<String>::new());
        assert_eq!(
            diff(&cache_before, &snapshot(&bucket)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn cross_device_falls_back_to_copies() {
        let tmp = tempfile::tempdir().unwrap();
        let target = layout(tmp.path());
        let wheels = tempfile::tempdir().unwrap();
        let wheel = demo().build(wheels.path());
        let reference = {
            let copied = install_wheel_into(&wheel, &target, &opts()).unwrap();
            let tree = snapshot(&target.root);
            uninstall_from(&target, &copied.dist_info, None).unwrap();
            tree
        };
        let unpacked = unpack_cached(&wheel, &tmp.path().join("bucket"), "k").unwrap();
        let mut linker = Linker::with_link(|_, _| Err(ErrorKind::CrossesDevices.into()));
        install_unpacked_with(&unpacked, &target, &opts(), &mut linker).unwrap();
        assert_eq!(
            diff(&reference, &snapshot(&target.root)),
            Vec::<String>::new()
        );
        assert_eq!(linker.linked, 0);
        assert!(linker.copied >= 5);
        let init = target.purelib.join("demo_pkg/__init__.py");
        assert_ne!(ino(&init), ino(&stored(&unpacked, "demo_pkg/__init__.py")));
        assert_eq!(fs::metadata(&init).unwrap().nlink(), 1);
    }

    #[test]
    fn failed_linked_install_rolls_back_and_keeps_the_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let target = layout(tmp.path());
        fs::write(target.purelib.join("aaa.py"), b"original\n").unwrap();
        fs::create_dir_all(target.purelib.join("zzz/inner")).unwrap();
        let wheels = tempfile::tempdir().unwrap();
        let wheel = WheelBuilder::new("clash", "1.0")
            .file("aaa.py", b"replaced\n")
            .file("newpkg/deep/mod.py", b"")
            .file("zzz", b"file\n")
            .build(wheels.path());
        let bucket = tmp.path().join("bucket");
        let unpacked = unpack_cached(&wheel, &bucket, "k").unwrap();
        let before = snapshot(&target.root);
        let cache_before = snapshot(&bucket);
        let err =
            install_unpacked_with(&unpacked, &target, &opts(), &mut Linker::new()).unwrap_err();
        assert!(matches!(err, InstallError::Io { .. }), "{err:?}");
        assert_eq!(diff(&before, &snapshot(&target.root)), Vec::<String>::new());
        assert_eq!(
            diff(&cache_before, &snapshot(&bucket)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn entries_are_reused_rebuilt_when_broken_and_never_hold_bad_wheels() {
        let tmp = tempfile::tempdir().unwrap();
        let bucket = tmp.path().join("bucket");
        let wheels = tempfile::tempdir().unwrap();
        let wheel = demo().build(wheels.path());
        let first = unpack_cached(&wheel, &bucket, "k").unwrap();
        let init = stored(&first, "demo_pkg/__init__.py");
        let again = unpack_cached(&wheel, &bucket, "k").unwrap();
        // Reused as is: the same inode, not a new unpacking.
        assert_eq!(ino(&init), ino(&stored(&again, "demo_pkg/__init__.py")));
        assert_eq!(again.manifest, first.manifest);

        // A garbage manifest, or one of another wheel, is replaced.
        for garbage in [b"{not json".to_vec(), Vec::new()] {
            fs::write(bucket.join("k").join(MANIFEST_FILE), garbage).unwrap();
            let rebuilt = unpack_cached(&wheel, &bucket, "k").unwrap();
            assert_eq!(rebuilt.manifest, first.manifest);
        }
        let other = WheelBuilder::new("other", "2.0")
            .file("other.py", b"")
            .build(wheels.path());
        let under_same_key = unpack_cached(&other, &bucket, "k").unwrap();
        assert_eq!(under_same_key.name().as_ref(), "other");
        // Hostile keys are hashed into a plain name inside the bucket.
        let hostile = unpack_cached(&wheel, &bucket, "../../escape").unwrap();
        assert!(hostile.files_dir().starts_with(&bucket));

        // A wheel that does not verify leaves nothing behind.
        let mut bad = WheelBuilder::new("bad", "1.0").file("bad.py", b"print(1)\n");
        bad.record_rows.insert(
            "bad.py".into(),
            format!("bad.py,{},9", crate::dist::record_hash(b"print(2)\n")),
        );
        let bad = bad.build(wheels.path());
        let err = unpack_cached(&bad, &bucket, "bad").unwrap_err();
        assert!(matches!(err, InstallError::HashMismatch { .. }), "{err}");
        let names: Vec<String> = fs::read_dir(&bucket)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".tmp-") && n != "bad"),
            "{names:?}"
        );
    }

    #[test]
    fn concurrent_fills_of_one_entry_both_succeed() {
        let tmp = tempfile::tempdir().unwrap();
        let bucket = tmp.path().join("bucket");
        let wheels = tempfile::tempdir().unwrap();
        let mut builder = WheelBuilder::new("big", "1.0");
        for i in 0..200 {
            builder = builder.file(&format!("big/m{i}.py"), format!("X = {i}\n").as_bytes());
        }
        let wheel = builder.build(wheels.path());
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| unpack_cached(&wheel, &bucket, "same")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for result in results {
            let unpacked = result.unwrap();
            // 200 modules, METADATA and WHEEL (RECORD is written by the installer).
            assert_eq!(unpacked.manifest.files.len(), 202);
            assert!(stored(&unpacked, "big/m199.py").is_file());
        }
        let names: Vec<String> = fs::read_dir(&bucket)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["same"]);
    }

    #[test]
    fn tampered_manifest_names_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let target = layout(tmp.path());
        let wheels = tempfile::tempdir().unwrap();
        let wheel = demo().build(wheels.path());
        let bucket = tmp.path().join("bucket");
        let unpacked = unpack_cached(&wheel, &bucket, "k").unwrap();
        let before = snapshot(&target.root);
        for (name, stored) in [
            ("../escape.py", "f0"),
            ("demo_pkg/x.py", "../../etc/passwd"),
        ] {
            let mut evil = unpacked.clone();
            let mut manifest = (*evil.manifest).clone();
            manifest.files[0].name = name.to_string();
            manifest.files[0].stored = stored.to_string();
            evil.manifest = Arc::new(manifest);
            let err = install_unpacked_into(&evil, &target, &opts()).unwrap_err();
            assert!(matches!(err, InstallError::UnsafeEntry { .. }), "{err}");
            assert_eq!(diff(&before, &snapshot(&target.root)), Vec::<String>::new());
        }
    }

    #[test]
    fn link_probe() {
        let tmp = tempfile::tempdir().unwrap();
        let env = tmp.path().join("env");
        fs::create_dir_all(&env).unwrap();
        assert!(links_possible(&tmp.path().join("cache"), &env));
        // Nothing is left behind on either side.
        assert_eq!(fs::read_dir(&env).unwrap().count(), 0);
        assert_eq!(fs::read_dir(tmp.path().join("cache")).unwrap().count(), 0);
        assert!(!links_possible(
            &tmp.path().join("cache"),
            &tmp.path().join("missing")
        ));
    }
}
