//! `plonk upgrade [NAME…|all]`: every plugin installed in the environment (entry points and
//! plugins-root files), or the named ones, each matched to its source: what plonk recorded
//! when it installed it (refreshed from the index entry it came from), else the index entry
//! whose `src` names its distribution, else its git `direct_url.json`, else its distribution
//! on the package index.
//!
//! Partial by default: every plugin is prepared (git sources fetched and rebuilt when their ref
//! moved, single files fetched again), the upgrades are resolved together, and a plugin that
//! blocks the others (it fails alone, or conflicts with those already accepted) is held back
//! with the resolver's explanation while the rest install in one transaction. A plugin whose
//! newest version cannot be installed (it needs another Tutor, say) stays where it is and is
//! listed as held back with the reason. `--strict` turns any held-back plugin into a failure
//! with nothing changed.
//!
//! A run that changes nothing leaves a memo of its report (see [`memo`]); the next run finds
//! it valid when nothing it depended on moved (the environment, the index entries, the
//! index's files of every project the resolutions looked at) and prints it again without
//! resolving. Trials share one fetcher (see [`trials`]).

mod memo;
mod trials;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dist::{PackageName, Requirement, Version};
use crate::environment::InstalledDist;
use crate::index::PluginEntry;
use crate::install::receipt::{PluginRecord, Receipt};
use crate::ops::error::OpsError;
use crate::ops::fetch::Fetcher;
use crate::ops::install::{Change, Changelog, InstallOptions, PluginOrigin, Target};
use crate::ops::list::{Discovery, PluginOrigin as Found, discover};
use crate::ops::sources::{
    self, Extras, InstalledSource, Prepared, RECORD_FILE_KEY, Sources, SourcesError,
};
use crate::ops::targets::{
    TargetContext, entry_locations, git_src_text, load_entries, release_for_env,
};
use crate::ops::workspace::Workspace;
use crate::ops::{Reporter, SilentReporter};
use crate::registry::RegistryClient;
use crate::resolve::Upgrade;
use crate::source::{Source, SourceLine};
use trials::Trials;

/// Options of `plonk upgrade`.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    /// Plugin (or distribution, or index entry) names; empty or `all`: every plugin.
    pub names: Vec<String>,
    /// Any held-back plugin fails the command with nothing changed.
    pub strict: bool,
    /// Resolve and report only.
    pub dry_run: bool,
    /// Where index data lives.
    pub targets: TargetContext,
}

/// What happened to one plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowStatus {
    /// Moved to a newer version, commit or file content.
    Upgraded,
    /// Nothing newer.
    AlreadyNewest,
    /// Something newer exists but cannot be installed; `reason` says why.
    HeldBack,
    /// plonk does not know where the plugin comes from.
    Skipped,
}

impl RowStatus {
    /// The word printed in the STATUS column.
    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (RowStatus::Upgraded, false) => "upgraded",
            (RowStatus::Upgraded, true) => "would upgrade",
            (RowStatus::AlreadyNewest, _) => "already newest",
            (RowStatus::HeldBack, _) => "held back",
            (RowStatus::Skipped, _) => "skipped",
        }
    }
}

/// One line of the upgrade table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeRow {
    /// Plugin name.
    pub plugin: String,
    /// Its distribution (none for a `.yml` plugin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// What happened.
    pub status: RowStatus,
    /// Installed version (with the commit of a git source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// New version, when upgraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Why it was held back or skipped, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of `plonk upgrade`.
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeReport {
    /// One row per plugin, sorted by name.
    pub plugins: Vec<UpgradeRow>,
    /// What changed in the environment.
    #[serde(flatten)]
    pub changelog: Changelog,
}

impl UpgradeReport {
    /// Rows with this status.
    pub fn count(&self, status: RowStatus) -> usize {
        self.plugins.iter().filter(|r| r.status == status).count()
    }
}

/// One installed plugin (a distribution with its entry points, or a plugins-root file).
#[derive(Debug, Clone)]
struct Unit {
    label: String,
    names: Vec<String>,
    dist: Option<InstalledDist>,
    /// The `version` key of a `.yml` plugin.
    file_version: Option<String>,
    record: Option<(String, PluginRecord)>,
}

impl Unit {
    fn version(&self) -> Option<String> {
        let version = self.dist.as_ref().map(|d| d.version.to_string());
        let commit = self
            .record
            .as_ref()
            .and_then(|(_, r)| r.commit.as_deref())
            .map(short);
        match (version, commit) {
            (Some(v), Some(c)) => Some(format!("{v} ({c})")),
            (Some(v), None) => Some(v),
            (None, _) => None,
        }
    }

