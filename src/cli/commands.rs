//! CLI handlers of install, upgrade, remove, venv and cache: turn flags into operation
//! options, run the operation, print its changelog.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::environment::{FindOptions, PythonEnvironment};
use crate::http::{HttpClient, HttpOptions};
use crate::ops::install::{Change, Changelog, InstallOptions, Target};
use crate::ops::remove::RemoveOptions;
use crate::ops::workspace::Workspace;
use crate::ops::{self, Reporter};
use crate::registry::{FindLinks, IndexLocations};

use super::args::{CacheCommand, InstallArgs, RemoveArgs, UpgradeArgs, VenvArgs};
use super::{CmdResult, Printer, Settings};

/// The HTTP client for these settings.
pub fn http_client(settings: &Settings) -> Result<HttpClient, super::CmdError> {
    Ok(HttpClient::new(HttpOptions {
        timeout: settings.http_timeout,
        offline: settings.offline,
        netrc: settings.netrc.clone(),
        cache_dir: Some(cache(settings).bucket(crate::cache::HTTP_BUCKET)),
        refresh: settings.refresh,
        ..HttpOptions::default()
    })?)
}

/// The package sources given by flags and variables.
pub fn index_locations(settings: &Settings) -> IndexLocations {
    IndexLocations {
        index_url: settings.sources.index_url.clone(),
        extra_index_urls: settings.sources.extra_index_urls.clone(),
        find_links: settings
            .sources
            .find_links
            .iter()
            .map(|f| FindLinks::parse(f))
            .collect(),
        no_index: settings.sources.no_index,
    }
}

/// The global cache.
pub fn cache(settings: &Settings) -> Cache {
    Cache::new(settings.cache_dir.clone())
}

/// Finds the target environment (`--python`, `$VIRTUAL_ENV`, the `tutor` on PATH).
pub async fn find_env(settings: &Settings) -> Result<PythonEnvironment, super::CmdError> {
    let opts = FindOptions {
        python: settings.python.clone(),
        virtual_env: settings.virtual_env.clone(),
        path: settings.path_var.clone(),
        cache: Some(cache(settings)),
    };
    let env = tokio::task::spawn_blocking(move || PythonEnvironment::find(&opts)).await??;
    recover(&env, settings).await?;
    Ok(env)
}

/// Finishes or undoes a change an earlier plonk left half done, and says so.
async fn recover(env: &PythonEnvironment, settings: &Settings) -> Result<(), super::CmdError> {
    let root = env.root.clone();
    let timeout = settings.lock_timeout;
    let outcome =
        tokio::task::spawn_blocking(move || ops::recover::recover(&root, timeout)).await??;
    if let Some(message) = outcome {
        eprintln!("{message}");
    }
    Ok(())
}

/// The workspace of an operation on the target environment.
pub async fn workspace(settings: &Settings) -> Result<Workspace, super::CmdError> {
    let env = find_env(settings).await?;
    workspace_for(settings, env)
}

fn workspace_for(
    settings: &Settings,
    env: PythonEnvironment,
) -> Result<Workspace, super::CmdError> {
    Ok(Workspace {
        env,
        cache: cache(settings),
        http: http_client(settings)?,
        locations: index_locations(settings),
        tutor_root: settings.tutor_root.clone(),
        plugins_root: settings.plugins_root.clone(),
        lock_timeout: settings.lock_timeout,
        faults: settings.faults.clone(),
    })
}

fn reporter(printer: &Arc<Printer>) -> Arc<dyn Reporter> {
    Arc::clone(printer) as Arc<dyn Reporter>
}

