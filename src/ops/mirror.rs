//! `plonk mirror`: for the chosen plugins of a release, resolve every target, put every wheel
//! of the closures into the mirror (sdists, git sources and direct references built once, on
//! this machine), then write the simple index, the plugin index files, the marker and the
//! checksum list. A re-run reuses what the mirror already holds: a wheel whose checksum
//! matches is not fetched again, a source already built is not built again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;

use crate::cache::Cache;
use crate::dist::{DistFilename, Metadata, PackageName, Requirement, Version, WheelFilename};
use crate::environment::Interpreter;
use crate::http::{HttpClient, Netrc, RedactedUrl};
use crate::index::{self, PluginEntry};
use crate::mirror::{self, Marker, MirrorError, MirrorTarget, MirroredIndex};
use crate::ops::Reporter;
use crate::ops::error::OpsError;
use crate::ops::fetch::{Fetcher, Provider, SharedError};
use crate::registry::{Candidate, FindLinks, IndexLocations, RegistryClient};
use crate::resolve::{self, ResolveRequest, Upgrade};
use crate::source::git::{GitCache, GitHttpOptions, display_url};
use crate::source::{FileLocation, GitSource, Source, SourceLine, SourceOptions};

/// Files fetched or built at once.
const CONCURRENCY: usize = 6;

/// What to mirror.
#[derive(Debug, Clone)]
pub struct MirrorOptions {
    /// The mirror folder.
    pub dir: PathBuf,
    /// Plugins to mirror; empty: every plugin of the indexes.
    pub names: Vec<String>,
    /// The release whose index files are mirrored.
    pub release: String,
    /// The plugin indexes (URLs, paths or aliases), in order: a later one wins a name clash.
    pub indexes: Vec<String>,
    /// The targets wheels are chosen for (at least one).
    pub targets: Vec<MirrorTarget>,
    /// Drop what this run does not describe.
    pub prune: bool,
}

/// What the operation works with, settled by the CLI.
#[derive(Debug, Clone)]
pub struct MirrorContext {
    /// The global cache.
    pub cache: Cache,
    /// The shared HTTP client.
    pub http: HttpClient,
    /// Where packages come from (`--index-url` etc.).
    pub locations: IndexLocations,
    /// The interpreter that builds sdists and git sources.
    pub build: Interpreter,
    /// Where fetched index files are kept (conditional GETs).
    pub index_http_cache: PathBuf,
}

/// A plugin left out of the mirror, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPlugin {
    /// The plugin name.
    pub name: String,
    /// Why, one sentence.
    pub reason: String,
}

/// What a mirror run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MirrorReport {
    /// The mirror folder.
    pub dir: PathBuf,
    /// The release mirrored.
    pub release: String,
    /// Plugins in the mirror after this run, from this run.
    pub plugins: Vec<String>,
    /// Plugins that could not be mirrored.
    pub skipped: Vec<SkippedPlugin>,
    /// The targets, as labels.
    pub targets: Vec<String>,
    /// Distinct `name==version` in the closures.
    pub packages: usize,
    /// Wheels new in the mirror.
    pub added: Vec<String>,
    /// Wheels already there.
    pub kept: usize,
    /// Files removed by `--prune`.
    pub removed: Vec<String>,
    /// Files downloaded by this run.
    pub downloaded: usize,
    /// Wheels built by this run.
    pub built: usize,
    /// How long it took.
    #[serde(skip)]
    pub elapsed: Duration,
    /// Soft notes.
    pub notes: Vec<String>,
}

/// A built or downloaded wheel standing for a git line or a direct reference.
#[derive(Debug, Clone)]
struct LocalDist {
    path: PathBuf,
    metadata: Metadata,
    /// The marker's `built` key (`git:<commit>:<subdir>`), when it is a build.
    built_key: Option<String>,
}

/// One chosen plugin, prepared.
#[derive(Debug, Clone)]
struct PluginPlan {
    entry: PluginEntry,
    slug: String,
    requirements: Vec<Requirement>,
    locals: Vec<LocalDist>,
    locations: Option<IndexLocations>,
    /// The entry's `src` in the mirror.
    src: String,
    /// A single-file plugin copied into the mirror: (relative path, content).
    file: Option<(String, Vec<u8>)>,
}

/// A file the mirror must hold for some target.
#[derive(Clone)]
enum Wanted {
    /// A file of an index (a wheel, or an sdist to build), found by `fetcher`.
    Indexed {
        candidate: Candidate,
        fetcher: Arc<Fetcher>,
        targets: Vec<usize>,
    },
    /// A wheel plonk built itself (git, direct reference).
    Local(LocalDist),
}