    fn installed_source(&self) -> InstalledSource {
        let direct = self
            .dist
            .as_ref()
            .and_then(|d| d.direct_url().ok().flatten());
        let record = self.record.as_ref().map(|(_, r)| r);
        InstalledSource {
            commit: record.and_then(|r| r.commit.clone()).or_else(|| {
                direct
                    .as_ref()
                    .and_then(|d| d.vcs_info.as_ref().map(|v| v.commit_id.clone()))
            }),
            sha256: record.and_then(|r| r.sha256.clone()).or_else(|| {
                direct
                    .as_ref()
                    .and_then(|d| d.archive_sha256().map(str::to_string))
            }),
            dist: self
                .dist
                .as_ref()
                .map(|d| (d.name.clone(), d.version.clone())),
        }
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(10).collect()
}

/// A unit with what its upgrade installs.
#[derive(Debug)]
struct Work {
    unit: usize,
    targets: Vec<Target>,
    extras: Extras,
    /// The distribution whose version is the plugin's.
    dist: Option<PackageName>,
    /// The index requirement, for the "is there something newer" check.
    requirement: Option<Target>,
    /// A git commit or file content that moved: `(from, to)`.
    moved: Option<(String, String)>,
}

/// Upgrades the plugins of the workspace's environment.
pub async fn upgrade(
    ws: &Workspace,
    opts: UpgradeOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<UpgradeReport, OpsError> {
    let (discovery, receipt) = {
        let ws = ws.clone();
        tokio::task::spawn_blocking(move || -> Result<(Discovery, Receipt), OpsError> {
            let discovery = discover(Some(&ws.env), &ws.plugins_root, Vec::new(), &SilentReporter)?;
            let receipt = Receipt::load(&ws.env.root)?;
            Ok((discovery, receipt))
        })
        .await
        .map_err(|e| OpsError::Join(e.to_string()))??
    };
    let installed = {
        let env = ws.env.clone();
        tokio::task::spawn_blocking(move || env.installed())
            .await
            .map_err(|e| OpsError::Join(e.to_string()))??
    };
    let units = units(&discovery, &installed, &receipt);
    let release = release_for_env(&ws.env, &opts.targets);
    let entries = match load_entries(&release, &opts.targets, &ws.http, reporter.as_ref()).await {
        Ok(entries) => entries,
        Err(err) => {
            reporter.warn(&format!(
                "the plugin indexes cannot be read ({}); plugins are upgraded from what plonk recorded and from the package index",
                one_line(&err)
            ));
            Vec::new()
        }
    };
    let selected = select(&units, &entries, &opts.names, &ws.env.root)?;

    let mut rows: BTreeMap<usize, UpgradeRow> = BTreeMap::new();
    let row = |unit: &Unit, status: RowStatus, reason: Option<String>| UpgradeRow {
        plugin: unit.label.clone(),
        distribution: unit.dist.as_ref().map(|d| d.name.to_string()),
        status,
        from: unit.version(),
        to: None,
        reason,
    };

    // Prepare every selected plugin: fetch, build, compare. Git and single-file sources need
    // the fetching side (made on first need: it sets up an HTTP client for git).
    let mut sources: Option<Sources> = None;
    let mut works: Vec<Work> = Vec::new();
    // Whether every plugin's upgrade is plain requirements (nothing fetched or built to find
    // out): only then can the memo stand for the run.
    let mut plain = true;
    for index in selected {
        let unit = &units[index];
        let (source, origin) = match unit_source(unit, &entries) {
            Ok(found) => found,
            Err(reason) => {
                rows.insert(index, row(unit, RowStatus::Skipped, Some(reason)));
                continue;
            }
        };
        if !is_plain(&source) {
            plain = false;
            if sources.is_none() {
                sources = Some(Sources::new(ws, Arc::clone(&reporter))?);
            }
        }
        match prepare(ws, sources.as_ref(), unit, index, &source, origin).await {
            Ok(Some(work)) => works.push(work),
            Ok(None) => {
                rows.insert(index, row(unit, RowStatus::AlreadyNewest, None));
            }
            Err(err) => {
                let reason = one_line(&err);
                rows.insert(index, row(unit, RowStatus::HeldBack, Some(reason)));
            }
        }
    }
    if opts.strict && rows.values().any(|r| r.status == RowStatus::HeldBack) {
        return Err(strict_failure(rows.values()));
    }

    let trials = Trials::new(ws, installed.clone());
    // The memo stands for partial runs of plain requirements (strict and dry runs, git
    // sources and single files always do the work).
    let memo_plugins = (plain
        && !opts.strict
        && !opts.dry_run
        && works.iter().all(|w| {
            w.moved.is_none()
                && w.extras.is_empty()
                && Trials::handles(w.targets.iter().chain(&w.requirement))
        }))
    .then(|| format!("{units:?}\n{rows:?}\n{works:?}"));
    let memo_local = memo_plugins
        .as_ref()
        .map(|plugins| memo::local_fingerprint(ws, &opts, &installed, plugins));
    let previous = memo_local.as_ref().and_then(|_| memo::load(&ws.env.root));
    if let (Some(local), Some(memo)) = (&memo_local, &previous)
        && memo.matches_local(local)
        && memo.index_unchanged(trials.fetcher()).await
    {
        // The fetcher holds every page just read: freeing them is work nobody waits for.
        std::thread::spawn(move || drop(trials));
        return Ok(memo.report());
    }

    // Resolve together; hold back the plugins that block the others. A partial run tries the
    // real install at once (resolution comes before any change, so a conflict changes
    // nothing); strict and dry runs resolve first.
    let mut accepted: Vec<usize> = (0..works.len()).collect();
    let mut held: Vec<(usize, String)> = Vec::new();
    let check_first = opts.strict || opts.dry_run;
    let mut done: Option<Changelog> = None;
    let mut plan = Changelog::default();
    // Whether the run is still one the memo can stand for: the first attempt installed
    // nothing, and a replay of it on the trials' fetcher (which records what it looked up)
    // agreed.
    let mut memorable = memo_local.is_some();
    if !works.is_empty() {
        match commit(ws, &trials, &works, &accepted, check_first, &reporter).await {
            Ok(log) => {
                if !log.changes.is_empty() && !check_first {
                    trials.env_changed();
                }
                memorable &= log.changes.is_empty();
                if memorable {
                    memorable = matches!(
                        try_resolve(ws, &trials, &works, &accepted).await,
                        Ok(replay) if replay.changes.is_empty()
                    );
                }
                if !check_first || opts.dry_run {
                    done = Some(log.clone());
                }
                plan = log;
            }
            Err(err) if opts.strict => {
                return Err(OpsError::Other {
                    message:
                        "nothing was upgraded (--strict): the upgrades cannot be installed together"
                            .to_string(),
                    source: Box::new(err),
                });
            }
            Err(err) if !is_resolution_failure(&err) => return Err(err),
            Err(_) => {
                memorable = false;
                let mut alone_ok = Vec::new();
                for &w in &accepted {
                    match try_resolve(ws, &trials, &works, &[w]).await {
                        Ok(_) => alone_ok.push(w),
                        Err(err) if is_resolution_failure(&err) => held.push((w, reason_of(&err))),
                        Err(err) => return Err(err),
                    }
                }
                accepted = alone_ok;
                match try_resolve(ws, &trials, &works, &accepted).await {
                    Ok(log) => plan = log,
                    Err(_) => {
                        // Pairwise conflicts: keep the plugins that go together, in order.
                        let mut together: Vec<usize> = Vec::new();
                        for &w in &accepted {
                            let mut trial = together.clone();
                            trial.push(w);
                            match try_resolve(ws, &trials, &works, &trial).await {
                                Ok(log) => {
                                    together = trial;
                                    plan = log;
                                }
                                Err(err) => held.push((w, reason_of(&err))),
                            }
                        }
                        accepted = together;
                    }
                }
            }
        }
    }

    // Plugins that stay below their newest version get the reason.
    let mut newer_blocked: BTreeMap<usize, String> = BTreeMap::new();
    for &w in &accepted {
        let work = &works[w];
        let (Some(requirement), Some(dist)) = (&work.requirement, &work.dist) else {
            continue;
        };
        let current = resolved_version(&plan, dist)
            .or_else(|| units[work.unit].dist.as_ref().map(|d| d.version.clone()));
        let Some(current) = current else { continue };
        let Some(newest) =
            newest_allowed(ws, &trials, requirement, &current, Arc::clone(&reporter)).await
        else {
            continue;
        };
        if newest <= current {
            continue;
        }
        let reason = match pinned(requirement, &newest) {
            Some(target) => {
                let pinned_work = Work {
                    unit: work.unit,
                    targets: vec![target],
                    extras: Extras::default(),
                    dist: Some(dist.clone()),
                    requirement: None,
                    moved: None,
                };
                match try_resolve(ws, &trials, std::slice::from_ref(&pinned_work), &[0]).await {
                    Err(err) => reason_of(&err),
                    Ok(_) => {
                        format!("{dist} {newest} conflicts with the other plugins being upgraded")
                    }
                }
            }
            None => format!("{dist} {newest} cannot be installed"),
        };
        newer_blocked.insert(w, reason);
    }
    if opts.strict && (!held.is_empty() || !newer_blocked.is_empty()) {
        let blocked = held
            .iter()
            .map(|(w, r)| (*w, r.clone()))
            .chain(newer_blocked.iter().map(|(w, r)| (*w, r.clone())));
        for (w, reason) in blocked {
            let unit = &units[works[w].unit];
            rows.insert(works[w].unit, row(unit, RowStatus::HeldBack, Some(reason)));
        }
        return Err(strict_failure(rows.values()));
    }

    // One transaction for everything accepted (unless it already happened).
    let changelog = match done {
        Some(log) => log,
        None => commit(ws, &trials, &works, &accepted, opts.dry_run, &reporter).await?,
    };

    for (w, reason) in &held {
        let unit = &units[works[*w].unit];
        rows.insert(
            works[*w].unit,
            row(unit, RowStatus::HeldBack, Some(reason.clone())),
        );
    }
    for &w in &accepted {
        let work = &works[w];
        let unit = &units[work.unit];
        let changed = work
            .dist
            .as_ref()
            .and_then(|d| resolved_version(&changelog, d));
        let mut r = row(unit, RowStatus::AlreadyNewest, None);
        match (&work.moved, changed) {
            (Some((from, to)), _) => {
                r.status = RowStatus::Upgraded;
                r.from = Some(from.clone());
                r.to = Some(to.clone());
            }
            (None, Some(version)) => {
                r.status = RowStatus::Upgraded;
                r.to = Some(version.to_string());
            }
            (None, None) => {}
        }
        if let Some(reason) = newer_blocked.get(&w) {
            if r.status == RowStatus::AlreadyNewest {
                r.status = RowStatus::HeldBack;
            }
            r.reason = Some(reason.clone());
        }
        rows.insert(work.unit, r);
    }
    let mut plugins: Vec<UpgradeRow> = rows.into_values().collect();
    plugins.sort_by(|a, b| a.plugin.cmp(&b.plugin));
    let report = UpgradeReport { plugins, changelog };

    // Nothing changed: keep the report for the next identical run.
    if let Some(plugins) = &memo_plugins {
        let stored = memorable
            && report.changelog.changes.is_empty()
            && report.count(RowStatus::Upgraded) == 0
            && remember(ws, &opts, &installed, plugins, &trials, &works, &report).await;
        if !stored && previous.is_some() {
            memo::forget(&ws.env.root);
        }
    }
    Ok(report)
}

/// Stores the memo of a run that changed nothing; whether it did. The local fingerprint is
/// taken again: the install step rewrote the receipt.
async fn remember(
    ws: &Workspace,
    opts: &UpgradeOptions,
    installed: &[InstalledDist],
    plugins: &str,
    trials: &Trials,
    works: &[Work],
    report: &UpgradeReport,
) -> bool {
    let projects = memo::depends_on(
        trials.consulted(),
        works
            .iter()
            .flat_map(|w| w.targets.iter().chain(&w.requirement))
            .map(|t| t.requirement.name.clone()),
    );
    let Some(hashes) = memo::project_hashes(trials.fetcher(), &projects).await else {
        return false;
    };
    let local = memo::local_fingerprint(ws, opts, installed, plugins);
    memo::store(&ws.env.root, &memo::Memo::new(local, hashes, report)).is_ok()
}

/// The error of `--strict` when some plugin cannot move.
fn strict_failure<'a>(rows: impl Iterator<Item = &'a UpgradeRow>) -> OpsError {
    let held: Vec<String> = rows
        .filter(|r| r.status == RowStatus::HeldBack)
        .map(|r| format!("`{}`: {}", r.plugin, r.reason.clone().unwrap_or_default()))
        .collect();
    OpsError::Usage(format!(
        "nothing was upgraded (--strict): {} cannot be upgraded; {}",
        if held.len() == 1 {
            "1 plugin".to_string()
        } else {
            format!("{} plugins", held.len())
        },
        held.join("; ")
    ))
}

/// The installed plugins, one per distribution (its entry points together) or file.
fn units(discovery: &Discovery, installed: &[InstalledDist], receipt: &Receipt) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for plugin in &discovery.plugins {
        match &plugin.origin {
            Found::Distribution { name, .. } => {
                if let Some(unit) = out
                    .iter_mut()
                    .find(|u| u.dist.as_ref().is_some_and(|d| &d.name == name))
                {
                    unit.names.push(plugin.name.clone());
                    continue;
                }
                let Some(dist) = installed.iter().find(|d| &d.name == name) else {
                    continue;
                };
                let record = receipt
                    .plugins
                    .iter()
                    .find(|(_, r)| r.distribution == name.as_ref())
                    .map(|(k, r)| (k.clone(), r.clone()));
                out.push(Unit {
                    label: record
                        .as_ref()
                        .map(|(k, _)| k.clone())
                        .unwrap_or_else(|| plugin.name.clone()),
                    names: vec![plugin.name.clone()],
                    dist: Some(dist.clone()),
                    file_version: None,
                    record,
                });
            }
            Found::File { path, kind } => {
                let record = receipt
                    .plugins
                    .iter()
                    .find(|(_, r)| {
                        r.extra
                            .get(RECORD_FILE_KEY)
                            .and_then(|v| v.as_str())
                            .is_some_and(|f| std::path::Path::new(f) == path)
                    })
                    .map(|(k, r)| (k.clone(), r.clone()));
                out.push(Unit {
                    label: plugin.name.clone(),
                    names: vec![plugin.name.clone()],
                    dist: None,
                    file_version: (*kind == crate::tutor::PluginFileKind::Yaml
                        && !plugin.version.is_empty())
                    .then(|| plugin.version.clone()),
                    record,
                });
            }
        }
    }
    out
}

