//! Transactions on an environment: every change (installs, replacements, removals) is applied
//! under a journal so that a plonk killed at any point leaves something the next plonk
//! command can finish or undo.
//!
//! The journal (`<venv>/.plonk/journal.jsonl`, one JSON object a line, only ever appended to)
//! records what the transaction is about to create before it creates it: the topmost path
//! that does not exist yet of everything an install will write (so a new package folder is
//! one line, whatever it holds), and for byte-compiled files in folders that already exist,
//! the sources whose `.pyc` files appear. Every existing file the transaction removes or
//! replaces is first moved into a backup folder (`.plonk/txn/backup`, at its relative path),
//! and the receipt is kept as a hard link. Undo is therefore independent of where the
//! transaction stopped: delete the recorded paths, move the backups back, put the receipt
//! back. It is idempotent, so an undo that is itself killed is simply run again. Commit
//! appends a `committed` line, then deletes the backups and empties the journal (an empty
//! journal is no transaction; the file stays for the next one); a commit interrupted after
//! that line is completed by the next command.
//!
//! Cost: nothing proportional to the size of the environment. The journal is made durable
//! (fsync) only before the first original is moved into the backup, and the commit line only
//! when originals are about to be deleted: a transaction that only adds files syncs nothing.
//!
//! Journals of the first format (`journal.json` with a list of every path of the environment
//! in `txn/before.txt`) are still recovered.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::paths::absolute;
use super::receipt::PLONK_DIR;
use super::wheel::{Changes, move_file};
use super::{InstallError, InstallOptions, InstallTarget, InstalledWheel, UninstallReport};
use super::{UnpackedWheel, uninstall::pycache_files};
use crate::environment::{InstalledDist, PythonEnvironment};

/// The journal of the current format.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The journal of the first format.
pub const LEGACY_JOURNAL_FILE: &str = "journal.json";
/// The transaction's folder (backups, staging), deleted when it ends.
pub const TXN_DIR: &str = "txn";
const BEFORE_FILE: &str = "before.txt";
const BACKUP_DIR: &str = "backup";
const STASH_DIR: &str = "stash";
const RECEIPT_FILE: &str = "receipt.json";
const RECEIPT_KEPT: &str = "receipt.json.orig";
const FORMAT: u32 = 2;

/// A named point where `PLONK_FAULT` can make plonk stop dead (for crash tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// `step[:n]`: abort when reaching the n-th (1-based, default 1) point named `step`.
    pub at: Option<(String, usize)>,
}

impl FaultPlan {
    /// Parses `PLONK_FAULT` (`install:2`, `uninstall`, `link:40`, `commit`, …).
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.is_empty() {
            return FaultPlan::default();
        }
        let (name, n) = match text.split_once(':') {
            Some((name, n)) => (name, n.parse().unwrap_or(1)),
            None => (text, 1),
        };
        FaultPlan {
            at: Some((name.to_string(), n.max(1))),
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Line {
    /// The first line.
    Begin {
        /// [`FORMAT`].
        version: u32,
        /// What the user ran (`install`, `remove`, …), for the recovery message.
        operation: String,
        /// Whether the receipt existed (and was kept as `receipt.json.orig`).
        receipt: bool,
    },
    /// A folder that did not exist: undo deletes it with everything in it.
    NewDir {
        /// Relative to the environment root.
        path: String,
    },
    /// A file that did not exist: undo deletes it.
    NewFile {
        /// Relative to the environment root.
        path: String,
    },
    /// A `.py` file byte-compiled in an existing folder: undo deletes its `.pyc` files.
    Pycs {
        /// Relative to the environment root.
        path: String,
    },
    /// Every change is applied: recovery completes instead of undoing.
    Committed,
}

/// A journal read back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Journal {
    operation: String,
    receipt: bool,
    committed: bool,
    /// `NewDir`, `NewFile` and `Pycs` lines, in order.
    created: Vec<Line>,
}

/// Errors of the journal itself.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The journal is not readable.
    #[error("plonk's journal at {} is damaged; the environment may be half-changed", path.display())]
    Damaged {
        /// The journal path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The journal names a path that is not a plain relative path inside the environment.
    #[error("plonk's journal at {} names `{entry}`, which is not inside the environment; nothing was undone", path.display())]
    Unsafe {
        /// The journal path.
        path: PathBuf,
        /// The offending entry.
        entry: String,
    },
    /// The journal still holds a transaction nobody finished or undid.
    #[error("an interrupted change is recorded in {}; run any plonk command on the environment to recover it first", path.display())]
    Pending {
        /// The journal path.
        path: PathBuf,
    },
    /// A path the transaction would change is outside the environment or not UTF-8.
    #[error("cannot record {} in the journal of {}: it is not a path inside the environment", path.display(), root.display())]
    Outside {
        /// The environment root.
        root: PathBuf,
        /// The path.
        path: PathBuf,
    },
    /// Removing or installing a distribution failed.
    #[error(transparent)]
    Install(#[from] InstallError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io {
        action,
        path,
        source,
    }
}

impl From<JournalError> for InstallError {
    fn from(err: JournalError) -> Self {
        match err {
            JournalError::Install(err) => err,
            JournalError::Io {
                action,
                path,
                source,
            } => InstallError::Io {
                action,
                path,
                source,
            },
            other => {
                let path = match &other {
                    JournalError::Outside { path, .. } => path.clone(),
                    JournalError::Damaged { path, .. }
                    | JournalError::Unsafe { path, .. }
                    | JournalError::Pending { path } => path.clone(),
                    _ => PathBuf::new(),
                };
                InstallError::Io {
                    action: "record in the journal",
                    path,
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        other.to_string(),
                    ),
                }
            }
        }
    }
}

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// An interrupted change was undone.
    RolledBack {
        /// The interrupted operation.
        operation: String,
    },
    /// A change interrupted after its commit point was finished.
    Completed {
        /// The interrupted operation.
        operation: String,
    },
}

