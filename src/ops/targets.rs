//! What the user typed → [`Target`]s: index plugin names (through their entry's `src`),
//! requirement lines and `-r` files, with the package sources each one names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dist::PackageName;
use crate::environment::PythonEnvironment;
use crate::index::{IndexContext, IndexPaths, PluginEntry, lookup_entry};
use crate::install::receipt::Receipt;
use crate::ops::error::OpsError;
use crate::ops::install::{PluginOrigin, Target};
use crate::ops::list::{Discovery, discover};
use crate::ops::sources::{self, Extras, Prepared, Sources};
use crate::ops::workspace::Workspace;
use crate::ops::{Reporter, SilentReporter};
use crate::registry::{FindLinks, IndexLocations};
use crate::source::{
    FileLocation, GitSource, Source, SourceLine, SourceOptions, parse_requirements_file,
};

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
    if let Some(release) = crate::ops::index::release_of_env(env) {
        return release;
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

/// What the command line and requirement files ask for: install targets, plus the editable
/// checkouts and plugins-root files that go with them.
#[derive(Debug, Default)]
pub struct TargetSet {
    /// Requirements and prepared wheels for `ops::install`.
    pub targets: Vec<Target>,
    /// Editable checkouts and `.yml` plugins, written after the install.
    pub extras: Extras,
}

impl TargetSet {
    fn extend(&mut self, other: TargetSet) {
        self.targets.extend(other.targets);
        self.extras.extend(other.extras);
    }
}

/// Turns command-line targets and requirement files into install targets. Git and
/// single-file sources are fetched, checked and built here (nothing is written to the
/// environment); a single-file plugin whose name is taken by another installed plugin is
/// refused unless `reinstall`.
pub async fn resolve_targets(
    ws: &Workspace,
    ctx: TargetContext,
    targets: &[String],
    requirement_files: &[PathBuf],
    reinstall: bool,
    reporter: &Arc<dyn Reporter>,
) -> Result<TargetSet, OpsError> {
    let mut out = TargetSet::default();
    let mut prep = Preparer {
        ws,
        reporter,
        sources: None,
        shadow: None,
        reinstall,
    };
    // Index entries are read only when a target could be a plugin name.
    let mut entries: Option<Vec<PluginEntry>> = None;
    for text in targets {
        let trimmed = text.trim();
        if looks_like_name(trimmed) {
            if entries.is_none() {
                let release = release_for_env(&ws.env, &ctx);
                entries = Some(load_entries(&release, &ctx, &ws.http, reporter.as_ref()).await?);
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
                out.extend(prep.source_targets(&source, Some(origin), trimmed).await?);
                continue;
            }
        }
        if let Some(git) = local_git_repository(trimmed) {
            let source = Source::Requirements {
                lines: vec![SourceLine::Git(git)],
                options: SourceOptions::default(),
            };
            out.extend(prep.source_targets(&source, None, trimmed).await?);
            continue;
        }
        let source = Source::parse(trimmed).map_err(|e| OpsError::Other {
            message: format!(
                "`{}` is not a plugin of the indexes, a URL, a path or a requirement",
                sources::redact_target(trimmed)
            ),
            source: Box::new(e),
        })?;
        out.extend(prep.source_targets(&source, None, trimmed).await?);
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
        out.extend(prep.source_targets(&source, None, &origin).await?);
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

/// A local folder that is a git repository (`plonk install ./my-plugin` or an absolute
/// path) becomes a git source of its `file://` URL at its current branch.
fn local_git_repository(text: &str) -> Option<GitSource> {
    let looks_like_path =
        text.starts_with('/') || text.starts_with("./") || text.starts_with("../");
    if !looks_like_path {
        return None;
    }
    let path = std::path::absolute(text).ok()?;
    if !path.is_dir() || !(path.join(".git").exists() || path.join("HEAD").is_file()) {
        return None;
    }
    Some(GitSource {
        url: url::Url::from_file_path(&path).ok()?,
        reference: None,
        name: None,
        subdirectory: None,
        editable: false,
    })
}

/// The `src` text of a git line, as a requirements file would hold it.
pub fn git_src_text(git: &GitSource) -> String {
    let mut text = String::new();
    if git.editable {
        text.push_str("-e ");
    }
    text.push_str("git+");
    text.push_str(git.url.as_str());
    if let Some(reference) = &git.reference {
        text.push('@');
        text.push_str(reference);
    }
    let mut fragment = Vec::new();
    if let Some(name) = &git.name {
        fragment.push(format!("egg={name}"));
    }
    if let Some(sub) = &git.subdirectory {
        fragment.push(format!("subdirectory={sub}"));
    }
    if !fragment.is_empty() {
        text.push('#');
        text.push_str(&fragment.join("&"));
    }
    text
}

/// Prepares sources one after the other, creating the git/single-file machinery and the
/// view of installed plugins only when a target needs them.
struct Preparer<'a> {
    ws: &'a Workspace,
    reporter: &'a Arc<dyn Reporter>,
    sources: Option<Sources>,
    shadow: Option<(Discovery, Receipt)>,
    reinstall: bool,
}

impl Preparer<'_> {
    fn sources(&mut self) -> Result<&Sources, OpsError> {
        if self.sources.is_none() {
            self.sources = Some(Sources::new(self.ws, Arc::clone(self.reporter))?);
        }
        self.sources
            .as_ref()
            .ok_or_else(|| OpsError::Join("sources".to_string()))
    }

    /// Refuses a single-file plugin `plugin` that would shadow another installed plugin (or
    /// overwrite a plugins-root file plonk did not put there), unless `--reinstall`.
    fn check_shadow(
        &mut self,
        plugin: &str,
        src: &str,
        file: Option<&Path>,
        what: &str,
    ) -> Result<(), OpsError> {
        if self.reinstall {
            return Ok(());
        }
        if self.shadow.is_none() {
            let discovery = discover(
                Some(&self.ws.env),
                &self.ws.plugins_root,
                Vec::new(),
                &SilentReporter,
            )?;
            let receipt = Receipt::load(&self.ws.env.root)?;
            self.shadow = Some((discovery, receipt));
        }
        let Some((discovery, receipt)) = &self.shadow else {
            return Ok(());
        };
        let ours = receipt.plugins.get(plugin).is_some_and(|r| r.src == src);
        if ours {
            return Ok(());
        }
        let clash = discovery
            .plugins
            .iter()
            .find(|p| {
                p.name == plugin
                    || file.is_some_and(|f| {
                        matches!(&p.origin, crate::ops::list::PluginOrigin::File { path, .. } if path == f)
                    })
            });
        match clash {
            Some(installed) => Err(OpsError::Usage(format!(
                "`{}` would shadow the installed plugin `{}` ({}); remove that one first, or pass --reinstall",
                sources::redact_target(what),
                installed.name,
                installed.source()
            ))),
            None => Ok(()),
        }
    }

    async fn source_targets(
        &mut self,
        source: &Source,
        plugin: Option<PluginOrigin>,
        what: &str,
    ) -> Result<TargetSet, OpsError> {
        let mut out = TargetSet::default();
        match source {
            Source::SingleFile(file) => {
                // A local path is recorded absolute, so `upgrade` finds it from anywhere.
                let src = match &file.location {
                    FileLocation::Path(path) => std::path::absolute(path)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| what.to_string()),
                    FileLocation::Url(_) => what.to_string(),
                };
                let origin = plugin.clone().unwrap_or_else(|| PluginOrigin {
                    name: file.plugin_name(),
                    index: None,
                    src,
                });
                let prepared = self
                    .sources()?
                    .single_file(file, None, origin.clone())
                    .await
                    .map_err(|e| sources::failed(what, e))?;
                match prepared {
                    Prepared::Wheel { wheel, plugins, .. } => {
                        let name = plugins.first().cloned().unwrap_or(origin.name.clone());
                        self.check_shadow(&name, &origin.src, None, what)?;
                        out.targets
                            .push(sources::wheel_target(*wheel, Some(origin))?);
                    }
                    Prepared::File(mut plan) => {
                        if plugin.is_none() {
                            plan.origin.name = plan.plugin.clone();
                        }
                        let path = self.ws.plugins_root.join(&plan.file_name);
                        self.check_shadow(&plan.plugin, &plan.origin.src, Some(&path), what)?;
                        out.extras.files.push(plan);
                    }
                    Prepared::Unchanged { .. } => {}
                }
            }
            Source::Requirements { lines, options } => {
                let locations = entry_locations(&self.ws.locations, options);
                for (i, line) in lines.iter().enumerate() {
                    // The entry's first line is the plugin; the rest install with it.
                    let line_plugin = if i == 0 { plugin.clone() } else { None };
                    match line {
                        SourceLine::Requirement(req) => out.targets.push(Target {
                            requirement: req.clone(),
                            plugin: line_plugin,
                            locations: locations.clone(),
                            local_wheel: None,
                        }),
                        SourceLine::Git(git) => {
                            let prepared = self
                                .sources()?
                                .git(git, None)
                                .await
                                .map_err(|e| sources::failed(what, e))?;
                            if let Prepared::Wheel {
                                wheel,
                                checkout,
                                plugins,
                            } = prepared
                            {
                                // A git line typed by the user is a plugin of its own, so
                                // `upgrade` knows where it came from.
                                let origin = line_plugin.or_else(|| {
                                    plugin.is_none().then(|| PluginOrigin {
                                        name: plugins
                                            .first()
                                            .cloned()
                                            .unwrap_or_else(|| wheel.metadata.name.to_string()),
                                        index: None,
                                        src: git_src_text(git),
                                    })
                                });
                                out.targets.push(sources::wheel_target(*wheel, origin)?);
                                out.extras.checkouts.extend(checkout);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The package sources of an entry with its own options: `--index-url` replaces the default
/// index, the others add to it. None when the entry names none.
pub(crate) fn entry_locations(
    base: &IndexLocations,
    options: &SourceOptions,
) -> Option<IndexLocations> {
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
        reporter.detail(
            "plugin indexes unavailable: plugin names are matched through the environment only",
        );
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