/// The units the names select (all of them for none or `all`).
fn select(
    units: &[Unit],
    entries: &[PluginEntry],
    names: &[String],
    env: &std::path::Path,
) -> Result<Vec<usize>, OpsError> {
    let all = names.is_empty() || (names.len() == 1 && names[0].eq_ignore_ascii_case("all"));
    if all {
        return Ok((0..units.len()).collect());
    }
    let mut out = Vec::new();
    for raw in names {
        let name = raw.trim().to_lowercase();
        let normalized = PackageName::new(name.clone()).ok();
        let by_entry: Vec<PackageName> = entries
            .iter()
            .filter(|e| e.name == name)
            .filter_map(|e| e.source().ok())
            .flat_map(|s| s.distribution_names())
            .collect();
        let found = units.iter().position(|u| {
            u.label.eq_ignore_ascii_case(&name)
                || u.names.iter().any(|n| n.eq_ignore_ascii_case(&name))
                || u.dist.as_ref().is_some_and(|d| {
                    Some(&d.name) == normalized.as_ref() || by_entry.contains(&d.name)
                })
        });
        match found {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => {
                return Err(OpsError::NotInstalled {
                    name: raw.clone(),
                    env: env.to_path_buf(),
                });
            }
        }
    }
    Ok(out)
}

