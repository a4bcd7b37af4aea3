//! Source distributions: safe unpacking of `.tar.gz` / `.zip` sdists, reading a static
//! `PKG-INFO` straight from the archive, and parsing a project's `pyproject.toml`.
//!
//! Unpacking trusts nothing in the archive: entry paths with `..` or a root, links whose target
//! leaves the project folder, device files and writes through links are refused, and the total
//! size and entry count are bounded.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use flate2::read::GzDecoder;
use serde::Deserialize;

use super::BuildError;
use crate::dist::{Metadata, PackageName, Requirement, Version};

/// Bounds applied while unpacking an sdist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Maximum number of bytes written, over all files.
    pub max_total_size: u64,
    /// Maximum number of archive entries (files, folders, links, headers).
    pub max_entries: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        Self {
            max_total_size: 1 << 30,
            max_entries: 100_000,
        }
    }
}

/// The biggest `PKG-INFO` read from an archive; real ones are a few kilobytes plus the README.
const MAX_PKG_INFO: u64 = 16 << 20;
/// The biggest symlink target accepted in a zip (where the target is the entry's content).
const MAX_LINK_TARGET: u64 = 4096;

/// The archive formats an sdist comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArchiveKind {
    TarGz,
    Zip,
}

fn archive_kind(archive: &Path) -> Result<ArchiveKind, BuildError> {
    let name = archive
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Ok(ArchiveKind::TarGz)
    } else if name.ends_with(".zip") {
        Ok(ArchiveKind::Zip)
    } else {
        Err(BuildError::UnsupportedArchive {
            archive: archive.to_path_buf(),
        })
    }
}

/// Unpacks `sdist` into `dest` (created if missing) and returns the project folder inside it
/// (the archive's single top-level folder, `name-version/`), with the default limits.
pub fn unpack_sdist(sdist: &Path, dest: &Path) -> Result<PathBuf, BuildError> {
    unpack_sdist_with_limits(sdist, dest, UnpackLimits::default())
}

/// [`unpack_sdist`] with explicit limits.
pub fn unpack_sdist_with_limits(
    sdist: &Path,
    dest: &Path,
    limits: UnpackLimits,
) -> Result<PathBuf, BuildError> {
    let kind = archive_kind(sdist)?;
    fs::create_dir_all(dest).map_err(|err| BuildError::io("create the folder", dest, err))?;
    let file = File::open(sdist).map_err(|err| BuildError::io("open", sdist, err))?;
    let mut unpacker = Unpacker {
        archive: sdist,
        dest,
        limits,
        written: 0,
        entries: 0,
        top: None,
    };
    match kind {
        ArchiveKind::TarGz => unpacker.tar(file)?,
        ArchiveKind::Zip => unpacker.zip(file)?,
    }
    match unpacker.top {
        Some(top) => Ok(dest.join(top)),
        None => Err(BuildError::Layout {
            archive: sdist.to_path_buf(),
            reason: "the archive is empty".to_string(),
        }),
    }
}

/// What an archive entry becomes on disk.
enum EntryKind {
    File {
        executable: bool,
    },
    Dir,
    Symlink(PathBuf),
    /// A tar hard link: a copy of an earlier entry (the path inside the archive).
    HardLink(PathBuf),
}

struct Unpacker<'a> {
    archive: &'a Path,
    dest: &'a Path,
    limits: UnpackLimits,
    written: u64,
    entries: u64,
    /// The top-level folder every entry must be inside.
    top: Option<PathBuf>,
}