/// The plugin `name` failed; `explicit` plugins fail the run, others are skipped.
fn plugin_error(name: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("cannot mirror the plugin `{name}`: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

fn mirror_error(err: MirrorError) -> OpsError {
    OpsError::Other {
        message: "cannot write the mirror".to_string(),
        source: Box::new(err),
    }
}

fn join_error(err: tokio::task::JoinError) -> OpsError {
    OpsError::Join(err.to_string())
}

/// Builds or updates the mirror at `opts.dir`.
pub async fn mirror(
    ctx: &MirrorContext,
    opts: MirrorOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<MirrorReport, OpsError> {
    let started = Instant::now();
    let dir = std::path::absolute(&opts.dir).unwrap_or_else(|_| opts.dir.clone());
    let mut marker = {
        let d = dir.clone();
        tokio::task::spawn_blocking(move || Marker::load(&d))
            .await
            .map_err(join_error)?
            .map_err(mirror_error)?
            .unwrap_or_default()
    };
    for sub in [mirror::WHEELS_DIR, mirror::SIMPLE_DIR] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|source| {
            mirror_error(MirrorError::Write {
                path: path.clone(),
                source,
            })
        })?;
    }
    let mut report = MirrorReport {
        dir: dir.clone(),
        release: opts.release.clone(),
        targets: opts.targets.iter().map(|t| t.label.clone()).collect(),
        ..MirrorReport::default()
    };

    // 1. The plugin indexes of the release, and the plugins chosen from them.
    let releases: Vec<&str> = index::embedded_releases().collect();
    let mut slugs: Vec<String> = Vec::new();
    let mut by_location: HashMap<String, String> = HashMap::new();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut all_entries = Vec::new();
    for base in &opts.indexes {
        // An index mirrored before keeps its folder.
        let public = public_index(base);
        let slug = marker
            .indexes
            .iter()
            .find(|i| i.source == public)
            .map(|i| i.name.clone())
            .filter(|s| !slugs.contains(s))
            .unwrap_or_else(|| {
                let taken: Vec<String> = slugs
                    .iter()
                    .cloned()
                    .chain(marker.indexes.iter().map(|i| i.name.clone()))
                    .collect();
                mirror::index_slug(base, &releases, &taken)
            });
        let location = index::index_file_location(base, &opts.release);
        let entries = read_index(ctx, base, &location, &opts.release, reporter.as_ref()).await?;
        by_location.insert(location.clone(), slug.clone());
        for entry in &entries {
            by_location.insert(entry.index.clone(), slug.clone());
        }
        slugs.push(slug.clone());
        sources.push((slug, public));
        all_entries.extend(entries);
    }
    let merged = index::merge(all_entries);
    let explicit = !opts.names.is_empty();
    let chosen: Vec<PluginEntry> = if explicit {
        let mut out = Vec::new();
        for name in &opts.names {
            let entry = index::lookup_entry(&merged, name).ok_or_else(|| {
                OpsError::Usage(format!(
                    "`{name}` is not a plugin of the plugin indexes for {}; `plonk --release {} search` lists them",
                    opts.release, opts.release
                ))
            })?;
            if !out.iter().any(|e: &PluginEntry| e.name == entry.name) {
                out.push(entry.clone());
            }
        }
        out
    } else {
        merged.clone()
    };
    reporter.info(&format!(
        "Mirroring {} plugin{} of {} for {}",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        opts.release,
        report.targets.join(", ")
    ));

    // 2. Prepare each plugin: parse its source, build git lines and direct references.
    let build_fetcher = Arc::new(Fetcher::new(
        tokio::runtime::Handle::current(),
        RegistryClient::new(ctx.http.clone(), ctx.locations.clone()),
        HashMap::new(),
        ctx.cache.clone(),
        ctx.build.clone(),
        Arc::clone(&reporter),
    ));
    let mut git: Option<GitCache> = None;
    let mut plans = Vec::new();
    for entry in &chosen {
        let slug = by_location
            .get(&entry.index)
            .cloned()
            .unwrap_or_else(|| slugs.last().cloned().unwrap_or_default());
        let prepared =
            prepare_plugin(ctx, entry, &slug, &build_fetcher, &mut git, &marker, &dir).await;
        match prepared {
            Ok(plan) => plans.push(plan),
            Err(err) => {
                let reason = plugin_error(&entry.name, &err);
                if explicit {
                    return Err(OpsError::Other {
                        message: format!("cannot mirror the plugin `{}`", entry.name),
                        source: Box::new(err),
                    });
                }
                reporter.warn(&format!("{reason}; skipped"));
                report.skipped.push(SkippedPlugin {
                    name: entry.name.clone(),
                    reason,
                });
            }
        }
    }

    // 3. Resolve every plugin for every target; collect the files of the closures.
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    let mut pinned: BTreeSet<(PackageName, Version)> = BTreeSet::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for (t, target) in opts.targets.iter().enumerate() {
        let shared = Arc::new(Fetcher::new(
            tokio::runtime::Handle::current(),
            RegistryClient::new(ctx.http.clone(), ctx.locations.clone()),
            HashMap::new(),
            ctx.cache.clone(),
            target.interpreter.clone(),
            Arc::clone(&reporter),
        ));
        for plan in &plans {
            if failed.contains(&plan.entry.name) || plan.file.is_some() {
                continue;
            }
            let fetcher = match &plan.locations {
                None => Arc::clone(&shared),
                Some(locations) => {
                    let overrides = plan
                        .requirements
                        .iter()
                        .map(|r| {
                            (
                                r.name.clone(),
                                RegistryClient::new(ctx.http.clone(), locations.clone()),
                            )
                        })
                        .collect();
                    Arc::new(Fetcher::new(
                        tokio::runtime::Handle::current(),
                        RegistryClient::new(ctx.http.clone(), ctx.locations.clone()),
                        overrides,
                        ctx.cache.clone(),
                        target.interpreter.clone(),
                        Arc::clone(&reporter),
                    ))
                }
            };
            let outcome = resolve_plugin(&fetcher, target, &plan.requirements, &plan.locals).await;
            let resolution = match outcome {
                Ok(resolution) => resolution,
                Err(err) => {
                    let reason = format!(
                        "{} (target {})",
                        plugin_error(&plan.entry.name, &err),
                        target.label
                    );
                    if explicit {
                        return Err(OpsError::Other {
                            message: format!(
                                "cannot mirror the plugin `{}` for {}",
                                plan.entry.name, target.label
                            ),
                            source: Box::new(err),
                        });
                    }
                    reporter.warn(&format!("{reason}; skipped"));
                    report.skipped.push(SkippedPlugin {
                        name: plan.entry.name.clone(),
                        reason,
                    });
                    failed.insert(plan.entry.name.clone());
                    continue;
                }
            };
            collect_files(
                &fetcher,
                t,
                target,
                &resolution,
                &plan.locals,
                &mut wanted,
                &mut pinned,
            )
            .await?;
        }
        // Installed together, plugins may need versions none of them needs alone.
        let together: Vec<&PluginPlan> = plans
            .iter()
            .filter(|p| {
                !failed.contains(&p.entry.name) && p.file.is_none() && p.locations.is_none()
            })
            .collect();
        if together.len() > 1 {
            let requirements: Vec<Requirement> = together
                .iter()
                .flat_map(|p| p.requirements.iter().cloned())
                .collect();
            let locals: Vec<LocalDist> = together
                .iter()
                .flat_map(|p| p.locals.iter().cloned())
                .collect();
            match resolve_plugin(&shared, target, &requirements, &locals).await {
                Ok(resolution) => {
                    collect_files(
                        &shared,
                        t,
                        target,
                        &resolution,
                        &locals,
                        &mut wanted,
                        &mut pinned,
                    )
                    .await?;
                }
                Err(err) => reporter.detail(&format!(
                    "the mirrored plugins cannot all be installed together for {}: {}",
                    target.label,
                    crate::index::error_chain(&err)
                )),
            }
        }
    }
    report.packages = pinned.len();

    // 4. Put every wanted file into `wheels/`: kept, downloaded, or built.
    let wheels_dir = dir.join(mirror::WHEELS_DIR);
    let marker_snapshot = Arc::new(marker.clone());
    let results: Vec<Result<Placed, OpsError>> = futures::stream::iter(wanted.into_values())
        .map(|item| {
            let build_fetcher = Arc::clone(&build_fetcher);
            let marker = Arc::clone(&marker_snapshot);
            let wheels_dir = wheels_dir.clone();
            let targets = &opts.targets;
            async move { place(item, &build_fetcher, &marker, &wheels_dir, targets).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for result in results {
        let placed = result?;
        if placed.new {
            report.added.push(placed.filename.clone());
        } else {
            report.kept += 1;
        }
        if placed.downloaded {
            report.downloaded += 1;
        }
        if placed.built {
            report.built += 1;
        }
        if let Some(key) = placed.built_key {
            marker.built.insert(key, placed.filename.clone());
        }
        marker.wheel_files.insert(
            placed.filename.clone(),
            mirror::FileRecord {
                sha256: placed.sha256,
                size: placed.size,
            },
        );
        needed.insert(placed.filename);
    }
    report.added.sort();

    // 5. Single-file plugins, copied as they are.
    let mut written_files: BTreeSet<PathBuf> = BTreeSet::new();
    for plan in &plans {
        if let Some((relative, content)) = &plan.file {
            let path = dir.join(relative);
            if std::fs::read(&path).ok().as_deref() != Some(content.as_slice()) {
                mirror::write_file(&path, content).map_err(mirror_error)?;
            }
            written_files.insert(PathBuf::from(relative));
        }
    }

    // 6. Plugin index files.
    let mirrored: Vec<&PluginPlan> = plans
        .iter()
        .filter(|p| !failed.contains(&p.entry.name))
        .collect();
    report.plugins = mirrored.iter().map(|p| p.entry.name.clone()).collect();
    report.plugins.sort();
    let mut index_files = BTreeSet::new();
    for (slug, public) in &sources {
        let relative = mirror::index_file_paths(Some(slug), &opts.release);
        let path = dir.join(&relative);
        let mut entries: BTreeMap<String, PluginEntry> = BTreeMap::new();
        if !opts.prune {
            for old in read_mirror_index(&path) {
                entries.insert(old.name.clone(), old);
            }
        }
        for plan in mirrored.iter().filter(|p| &p.slug == slug) {
            let mut entry = plan.entry.clone();
            entry.src = plan.src.clone();
            entries.insert(entry.name.clone(), entry);
        }
        let list: Vec<PluginEntry> = entries.into_values().collect();
        let names: Vec<String> = list.iter().map(|e| e.name.clone()).collect();
        write_if_changed(&path, mirror::render_index(&list, "../../").as_bytes())?;
        index_files.insert(relative);
        match marker.indexes.iter_mut().find(|i| &i.name == slug) {
            Some(known) => {
                known.source = public.clone();
                known.plugins.insert(opts.release.clone(), names);
            }
            None => {
                let mut plugins = BTreeMap::new();
                plugins.insert(opts.release.clone(), names);
                marker.indexes.push(MirroredIndex {
                    name: slug.clone(),
                    source: public.clone(),
                    plugins,
                });
            }
        }
    }
    if opts.prune {
        marker.indexes.retain(|i| slugs.contains(&i.name));
        for index in &mut marker.indexes {
            index.plugins.retain(|release, _| release == &opts.release);
        }
        marker.releases.clear();
        marker.targets.clear();
        marker.built.retain(|_, file| needed.contains(file));
    }
    if !marker.releases.contains(&opts.release) {
        marker.releases.push(opts.release.clone());
    }
    for label in &report.targets {
        if !marker.targets.contains(label) {
            marker.targets.push(label.clone());
        }
    }
    // The mirror root is a plugin index too: every index of each release, merged.
    for release in marker.releases.clone() {
        let mut all = Vec::new();
        for index in &marker.indexes {
            let path = dir.join(mirror::index_file_paths(Some(&index.name), &release));
            all.extend(read_mirror_index(&path));
        }
        let relative = mirror::index_file_paths(None, &release);
        write_if_changed(
            &dir.join(&relative),
            mirror::render_index(&index::merge(all), "../").as_bytes(),
        )?;
        index_files.insert(relative);
    }

    // 7. Prune what this run does not describe.
    if opts.prune {
        report.removed = prune(&dir, &needed, &index_files, &written_files)?;
        marker.wheel_files.retain(|file, _| needed.contains(file));
    }

    // 8. The simple index over every wheel present, the marker, the checksum list.
    {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || -> Result<(), MirrorError> {
            write_simple_index(&dir, &mut marker)?;
            marker.save(&dir)?;
            mirror::write_checksums(&dir, &marker.wheel_files)
        })
        .await
        .map_err(join_error)?
        .map_err(mirror_error)?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Adds the file each package of `resolution` installs from for the target to `wanted`.
#[allow(clippy::too_many_arguments)]
async fn collect_files(
    fetcher: &Arc<Fetcher>,
    t: usize,
    target: &MirrorTarget,
    resolution: &BTreeMap<PackageName, Version>,
    locals: &[LocalDist],
    wanted: &mut BTreeMap<String, Wanted>,
    pinned: &mut BTreeSet<(PackageName, Version)>,
) -> Result<(), OpsError> {
    let locals: HashMap<&PackageName, &LocalDist> =
        locals.iter().map(|l| (&l.metadata.name, l)).collect();
    for (name, version) in resolution {
        pinned.insert((name.clone(), version.clone()));
        if let Some(local) = locals.get(name) {
            wanted
                .entry(format!("local:{}", local.path.display()))
                .or_insert_with(|| Wanted::Local((*local).clone()));
            continue;
        }
        let candidates = fetcher
            .candidates(name)
            .await
            .map_err(|e| OpsError::Fetch {
                package: format!("{name}=={version}"),
                source: SharedError(e),
            })?;
        let file = fetcher
            .best_file(&candidates, version)
            .cloned()
            .ok_or_else(|| {
                OpsError::Usage(format!(
                    "`{name}=={version}` has no file for the target {}",
                    target.label
                ))
            })?;
        if let Wanted::Indexed { targets, .. } =
            wanted
                .entry(file.url.to_string())
                .or_insert_with(|| Wanted::Indexed {
                    candidate: file.clone(),
                    fetcher: Arc::clone(fetcher),
                    targets: Vec::new(),
                })
            && !targets.contains(&t)
        {
            targets.push(t);
        }
    }
    Ok(())
}

/// An index as recorded in the marker: aliases expanded, credentials removed.
fn public_index(base: &str) -> String {
    let expanded = index::expand_alias(base);
    match url::Url::parse(expanded) {
        Ok(mut url) if matches!(url.scheme(), "http" | "https") => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        _ => expanded.to_string(),
    }
}

/// The entries of one plugin index for the release; the official `main` index falls back to
/// the copy built into plonk when it cannot be fetched.
async fn read_index(
    ctx: &MirrorContext,
    base: &str,
    location: &str,
    release: &str,
    reporter: &dyn Reporter,
) -> Result<Vec<PluginEntry>, OpsError> {
    let shown = crate::source::redact(location);
    let fetched = index::fetch_index(&ctx.http, location, &ctx.index_http_cache).await;
    let parsed = fetched.and_then(|f| index::parse_index(&f.text, location));
    match parsed {
        Ok(parsed) => {
            for skipped in &parsed.skipped {
                reporter.warn(&skipped.to_string());
            }
            Ok(parsed.entries)
        }
        Err(err) if index::expand_alias(base) == index::MAIN_INDEX => {
            match index::embedded_index(release) {
                Some(Ok(parsed)) => {
                    reporter.warn(&format!(
                        "{}; using the copy of the official `main` index for {release} built into plonk",
                        index::error_chain(&err)
                    ));
                    Ok(parsed.entries)
                }
                _ => Err(OpsError::Other {
                    message: format!("cannot read the plugin index `{shown}`"),
                    source: Box::new(err),
                }),
            }
        }
        Err(err) => Err(OpsError::Other {
            message: format!(
                "cannot read the plugin index `{shown}`; check it, or choose the indexes with `--index`"
            ),
            source: Box::new(err),
        }),
    }
}

/// The entries of a plugin index file the mirror wrote earlier (none if missing or broken).
fn read_mirror_index(path: &Path) -> Vec<PluginEntry> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    index::parse_index(&text, &path.to_string_lossy())
        .map(|p| p.entries)
        .unwrap_or_default()
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), OpsError> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    mirror::write_file(path, bytes).map_err(mirror_error)
}

/// The package sources of an entry with its own options (`--index-url` replaces the default
/// index, the others add to it).
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

/// A plugin's source made ready: requirement lines kept, git lines and direct references built
/// into wheels (once: a build recorded in the marker is reused), a single file read.
async fn prepare_plugin(
    ctx: &MirrorContext,
    entry: &PluginEntry,
    slug: &str,
    build_fetcher: &Arc<Fetcher>,
    git: &mut Option<GitCache>,
    marker: &Marker,
    dir: &Path,
) -> Result<PluginPlan, OpsError> {
    let source = entry.source().map_err(|e| OpsError::Other {
        message: format!("the plugin `{}` has a source plonk cannot read", entry.name),
        source: Box::new(e),
    })?;
    let mut plan = PluginPlan {
        entry: entry.clone(),
        slug: slug.to_string(),
        requirements: Vec::new(),
        locals: Vec::new(),
        locations: None,
        src: String::new(),
        file: None,
    };
    match source {
        Source::SingleFile(file) => {
            let content = match &file.location {
                FileLocation::Url(url) => {
                    ctx.http
                        .get_bytes(url)
                        .await
                        .map_err(|e| OpsError::Other {
                            message: format!("cannot fetch {}", RedactedUrl::new(url)),
                            source: Box::new(e),
                        })?
                        .2
                }
                FileLocation::Path(path) => std::fs::read(path).map_err(|e| OpsError::Other {
                    message: format!("cannot read {}", path.display()),
                    source: Box::new(e),
                })?,
            };
            let name = file.file_name();
            let safe = !name.is_empty()
                && !name.starts_with('.')
                && !name.contains(['/', '\\'])
                && name != "..";
            if !safe {
                return Err(OpsError::Usage(format!(
                    "the single-file plugin `{}` has no usable file name",
                    entry.name
                )));
            }
            let relative = format!("files/{slug}/{name}");
            plan.src = relative.clone();
            plan.file = Some((relative, content));
        }
        Source::Requirements { lines, options } => {
            plan.locations = entry_locations(&ctx.locations, &options);
            let mut src_lines = Vec::new();
            for line in lines {
                match line {
                    SourceLine::Requirement(req) => {
                        if let Some(pep508_rs::VersionOrUrl::Url(url)) = &req.version_or_url {
                            let wheel = crate::ops::local::wheel_for_url(
                                build_fetcher,
                                &req.name,
                                url.raw(),
                            )
                            .await?;
                            let local = LocalDist {
                                path: wheel.path,
                                metadata: wheel.metadata,
                                built_key: None,
                            };
                            src_lines.push(pin_line(&local.metadata));
                            plan.requirements.push(pin(&local.metadata)?);
                            plan.locals.push(local);
                        } else {
                            src_lines.push(req.to_string());
                            plan.requirements.push(req);
                        }
                    }
                    SourceLine::Git(source) => {
                        if git.is_none() {
                            *git = Some(git_cache(ctx)?);
                        }
                        let Some(cache) = git.as_ref() else {
                            continue;
                        };
                        let local = git_wheel(cache, &source, build_fetcher, marker, dir).await?;
                        src_lines.push(pin_line(&local.metadata));
                        plan.requirements.push(pin(&local.metadata)?);
                        plan.locals.push(local);
                    }
                }
            }
            plan.src = src_lines.join("\n");
        }
    }
    Ok(plan)
}

fn pin_line(metadata: &Metadata) -> String {
    format!("{}=={}", metadata.name, metadata.version)
}

fn pin(metadata: &Metadata) -> Result<Requirement, OpsError> {
    let text = pin_line(metadata);
    crate::dist::parse_requirement(&text).map_err(|e| OpsError::Usage(e.to_string()))
}

fn git_cache(ctx: &MirrorContext) -> Result<GitCache, OpsError> {
    let options = ctx.http.options();
    let netrc = match &options.netrc {
        Some(path) => Netrc::from_file(path).unwrap_or_default(),
        None => Netrc::default(),
    };
    GitCache::new(
        &ctx.cache,
        GitHttpOptions {
            handle: tokio::runtime::Handle::current(),
            timeout: options.timeout,
            connect_timeout: options.connect_timeout,
            user_agent: options.user_agent.clone(),
            offline: options.offline,
            netrc,
        },
    )
    .map_err(|e| OpsError::Other {
        message: "cannot set up git".to_string(),
        source: Box::new(e),
    })
}

/// Fetches a git source and builds its wheel, unless the mirror already holds the wheel of
/// that commit.
async fn git_wheel(
    git: &GitCache,
    source: &GitSource,
    build_fetcher: &Arc<Fetcher>,
    marker: &Marker,
    dir: &Path,
) -> Result<LocalDist, OpsError> {
    let shown = display_url(&source.url);
    let reference = source.reference.clone();
    let fetched = {
        let git = git.clone();
        let url = source.url.clone();
        let reference = reference.clone();
        tokio::task::spawn_blocking(move || git.fetch(&url, reference.as_deref()))
            .await
            .map_err(join_error)?
            .map_err(|e| OpsError::Other {
                message: format!("cannot fetch the git repository {shown}"),
                source: Box::new(e),
            })?
    };
    let subdirectory = source.subdirectory.clone().unwrap_or_default();
    let built_key = format!("git:{}:{subdirectory}", fetched.commit);
    let read = |path: PathBuf| async move {
        let p = path.clone();
        tokio::task::spawn_blocking(move || crate::build::read_wheel_metadata(&p))
            .await
            .map_err(join_error)?
            .map_err(|e| OpsError::Other {
                message: format!("cannot read the metadata of {}", path.display()),
                source: Box::new(e),
            })
    };
    let in_mirror = marker
        .built
        .get(&built_key)
        .map(|file| dir.join(mirror::WHEELS_DIR).join(file))
        .filter(|p| p.is_file());
    let path = match in_mirror {
        Some(path) => path,
        None => {
            let work = build_fetcher
                .cache()
                .tempdir_in(crate::cache::GIT_BUCKET)
                .map_err(|e| OpsError::Other {
                    message: "cannot create a checkout folder in the cache".to_string(),
                    source: Box::new(e),
                })?;
            let checkout = work.path().join("checkout");
            {
                let git = git.clone();
                let fetched = fetched.clone();
                let dest = checkout.clone();
                tokio::task::spawn_blocking(move || git.export(&fetched, &dest))
                    .await
                    .map_err(join_error)?
                    .map_err(|e| OpsError::Other {
                        message: format!("cannot check out {shown}"),
                        source: Box::new(e),
                    })?;
            }
            let project = match &source.subdirectory {
                Some(sub) => checkout.join(sub),
                None => checkout.clone(),
            };
            let short = &fetched.commit[..fetched.commit.len().min(10)];
            let label = format!(
                "{} @ {shown}@{short}",
                source
                    .name
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "git".to_string())
            );
            let key = crate::cache::cache_key(&[
                b"git",
                fetched.commit.as_bytes(),
                subdirectory.as_bytes(),
            ]);
            build_fetcher
                .build_dir(&label, Some(&key), &project)
                .await
                .map_err(|e| OpsError::Fetch {
                    package: label.clone(),
                    source: SharedError(e),
                })?
        }
    };
    let metadata = read(path.clone()).await?;
    if let Some(expected) = &source.name
        && expected != &metadata.name
    {
        return Err(OpsError::Usage(format!(
            "the git repository {shown} holds `{}`, not `{expected}`",
            metadata.name
        )));
    }
    Ok(LocalDist {
        path,
        metadata,
        built_key: Some(built_key),
    })
}

/// Resolves one plugin for one target: `name → version` of its closure.
async fn resolve_plugin(
    fetcher: &Arc<Fetcher>,
    target: &MirrorTarget,
    requirements: &[Requirement],
    locals: &[LocalDist],
) -> Result<BTreeMap<PackageName, Version>, OpsError> {
    for req in requirements {
        if !locals.iter().any(|l| l.metadata.name == req.name) {
            fetcher.prefetch_requirement(req);
        }
    }
    let request = ResolveRequest {
        requirements: requirements.to_vec(),
        installed: Vec::new(),
        fixed: locals
            .iter()
            .map(|l| (l.metadata.name.clone(), l.metadata.version.clone()))
            .collect(),
        upgrade: Upgrade::None,
        markers: target.interpreter.markers.clone(),
        python_version: target.interpreter.python_full_version.clone(),
        pre_releases: false,
    };
    let provider = Provider {
        fetcher: Arc::clone(fetcher),
        installed: HashMap::new(),
        no_deps: false,
        known: locals
            .iter()
            .map(|l| (l.metadata.name.clone(), l.metadata.clone()))
            .collect(),
        installed_only: Default::default(),
    };
    let what = requirements
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let resolution = tokio::task::spawn_blocking(move || resolve::resolve(&request, &provider))
        .await
        .map_err(join_error)?
        .map_err(|source| OpsError::Resolve { what, source })?;
    Ok(resolution
        .packages
        .into_iter()
        .map(|(name, package)| (name, package.version))
        .collect())
}

/// A file put into `wheels/`.
struct Placed {
    filename: String,
    sha256: String,
    size: u64,
    new: bool,
    downloaded: bool,
    built: bool,
    built_key: Option<String>,
}

/// A wheel file name that is safe as a name inside `wheels/`.
fn safe_wheel_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && name.ends_with(".whl")
        && name.parse::<WheelFilename>().is_ok()
}

fn record_matches(
    marker: &Marker,
    wheels_dir: &Path,
    filename: &str,
    sha256: Option<&str>,
) -> bool {
    let path = wheels_dir.join(filename);
    let Ok(meta) = std::fs::metadata(&path) else {
        return false;
    };
    match marker.wheel_files.get(filename) {
        Some(record) => {
            record.size == meta.len()
                && sha256.is_none_or(|sha| sha.eq_ignore_ascii_case(&record.sha256))
        }
        None => false,
    }
}

/// Copies `source` into `wheels/<filename>` (a hard link when possible), through a temp name.
fn copy_in(source: &Path, wheels_dir: &Path, filename: &str) -> Result<(String, u64), MirrorError> {
    let dest = wheels_dir.join(filename);
    let temp = wheels_dir.join(format!(".{filename}.part"));
    let _ = std::fs::remove_file(&temp);
    if std::fs::hard_link(source, &temp).is_err() {
        std::fs::copy(source, &temp).map_err(|e| MirrorError::Write {
            path: dest.clone(),
            source: e,
        })?;
    }
    std::fs::rename(&temp, &dest).map_err(|e| MirrorError::Write {
        path: dest.clone(),
        source: e,
    })?;
    let sha = mirror::file_sha256(&dest)?;
    let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
    Ok((sha, size))
}

async fn copy_in_async(
    source: PathBuf,
    wheels_dir: PathBuf,
    filename: String,
) -> Result<(String, u64), OpsError> {
    tokio::task::spawn_blocking(move || copy_in(&source, &wheels_dir, &filename))
        .await
        .map_err(join_error)?
        .map_err(mirror_error)
}

/// Makes one wanted file present in `wheels/`.
async fn place(
    item: Wanted,
    build_fetcher: &Arc<Fetcher>,
    marker: &Marker,
    wheels_dir: &Path,
    targets: &[MirrorTarget],
) -> Result<Placed, OpsError> {
    match item {
        Wanted::Local(local) => {
            let filename = local
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !safe_wheel_name(&filename) {
                return Err(OpsError::Usage(format!(
                    "{} is not a wheel file name plonk can mirror",
                    local.path.display()
                )));
            }
            // A wheel the mirror already holds (a git build reused by commit).
            if local.path.parent() == Some(wheels_dir) {
                let record = marker
                    .wheel_files
                    .get(&filename)
                    .cloned()
                    .unwrap_or_default();
                let (sha256, size) = if record.sha256.is_empty() {
                    let path = local.path.clone();
                    let sha = tokio::task::spawn_blocking(move || mirror::file_sha256(&path))
                        .await
                        .map_err(join_error)?
                        .map_err(mirror_error)?;
                    (
                        sha,
                        std::fs::metadata(&local.path).map(|m| m.len()).unwrap_or(0),
                    )
                } else {
                    (record.sha256, record.size)
                };
                return Ok(Placed {
                    filename,
                    sha256,
                    size,
                    new: false,
                    downloaded: false,
                    built: false,
                    built_key: local.built_key,
                });
            }
            let existed = wheels_dir.join(&filename).is_file();
            let (sha256, size) = copy_in_async(
                local.path.clone(),
                wheels_dir.to_path_buf(),
                filename.clone(),
            )
            .await?;
            Ok(Placed {
                filename,
                sha256,
                size,
                new: !existed,
                downloaded: false,
                built: local.built_key.is_some(),
                built_key: local.built_key,
            })
        }
        Wanted::Indexed {
            candidate,
            fetcher,
            targets: for_targets,
        } => {
            let label = format!("{}=={}", candidate.name, candidate.version);
            match &candidate.filename {
                DistFilename::Wheel(_) => {
                    let filename = candidate.filename.to_string();
                    if !safe_wheel_name(&filename) {
                        return Err(OpsError::Usage(format!(
                            "`{filename}` of `{label}` is not a wheel file name plonk can mirror"
                        )));
                    }
                    if record_matches(marker, wheels_dir, &filename, candidate.sha256.as_deref()) {
                        let record = marker
                            .wheel_files
                            .get(&filename)
                            .cloned()
                            .unwrap_or_default();
                        return Ok(Placed {
                            filename,
                            sha256: record.sha256,
                            size: record.size,
                            new: false,
                            downloaded: false,
                            built: false,
                            built_key: None,
                        });
                    }
                    let before = fetcher
                        .stats
                        .downloaded
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let path = fetcher
                        .download(&candidate, crate::cache::WHEELS_BUCKET)
                        .await
                        .map_err(|e| OpsError::Fetch {
                            package: label.clone(),
                            source: SharedError(e),
                        })?;
                    let after = fetcher
                        .stats
                        .downloaded
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let existed = wheels_dir.join(&filename).is_file();
                    let (sha256, size) =
                        copy_in_async(path, wheels_dir.to_path_buf(), filename.clone()).await?;
                    Ok(Placed {
                        filename,
                        sha256,
                        size,
                        new: !existed,
                        downloaded: after > before,
                        built: false,
                        built_key: None,
                    })
                }
                DistFilename::Sdist(_) => {
                    let key = match &candidate.sha256 {
                        Some(sha) => format!("sdist:{}", sha.to_ascii_lowercase()),
                        None => format!("sdist-url:{}", RedactedUrl::new(&candidate.url)),
                    };
                    let check = |filename: &str| -> Result<(), OpsError> {
                        let wheel: WheelFilename = filename.parse().map_err(|_| {
                            OpsError::Usage(format!("`{filename}` is not a wheel file name"))
                        })?;
                        for t in &for_targets {
                            if let Some(target) = targets.get(*t)
                                && !target.interpreter.tags.is_compatible(&wheel)
                            {
                                return Err(OpsError::Usage(format!(
                                    "`{label}` has no wheel for {} and its sdist builds `{filename}` on this machine, which that target cannot install; mirror that target on a machine of its platform",
                                    target.label
                                )));
                            }
                        }
                        Ok(())
                    };
                    if let Some(filename) = marker.built.get(&key)
                        && record_matches(marker, wheels_dir, filename, None)
                    {
                        check(filename)?;
                        let record = marker
                            .wheel_files
                            .get(filename)
                            .cloned()
                            .unwrap_or_default();
                        return Ok(Placed {
                            filename: filename.clone(),
                            sha256: record.sha256,
                            size: record.size,
                            new: false,
                            downloaded: false,
                            built: false,
                            built_key: Some(key),
                        });
                    }
                    let fetch_err = |e| OpsError::Fetch {
                        package: label.clone(),
                        source: SharedError(e),
                    };
                    let before = build_fetcher
                        .stats
                        .downloaded
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let sdist = build_fetcher
                        .download(&candidate, "archives-v1")
                        .await
                        .map_err(fetch_err)?;
                    let after = build_fetcher
                        .stats
                        .downloaded
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let built_before = build_fetcher
                        .stats
                        .built
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let wheel = build_fetcher
                        .build_sdist(&candidate.name, &candidate.version, &sdist)
                        .await
                        .map_err(fetch_err)?;
                    let built_after = build_fetcher
                        .stats
                        .built
                        .load(std::sync::atomic::Ordering::Relaxed);
                    let filename = wheel
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if !safe_wheel_name(&filename) {
                        return Err(OpsError::Usage(format!(
                            "building `{label}` made `{filename}`, not a wheel file name plonk can mirror"
                        )));
                    }
                    check(&filename)?;
                    let existed = wheels_dir.join(&filename).is_file();
                    let (sha256, size) =
                        copy_in_async(wheel, wheels_dir.to_path_buf(), filename.clone()).await?;
                    Ok(Placed {
                        filename,
                        sha256,
                        size,
                        new: !existed,
                        downloaded: after > before,
                        built: built_after > built_before,
                        built_key: Some(key),
                    })
                }
            }
        }
    }
}

/// Removes wheels, metadata files, copied single files and plugin index files this run does
/// not describe; returns their paths relative to the mirror.
fn prune(
    dir: &Path,
    wheels: &BTreeSet<String>,
    index_files: &BTreeSet<PathBuf>,
    single_files: &BTreeSet<PathBuf>,
) -> Result<Vec<String>, OpsError> {
    let mut removed = Vec::new();
    let wheels_dir = dir.join(mirror::WHEELS_DIR);
    if let Ok(entries) = std::fs::read_dir(&wheels_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let wheel = name.strip_suffix(".metadata").unwrap_or(&name);
            if name == "index.html" || !wheel.ends_with(".whl") || wheels.contains(wheel) {
                continue;
            }
            remove(&entry.path(), &mut removed, dir)?;
        }
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1).max_depth(3) {
        let Ok(entry) = entry else { continue };
        let Ok(relative) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let top = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        if top == mirror::WHEELS_DIR || top == mirror::SIMPLE_DIR || !entry.file_type().is_file() {
            continue;
        }
        let is_index = entry.file_name() == "plugins.yml";
        let is_single = top == "files";
        if (is_index && !index_files.contains(relative))
            || (is_single && !single_files.contains(relative))
        {
            remove(entry.path(), &mut removed, dir)?;
        }
    }
    // Folders left empty.
    let mut folders: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.into_path())
        .collect();
    folders.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for folder in folders {
        let _ = std::fs::remove_dir(&folder);
    }
    for keep in [mirror::WHEELS_DIR, mirror::SIMPLE_DIR] {
        let _ = std::fs::create_dir_all(dir.join(keep));
    }
    removed.sort();
    Ok(removed)
}