/// Where a plugin's upgrade comes from, or why plonk cannot tell.
fn unit_source(unit: &Unit, entries: &[PluginEntry]) -> Result<(Source, PluginOrigin), String> {
    let parse = |src: &str| {
        Source::parse(src).map_err(|e| {
            format!(
                "its recorded source `{}` is unusable: {e}",
                sources::redact_target(src)
            )
        })
    };
    if let Some((key, record)) = &unit.record {
        // A plugin from an index follows its entry there (the release's bounds may have moved).
        if record.index.is_some()
            && let Some(entry) = entries.iter().find(|e| &e.name == key)
        {
            return Ok((
                parse(&entry.src)?,
                PluginOrigin {
                    name: key.clone(),
                    index: Some(entry.index.clone()),
                    src: entry.src.clone(),
                },
            ));
        }
        return Ok((
            parse(&record.src)?,
            PluginOrigin {
                name: key.clone(),
                index: record.index.clone(),
                src: record.src.clone(),
            },
        ));
    }
    let Some(dist) = &unit.dist else {
        return Err(
            "it is a file of the plugins root that plonk did not install, so its source is unknown"
                .to_string(),
        );
    };
    if let Some(entry) = entries.iter().find(|e| {
        e.source()
            .ok()
            .is_some_and(|s| s.distribution_names().contains(&dist.name))
    }) {
        return Ok((
            parse(&entry.src)?,
            PluginOrigin {
                name: entry.name.clone(),
                index: Some(entry.index.clone()),
                src: entry.src.clone(),
            },
        ));
    }
    let direct = dist.direct_url().ok().flatten();
    let src = match &direct {
        Some(d) if d.vcs_info.as_ref().is_some_and(|v| v.vcs == "git") => {
            let git = crate::source::GitSource {
                url: url::Url::parse(&d.url).map_err(|_| {
                    format!("its direct_url.json names `{}`, which is not a URL", d.url)
                })?,
                reference: d
                    .vcs_info
                    .as_ref()
                    .and_then(|v| v.requested_revision.clone()),
                name: Some(dist.name.clone()),
                subdirectory: d.subdirectory.clone(),
                editable: false,
            };
            git_src_text(&git)
        }
        Some(d) => {
            return Err(format!(
                "it was installed from {}, which has no newer version to look for",
                sources::redact_target(&d.url)
            ));
        }
        None => dist.name.to_string(),
    };
    Ok((
        parse(&src)?,
        PluginOrigin {
            name: unit.label.clone(),
            index: None,
            src,
        },
    ))
}

