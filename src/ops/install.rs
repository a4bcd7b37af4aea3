//! `plonk install` (and the install half of `venv --tutor` and `upgrade`): resolve, plan,
//! fetch and build everything, verify it, then lock the environment and apply the plan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::dist::{DirectUrl, Metadata, PackageName, Requirement, Version};
use crate::environment::{EnvLock, InstalledDist, PythonEnvironment};
use crate::install::InstallOptions as WheelOptions;
use crate::install::journal::{Expected, FaultPlan, Transaction};
use crate::install::receipt::{PluginRecord, Reason, Receipt};
use crate::ops::error::OpsError;
use crate::ops::fetch::{AbandonOnDrop, Fetcher, Provider, SharedError, WheelReady};
use crate::ops::workspace::Workspace;
use crate::ops::{ProgressKind, Reporter};
use crate::registry::{IndexLocations, RegistryClient};
use crate::resolve::{self, ResolveRequest, Upgrade};

/// Where a requested plugin came from, for the ownership record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginOrigin {
    /// Plugin name (index entry name, or the file stem of a single-file plugin).
    pub name: String,
    /// The index file of the entry, if any.
    pub index: Option<String>,
    /// The entry's `src` or what the user typed.
    pub src: String,
}

/// One thing the user asked for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The requirement to satisfy.
    pub requirement: Requirement,
    /// The plugin this requirement installs, when it came from an index entry.
    pub plugin: Option<PluginOrigin>,
    /// Package sources that apply to this requirement only (an entry's own `--index-url`).
    pub locations: Option<IndexLocations>,
    /// A local wheel that provides the requirement (built git checkouts, single files).
    pub local_wheel: Option<LocalWheel>,
}

/// A wheel plonk made or found itself, installed instead of asking an index.
#[derive(Debug, Clone)]
pub struct LocalWheel {
    /// Path of the wheel.
    pub path: std::path::PathBuf,
    /// Its metadata.
    pub metadata: Metadata,
    /// PEP 610 origin written as `direct_url.json`.
    pub direct_url: Option<DirectUrl>,
    /// Recorded in the receipt (single files: content hash; git: commit).
    pub sha256: Option<String>,
    /// Recorded in the receipt for git sources.
    pub commit: Option<String>,
}

/// Options of one install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// What to install.
    pub targets: Vec<Target>,
    /// Print the plan only.
    pub dry_run: bool,
    /// Ignore dependencies.
    pub no_deps: bool,
    /// Byte-compile.
    pub compile: bool,
    /// Reinstall the targets even if satisfied.
    pub reinstall: bool,
    /// Which packages prefer their newest version (upgrade).
    pub upgrade: Upgrade,
}

/// One change to the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Change {
    /// A new distribution.
    Add {
        /// Name.
        name: String,
        /// Version.
        version: String,
    },
    /// A distribution replaced by another version (or reinstalled).
    Replace {
        /// Name.
        name: String,
        /// Installed version.
        from: String,
        /// New version.
        version: String,
    },
    /// A distribution removed.
    Remove {
        /// Name.
        name: String,
        /// Removed version.
        version: String,
    },
}

impl Change {
    /// The distribution name.
    pub fn name(&self) -> &str {
        match self {
            Change::Add { name, .. }
            | Change::Replace { name, .. }
            | Change::Remove { name, .. } => name,
        }
    }
}

/// What an operation did (or, for `--dry-run`, would do), with timings for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changelog {
    /// Whether nothing was changed on purpose.
    pub dry_run: bool,
    /// Changes in the order they apply.
    pub changes: Vec<Change>,
    /// Packages in the resolution.
    pub resolved: usize,
    /// Time to resolve.
    #[serde(skip)]
    pub resolve_time: Duration,
    /// Files downloaded.
    pub downloaded: usize,
    /// Time downloading.
    #[serde(skip)]
    pub download_time: Duration,
    /// Wheels built.
    pub built: usize,
    /// Time building.
    #[serde(skip)]
    pub build_time: Duration,
    /// Distributions installed.
    pub installed: usize,
    /// Time installing.
    #[serde(skip)]
    pub install_time: Duration,
    /// Distributions removed.
    pub removed: usize,
    /// Notes for the user (held-back plugins, skipped items).
    pub notes: Vec<String>,
}