fn remove(path: &Path, removed: &mut Vec<String>, dir: &Path) -> Result<(), OpsError> {
    std::fs::remove_file(path).map_err(|source| {
        mirror_error(MirrorError::Write {
            path: path.to_path_buf(),
            source,
        })
    })?;
    if let Ok(relative) = path.strip_prefix(dir) {
        removed.push(relative.to_string_lossy().into_owned());
    }
    Ok(())
}

/// Writes the `.metadata` files and the simple index pages for every wheel in `wheels/`,
/// and removes project pages of projects no longer there.
fn write_simple_index(dir: &Path, marker: &mut Marker) -> Result<(), MirrorError> {
    let wheels_dir = dir.join(mirror::WHEELS_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&wheels_dir)
        .map_err(|source| MirrorError::Read {
            path: wheels_dir.clone(),
            source,
        })?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| safe_wheel_name(n))
        .collect();
    names.sort();
    let mut entries = Vec::new();
    for name in &names {
        let path = wheels_dir.join(name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let sha256 = match marker.wheel_files.get(name) {
            Some(record) if record.size == size && !record.sha256.is_empty() => {
                record.sha256.clone()
            }
            _ => {
                let sha = mirror::file_sha256(&path)?;
                marker.wheel_files.insert(
                    name.clone(),
                    mirror::FileRecord {
                        sha256: sha.clone(),
                        size,
                    },
                );
                sha
            }
        };
        entries.push(mirror::describe_wheel(dir, name, &sha256)?);
    }
    marker.wheel_files.retain(|file, _| names.contains(file));
    // Metadata files whose wheel is gone.
    if let Ok(listing) = std::fs::read_dir(&wheels_dir) {
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(wheel) = name.strip_suffix(".metadata")
                && !names.iter().any(|n| n == wheel)
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let pages = mirror::render_pages(&entries);
    let mut projects = BTreeSet::new();
    for (relative, content) in &pages {
        if let Some(project) = relative
            .strip_prefix(mirror::SIMPLE_DIR)
            .ok()
            .and_then(|r| r.components().next())
            .filter(|_| relative.components().count() == 3)
        {
            projects.insert(project.as_os_str().to_string_lossy().into_owned());
        }
        let path = dir.join(relative);
        if std::fs::read(&path).ok().as_deref() != Some(content.as_bytes()) {
            mirror::write_file(&path, content.as_bytes())?;
        }
    }
    let simple = dir.join(mirror::SIMPLE_DIR);
    if let Ok(listing) = std::fs::read_dir(&simple) {
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !projects.contains(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}
