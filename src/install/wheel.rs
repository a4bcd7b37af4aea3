//! Installing one wheel into an [`InstallTarget`], following the binary distribution format.
//!
//! Two steps. Unpacking reads and checks the whole archive before the environment is
//! touched: every entry name is validated, every file is written out while its RECORD hash
//! and size are verified and its decompressed size is bounded; the result is a flat folder of
//! files plus a [`Manifest`]. Installing then places those files: renamed out of a staging
//! folder inside the environment (a one-off install, [`install_wheel_into`]) or hard-linked
//! from the global cache's verified copy ([`install_unpacked_into`]; copied when the cache is
//! on another filesystem). Files whose content depends on the environment — `#!python`
//! scripts, launchers, `INSTALLER`, `REQUESTED`, `direct_url.json`, `RECORD` — are always
//! written fresh (straight to their place, from memory), never linked. Each placement is
//! tracked (with a backup of any file it replaces) so that a failure in the commit, in
//! byte-compiling or in writing RECORD undoes everything.
//!
//! Inside a transaction ([`super::journal`]) the install reports through [`Changes`]: every
//! path it will create before the first change (so a crash can be undone from the journal),
//! every existing file it replaces (kept by the transaction), and a `link` fault point per
//! file. The plan is computed without touching the environment, so a transaction can record
//! all of its installs in one journal write ([`planned_paths`]). Blocking code: callers run
//! it on a worker thread.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;

use sha2::{Digest, Sha256, Sha384, Sha512};
use zip::ZipArchive;

use super::InstallError;
use super::paths::{absolute, record_path, relative_path, validate_entry_name};
use super::scripts::{launcher, rewrite_python_shebang};
use super::target::InstallTarget;
use super::unpacked::{Linker, Manifest, ManifestEntryPoint, ManifestFile, UnpackedWheel};
use crate::dist::{
    DirectUrl, EntryPoint, EntryPoints, Metadata, PackageName, Record, RecordEntry, Version,
    WheelFilename, urlsafe_b64_nopad,
};

/// The most bytes a wheel may unpack to; larger archives are refused as zip bombs.
pub const MAX_UNPACKED_SIZE: u64 = 2 << 30;

/// How to install a wheel.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The user asked for this distribution (writes `REQUESTED`).
    pub requested: bool,
    /// PEP 610 origin, written as `direct_url.json` for URL, git and path sources.
    pub direct_url: Option<DirectUrl>,
    /// Byte-compile the installed `.py` files with the environment's interpreter.
    pub compile: bool,
    /// Content of `INSTALLER` (`plonk`).
    pub installer: String,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            requested: false,
            direct_url: None,
            compile: false,
            installer: "plonk".to_string(),
        }
    }
}

/// What [`install_wheel_into`] put into the environment.
#[derive(Debug, Clone)]
pub struct InstalledWheel {
    /// Normalized distribution name.
    pub name: PackageName,
    /// Installed version.
    pub version: Version,
    /// Absolute path of the installed `.dist-info` directory.
    pub dist_info: PathBuf,
    /// Whether `REQUESTED` was written.
    pub requested: bool,
    /// The `INSTALLER` written.
    pub installer: String,
    /// The RECORD written (paths relative to the `.dist-info`'s parent).
    pub record: Record,
}

/// Install `wheel` into `target`. On error nothing in the target has changed.
///
/// The caller uninstalls any previous version first: an existing `.dist-info` directory of
/// the same name and version is an error. Files of other distributions at the same paths
/// are replaced (as pip does); the replaced content comes back if the install fails.
pub fn install_wheel_into(
    wheel: &Path,
    target: &InstallTarget,
    opts: &InstallOptions,
) -> Result<InstalledWheel, InstallError> {
    install_with_limit(wheel, target, opts, MAX_UNPACKED_SIZE)
}

/// Install a wheel unpacked earlier (see [`super::unpack_cached`]) into `target` by
/// hard-linking its files, or copying them when links are impossible (another filesystem).
/// The same guarantees as [`install_wheel_into`]; the unpacked files are never modified.
pub fn install_unpacked_into(
    unpacked: &UnpackedWheel,
    target: &InstallTarget,
    opts: &InstallOptions,
) -> Result<InstalledWheel, InstallError> {
    install_unpacked_with(unpacked, target, opts, &mut Linker::new())
}

/// [`install_unpacked_into`] with a given [`Linker`] (tests simulate other filesystems).
pub(crate) fn install_unpacked_with(
    unpacked: &UnpackedWheel,
    target: &InstallTarget,
    opts: &InstallOptions,
    linker: &mut Linker,
) -> Result<InstalledWheel, InstallError> {
    let dirs = Dirs::new(target)?;
    install_tree(
        unpacked,
        &dirs,
        opts,
        Placement::Link(linker),
        &mut Standalone::new(&dirs.root),
    )
}

