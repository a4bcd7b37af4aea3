//! The upgrade memo (`<venv>/.plonk/upgrade-memo.json`, owned by `upgrade`): the report of
//! the last `upgrade` that changed nothing, kept with a fingerprint of everything that report
//! depends on, so that the next identical run prints it again without resolving anything.
//!
//! The fingerprint has two halves. The local half is a hash of what plonk finds without the
//! network: plonk's own build, the options, the interpreter, every installed distribution
//! (name, version, and the file stamps of its `.dist-info`), the receipt's bytes, the
//! installed plugins and the index entries and requirements they are upgraded from. The index
//! half is, for every project whose versions the run's resolutions looked up (and every
//! plugin's own project), a hash of the files the index lists for it now. Resolution is a
//! pure function of those answers (the metadata of one `name==version` never changes), so a
//! new or yanked version anywhere the verdict looked, a new file, or any change in the
//! environment makes the memo miss, and the run resolves as if there were none.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::dist::{PackageName, Sha256Hasher, sha256_hex};
use crate::environment::InstalledDist;
use crate::install::receipt::{PLONK_DIR, Receipt};
use crate::ops::error::FetchError;
use crate::ops::fetch::Fetcher;
use crate::ops::install::Changelog;
use crate::ops::workspace::Workspace;
use crate::registry::RegistryError;

use super::{UpgradeOptions, UpgradeReport, UpgradeRow};

const MEMO_FILE: &str = "upgrade-memo.json";
/// Bumped whenever what the memo stores, or how its fingerprint is made, changes.
const MEMO_FORMAT: u32 = 1;

/// What the memo file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Memo {
    /// [`MEMO_FORMAT`].
    format: u32,
    /// The local half of the fingerprint.
    local: String,
    /// The index half: project → hash of its files ("absent" when the index has none).
    projects: BTreeMap<String, String>,
    /// The report to print again.
    report: StoredReport,
}

/// The parts of an [`UpgradeReport`] a run that changed nothing has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredReport {
    plugins: Vec<UpgradeRow>,
    resolved: usize,
    downloaded: usize,
    built: usize,
    installed: usize,
    removed: usize,
    notes: Vec<String>,
}

impl Memo {
    /// A memo of `report`, which must have changed nothing.
    pub(super) fn new(
        local: String,
        projects: BTreeMap<String, String>,
        report: &UpgradeReport,
    ) -> Self {
        let log = &report.changelog;
        Memo {
            format: MEMO_FORMAT,
            local,
            projects,
            report: StoredReport {
                plugins: report.plugins.clone(),
                resolved: log.resolved,
                downloaded: log.downloaded,
                built: log.built,
                installed: log.installed,
                removed: log.removed,
                notes: log.notes.clone(),
            },
        }
    }

    /// The report, as the run that stored it returned it.
    pub(super) fn report(&self) -> UpgradeReport {
        let stored = &self.report;
        UpgradeReport {
            plugins: stored.plugins.clone(),
            changelog: Changelog {
                resolved: stored.resolved,
                downloaded: stored.downloaded,
                built: stored.built,
                installed: stored.installed,
                removed: stored.removed,
                notes: stored.notes.clone(),
                ..Changelog::default()
            },
        }
    }

    /// Whether this memo was made with this local fingerprint.
    pub(super) fn matches_local(&self, local: &str) -> bool {
        self.format == MEMO_FORMAT && self.local == local
    }

    /// Whether the index lists the same files for every project the memo depends on.
    pub(super) async fn index_unchanged(&self, fetcher: &Arc<Fetcher>) -> bool {
        let mut names = Vec::new();
        for name in self.projects.keys() {
            match PackageName::new(name.clone()) {
                Ok(name) => names.push(name),
                Err(_) => return false,
            }
        }
        match project_hashes(fetcher, &names).await {
            Some(now) => now == self.projects,
            None => false,
        }
    }
}

/// Where the memo of the environment at `env_root` lives.
pub(super) fn path(env_root: &Path) -> PathBuf {
    env_root.join(PLONK_DIR).join(MEMO_FILE)
}