impl Unpacker<'_> {
    fn unsafe_entry(&self, entry: &str, reason: &'static str) -> BuildError {
        BuildError::UnsafeEntry {
            archive: self.archive.to_path_buf(),
            entry: entry.to_string(),
            reason,
        }
    }

    fn count_entry(&mut self) -> Result<(), BuildError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(BuildError::TooManyEntries {
                archive: self.archive.to_path_buf(),
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    fn tar(&mut self, file: File) -> Result<(), BuildError> {
        let archive = self.archive;
        let archive_err = |source| BuildError::Archive {
            archive: archive.to_path_buf(),
            source,
        };
        let mut tar = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
        let entries = tar.entries().map_err(archive_err)?;
        for entry in entries {
            let mut entry = entry.map_err(archive_err)?;
            self.count_entry()?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let header = entry.header();
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File {
                    executable: header.mode().map(|mode| mode & 0o111 != 0).unwrap_or(false),
                },
                tar::EntryType::Directory => EntryKind::Dir,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(archive_err)?
                        .ok_or_else(|| self.unsafe_entry(&name, "the link has no target"))?
                        .into_owned();
                    if header.entry_type() == tar::EntryType::Symlink {
                        EntryKind::Symlink(target)
                    } else {
                        EntryKind::HardLink(target)
                    }
                }
                // Metadata entries (pax, GNU long names) that the tar crate has not folded
                // into the next entry carry no file.
                tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink => continue,
                tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                    return Err(self.unsafe_entry(&name, "device files and pipes are not allowed"));
                }
                _ => {
                    return Err(self.unsafe_entry(&name, "this kind of tar entry is not supported"));
                }
            };
            let path = entry.path().map_err(archive_err)?.into_owned();
            self.extract(&name, &path, kind, &mut entry)?;
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), BuildError> {
        let archive = self.archive;
        let zip_err = |source| BuildError::Zip {
            archive: archive.to_path_buf(),
            source,
        };
        let mut zip = zip::ZipArchive::new(io::BufReader::new(file)).map_err(zip_err)?;
        if zip.len() as u64 > self.limits.max_entries {
            return Err(BuildError::TooManyEntries {
                archive: self.archive.to_path_buf(),
                limit: self.limits.max_entries,
            });
        }
        for index in 0..zip.len() {
            let mut entry = zip.by_index(index).map_err(zip_err)?;
            self.count_entry()?;
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(_) => {
                    let raw = String::from_utf8_lossy(entry.name_raw()).into_owned();
                    return Err(self.unsafe_entry(&raw, "the name cannot be decoded"));
                }
            };
            // Archives made on Windows may use backslashes; they are separators there.
            let path = PathBuf::from(name.replace('\\', "/"));
            let kind = if entry.is_symlink() {
                let mut target = String::new();
                (&mut entry)
                    .take(MAX_LINK_TARGET)
                    .read_to_string(&mut target)
                    .map_err(|_| self.unsafe_entry(&name, "the link target cannot be read"))?;
                EntryKind::Symlink(PathBuf::from(target))
            } else if entry.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File {
                    executable: entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0),
                }
            };
            self.extract(&name, &path, kind, &mut entry)?;
        }
        Ok(())
    }

    /// Writes one entry at `path` (relative, from the archive) below `dest`.
    fn extract(
        &mut self,
        name: &str,
        path: &Path,
        kind: EntryKind,
        content: &mut dyn Read,
    ) -> Result<(), BuildError> {
        let rel = safe_relative(path).map_err(|reason| self.unsafe_entry(name, reason))?;
        let Some(first) = rel.components().next() else {
            // `./` itself: nothing to create.
            return Ok(());
        };
        let first = PathBuf::from(first.as_os_str());
        match &self.top {
            None => self.top = Some(first.clone()),
            Some(top) if *top != first => {
                return Err(BuildError::Layout {
                    archive: self.archive.to_path_buf(),
                    reason: format!(
                        "both `{}` and `{}` are at the top level",
                        top.display(),
                        first.display()
                    ),
                });
            }
            Some(_) => {}
        }
        let is_top = rel.components().count() == 1;
        if is_top && !matches!(kind, EntryKind::Dir) {
            return Err(BuildError::Layout {
                archive: self.archive.to_path_buf(),
                reason: format!("`{name}` is not inside a folder"),
            });
        }
        let target = self.dest.join(&rel);
        self.prepare_parents(name, &rel)?;
        match kind {
            EntryKind::Dir => {
                match fs::symlink_metadata(&target) {
                    Ok(meta) if meta.is_dir() => {}
                    Ok(_) => {
                        return Err(self.unsafe_entry(name, "a folder replaces a file or link"));
                    }
                    Err(_) => fs::create_dir(&target)
                        .map_err(|err| BuildError::io("create the folder", &target, err))?,
                }
                Ok(())
            }
            EntryKind::File { executable } => {
                self.remove_existing(name, &target)?;
                self.write_file(&target, content, executable)
            }
            EntryKind::Symlink(link) => {
                check_symlink_target(&rel, &link)
                    .map_err(|reason| self.unsafe_entry(name, reason))?;
                self.remove_existing(name, &target)?;
                make_symlink(&link, &target)
            }
            EntryKind::HardLink(link) => {
                // `safe_relative`'s reasons speak of the entry's own path; here the problem
                // is the link's target, so say that instead.
                let source_rel = safe_relative(&link).map_err(|reason| {
                    let reason = if reason == ABSOLUTE {
                        "the hard link's target is an absolute path"
                    } else {
                        "the hard link's target contains `..`"
                    };
                    self.unsafe_entry(name, reason)
                })?;
                if source_rel
                    .components()
                    .next()
                    .map(|c| PathBuf::from(c.as_os_str()))
                    != self.top
                {
                    return Err(self.unsafe_entry(name, "the hard link points outside the archive"));
                }
                self.prepare_parents(name, &source_rel)?;
                let source = self.dest.join(&source_rel);
                // Only a plain file unpacked earlier may be linked; it is copied, never linked,
                // so nothing outside the destination can be reached or modified.
                match fs::symlink_metadata(&source) {
                    Ok(meta) if meta.is_file() => {}
                    _ => {
                        return Err(self.unsafe_entry(
                            name,
                            "the hard link does not point to a file earlier in the archive",
                        ));
                    }
                }
                if source == target {
                    return Ok(());
                }
                let mut reader =
                    File::open(&source).map_err(|err| BuildError::io("read", &source, err))?;
                self.remove_existing(name, &target)?;
                self.write_file(&target, &mut reader, false)
            }
        }
    }

    /// Creates the missing parent folders of `rel`, refusing to go through a link (a link
    /// inside the archive could otherwise redirect later entries anywhere).
    fn prepare_parents(&self, name: &str, rel: &Path) -> Result<(), BuildError> {
        let mut current = self.dest.to_path_buf();
        let Some(parent) = rel.parent() else {
            return Ok(());
        };
        for component in parent.components() {
            current.push(component);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.unsafe_entry(name, "it would be written through a link"));
                }
                Ok(_) => return Err(self.unsafe_entry(name, "its parent is a file")),
                Err(err) if err.kind() == io::ErrorKind::NotFound => fs::create_dir(&current)
                    .map_err(|err| BuildError::io("create the folder", &current, err))?,
                Err(err) => return Err(BuildError::io("inspect", &current, err)),
            }
        }
        Ok(())
    }

    /// A later entry may replace an earlier file or link, but never a folder; the old entry is
    /// removed first so that a link is replaced rather than written through.
    fn remove_existing(&self, name: &str, target: &Path) -> Result<(), BuildError> {
        match fs::symlink_metadata(target) {
            Ok(meta) if meta.is_dir() => Err(self.unsafe_entry(name, "a file replaces a folder")),
            Ok(_) => fs::remove_file(target).map_err(|err| BuildError::io("remove", target, err)),
            Err(_) => Ok(()),
        }
    }

    fn write_file(
        &mut self,
        target: &Path,
        content: &mut dyn Read,
        executable: bool,
    ) -> Result<(), BuildError> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(target)
            .map_err(|err| BuildError::io("create", target, err))?;
        let remaining = self.limits.max_total_size.saturating_sub(self.written);
        // One byte more than allowed tells "exactly at the limit" from "over it".
        let copied = io::copy(&mut content.take(remaining.saturating_add(1)), &mut file).map_err(
            |source| BuildError::Archive {
                archive: self.archive.to_path_buf(),
                source,
            },
        )?;
        self.written += copied;
        if self.written > self.limits.max_total_size {
            return Err(BuildError::TooLarge {
                archive: self.archive.to_path_buf(),
                limit: self.limits.max_total_size,
            });
        }
        set_mode(&file, target, executable)
    }
}

