//! Uninstalling a distribution: the files its RECORD lists (inside the environment only),
//! their `__pycache__` entries, its `.dist-info` folder, and the folders this leaves empty.
//!
//! Ownership: a file that another distribution's RECORD also lists (a shared data file, a
//! namespace package file installed by two distributions) is kept. [`uninstall_from`] takes
//! that set from the caller or computes it by reading every other RECORD in site-packages.
//!
//! Files are first moved into a trash folder inside the environment root; if any move fails
//! they are all moved back, so an error leaves the environment as it was.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use super::InstallError;
use super::paths::{absolute, normalize_lexical};
use super::target::InstallTarget;
use super::wheel::move_file;
use crate::dist::Record;

/// What an uninstall did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UninstallReport {
    /// Files removed (absolute paths), RECORD's and the `__pycache__` ones.
    pub removed: Vec<PathBuf>,
    /// Folders removed because they were left empty, deepest first.
    pub removed_dirs: Vec<PathBuf>,
    /// RECORD paths that resolve outside the environment (or through a symlink leading out
    /// of it): never touched.
    pub skipped_outside: Vec<String>,
    /// Files kept because another distribution's RECORD lists them too.
    pub kept_shared: Vec<PathBuf>,
    /// Files RECORD lists that were already gone.
    pub missing: Vec<PathBuf>,
}

/// Uninstall the distribution whose `.dist-info` folder is `dist_info` from `target`.
///
/// `other_owned` is the set of files other distributions own, as returned by
/// [`owned_by_others`] (identities: canonical parent folder joined with the file name); with
/// `None` it is computed here. Passing it lets a caller removing several distributions
/// compute it once.
pub fn uninstall_from(
    target: &InstallTarget,
    dist_info: &Path,
    other_owned: Option<&HashSet<PathBuf>>,
) -> Result<UninstallReport, InstallError> {
    uninstall_impl(target, dist_info, other_owned, None)
}

/// Like [`uninstall_from`], but the removed files are kept in `backup` (at their path
/// relative to the environment root) instead of being deleted, so that a transaction can put
/// them back. The caller owns `backup` and deletes it once the change is committed.
///
/// Only originals are kept: a file for which `created` says the caller's transaction made
/// it, or whose place in `backup` is already taken (by the original it replaced), is deleted
/// instead, so that putting the backup back restores what was there before the transaction.
pub fn uninstall_into_backup(
    target: &InstallTarget,
    dist_info: &Path,
    other_owned: Option<&HashSet<PathBuf>>,
    backup: &Path,
    created: &dyn Fn(&Path) -> bool,
) -> Result<UninstallReport, InstallError> {
    uninstall_impl(target, dist_info, other_owned, Some((backup, created)))
}

/// Where a transaction keeps removed originals, and which paths it created itself.
type Backup<'a> = (&'a Path, &'a dyn Fn(&Path) -> bool);