/// The environment's memo; `None` when there is none or it cannot be read (a memo is only
/// ever a shortcut).
pub(super) fn load(env_root: &Path) -> Option<Memo> {
    let bytes = std::fs::read(path(env_root)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the memo (temp file, then rename, so a reader never sees half of one).
pub(super) fn store(env_root: &Path, memo: &Memo) -> std::io::Result<()> {
    let target = path(env_root);
    let dir = env_root.join(PLONK_DIR);
    std::fs::create_dir_all(&dir)?;
    let bytes = serde_json::to_vec(memo).map_err(std::io::Error::other)?;
    // A name of this process's own, so two runs never write into one temp file.
    let tmp = dir.join(format!(".{MEMO_FILE}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Removes a memo that no longer holds (best effort).
pub(super) fn forget(env_root: &Path) {
    let _ = std::fs::remove_file(path(env_root));
}

/// Hashes of the files the index lists for each project, read in parallel; `None` when some
/// project cannot be read (an error is not an answer to compare).
pub(super) async fn project_hashes(
    fetcher: &Arc<Fetcher>,
    names: &[PackageName],
) -> Option<BTreeMap<String, String>> {
    // One task per project: reading pages is CPU work, and there are several cores.
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let fetcher = Arc::clone(fetcher);
            let name = name.clone();
            tokio::spawn(async move {
                let hash = files_hash(&fetcher, &name).await;
                (name, hash)
            })
        })
        .collect();
    let mut hashes = BTreeMap::new();
    for task in tasks {
        let (name, hash) = task.await.ok()?;
        hashes.insert(name.to_string(), hash?);
    }
    Some(hashes)
}

/// A hash of the files the index lists for `name` ("absent" when it has no such project), in
/// the index's order (another order only costs a miss).
async fn files_hash(fetcher: &Fetcher, name: &PackageName) -> Option<String> {
    // The identity of the cached pages, when they have one, spares reading them: it changes
    // whenever a page is stored anew, so it can only cause a miss where the files are equal.
    if let Some(fingerprint) = fetcher.listing_fingerprint(name).await {
        return Some(format!("pages {fingerprint}"));
    }
    match fetcher.candidates(name).await {
        Ok(files) => {
            let mut hasher = Sha256Hasher::new();
            let mut line = String::new();
            for c in files.iter() {
                line.clear();
                let _ = write!(line, "{}\t{}\t{}\t", c.filename, c.url, c.yanked);
                if let Some(requires) = &c.requires_python {
                    let _ = write!(line, "{requires}");
                }
                let _ = writeln!(line, "\t{}", c.sha256.as_deref().unwrap_or_default());
                hasher.update(line.as_bytes());
            }
            Some(hasher.finalize_hex())
        }
        Err(err) => match &*err {
            FetchError::Registry(RegistryError::NotFound(_)) => Some("absent".to_string()),
            _ => None,
        },
    }
}

/// The local half of the fingerprint, from what the run found before resolving anything;
/// `plugins` describes the installed plugins, the rows already decided and what each
/// plugin's upgrade would install (upgrade's own `Debug` forms of them).
pub(super) fn local_fingerprint(
    ws: &Workspace,
    opts: &UpgradeOptions,
    installed: &[InstalledDist],
    plugins: &str,
) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "plonk {} memo {MEMO_FORMAT}",
        env!("CARGO_PKG_VERSION")
    );
    // plonk's own build: another build may resolve differently.
    let exe = std::env::current_exe()
        .map(|p| stamp(&p))
        .unwrap_or_default();
    let _ = writeln!(text, "exe {exe}");
    let _ = writeln!(
        text,
        "options {:?} strict={} dry_run={}",
        opts.names, opts.strict, opts.dry_run
    );
    let _ = writeln!(
        text,
        "sources {:?} offline={}",
        ws.locations,
        ws.http.is_offline()
    );
    // Field by field: `Debug` of the whole would include the tags' lookup table, a HashMap
    // whose order changes from run to run.
    let python = &ws.env.interpreter;
    let _ = writeln!(
        text,
        "interpreter {:?} {:?} {:?} {} {:?} {:?} {:?}",
        python.executable,
        python.base_executable,
        python.sys_prefix,
        python.python_full_version,
        python.markers,
        python.scheme,
        python.tags.iter().collect::<Vec<_>>(),
    );
    let mut dists: Vec<&InstalledDist> = installed.iter().collect();
    dists.sort_by(|a, b| a.name.cmp(&b.name).then(a.dist_info.cmp(&b.dist_info)));
    for dist in dists {
        let _ = writeln!(
            text,
            "dist {:?} {} {} {}",
            dist,
            stamp(&dist.dist_info),
            stamp(&dist.dist_info.join("METADATA")),
            stamp(&dist.dist_info.join("direct_url.json")),
        );
    }
    let receipt = match std::fs::read(Receipt::path(&ws.env.root)) {
        Ok(bytes) => sha256_hex(&bytes),
        Err(_) => "none".to_string(),
    };
    let _ = writeln!(text, "receipt {receipt}");
    let _ = writeln!(text, "plugins {plugins}");
    sha256_hex(text.as_bytes())
}

/// Size and modification time of a file or folder ("-" when it is not there).
fn stamp(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}:{}:{}", meta.is_dir(), meta.len(), modified)
        }
        Err(_) => "-".to_string(),
    }
}