/// [`safe_relative`]'s reason for a rooted path.
const ABSOLUTE: &str = "its path is absolute";

/// The path of an archive entry with `.` components removed; `..` and roots are refused.
fn safe_relative(path: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("its path contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Err(ABSOLUTE),
        }
    }
    Ok(out)
}

/// A symlink at `rel` (relative to the destination) may point to `target` only when the
/// target is relative, has `..` only at its start, and stays inside the top-level folder.
/// With `..` only leading (resolved from a real folder, as links are never written through)
/// and every other link checked the same way, the real target cannot leave the project.
fn check_symlink_target(rel: &Path, target: &Path) -> Result<(), &'static str> {
    let mut stack: Vec<&std::ffi::OsStr> = match rel.parent() {
        Some(parent) => parent.components().map(|c| c.as_os_str()).collect(),
        None => Vec::new(),
    };
    let mut seen_normal = false;
    for component in target.components() {
        match component {
            Component::Normal(part) => {
                seen_normal = true;
                stack.push(part);
            }
            Component::CurDir => {}
            Component::ParentDir if seen_normal => {
                return Err("the link target has `..` after a folder name");
            }
            Component::ParentDir => {
                stack.pop();
                if stack.is_empty() {
                    return Err("the link points outside the project folder");
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err("the link target is absolute"),
        }
    }
    if target.as_os_str().is_empty() {
        return Err("the link has no target");
    }
    Ok(())
}

#[cfg(unix)]
fn make_symlink(link: &Path, target: &Path) -> Result<(), BuildError> {
    std::os::unix::fs::symlink(link, target)
        .map_err(|err| BuildError::io("create the link", target, err))
}

#[cfg(not(unix))]
fn make_symlink(link: &Path, target: &Path) -> Result<(), BuildError> {
    // Without symlinks the link is skipped, as pip does on such systems.
    let _ = (link, target);
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &File, target: &Path, executable: bool) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt;
    // Only the executable bit is kept: setuid, sticky and odd modes from archives are dropped.
    let mode = if executable { 0o755 } else { 0o644 };
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|err| BuildError::io("set the permissions of", target, err))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _target: &Path, _executable: bool) -> Result<(), BuildError> {
    Ok(())
}

/// Reads `<top>/PKG-INFO` from an sdist without unpacking it, and returns its metadata when
/// it can stand in for a build: Metadata-Version 2.2 or later and neither `Requires-Dist` nor
/// `Requires-Python` marked `Dynamic`.
///
/// `Ok(None)` means "build it to know": no `PKG-INFO`, an older or unparseable one, or dynamic
/// fields. An archive that cannot be read at all is an error.
pub fn read_sdist_metadata(sdist: &Path) -> Result<Option<Metadata>, BuildError> {
    let Some(bytes) = read_top_file(sdist, "PKG-INFO", UnpackLimits::default())? else {
        return Ok(None);
    };
    let Ok(metadata) = Metadata::parse(&bytes) else {
        return Ok(None);
    };
    Ok(is_static(&metadata).then_some(metadata))
}

/// Whether `metadata` (from PKG-INFO) is reliable for resolution (PEP 643).
fn is_static(metadata: &Metadata) -> bool {
    let Some(version) = parse_metadata_version(&metadata.metadata_version) else {
        return false;
    };
    if version < (2, 2) {
        return false;
    }
    !metadata.dynamic.iter().any(|field| {
        field.trim().eq_ignore_ascii_case("requires-dist")
            || field.trim().eq_ignore_ascii_case("requires-python")
    })
}

/// `"2.2"` -> `(2, 2)`; anything else -> `None`.
fn parse_metadata_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Reads `<top>/pyproject.toml` from an sdist without unpacking it and returns the build
/// system its build will use: PEP 517's setuptools default when the file or its
/// `[build-system]` table is missing. Lets the build environment's requirements be fetched
/// before the build starts.
pub fn read_sdist_build_system(sdist: &Path) -> Result<BuildSystem, BuildError> {
    let build_system = match read_top_file(sdist, "pyproject.toml", UnpackLimits::default())? {
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            parse_pyproject(&text, &sdist.join("pyproject.toml"))?.build_system
        }
        None => None,
    };
    Ok(super::pep517::effective_build_system(build_system))
}

/// Whether an archive path is `<top>/<name>`.
fn is_top_file(path: &Path, name: &str) -> bool {
    let Ok(rel) = safe_relative(path) else {
        return false;
    };
    let parts: Vec<_> = rel.components().collect();
    parts.len() == 2 && parts[1].as_os_str() == name
}