/// `plonk install`.
pub async fn install(args: InstallArgs, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    if args.targets.is_empty() && args.requirements.is_empty() && args.editable.is_empty() {
        return Err("nothing to install: name plugins, URLs or paths, or give -r FILE".into());
    }
    let ws = workspace(settings).await?;
    // `-e URL` is the same target as the requirement line `-e URL`.
    let mut targets = args.targets.clone();
    targets.extend(args.editable.iter().map(|url| format!("-e {url}")));
    let set = ops::targets::resolve_targets(
        &ws,
        settings_targets(settings),
        &targets,
        &args.requirements,
        args.reinstall,
        &reporter(printer),
    )
    .await?;
    let opts = InstallOptions {
        targets: set.targets,
        dry_run: args.dry_run,
        no_deps: args.no_deps,
        compile: args.compile,
        reinstall: args.reinstall,
        upgrade: Default::default(),
    };
    // Editable checkouts and plugins-root files are written after the install succeeded.
    let log = ops::sources::install_set(&ws, opts, set.extras, reporter(printer)).await?;
    print_changelog(&log, printer);
    Ok(0)
}

/// Index-related settings the target lookup needs.
fn settings_targets(settings: &Settings) -> ops::targets::TargetContext {
    ops::targets::TargetContext {
        tutor_root: settings.tutor_root.clone(),
        config_dir: settings.config_dir.clone(),
        cache_dir: settings.cache_dir.clone(),
        release: settings.release.clone(),
        refresh: settings.refresh,
    }
}

/// `plonk remove`.
pub async fn remove(args: RemoveArgs, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let env = find_env(settings).await?;
    let project = crate::tutor::TutorProject::open(&settings.tutor_root)?;
    let http = http_client(settings)?;
    let index_distributions = ops::targets::index_distributions(
        &env,
        settings_targets(settings),
        &http,
        reporter(printer).as_ref(),
    )
    .await;
    let opts = RemoveOptions {
        names: args.names,
        keep_deps: args.keep_deps,
        force: args.force,
        enabled_plugins: project.enabled_plugins(),
        tutor_root: settings.tutor_root.clone(),
        index_distributions,
        lock_timeout: settings.lock_timeout,
        faults: settings.faults.clone(),
        plugins_root: settings.plugins_root.clone(),
    };
    let log = ops::remove::remove(env, opts, reporter(printer)).await?;
    print_changelog(&log, printer);
    Ok(0)
}

/// `plonk venv`.
pub async fn venv(args: VenvArgs, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let base = match &args.interpreter {
        Some(p) => p.clone(),
        None => find_on_path(settings, "python3").ok_or(
            "no `python3` on PATH: pass --interpreter PATH to choose the base interpreter",
        )?,
    };
    let path = args.path.clone();
    let cache = cache(settings);
    let env = tokio::task::spawn_blocking(move || {
        crate::environment::create_venv(&path, &base, Some(&cache))
    })
    .await??;
    printer.status(&format!(
        "Created virtualenv at {} (Python {})",
        env.root.display(),
        env.interpreter.python_full_version
    ));
    if let Some(spec) = &args.tutor {
        let spec = spec.trim();
        let text = if spec.is_empty() || spec == "*" {
            "tutor".to_string()
        } else if spec.starts_with(|c: char| c.is_ascii_digit()) {
            format!("tutor=={spec}")
        } else {
            format!("tutor{spec}")
        };
        let requirement = crate::dist::parse_requirement(&text)
            .map_err(|e| format!("`--tutor {spec}` is not a version specifier: {e}"))?;
        let ws = workspace_for(settings, env)?;
        let opts = InstallOptions {
            targets: vec![Target {
                requirement,
                plugin: None,
                locations: None,
                local_wheel: None,
            }],
            ..InstallOptions::default()
        };
        let log = ops::install::install(&ws, opts, reporter(printer)).await?;
        print_changelog(&log, printer);
    }
    Ok(0)
}

/// `plonk cache dir|clean`.
pub async fn cache_cmd(
    cmd: CacheCommand,
    settings: &Settings,
    printer: &Arc<Printer>,
) -> CmdResult {
    match cmd {
        CacheCommand::Dir => printer.out(&settings.cache_dir.display().to_string()),
        CacheCommand::Clean => {
            let dir = settings.cache_dir.clone();
            if dir.exists() {
                let d = dir.clone();
                tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&d))
                    .await?
                    .map_err(|e| format!("cannot delete the cache at {}: {e}", dir.display()))?;
            }
            printer.status(&format!("Removed the cache at {}", dir.display()));
        }
    }
    Ok(0)
}

