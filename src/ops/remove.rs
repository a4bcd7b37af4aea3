//! `plonk remove`: uninstall plugins and the dependencies plonk installed for them that
//! nothing else needs, through RECORD files and plonk's ownership record.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::dist::{ExtraName, PackageName};
use crate::environment::{EnvLock, InstalledDist, PythonEnvironment};
use crate::install::journal::{FaultPlan, Transaction};
use crate::install::receipt::{Reason, Receipt};
use crate::ops::error::OpsError;
use crate::ops::install::{Change, Changelog};
use crate::ops::sources::{RECORD_CHECKOUT_KEY, RECORD_FILE_KEY};
use crate::ops::{ProgressKind, Reporter};

/// Entry-point groups through which Tutor discovers plugins.
pub const PLUGIN_GROUPS: [&str; 2] = ["tutor.plugin.v1", "tutor.plugin.v0"];

/// Options of `plonk remove`.
#[derive(Debug, Clone, Default)]
pub struct RemoveOptions {
    /// Plugin or distribution names.
    pub names: Vec<String>,
    /// Keep the dependencies installed for the plugins.
    pub keep_deps: bool,
    /// Remove even when enabled in the Tutor project.
    pub force: bool,
    /// Plugins enabled in the Tutor project (`PLUGINS` of config.yml).
    pub enabled_plugins: Vec<String>,
    /// The Tutor root, for the message when a plugin is enabled.
    pub tutor_root: PathBuf,
    /// Distribution names that index entries with these plugin names point at.
    pub index_distributions: HashMap<String, Vec<PackageName>>,
    /// How long to wait for the environment lock.
    pub lock_timeout: Option<std::time::Duration>,
    /// Fault injection for crash tests (`PLONK_FAULT`).
    pub faults: FaultPlan,
    /// The plugins root (`.yml` plugins plonk placed there are removed too).
    pub plugins_root: PathBuf,
}