/// Install `wheel` into `target` inside the transaction `changes`: from its unpacked copy in
/// the cache when there is one (hard links), else from the archive. A copy found damaged
/// (files missing from the cache) is given up for the archive once its attempt is rolled
/// back.
pub(crate) fn install_prepared_with(
    wheel: &Path,
    unpacked: Option<&UnpackedWheel>,
    target: &InstallTarget,
    opts: &InstallOptions,
    changes: &mut dyn Changes,
) -> Result<InstalledWheel, InstallError> {
    let dirs = Dirs::new(target)?;
    if let Some(unpacked) = unpacked {
        let mut linker = Linker::new();
        match install_tree(unpacked, &dirs, opts, Placement::Link(&mut linker), changes) {
            Err(InstallError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            result => return result,
        }
    }
    install_archive(wheel, &dirs, opts, MAX_UNPACKED_SIZE, changes)
}

/// The paths installing `unpacked` into `target` creates (every file, RECORD included) and
/// the `.py` files it byte-compiles, without changing anything: what a transaction records
/// before the first change. `install_tree` reports the same through [`Changes::will_create`].
pub(crate) fn planned_paths(
    unpacked: &UnpackedWheel,
    target: &InstallTarget,
    opts: &InstallOptions,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), InstallError> {
    let dirs = Dirs::new(target)?;
    let plan = plan_tree(unpacked, &dirs, opts)?;
    let files = plan.dests().map(Path::to_path_buf).collect();
    let compiled = plan.compiled(&dirs, opts).map(Path::to_path_buf).collect();
    Ok((files, compiled))
}

/// Absolute forms of the target's directories.
struct Dirs {
    root: PathBuf,
    purelib: PathBuf,
    platlib: PathBuf,
    scripts: PathBuf,
    data: PathBuf,
    include: PathBuf,
    python: PathBuf,
}

impl Dirs {
    fn new(target: &InstallTarget) -> Result<Self, InstallError> {
        let abs = |p: &Path| absolute(p).map_err(|e| InstallError::io("resolve", p, e));
        Ok(Dirs {
            root: abs(&target.root)?,
            purelib: abs(&target.purelib)?,
            platlib: abs(&target.platlib)?,
            scripts: abs(&target.scripts)?,
            data: abs(&target.data)?,
            include: abs(&target.include)?,
            python: abs(&target.python)?,
        })
    }
}

/// One archive entry from the central directory, after name validation.
struct Entry {
    index: usize,
    name: String,
    is_dir: bool,
    declared: u64,
    executable: bool,
}

/// How the unpacked wheel's own files reach the environment.
enum Placement<'a> {
    /// Renamed: the unpacked folder is a staging folder of this install.
    Move,
    /// Hard-linked (or copied) from the cache, which must stay intact.
    Link(&'a mut Linker),
}

/// Files the installer writes itself; copies shipped in the wheel are dropped.
const GENERATED: [&str; 6] = [
    "RECORD",
    "RECORD.jws",
    "RECORD.p7s",
    "INSTALLER",
    "REQUESTED",
    "direct_url.json",
];

fn generated_files(dist_info: &str) -> HashSet<String> {
    GENERATED
        .iter()
        .map(|f| format!("{dist_info}/{f}"))
        .collect()
}

fn staging_dir(root: &Path) -> Result<tempfile::TempDir, InstallError> {
    fs::create_dir_all(root).map_err(|e| InstallError::io("create directory", root, e))?;
    tempfile::Builder::new()
        .prefix(".plonk-install-")
        .tempdir_in(root)
        .map_err(|e| InstallError::io("create a staging directory in", root, e))
}

/// The parsed file name of `wheel`.
pub(crate) fn wheel_filename(wheel: &Path) -> Result<WheelFilename, InstallError> {
    let filename = wheel
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    WheelFilename::from_str(filename).map_err(|source| InstallError::WheelFilename {
        wheel: wheel.to_path_buf(),
        source,
    })
}

pub(crate) fn install_with_limit(
    wheel: &Path,
    target: &InstallTarget,
    opts: &InstallOptions,
    limit: u64,
) -> Result<InstalledWheel, InstallError> {
    let dirs = Dirs::new(target)?;
    install_archive(wheel, &dirs, opts, limit, &mut Standalone::new(&dirs.root))
}

/// Unpack `wheel` into a staging folder (inside the environment, or where `changes` keeps
/// its own files), then move its files into place.
fn install_archive(
    wheel: &Path,
    dirs: &Dirs,
    opts: &InstallOptions,
    limit: u64,
    changes: &mut dyn Changes,
) -> Result<InstalledWheel, InstallError> {
    let filename = wheel_filename(wheel)?;
    let parent = changes
        .staging_parent()
        .unwrap_or_else(|| dirs.root.clone());
    let staging = staging_dir(&parent)?;
    let files = staging.path().join("unpacked");
    fs::create_dir(&files).map_err(|e| InstallError::io("create directory", &files, e))?;
    let manifest = unpack_archive(wheel, &filename, &files, limit)?;
    let unpacked = UnpackedWheel {
        wheel: wheel.to_path_buf(),
        filename,
        files,
        manifest: std::sync::Arc::new(manifest),
    };
    let result = install_tree(&unpacked, dirs, opts, Placement::Move, changes);
    drop(staging);
    result
}

/// Read and verify the whole of `wheel` and write its files, flat and numbered, into the
/// empty folder `files`: everything [`install_tree`] needs, described by the returned
/// manifest. Scripts get their execute bits here, so placing never changes a file's mode.
pub(crate) fn unpack_archive(
    wheel: &Path,
    filename: &WheelFilename,
    files: &Path,
    limit: u64,
) -> Result<Manifest, InstallError> {
    let wheel_path = wheel.to_path_buf();
    let file = File::open(wheel).map_err(|source| InstallError::OpenWheel {
        wheel: wheel_path.clone(),
        source,
    })?;
    let mut archive =
        ZipArchive::new(BufReader::new(file)).map_err(|source| InstallError::Zip {
            wheel: wheel_path.clone(),
            source,
        })?;
    let mut reader = WheelReader {
        wheel: wheel_path.clone(),
        archive: &mut archive,
        limit,
        total: 0,
    };

    let entries = reader.list_entries()?;
    let layout = Layout::find(&wheel_path, filename, &entries)?;
    let by_name: HashMap<&str, &Entry> = entries.iter().map(|e| (e.name.as_str(), e)).collect();

    // The .dist-info files that drive the install.
    let dist_info = &layout.dist_info;
    let wheel_file = format!("{dist_info}/WHEEL");
    let record_file = format!("{dist_info}/RECORD");
    let metadata_file = format!("{dist_info}/METADATA");
    let entry_points_file = format!("{dist_info}/entry_points.txt");
    let read_required =
        |reader: &mut WheelReader<'_>, name: &str| -> Result<Vec<u8>, InstallError> {
            let entry = by_name.get(name).filter(|e| !e.is_dir).ok_or_else(|| {
                InstallError::MissingDistFile {
                    wheel: wheel_path.clone(),
                    file: name.to_string(),
                }
            })?;
            reader.read_to_vec(entry)
        };
    let wheel_meta = read_required(&mut reader, &wheel_file)?;
    let root_is_purelib = parse_wheel_file(&wheel_path, &wheel_file, &wheel_meta)?;
    let record_bytes = read_required(&mut reader, &record_file)?;
    let record = Record::parse(&record_bytes).map_err(|source| InstallError::InvalidDistFile {
        wheel: wheel_path.clone(),
        file: record_file.clone(),
        source,
    })?;
    let metadata_bytes = read_required(&mut reader, &metadata_file)?;
    let metadata =
        Metadata::parse(&metadata_bytes).map_err(|source| InstallError::InvalidDistFile {
            wheel: wheel_path.clone(),
            file: metadata_file.clone(),
            source,
        })?;
    if metadata.name != filename.name || metadata.version != filename.version {
        return Err(InstallError::MetadataMismatch {
            wheel: wheel_path.clone(),
            found: format!("{}=={}", metadata.name, metadata.version),
            expected: format!("{}=={}", filename.name, filename.version),
        });
    }
    let entry_points = match by_name.get(entry_points_file.as_str()) {
        Some(e) if !e.is_dir => {
            let bytes = reader.read_to_vec(e)?;
            EntryPoints::parse(&bytes).map_err(|source| InstallError::InvalidDistFile {
                wheel: wheel_path.clone(),
                file: entry_points_file.clone(),
                source,
            })?
        }
        _ => EntryPoints::default(),
    };
    let record_map: HashMap<&str, &RecordEntry> = record
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e))
        .collect();

    let generated = generated_files(dist_info);
    let mut manifest_files = Vec::new();
    for entry in entries.iter().filter(|e| !e.is_dir) {
        if generated.contains(&entry.name) {
            continue;
        }
        let is_script = layout.classify(&wheel_path, &entry.name)?.0 == Scheme::Scripts;
        let recorded = record_map
            .get(entry.name.as_str())
            .copied()
            .filter(|r| r.hash.is_some())
            .ok_or_else(|| InstallError::NotInRecord {
                wheel: wheel_path.clone(),
                entry: entry.name.clone(),
            })?;
        let stored = format!("f{}", manifest_files.len());
        let path = files.join(&stored);
        let (hash, size) = reader.extract_verified(entry, recorded, &path)?;
        let executable = is_script || entry.executable;
        set_mode(&path, executable)?;
        let python_shebang = is_script && starts_with_python_shebang(&path)?;
        manifest_files.push(ManifestFile {
            name: entry.name.clone(),
            stored,
            hash,
            size,
            executable,
            python_shebang,
        });
    }
    let launchers = ["console_scripts", "gui_scripts"]
        .into_iter()
        .flat_map(|group| {
            entry_points
                .group(group)
                .iter()
                .map(move |ep| ManifestEntryPoint {
                    group: group.to_string(),
                    name: ep.name.clone(),
                    value: ep.value.clone(),
                })
        })
        .collect();
    Ok(Manifest {
        format: Manifest::FORMAT,
        wheel: filename.to_string(),
        root_is_purelib,
        dist_info: layout.dist_info,
        data: layout.data,
        dist_name: layout.dist_name,
        files: manifest_files,
        launchers,
    })
}

/// Whether a file starts with `#!python` (a script whose shebang the installer rewrites).
fn starts_with_python_shebang(path: &Path) -> Result<bool, InstallError> {
    let mut head = [0u8; 8];
    let mut file = File::open(path).map_err(|e| InstallError::io("read", path, e))?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(InstallError::io("read", path, e)),
        }
    }
    Ok(&head[..read] == b"#!python")
}

/// What an install reports to the transaction it runs in, so that a crash at any point can
/// be undone: the paths it will create (before the first change), the files it replaces
/// (which the transaction keeps), and named points for fault injection.
pub(crate) trait Changes {
    /// Every file the install is about to create, and the `.py` files it will byte-compile
    /// (whose `.pyc` files appear too). Called once per install, before any change.
    fn will_create(&mut self, files: &[&Path], compiled: &[&Path]) -> Result<(), InstallError>;
    /// Moves the existing file at `path` out of the way and returns where it went; the
    /// install moves it back if it fails.
    fn set_aside(&mut self, path: &Path) -> Result<PathBuf, InstallError>;
    /// A fault-injection point (`PLONK_FAULT`).
    fn point(&mut self, _name: &str) {}
    /// Where staging folders go when not in the environment root.
    fn staging_parent(&self) -> Option<PathBuf> {
        None
    }
}

/// An install outside any transaction: replaced files wait in a folder of the environment
/// (made when first needed) that is deleted when the install ends.
pub(crate) struct Standalone {
    root: PathBuf,
    backup: Option<tempfile::TempDir>,
    count: usize,
}

impl Standalone {
    pub(crate) fn new(root: &Path) -> Self {
        Standalone {
            root: root.to_path_buf(),
            backup: None,
            count: 0,
        }
    }
}