fn uninstall_impl(
    target: &InstallTarget,
    dist_info: &Path,
    other_owned: Option<&HashSet<PathBuf>>,
    backup: Option<Backup<'_>>,
) -> Result<UninstallReport, InstallError> {
    let root = absolute(&target.root).map_err(|e| InstallError::io("resolve", &target.root, e))?;
    let canon_root = fs::canonicalize(&root).map_err(|e| InstallError::io("resolve", &root, e))?;
    let dist_info = absolute(dist_info).map_err(|e| InstallError::io("resolve", dist_info, e))?;
    let foreign = || InstallError::ForeignDistInfo {
        dist_info: dist_info.clone(),
    };
    if !dist_info.starts_with(&root) || dist_info == root {
        return Err(foreign());
    }
    let canon_dist_info =
        fs::canonicalize(&dist_info).map_err(|e| InstallError::MissingRecord {
            dist_info: dist_info.clone(),
            source: e,
        })?;
    if !canon_dist_info.starts_with(&canon_root) || !canon_dist_info.is_dir() {
        return Err(foreign());
    }
    let site_dir = dist_info.parent().ok_or_else(foreign)?.to_path_buf();

    let record_file = dist_info.join("RECORD");
    let bytes = fs::read(&record_file).map_err(|source| InstallError::MissingRecord {
        dist_info: dist_info.clone(),
        source,
    })?;
    let record = Record::parse(&bytes).map_err(|source| InstallError::InvalidRecord {
        dist_info: dist_info.clone(),
        source,
    })?;

    let computed;
    let other_owned = match other_owned {
        Some(set) => set,
        None => {
            computed = owned_by_others(target, &dist_info)?;
            &computed
        }
    };

    let mut report = UninstallReport::default();
    let mut to_remove: Vec<PathBuf> = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut consider = |path: PathBuf,
                        report: &mut UninstallReport,
                        to_remove: &mut Vec<PathBuf>,
                        listed: bool| {
        if !seen.insert(path.clone()) {
            return;
        }
        let Some(id) = identity(&path) else {
            if listed {
                report.missing.push(path);
            }
            return;
        };
        if !id.starts_with(&canon_root) {
            // A symlinked folder on the way leads out of the environment.
            report
                .skipped_outside
                .push(path.to_string_lossy().into_owned());
            return;
        }
        if other_owned.contains(&id) {
            report.kept_shared.push(path);
            return;
        }
        match fs::symlink_metadata(&path) {
            Ok(meta) if !meta.is_dir() => to_remove.push(path),
            Ok(_) => {}
            Err(_) if listed => report.missing.push(path),
            Err(_) => {}
        }
    };

    for entry in &record.entries {
        let Some(path) = normalize_lexical(&site_dir.join(&entry.path))
            .filter(|p| p.starts_with(&root) && p != &root)
        else {
            report.skipped_outside.push(entry.path.clone());
            continue;
        };
        let is_py = path.extension() == Some(OsStr::new("py"));
        consider(path.clone(), &mut report, &mut to_remove, true);
        if is_py {
            for pyc in pycache_files(&path) {
                consider(pyc, &mut report, &mut to_remove, false);
            }
        }
    }
    // Files in .dist-info that RECORD does not list (e.g. added by other tools) go too.
    let mut dist_info_dirs = Vec::new();
    for entry in walkdir::WalkDir::new(&dist_info).follow_links(false) {
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_dir() {
            dist_info_dirs.push(entry.path().to_path_buf());
        } else {
            consider(
                entry.path().to_path_buf(),
                &mut report,
                &mut to_remove,
                false,
            );
        }
    }

    // Move everything into a trash folder (or the backup) first; undo all moves if one
    // fails. The trash is made when first needed, next to the backup when there is one.
    let trash_parent = backup
        .and_then(|(b, _)| b.parent())
        .map_or_else(|| root.clone(), Path::to_path_buf);
    let mut trash: Option<tempfile::TempDir> = None;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (i, path) in to_remove.iter().enumerate() {
        let kept = match (backup, path.strip_prefix(&root)) {
            (Some((backup, created)), Ok(rel)) if !created(path) => {
                let dest = backup.join(rel);
                (fs::symlink_metadata(&dest).is_err()).then_some(dest)
            }
            _ => None,
        };
        let dest = match kept {
            Some(dest) => dest,
            None => match &trash {
                Some(t) => t.path().join(format!("f{i}")),
                None => {
                    fs::create_dir_all(&trash_parent).map_err(|e| {
                        InstallError::io("create a staging directory in", &trash_parent, e)
                    })?;
                    let t = tempfile::Builder::new()
                        .prefix(".plonk-uninstall-")
                        .tempdir_in(&trash_parent)
                        .map_err(|e| {
                            InstallError::io("create a staging directory in", &trash_parent, e)
                        })?;
                    let dest = t.path().join(format!("f{i}"));
                    trash = Some(t);
                    dest
                }
            },
        };
        let made_parent = match dest.parent() {
            Some(parent) if trash.as_ref().is_none_or(|t| !dest.starts_with(t.path())) => {
                fs::create_dir_all(parent)
                    .map_err(|e| InstallError::io("create a backup directory", parent, e))
            }
            _ => Ok(()),
        };
        if let Err(err) = made_parent.and_then(|()| move_file(path, &dest)) {
            for (orig, trashed) in moved.into_iter().rev() {
                // Best effort: the original error is the one to report.
                let _ = move_file(&trashed, &orig);
            }
            return Err(err);
        }
        moved.push((path.clone(), dest));
    }
    report.removed = to_remove;

    // Folders that held removed files, deepest first, never a scheme folder or above.
    let keep = protected_dirs(target, &root);
    let mut candidates: HashSet<PathBuf> = dist_info_dirs.into_iter().collect();
    for path in &report.removed {
        let mut cur = path.parent();
        while let Some(dir) = cur {
            if keep.contains(dir) || !dir.starts_with(&root) || dir == root {
                break;
            }
            candidates.insert(dir.to_path_buf());
            cur = dir.parent();
        }
    }
    let mut candidates: Vec<PathBuf> = candidates.into_iter().collect();
    candidates.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in candidates {
        if keep.contains(&dir) {
            continue;
        }
        let empty = fs::read_dir(&dir).is_ok_and(|mut it| it.next().is_none());
        if empty && fs::remove_dir(&dir).is_ok() {
            report.removed_dirs.push(dir);
        }
    }
    drop(trash);
    Ok(report)
}