/// Whether upgrading from `source` needs nothing fetched or built to tell what it installs:
/// requirement lines only, none of them a direct reference.
fn is_plain(source: &Source) -> bool {
    match source {
        Source::Requirements { lines, .. } => lines.iter().all(|line| match line {
            SourceLine::Requirement(req) => {
                !matches!(req.version_or_url, Some(pep508_rs::VersionOrUrl::Url(_)))
            }
            SourceLine::Git(_) => false,
        }),
        Source::SingleFile(_) => false,
    }
}

/// Fetches or builds what the unit's source names now. `None`: nothing moved.
async fn prepare(
    ws: &Workspace,
    sources: Option<&Sources>,
    unit: &Unit,
    index: usize,
    source: &Source,
    origin: PluginOrigin,
) -> Result<Option<Work>, SourcesError> {
    let installed = unit.installed_source();
    let mut work = Work {
        unit: index,
        targets: Vec::new(),
        extras: Extras::default(),
        dist: unit.dist.as_ref().map(|d| d.name.clone()),
        requirement: None,
        moved: None,
    };
    let mut anything = false;
    match source {
        Source::SingleFile(file) => {
            match need(sources)?
                .single_file(file, Some(&installed), origin.clone())
                .await?
            {
                Prepared::Unchanged { .. } => {}
                Prepared::Wheel { wheel, .. } => {
                    // The wrapped plugin's version names its content.
                    work.moved = Some((
                        unit.dist
                            .as_ref()
                            .map(|d| d.version.to_string())
                            .unwrap_or_default(),
                        wheel.metadata.version.to_string(),
                    ));
                    work.dist = Some(wheel.metadata.name.clone());
                    work.targets
                        .push(sources::wheel_target(*wheel, Some(origin)).map_err(ops_to_sources)?);
                    anything = true;
                }
                Prepared::File(plan) => {
                    let old = installed.sha256.as_deref().map(short).unwrap_or_default();
                    work.moved = Some((
                        match &unit.file_version {
                            Some(v) => format!("{v} ({old})"),
                            None => old,
                        },
                        match &plan.version {
                            Some(v) => format!("{v} ({})", short(&plan.sha256)),
                            None => short(&plan.sha256),
                        },
                    ));
                    work.extras.files.push(plan);
                    anything = true;
                }
            }
        }
        Source::Requirements { lines, options } => {
            let locations = entry_locations(&ws.locations, options);
            for (i, line) in lines.iter().enumerate() {
                let plugin = (i == 0).then(|| origin.clone());
                match line {
                    SourceLine::Requirement(req) => {
                        let target = Target {
                            requirement: req.clone(),
                            plugin,
                            locations: locations.clone(),
                            local_wheel: None,
                        };
                        if i == 0 {
                            work.dist = Some(req.name.clone());
                            work.requirement = Some(target.clone());
                        }
                        work.targets.push(target);
                        anything = true;
                    }
                    SourceLine::Git(git) => {
                        let state = if i == 0 { Some(&installed) } else { None };
                        match need(sources)?.git(git, state).await? {
                            Prepared::Unchanged { .. } => {}
                            Prepared::Wheel {
                                wheel, checkout, ..
                            } => {
                                if i == 0 {
                                    let old =
                                        installed.commit.as_deref().map(short).unwrap_or_default();
                                    let new =
                                        wheel.commit.as_deref().map(short).unwrap_or_default();
                                    work.moved = Some((
                                        match &installed.dist {
                                            Some((_, v)) => format!("{v} ({old})"),
                                            None => old,
                                        },
                                        format!("{} ({new})", wheel.metadata.version),
                                    ));
                                    work.dist = Some(wheel.metadata.name.clone());
                                }
                                work.targets.push(
                                    sources::wheel_target(*wheel, plugin)
                                        .map_err(ops_to_sources)?,
                                );
                                work.extras.checkouts.extend(checkout);
                                anything = true;
                            }
                            Prepared::File(_) => {}
                        }
                    }
                }
            }
        }
    }
    Ok(anything.then_some(work))
}

