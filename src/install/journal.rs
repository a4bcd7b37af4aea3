//! Transactions on an environment: every change (installs, replacements, removals) is applied
//! under a journal so that a plonk killed at any point leaves something the next plonk
//! command can finish or undo.
//!
//! The journal (`<venv>/.plonk/journal.json`) is written before the first change. With it
//! go the list of every path in the environment before the change (`before.txt`) and a
//! backup folder holding the files of removed distributions at their relative paths (moved,
//! not copied: same filesystem). Undo is therefore independent of what was interrupted:
//! delete every path that was not there before, move the backups back, remove folders that
//! did not exist. It is idempotent, so an undo that is itself killed is simply run again.
//! Commit marks the journal committed, then deletes the backups and the journal; a commit
//! interrupted after the mark is completed by the next command.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::receipt::PLONK_DIR;
use super::{InstallError, InstallTarget, UninstallReport};
use crate::environment::{InstalledDist, PythonEnvironment};

const JOURNAL_FILE: &str = "journal.json";
const TXN_DIR: &str = "txn";
const BEFORE_FILE: &str = "before.txt";
const BACKUP_DIR: &str = "backup";

/// A named point where `PLONK_FAULT` can make plonk stop dead (for crash tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// `step[:n]`: abort when reaching the n-th (1-based, default 1) point named `step`.
    pub at: Option<(String, usize)>,
}

impl FaultPlan {
    /// Parses `PLONK_FAULT` (`install:2`, `uninstall`, `commit`, …).
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

/// The journal's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalState {
    version: u32,
    /// What the user ran (`install`, `remove`, …), for the recovery message.
    operation: String,
    /// Set once every change is applied: recovery then completes instead of undoing.
    committed: bool,
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
    /// Removing a distribution failed.
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

/// An open transaction on one environment. Hold the environment lock while it lives.
pub struct Transaction {
    root: PathBuf,
    state: JournalState,
    faults: FaultPlan,
    counts: std::collections::HashMap<String, usize>,
}

fn plonk_dir(root: &Path) -> PathBuf {
    root.join(PLONK_DIR)
}

impl Transaction {
    /// Starts a transaction: records every path of the environment, then the journal.
    /// Fails if an earlier journal is still there ([`recover`] must run first).
    pub fn begin(root: &Path, operation: &str, faults: FaultPlan) -> Result<Self, JournalError> {
        let dir = plonk_dir(root);
        let txn = dir.join(TXN_DIR);
        if txn.exists() {
            fs::remove_dir_all(&txn).map_err(io("clear", &txn))?;
        }
        fs::create_dir_all(txn.join(BACKUP_DIR)).map_err(io("create", &txn))?;
        let before = txn.join(BEFORE_FILE);
        let mut out =
            std::io::BufWriter::new(fs::File::create(&before).map_err(io("write", &before))?);
        for rel in list_paths(root) {
            out.write_all(rel.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(io("write", &before))?;
        }
        out.flush().map_err(io("write", &before))?;
        drop(out);
        sync_file(&before);
        let tx = Transaction {
            root: root.to_path_buf(),
            state: JournalState {
                version: 1,
                operation: operation.to_string(),
                committed: false,
            },
            faults,
            counts: Default::default(),
        };
        tx.write_state()?;
        Ok(tx)
    }

    fn write_state(&self) -> Result<(), JournalError> {
        let path = plonk_dir(&self.root).join(JOURNAL_FILE);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&self.state).map_err(|source| JournalError::Damaged {
            path: path.clone(),
            source,
        })?;
        fs::write(&tmp, bytes).map_err(io("write", &tmp))?;
        sync_file(&tmp);
        fs::rename(&tmp, &path).map_err(io("write", &path))
    }

    /// A fault-injection point: aborts the process when `PLONK_FAULT` names it.
    pub fn point(&mut self, name: &str) {
        let n = {
            let count = self.counts.entry(name.to_string()).or_default();
            *count += 1;
            *count
        };
        if let Some((at, at_n)) = &self.faults.at
            && at == name
            && *at_n == n
        {
            eprintln!("plonk: fault injected at `{name}:{n}`");
            std::process::abort();
        }
    }

    /// Removes a distribution, keeping its files in the transaction's backup.
    pub fn uninstall(
        &mut self,
        env: &PythonEnvironment,
        dist: &InstalledDist,
    ) -> Result<UninstallReport, JournalError> {
        self.point("uninstall");
        let backup = plonk_dir(&self.root).join(TXN_DIR).join(BACKUP_DIR);
        let report = super::uninstall::uninstall_into_backup(
            &InstallTarget::from(env),
            &dist.dist_info,
            None,
            &backup,
        )?;
        self.point("uninstalled");
        Ok(report)
    }

    /// Moves a file or folder of the environment (an editable checkout) into the backup.
    pub fn remove_path(&mut self, path: &Path) -> Result<(), JournalError> {
        let rel = path
            .strip_prefix(&self.root)
            .map_err(|_| JournalError::Io {
                action: "remove (outside the environment)",
                path: path.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            })?;
        let dest = plonk_dir(&self.root)
            .join(TXN_DIR)
            .join(BACKUP_DIR)
            .join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        fs::rename(path, &dest).map_err(io("move", path))
    }

    /// Marks the change committed, then drops the backups and the journal.
    pub fn commit(mut self) -> Result<(), JournalError> {
        self.point("commit");
        self.state.committed = true;
        self.write_state()?;
        self.point("committed");
        finish(&self.root)
    }