/// The identity of every file listed in the RECORD of a distribution in `target`'s
/// site-packages other than `except_dist_info`. Unreadable RECORDs are skipped: a broken
/// distribution cannot claim files.
pub fn owned_by_others(
    target: &InstallTarget,
    except_dist_info: &Path,
) -> Result<HashSet<PathBuf>, InstallError> {
    let except = fs::canonicalize(except_dist_info).ok();
    let mut site_dirs: Vec<PathBuf> = Vec::new();
    for dir in [&target.purelib, &target.platlib] {
        if let Ok(canon) = fs::canonicalize(dir)
            && !site_dirs.contains(&canon)
        {
            site_dirs.push(canon);
        }
    }
    let mut owned = HashSet::new();
    for site in site_dirs {
        let Ok(read) = fs::read_dir(&site) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if path.extension() != Some(OsStr::new("dist-info")) || !path.is_dir() {
                continue;
            }
            if except.as_deref() == fs::canonicalize(&path).ok().as_deref() {
                continue;
            }
            let Ok(bytes) = fs::read(path.join("RECORD")) else {
                continue;
            };
            let Ok(record) = Record::parse(&bytes) else {
                continue;
            };
            for e in record.entries {
                if let Some(id) = normalize_lexical(&site.join(&e.path)).and_then(|p| identity(&p))
                {
                    owned.insert(id);
                }
            }
        }
    }
    Ok(owned)
}

/// A file's identity: its folder resolved through symlinks, joined with its name. `None`
/// when the folder does not exist.
fn identity(path: &Path) -> Option<PathBuf> {
    let parent = fs::canonicalize(path.parent()?).ok()?;
    Some(parent.join(path.file_name()?))
}

/// `__pycache__/<stem>.*.pyc` next to a `.py` file.
pub(crate) fn pycache_files(py: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem)) = (py.parent(), py.file_stem().and_then(OsStr::to_str)) else {
        return Vec::new();
    };
    let cache = dir.join("__pycache__");
    let Ok(read) = fs::read_dir(&cache) else {
        return Vec::new();
    };
    let prefix = format!("{stem}.");
    read.flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            // `<stem>.<tag>.pyc` or `<stem>.<tag>.opt-1.pyc`: one dot-free tag at least.
            let rest = name.strip_prefix(&prefix)?.strip_suffix(".pyc")?;
            (!rest.is_empty()).then(|| cache.join(name))
        })
        .collect()
}