impl Changes for Standalone {
    fn will_create(&mut self, _: &[&Path], _: &[&Path]) -> Result<(), InstallError> {
        Ok(())
    }

    fn set_aside(&mut self, path: &Path) -> Result<PathBuf, InstallError> {
        let dir = match &self.backup {
            Some(dir) => dir.path().to_path_buf(),
            None => {
                let dir = staging_dir(&self.root)?;
                let path = dir.path().to_path_buf();
                self.backup = Some(dir);
                path
            }
        };
        self.count += 1;
        let kept = dir.join(format!("b{}", self.count));
        move_file(path, &kept)?;
        Ok(kept)
    }
}

/// Where a planned file's content comes from.
enum Content {
    /// A file of the unpacked wheel: linked, copied or (from staging) moved.
    Stored(PathBuf),
    /// Written for this install (launchers, rewritten scripts, `INSTALLER`, …).
    Fresh(Vec<u8>),
}

/// A file ready to be placed, with where it goes.
struct Planned {
    content: Content,
    dest: PathBuf,
    executable: bool,
    /// RECORD hash of the installed content; `None` for files allowed to change.
    hash: Option<String>,
    size: Option<u64>,
}

/// Everything an install will write, computed without touching the environment.
struct TreePlan {
    wheel_path: PathBuf,
    site_dir: PathBuf,
    dist_info_dest: PathBuf,
    record_dest: PathBuf,
    /// In placement order: `.dist-info` files last, RECORD (written at the end) not included.
    files: Vec<Planned>,
}

impl TreePlan {
    /// Every path the install creates, RECORD included.
    fn dests(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .map(|p| p.dest.as_path())
            .chain(std::iter::once(self.record_dest.as_path()))
    }

    /// The `.py` files byte-compiling covers (none unless `opts.compile`).
    fn compiled<'a>(
        &'a self,
        dirs: &'a Dirs,
        opts: &InstallOptions,
    ) -> impl Iterator<Item = &'a Path> {
        let compile = opts.compile;
        self.files
            .iter()
            .map(|p| p.dest.as_path())
            .filter(move |d| {
                compile
                    && d.extension().is_some_and(|e| e == "py")
                    && (d.starts_with(&dirs.purelib) || d.starts_with(&dirs.platlib))
            })
    }
}

/// Work out where every file of an unpacked wheel goes and what the installer writes itself,
/// checking names and conflicts; reads the environment for nothing.
fn plan_tree(
    unpacked: &UnpackedWheel,
    dirs: &Dirs,
    opts: &InstallOptions,
) -> Result<TreePlan, InstallError> {
    let wheel_path = unpacked.wheel.clone();
    let manifest = &unpacked.manifest;
    let layout = Layout {
        dist_info: manifest.dist_info.clone(),
        data: manifest.data.clone(),
        dist_name: manifest.dist_name.clone(),
    };
    let site_dir = if manifest.root_is_purelib {
        dirs.purelib.clone()
    } else {
        dirs.platlib.clone()
    };
    let dist_info_dest = site_dir.join(&layout.dist_info);

    let mut planned: Vec<Planned> = Vec::with_capacity(manifest.files.len() + 4);
    let mut dests: HashSet<PathBuf> = HashSet::with_capacity(manifest.files.len() + 4);
    let mut add_plan = |planned: &mut Vec<Planned>, p: Planned| -> Result<(), InstallError> {
        if !dests.insert(p.dest.clone()) {
            return Err(InstallError::ConflictingPaths {
                wheel: wheel_path.clone(),
                path: p.dest,
            });
        }
        planned.push(p);
        Ok(())
    };

    let generated = generated_files(&layout.dist_info);
    for file in &manifest.files {
        // The manifest may come from the cache: its names get the archive's checks again.
        let name = validate_entry_name(&file.name).map_err(|reason| InstallError::UnsafeEntry {
            wheel: wheel_path.clone(),
            entry: file.name.clone(),
            reason,
        })?;
        if generated.contains(name) {
            continue;
        }
        let (dest, is_script) = layout.destination(&wheel_path, name, dirs, &site_dir)?;
        let from = unpacked.stored_path(file)?;
        let rewritten = if is_script && file.python_shebang {
            let content = fs::read(&from).map_err(|e| InstallError::io("read", &from, e))?;
            rewrite_python_shebang(&content, &dirs.python)
        } else {
            None
        };
        let plan = match rewritten {
            Some(rewritten) => Planned {
                hash: Some(crate::dist::record_hash(&rewritten)),
                size: Some(rewritten.len() as u64),
                content: Content::Fresh(rewritten),
                dest,
                executable: true,
            },
            None => Planned {
                content: Content::Stored(from),
                dest,
                executable: file.executable,
                hash: Some(file.hash.clone()),
                size: Some(file.size),
            },
        };
        add_plan(&mut planned, plan)?;
    }

    // Console and GUI launchers (the same on POSIX: there is no pythonw).
    for ep in &manifest.launchers {
        let group = ep.group.as_str();
        let ep = EntryPoint {
            name: ep.name.clone(),
            value: ep.value.clone(),
        };
        let invalid = || InstallError::InvalidEntryPoint {
            wheel: wheel_path.clone(),
            group: group.to_string(),
            name: ep.name.clone(),
            value: ep.value.clone(),
        };
        if validate_entry_name(&ep.name).is_err()
            || ep.name.contains('/')
            || !ep.is_valid_reference()
        {
            return Err(invalid());
        }
        let script = launcher(&dirs.python, &ep).ok_or_else(invalid)?;
        add_plan(
            &mut planned,
            Planned {
                hash: Some(crate::dist::record_hash(script.as_bytes())),
                size: Some(script.len() as u64),
                content: Content::Fresh(script.into_bytes()),
                dest: dirs.scripts.join(&ep.name),
                executable: true,
            },
        )?;
    }

    // Installer-written .dist-info files: allowed to change, so recorded without hash.
    let mut extra: Vec<(&str, Vec<u8>)> =
        vec![("INSTALLER", format!("{}\n", opts.installer).into_bytes())];
    if opts.requested {
        extra.push(("REQUESTED", Vec::new()));
    }
    if let Some(direct_url) = &opts.direct_url {
        extra.push(("direct_url.json", direct_url.to_json().into_bytes()));
    }
    for (name, content) in extra {
        add_plan(
            &mut planned,
            Planned {
                content: Content::Fresh(content),
                dest: dist_info_dest.join(name),
                executable: false,
                hash: None,
                size: None,
            },
        )?;
    }
    let record_dest = dist_info_dest.join("RECORD");

    // `a` and `a/b` cannot both be files: refuse before touching the environment rather
    // than fail half-way with an OS error.
    for p in &planned {
        if let Some(folder) = p.dest.ancestors().skip(1).find(|a| dests.contains(*a)) {
            return Err(InstallError::FileAndFolder {
                wheel: wheel_path,
                path: folder.to_path_buf(),
            });
        }
    }
    // .dist-info files go last so that a half-installed distribution is never visible as
    // complete; RECORD is written after byte-compiling, once the .pyc list is known.
    planned.sort_by_key(|p| p.dest.starts_with(&dist_info_dest));
    Ok(TreePlan {
        wheel_path,
        site_dir,
        dist_info_dest,
        record_dest,
        files: planned,
    })
}

/// Place the files of an unpacked wheel into `dirs`, write the installer's own files and
/// RECORD; undo everything on error. `changes` hears of every path before it is created.
fn install_tree(
    unpacked: &UnpackedWheel,
    dirs: &Dirs,
    opts: &InstallOptions,
    placement: Placement<'_>,
    changes: &mut dyn Changes,
) -> Result<InstalledWheel, InstallError> {
    let plan = plan_tree(unpacked, dirs, opts)?;
    if fs::symlink_metadata(&plan.dist_info_dest).is_ok() {
        return Err(InstallError::AlreadyInstalled {
            wheel: plan.wheel_path,
            dist_info: plan.dist_info_dest,
        });
    }
    {
        let files: Vec<&Path> = plan.dests().collect();
        let compiled: Vec<&Path> = plan.compiled(dirs, opts).collect();
        changes.will_create(&files, &compiled)?;
    }

    // Everything is verified and announced: from here on, every change is tracked and
    // undone on error.
    let mut tx = Placements::default();
    match place_all(&mut tx, &plan, placement, dirs, opts, changes) {
        Ok(record) => Ok(InstalledWheel {
            name: unpacked.filename.name.clone(),
            version: unpacked.filename.version.clone(),
            dist_info: plan.dist_info_dest,
            requested: opts.requested,
            installer: opts.installer.clone(),
            record,
        }),
        Err(cause) => match tx.rollback() {
            Ok(()) => Err(cause),
            Err(leftover) => Err(InstallError::RollbackIncomplete {
                wheel: unpacked.wheel.clone(),
                leftover,
                cause: Box::new(cause),
            }),
        },
    }
}