/// The bytes of `<top>/<name>` in an sdist (at most [`MAX_PKG_INFO`]), `None` when absent.
/// Of a tarball naming it twice, the last one: the one unpacking leaves, and so the one a
/// build reads (an archive must not describe itself one way and build another).
fn read_top_file(
    sdist: &Path,
    name: &str,
    limits: UnpackLimits,
) -> Result<Option<Vec<u8>>, BuildError> {
    let kind = archive_kind(sdist)?;
    let file = File::open(sdist).map_err(|err| BuildError::io("open", sdist, err))?;
    let archive_err = |source| BuildError::Archive {
        archive: sdist.to_path_buf(),
        source,
    };
    let read_bounded = |reader: &mut dyn Read| -> Result<Vec<u8>, BuildError> {
        let mut bytes = Vec::new();
        reader
            .take(MAX_PKG_INFO + 1)
            .read_to_end(&mut bytes)
            .map_err(archive_err)?;
        if bytes.len() as u64 > MAX_PKG_INFO {
            return Err(BuildError::TooLarge {
                archive: sdist.to_path_buf(),
                limit: MAX_PKG_INFO,
            });
        }
        Ok(bytes)
    };
    match kind {
        ArchiveKind::TarGz => {
            let mut tar = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
            let mut count = 0u64;
            let mut found = None;
            for entry in tar.entries().map_err(archive_err)? {
                let mut entry = entry.map_err(archive_err)?;
                count += 1;
                if count > limits.max_entries {
                    return Err(BuildError::TooManyEntries {
                        archive: sdist.to_path_buf(),
                        limit: limits.max_entries,
                    });
                }
                let regular = matches!(
                    entry.header().entry_type(),
                    tar::EntryType::Regular | tar::EntryType::Continuous
                );
                if regular && is_top_file(&entry.path().map_err(archive_err)?, name) {
                    found = Some(read_bounded(&mut entry)?);
                }
            }
            Ok(found)
        }
        ArchiveKind::Zip => {
            let zip_err = |source| BuildError::Zip {
                archive: sdist.to_path_buf(),
                source,
            };
            let mut zip = zip::ZipArchive::new(io::BufReader::new(file)).map_err(zip_err)?;
            let found = zip.file_names().find_map(|entry| {
                let entry = entry.ok()?;
                is_top_file(Path::new(entry.as_ref()), name).then(|| entry.into_owned())
            });
            let Some(found) = found else {
                return Ok(None);
            };
            let mut entry = zip.by_name(&found).map_err(zip_err)?;
            if !entry.is_file() {
                return Ok(None);
            }
            read_bounded(&mut entry).map(Some)
        }
    }
}

/// The parts of `pyproject.toml` plonk's build stage reads.
#[derive(Debug, Clone, Default)]
pub struct PyProject {
    /// `[build-system]`, when present.
    pub build_system: Option<BuildSystem>,
    /// `[project]` (PEP 621), when present.
    pub project: Option<Project>,
    /// The whole document, for backends plonk builds natively (`[tool.hatch]`, ...).
    pub raw: toml::Table,
}

/// `[build-system]` of `pyproject.toml` (PEP 517 / 518).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSystem {
    /// `requires`: what the build environment needs.
    pub requires: Vec<Requirement>,
    /// `build-backend` (`module:object`); `None` means the setuptools legacy backend.
    pub build_backend: Option<String>,
    /// `backend-path`: folders, relative to the project, holding an in-tree backend.
    pub backend_path: Vec<String>,
}