/// Paths a transaction will create, gathered before it begins so that the journal's first
/// write covers them all (see [`Transaction::begin_expecting`]).
#[derive(Debug, Default)]
pub struct Expected {
    files: Vec<PathBuf>,
    compiled: Vec<PathBuf>,
}

impl Expected {
    /// Adds what installing `unpacked` into `env` with `opts` creates.
    pub fn install(
        &mut self,
        unpacked: &UnpackedWheel,
        env: &PythonEnvironment,
        opts: &InstallOptions,
    ) -> Result<(), InstallError> {
        let (files, compiled) =
            super::wheel::planned_paths(unpacked, &InstallTarget::from(env), opts)?;
        self.files.extend(files);
        self.compiled.extend(compiled);
        Ok(())
    }

    /// Whether two of the installs create the same file: those must run one after the other
    /// (the second replaces the first's file), not at the same time.
    pub fn overlapping(&self) -> bool {
        let mut seen = HashSet::with_capacity(self.files.len());
        !self.files.iter().all(|file| seen.insert(file))
    }
}

/// An open transaction on one environment. Hold the environment lock while it lives.
pub struct Transaction {
    root: PathBuf,
    journal: fs::File,
    journal_path: PathBuf,
    /// Relative paths recorded as created by this transaction (with all that is under them).
    created: HashSet<PathBuf>,
    /// Relative folders known to exist from before (memo of [`Transaction::record_lines`]).
    existing_dirs: HashSet<PathBuf>,
    /// Whether the journal has been synced to disk.
    durable: bool,
    /// Whether an original was moved into the backup (the commit then syncs).
    kept_originals: bool,
    stashed: usize,
    faults: FaultPlan,
    counts: HashMap<String, usize>,
}

fn plonk_dir(root: &Path) -> PathBuf {
    root.join(PLONK_DIR)
}

fn backup_dir(root: &Path) -> PathBuf {
    plonk_dir(root).join(TXN_DIR).join(BACKUP_DIR)
}

/// Removes a file or folder, fine if it is not there.
fn remove_if_present(path: &Path, dir: bool) -> Result<(), JournalError> {
    let result = if dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("remove", path)(e)),
    }
}

/// `path` as a journal string, if it is a plain relative path.
fn rel_string(path: &Path) -> Option<String> {
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| path.to_str().map(str::to_string))
        .flatten()
        .filter(|s| !s.is_empty() && !s.contains('\n'))
}

impl Transaction {
    /// Starts a transaction (a remove, or installs that record their paths as they go):
    /// keeps the receipt, writes the journal. Fails if the journal still holds an earlier
    /// transaction ([`recover`] must run first).
    pub fn begin(root: &Path, operation: &str, faults: FaultPlan) -> Result<Self, JournalError> {
        Self::begin_expecting(root, operation, faults, &Expected::default())
    }