/// The fetching side, which the caller makes for every source that is not [`is_plain`].
fn need(sources: Option<&Sources>) -> Result<&Sources, SourcesError> {
    sources.ok_or_else(|| {
        SourcesError::Join("git and single-file sources were not set up for this run".to_string())
    })
}

fn ops_to_sources(err: OpsError) -> SourcesError {
    SourcesError::Join(one_line(&err))
}

/// Installs (or, with `dry_run`, plans) the chosen works in one transaction. A plan of plain
/// requirements is the trials' (same answer, on their shared fetcher).
async fn commit(
    ws: &Workspace,
    trials: &Trials,
    works: &[Work],
    chosen: &[usize],
    dry_run: bool,
    reporter: &Arc<dyn Reporter>,
) -> Result<Changelog, OpsError> {
    let mut targets = Vec::new();
    let mut extras = Extras::default();
    let mut names = BTreeSet::new();
    for &w in chosen {
        targets.extend(works[w].targets.iter().cloned());
        extras.extend(works[w].extras.clone());
        names.extend(works[w].targets.iter().map(|t| t.requirement.name.clone()));
    }
    if targets.is_empty() && extras.is_empty() {
        return Ok(Changelog {
            dry_run,
            ..Changelog::default()
        });
    }
    if dry_run && extras.is_empty() && Trials::handles(&targets) {
        return trials.resolve(ws, &targets).await;
    }
    let opts = InstallOptions {
        targets,
        dry_run,
        upgrade: Upgrade::Packages(names),
        ..InstallOptions::default()
    };
    let reporter = if dry_run {
        Arc::new(SilentReporter) as Arc<dyn Reporter>
    } else {
        Arc::clone(reporter)
    };
    sources::install_set(ws, opts, extras, reporter).await
}