/// Installs `opts.targets` into the workspace's environment.
pub async fn install(
    ws: &Workspace,
    opts: InstallOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<Changelog, OpsError> {
    let env = ws.env.clone();
    let installed = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || env.installed())
            .await
            .map_err(|e| OpsError::Join(e.to_string()))??
    };
    let installed_by_name: HashMap<PackageName, InstalledDist> = installed
        .iter()
        .map(|d| (d.name.clone(), d.clone()))
        .collect();

    // Per-target package sources.
    let mut overrides = HashMap::new();
    for target in &opts.targets {
        if let Some(locations) = &target.locations {
            overrides.insert(
                target.requirement.name.clone(),
                RegistryClient::new(ws.http.clone(), locations.clone()),
            );
        }
    }
    let mut fetcher = Fetcher::new(
        tokio::runtime::Handle::current(),
        RegistryClient::new(ws.http.clone(), ws.locations.clone()),
        overrides,
        ws.cache.clone(),
        env.interpreter.clone(),
        Arc::clone(&reporter),
    );
    // Most installs keep every installed package as it is (see `fast` below): those are not
    // looked up ahead. Upgrades and reinstalls may move them, so they are.
    if opts.upgrade == Upgrade::None && !opts.reinstall {
        fetcher.skip_metadata_prefetch(installed.iter().map(|d| d.name.clone()));
    }
    if !opts.dry_run {
        fetcher.fetch_while_resolving();
    }
    let fetcher = Arc::new(fetcher);
    // However this returns, a build still running then was started on a guess or for a
    // resolution that failed: stop it rather than make the process wait for it at exit.
    let _abandon = AbandonOnDrop(Arc::clone(&fetcher));

    // Direct references are fetched or built first: the resolver sees them as fixed.
    let mut opts = opts;
    for target in &mut opts.targets {
        if target.local_wheel.is_some() {
            continue;
        }
        if let Some(pep508_rs::VersionOrUrl::Url(url)) = &target.requirement.version_or_url {
            let wheel =
                crate::ops::local::wheel_for_url(&fetcher, &target.requirement.name, url.raw())
                    .await?;
            target.local_wheel = Some(wheel);
        }
    }

    let requested: BTreeSet<PackageName> = opts
        .targets
        .iter()
        .map(|t| t.requirement.name.clone())
        .collect();
    // Tutor is a fixed point unless the user names it (SPEC: never changed as a side effect).
    let tutor = PackageName::new("tutor".to_string()).ok();
    let mut fixed: Vec<(PackageName, Version)> = Vec::new();
    if let Some(tutor) = &tutor
        && !requested.contains(tutor)
        && let Some(dist) = installed_by_name.get(tutor)
    {
        fixed.push((tutor.clone(), dist.version.clone()));
    }
    let mut known = HashMap::new();
    for target in &opts.targets {
        if let Some(local) = &target.local_wheel {
            fixed.push((local.metadata.name.clone(), local.metadata.version.clone()));
            known.insert(local.metadata.name.clone(), local.metadata.clone());
        }
    }
    // Reinstalled targets may move to another allowed version as well.
    let upgrade = match (&opts.upgrade, opts.reinstall) {
        (Upgrade::None, true) => Upgrade::Packages(requested.clone()),
        (u, _) => u.clone(),
    };
    let request = ResolveRequest {
        requirements: opts.targets.iter().map(|t| t.requirement.clone()).collect(),
        installed: installed
            .iter()
            .filter(|d| !fixed.iter().any(|(n, _)| n == &d.name))
            .map(|d| (d.name.clone(), d.version.clone()))
            .collect(),
        fixed,
        upgrade,
        markers: env.interpreter.markers.clone(),
        python_version: env.interpreter.python_full_version.clone(),
        pre_releases: false,
    };
    for target in &opts.targets {
        if target.local_wheel.is_none() {
            fetcher.prefetch_requirement(&target.requirement);
        }
    }

    let what = describe_targets(&opts.targets);
    let started = Instant::now();
    // First attempt: installed packages stay at their version and the index is not asked
    // about them. Only if that cannot work (a plugin needs a newer dependency) is the full
    // resolution run, with every installed package free to move where it must.
    let fast = opts.upgrade == Upgrade::None && !opts.reinstall;
    let installed_only: std::collections::HashSet<PackageName> = if fast {
        installed_by_name
            .keys()
            .filter(|n| !requested.contains(*n))
            .cloned()
            .collect()
    } else {
        Default::default()
    };
    let make_provider = |installed_only| Provider {
        fetcher: Arc::clone(&fetcher),
        installed: installed_by_name.clone(),
        no_deps: opts.no_deps,
        known: known.clone(),
        installed_only,
    };
    let first = {
        let provider = make_provider(installed_only.clone());
        let request = request.clone();
        tokio::task::spawn_blocking(move || resolve::resolve(&request, &provider))
            .await
            .map_err(|e| OpsError::Join(e.to_string()))?
    };
    let resolution = match first {
        Ok(resolution) => resolution,
        Err(resolve::ResolveError::Conflict { .. }) if !installed_only.is_empty() => {
            for dist in &installed {
                fetcher.prefetch(&dist.name);
            }
            let provider = make_provider(Default::default());
            tokio::task::spawn_blocking(move || resolve::resolve(&request, &provider))
                .await
                .map_err(|e| OpsError::Join(e.to_string()))?
                .map_err(|source| OpsError::Resolve {
                    what: what.clone(),
                    source,
                })?
        }
        Err(source) => {
            return Err(OpsError::Resolve {
                what: what.clone(),
                source,
            });
        }
    };
    let resolve_time = started.elapsed();

    // Plan.
    let local_wheels: HashMap<PackageName, &LocalWheel> = opts
        .targets
        .iter()
        .filter_map(|t| {
            t.local_wheel
                .as_ref()
                .map(|w| (t.requirement.name.clone(), w))
        })
        .collect();
    let mut changes = Vec::new();
    let mut to_fetch: Vec<(PackageName, Version)> = Vec::new();
    let mut moved_locals: BTreeSet<PackageName> = BTreeSet::new();
    for (name, pkg) in &resolution.packages {
        let reinstall = opts.reinstall && requested.contains(name);
        // A git commit or single file that moved replaces its install even at one version.
        let local_moved = |dist: &InstalledDist| {
            local_wheels
                .get(name)
                .and_then(|w| w.direct_url.as_ref())
                .is_some_and(|wanted| dist.direct_url().ok().flatten().as_ref() != Some(wanted))
        };
        match installed_by_name.get(name) {
            None => {
                changes.push(Change::Add {
                    name: name.to_string(),
                    version: pkg.version.to_string(),
                });
                to_fetch.push((name.clone(), pkg.version.clone()));
            }
            Some(dist) if dist.version != pkg.version || reinstall || local_moved(dist) => {
                if dist.version == pkg.version && !reinstall {
                    moved_locals.insert(name.clone());
                }
                changes.push(Change::Replace {
                    name: name.to_string(),
                    from: dist.version.to_string(),
                    version: pkg.version.to_string(),
                });
                to_fetch.push((name.clone(), pkg.version.clone()));
            }
            Some(_) => {}
        }
    }
    let mut log = Changelog {
        dry_run: opts.dry_run,
        changes: changes.clone(),
        resolved: resolution.packages.len(),
        resolve_time,
        ..Changelog::default()
    };
    if opts.dry_run {
        return Ok(log);
    }

    // Fetch and build everything before the environment is touched.
    let wheels: Vec<(PackageName, Version, Result<WheelReady, SharedError>)> = {
        let futures = to_fetch.iter().map(|(name, version)| {
            let fetcher = Arc::clone(&fetcher);
            let local = local_wheels.get(name).map(|w| (*w).clone());
            async move {
                let result = match local {
                    Some(local) => Ok(fetcher.local_wheel(&local.path).await),
                    None => fetcher.wheel(name, version).await.map_err(SharedError),
                };
                (name.clone(), version.clone(), result)
            }
        });
        futures::future::join_all(futures).await
    };
    let mut ready = Vec::new();
    for (name, version, result) in wheels {
        match result {
            Ok(w) => ready.push((name, version, w)),
            Err(source) => {
                return Err(OpsError::Fetch {
                    package: format!("{name}=={version}"),
                    source,
                });
            }
        }
    }
    log.downloaded = fetcher
        .stats
        .downloaded
        .load(std::sync::atomic::Ordering::Relaxed);
    log.download_time = fetcher.stats.download_time();
    log.built = fetcher
        .stats
        .built
        .load(std::sync::atomic::Ordering::Relaxed);
    log.build_time = fetcher.stats.build_time();

    // Apply under the environment lock.
    let started = Instant::now();
    let plugin_of: HashMap<PackageName, PluginOrigin> = opts
        .targets
        .iter()
        .filter_map(|t| t.plugin.clone().map(|p| (t.requirement.name.clone(), p)))
        .collect();
    let local_info: HashMap<PackageName, LocalWheel> = local_wheels
        .iter()
        .map(|(k, v)| (k.clone(), (*v).clone()))
        .collect();
    let mut reinstall = if opts.reinstall {
        requested.clone()
    } else {
        BTreeSet::new()
    };
    reinstall.extend(moved_locals);
    let apply = ApplyInput {
        env: env.clone(),
        ready,
        installed: installed_by_name,
        requested,
        plugin_of,
        local_info,
        resolution_required_by: resolution
            .packages
            .iter()
            .map(|(n, p)| {
                (
                    n.clone(),
                    p.required_by
                        .iter()
                        .filter_map(|r| match r {
                            resolve::Requester::User => None,
                            resolve::Requester::Package(p) => Some(p.clone()),
                        })
                        .collect(),
                )
            })
            .collect(),
        compile: opts.compile,
        reinstall,
        lock_timeout: ws.lock_timeout,
        faults: ws.faults.clone(),
        reporter: Arc::clone(&reporter),
    };
    let count = tokio::task::spawn_blocking(move || apply_plan(apply))
        .await
        .map_err(|e| OpsError::Join(e.to_string()))??;
    log.installed = count;
    log.install_time = started.elapsed();
    Ok(log)
}