    /// Starts a transaction whose first journal write already covers `expected`; installs
    /// of paths it does not cover still record them before creating them.
    pub fn begin_expecting(
        root: &Path,
        operation: &str,
        faults: FaultPlan,
        expected: &Expected,
    ) -> Result<Self, JournalError> {
        let root = absolute(root).map_err(io("resolve", root))?;
        let dir = plonk_dir(&root);
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let journal_path = dir.join(JOURNAL_FILE);
        // Kept empty between transactions: opening it allocates nothing.
        let journal = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&journal_path)
            .map_err(io("write", &journal_path))?;
        if journal.metadata().map_err(io("read", &journal_path))?.len() > 0 {
            return Err(JournalError::Pending { path: journal_path });
        }
        // Left by a transaction that ended without its clean-up.
        remove_if_present(&dir.join(TXN_DIR), true)?;
        let receipt = keep_receipt(&dir)?;
        let mut tx = Transaction {
            root,
            journal,
            journal_path,
            created: HashSet::new(),
            existing_dirs: HashSet::new(),
            durable: false,
            kept_originals: false,
            stashed: 0,
            faults,
            counts: HashMap::new(),
        };
        let mut lines = vec![Line::Begin {
            version: FORMAT,
            operation: operation.to_string(),
            receipt,
        }];
        tx.record_lines(&expected.files, &expected.compiled, &mut lines)?;
        tx.append(&lines)?;
        Ok(tx)
    }

    /// The environment root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Appends lines to the journal (one write).
    fn append(&mut self, lines: &[Line]) -> Result<(), JournalError> {
        let mut buf = Vec::with_capacity(lines.len() * 96);
        for line in lines {
            serde_json::to_writer(&mut buf, line).map_err(|source| JournalError::Damaged {
                path: self.journal_path.clone(),
                source,
            })?;
            buf.push(b'\n');
        }
        self.journal
            .write_all(&buf)
            .map_err(io("write", &self.journal_path))
    }

    /// Makes the journal durable before the first original leaves its place: after a power
    /// loss the backup must be found through it.
    fn make_durable(&mut self) -> Result<(), JournalError> {
        if self.durable {
            return Ok(());
        }
        self.journal
            .sync_all()
            .map_err(io("sync", &self.journal_path))?;
        // The journal's own directory entry, too.
        if let Ok(dir) = fs::File::open(plonk_dir(&self.root)) {
            let _ = dir.sync_all();
        }
        self.durable = true;
        Ok(())
    }

    /// The relative form of `path`, which must be inside the environment.
    fn relative<'p>(&self, path: &'p Path) -> Result<&'p Path, JournalError> {
        path.strip_prefix(&self.root)
            .ok()
            .filter(|rel| rel_string(rel).is_some())
            .ok_or_else(|| JournalError::Outside {
                root: self.root.clone(),
                path: path.to_path_buf(),
            })
    }

    /// Whether `rel` was created by this transaction (it or a folder above it is recorded).
    fn is_created(&self, rel: &Path) -> bool {
        rel.ancestors().any(|a| self.created.contains(a))
    }

    /// Whether the relative folder `rel` exists (as a folder, following links), memoized.
    fn dir_exists(&mut self, rel: &Path) -> bool {
        if self.existing_dirs.contains(rel) {
            return true;
        }
        let exists = fs::metadata(self.root.join(rel)).is_ok_and(|m| m.is_dir());
        if exists {
            self.existing_dirs.insert(rel.to_path_buf());
        }
        exists
    }

    /// Records in `lines` (and in memory) the topmost missing path of each file in `files`
    /// not already covered, and for each `.py` of `compiled` in an existing folder either its
    /// new `__pycache__` or its `.pyc` files.
    fn record_lines(
        &mut self,
        files: &[impl AsRef<Path>],
        compiled: &[impl AsRef<Path>],
        lines: &mut Vec<Line>,
    ) -> Result<(), JournalError> {
        // Files come folder by folder: a folder found covered covers its next files at the
        // cost of one lookup.
        let mut covered: HashSet<PathBuf> = HashSet::new();
        for file in files {
            let rel = self.relative(file.as_ref())?;
            let parent = rel.parent().unwrap_or(Path::new(""));
            if covered.contains(parent) {
                continue;
            }
            if self.is_created(parent) {
                covered.insert(parent.to_path_buf());
                continue;
            }
            if self.is_created(rel) {
                continue;
            }
            let rel = rel.to_path_buf();
            // Top-down: the first folder that is missing (or is not a folder) is new.
            let mut ancestors: Vec<&Path> = rel
                .ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty())
                .collect();
            ancestors.reverse();
            let mut new_dir = None;
            for a in ancestors {
                if !self.dir_exists(a) {
                    new_dir = Some(a.to_path_buf());
                    break;
                }
            }
            let line = match new_dir {
                Some(dir) => {
                    let path = rel_string(&dir).unwrap_or_default();
                    self.created.insert(dir);
                    Line::NewDir { path }
                }
                // An existing file is not new: whatever replaces it sets it aside first.
                None if fs::symlink_metadata(self.root.join(&rel)).is_ok() => continue,
                None => {
                    let path = rel_string(&rel).unwrap_or_default();
                    self.created.insert(rel);
                    Line::NewFile { path }
                }
            };
            lines.push(line);
        }
        for source in compiled {
            let rel = self.relative(source.as_ref())?.to_path_buf();
            let Some(folder) = rel.parent() else { continue };
            let cache = folder.join("__pycache__");
            if self.is_created(&cache) {
                continue;
            }
            if self.dir_exists(&cache) {
                lines.push(Line::Pycs {
                    path: rel_string(&rel).unwrap_or_default(),
                });
            } else {
                lines.push(Line::NewDir {
                    path: rel_string(&cache).unwrap_or_default(),
                });
                self.created.insert(cache);
            }
        }
        Ok(())
    }

    /// A fault-injection point: aborts the process when `PLONK_FAULT` names it.
    pub fn point(&mut self, name: &str) {
        let Some((at, at_n)) = &self.faults.at else {
            return;
        };
        if at != name {
            return;
        }
        let n = {
            let count = self.counts.entry(name.to_string()).or_default();
            *count += 1;
            *count
        };
        if *at_n == n {
            eprintln!("plonk: fault injected at `{name}:{n}`");
            std::process::abort();
        }
    }

    /// Installs a wheel (from its unpacked copy in the cache when there is one, else from
    /// the archive) under this transaction: every path is recorded before it is created and
    /// every file it replaces is kept.
    pub fn install(
        &mut self,
        wheel: &Path,
        unpacked: Option<&UnpackedWheel>,
        env: &PythonEnvironment,
        opts: &InstallOptions,
    ) -> Result<InstalledWheel, InstallError> {
        super::wheel::install_prepared_with(wheel, unpacked, &InstallTarget::from(env), opts, self)
    }

    /// [`Transaction::install`] for one of several threads installing distributions at once
    /// (whose files do not overlap, see [`Expected::overlapping`]): journal records, backups
    /// and fault points go through the lock, the linking itself runs unlocked.
    pub fn install_shared(
        tx: &std::sync::Mutex<&mut Transaction>,
        wheel: &Path,
        unpacked: Option<&UnpackedWheel>,
        env: &PythonEnvironment,
        opts: &InstallOptions,
    ) -> Result<InstalledWheel, InstallError> {
        let mut shared = Shared(tx);
        super::wheel::install_prepared_with(
            wheel,
            unpacked,
            &InstallTarget::from(env),
            opts,
            &mut shared,
        )
    }

    /// Removes a distribution, keeping its files in the transaction's backup.
    pub fn uninstall(
        &mut self,
        env: &PythonEnvironment,
        dist: &InstalledDist,
    ) -> Result<UninstallReport, JournalError> {
        self.point("uninstall");
        self.make_durable()?;
        self.kept_originals = true;
        let backup = backup_dir(&self.root);
        let root = self.root.clone();
        let created = |path: &Path| {
            path.strip_prefix(&root)
                .is_ok_and(|rel| self.is_created(rel))
        };
        let report = super::uninstall::uninstall_into_backup(
            &InstallTarget::from(env),
            &dist.dist_info,
            None,
            &backup,
            &created,
        )?;
        self.point("uninstalled");
        Ok(report)
    }

    /// Moves a file or folder of the environment (an editable checkout) into the backup.
    pub fn remove_path(&mut self, path: &Path) -> Result<(), JournalError> {
        let path = absolute(path).map_err(io("resolve", path))?;
        let rel = self.relative(&path)?.to_path_buf();
        self.make_durable()?;
        self.kept_originals = true;
        let dest = backup_dir(&self.root).join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        fs::rename(&path, &dest).map_err(io("move", &path))
    }

    /// Marks the change committed, then drops the backups and the journal.
    pub fn commit(mut self) -> Result<(), JournalError> {
        self.point("commit");
        self.append(&[Line::Committed])?;
        if self.kept_originals {
            // Originals are deleted next: the commit must survive a power loss first.
            self.journal
                .sync_data()
                .map_err(io("sync", &self.journal_path))?;
        }
        self.point("committed");
        finish(&self.root)
    }

    /// Undoes everything this transaction changed.
    pub fn rollback(self) -> Result<(), JournalError> {
        let root = self.root.clone();
        drop(self);
        recover(&root).map(|_| ())
    }
}