/// Removes plugins from the environment.
pub async fn remove(
    env: PythonEnvironment,
    opts: RemoveOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<Changelog, OpsError> {
    tokio::task::spawn_blocking(move || remove_blocking(&env, &opts, reporter.as_ref()))
        .await
        .map_err(|e| OpsError::Join(e.to_string()))?
}

/// The plugin names (entry-point names in Tutor's groups) a distribution provides.
pub fn plugin_names(dist: &InstalledDist) -> Vec<String> {
    let Ok(eps) = dist.entry_points() else {
        return Vec::new();
    };
    PLUGIN_GROUPS
        .iter()
        .filter_map(|g| eps.groups.get(*g))
        .flatten()
        .map(|ep| ep.name.clone())
        .collect()
}

fn remove_blocking(
    env: &PythonEnvironment,
    opts: &RemoveOptions,
    reporter: &dyn Reporter,
) -> Result<Changelog, OpsError> {
    let started = Instant::now();
    let _lock = EnvLock::acquire(&env.root, opts.lock_timeout, || {
        reporter.warn("waiting for another plonk process to finish with this environment")
    })?;
    let installed = env.installed()?;
    let by_name: BTreeMap<PackageName, &InstalledDist> =
        installed.iter().map(|d| (d.name.clone(), d)).collect();
    let mut receipt = Receipt::load(&env.root)?;

    // Name → distribution.
    let mut roots: BTreeSet<PackageName> = BTreeSet::new();
    let mut plugins_removed: Vec<String> = Vec::new();
    // `.yml` plugins plonk put into the plugins root: (plugin, file, recorded sha256).
    let mut plugin_files: Vec<(String, PathBuf, Option<String>)> = Vec::new();
    for raw in &opts.names {
        let name = raw.trim().to_lowercase();
        if let Some(record) = receipt.plugins.get(&name)
            && record.distribution.is_empty()
            && let Some(file) = record.extra.get(RECORD_FILE_KEY).and_then(|v| v.as_str())
        {
            if !opts.force
                && opts
                    .enabled_plugins
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&name))
            {
                return Err(OpsError::Enabled {
                    plugin: name.clone(),
                    root: opts.tutor_root.clone(),
                });
            }
            plugin_files.push((name.clone(), PathBuf::from(file), record.sha256.clone()));
            continue;
        }
        let dist = find_distribution(&name, &installed, &receipt, &opts.index_distributions)
            .ok_or_else(|| OpsError::NotInstalled {
                name: raw.clone(),
                env: env.root.clone(),
            })?;
        let provides = by_name
            .get(&dist)
            .map(|d| plugin_names(d))
            .unwrap_or_default();
        if !opts.force {
            let enabled = provides.iter().chain(std::iter::once(&name)).find(|p| {
                opts.enabled_plugins
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(p))
            });
            if let Some(plugin) = enabled {
                return Err(OpsError::Enabled {
                    plugin: plugin.clone(),
                    root: opts.tutor_root.clone(),
                });
            }
        }
        if let Some(plugin) = receipt.plugin_of_distribution(dist.as_ref()) {
            plugins_removed.push(plugin.to_string());
        }
        roots.insert(dist);
    }

    // What goes: the roots, then (unless --keep-deps) every distribution plonk installed as a
    // dependency that no remaining distribution needs and nobody asked for.
    // Editable checkouts plonk created under `<venv>/src/` go with their plugin.
    let checkouts: Vec<PathBuf> = plugins_removed
        .iter()
        .filter_map(|p| receipt.plugins.get(p))
        .filter_map(|r| r.extra.get(RECORD_CHECKOUT_KEY).and_then(|v| v.as_str()))
        .map(PathBuf::from)
        .filter(|p| p.starts_with(env.root.join("src")))
        .collect();
    for plugin in &plugins_removed {
        receipt.forget_plugin(plugin);
    }
    for (plugin, _, _) in &plugin_files {
        receipt.forget_plugin(plugin);
    }
    for root in &roots {
        receipt.forget_distribution(root.as_ref());
    }
    let mut removing: BTreeSet<PackageName> = roots.clone();
    if !opts.keep_deps {
        loop {
            let needed = needed_by_remaining(env, &installed, &removing);
            let more: Vec<PackageName> = installed
                .iter()
                .filter(|d| !removing.contains(&d.name) && !needed.contains(&d.name))
                .filter(|d| !d.requested)
                .filter(|d| {
                    receipt.distributions.get(d.name.as_ref()).is_some_and(|r| {
                        r.reasons.is_empty()
                            || r.reasons
                                .iter()
                                .all(|reason| matches!(reason, Reason::DependencyOf(p) if removed_label(p, &roots, &plugins_removed)))
                    })
                })
                .map(|d| d.name.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            removing.extend(more);
        }
    }

    let progress = reporter.start(ProgressKind::Install, "removing", None);
    let mut changes = Vec::new();
    // One transaction for every distribution removed: all go, or none.
    let mut tx = Transaction::begin(&env.root, "remove", opts.faults.clone()).map_err(|e| {
        OpsError::Other {
            message: "cannot keep the environment's change journal".to_string(),
            source: Box::new(e),
        }
    })?;
    for name in &removing {
        let Some(dist) = by_name.get(name) else {
            continue;
        };
        if let Err(source) = tx.uninstall(env, dist) {
            let _ = tx.rollback();
            return Err(OpsError::Other {
                message: format!(
                    "failed to remove `{}=={}` from {}; nothing was removed",
                    dist.name,
                    dist.version,
                    env.root.display()
                ),
                source: Box::new(source),
            });
        }
        receipt.forget_distribution(name.as_ref());
        changes.push(Change::Remove {
            name: name.to_string(),
            version: dist.version.to_string(),
        });
    }
    reporter.finish(progress);
    if opts.keep_deps {
        // The dependencies kept on purpose lost every reason above; left like that, the next
        // `remove` (of anything) would take them as orphans. They are the user's now: plonk
        // stops tracking them, as if installed by another tool.
        let kept: Vec<String> = receipt
            .distributions
            .iter()
            .filter(|(_, record)| record.reasons.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        for name in kept {
            receipt.forget_distribution(&name);
        }
    }
    for checkout in &checkouts {
        if checkout.exists()
            && let Err(source) = tx.remove_path(checkout)
        {
            let _ = tx.rollback();
            return Err(OpsError::Other {
                message: format!(
                    "failed to remove the editable checkout {}; nothing was removed",
                    checkout.display()
                ),
                source: Box::new(source),
            });
        }
    }
    tx.point("receipt");
    if let Err(err) = receipt.save(&env.root) {
        let _ = tx.rollback();
        return Err(err.into());
    }
    tx.commit().map_err(|e| OpsError::Other {
        message: "cannot finish the change journal".to_string(),
        source: Box::new(e),
    })?;
    // `<venv>/src` is left only if something else is still in it.
    for checkout in &checkouts {
        if let Some(parent) = checkout.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
    // Plugins-root files are outside the environment: removed once the rest is committed,
    // and only if they are still what plonk wrote.
    for (plugin, file, sha256) in &plugin_files {
        if !file.starts_with(&opts.plugins_root) {
            reporter.warn(&format!(
                "not removing {} for `{plugin}`: it is outside the plugins root",
                file.display()
            ));
            continue;
        }
        let current = std::fs::read(file)
            .ok()
            .map(|b| crate::dist::sha256_hex(&b));
        if current.is_some() && sha256.is_some() && current != *sha256 && !opts.force {
            reporter.warn(&format!(
                "kept {}: it changed since plonk installed `{plugin}` (use --force to remove it)",
                file.display()
            ));
            continue;
        }
        if let Err(err) = std::fs::remove_file(file)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            reporter.warn(&format!("cannot remove {}: {err}", file.display()));
            continue;
        }
        changes.push(Change::Remove {
            name: plugin.clone(),
            version: "file".to_string(),
        });
    }
    Ok(Changelog {
        removed: changes.len(),
        changes,
        install_time: started.elapsed(),
        ..Changelog::default()
    })
}

fn removed_label(label: &str, roots: &BTreeSet<PackageName>, plugins: &[String]) -> bool {
    plugins.iter().any(|p| p == label) || roots.iter().any(|r| r.as_ref() == label)
}

/// Finds the distribution behind a plugin or distribution name.
fn find_distribution(
    name: &str,
    installed: &[InstalledDist],
    receipt: &Receipt,
    index_distributions: &HashMap<String, Vec<PackageName>>,
) -> Option<PackageName> {
    // 1. A plugin plonk installed.
    if let Some(record) = receipt.plugins.get(name)
        && let Ok(dist) = PackageName::new(record.distribution.clone())
        && installed.iter().any(|d| d.name == dist)
    {
        return Some(dist);
    }
    // 2. A distribution that provides a plugin of that name (entry point).
    if let Some(d) = installed
        .iter()
        .find(|d| plugin_names(d).iter().any(|p| p.eq_ignore_ascii_case(name)))
    {
        return Some(d.name.clone());
    }
    // 3. An index entry of that name (its `src` names the distribution).
    if let Some(dists) = index_distributions.get(name)
        && let Some(d) = installed.iter().find(|d| dists.contains(&d.name))
    {
        return Some(d.name.clone());
    }
    // 4. A distribution name.
    let normalized = PackageName::new(name.to_string()).ok()?;
    installed
        .iter()
        .find(|d| d.name == normalized)
        .map(|d| d.name.clone())
}

/// The distributions that the ones staying in the environment need, transitively, with
/// markers evaluated for the environment.
fn needed_by_remaining(
    env: &PythonEnvironment,
    installed: &[InstalledDist],
    removing: &BTreeSet<PackageName>,
) -> BTreeSet<PackageName> {
    let by_name: HashMap<&PackageName, &InstalledDist> =
        installed.iter().map(|d| (&d.name, d)).collect();
    let mut needed: BTreeSet<PackageName> = BTreeSet::new();
    let mut stack: Vec<(PackageName, Vec<ExtraName>)> = installed
        .iter()
        .filter(|d| !removing.contains(&d.name))
        .map(|d| (d.name.clone(), Vec::new()))
        .collect();
    let mut visited: BTreeSet<(PackageName, Vec<ExtraName>)> = BTreeSet::new();
    while let Some((name, extras)) = stack.pop() {
        if !visited.insert((name.clone(), extras.clone())) {
            continue;
        }
        let Some(dist) = by_name.get(&name) else {
            continue;
        };
        let Ok(metadata) = dist.metadata() else {
            continue;
        };
        for req in &metadata.requires_dist {
            if !req.evaluate_markers(&env.interpreter.markers, &extras) {
                continue;
            }
            if !removing.contains(&name) {
                needed.insert(req.name.clone());
            }
            stack.push((req.name.clone(), req.extras.clone()));
        }
    }
    needed
}
