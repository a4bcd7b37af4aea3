//! CLI handlers of the index commands: `index add|remove|list`, `update`, `search`, `show`
//! and `list`. They settle the index paths, the release and the environment, run the
//! operation, and print Tutor's tables and fields (or `--json`).

use std::sync::Arc;

use serde_json::json;

use crate::environment::PythonEnvironment;
use crate::http::HttpClient;
use crate::index::{
    EntriesOrigin, Freshness, IndexContext, IndexPaths, UpdateOutcome, load_entries,
};
use crate::ops::list::{Discovery, discover, format_table};
use crate::ops::show::VersionLookup;
use crate::ops::{self, Reporter};
use crate::registry::RegistryClient;
use crate::tutor::{TutorProject, is_known_release, validate_release};

use super::args::IndexCommand;
use super::commands::{find_env, http_client, index_locations};
use super::{CmdError, CmdResult, Printer, Settings};

/// Where index data lives for these settings.
pub fn index_paths(settings: &Settings) -> IndexPaths {
    IndexPaths {
        tutor_root: settings.tutor_root.clone(),
        config_dir: settings.config_dir.clone(),
        cache_dir: settings.cache_dir.clone(),
    }
}

/// The release to use: `--release`, else the one of the Tutor installed in `env`.
pub fn release(
    settings: &Settings,
    env: Option<&PythonEnvironment>,
    printer: &Printer,
) -> Result<Option<String>, CmdError> {
    if let Some(name) = &settings.release {
        let name = validate_release(name)?;
        if !is_known_release(&name) {
            printer.detail(&format!(
                "Release `{name}` is not one plonk knows; using it as given"
            ));
        }
        return Ok(Some(name));
    }
    Ok(env.and_then(ops::index::release_of_env))
}

/// A failure with what plonk was doing around it (its cause is printed on the next line).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Context {
    message: String,
    #[source]
    source: CmdError,
}

/// The release for commands that build index URLs: `--release`, else the Tutor of the
/// target environment; an error says how to give it.
async fn required_release(settings: &Settings, printer: &Printer) -> Result<String, CmdError> {
    if settings.release.is_some()
        && let Some(release) = release(settings, None, printer)?
    {
        return Ok(release);
    }
    let env = find_env(settings).await.map_err(|source| Context {
        message: "cannot tell which Open edX release to use: pass `--release NAME` (e.g. `--release redwood`) or point `--python` at the virtualenv where Tutor is installed".to_string(),
        source,
    })?;
    release(settings, Some(&env), printer)?
        .ok_or_else(|| crate::index::IndexError::NoRelease.into())
}

/// The target environment, or `None` (with the reason at `-v`) when it cannot be found.
async fn optional_env(settings: &Settings, printer: &Printer) -> Option<PythonEnvironment> {
    match find_env(settings).await {
        Ok(env) => Some(env),
        Err(err) => {
            printer.detail(&format!(
                "No target environment ({}); plugin statuses are not checked",
                crate::index::error_chain(err.as_ref())
            ));
            None
        }
    }
}

fn context<'a>(
    settings: &Settings,
    release: Option<String>,
    client: &'a HttpClient,
    printer: &'a Arc<Printer>,
) -> IndexContext<'a> {
    IndexContext {
        paths: index_paths(settings),
        release,
        client,
        reporter: printer.as_ref() as &dyn Reporter,
        refresh: settings.refresh,
    }
}

/// Installed and enabled plugins, for status columns.
fn discovery(
    settings: &Settings,
    env: Option<&PythonEnvironment>,
    printer: &Printer,
) -> Result<Discovery, CmdError> {
    let project = TutorProject::open(&settings.tutor_root)?;
    Ok(discover(
        env,
        &settings.plugins_root,
        project.enabled_plugins(),
        printer,
    )?)
}

fn print_json(printer: &Printer, value: &serde_json::Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => printer.out(&text),
        Err(err) => printer.err(&format!("error: cannot render JSON: {err}")),
    }
}

/// `plonk index add|remove|list`.
pub async fn index(
    command: IndexCommand,
    settings: &Settings,
    printer: &Arc<Printer>,
) -> CmdResult {
    let paths = index_paths(settings);
    let cwd = std::env::current_dir()?;
    let change = match command {
        IndexCommand::List => {
            let list = ops::index::list_indexes(&paths)?;
            if printer.output().json {
                print_json(
                    printer,
                    &json!({
                        "file": list.file,
                        "tutor": list.tutor,
                        "default": list.default,
                        "indexes": list.indexes,
                    }),
                );
            } else {
                let origin = if list.tutor { "Tutor project" } else { "plonk" };
                let default = if list.default {
                    " (not set there: Tutor's defaults)"
                } else {
                    ""
                };
                printer.status(&format!(
                    "Plugin indexes of the {origin} file {}{default}:",
                    list.file.display()
                ));
                for index in &list.indexes {
                    printer.out(index);
                }
            }
            return Ok(0);
        }
        IndexCommand::Add { url } => ops::index::add_index(&paths, &url, &cwd)?,
        IndexCommand::Remove { url } => ops::index::remove_index(&paths, &url, &cwd)?,
    };
    let (change, file) = change;
    match &change {
        ops::index::IndexChange::Added(index) => {
            printer.status(&format!("Added plugin index {index} to {}", file.display()));
        }
        ops::index::IndexChange::Removed(index) => {
            printer.status(&format!(
                "Removed plugin index {index} from {}",
                file.display()
            ));
        }
        ops::index::IndexChange::AlreadyPresent(index) => {
            printer.status(&format!("Plugin index {index} was already added"));
        }
        ops::index::IndexChange::NotPresent(index) => {
            printer.warn(&format!(
                "plugin index {index} is not configured in {}",
                file.display()
            ));
        }
    }
    if !change.changed() {
        return Ok(0);
    }
    update(settings, printer).await.map_err(|source| {
        Context {
            message: format!(
                "the plugin index list in {} was changed, but the plugin index cache could not be updated",
                file.display()
            ),
            source,
        }
        .into()
    })
}