/// `[project]` of `pyproject.toml` (PEP 621), the fields the build stage uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// `name`.
    pub name: PackageName,
    /// `version`; `None` when listed in `dynamic`.
    pub version: Option<Version>,
    /// `dynamic`: fields the backend computes.
    pub dynamic: Vec<String>,
    /// `[project.scripts]`: console script name -> `module:function`.
    pub scripts: BTreeMap<String, String>,
    /// `[project.gui-scripts]`.
    pub gui_scripts: BTreeMap<String, String>,
    /// `[project.entry-points]`: group -> name -> `module:object`.
    pub entry_points: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPyProject {
    build_system: Option<RawBuildSystem>,
    project: Option<RawProject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawBuildSystem {
    requires: Option<Vec<String>>,
    build_backend: Option<String>,
    #[serde(default)]
    backend_path: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawProject {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dynamic: Vec<String>,
    #[serde(default)]
    scripts: BTreeMap<String, String>,
    #[serde(default)]
    gui_scripts: BTreeMap<String, String>,
    #[serde(default)]
    entry_points: BTreeMap<String, BTreeMap<String, String>>,
}

/// Reads `<project_dir>/pyproject.toml`. A project without one (a legacy `setup.py` project)
/// gives an empty [`PyProject`].
pub fn read_pyproject(project_dir: &Path) -> Result<PyProject, BuildError> {
    let path = project_dir.join("pyproject.toml");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(PyProject::default()),
        Err(err) => return Err(BuildError::io("read", &path, err)),
    };
    parse_pyproject(&text, &path)
}

/// Parses the text of a `pyproject.toml`; `path` is only used in errors.
pub fn parse_pyproject(text: &str, path: &Path) -> Result<PyProject, BuildError> {
    let toml_err = |source| BuildError::PyProjectToml {
        path: path.to_path_buf(),
        source,
    };
    let raw: toml::Table = toml::from_str(text).map_err(toml_err)?;
    let parsed: RawPyProject = toml::from_str(text).map_err(toml_err)?;
    let field_err =
        |field: &'static str, value: &str, source: super::BoxError| BuildError::PyProjectField {
            path: path.to_path_buf(),
            field,
            value: value.to_string(),
            source,
        };

    let build_system = match parsed.build_system {
        None => None,
        Some(system) => {
            let requires = system
                .requires
                .ok_or_else(|| BuildError::MissingBuildRequires {
                    path: path.to_path_buf(),
                })?;
            let requires = requires
                .iter()
                .map(|line| {
                    crate::dist::parse_requirement(line)
                        .map_err(|err| field_err("build-system.requires", line, Box::new(err)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(BuildSystem {
                requires,
                build_backend: system.build_backend,
                backend_path: system.backend_path,
            })
        }
    };

    let project = match parsed.project {
        None => None,
        Some(project) => {
            let name = project.name.ok_or_else(|| {
                field_err(
                    "project.name",
                    "",
                    "the `[project]` table has no `name`".into(),
                )
            })?;
            let name = PackageName::from_str(&name)
                .map_err(|err| field_err("project.name", &name, Box::new(err)))?;
            let version = project
                .version
                .map(|text| {
                    Version::from_str(&text)
                        .map_err(|err| field_err("project.version", &text, Box::new(err)))
                })
                .transpose()?;
            Some(Project {
                name,
                version,
                dynamic: project.dynamic,
                scripts: project.scripts,
                gui_scripts: project.gui_scripts,
                entry_points: project.entry_points,
            })
        }
    };

    Ok(PyProject {
        build_system,
        project,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// One raw tar entry; names and link targets are written into the header bytes as they
    /// are, so hostile archives can be built (the tar crate's setters refuse them).
    struct Raw<'a> {
        name: &'a str,
        kind: tar::EntryType,
        data: &'a [u8],
        link: &'a str,
        mode: u32,
    }

    fn file<'a>(name: &'a str, data: &'a [u8]) -> Raw<'a> {
        Raw {
            name,
            kind: tar::EntryType::Regular,
            data,
            link: "",
            mode: 0o644,
        }
    }

    fn dir(name: &str) -> Raw<'_> {
        Raw {
            name,
            kind: tar::EntryType::Directory,
            data: b"",
            link: "",
            mode: 0o755,
        }
    }

    fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Raw<'a> {
        Raw {
            name,
            kind,
            data: b"",
            link: target,
            mode: 0o777,
        }
    }

    fn tar_gz(path: &Path, entries: &[Raw<'_>]) {
        let gz = flate2::write::GzEncoder::new(File::create(path).unwrap(), Default::default());
        let mut builder = tar::Builder::new(gz);
        for entry in entries {
            let mut header = tar::Header::new_gnu();
            let old = header.as_old_mut();
            old.name[..entry.name.len()].copy_from_slice(entry.name.as_bytes());
            old.linkname[..entry.link.len()].copy_from_slice(entry.link.as_bytes());
            header.set_entry_type(entry.kind);
            header.set_size(entry.data.len() as u64);
            header.set_mode(entry.mode);
            header.set_cksum();
            builder.append(&header, entry.data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    fn zip_file(path: &Path, entries: &[(&str, &[u8])], symlinks: &[(&str, &str)]) {
        let mut writer = zip::ZipWriter::new(File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o755);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        for (name, target) in symlinks {
            writer.add_symlink(*name, *target, options).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn unpacks_a_tar_gz_with_links_and_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("demo-1.0.tar.gz");
        let mut script = file("demo-1.0/bin/run", b"#!/bin/sh\n");
        script.mode = 0o4755;
        tar_gz(
            &sdist,
            &[
                dir("demo-1.0/"),
                file("demo-1.0/PKG-INFO", b"Metadata-Version: 2.1\n"),
                file("./demo-1.0/demo/__init__.py", b"x = 1\n"),
                script,
                link(
                    "demo-1.0/alias.py",
                    tar::EntryType::Symlink,
                    "demo/__init__.py",
                ),
                link("demo-1.0/demo/up", tar::EntryType::Symlink, "../PKG-INFO"),
                link(
                    "demo-1.0/copy.py",
                    tar::EntryType::Link,
                    "demo-1.0/demo/__init__.py",
                ),
            ],
        );
        let dest = tmp.path().join("out");
        let project = unpack_sdist(&sdist, &dest).unwrap();
        assert_eq!(project, dest.join("demo-1.0"));
        assert_eq!(
            fs::read(project.join("demo/__init__.py")).unwrap(),
            b"x = 1\n"
        );
        assert_eq!(fs::read(project.join("alias.py")).unwrap(), b"x = 1\n");
        assert_eq!(fs::read(project.join("copy.py")).unwrap(), b"x = 1\n");
        assert!(
            fs::symlink_metadata(project.join("copy.py"))
                .unwrap()
                .is_file()
        );
        assert_eq!(
            fs::read(project.join("demo/up")).unwrap(),
            b"Metadata-Version: 2.1\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &str| fs::metadata(project.join(p)).unwrap().permissions().mode();
            // setuid is dropped, the executable bit kept.
            assert_eq!(mode("bin/run") & 0o7777, 0o755);
            assert_eq!(mode("demo/__init__.py") & 0o7777, 0o644);
        }
    }

    #[test]
    fn unpacks_a_zip() {
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("demo-1.0.zip");
        zip_file(
            &sdist,
            &[
                ("demo-1.0/setup.py", b"print()"),
                ("demo-1.0\\win\\a.txt", b"a"),
            ],
            &[("demo-1.0/link", "setup.py")],
        );
        let project = unpack_sdist(&sdist, &tmp.path().join("out")).unwrap();
        assert_eq!(fs::read(project.join("setup.py")).unwrap(), b"print()");
        assert_eq!(fs::read(project.join("win/a.txt")).unwrap(), b"a");
        assert_eq!(fs::read(project.join("link")).unwrap(), b"print()");
    }

    /// Hostile tar archives: each must fail, and nothing may appear outside `dest`.
    #[test]
    fn refuses_hostile_tar_entries() {
        use tar::EntryType::{Block, Char, Fifo, Link, Symlink};
        let rows: Vec<(&str, Vec<Raw<'_>>, &str)> = vec![
            ("parent", vec![file("../x", b"pwned")], "`..`"),
            ("inner parent", vec![file("demo/../../x", b"pwned")], "`..`"),
            (
                "absolute",
                vec![file("/tmp/plonk-abs-x", b"pwned")],
                "absolute",
            ),
            (
                "symlink to /etc",
                vec![link("demo/etc", Symlink, "/etc")],
                "absolute",
            ),
            (
                "symlink up",
                vec![link("demo/up", Symlink, "../../x")],
                "outside",
            ),
            (
                "symlink to top's parent",
                vec![link("demo/up", Symlink, "..")],
                "outside",
            ),
            (
                "symlink with inner ..",
                vec![dir("demo/sub"), link("demo/l", Symlink, "sub/../..")],
                "after a folder name",
            ),
            (
                "hardlink out",
                vec![link("demo/h", Link, "../outside")],
                "the hard link's target contains `..`",
            ),
            (
                "hardlink absolute",
                vec![link("demo/h", Link, "/etc/passwd")],
                "the hard link's target is an absolute path",
            ),
            (
                "hardlink to nothing",
                vec![link("demo/h", Link, "demo/none")],
                "earlier",
            ),
            ("char device", vec![link("demo/tty", Char, "")], "device"),
            ("block device", vec![link("demo/sda", Block, "")], "device"),
            ("fifo", vec![link("demo/fifo", Fifo, "")], "device"),
            (
                "write through a link",
                vec![
                    dir("demo/sub"),
                    link("demo/l", Symlink, "sub"),
                    file("demo/l/x", b"x"),
                ],
                "through a link",
            ),
            (
                "two top-level folders",
                vec![file("a/x", b"x"), file("b/x", b"x")],
                "top level",
            ),
            (
                "top-level file",
                vec![file("setup.py", b"x")],
                "not inside a folder",
            ),
            ("empty", vec![], "empty"),
        ];
        for (label, entries, expected) in rows {
            let tmp = tempfile::tempdir().unwrap();
            let sdist = tmp.path().join("demo.tar.gz");
            tar_gz(&sdist, &entries);
            let dest = tmp.path().join("out");
            let err = unpack_sdist(&sdist, &dest).unwrap_err().to_string();
            assert!(err.contains(expected), "{label}: {err}");
            let outside: Vec<_> = fs::read_dir(tmp.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(outside.len(), 2, "{label}: {outside:?}");
        }
        assert!(!Path::new("/tmp/plonk-abs-x").exists());
    }

    #[test]
    fn a_later_file_replaces_a_link_instead_of_writing_through_it() {
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("demo.tar.gz");
        tar_gz(
            &sdist,
            &[
                file("demo/target", b"original"),
                link("demo/a", tar::EntryType::Symlink, "target"),
                file("demo/a", b"replaced"),
            ],
        );
        let project = unpack_sdist(&sdist, &tmp.path().join("out")).unwrap();
        assert_eq!(fs::read(project.join("target")).unwrap(), b"original");
        assert_eq!(fs::read(project.join("a")).unwrap(), b"replaced");
    }

    #[test]
    fn refuses_hostile_zip_entries() {
        type Row<'a> = (
            &'a str,
            Vec<(&'a str, &'a [u8])>,
            Vec<(&'a str, &'a str)>,
            &'a str,
        );
        let rows: Vec<Row<'_>> = vec![
            ("parent", vec![("../x", b"x")], vec![], "`..`"),
            (
                "backslash parent",
                vec![("demo\\..\\..\\x", b"x")],
                vec![],
                "`..`",
            ),
            (
                "absolute",
                vec![("/tmp/plonk-zip-abs", b"x")],
                vec![],
                "absolute",
            ),
            (
                "symlink to /etc",
                vec![],
                vec![("demo/etc", "/etc")],
                "absolute",
            ),
            (
                "symlink up",
                vec![],
                vec![("demo/up", "../../x")],
                "outside",
            ),
        ];
        for (label, files, links, expected) in rows {
            let tmp = tempfile::tempdir().unwrap();
            let sdist = tmp.path().join("demo.zip");
            zip_file(&sdist, &files, &links);
            let err = unpack_sdist(&sdist, &tmp.path().join("out"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{label}: {err}");
        }
        assert!(!Path::new("/tmp/plonk-zip-abs").exists());
    }

    #[test]
    fn bounds_entry_count_and_size() {
        let tmp = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..50).map(|i| format!("demo/f{i}")).collect();
        let entries: Vec<Raw<'_>> = names.iter().map(|n| file(n, b"")).collect();
        let many = tmp.path().join("many.tar.gz");
        tar_gz(&many, &entries);
        let limits = UnpackLimits {
            max_total_size: 1 << 20,
            max_entries: 20,
        };
        let err = unpack_sdist_with_limits(&many, &tmp.path().join("a"), limits).unwrap_err();
        assert!(
            matches!(err, BuildError::TooManyEntries { limit: 20, .. }),
            "{err}"
        );

        let names: Vec<String> = (0..50).map(|i| format!("demo/f{i}.txt")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let many_zip = tmp.path().join("many.zip");
        zip_file(&many_zip, &files, &[]);
        let err = unpack_sdist_with_limits(&many_zip, &tmp.path().join("b"), limits).unwrap_err();
        assert!(matches!(err, BuildError::TooManyEntries { .. }), "{err}");

        let big = vec![b'a'; 4096];
        let bomb = tmp.path().join("bomb.tar.gz");
        tar_gz(&bomb, &[file("demo/a", &big), file("demo/b", &big)]);
        let limits = UnpackLimits {
            max_total_size: 6000,
            max_entries: 100,
        };
        let err = unpack_sdist_with_limits(&bomb, &tmp.path().join("c"), limits).unwrap_err();
        assert!(
            matches!(err, BuildError::TooLarge { limit: 6000, .. }),
            "{err}"
        );
        // Exactly at the limit is fine.
        let limits = UnpackLimits {
            max_total_size: 8192,
            max_entries: 100,
        };
        unpack_sdist_with_limits(&bomb, &tmp.path().join("d"), limits).unwrap();
    }

    #[test]
    fn garbage_truncated_and_unsupported_archives_fail() {
        let tmp = tempfile::tempdir().unwrap();
        let garbage = tmp.path().join("demo-1.0.tar.gz");
        fs::write(&garbage, b"this is not gzip").unwrap();
        assert!(matches!(
            unpack_sdist(&garbage, &tmp.path().join("a")),
            Err(BuildError::Archive { .. })
        ));
        assert!(read_sdist_metadata(&garbage).is_err());

        let good = tmp.path().join("good.tar.gz");
        let big: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        tar_gz(&good, &[file("demo/a", &big)]);
        let bytes = fs::read(&good).unwrap();
        let truncated = tmp.path().join("truncated.tar.gz");
        fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(unpack_sdist(&truncated, &tmp.path().join("b")).is_err());

        let zip_garbage = tmp.path().join("demo-1.0.zip");
        fs::write(&zip_garbage, b"PK nope").unwrap();
        assert!(matches!(
            unpack_sdist(&zip_garbage, &tmp.path().join("c")),
            Err(BuildError::Zip { .. })
        ));

        let other = tmp.path().join("demo-1.0.tar.bz2");
        fs::write(&other, b"").unwrap();
        assert!(matches!(
            unpack_sdist(&other, &tmp.path().join("d")),
            Err(BuildError::UnsupportedArchive { .. })
        ));
    }

    /// Writes `files` as a zip or a `.tar.gz`, as `sdist`'s extension says.
    fn write_archive(sdist: &Path, files: &[(&str, &[u8])]) {
        if sdist.extension().is_some_and(|e| e == "zip") {
            zip_file(sdist, files, &[]);
        } else {
            let raws: Vec<Raw<'_>> = files.iter().map(|(n, d)| file(n, d)).collect();
            tar_gz(sdist, &raws);
        }
    }

    const PKG_INFO_25: &str = "Metadata-Version: 2.5\nName: tutor-mfe\nVersion: 20.1.0\n\
        Requires-Python: >=3.9\nRequires-Dist: tutor<21,>=20.0.0\n\nLong description\n";

    #[test]
    fn pkg_info_rows() {
        let rows: Vec<(&str, Option<&str>, bool)> = vec![
            ("2.5 static", Some(PKG_INFO_25), true),
            (
                "2.2 static",
                Some("Metadata-Version: 2.2\nName: a\nVersion: 1\nRequires-Dist: b\n"),
                true,
            ),
            (
                "2.2 other dynamic field",
                Some("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Summary\n"),
                true,
            ),
            (
                "2.1",
                Some("Metadata-Version: 2.1\nName: a\nVersion: 1\n"),
                false,
            ),
            (
                "1.0",
                Some("Metadata-Version: 1.0\nName: a\nVersion: 1\n"),
                false,
            ),
            (
                "2.2 dynamic requires-dist",
                Some("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Requires-Dist\n"),
                false,
            ),
            (
                "2.4 dynamic requires-python (lower case)",
                Some("Metadata-Version: 2.4\nName: a\nVersion: 1\nDynamic: requires-python\n"),
                false,
            ),
            ("garbage", Some("\u{0}\u{1}not: metadata at all"), false),
            (
                "no version",
                Some("Metadata-Version: 2.5\nName: a\n"),
                false,
            ),
            (
                "bad metadata version",
                Some("Metadata-Version: two\nName: a\nVersion: 1\n"),
                false,
            ),
            ("missing", None, false),
        ];
        for (label, pkg_info, expected) in rows {
            for ext in ["tar.gz", "zip"] {
                let tmp = tempfile::tempdir().unwrap();
                let sdist = tmp.path().join(format!("a-1.{ext}"));
                let mut files: Vec<(&str, &[u8])> = vec![
                    ("a-1/setup.py", b""),
                    // A nested PKG-INFO (egg-info) is not the sdist's.
                    ("a-1/a.egg-info/PKG-INFO", PKG_INFO_25.as_bytes()),
                ];
                if let Some(text) = pkg_info {
                    files.push(("a-1/PKG-INFO", text.as_bytes()));
                }
                write_archive(&sdist, &files);
                let result = read_sdist_metadata(&sdist).unwrap();
                assert_eq!(result.is_some(), expected, "{label} ({ext})");
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("tutor_mfe-20.1.0.tar.gz");
        tar_gz(
            &sdist,
            &[file("tutor_mfe-20.1.0/PKG-INFO", PKG_INFO_25.as_bytes())],
        );
        let metadata = read_sdist_metadata(&sdist).unwrap().unwrap();
        assert_eq!(metadata.name.as_ref(), "tutor-mfe");
        assert_eq!(metadata.requires_dist.len(), 1);
        assert!(metadata.requires_python.is_some());
    }

    #[test]
    fn build_system_rows() {
        let setuptools = "[build-system]\nrequires = [\"setuptools>=61\", \"cython\"]\n\
            build-backend = \"setuptools.build_meta\"\n";
        let hatch =
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n";
        // (label, top pyproject.toml, expected backend, expected requirement names)
        let rows: Vec<(&str, Option<&str>, &str, Vec<&str>)> = vec![
            (
                "setuptools",
                Some(setuptools),
                "setuptools.build_meta",
                vec!["setuptools", "cython"],
            ),
            (
                "hatchling",
                Some(hatch),
                "hatchling.build",
                vec!["hatchling"],
            ),
            // No file, or no table: PEP 517's legacy setuptools default.
            (
                "missing",
                None,
                "setuptools.build_meta:__legacy__",
                vec!["setuptools"],
            ),
            (
                "no table",
                Some("[project]\nname = \"a\"\n"),
                "setuptools.build_meta:__legacy__",
                vec!["setuptools"],
            ),
        ];
        for (label, pyproject, backend, names) in rows {
            for ext in ["tar.gz", "zip"] {
                let tmp = tempfile::tempdir().unwrap();
                let sdist = tmp.path().join(format!("a-1.{ext}"));
                // A nested pyproject.toml (a vendored project) is not the sdist's.
                let mut files: Vec<(&str, &[u8])> =
                    vec![("a-1/vendor/pyproject.toml", hatch.as_bytes())];
                if let Some(text) = pyproject {
                    files.push(("a-1/pyproject.toml", text.as_bytes()));
                }
                write_archive(&sdist, &files);
                let system = read_sdist_build_system(&sdist).unwrap();
                assert_eq!(
                    system.build_backend.as_deref(),
                    Some(backend),
                    "{label} ({ext})"
                );
                let got: Vec<String> = system.requires.iter().map(|r| r.name.to_string()).collect();
                assert_eq!(got, names, "{label} ({ext})");
            }
        }
    }

    #[test]
    fn a_file_named_twice_is_read_as_unpacking_leaves_it() {
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("a-1.tar.gz");
        // A static PKG-INFO first, then one that needs a build: the build sees the second.
        tar_gz(
            &sdist,
            &[
                file("a-1/PKG-INFO", PKG_INFO_25.as_bytes()),
                file(
                    "a-1/PKG-INFO",
                    b"Metadata-Version: 2.1\nName: a\nVersion: 1\n",
                ),
            ],
        );
        assert!(read_sdist_metadata(&sdist).unwrap().is_none());
        let out = tmp.path().join("out");
        let project = unpack_sdist(&sdist, &out).unwrap();
        let unpacked = fs::read_to_string(project.join("PKG-INFO")).unwrap();
        assert!(unpacked.starts_with("Metadata-Version: 2.1"), "{unpacked}");
    }

    #[test]
    fn build_system_of_garbage_and_hostile_sdists_fails_or_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let garbage = tmp.path().join("a-1.tar.gz");
        fs::write(&garbage, b"not gzip at all").unwrap();
        assert!(read_sdist_build_system(&garbage).is_err());
        // A pyproject.toml that is not TOML, or whose requires is the wrong type.
        for text in [
            "[build-system\nrequires = ",
            "[build-system]\nrequires = \"setuptools\"\n",
        ] {
            let sdist = tmp.path().join("b-1.tar.gz");
            tar_gz(&sdist, &[file("b-1/pyproject.toml", text.as_bytes())]);
            assert!(read_sdist_build_system(&sdist).is_err(), "{text:?}");
        }
        // Paths that leave the archive's top folder are never read as its pyproject.toml.
        let hatch =
            b"[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n";
        for path in [
            "../pyproject.toml",
            "/pyproject.toml",
            "c-1/../../pyproject.toml",
        ] {
            let sdist = tmp.path().join("c-1.zip");
            zip_file(&sdist, &[(path, hatch.as_slice())], &[]);
            let system = read_sdist_build_system(&sdist).unwrap();
            assert_eq!(
                system.build_backend.as_deref(),
                Some("setuptools.build_meta:__legacy__"),
                "{path}"
            );
        }
        // Truncated archives are errors, not a guess.
        let good = tmp.path().join("d-1.tar.gz");
        let big: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        tar_gz(
            &good,
            &[file("d-1/a", &big), file("d-1/pyproject.toml", hatch)],
        );
        let bytes = fs::read(&good).unwrap();
        let truncated = tmp.path().join("e-1.tar.gz");
        fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read_sdist_build_system(&truncated).is_err());
    }

    #[test]
    fn pyproject_full() {
        let text = r#"
[build-system]
requires = ["hatchling>=1.0", "wheel; python_version < '3'"]
build-backend = "hatchling.build"
backend-path = ["_backend"]

[project]
name = "Tutor_MFE"
version = "20.1.0"
dynamic = ["readme"]

[project.scripts]
mfe = "tutormfe.cli:main"

[project.entry-points."tutor.plugin.v1"]
mfe = "tutormfe.plugin"

[tool.hatch.version]
path = "tutormfe/__about__.py"
"#;
        let pyproject = parse_pyproject(text, Path::new("pyproject.toml")).unwrap();
        let system = pyproject.build_system.unwrap();
        assert_eq!(system.requires.len(), 2);
        assert_eq!(system.build_backend.as_deref(), Some("hatchling.build"));
        assert_eq!(system.backend_path, vec!["_backend".to_string()]);
        let project = pyproject.project.unwrap();
        assert_eq!(project.name.as_ref(), "tutor-mfe");
        assert_eq!(project.version.unwrap().to_string(), "20.1.0");
        assert_eq!(project.dynamic, vec!["readme".to_string()]);
        assert_eq!(project.scripts["mfe"], "tutormfe.cli:main");
        assert_eq!(
            project.entry_points["tutor.plugin.v1"]["mfe"],
            "tutormfe.plugin"
        );
        assert!(pyproject.raw.contains_key("tool"));
    }

    #[test]
    fn pyproject_rows() {
        let tmp = tempfile::tempdir().unwrap();
        // No pyproject.toml: a legacy project.
        let empty = read_pyproject(tmp.path()).unwrap();
        assert!(empty.build_system.is_none() && empty.project.is_none());

        let ok: &[&str] = &[
            "",
            "[tool.black]\nline-length = 100\n",
            "[build-system]\nrequires = []\n",
            "[project]\nname = \"a\"\ndynamic = [\"version\"]\n",
        ];
        for text in ok {
            parse_pyproject(text, Path::new("p")).unwrap();
        }
        let bad: &[(&str, &str)] = &[
            ("[build-system", "Failed to parse"),
            ("\u{0}garbage = = =", "Failed to parse"),
            (
                "[build-system]\nbuild-backend = \"x\"\n",
                "without `requires`",
            ),
            (
                "[build-system]\nrequires = \"setuptools\"\n",
                "Failed to parse",
            ),
            (
                "[build-system]\nrequires = [\"not a ! requirement\"]\n",
                "build-system.requires",
            ),
            ("[project]\nversion = \"1\"\n", "project.name"),
            ("[project]\nname = \"../evil\"\n", "project.name"),
            (
                "[project]\nname = \"a\"\nversion = \"one\"\n",
                "project.version",
            ),
        ];
        for (text, expected) in bad {
            let err = parse_pyproject(text, Path::new("p"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