/// A transaction shared by installing threads (see [`Transaction::install_shared`]).
struct Shared<'a, 'b>(&'a std::sync::Mutex<&'b mut Transaction>);

impl<'b> Shared<'_, 'b> {
    fn lock(&self) -> std::sync::MutexGuard<'_, &'b mut Transaction> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Changes for Shared<'_, '_> {
    fn will_create(&mut self, files: &[&Path], compiled: &[&Path]) -> Result<(), InstallError> {
        Changes::will_create(&mut **self.lock(), files, compiled)
    }

    fn set_aside(&mut self, path: &Path) -> Result<PathBuf, InstallError> {
        Changes::set_aside(&mut **self.lock(), path)
    }

    fn point(&mut self, name: &str) {
        self.lock().point(name);
    }

    fn staging_parent(&self) -> Option<PathBuf> {
        Changes::staging_parent(&**self.lock())
    }
}

impl Changes for Transaction {
    fn will_create(&mut self, files: &[&Path], compiled: &[&Path]) -> Result<(), InstallError> {
        let mut lines = Vec::new();
        self.record_lines(files, compiled, &mut lines)?;
        if !lines.is_empty() {
            self.append(&lines)?;
        }
        Ok(())
    }

    fn set_aside(&mut self, path: &Path) -> Result<PathBuf, InstallError> {
        let rel = self.relative(path)?.to_path_buf();
        let kept = backup_dir(&self.root).join(&rel);
        // Only originals go to the backup; what this transaction wrote is just out of the way.
        let dest = if self.is_created(&rel) || fs::symlink_metadata(&kept).is_ok() {
            let stash = plonk_dir(&self.root).join(TXN_DIR).join(STASH_DIR);
            fs::create_dir_all(&stash)
                .map_err(|e| InstallError::io("create directory", &stash, e))?;
            self.stashed += 1;
            stash.join(format!("s{}", self.stashed))
        } else {
            self.make_durable()?;
            self.kept_originals = true;
            if let Some(parent) = kept.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| InstallError::io("create directory", parent, e))?;
            }
            kept
        };
        move_file(path, &dest)?;
        Ok(dest)
    }

    fn point(&mut self, name: &str) {
        Transaction::point(self, name);
    }

    fn staging_parent(&self) -> Option<PathBuf> {
        Some(plonk_dir(&self.root).join(TXN_DIR))
    }
}

/// Keeps the receipt as `receipt.json.orig` (a hard link: receipts are replaced by rename,
/// never rewritten in place); whether there was one.
fn keep_receipt(dir: &Path) -> Result<bool, JournalError> {
    let receipt = dir.join(RECEIPT_FILE);
    let kept = dir.join(RECEIPT_KEPT);
    let mut linked = fs::hard_link(&receipt, &kept);
    if linked
        .as_ref()
        .is_err_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists)
    {
        // Left by a transaction that ended without its clean-up.
        remove_if_present(&kept, false)?;
        linked = fs::hard_link(&receipt, &kept);
    }
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        // No hard links here: a copy does as well.
        Err(_) => match fs::copy(&receipt, &kept) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("keep", &receipt)(e)),
        },
    }
}

/// Finishes or undoes an interrupted transaction on this environment, if there is one.
/// Call with the environment lock held, before any other change.
pub fn recover(root: &Path) -> Result<Option<Recovery>, JournalError> {
    let root = &absolute(root).map_err(io("resolve", root))?;
    let path = plonk_dir(root).join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) if !b.is_empty() => b,
        // Missing or empty: no transaction of this format.
        Ok(_) => return recover_legacy(root),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return recover_legacy(root),
        Err(e) => return Err(io("read", &path)(e)),
    };
    let Some(journal) = parse(&bytes, &path)? else {
        // Killed while writing its first line: nothing was changed yet.
        finish(root)?;
        return Ok(None);
    };
    if journal.committed {
        finish(root)?;
        return Ok(Some(Recovery::Completed {
            operation: journal.operation,
        }));
    }
    undo(root, &journal, &path)?;
    Ok(Some(Recovery::RolledBack {
        operation: journal.operation,
    }))
}