/// One planned install of [`apply_plan`]: name, version, wheel, replaced dist, options.
type Work<'a> = (
    &'a PackageName,
    &'a Version,
    &'a WheelReady,
    Option<&'a InstalledDist>,
    WheelOptions,
);

/// Installs `work` (whose files do not overlap) on `threads` threads sharing `tx`: linking
/// thousands of files is mostly system calls, which run side by side. Stops at the first
/// failure; the caller rolls the whole transaction back. Returns how many were installed.
fn link_in_parallel(
    tx: &mut Transaction,
    work: &[Work<'_>],
    env: &PythonEnvironment,
    threads: usize,
) -> Result<usize, OpsError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let shared = std::sync::Mutex::new(tx);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error = std::sync::Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some((name, version, wheel, _, options)) =
                        work.get(next.fetch_add(1, Ordering::Relaxed))
                    else {
                        break;
                    };
                    shared
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .point("install");
                    let installed = Transaction::install_shared(
                        &shared,
                        &wheel.path,
                        wheel.unpacked.as_ref(),
                        env,
                        options,
                    );
                    match installed {
                        Ok(_) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(source) => {
                            failed.store(true, Ordering::Relaxed);
                            first_error
                                .lock()
                                .unwrap_or_else(|poisoned| poisoned.into_inner())
                                .get_or_insert((format!("{name}=={version}"), source));
                        }
                    }
                }
            });
        }
    });
    match first_error
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        Some((package, source)) => Err(OpsError::Install {
            package,
            env: env.root.clone(),
            source,
        }),
        None => Ok(done.into_inner()),
    }
}