/// Folders an uninstall never removes: the root, every scheme folder and their ancestors,
/// and the top folder holding the headers (`<root>/include`, which venvs create).
fn protected_dirs(target: &InstallTarget, root: &Path) -> HashSet<PathBuf> {
    let mut keep = HashSet::new();
    for dir in [
        &target.purelib,
        &target.platlib,
        &target.scripts,
        &target.data,
        &target.root,
    ] {
        if let Ok(abs) = absolute(dir) {
            for a in abs.ancestors() {
                keep.insert(a.to_path_buf());
            }
        }
    }
    if let Ok(include) = absolute(&target.include)
        && let Ok(rel) = include.strip_prefix(root)
        && let Some(first) = rel.components().next()
    {
        keep.insert(root.join(first));
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::testing::{WheelBuilder, diff, snapshot};
    use crate::install::{InstallOptions, install_wheel_into};

    fn layout() -> (tempfile::TempDir, InstallTarget) {
        let tmp = tempfile::tempdir().unwrap();
        let target = InstallTarget::posix_venv(&tmp.path().join("venv"), 3, 12);
        fs::create_dir_all(&target.purelib).unwrap();
        fs::create_dir_all(&target.scripts).unwrap();
        (tmp, target)
    }

    #[test]
    fn hostile_record_paths_are_skipped() {
        let (tmp, target) = layout();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim.txt"), b"keep me").unwrap();
        let wheel = WheelBuilder::new("hostile", "1.0")
            .file("hostile.py", b"")
            .build(tmp.path());
        let installed = install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap();
        // A symlinked folder inside site-packages that leads out of the env.
        std::os::unix::fs::symlink(&outside, target.purelib.join("link")).unwrap();
        let record_file = installed.dist_info.join("RECORD");
        let mut record = fs::read_to_string(&record_file).unwrap();
        record.push_str("../../../../outside/victim.txt,,\n");
        record.push_str(&format!("{},,\n", outside.join("victim.txt").display()));
        record.push_str("link/victim.txt,,\n");
        record.push_str("not/there.py,,\n");
        fs::write(&record_file, record).unwrap();

        let report = uninstall_from(&target, &installed.dist_info, None).unwrap();
        assert_eq!(fs::read(outside.join("victim.txt")).unwrap(), b"keep me");
        assert_eq!(report.skipped_outside.len(), 3, "{report:?}");
        assert_eq!(report.missing, [target.purelib.join("not/there.py")]);
        assert!(!target.purelib.join("hostile.py").exists());
        assert!(!installed.dist_info.exists());
        // The symlink itself is not the distribution's: it stays.
        assert!(target.purelib.join("link").exists());
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        let (tmp, target) = layout();
        // Outside the env.
        let elsewhere = tmp.path().join("x-1.0.dist-info");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("RECORD"), "x.py,,\n").unwrap();
        assert!(matches!(
            uninstall_from(&target, &elsewhere, None),
            Err(InstallError::ForeignDistInfo { .. })
        ));
        // A symlink into the env that points out of it.
        let link = target.purelib.join("y-1.0.dist-info");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        assert!(matches!(
            uninstall_from(&target, &link, None),
            Err(InstallError::ForeignDistInfo { .. })
        ));
        fs::remove_file(&link).unwrap();
        // No RECORD, garbage RECORD.
        let di = target.purelib.join("z-1.0.dist-info");
        fs::create_dir_all(&di).unwrap();
        let before = snapshot(tmp.path());
        assert!(matches!(
            uninstall_from(&target, &di, None),
            Err(InstallError::MissingRecord { .. })
        ));
        fs::write(di.join("RECORD"), "\"unterminated,,\n").unwrap();
        let before_garbage = snapshot(tmp.path());
        assert!(matches!(
            uninstall_from(&target, &di, None),
            Err(InstallError::InvalidRecord { .. })
        ));
        assert_eq!(
            diff(&before_garbage, &snapshot(tmp.path())),
            Vec::<String>::new()
        );
        assert_ne!(before, before_garbage);
    }

    #[test]
    fn explicit_owned_set_keeps_files() {
        let (tmp, target) = layout();
        let wheel = WheelBuilder::new("solo", "1.0")
            .file("solo/__init__.py", b"")
            .file("solo/keep.txt", b"k")
            .build(tmp.path());
        let installed = install_wheel_into(&wheel, &target, &InstallOptions::default()).unwrap();
        let keep = target.purelib.join("solo/keep.txt");
        let id = fs::canonicalize(keep.parent().unwrap())
            .unwrap()
            .join("keep.txt");
        let owned = HashSet::from([id]);
        let report = uninstall_from(&target, &installed.dist_info, Some(&owned)).unwrap();
        assert_eq!(report.kept_shared, std::slice::from_ref(&keep));
        assert!(keep.exists());
        assert!(!target.purelib.join("solo/__init__.py").exists());
        assert!(!installed.dist_info.exists());
    }
}