/// Reads a journal. `None` when even its first line is incomplete. A last line without its
/// newline is one whose write was interrupted: the changes it announced had not started.
fn parse(bytes: &[u8], path: &Path) -> Result<Option<Journal>, JournalError> {
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => return Ok(None),
    };
    let damaged = |source| JournalError::Damaged {
        path: path.to_path_buf(),
        source,
    };
    let mut lines = complete.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let (operation, receipt) = match serde_json::from_slice(first).map_err(damaged)? {
        Line::Begin {
            version: FORMAT,
            operation,
            receipt,
        } => (operation, receipt),
        _ => {
            return Err(damaged(serde::de::Error::custom(
                "the first line is not the beginning of a transaction of this plonk",
            )));
        }
    };
    let mut journal = Journal {
        operation,
        receipt,
        committed: false,
        created: Vec::new(),
    };
    for line in lines {
        match serde_json::from_slice(line).map_err(damaged)? {
            Line::Begin { .. } => {
                return Err(damaged(serde::de::Error::custom(
                    "a transaction begins twice",
                )));
            }
            Line::Committed => journal.committed = true,
            line => {
                let rel = line_path(&line).unwrap_or_default();
                if rel_string(Path::new(rel)).is_none() {
                    return Err(JournalError::Unsafe {
                        path: path.to_path_buf(),
                        entry: rel.to_string(),
                    });
                }
                journal.created.push(line);
            }
        }
    }
    Ok(Some(journal))
}

/// The path a `NewDir`, `NewFile` or `Pycs` line names.
fn line_path(line: &Line) -> Option<&str> {
    match line {
        Line::NewDir { path } | Line::NewFile { path } | Line::Pycs { path } => Some(path),
        Line::Begin { .. } | Line::Committed => None,
    }
}

/// Deletes what the transaction created, puts the originals back, then cleans up.
fn undo(root: &Path, journal: &Journal, journal_path: &Path) -> Result<(), JournalError> {
    let canon_root = fs::canonicalize(root).map_err(io("resolve", root))?;
    // 1. Everything created goes, newest first. A path whose folder is gone was inside
    //    something already deleted.
    for line in journal.created.iter().rev() {
        let Some(rel) = line_path(line) else { continue };
        let target = root.join(rel);
        // The folder, resolved through links, must be inside the environment: a journal
        // naming `link/x` with `link` leading elsewhere must not delete anything there.
        match target.parent().map(fs::canonicalize) {
            Some(Ok(folder)) if folder.starts_with(&canon_root) => {}
            Some(Err(_)) => continue,
            _ => {
                return Err(JournalError::Unsafe {
                    path: journal_path.to_path_buf(),
                    entry: rel.to_string(),
                });
            }
        }
        match (line, fs::symlink_metadata(&target)) {
            (Line::NewDir { .. }, Ok(meta)) if meta.is_dir() => remove_if_present(&target, true)?,
            (Line::NewFile { .. }, Ok(meta)) if !meta.is_dir() => {
                remove_if_present(&target, false)?
            }
            (Line::Pycs { .. }, _) => {
                for pyc in pycache_files(&target) {
                    remove_if_present(&pyc, false)?;
                }
            }
            _ => {}
        }
    }
    // 2. The originals go back where they were (folders too: an emptied folder was kept).
    restore_backup(root)?;
    // 3. The receipt as it was.
    let dir = plonk_dir(root);
    let receipt = dir.join(RECEIPT_FILE);
    let kept = dir.join(RECEIPT_KEPT);
    match fs::rename(&kept, &receipt) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !journal.receipt {
                remove_if_present(&receipt, false)?;
            }
        }
        Err(e) => return Err(io("restore", &receipt)(e)),
    }
    finish(root)
}

/// Moves everything in the backup back to its place in the environment.
fn restore_backup(root: &Path) -> Result<(), JournalError> {
    let backup = backup_dir(root);
    if fs::symlink_metadata(&backup).is_err() {
        return Ok(());
    }
    let entries: Vec<walkdir::DirEntry> = walkdir::WalkDir::new(&backup)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    for entry in entries {
        let Ok(rel) = entry.path().strip_prefix(&backup) else {
            continue;
        };
        let dest = root.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).map_err(io("create", &dest))?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        fs::rename(entry.path(), &dest).map_err(io("restore", &dest))?;
    }
    Ok(())
}

/// Drops the transaction's files: backups, staging, the kept receipt, then empties the
/// journal (last: while it holds the transaction, the next command finishes this again). The
/// empty journal stays for the next transaction, which then allocates nothing for it.
fn finish(root: &Path) -> Result<(), JournalError> {
    let dir = plonk_dir(root);
    remove_if_present(&dir.join(TXN_DIR), true)?;
    remove_if_present(&dir.join(RECEIPT_KEPT), false)?;
    let journal = dir.join(JOURNAL_FILE);
    match fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&journal)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("empty", &journal)(e)),
    }
    remove_if_present(&dir.join(LEGACY_JOURNAL_FILE), false)
}

/// Whether a transaction may be pending in the environment at `root`: its journal holds
/// something, or a journal of the first format or a transaction folder is there. Cheap (three
/// `stat`s): commands call it before taking the lock to run [`recover`].
pub fn pending(root: &Path) -> bool {
    let dir = plonk_dir(root);
    fs::metadata(dir.join(JOURNAL_FILE)).is_ok_and(|m| m.len() > 0)
        || fs::symlink_metadata(dir.join(LEGACY_JOURNAL_FILE)).is_ok()
        || fs::symlink_metadata(dir.join(TXN_DIR)).is_ok()
}