/// The targets as install names them in its errors (`mfe`, `tutor-indigo>=22`, …).
pub(crate) fn describe_targets(targets: &[Target]) -> String {
    let names: Vec<String> = targets
        .iter()
        .map(|t| match &t.plugin {
            Some(p) => format!("`{}`", p.name),
            None => format!("`{}`", t.requirement),
        })
        .collect();
    if names.is_empty() {
        "the requested packages".to_string()
    } else {
        names.join(", ")
    }
}

struct ApplyInput {
    env: PythonEnvironment,
    ready: Vec<(PackageName, Version, WheelReady)>,
    installed: HashMap<PackageName, InstalledDist>,
    requested: BTreeSet<PackageName>,
    plugin_of: HashMap<PackageName, PluginOrigin>,
    local_info: HashMap<PackageName, LocalWheel>,
    /// name → the packages that require it.
    resolution_required_by: BTreeMap<PackageName, BTreeSet<PackageName>>,
    compile: bool,
    /// Requested names to reinstall even when present (`--reinstall`).
    reinstall: BTreeSet<PackageName>,
    lock_timeout: Option<Duration>,
    faults: FaultPlan,
    reporter: Arc<dyn Reporter>,
}

/// The blocking section: lock, replace, install, record. On error, what this run installed
/// is taken out again.
fn apply_plan(input: ApplyInput) -> Result<usize, OpsError> {
    let env = &input.env;
    let reporter = Arc::clone(&input.reporter);
    let _lock = EnvLock::acquire(&env.root, input.lock_timeout, || {
        reporter.warn("waiting for another plonk process to finish with this environment")
    })?;
    let mut receipt = Receipt::load(&env.root)?;
    // Another plonk may have changed the environment between our planning and this lock:
    // apply the plan to what is there now. A distribution it installed at the version we
    // want stays as it is; one at another version is what we replace.
    let names: Vec<PackageName> = input.ready.iter().map(|(n, _, _)| n.clone()).collect();
    let current: HashMap<PackageName, InstalledDist> = env
        .installed_named(&names)?
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    // What each wheel does, and everything the installs will create: recorded in the
    // journal's first write, before any change.
    let mut work = Vec::new();
    let mut expected = Expected::default();
    for (name, version, wheel) in &input.ready {
        let old = current.get(name);
        if old.is_some_and(|o| &o.version == version && !input.reinstall.contains(name)) {
            continue;
        }
        let local = input.local_info.get(name);
        let options = WheelOptions {
            // An upgrade as a dependency keeps the user's earlier request.
            requested: input.requested.contains(name) || old.is_some_and(|o| o.requested),
            direct_url: local.and_then(|l| l.direct_url.clone()),
            compile: input.compile,
            installer: "plonk".to_string(),
        };
        if let Some(unpacked) = &wheel.unpacked {
            expected
                .install(unpacked, env, &options)
                .map_err(|source| OpsError::Install {
                    package: format!("{name}=={version}"),
                    env: env.root.clone(),
                    source,
                })?;
        }
        work.push((name, version, wheel, old, options));
    }
    // Every change of this run goes through one transaction: on any error (or a kill) the
    // environment comes back exactly as it was, replaced versions included.
    let mut tx =
        Transaction::begin_expecting(&env.root, "install", input.faults.clone(), &expected)
            .map_err(journal_error)?;
    let mut count = 0;
    let progress = input.reporter.start(
        ProgressKind::Install,
        &format!("{} packages", input.ready.len()),
        None,
    );
    let result = (|| -> Result<(), OpsError> {
        // Replaced versions go first: a file that moved from one distribution to another
        // then belongs to the new owner, whatever the order of the installs.
        for (_, _, _, old, _) in &work {
            if let Some(old) = old {
                tx.uninstall(env, old).map_err(|source| OpsError::Other {
                    message: format!(
                        "failed to remove `{}=={}` from {}",
                        old.name,
                        old.version,
                        env.root.display()
                    ),
                    source: Box::new(source),
                })?;
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(work.len());
        if threads > 1 && !expected.overlapping() {
            count = link_in_parallel(&mut tx, &work, env, threads)?;
            return Ok(());
        }
        for (name, version, wheel, _, options) in &work {
            tx.point("install");
            tx.install(&wheel.path, wheel.unpacked.as_ref(), env, options)
                .map_err(|source| OpsError::Install {
                    package: format!("{name}=={version}"),
                    env: env.root.clone(),
                    source,
                })?;
            count += 1;
        }
        Ok(())
    })();
    input.reporter.finish(progress);
    if let Err(err) = result {
        if let Err(undo) = tx.rollback() {
            input.reporter.warn(&format!(
                "could not undo the failed change cleanly ({undo}); the next plonk command on this environment will retry"
            ));
        }
        return Err(err);
    }

    // Ownership record.
    for (name, version, wheel) in &input.ready {
        let dist = name.to_string();
        let version = version.to_string();
        receipt.set_version(&dist, &version);
        if let Some(plugin) = input.plugin_of.get(name) {
            let local = input.local_info.get(name);
            receipt.plugins.insert(
                plugin.name.clone(),
                PluginRecord {
                    distribution: dist.clone(),
                    index: plugin.index.clone(),
                    src: plugin.src.clone(),
                    sha256: local
                        .and_then(|l| l.sha256.clone())
                        .or_else(|| wheel.origin.as_ref().and_then(|o| o.sha256.clone())),
                    commit: local.and_then(|l| l.commit.clone()),
                    extra: Default::default(),
                },
            );
            receipt.add_reason(&dist, &version, Reason::Plugin(plugin.name.clone()));
        } else if input.requested.contains(name) {
            receipt.add_reason(&dist, &version, Reason::User);
        }
    }
    // Requested but already installed (nothing to change): the request still counts, or a
    // later `remove` of whatever first pulled it in as a dependency would take it away.
    for name in &input.requested {
        if input.ready.iter().any(|(n, _, _)| n == name) || input.plugin_of.contains_key(name) {
            continue;
        }
        if let Some(dist) = input.installed.get(name) {
            receipt.add_reason(name.as_ref(), &dist.version.to_string(), Reason::User);
        }
    }
    // Dependencies: every resolved package that a requested one needs, transitively, gets a
    // reason naming the requested root (plugin name when it is one).
    for root in &input.requested {
        let root_label = input
            .plugin_of
            .get(root)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| root.to_string());
        for dep in dependents_closure(root, &input.resolution_required_by) {
            if &dep == root {
                continue;
            }
            let newly = input.ready.iter().any(|(n, _, _)| n == &dep);
            let tracked = receipt.distributions.contains_key(dep.as_ref());
            // Only what plonk installed is plonk's to remove later.
            if newly || tracked {
                let version = input
                    .ready
                    .iter()
                    .find(|(n, _, _)| n == &dep)
                    .map(|(_, v, _)| v.to_string())
                    .or_else(|| input.installed.get(&dep).map(|d| d.version.to_string()))
                    .unwrap_or_default();
                receipt.add_reason(
                    dep.as_ref(),
                    &version,
                    Reason::DependencyOf(root_label.clone()),
                );
            }
        }
    }
    tx.point("receipt");
    receipt.save(&env.root)?;
    tx.commit().map_err(journal_error)?;
    Ok(count)
}

fn journal_error(err: crate::install::journal::JournalError) -> OpsError {
    OpsError::Other {
        message: "cannot keep the environment's change journal".to_string(),
        source: Box::new(err),
    }
}

/// Every package reachable from `root` through "is required by" edges reversed.
fn dependents_closure(
    root: &PackageName,
    required_by: &BTreeMap<PackageName, BTreeSet<PackageName>>,
) -> BTreeSet<PackageName> {
    // Invert: package → what it requires.
    let mut requires: BTreeMap<&PackageName, Vec<&PackageName>> = BTreeMap::new();
    for (pkg, parents) in required_by {
        for parent in parents {
            requires.entry(parent).or_default().push(pkg);
        }
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(next) = stack.pop() {
        if seen.insert(next.clone())
            && let Some(children) = requires.get(next)
        {
            stack.extend(children.iter().copied());
        }
    }
    seen
}