/// Place the files, byte-compile, and write RECORD.
fn place_all(
    tx: &mut Placements,
    plan: &TreePlan,
    mut placement: Placement<'_>,
    dirs: &Dirs,
    opts: &InstallOptions,
    changes: &mut dyn Changes,
) -> Result<Record, InstallError> {
    for p in &plan.files {
        changes.point("link");
        match (&p.content, &mut placement) {
            (Content::Fresh(bytes), _) => tx.place_with(&p.dest, &dirs.root, changes, |dest| {
                write_new(dest, bytes, p.executable)
            })?,
            (Content::Stored(from), Placement::Move) => {
                tx.place_with(&p.dest, &dirs.root, changes, |dest| move_file(from, dest))?
            }
            (Content::Stored(from), Placement::Link(linker)) => {
                tx.place_with(&p.dest, &dirs.root, changes, |dest| {
                    linker.link_or_copy(from, dest)
                })?
            }
        }
    }

    let mut record = Record::default();
    record.entries.reserve(plan.files.len() + 1);
    for p in &plan.files {
        record.entries.push(RecordEntry {
            path: record_path(&relative_path(&plan.site_dir, &p.dest)),
            hash: p.hash.clone(),
            size: p.size,
        });
    }

    let sources: Vec<&Path> = plan.compiled(dirs, opts).collect();
    for pyc in compile(&dirs.python, &sources, tx, &dirs.root)? {
        record.entries.push(RecordEntry {
            path: record_path(&relative_path(&plan.site_dir, &pyc)),
            hash: None,
            size: None,
        });
    }

    record.entries.push(RecordEntry {
        path: record_path(&relative_path(&plan.site_dir, &plan.record_dest)),
        hash: None,
        size: None,
    });
    let bytes = record.write();
    changes.point("link");
    tx.place_with(&plan.record_dest, &dirs.root, changes, |dest| {
        write_new(dest, bytes.as_bytes(), false)
    })?;
    Ok(record)
}

/// Create `dest` (which must not exist) with `content`; scripts get execute bits.
fn write_new(dest: &Path, content: &[u8], executable: bool) -> Result<(), InstallError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(|e| InstallError::io("write", dest, e))?;
    file.write_all(content)
        .map_err(|e| InstallError::io("write", dest, e))?;
    if executable {
        make_executable(&file, dest)?;
    }
    Ok(())
}

