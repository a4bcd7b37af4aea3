//! What the user typed → [`Target`]s: index plugin names (through their entry's `src`),
//! requirement lines and `-r` files, with the package sources each one names.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::dist::PackageName;
use crate::environment::PythonEnvironment;
use crate::index::{IndexContext, IndexPaths, PluginEntry, lookup_entry};
use crate::ops::Reporter;
use crate::ops::error::OpsError;
use crate::ops::install::{PluginOrigin, Target};
use crate::ops::workspace::Workspace;
use crate::registry::{FindLinks, IndexLocations};
use crate::source::{Source, SourceLine, SourceOptions, parse_requirements_file};

/// Where index data lives, for looking plugin names up.
#[derive(Debug, Clone)]
pub struct TargetContext {
    /// Tutor project root.
    pub tutor_root: PathBuf,
    /// plonk's config folder.
    pub config_dir: PathBuf,
    /// plonk's cache folder.
    pub cache_dir: PathBuf,
    /// `--release`.
    pub release: Option<String>,
    /// `--refresh`.
    pub refresh: bool,
}

impl TargetContext {
    fn paths(&self) -> IndexPaths {
        IndexPaths {
            tutor_root: self.tutor_root.clone(),
            config_dir: self.config_dir.clone(),
            cache_dir: self.cache_dir.clone(),
        }
    }
}

/// The release whose index files apply: `--release`, else the one of the Tutor installed in
/// the environment, else the newest release plonk knows (an empty venv gets current plugins).
pub fn release_for_env(env: &PythonEnvironment, ctx: &TargetContext) -> String {
    if let Some(release) = &ctx.release {
        return release.clone();
    }
    if let Ok(tutor) = PackageName::new("tutor".to_string())
        && let Some(dist) = env.find_dist(&tutor)
    {
        let about = env
            .site_packages()
            .iter()
            .map(|sp| sp.join("tutor").join("__about__.py"))
            .find_map(|p| std::fs::read_to_string(p).ok());
        if let Some(release) = crate::tutor::release_for_tutor(&dist.version, about.as_deref()) {
            return release;
        }
    }
    crate::index::embedded_releases()
        .filter(|r| *r != "main")
        .last()
        .unwrap_or("main")
        .to_string()
}

/// The merged plugin entries for a release: the index cache, else freshly fetched indexes,
/// else the official index embedded in plonk (each fallback with a notice).
pub async fn load_entries(
    release: &str,
    ctx: &TargetContext,
    http: &crate::http::HttpClient,
    reporter: &dyn Reporter,
) -> Result<Vec<PluginEntry>, OpsError> {
    let index_ctx = IndexContext {
        paths: ctx.paths(),
        release: Some(release.to_string()),
        client: http,
        reporter,
        refresh: ctx.refresh,
    };
    let (entries, _origin) = crate::index::load_entries(&index_ctx)
        .await
        .map_err(index_error)?;
    Ok(entries)
}

fn index_error(err: crate::index::IndexError) -> OpsError {
    OpsError::Other {
        message: "cannot read the plugin indexes".to_string(),
        source: Box::new(err),
    }
}

/// Turns command-line targets and requirement files into install targets.
pub async fn resolve_targets(
    ws: &Workspace,
    ctx: TargetContext,
    targets: &[String],
    requirement_files: &[PathBuf],
    reporter: &dyn Reporter,
) -> Result<Vec<Target>, OpsError> {
    let mut out = Vec::new();
    // Index entries are read only when a target could be a plugin name.
    let mut entries: Option<Vec<PluginEntry>> = None;
    for text in targets {
        let trimmed = text.trim();
        if looks_like_name(trimmed) {
            if entries.is_none() {
                let release = release_for_env(&ws.env, &ctx);
                entries = Some(load_entries(&release, &ctx, &ws.http, reporter).await?);
            }
            if let Some(entry) = entries.as_deref().and_then(|e| lookup_entry(e, trimmed)) {
                let source = entry.source().map_err(|e| OpsError::Other {
                    message: format!("cannot install the plugin `{}`", entry.name),
                    source: Box::new(e),
                })?;
                let origin = PluginOrigin {
                    name: entry.name.clone(),
                    index: Some(entry.index.clone()),
                    src: entry.src.clone(),
                };
                out.extend(source_targets(ws, &source, Some(origin), trimmed)?);
                continue;
            }
        }
        let source = Source::parse(trimmed).map_err(|e| OpsError::Other {
            message: format!("`{trimmed}` is not a plugin of the indexes, a URL, a path or a requirement"),
            source: Box::new(e),
        })?;
        out.extend(source_targets(ws, &source, None, trimmed)?);
    }
    for file in requirement_files {
        let text = std::fs::read_to_string(file).map_err(|e| OpsError::Other {
            message: format!("cannot read the requirements file {}", file.display()),
            source: Box::new(e),
        })?;
        let origin = file.display().to_string();
        let source = parse_requirements_file(&text, &origin).map_err(|e| OpsError::Other {
            message: format!("the requirements file {origin} is invalid"),
            source: Box::new(e),
        })?;
        out.extend(source_targets(ws, &source, None, &origin)?);
    }
    Ok(out)
}

/// A bare project name (no specifier, URL or path): a candidate plugin name.
fn looks_like_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn source_targets(
    ws: &Workspace,
    source: &Source,
    plugin: Option<PluginOrigin>,
    what: &str,
) -> Result<Vec<Target>, OpsError> {
    match source {
        Source::SingleFile(file) => Err(OpsError::Usage(format!(
            "`{what}` is a single-file plugin ({}); plonk cannot install single-file plugins yet",
            file.location
        ))),
        Source::Requirements { lines, options } => {
            let locations = entry_locations(&ws.locations, options);
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                match line {
                    SourceLine::Requirement(req) => out.push(Target {
                        requirement: req.clone(),
                        // The entry's first line is the plugin; the rest install with it.
                        plugin: if i == 0 { plugin.clone() } else { None },
                        locations: locations.clone(),
                        local_wheel: None,
                    }),
                    SourceLine::Git(git) => {
                        return Err(OpsError::Usage(format!(
                            "`{what}` is a git source ({}); plonk cannot install git sources yet",
                            crate::http::RedactedUrl::new(&git.url)
                        )));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// The package sources of an entry with its own options: `--index-url` replaces the default
/// index, the others add to it. None when the entry names none.
fn entry_locations(base: &IndexLocations, options: &SourceOptions) -> Option<IndexLocations> {
    if options.is_empty() {
        return None;
    }
    let mut locations = base.clone();
    if let Some(url) = &options.index_url {
        locations.index_url = Some(url.clone());
        locations.no_index = false;
    }
    locations
        .extra_index_urls
        .extend(options.extra_index_urls.iter().cloned());
    locations
        .find_links
        .extend(options.find_links.iter().map(|f| FindLinks::parse(f)));
    Some(locations)
}

/// Index plugin name → the distributions its `src` names (for `remove NAME`).
pub async fn index_distributions(
    env: &PythonEnvironment,
    ctx: TargetContext,
    http: &crate::http::HttpClient,
    reporter: &dyn Reporter,
) -> HashMap<String, Vec<PackageName>> {
    let release = release_for_env(env, &ctx);
    let Ok(entries) = load_entries(&release, &ctx, http, &crate::ops::SilentReporter).await else {
        reporter.detail("plugin indexes unavailable: plugin names are matched through the environment only");
        return HashMap::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let source = e.source().ok()?;
            Some((e.name.clone(), source.distribution_names()))
        })
        .collect()
}