fn find_on_path(settings: &Settings, name: &str) -> Option<PathBuf> {
    let path = settings.path_var.as_ref()?;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn format_duration(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Prints the closing summary and the ` + name==version` lines (or JSON).
pub fn print_changelog(log: &Changelog, printer: &Printer) {
    if printer.output().json {
        match serde_json::to_string_pretty(log) {
            Ok(json) => printer.out(&json),
            Err(err) => printer.err(&format!("error: cannot render JSON: {err}")),
        }
        return;
    }
    let mut parts = Vec::new();
    if log.resolved > 0 {
        parts.push(format!(
            "Resolved {} package{} in {}",
            log.resolved,
            if log.resolved == 1 { "" } else { "s" },
            format_duration(log.resolve_time)
        ));
    }
    if log.downloaded > 0 {
        parts.push(format!(
            "Downloaded {} in {}",
            log.downloaded,
            format_duration(log.download_time)
        ));
    }
    if log.built > 0 {
        parts.push(format!(
            "Built {} in {}",
            log.built,
            format_duration(log.build_time)
        ));
    }
    if log.installed > 0 {
        parts.push(format!(
            "Installed {} in {}",
            log.installed,
            format_duration(log.install_time)
        ));
    }
    if log.removed > 0 {
        parts.push(format!(
            "Removed {} in {}",
            log.removed,
            format_duration(log.install_time)
        ));
    }
    if log.dry_run {
        parts.push("Would change:".to_string());
    }
    if !parts.is_empty() {
        printer.status(&parts.join(" · "));
    }
    if log.changes.is_empty() && !log.dry_run {
        printer.status("Nothing to change: everything requested is already installed");
    }
    for change in &log.changes {
        let line = match change {
            Change::Add { name, version } => format!(" + {name}=={version}"),
            Change::Replace {
                name,
                from,
                version,
            } => format!(" - {name}=={from}\n + {name}=={version}"),
            Change::Remove { name, version } => format!(" - {name}=={version}"),
        };
        if printer.output().quiet == 0 || log.dry_run {
            printer.out(&line);
        }
    }
    for note in &log.notes {
        printer.status(note);
    }
}

/// `plonk upgrade`: upgrades what can move, then prints the changes and one row per plugin
/// (upgraded, already newest, held back with its reason, skipped).
pub async fn upgrade(args: UpgradeArgs, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let ws = workspace(settings).await?;
    let opts = ops::upgrade::UpgradeOptions {
        names: args.names,
        strict: args.strict,
        dry_run: args.dry_run,
        targets: settings_targets(settings),
    };
    let report = ops::upgrade::upgrade(&ws, opts, reporter(printer)).await?;
    if printer.output().json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => printer.out(&json),
            Err(err) => printer.err(&format!("error: cannot render JSON: {err}")),
        }
        return Ok(0);
    }
    if report.plugins.is_empty() {
        printer.status(&format!(
            "No plugins are installed in {}",
            ws.env.root.display()
        ));
        return Ok(0);
    }
    let log = &report.changelog;
    if !log.changes.is_empty() || log.dry_run {
        print_changelog(log, printer);
    }
    let dry_run = log.dry_run;
    let mut rows = vec![vec![
        "PLUGIN".to_string(),
        "STATUS".to_string(),
        "VERSION".to_string(),
        "REASON".to_string(),
    ]];
    for row in &report.plugins {
        let version = match (&row.from, &row.to) {
            (Some(from), Some(to)) => format!("{from} -> {to}"),
            (None, Some(to)) => to.clone(),
            (Some(from), None) => from.clone(),
            (None, None) => String::new(),
        };
        rows.push(vec![
            row.plugin.clone(),
            row.status.label(dry_run).to_string(),
            version,
            row.reason.clone().unwrap_or_default(),
        ]);
    }
    printer.out(&ops::list::format_table(&rows));
    use ops::upgrade::RowStatus;
    printer.status(&format!(
        "{} {} · {} already newest · {} held back",
        report.count(RowStatus::Upgraded),
        if dry_run { "to upgrade" } else { "upgraded" },
        report.count(RowStatus::AlreadyNewest),
        report.count(RowStatus::HeldBack),
    ));
    Ok(0)
}