/// The content of a journal of the first format.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LegacyState {
    version: u32,
    operation: String,
    committed: bool,
}

/// Recovery of a journal of the first format (or of a transaction's leftovers).
fn recover_legacy(root: &Path) -> Result<Option<Recovery>, JournalError> {
    let path = plonk_dir(root).join(LEGACY_JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A transaction killed before its journal was written changed nothing yet; one
            // killed during its clean-up had committed.
            finish(root)?;
            return Ok(None);
        }
        Err(e) => return Err(io("read", &path)(e)),
    };
    let state: LegacyState =
        serde_json::from_slice(&bytes).map_err(|source| JournalError::Damaged {
            path: path.clone(),
            source,
        })?;
    if state.committed {
        finish(root)?;
        return Ok(Some(Recovery::Completed {
            operation: state.operation,
        }));
    }
    undo_legacy(root)?;
    Ok(Some(Recovery::RolledBack {
        operation: state.operation,
    }))
}

/// Undo of the first format: delete every path that was not listed before, restore the
/// backups, remove the folders that did not exist.
fn undo_legacy(root: &Path) -> Result<(), JournalError> {
    let before_path = plonk_dir(root).join(TXN_DIR).join(BEFORE_FILE);
    let text = fs::read_to_string(&before_path).map_err(io("read", &before_path))?;
    let before: HashSet<&str> = text.lines().collect();
    let mut new_dirs = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.path() != plonk_dir(root))
        .filter_map(Result::ok)
    {
        let Some(rel) = entry
            .path()
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .filter(|s| !s.contains('\n'))
        else {
            continue;
        };
        if before.contains(rel) {
            continue;
        }
        if entry.file_type().is_dir() {
            new_dirs.push(entry.path().to_path_buf());
        } else {
            fs::remove_file(entry.path()).map_err(io("remove", entry.path()))?;
        }
    }
    restore_backup(root)?;
    new_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in new_dirs {
        let _ = fs::remove_dir(&dir);
    }
    finish(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.file_name() != PLONK_DIR)
            .filter_map(Result::ok)
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let bytes = if e.file_type().is_file() {
                    fs::read(e.path()).unwrap()
                } else {
                    Vec::new()
                };
                (rel, bytes)
            })
            .collect();
        out.sort();
        out
    }

    fn journal_lines(root: &Path) -> Vec<Line> {
        let text = fs::read_to_string(root.join(".plonk").join(JOURNAL_FILE)).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Creates `rel` (a file) the way an install does: announced first.
    fn create(tx: &mut Transaction, rel: &str, content: &[u8]) {
        let path = tx.root().join(rel);
        tx.will_create(&[&path], &[]).unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        if fs::symlink_metadata(&path).is_ok() {
            tx.set_aside(&path).unwrap();
        }
        fs::write(&path, content).unwrap();
    }

    #[test]
    fn undo_restores_the_tree_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("lib/site/a")).unwrap();
        fs::create_dir_all(root.join("lib/site/emptied")).unwrap();
        fs::write(root.join("lib/site/a/x.py"), b"x").unwrap();
        fs::write(root.join("lib/site/emptied/only.py"), b"o").unwrap();
        fs::write(root.join("lib/site/shared.py"), b"original").unwrap();
        fs::write(root.join("keep.txt"), b"k").unwrap();
        let before = tree(root);
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        // A removal into the backup (its folder left empty and removed), a new package, a
        // new file in an old folder, a replaced file, replaced again.
        tx.remove_path(&root.join("lib/site/a/x.py")).unwrap();
        tx.remove_path(&root.join("lib/site/emptied/only.py"))
            .unwrap();
        fs::remove_dir(root.join("lib/site/emptied")).unwrap();
        create(&mut tx, "lib/site/b/deep/y.py", b"y");
        create(&mut tx, "lib/site/b/z.py", b"z");
        create(&mut tx, "lib/site/new.pth", b"p");
        create(&mut tx, "lib/site/shared.py", b"first");
        create(&mut tx, "lib/site/shared.py", b"second");
        // The package folder is one line, whatever it holds.
        let lines = journal_lines(root);
        assert_eq!(
            lines[1..],
            [
                Line::NewDir {
                    path: "lib/site/b".into()
                },
                Line::NewFile {
                    path: "lib/site/new.pth".into()
                },
            ]
        );
        drop(tx);
        // As after a crash: the journal is there, not committed.
        assert_eq!(
            recover(root).unwrap(),
            Some(Recovery::RolledBack {
                operation: "install".into()
            })
        );
        assert_eq!(tree(root), before);
        assert!(!root.join(".plonk/txn").exists());
        assert!(!pending(root));
        assert_eq!(recover(root).unwrap(), None);
        assert_eq!(tree(root), before);
    }

    #[test]
    fn begin_records_only_the_topmost_new_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let site = root.join("lib/site");
        fs::create_dir_all(site.join("ns/old")).unwrap();
        fs::write(site.join("ns/old/m.py"), b"").unwrap();
        // A big environment costs nothing: only the planned paths are looked at.
        for i in 0..300 {
            fs::create_dir_all(site.join(format!("other{i}"))).unwrap();
        }
        let expected = Expected {
            files: vec![
                site.join("pkg/__init__.py"),
                site.join("pkg/sub/deep/x.py"),
                site.join("ns/new/__init__.py"),
                site.join("ns/old/m.py"),
                site.join("ns/old/n.py"),
                // A second new file in the same old folder is recorded too.
                site.join("ns/old/o.py"),
                root.join("bin/tool"),
            ],
            compiled: vec![site.join("ns/old/n.py"), site.join("pkg/__init__.py")],
        };
        fs::create_dir_all(site.join("ns/old/__pycache__")).unwrap();
        let tx =
            Transaction::begin_expecting(root, "install", FaultPlan::default(), &expected).unwrap();
        let lines = journal_lines(root);
        assert_eq!(lines.len(), 7, "{lines:?}");
        let begin = Line::Begin {
            version: 2,
            operation: "install".into(),
            receipt: false,
        };
        assert_eq!(lines[0], begin);
        assert_eq!(
            lines[1..],
            [
                Line::NewDir {
                    path: "lib/site/pkg".into()
                },
                Line::NewDir {
                    path: "lib/site/ns/new".into()
                },
                Line::NewFile {
                    path: "lib/site/ns/old/n.py".into()
                },
                Line::NewFile {
                    path: "lib/site/ns/old/o.py".into()
                },
                Line::NewDir { path: "bin".into() },
                Line::Pycs {
                    path: "lib/site/ns/old/n.py".into()
                },
            ]
        );
        assert!(!root.join(".plonk/txn").exists());
        assert!(pending(root));
        tx.commit().unwrap();
        assert!(!pending(root));
        // The next transaction reuses the emptied journal.
        let tx = Transaction::begin(root, "remove", FaultPlan::default()).unwrap();
        assert_eq!(journal_lines(root).len(), 1);
        drop(tx);
        assert!(recover(root).unwrap().is_some());
        assert!(!pending(root));
        assert_eq!(recover(root).unwrap(), None);
    }

    #[test]
    fn a_pending_journal_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        create(&mut tx, "pkg/x.py", b"x");
        drop(tx);
        let err = Transaction::begin(root, "remove", FaultPlan::default())
            .err()
            .unwrap();
        assert!(matches!(err, JournalError::Pending { .. }), "{err}");
        recover(root).unwrap();
        assert!(!root.join("pkg").exists());
    }

    #[test]
    fn paths_outside_the_environment_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        fs::create_dir_all(&root).unwrap();
        let mut tx = Transaction::begin(&root, "install", FaultPlan::default()).unwrap();
        let outside = dir.path().join("elsewhere/x.py");
        let err = tx.will_create(&[&outside], &[]).unwrap_err();
        assert!(err.to_string().contains("journal"), "{err}");
        let err = tx.remove_path(&outside).unwrap_err();
        assert!(matches!(err, JournalError::Outside { .. }), "{err}");
    }

    #[test]
    fn committed_journal_is_completed_not_undone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut tx = Transaction::begin(root, "remove", FaultPlan::default()).unwrap();
        create(&mut tx, "new.txt", b"n");
        tx.append(&[Line::Committed]).unwrap();
        drop(tx);
        assert_eq!(
            recover(root).unwrap(),
            Some(Recovery::Completed {
                operation: "remove".into()
            })
        );
        assert!(root.join("new.txt").exists());
        assert!(!root.join(".plonk/txn").exists());
        assert!(!pending(root));
    }

    #[test]
    fn the_receipt_comes_back_or_goes() {
        for existed in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            let plonk = root.join(".plonk");
            fs::create_dir_all(&plonk).unwrap();
            if existed {
                fs::write(plonk.join("receipt.json"), b"old").unwrap();
            }
            let tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
            // Saved as Receipt::save does: a new file renamed over the old one.
            fs::write(plonk.join("receipt.json.tmp"), b"new").unwrap();
            fs::rename(plonk.join("receipt.json.tmp"), plonk.join("receipt.json")).unwrap();
            drop(tx);
            recover(root).unwrap();
            assert_eq!(
                fs::read(plonk.join("receipt.json")).ok(),
                existed.then(|| b"old".to_vec())
            );
            assert!(!plonk.join(RECEIPT_KEPT).exists());
        }
    }

    #[test]
    fn a_file_replaced_by_a_folder_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("thing"), b"file").unwrap();
        let before = tree(root);
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        let inner = root.join("thing/inner.py");
        tx.will_create(&[&inner], &[]).unwrap();
        // Killed before the file moved: undo must not delete the original.
        drop(tx);
        recover(root).unwrap();
        assert_eq!(tree(root), before);
        // Killed after: the folder goes, the file comes back.
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        tx.will_create(&[&inner], &[]).unwrap();
        tx.remove_path(&root.join("thing")).unwrap();
        fs::create_dir(root.join("thing")).unwrap();
        fs::write(&inner, b"").unwrap();
        drop(tx);
        recover(root).unwrap();
        assert_eq!(tree(root), before);
    }

    #[test]
    fn installs_on_several_threads_share_one_transaction() {
        // Two "installs" record and replace files through one locked transaction at once
        // (each its own files, one replaced original each); undo restores the tree.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("lib")).unwrap();
        fs::write(root.join("lib/a0.py"), b"old a").unwrap();
        fs::write(root.join("lib/b0.py"), b"old b").unwrap();
        let before = tree(root);
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        let shared = std::sync::Mutex::new(&mut tx);
        std::thread::scope(|scope| {
            for who in ["a", "b"] {
                let shared = &shared;
                scope.spawn(move || {
                    let mut changes = Shared(shared);
                    for i in 0..20 {
                        let path = root.join(format!("lib/{who}{i}.py"));
                        changes.will_create(&[&path], &[]).unwrap();
                        if fs::symlink_metadata(&path).is_ok() {
                            changes.set_aside(&path).unwrap();
                        }
                        fs::write(&path, b"new").unwrap();
                        changes.point("link");
                    }
                });
            }
        });
        assert_eq!(fs::read(root.join("lib/b0.py")).unwrap(), b"new");
        tx.rollback().unwrap();
        assert_eq!(tree(root), before);
    }

    #[test]
    fn overlapping_installs_are_told_apart() {
        let mut expected = Expected {
            files: vec!["/v/lib/a.py".into(), "/v/lib/b.py".into()],
            compiled: Vec::new(),
        };
        assert!(!expected.overlapping());
        expected.files.push("/v/lib/a.py".into());
        assert!(expected.overlapping());
    }

    #[test]
    fn rollback_undoes_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), b"a").unwrap();
        let before = tree(root);
        let mut tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        create(&mut tx, "a.txt", b"changed");
        create(&mut tx, "pkg/b.txt", b"b");
        tx.rollback().unwrap();
        assert_eq!(tree(root), before);
        assert_eq!(recover(root).unwrap(), None);
    }

    #[test]
    fn journal_rows() {
        let path = Path::new("/venv/.plonk/journal.jsonl");
        let begin = r#"{"kind":"begin","version":2,"operation":"install","receipt":true}"#;
        let parse_str = |s: &str| parse(s.as_bytes(), path);
        // Valid.
        let j = parse_str(&format!(
            "{begin}\n{{\"kind\":\"new-dir\",\"path\":\"lib/pkg\"}}\n{{\"kind\":\"committed\"}}\n"
        ))
        .unwrap()
        .unwrap();
        assert!(j.committed && j.receipt && j.operation == "install");
        assert_eq!(
            j.created,
            [Line::NewDir {
                path: "lib/pkg".into()
            }]
        );
        // Truncated: an unfinished first line is no transaction; an unfinished last line
        // is ignored.
        assert_eq!(parse_str("").unwrap(), None);
        assert_eq!(parse_str(&begin[..20]).unwrap(), None);
        let j = parse_str(&format!("{begin}\n{{\"kind\":\"new-fi"))
            .unwrap()
            .unwrap();
        assert!(j.created.is_empty() && !j.committed);
        // Garbage.
        for bad in [
            "garbage\n".to_string(),
            format!("{begin}\nnot json\n"),
            format!("{begin}\n{begin}\n"),
            "{\"kind\":\"begin\",\"version\":7,\"operation\":\"x\",\"receipt\":true}\n".into(),
            "{\"kind\":\"committed\"}\n".into(),
        ] {
            assert!(
                matches!(parse_str(&bad), Err(JournalError::Damaged { .. })),
                "{bad:?}"
            );
        }
        // Hostile paths.
        for evil in ["../x", "/etc/passwd", "a/../../b", "", "./a"] {
            let text = format!("{begin}\n{{\"kind\":\"new-dir\",\"path\":{evil:?}}}\n");
            assert!(
                matches!(parse_str(&text), Err(JournalError::Unsafe { .. })),
                "{evil:?}"
            );
        }
    }

    #[test]
    fn undo_never_deletes_through_a_link_out_of_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        let outside = dir.path().join("outside");
        fs::create_dir_all(root.join(".plonk")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("precious"), b"p").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        fs::write(
            root.join(".plonk").join(JOURNAL_FILE),
            "{\"kind\":\"begin\",\"version\":2,\"operation\":\"install\",\"receipt\":false}\n\
             {\"kind\":\"new-file\",\"path\":\"link/precious\"}\n",
        )
        .unwrap();
        let err = recover(&root).unwrap_err();
        assert!(matches!(err, JournalError::Unsafe { .. }), "{err}");
        assert!(outside.join("precious").exists());
    }

    #[test]
    fn journals_of_the_first_format_are_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("lib/a")).unwrap();
        fs::write(root.join("lib/a/old.py"), b"o").unwrap();
        let before = tree(root);
        let txn = root.join(".plonk/txn");
        fs::create_dir_all(txn.join("backup/lib/a")).unwrap();
        fs::write(txn.join(BEFORE_FILE), "lib\nlib/a\nlib/a/old.py\n").unwrap();
        fs::rename(root.join("lib/a/old.py"), txn.join("backup/lib/a/old.py")).unwrap();
        fs::create_dir_all(root.join("lib/new")).unwrap();
        fs::write(root.join("lib/new/x.py"), b"x").unwrap();
        fs::write(
            root.join(".plonk").join(LEGACY_JOURNAL_FILE),
            r#"{"version":1,"operation":"install","committed":false}"#,
        )
        .unwrap();
        assert_eq!(
            recover(root).unwrap(),
            Some(Recovery::RolledBack {
                operation: "install".into()
            })
        );
        assert_eq!(tree(root), before);
        assert!(!root.join(".plonk").join(LEGACY_JOURNAL_FILE).exists());
        assert!(!pending(root));
    }

    #[test]
    fn damaged_journal_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
        fs::write(dir.path().join(".plonk").join(JOURNAL_FILE), b"{garbage\n").unwrap();
        let err = recover(dir.path()).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        fs::remove_file(dir.path().join(".plonk").join(JOURNAL_FILE)).unwrap();
        fs::write(dir.path().join(".plonk/journal.json"), b"{garbage").unwrap();
        let err = recover(dir.path()).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn fault_plan_parses() {
        assert_eq!(FaultPlan::parse("").at, None);
        assert_eq!(FaultPlan::parse("install").at, Some(("install".into(), 1)));
        assert_eq!(
            FaultPlan::parse("install:3").at,
            Some(("install".into(), 3))
        );
        assert_eq!(
            FaultPlan::parse("install:x").at,
            Some(("install".into(), 1))
        );
    }
}
