//! The dry resolutions of `upgrade` ("can these plugins move together?", "why does this one
//! stay?"), all answered from one shared [`Fetcher`]: each index page and metadata file is
//! read once per run however many trials there are, where a dry-run install per trial reads
//! them all again. A trial asks exactly what `install --dry-run` of the same targets asks
//! (same request, same provider); the projects whose versions it looked up are recorded,
//! which is what the upgrade memo checks for changes on the index.
//!
//! Only plain requirements are tried here (no direct URL, no local wheel, no index of their
//! own); the others keep going through [`crate::ops::install::install`].

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::dist::{PackageName, Requirement, Version};
use crate::environment::InstalledDist;
use crate::ops::SilentReporter;
use crate::ops::error::OpsError;
use crate::ops::fetch::{Fetcher, Provider};
use crate::ops::install::{Change, Changelog, Target};
use crate::ops::workspace::Workspace;
use crate::registry::RegistryClient;
use crate::resolve::{self, MetadataProvider, ProviderError, ResolveRequest, Upgrade, VersionInfo};

/// Dry resolutions sharing one fetcher.
pub(super) struct Trials {
    fetcher: Arc<Fetcher>,
    /// The environment's distributions, read on first use and again after a change.
    installed: Mutex<Option<Arc<Vec<InstalledDist>>>>,
    /// Projects whose versions some trial asked for.
    consulted: Arc<Mutex<BTreeSet<PackageName>>>,
}

impl Trials {
    /// Trials against the workspace's package sources, on `installed` (the environment now).
    pub(super) fn new(ws: &Workspace, installed: Vec<InstalledDist>) -> Self {
        let mut fetcher = Fetcher::new(
            tokio::runtime::Handle::current(),
            RegistryClient::new(ws.http.clone(), ws.locations.clone()),
            HashMap::new(),
            ws.cache.clone(),
            ws.env.interpreter.clone(),
            Arc::new(SilentReporter),
        );
        // As in install: the metadata of installed packages is read from the environment.
        fetcher.skip_metadata_prefetch(installed.iter().map(|d| d.name.clone()));
        Trials {
            fetcher: Arc::new(fetcher),
            installed: Mutex::new(Some(Arc::new(installed))),
            consulted: Arc::default(),
        }
    }

    /// Whether [`Trials::resolve`] can try these targets (plain requirements on the
    /// workspace's package sources).
    pub(super) fn handles<'a>(targets: impl IntoIterator<Item = &'a Target>) -> bool {
        targets.into_iter().all(|t| {
            t.locations.is_none()
                && t.local_wheel.is_none()
                && !matches!(
                    t.requirement.version_or_url,
                    Some(pep508_rs::VersionOrUrl::Url(_))
                )
        })
    }

    /// The shared fetcher (on the workspace's package sources).
    pub(super) fn fetcher(&self) -> &Arc<Fetcher> {
        &self.fetcher
    }

    /// The projects whose versions the trials so far looked up.
    pub(super) fn consulted(&self) -> BTreeSet<PackageName> {
        lock(&self.consulted).clone()
    }

    /// The environment changed (a real install ran): read it again for the next trial.
    pub(super) fn env_changed(&self) {
        *lock(&self.installed) = None;
    }

    async fn installed(&self, ws: &Workspace) -> Result<Arc<Vec<InstalledDist>>, OpsError> {
        if let Some(installed) = lock(&self.installed).clone() {
            return Ok(installed);
        }
        let env = ws.env.clone();
        let installed = Arc::new(
            tokio::task::spawn_blocking(move || env.installed())
                .await
                .map_err(|e| OpsError::Join(e.to_string()))??,
        );
        *lock(&self.installed) = Some(Arc::clone(&installed));
        Ok(installed)
    }

    /// What `install --dry-run` of `targets` with these targets upgraded answers: the
    /// changes, or why they cannot be installed. `targets` must be [`Trials::handles`]-able.
    pub(super) async fn resolve(
        &self,
        ws: &Workspace,
        targets: &[Target],
    ) -> Result<Changelog, OpsError> {
        if targets.is_empty() {
            return Ok(Changelog::default());
        }
        let installed = self.installed(ws).await?;
        let installed_by_name: HashMap<PackageName, InstalledDist> = installed
            .iter()
            .map(|d| (d.name.clone(), d.clone()))
            .collect();
        let requested: BTreeSet<PackageName> =
            targets.iter().map(|t| t.requirement.name.clone()).collect();
        // As in install: Tutor is a fixed point unless it is one of the targets.
        let mut fixed: Vec<(PackageName, Version)> = Vec::new();
        if let Ok(tutor) = PackageName::new("tutor".to_string())
            && !requested.contains(&tutor)
            && let Some(dist) = installed_by_name.get(&tutor)
        {
            fixed.push((tutor, dist.version.clone()));
        }
        let request = ResolveRequest {
            requirements: targets.iter().map(|t| t.requirement.clone()).collect(),
            installed: installed
                .iter()
                .filter(|d| !fixed.iter().any(|(n, _)| n == &d.name))
                .map(|d| (d.name.clone(), d.version.clone()))
                .collect(),
            fixed,
            upgrade: Upgrade::Packages(requested.clone()),
            markers: ws.env.interpreter.markers.clone(),
            python_version: ws.env.interpreter.python_full_version.clone(),
            pre_releases: false,
        };
        for name in &requested {
            self.fetcher.prefetch(name);
        }
        let provider = Recording {
            inner: Provider {
                fetcher: Arc::clone(&self.fetcher),
                installed: installed_by_name.clone(),
                no_deps: false,
                known: HashMap::new(),
                installed_only: Default::default(),
            },
            consulted: Arc::clone(&self.consulted),
        };
        let started = Instant::now();
        let resolution = tokio::task::spawn_blocking(move || resolve::resolve(&request, &provider))
            .await
            .map_err(|e| OpsError::Join(e.to_string()))?
            .map_err(|source| OpsError::Resolve {
                what: crate::ops::install::describe_targets(targets),
                source,
            })?;
        let mut changes = Vec::new();
        for (name, pkg) in &resolution.packages {
            match installed_by_name.get(name) {
                None => changes.push(Change::Add {
                    name: name.to_string(),
                    version: pkg.version.to_string(),
                }),
                Some(dist) if dist.version != pkg.version => changes.push(Change::Replace {
                    name: name.to_string(),
                    from: dist.version.to_string(),
                    version: pkg.version.to_string(),
                }),
                Some(_) => {}
            }
        }
        Ok(Changelog {
            dry_run: true,
            changes,
            resolved: resolution.packages.len(),
            resolve_time: started.elapsed(),
            ..Changelog::default()
        })
    }
}

/// The install provider, noting which projects the resolver looked up.
struct Recording {
    inner: Provider,
    consulted: Arc<Mutex<BTreeSet<PackageName>>>,
}

impl MetadataProvider for Recording {
    fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, ProviderError> {
        lock(&self.consulted).insert(name.clone());
        self.inner.versions(name)
    }

    fn requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        self.inner.requirements(name, version)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