/// The projects a memo depends on: those the resolutions looked up plus the plugins' own.
pub(super) fn depends_on(
    consulted: BTreeSet<PackageName>,
    plugins: impl IntoIterator<Item = PackageName>,
) -> Vec<PackageName> {
    let mut all = consulted;
    all.extend(plugins);
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::upgrade::RowStatus;

    fn report() -> UpgradeReport {
        UpgradeReport {
            plugins: vec![UpgradeRow {
                plugin: "aspects".into(),
                distribution: Some("tutor-contrib-aspects".into()),
                status: RowStatus::HeldBack,
                from: Some("2.4.0".into()),
                to: None,
                reason: Some("tutor 22.0.3 and tutor-contrib-aspects 6.1.0 conflict".into()),
            }],
            changelog: Changelog {
                resolved: 70,
                notes: vec!["a note".into()],
                ..Changelog::default()
            },
        }
    }

    #[test]
    fn stored_and_loaded_it_gives_the_same_report() {
        let dir = tempfile::tempdir().unwrap();
        let projects: BTreeMap<String, String> = [("click".to_string(), "abc".to_string())].into();
        let memo = Memo::new("local".into(), projects, &report());
        store(dir.path(), &memo).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded, memo);
        assert!(loaded.matches_local("local"));
        assert!(!loaded.matches_local("other"));
        let again = loaded.report();
        assert_eq!(again.plugins, report().plugins);
        assert_eq!(again.changelog.resolved, 70);
        assert_eq!(again.changelog.notes, vec!["a note".to_string()]);
        assert!(again.changelog.changes.is_empty() && !again.changelog.dry_run);
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path().join(PLONK_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(MEMO_FILE)]);
        forget(dir.path());
        assert!(load(dir.path()).is_none());
    }

    #[test]
    fn an_unreadable_memo_is_no_memo() {
        let good =
            serde_json::to_string(&Memo::new("l".into(), BTreeMap::new(), &report())).unwrap();
        let other_format = good.replace(
            &format!("\"format\":{MEMO_FORMAT}"),
            &format!("\"format\":{}", MEMO_FORMAT + 1),
        );
        let rows: [(&str, bool); 6] = [
            (good.as_str(), true),
            ("", false),
            ("not json", false),
            (&good[..good.len() / 2], false),
            ("{\"format\":1,\"local\":\"../../etc/passwd\"}", false),
            ("[1,2,3]", false),
        ];
        for (text, usable) in rows {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
            std::fs::write(path(dir.path()), text).unwrap();
            assert_eq!(load(dir.path()).is_some(), usable, "{text}");
        }
        // A memo of another format never matches.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
        std::fs::write(path(dir.path()), other_format).unwrap();
        assert!(load(dir.path()).is_some_and(|m| !m.matches_local("l")));
    }

    #[test]
    fn stamps_change_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("METADATA");
        assert_eq!(stamp(&file), "-");
        std::fs::write(&file, "Name: a\n").unwrap();
        let first = stamp(&file);
        std::fs::write(&file, "Name: a\nVersion: 1\n").unwrap();
        assert_ne!(stamp(&file), first);
    }

    #[test]
    fn a_memo_depends_on_the_plugins_and_what_was_looked_up() {
        let name = |n: &str| PackageName::new(n.to_string()).unwrap();
        let all = depends_on(
            [name("click"), name("tutor-mfe")].into(),
            [name("tutor-mfe"), name("tutor-indigo")],
        );
        assert_eq!(
            all,
            vec![name("click"), name("tutor-indigo"), name("tutor-mfe")]
        );
    }
}