/// A dry-run install of the chosen works' targets, upgrading them (on the trials' shared
/// fetcher when they are plain requirements).
async fn try_resolve(
    ws: &Workspace,
    trials: &Trials,
    works: &[Work],
    chosen: &[usize],
) -> Result<Changelog, OpsError> {
    let mut targets = Vec::new();
    let mut names = BTreeSet::new();
    for &w in chosen {
        targets.extend(works[w].targets.iter().cloned());
        names.extend(works[w].targets.iter().map(|t| t.requirement.name.clone()));
    }
    if targets.is_empty() {
        return Ok(Changelog::default());
    }
    if Trials::handles(&targets) {
        return trials.resolve(ws, &targets).await;
    }
    let opts = InstallOptions {
        targets,
        dry_run: true,
        upgrade: Upgrade::Packages(names),
        ..InstallOptions::default()
    };
    crate::ops::install::install(ws, opts, Arc::new(SilentReporter)).await
}

/// Whether an install failed because of what it asked for (a conflict, a missing package),
/// as opposed to the environment or the receipt.
fn is_resolution_failure(err: &OpsError) -> bool {
    matches!(
        err,
        OpsError::Resolve { .. }
            | OpsError::Fetch { .. }
            | OpsError::Usage(_)
            | OpsError::Other { .. }
    )
}

/// The version the changelog moves `dist` to.
fn resolved_version(log: &Changelog, dist: &PackageName) -> Option<Version> {
    log.changes.iter().find_map(|c| match c {
        Change::Add { name, version } | Change::Replace { name, version, .. }
            if name == dist.as_ref() =>
        {
            version.parse().ok()
        }
        _ => None,
    })
}