/// `plonk update`.
pub async fn update(settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let release = required_release(settings, printer).await?;
    let client = http_client(settings)?;
    let ctx = context(settings, Some(release), &client, printer);
    let outcome = ops::update::update(&ctx).await?;
    print_update(&outcome, printer);
    Ok(0)
}

fn print_update(outcome: &UpdateOutcome, printer: &Printer) {
    for index in &outcome.indexes {
        if let Ok(count) = &index.result {
            let how = match index.freshness {
                Some(Freshness::NotModified) => " (not modified)",
                Some(Freshness::Offline) => " (offline: kept copy)",
                _ => "",
            };
            printer.detail(&format!(
                "Fetched {} plugins from {}{how}",
                count, index.location
            ));
        }
    }
    let failed = outcome.failures().count();
    let failed = if failed > 0 {
        format!(", {failed} failed")
    } else {
        String::new()
    };
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    printer.status(&format!(
        "Plugin index cache {}: {} from {}{failed}",
        outcome.cache_path.display(),
        plural(outcome.entries.len(), "plugin", "plugins"),
        plural(outcome.indexes.len(), "index", "indexes"),
    ));
}

/// `plonk search [PATTERN]`.
pub async fn search(
    pattern: Option<String>,
    settings: &Settings,
    printer: &Arc<Printer>,
) -> CmdResult {
    let env = optional_env(settings, printer).await;
    let release = release(settings, env.as_ref(), printer)?;
    let client = http_client(settings)?;
    let ctx = context(settings, release, &client, printer);
    let (entries, origin) = load_entries(&ctx).await?;
    note_origin(origin, printer);
    let discovery = discovery(settings, env.as_ref(), printer)?;
    let rows = ops::search::search(&entries, pattern.as_deref().unwrap_or(""), &discovery);
    if printer.output().json {
        let items: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "status": r.status.as_str(),
                    "short_description": r.short_description,
                    "description": r.description,
                    "index": r.index,
                    "src": r.src,
                })
            })
            .collect();
        print_json(printer, &serde_json::Value::Array(items));
        return Ok(0);
    }
    let mut table = vec![vec![
        "NAME".to_string(),
        "STATUS".to_string(),
        "DESCRIPTION".to_string(),
    ]];
    table.extend(
        rows.into_iter()
            .map(|r| vec![r.name, r.status.label().to_string(), r.short_description]),
    );
    printer.out(&format_table(&table));
    Ok(0)
}

fn note_origin(origin: EntriesOrigin, printer: &Printer) {
    if origin == EntriesOrigin::Embedded {
        printer.detail("Using the built-in copy of the official plugin index");
    }
}

/// `plonk show NAME`.
pub async fn show(name: String, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let env = optional_env(settings, printer).await;
    let release = release(settings, env.as_ref(), printer)?;
    let client = http_client(settings)?;
    let ctx = context(settings, release, &client, printer);
    let (entries, origin) = load_entries(&ctx).await?;
    note_origin(origin, printer);
    let discovery = discovery(settings, env.as_ref(), printer)?;
    let registry = RegistryClient::new(client.clone(), index_locations(settings));
    let lookup = VersionLookup {
        registry: &registry,
        python: env
            .as_ref()
            .map(|e| e.interpreter.python_full_version.clone()),
    };
    let details = ops::show::show(&entries, &name, &discovery, Some(&lookup)).await?;
    let e = &details.entry;
    if printer.output().json {
        print_json(
            printer,
            &json!({
                "name": e.name,
                "src": e.src,
                "status": details.status.as_str(),
                "author": e.author,
                "maintainer": e.maintainer,
                "url": e.url,
                "index": e.index,
                "description": e.description_text(),
                "install": details.install.to_string(),
                "extra": e.extra,
            }),
        );
        return Ok(0);
    }
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    printer.out(&format!(
        "Name: {}\nSource: {}\nStatus: {}\nAuthor: {}\nMaintainer: {}\nHomepage: {}\nIndex: {}\nVersion: {}\nDescription: {}",
        e.name,
        e.src,
        details.status.label(),
        or_empty(&e.author),
        or_empty(&e.maintainer),
        or_empty(&e.url),
        e.index,
        details.install,
        e.description_text(),
    ));
    Ok(0)
}

/// `plonk list [--enabled]`.
pub async fn list(enabled: bool, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let env = find_env(settings).await?;
    let discovery = {
        let settings = settings.clone();
        let printer = Arc::clone(printer);
        tokio::task::spawn_blocking(move || discovery(&settings, Some(&env), &printer)).await??
    };
    let rows = ops::list::list(&discovery, enabled);
    if printer.output().json {
        let items: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "status": r.status.as_str(),
                    "version": r.version,
                    "source": r.source,
                })
            })
            .collect();
        print_json(printer, &serde_json::Value::Array(items));
        return Ok(0);
    }
    let verbose = printer.output().verbose > 0;
    let mut header = vec![
        "NAME".to_string(),
        "STATUS".to_string(),
        "VERSION".to_string(),
    ];
    if verbose {
        header.push("SOURCE".to_string());
    }
    let mut table = vec![header];
    for row in rows {
        let mut line = vec![row.name, row.status.label().to_string(), row.version];
        if verbose {
            line.push(row.source);
        }
        table.push(line);
    }
    printer.out(&format_table(&table));
    Ok(0)
}