    /// Undoes everything this transaction changed.
    pub fn rollback(self) -> Result<(), JournalError> {
        undo(&self.root)
    }
}

/// Finishes or undoes an interrupted transaction on this environment, if there is one.
/// Call with the environment lock held, before any other change.
pub fn recover(root: &Path) -> Result<Option<Recovery>, JournalError> {
    let path = plonk_dir(root).join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A transaction killed before its journal was written changed nothing yet.
            let txn = plonk_dir(root).join(TXN_DIR);
            if txn.exists() {
                fs::remove_dir_all(&txn).map_err(io("clear", &txn))?;
            }
            return Ok(None);
        }
        Err(e) => return Err(io("read", &path)(e)),
    };
    let state: JournalState =
        serde_json::from_slice(&bytes).map_err(|source| JournalError::Damaged {
            path: path.clone(),
            source,
        })?;
    if state.committed {
        finish(root)?;
        Ok(Some(Recovery::Completed {
            operation: state.operation,
        }))
    } else {
        undo(root)?;
        Ok(Some(Recovery::RolledBack {
            operation: state.operation,
        }))
    }
}

fn finish(root: &Path) -> Result<(), JournalError> {
    let dir = plonk_dir(root);
    let txn = dir.join(TXN_DIR);
    if txn.exists() {
        fs::remove_dir_all(&txn).map_err(io("clear", &txn))?;
    }
    let journal = dir.join(JOURNAL_FILE);
    match fs::remove_file(&journal) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("remove", &journal)(e)),
    }
}

fn undo(root: &Path) -> Result<(), JournalError> {
    let txn = plonk_dir(root).join(TXN_DIR);
    let before_path = txn.join(BEFORE_FILE);
    let text = fs::read_to_string(&before_path).map_err(io("read", &before_path))?;
    let before: HashSet<&str> = text.lines().collect();
    // 1. Everything that was not there before goes (new files, partial installs, staging).
    let mut new_dirs = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.path() != plonk_dir(root))
        .filter_map(Result::ok)
    {
        let Some(rel) = relative(root, entry.path()) else {
            continue;
        };
        if before.contains(rel.as_str()) {
            continue;
        }
        if entry.file_type().is_dir() {
            new_dirs.push(entry.path().to_path_buf());
        } else {
            fs::remove_file(entry.path()).map_err(io("remove", entry.path()))?;
        }
    }
    // 2. Backups go back where they were.
    let backup = txn.join(BACKUP_DIR);
    if backup.exists() {
        for entry in walkdir::WalkDir::new(&backup)
            .follow_links(false)
            .min_depth(1)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_dir() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&backup) else {
                continue;
            };
            let dest = root.join(rel);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(io("create", parent))?;
            }
            fs::rename(entry.path(), &dest).map_err(io("restore", &dest))?;
        }
    }
    // 3. Folders that did not exist, deepest first.
    new_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in new_dirs {
        let _ = fs::remove_dir(&dir);
    }
    finish(root)
}

/// Every path under `root` (files, links and folders), relative, except plonk's own folder.
fn list_paths(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.path() != plonk_dir(root))
        .filter_map(Result::ok)
        .filter_map(|e| relative(root, e.path()))
        .collect()
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    // Paths with a newline cannot be listed one per line; plonk never creates such names.
    rel.to_str()
        .filter(|s| !s.contains('\n'))
        .map(str::to_string)
}

fn sync_file(path: &Path) {
    if let Ok(f) = fs::File::open(path) {
        let _ = f.sync_all();
    }
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

    #[test]
    fn undo_restores_the_tree_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("lib/site/a")).unwrap();
        fs::write(root.join("lib/site/a/x.py"), b"x").unwrap();
        fs::write(root.join("keep.txt"), b"k").unwrap();
        let before = tree(root);
        let tx = Transaction::begin(root, "install", FaultPlan::default()).unwrap();
        // A removal into the backup, a new package, a new file in an old folder.
        let backup = root.join(".plonk/txn/backup/lib/site/a");
        fs::create_dir_all(&backup).unwrap();
        fs::rename(root.join("lib/site/a/x.py"), backup.join("x.py")).unwrap();
        fs::create_dir_all(root.join("lib/site/b/deep")).unwrap();
        fs::write(root.join("lib/site/b/deep/y.py"), b"y").unwrap();
        fs::write(root.join("lib/site/new.pth"), b"p").unwrap();
        drop(tx);
        // As after a crash: the journal is there, not committed.
        assert_eq!(
            recover(root).unwrap(),
            Some(Recovery::RolledBack {
                operation: "install".into()
            })
        );
        assert_eq!(tree(root), before);
        assert_eq!(recover(root).unwrap(), None);
    }

    #[test]
    fn committed_journal_is_completed_not_undone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let tx = Transaction::begin(root, "remove", FaultPlan::default()).unwrap();
        fs::write(root.join("new.txt"), b"n").unwrap();
        let mut state = tx.state.clone();
        state.committed = true;
        fs::write(
            root.join(".plonk/journal.json"),
            serde_json::to_vec(&state).unwrap(),
        )
        .unwrap();
        assert_eq!(
            recover(root).unwrap(),
            Some(Recovery::Completed {
                operation: "remove".into()
            })
        );
        assert!(root.join("new.txt").exists());
        assert!(!root.join(".plonk/txn").exists());
    }

    #[test]
    fn damaged_journal_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
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