/// The newest version of the requirement's package that its specifier, the interpreter and
/// the index allow (pre-releases only when one is installed).
async fn newest_allowed(
    ws: &Workspace,
    trials: &Trials,
    target: &Target,
    current: &Version,
    reporter: Arc<dyn Reporter>,
) -> Option<Version> {
    // The trials' fetcher reads the workspace's package sources; an entry with its own
    // needs a fetcher on those.
    let own;
    let fetcher = match &target.locations {
        None => trials.fetcher(),
        Some(locations) => {
            own = Arc::new(Fetcher::new(
                tokio::runtime::Handle::current(),
                RegistryClient::new(ws.http.clone(), locations.clone()),
                Default::default(),
                ws.cache.clone(),
                ws.env.interpreter.clone(),
                reporter,
            ));
            &own
        }
    };
    let versions = fetcher.versions(&target.requirement.name).await.ok()?;
    let python = &ws.env.interpreter.python_full_version;
    let specifiers = match &target.requirement.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => Some(s.clone()),
        Some(pep508_rs::VersionOrUrl::Url(_)) => return None,
        None => None,
    };
    versions
        .iter()
        .filter(|v| !v.yanked)
        .filter(|v| !v.version.any_prerelease() || current.any_prerelease())
        .filter(|v| {
            v.requires_python
                .as_ref()
                .is_none_or(|rp| rp.contains(python))
        })
        .filter(|v| specifiers.as_ref().is_none_or(|s| s.contains(&v.version)))
        .map(|v| v.version.clone())
        .max()
}

/// The requirement pinned to `version` (markers and extras kept).
fn pinned(target: &Target, version: &Version) -> Option<Target> {
    let mut requirement: Requirement = target.requirement.clone();
    let spec = format!("=={version}").parse().ok()?;
    requirement.version_or_url = Some(pep508_rs::VersionOrUrl::VersionSpecifier(spec));
    Some(Target {
        requirement,
        plugin: None,
        locations: target.locations.clone(),
        local_wheel: None,
    })
}

/// Why an install of one plugin failed, in one line: the resolver's explanation without
/// the "cannot install" wrapper when there is one.
fn reason_of(err: &OpsError) -> String {
    match err {
        OpsError::Resolve { source, .. } => {
            // The closing "because you asked for …" only repeats the request.
            let text = one_line(source);
            match text.find(" And because you asked for") {
                Some(cut) if cut > 0 => text[..cut].to_string(),
                _ => text,
            }
        }
        other => one_line(other),
    }
}

/// An error and its causes on one line.
fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts
        .join(": ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_causes() {
        let err = OpsError::Other {
            message: "cannot install `x`".into(),
            source: Box::new(std::io::Error::other(
                "Because a needs b.\nAnd b is missing.",
            )),
        };
        assert_eq!(
            one_line(&err),
            "cannot install `x`: Because a needs b. And b is missing."
        );
    }

    #[test]
    fn only_requirement_lines_are_plain() {
        let rows = [
            ("tutor-mfe>=22,<23", true),
            ("tutor-mfe", true),
            ("tutor-mfe\ntutor-indigo==22.0.0", true),
            (
                "--index-url https://example.org/simple/\ntutor-private",
                true,
            ),
            (
                "tutor-mfe @ https://example.org/tutor_mfe-22.0.0-py3-none-any.whl",
                false,
            ),
            ("git+https://github.com/overhangio/tutor-mfe@main", false),
            (
                "tutor-mfe\ngit+https://github.com/overhangio/tutor-mfe@main",
                false,
            ),
            ("https://example.org/myplugin.py", false),
        ];
        for (src, plain) in rows {
            let source = Source::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(is_plain(&source), plain, "{src}");
        }
    }

    #[test]
    fn strict_failure_names_each_plugin() {
        let rows = [
            UpgradeRow {
                plugin: "legacy".into(),
                distribution: Some("tutor-legacy".into()),
                status: RowStatus::HeldBack,
                from: Some("21.0.0".into()),
                to: None,
                reason: Some("needs tutor<22".into()),
            },
            UpgradeRow {
                plugin: "mfe".into(),
                distribution: None,
                status: RowStatus::Upgraded,
                from: None,
                to: None,
                reason: None,
            },
        ];
        let err = strict_failure(rows.iter()).to_string();
        assert!(err.contains("1 plugin cannot be upgraded"), "{err}");
        assert!(err.contains("`legacy`: needs tutor<22"), "{err}");
        assert!(!err.contains('\n'));
    }
}