/// Byte-compile `sources` in place; returns the `.pyc` files written, which are also tracked
/// in `tx` (with any `__pycache__` folder that did not exist) so a later error removes them.
fn compile(
    python: &Path,
    sources: &[&Path],
    tx: &mut Placements,
    root: &Path,
) -> Result<Vec<PathBuf>, InstallError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    // Track new __pycache__ folders before Python creates them.
    let mut cache_dirs: Vec<PathBuf> = sources
        .iter()
        .filter_map(|s| s.parent().map(|p| p.join("__pycache__")))
        .collect();
    cache_dirs.sort();
    cache_dirs.dedup();
    for d in cache_dirs {
        if fs::symlink_metadata(&d).is_err() {
            tx.created_dirs.push(d);
        }
    }
    // One file per line on stdin; a file that fails to compile (e.g. Python 2 syntax) is
    // skipped, as pip does.
    const SCRIPT: &str = "import sys, py_compile\nfor p in sys.stdin.read().splitlines():\n    try:\n        out = py_compile.compile(p, doraise=True)\n    except Exception:\n        continue\n    if out:\n        print(out)\n";
    let mut child = Command::new(python)
        .args(["-I", "-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| InstallError::CompileSpawn {
            python: python.to_path_buf(),
            source,
        })?;
    let mut input = String::new();
    for s in sources {
        if let Some(s) = s.to_str().filter(|s| !s.contains(['\n', '\r'])) {
            input.push_str(s);
            input.push('\n');
        }
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|source| InstallError::CompileSpawn {
                python: python.to_path_buf(),
                source,
            })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|source| InstallError::CompileSpawn {
            python: python.to_path_buf(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut pycs = Vec::new();
    for line in stdout.lines() {
        let pyc = PathBuf::from(line.trim_end());
        if pyc.is_absolute() && pyc.starts_with(root) {
            tx.placed.push(Placed {
                dest: pyc.clone(),
                backup: None,
            });
            pycs.push(pyc);
        }
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(InstallError::CompileFailed {
            python: python.to_path_buf(),
            status: output.status.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(pycs)
}

#[cfg(unix)]
fn set_mode(path: &Path, executable: bool) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    if !executable {
        return Ok(());
    }
    let meta = fs::metadata(path).map_err(|e| InstallError::io("read metadata of", path, e))?;
    let mode = meta.permissions().mode();
    // pip's rule: add an execute bit wherever there is a read bit.
    let mode = mode | ((mode & 0o444) >> 2);
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| InstallError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _executable: bool) -> Result<(), InstallError> {
    Ok(())
}

/// [`set_mode`] on a file just created (`path` names it in errors).
#[cfg(unix)]
fn make_executable(file: &File, path: &Path) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = file
        .metadata()
        .map_err(|e| InstallError::io("read metadata of", path, e))?;
    let mode = meta.permissions().mode();
    let mode = mode | ((mode & 0o444) >> 2);
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| InstallError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn make_executable(_file: &File, _path: &Path) -> Result<(), InstallError> {
    Ok(())
}

/// A file put into the environment, and where the file it replaced was kept.
struct Placed {
    dest: PathBuf,
    backup: Option<PathBuf>,
}

/// The changes one install made to the environment so far, in order, so they can be undone.
#[derive(Default)]
struct Placements {
    created_dirs: Vec<PathBuf>,
    placed: Vec<Placed>,
    /// Folders known to exist (checked or created): not looked at again.
    known_dirs: HashSet<PathBuf>,
    /// Folders this install created: nothing in them can be in the way of a new file.
    fresh_dirs: HashSet<PathBuf>,
}

impl Placements {
    /// Create the missing ancestors of `dest` (inside `root`), set aside an existing file at
    /// `dest` (through `changes`), then `put` the new one there.
    fn place_with(
        &mut self,
        dest: &Path,
        root: &Path,
        changes: &mut dyn Changes,
        put: impl FnOnce(&Path) -> Result<(), InstallError>,
    ) -> Result<(), InstallError> {
        let parent = dest.parent();
        let in_fresh_dir = parent.is_some_and(|p| self.fresh_dirs.contains(p));
        let backup = if in_fresh_dir {
            None
        } else {
            if let Some(parent) = parent {
                self.create_dirs(parent, root)?;
            }
            match fs::symlink_metadata(dest) {
                Ok(meta) if meta.is_dir() => {
                    return Err(InstallError::io(
                        "replace the directory",
                        dest,
                        std::io::Error::new(
                            std::io::ErrorKind::IsADirectory,
                            "a file of the wheel would replace a directory",
                        ),
                    ));
                }
                Ok(_) => Some(changes.set_aside(dest)?),
                Err(_) => None,
            }
        };
        // Record before placing: if placing fails, rollback still restores the backup.
        self.placed.push(Placed {
            dest: dest.to_path_buf(),
            backup,
        });
        put(dest)
    }

    fn create_dirs(&mut self, dir: &Path, root: &Path) -> Result<(), InstallError> {
        if self.known_dirs.contains(dir) {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if self.known_dirs.contains(d) || fs::symlink_metadata(d).is_ok() {
                self.known_dirs.insert(d.to_path_buf());
                break;
            }
            if !d.starts_with(root) || d == root {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match fs::create_dir(&d) {
                Ok(()) => {
                    self.created_dirs.push(d.clone());
                    self.known_dirs.insert(d.clone());
                    self.fresh_dirs.insert(d);
                }
                // Another install of the same transaction (running at the same time) made it.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {
                    self.known_dirs.insert(d);
                }
                Err(e) => return Err(InstallError::io("create directory", &d, e)),
            }
        }
        Ok(())
    }

    /// Undo every change, newest first. Returns the first path that could not be restored.
    fn rollback(&mut self) -> Result<(), PathBuf> {
        let mut first_failure = None;
        for p in self.placed.drain(..).rev() {
            let removed = match fs::symlink_metadata(&p.dest) {
                Ok(_) => fs::remove_file(&p.dest).is_ok(),
                Err(_) => true,
            };
            let restored = match &p.backup {
                Some(b) if removed => move_file(b, &p.dest).is_ok(),
                Some(_) => false,
                None => removed,
            };
            if !restored && first_failure.is_none() {
                first_failure = Some(p.dest);
            }
        }
        for d in self.created_dirs.drain(..).rev() {
            if fs::symlink_metadata(&d).is_ok()
                && fs::remove_dir(&d).is_err()
                && first_failure.is_none()
            {
                first_failure = Some(d);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

/// Rename, or copy and delete when source and destination are on different file systems.
pub(crate) fn move_file(from: &Path, to: &Path) -> Result<(), InstallError> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(rename_err) => {
            let meta = fs::symlink_metadata(from)
                .map_err(|_| InstallError::io("move", from, rename_err))?;
            if meta.file_type().is_symlink() {
                let target =
                    fs::read_link(from).map_err(|e| InstallError::io("read link", from, e))?;
                #[cfg(unix)]
                std::os::unix::fs::symlink(&target, to)
                    .map_err(|e| InstallError::io("create link", to, e))?;
                #[cfg(not(unix))]
                let _ = target;
            } else {
                fs::copy(from, to).map_err(|e| InstallError::io("copy", to, e))?;
            }
            fs::remove_file(from).map_err(|e| InstallError::io("remove", from, e))
        }
    }
}

/// Parse the `WHEEL` file: supported `Wheel-Version` and `Root-Is-Purelib`.
fn parse_wheel_file(wheel: &Path, file: &str, bytes: &[u8]) -> Result<bool, InstallError> {
    let invalid = |reason: String| InstallError::InvalidWheelFile {
        wheel: wheel.to_path_buf(),
        file: file.to_string(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("it is not valid UTF-8".into()))?;
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':') {
            fields
                .entry(k.trim().to_ascii_lowercase())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    let version = fields
        .get("wheel-version")
        .ok_or_else(|| invalid("it has no `Wheel-Version`".into()))?;
    let major = version.split('.').next().unwrap_or_default();
    if major != "1" {
        return Err(invalid(format!(
            "`Wheel-Version: {version}` is not supported (only 1.x)"
        )));
    }
    let purelib = fields
        .get("root-is-purelib")
        .ok_or_else(|| invalid("it has no `Root-Is-Purelib`".into()))?;
    Ok(purelib.eq_ignore_ascii_case("true"))
}

/// The wheel's `.dist-info` and optional `.data` top-level directory names.
struct Layout {
    dist_info: String,
    data: Option<String>,
    /// The distribution name as spelled in the `.dist-info` name, for the headers folder.
    dist_name: String,
}

/// Whether `dir` is `<name>-<version><suffix>` for this wheel (names and versions compared
/// normalized).
fn matches_wheel_dir(dir: &str, suffix: &str, filename: &WheelFilename) -> bool {
    let Some(stem) = dir.strip_suffix(suffix) else {
        return false;
    };
    let Some((name, version)) = stem.rsplit_once('-') else {
        return false;
    };
    PackageName::from_str(name).is_ok_and(|n| n == filename.name)
        && Version::from_str(version).is_ok_and(|v| v == filename.version)
}

impl Layout {
    fn find(
        wheel: &Path,
        filename: &WheelFilename,
        entries: &[Entry],
    ) -> Result<Self, InstallError> {
        let mut dist_info: Option<String> = None;
        let mut data: Option<String> = None;
        let mut tops: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.name.split_once('/').map(|(top, _)| top))
            .collect();
        tops.sort_unstable();
        tops.dedup();
        for top in tops {
            let (slot, suffix, expected) = if top.ends_with(".dist-info") {
                (&mut dist_info, ".dist-info", filename.dist_info_dir())
            } else if top.ends_with(".data") {
                (&mut data, ".data", filename.data_dir())
            } else {
                continue;
            };
            if !matches_wheel_dir(top, suffix, filename) || slot.is_some() {
                return Err(InstallError::DistInfoMismatch {
                    wheel: wheel.to_path_buf(),
                    found: top.to_string(),
                    expected,
                });
            }
            *slot = Some(top.to_string());
        }
        let dist_info = dist_info.ok_or_else(|| InstallError::MissingDistInfo {
            wheel: wheel.to_path_buf(),
            expected: filename.dist_info_dir(),
        })?;
        let stem = dist_info.strip_suffix(".dist-info").unwrap_or(&dist_info);
        let dist_name = stem.rsplit_once('-').map_or(stem, |(n, _)| n).to_string();
        Ok(Layout {
            dist_info,
            data,
            dist_name,
        })
    }

    /// Which scheme directory an entry goes to, and its path there; unknown `.data`
    /// folders and scripts in subfolders are refused.
    fn classify<'n>(&self, wheel: &Path, name: &'n str) -> Result<(Scheme, &'n str), InstallError> {
        if let Some(data) = &self.data
            && let Some(rest) = name
                .strip_prefix(data.as_str())
                .and_then(|r| r.strip_prefix('/'))
        {
            let unknown = || InstallError::UnknownDataDir {
                wheel: wheel.to_path_buf(),
                entry: name.to_string(),
            };
            let (key, path) = rest.split_once('/').ok_or_else(unknown)?;
            let scheme = match key {
                "purelib" => Scheme::Purelib,
                "platlib" => Scheme::Platlib,
                "scripts" => {
                    if path.contains('/') {
                        // Scripts live directly in bin/; a subfolder there would be surprising.
                        return Err(InstallError::UnsafeEntry {
                            wheel: wheel.to_path_buf(),
                            entry: name.to_string(),
                            reason: "scripts must not be in subfolders",
                        });
                    }
                    Scheme::Scripts
                }
                "headers" => Scheme::Headers,
                "data" => Scheme::Data,
                _ => return Err(unknown()),
            };
            return Ok((scheme, path));
        }
        Ok((Scheme::Root, name))
    }

    /// Where an entry is installed, and whether it is a script (shebang rewrite, +x).
    fn destination(
        &self,
        wheel: &Path,
        name: &str,
        dirs: &Dirs,
        site_dir: &Path,
    ) -> Result<(PathBuf, bool), InstallError> {
        let (scheme, path) = self.classify(wheel, name)?;
        Ok(match scheme {
            Scheme::Root => (site_dir.join(path), false),
            Scheme::Purelib => (dirs.purelib.join(path), false),
            Scheme::Platlib => (dirs.platlib.join(path), false),
            Scheme::Scripts => (dirs.scripts.join(path), true),
            Scheme::Headers => (dirs.include.join(&self.dist_name).join(path), false),
            Scheme::Data => (dirs.data.join(path), false),
        })
    }
}

/// The install scheme directory an archive entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// The wheel's root: purelib or platlib per `Root-Is-Purelib`.
    Root,
    Purelib,
    Platlib,
    Scripts,
    Headers,
    Data,
}

/// Reads entries from the archive with the zip-bomb bounds.
struct WheelReader<'a> {
    wheel: PathBuf,
    archive: &'a mut ZipArchive<BufReader<File>>,
    limit: u64,
    total: u64,
}

impl WheelReader<'_> {
    /// Validate the central directory: names, duplicates, symlinks, encryption, total size.
    fn list_entries(&mut self) -> Result<Vec<Entry>, InstallError> {
        // The zip reader keeps one entry per name; which copy would be "the" file is exactly
        // the ambiguity an attacker wants (a checker reads one, an extractor the other).
        if self.archive.has_duplicate_names() {
            return Err(InstallError::DuplicateNames {
                wheel: self.wheel.clone(),
            });
        }
        let mut entries = Vec::with_capacity(self.archive.len());
        let mut seen: HashSet<String> = HashSet::new();
        let mut declared_total: u64 = 0;
        for index in 0..self.archive.len() {
            let file =
                self.archive
                    .by_index_raw(index)
                    .map_err(|source| InstallError::ZipEntry {
                        wheel: self.wheel.clone(),
                        entry: format!("#{index}"),
                        source,
                    })?;
            let raw_name = file.name().map_err(|source| InstallError::ZipEntry {
                wheel: self.wheel.clone(),
                entry: format!("#{index}"),
                source,
            })?;
            let unsafe_entry = |reason| InstallError::UnsafeEntry {
                wheel: self.wheel.clone(),
                entry: raw_name.to_string(),
                reason,
            };
            let name = validate_entry_name(&raw_name)
                .map_err(unsafe_entry)?
                .to_string();
            if file.is_symlink() {
                return Err(unsafe_entry("symbolic links are not allowed in wheels"));
            }
            if file.encrypted() {
                return Err(unsafe_entry("the entry is encrypted"));
            }
            if !seen.insert(name.clone()) {
                return Err(InstallError::DuplicateEntry {
                    wheel: self.wheel.clone(),
                    entry: name,
                });
            }
            declared_total = declared_total.saturating_add(file.size());
            if declared_total > self.limit {
                return Err(InstallError::WheelTooLarge {
                    wheel: self.wheel.clone(),
                    limit: self.limit,
                });
            }
            entries.push(Entry {
                index,
                is_dir: file.is_dir(),
                declared: file.size(),
                executable: file.unix_mode().is_some_and(|m| m & 0o111 != 0),
                name,
            });
        }
        Ok(entries)
    }

    /// Stream an entry's data to `sink`, refusing more bytes than declared or than the
    /// remaining budget.
    fn copy_entry(
        &mut self,
        entry: &Entry,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), InstallError>,
    ) -> Result<u64, InstallError> {
        let mut file =
            self.archive
                .by_index(entry.index)
                .map_err(|source| InstallError::ZipEntry {
                    wheel: self.wheel.clone(),
                    entry: entry.name.clone(),
                    source,
                })?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut count: u64 = 0;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|source| InstallError::ReadEntry {
                    wheel: self.wheel.clone(),
                    entry: entry.name.clone(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            count += n as u64;
            if count > entry.declared {
                return Err(InstallError::EntryTooLarge {
                    wheel: self.wheel.clone(),
                    entry: entry.name.clone(),
                    declared: entry.declared,
                });
            }
            self.total += n as u64;
            if self.total > self.limit {
                return Err(InstallError::WheelTooLarge {
                    wheel: self.wheel.clone(),
                    limit: self.limit,
                });
            }
            sink(&buf[..n])?;
        }
        Ok(count)
    }

    fn read_to_vec(&mut self, entry: &Entry) -> Result<Vec<u8>, InstallError> {
        let mut out = Vec::with_capacity(usize::try_from(entry.declared.min(1 << 20)).unwrap_or(0));
        self.copy_entry(entry, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Unpack an entry to `dest`, checking it against its RECORD row. Returns the RECORD
    /// sha256 and size of the content.
    fn extract_verified(
        &mut self,
        entry: &Entry,
        recorded: &RecordEntry,
        dest: &Path,
    ) -> Result<(String, u64), InstallError> {
        let expected = recorded.hash.as_deref().unwrap_or_default();
        let (algorithm, digest) = expected.split_once('=').unwrap_or((expected, ""));
        let mut checker = match algorithm {
            "sha256" => None,
            "sha384" => Some(AnyHasher::Sha384(Sha384::new())),
            "sha512" => Some(AnyHasher::Sha512(Sha512::new())),
            _ => {
                return Err(InstallError::UnsupportedHash {
                    wheel: self.wheel.clone(),
                    entry: entry.name.clone(),
                    algorithm: algorithm.to_string(),
                });
            }
        };
        let mut sha256 = Sha256::new();
        let file = File::create(dest).map_err(|e| InstallError::io("create", dest, e))?;
        let mut out = std::io::BufWriter::new(file);
        let size = self.copy_entry(entry, &mut |chunk| {
            sha256.update(chunk);
            if let Some(c) = checker.as_mut() {
                c.update(chunk);
            }
            out.write_all(chunk)
                .map_err(|e| InstallError::io("write", dest, e))
        })?;
        out.flush()
            .map_err(|e| InstallError::io("write", dest, e))?;
        let sha256 = urlsafe_b64_nopad(&sha256.finalize());
        let actual = match checker {
            None => sha256.clone(),
            Some(c) => c.finalize_b64(),
        };
        // Some tools pad the base64 digest; compare without padding.
        if actual != digest.trim_end_matches('=') {
            return Err(InstallError::HashMismatch {
                wheel: self.wheel.clone(),
                entry: entry.name.clone(),
                expected: expected.to_string(),
                actual: format!("{algorithm}={actual}"),
            });
        }
        if let Some(expected_size) = recorded.size
            && expected_size != size
        {
            return Err(InstallError::SizeMismatch {
                wheel: self.wheel.clone(),
                entry: entry.name.clone(),
                expected: expected_size,
                actual: size,
            });
        }
        Ok((format!("sha256={sha256}"), size))
    }
}

/// The stronger algorithms RECORD may use besides sha256.
enum AnyHasher {
    Sha384(Sha384),
    Sha512(Sha512),
}

impl AnyHasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            AnyHasher::Sha384(h) => h.update(data),
            AnyHasher::Sha512(h) => h.update(data),
        }
    }

    fn finalize_b64(self) -> String {
        match self {
            AnyHasher::Sha384(h) => urlsafe_b64_nopad(&h.finalize()),
            AnyHasher::Sha512(h) => urlsafe_b64_nopad(&h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::testing::{WheelBuilder, diff, patch_bytes, patch_declared_size, snapshot};
    use crate::install::uninstall_from;
    use std::os::unix::fs::PermissionsExt;

    /// A venv-like layout in a temp dir: `lib/python3.11/site-packages`, `bin`, `include`.
    fn layout() -> (tempfile::TempDir, InstallTarget) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("venv");
        let target = InstallTarget::posix_venv(&root, 3, 11);
        fs::create_dir_all(&target.purelib).unwrap();
        fs::create_dir_all(&target.scripts).unwrap();
        fs::create_dir_all(root.join("include")).unwrap();
        fs::write(root.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        (tmp, target)
    }

    fn demo_wheel() -> WheelBuilder {
        let b = WheelBuilder::new("demo_pkg", "1.0");
        let b = b
            .file("demo_pkg/__init__.py", b"VALUE = 1\n")
            .file(
                "demo_pkg/cli.py",
                b"def main():\n    print('demo main')\n    return 0\ndef gui():\n    return 0\n",
            )
            .file("demo_pkg/data/config.txt", b"a,b\n")
            .exec_file("demo_pkg/tool.sh", b"#!/bin/sh\necho tool\n")
            .data_file("scripts", "demo-run", b"#!python\nprint('run')\n")
            .data_file("scripts", "demo-sh", b"#!/bin/sh\necho sh\n")
            .data_file("data", "share/demo/x.txt", b"shared data\n")
            .data_file("headers", "demo.h", b"#define DEMO 1\n")
            .data_file("purelib", "demo_extra.py", b"EXTRA = 2\n");
        b.entry_points("[console_scripts]\ndemo = demo_pkg.cli:main\n\n[gui_scripts]\ndemo-gui = demo_pkg.cli:gui\n\n[tutor.plugin.v1]\ndemo = demo_pkg.plugin\n")
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn installs_every_part_then_uninstall_restores_tree() {
        let (tmp, target) = layout();
        let before = snapshot(tmp.path());
        let wheel = demo_wheel().build(tmp.path());
        let before_with_wheel = snapshot(tmp.path());
        let opts = InstallOptions {
            requested: true,
            direct_url: Some(DirectUrl::archive(
                "https://example.org/demo.whl",
                Some("ab"),
            )),
            ..InstallOptions::default()
        };
        let installed = install_wheel_into(&wheel, &target, &opts).unwrap();
        assert_eq!(installed.name.to_string(), "demo-pkg");
        let sp = &target.purelib;
        let di = sp.join("demo_pkg-1.0.dist-info");
        assert_eq!(installed.dist_info, di);

        assert_eq!(
            fs::read(sp.join("demo_pkg/__init__.py")).unwrap(),
            b"VALUE = 1\n"
        );
        assert_eq!(fs::read(sp.join("demo_extra.py")).unwrap(), b"EXTRA = 2\n");
        assert_eq!(mode(&sp.join("demo_pkg/tool.sh")) & 0o111, 0o111);
        assert_eq!(mode(&sp.join("demo_pkg/cli.py")) & 0o111, 0);
        let root = &target.root;
        assert_eq!(
            fs::read(root.join("share/demo/x.txt")).unwrap(),
            b"shared data\n"
        );
        assert_eq!(
            fs::read(root.join("include/site/python3.11/demo_pkg/demo.h"))
                .unwrap_or_else(|e| panic!("{e}: {:?}", snapshot(root).keys().collect::<Vec<_>>())),
            b"#define DEMO 1\n"
        );
        let run = fs::read_to_string(target.scripts.join("demo-run")).unwrap();
        assert_eq!(
            run,
            format!("#!{}\nprint('run')\n", target.python.display())
        );
        assert_eq!(mode(&target.scripts.join("demo-run")) & 0o111, 0o111);
        assert_eq!(
            fs::read(target.scripts.join("demo-sh")).unwrap(),
            b"#!/bin/sh\necho sh\n"
        );
        let launcher = fs::read_to_string(target.scripts.join("demo")).unwrap();
        assert!(launcher.starts_with(&format!("#!{}\n", target.python.display())));
        assert!(launcher.contains("from demo_pkg.cli import main\n"));
        assert!(launcher.contains("sys.exit(main())"));
        assert_eq!(mode(&target.scripts.join("demo")) & 0o111, 0o111);
        assert!(target.scripts.join("demo-gui").exists());
        assert_eq!(fs::read(di.join("INSTALLER")).unwrap(), b"plonk\n");
        assert!(di.join("REQUESTED").exists());
        let du = DirectUrl::parse(&fs::read(di.join("direct_url.json")).unwrap()).unwrap();
        assert_eq!(du.archive_sha256(), Some("ab"));
        // No staging leftovers.
        assert!(fs::read_dir(root).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".plonk")
        }));

        // RECORD lists exactly the installed files, with correct hashes and sizes.
        let record = Record::parse(&fs::read(di.join("RECORD")).unwrap()).unwrap();
        assert_eq!(record, installed.record);
        let mut listed: Vec<PathBuf> = Vec::new();
        for e in &record.entries {
            let path = crate::install::paths::normalize_lexical(&sp.join(&e.path)).unwrap();
            if let Some(hash) = &e.hash {
                let content = fs::read(&path).unwrap();
                assert_eq!(hash, &crate::dist::record_hash(&content), "{}", e.path);
                assert_eq!(e.size, Some(content.len() as u64));
            }
            listed.push(path);
        }
        assert!(record.get("../../../bin/demo").is_some());
        assert!(
            record
                .get("demo_pkg-1.0.dist-info/RECORD")
                .unwrap()
                .hash
                .is_none()
        );
        assert!(
            record
                .get("demo_pkg-1.0.dist-info/INSTALLER")
                .unwrap()
                .hash
                .is_none()
        );
        let after = snapshot(tmp.path());
        let mut new_files: Vec<PathBuf> = diff(&before_with_wheel, &after)
            .iter()
            .filter_map(|d| d.strip_prefix("+ "))
            .map(|p| tmp.path().join(p))
            .filter(|p| p.is_file())
            .collect();
        new_files.sort();
        listed.sort();
        assert_eq!(new_files, listed);

        let report = uninstall_from(&target, &di, None).unwrap();
        assert!(report.skipped_outside.is_empty());
        assert!(report.missing.is_empty(), "{:?}", report.missing);
        fs::remove_file(&wheel).unwrap();
        let after = snapshot(tmp.path());
        assert_eq!(diff(&before, &after), Vec::<String>::new());
    }

    #[test]
    fn platlib_wheel_goes_to_platlib() {
        let (tmp, mut target) = layout();
        target.platlib = target.root.join("lib64/python3.11/site-packages");
        fs::create_dir_all(&target.platlib).unwrap();
        let before = snapshot(tmp.path());
        let mut b = WheelBuilder::new("fast", "2.0")
            .file("fast/__init__.py", b"")
            .file("fast/_speedups.so", b"\x7fELF")
            .data_file("purelib", "fast_pure.py", b"X = 1\n")
            .entry_points("[console_scripts]\nfast = fast:main\n");
        b.purelib = false;
        b.tag = "cp311-cp311-manylinux_2_17_x86_64".into();
        let wheel = b.build(tmp.path());
        let installed = install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap();
        assert!(installed.dist_info.starts_with(&target.platlib));
        assert!(target.platlib.join("fast/_speedups.so").exists());
        assert!(target.purelib.join("fast_pure.py").exists());
        assert!(!installed.dist_info.join("REQUESTED").exists());
        let record = &installed.record;
        assert!(
            record
                .get("../../../lib/python3.11/site-packages/fast_pure.py")
                .is_some()
        );
        assert!(record.get("../../../bin/fast").is_some());
        uninstall_from(&target, &installed.dist_info, None).unwrap();
        fs::remove_file(&wheel).unwrap();
        assert_eq!(diff(&before, &snapshot(tmp.path())), Vec::<String>::new());
    }

    #[test]
    fn shared_namespace_and_data_files_survive_until_last_owner_goes() {
        let (tmp, target) = layout();
        let before = snapshot(tmp.path());
        let a = WheelBuilder::new("ns_a", "1.0")
            .file("ns/a/__init__.py", b"A = 1\n")
            .data_file("data", "share/common/LICENSE", b"same\n")
            .build(tmp.path());
        let b = WheelBuilder::new("ns_b", "1.0")
            .file("ns/b/__init__.py", b"B = 1\n")
            .data_file("data", "share/common/LICENSE", b"same\n")
            .build(tmp.path());
        let ia = install_wheel_into(&a, &target, &InstallOptions::default()).unwrap();
        let ib = install_wheel_into(&b, &target, &InstallOptions::default()).unwrap();
        // Simulate an import having written bytecode next to ns/a.
        let cache = target.purelib.join("ns/a/__pycache__");
        fs::create_dir_all(&cache).unwrap();
        fs::write(cache.join("__init__.cpython-311.pyc"), b"pyc").unwrap();
        fs::write(cache.join("__init__.cpython-312.opt-1.pyc"), b"pyc").unwrap();

        let report = uninstall_from(&target, &ia.dist_info, None).unwrap();
        assert_eq!(
            report.kept_shared,
            [target.root.join("share/common/LICENSE")]
        );
        assert!(!target.purelib.join("ns/a").exists());
        assert!(target.purelib.join("ns/b/__init__.py").exists());
        assert!(target.root.join("share/common/LICENSE").exists());

        uninstall_from(&target, &ib.dist_info, None).unwrap();
        fs::remove_file(&a).unwrap();
        fs::remove_file(&b).unwrap();
        assert_eq!(diff(&before, &snapshot(tmp.path())), Vec::<String>::new());
    }

    #[test]
    fn second_install_of_same_dist_is_refused() {
        let (tmp, target) = layout();
        let wheel = WheelBuilder::new("one", "1.0")
            .file("one.py", b"")
            .build(tmp.path());
        install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap();
        let before = snapshot(tmp.path());
        let err = install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap_err();
        assert!(
            matches!(err, InstallError::AlreadyInstalled { .. }),
            "{err}"
        );
        assert_eq!(diff(&before, &snapshot(tmp.path())), Vec::<String>::new());
    }

    /// Install `bytes` as `filename` and assert the error matches and nothing changed.
    fn assert_refused(
        filename: &str,
        bytes: &[u8],
        check: impl Fn(&InstallError) -> bool,
        limit: u64,
    ) {
        let (tmp, target) = layout();
        // An existing file the hostile wheel tries to replace must come back.
        fs::write(target.purelib.join("aaa.py"), b"original\n").unwrap();
        let wheel_dir = tempfile::tempdir().unwrap();
        let wheel = wheel_dir.path().join(filename);
        fs::write(&wheel, bytes).unwrap();
        let before = snapshot(tmp.path());
        let err = install_with_limit(&wheel, &target, &InstallOptions::default(), limit)
            .expect_err("hostile wheel installed");
        assert!(check(&err), "unexpected error: {err} / {err:?}");
        // The message names the wheel.
        assert!(err.to_string().contains(filename), "{err}");
        assert_eq!(
            diff(&before, &snapshot(tmp.path())),
            Vec::<String>::new(),
            "{err}"
        );
    }

    fn base() -> WheelBuilder {
        WheelBuilder::new("evil", "1.0")
            .file("aaa.py", b"replaced\n")
            .file("evil/__init__.py", b"")
    }

    #[test]
    fn hostile_entry_names() {
        for (bad, _) in [
            ("../escape.py", ()),
            ("/abs.py", ()),
            ("evil/../../x.py", ()),
            ("evil\\..\\..\\x.py", ()),
        ] {
            let b = base().file(bad, b"x");
            assert_refused(
                &b.filename(),
                &b.bytes(),
                |e| matches!(e, InstallError::UnsafeEntry { .. }),
                MAX_UNPACKED_SIZE,
            );
        }
        let mut b = base();
        b.symlinks.push(("evil/link".into(), "/etc/passwd".into()));
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::UnsafeEntry { .. }),
            MAX_UNPACKED_SIZE,
        );
    }

    #[test]
    fn hostile_duplicate_entry() {
        let b = base().file("evil/one.py", b"1").file("evil/two.py", b"1");
        let mut bytes = b.bytes();
        // Rename `two` to `one` in both headers and RECORD: same content, same CRC.
        assert!(patch_bytes(&mut bytes, b"evil/two.py", b"evil/one.py") >= 2);
        assert_refused(
            &b.filename(),
            &bytes,
            |e| matches!(e, InstallError::DuplicateNames { .. }),
            MAX_UNPACKED_SIZE,
        );
        // A file and a folder entry of the same name.
        let b = base().file("evil/x", b"1").file("evil/x/", b"");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::DuplicateEntry { .. }),
            MAX_UNPACKED_SIZE,
        );
    }

    #[test]
    fn hostile_record() {
        let mut b = base().file("evil/mod.py", b"print(1)\n");
        b.record_rows.insert(
            "evil/mod.py".into(),
            format!("evil/mod.py,{},9", crate::dist::record_hash(b"print(2)\n")),
        );
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::HashMismatch { .. }),
            MAX_UNPACKED_SIZE,
        );

        let mut b = base().file("evil/mod.py", b"print(1)\n");
        b.record_rows.insert(
            "evil/mod.py".into(),
            format!("evil/mod.py,{},99", crate::dist::record_hash(b"print(1)\n")),
        );
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::SizeMismatch { .. }),
            MAX_UNPACKED_SIZE,
        );

        let mut b = base().file("evil/mod.py", b"print(1)\n");
        b.unrecorded.insert("evil/mod.py".into());
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::NotInRecord { .. }),
            MAX_UNPACKED_SIZE,
        );

        let mut b = base().file("evil/mod.py", b"print(1)\n");
        b.record_rows
            .insert("evil/mod.py".into(), "evil/mod.py,md5=abc,9".into());
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::UnsupportedHash { .. }),
            MAX_UNPACKED_SIZE,
        );
    }

    #[test]
    fn hostile_archive() {
        // Truncated archive.
        let b = base();
        let bytes = b.bytes();
        assert_refused(
            &b.filename(),
            &bytes[..bytes.len() / 2],
            |e| matches!(e, InstallError::Zip { .. }),
            MAX_UNPACKED_SIZE,
        );
        // Not a zip at all.
        assert_refused(
            &b.filename(),
            b"garbage",
            |e| matches!(e, InstallError::Zip { .. }),
            MAX_UNPACKED_SIZE,
        );
        // An entry that inflates beyond its declared size (the zip reader or our own count
        // stops it, whichever notices first).
        let big = vec![b'a'; 100_000];
        let b = base().file("evil/big.txt", &big);
        let mut bytes = b.bytes();
        patch_declared_size(&mut bytes, "evil/big.txt", 10);
        assert_refused(
            &b.filename(),
            &bytes,
            |e| {
                matches!(
                    e,
                    InstallError::EntryTooLarge { .. } | InstallError::ReadEntry { .. }
                )
            },
            MAX_UNPACKED_SIZE,
        );
        // A wheel over the total budget.
        let b = base().file("evil/big.txt", &big);
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::WheelTooLarge { .. }),
            50_000,
        );
    }

    #[test]
    fn hostile_layout() {
        // .dist-info of another project.
        let mut b = base();
        b.dist_info_name = Some("other-1.0.dist-info".into());
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::DistInfoMismatch { .. }),
            MAX_UNPACKED_SIZE,
        );
        // METADATA of another project.
        let mut b = base();
        b.metadata_name = Some("other".into());
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::MetadataMismatch { .. }),
            MAX_UNPACKED_SIZE,
        );
        // Unknown .data folder.
        let b = base().data_file("lib", "x.py", b"");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::UnknownDataDir { .. }),
            MAX_UNPACKED_SIZE,
        );
        // Entry point that would inject code into the launcher.
        let b = base().entry_points("[console_scripts]\nx = os; import shutil:rmtree\n");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::InvalidEntryPoint { .. }),
            MAX_UNPACKED_SIZE,
        );
        let b = base().entry_points("[console_scripts]\n../../x = evil:main\n");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::InvalidEntryPoint { .. }),
            MAX_UNPACKED_SIZE,
        );
        // A launcher and a .data script at the same path.
        let b = base()
            .data_file("scripts", "evil", b"#!python\n")
            .entry_points("[console_scripts]\nevil = evil:main\n");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::ConflictingPaths { .. }),
            MAX_UNPACKED_SIZE,
        );
        // `evil/x` is a file and the folder of `evil/x/y.py`.
        let b = base().file("evil/x", b"file\n").file("evil/x/y.py", b"");
        assert_refused(
            &b.filename(),
            &b.bytes(),
            |e| matches!(e, InstallError::FileAndFolder { path, .. } if path.ends_with("evil/x")),
            MAX_UNPACKED_SIZE,
        );
        // Bad file name.
        let b = base();
        assert_refused(
            "evil.whl",
            &b.bytes(),
            |e| matches!(e, InstallError::WheelFilename { .. }),
            MAX_UNPACKED_SIZE,
        );
    }

    #[test]
    fn failure_during_commit_rolls_back() {
        let (tmp, target) = layout();
        fs::write(target.purelib.join("aaa.py"), b"original\n").unwrap();
        // `zzz` exists as a folder: placing the file there fails after aaa.py was replaced.
        fs::create_dir_all(target.purelib.join("zzz/inner")).unwrap();
        let before = snapshot(tmp.path());
        let wheel_dir = tempfile::tempdir().unwrap();
        let wheel = WheelBuilder::new("clash", "1.0")
            .file("aaa.py", b"replaced\n")
            .file("newpkg/deep/mod.py", b"")
            .file("zzz", b"file\n")
            .build(wheel_dir.path());
        let err = install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap_err();
        assert!(matches!(err, InstallError::Io { .. }), "{err:?}");
        assert_eq!(diff(&before, &snapshot(tmp.path())), Vec::<String>::new());
    }

    fn python3() -> Option<PathBuf> {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    }

    #[test]
    fn real_venv_install_run_compile_uninstall() {
        let Some(python) = python3() else {
            eprintln!("python3 not available; skipping");
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("venv");
        let status = Command::new(&python)
            .args(["-m", "venv", "--without-pip"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success());
        let env = crate::environment::PythonEnvironment::from_root(&root, None).unwrap();
        let before = snapshot(&root);
        let wheel_dir = tempfile::tempdir().unwrap();
        let wheel = demo_wheel().build(wheel_dir.path());
        let opts = InstallOptions {
            compile: true,
            requested: true,
            ..InstallOptions::default()
        };
        let dist: crate::environment::InstalledDist =
            crate::install::install_wheel(&wheel, &env, &opts)
                .unwrap()
                .into();
        assert_eq!(dist.installer.as_deref(), Some("plonk"));
        let record = Record::parse(&fs::read(dist.dist_info.join("RECORD")).unwrap()).unwrap();
        assert!(
            record
                .entries
                .iter()
                .any(|e| e.path.starts_with("demo_pkg/__pycache__/cli.") && e.hash.is_none()),
            "{record:?}"
        );
        let bin = &env.interpreter.scheme.scripts;
        let out = Command::new(bin.join("demo")).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "demo main\n");
        let out = Command::new(bin.join("demo-run")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "run\n");
        let out = Command::new(env.python())
            .args([
                "-c",
                "import demo_pkg, demo_extra; print(demo_pkg.VALUE + demo_extra.EXTRA)",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n", "{out:?}");

        let installed = env.installed().unwrap();
        let found = installed
            .iter()
            .find(|d| d.name.to_string() == "demo-pkg")
            .unwrap();
        assert!(found.requested);
        let report = crate::install::uninstall(&env, found).unwrap();
        assert!(report.skipped_outside.is_empty());
        assert_eq!(diff(&before, &snapshot(&root)), Vec::<String>::new());
    }
}
