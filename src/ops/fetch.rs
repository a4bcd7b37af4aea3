//! Getting packages: candidate lists, metadata and wheels, each fetched at most once per
//! run (shared futures), cached on disk by content hash, and built from sdists when no
//! compatible wheel exists. The resolver's [`MetadataProvider`] and the build step's
//! [`BuildEnv`] are both answered from here.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::build::{self, BuildEnv};
use crate::cache::Cache;
use crate::dist::{DistFilename, Metadata, PackageName, Requirement, Version, VersionSpecifiers};
use crate::environment::{InstalledDist, Interpreter, PythonEnvironment};
use crate::install::UnpackedWheel;
use crate::ops::error::FetchError;
use crate::ops::{ProgressKind, Reporter};
use crate::registry::{Candidate, RegistryClient};
use crate::resolve::{self, MetadataProvider, ProviderError, VersionInfo};

/// Nested builds (a build requirement that itself needs a build) stop here.
const MAX_BUILD_DEPTH: usize = 4;

type Shared<T> = Arc<OnceCell<Result<T, Arc<FetchError>>>>;
/// An unpacked copy being made, or made (`None`: it could not be).
type UnpackCell = Arc<OnceCell<Option<UnpackedWheel>>>;

/// Per-run memo of one kind of fetch, keyed by what was asked.
type Memo<K, T> = Mutex<HashMap<K, Shared<T>>>;

/// A wheel ready to install: in the cache, verified.
#[derive(Debug, Clone)]
pub struct WheelReady {
    /// Path of the `.whl` in the cache.
    pub path: PathBuf,
    /// Whether it was built from an sdist by this run.
    pub built: bool,
    /// The index file it came from (a wheel, or the sdist it was built from); None for
    /// wheels plonk made itself.
    pub origin: Option<Candidate>,
    /// Its verified unpacked copy in the cache, which installs hard-link from; `None` when
    /// it could not be made (the install then reads the archive and reports any error).
    pub unpacked: Option<UnpackedWheel>,
}

/// Counters for the closing summary.
#[derive(Debug, Default)]
pub struct FetchStats {
    /// Files downloaded (not found in the cache).
    pub downloaded: AtomicUsize,
    /// Wheels built.
    pub built: AtomicUsize,
    /// Time spent downloading, in microseconds (summed over parallel downloads).
    pub download_micros: AtomicUsize,
    /// Time spent building, in microseconds.
    pub build_micros: AtomicUsize,
}

impl FetchStats {
    /// Wall-ish time of downloads.
    pub fn download_time(&self) -> Duration {
        Duration::from_micros(self.download_micros.load(Ordering::Relaxed) as u64)
    }
    /// Time of builds.
    pub fn build_time(&self) -> Duration {
        Duration::from_micros(self.build_micros.load(Ordering::Relaxed) as u64)
    }
}

/// Fetches and builds packages for one target interpreter.
pub struct Fetcher {
    handle: tokio::runtime::Handle,
    registry: Arc<RegistryClient>,
    /// Per-package registries from an index entry's own `--index-url` options.
    overrides: HashMap<PackageName, Arc<RegistryClient>>,
    /// Registries the dependencies of an overridden package inherit (see [`Fetcher::inherit`]).
    inherited: Mutex<HashMap<PackageName, Arc<RegistryClient>>>,
    cache: Cache,
    interpreter: Interpreter,
    reporter: Arc<dyn Reporter>,
    candidates: Memo<PackageName, Arc<Vec<Candidate>>>,
    metadata: Memo<(PackageName, Version), Arc<Metadata>>,
    wheels: Memo<(PackageName, Version), WheelReady>,
    /// Files downloaded this run, by bucket and URL; shared with nested fetchers (a build
    /// environment needing setuptools while the install downloads it waits for that one
    /// download). Nothing here waits on a build, so sharing cannot wait on itself.
    downloads: Arc<Memo<String, PathBuf>>,
    /// Unpacked copies made this run, by cache key; shared like `downloads`.
    unpacks: Arc<Mutex<HashMap<String, UnpackCell>>>,
    /// Set when the command is done (see [`Fetcher::abandon`]); shared with nested fetchers.
    abandoned: Arc<AtomicBool>,
    depth: usize,
    prefetched: Mutex<std::collections::HashSet<PackageName>>,
    /// How many versions of each package the resolver has picked so far: a second pick means
    /// it is walking down the versions, and the next ones are then fetched in one batch.
    picks: Mutex<HashMap<PackageName, usize>>,
    /// Whether the file of each version the resolver picks is fetched right away (see
    /// [`Fetcher::fetch_while_resolving`]).
    speculate: bool,
    prefetch_slots: tokio::sync::Semaphore,
    no_metadata_prefetch: std::collections::HashSet<PackageName>,
    /// Whether the cache's unpacked wheels can be hard-linked into the target environment,
    /// probed once (and shared with nested fetchers, so the notice is given once).
    links: Arc<std::sync::OnceLock<bool>>,
    /// Summary counters.
    pub stats: FetchStats,
}

tokio::task_local! {
    /// Marks work started ahead of the resolver (see [`Fetcher::fetch_while_resolving`]): it
    /// shows no progress lines, since the resolver may drop the version it fetches (and a
    /// failed resolution should print its error, not builds it started on a guess).
    static AHEAD: ();
}

/// The largest wheel downloaded on a guess, before the resolver has picked its version.
const SPECULATIVE_DOWNLOAD_MAX: u64 = 32 * 1024 * 1024;

/// The largest wheel of a later pick (the resolver walking down versions) downloaded then.
const BACKTRACK_DOWNLOAD_MAX: u64 = 4 * 1024 * 1024;

/// Older versions whose metadata is fetched at once when the resolver backtracks.
const BACKTRACK_BATCH: usize = 16;

/// Index requests the prefetcher keeps in flight at once.
const PREFETCH_CONCURRENCY: usize = 16;

impl Fetcher {
    /// A fetcher for packages installable into `interpreter`.
    pub fn new(
        handle: tokio::runtime::Handle,
        registry: RegistryClient,
        overrides: HashMap<PackageName, RegistryClient>,
        cache: Cache,
        interpreter: Interpreter,
        reporter: Arc<dyn Reporter>,
    ) -> Self {
        // Only files the target can install become candidates: every use of them here
        // (versions, best file, downloads) looks at those alone.
        let keep = installable_filter(&interpreter.tags);
        // Names the filter for the registry's page digests: the same tags keep the same files.
        let keep_key = format!(
            "installable-v1 {:?}",
            interpreter.tags.iter().collect::<Vec<_>>()
        );
        Fetcher {
            handle,
            registry: Arc::new(registry.with_file_filter(Arc::clone(&keep), keep_key.clone())),
            overrides: overrides
                .into_iter()
                .map(|(k, v)| {
                    let v = v.with_file_filter(Arc::clone(&keep), keep_key.clone());
                    (k, Arc::new(v))
                })
                .collect(),
            inherited: Mutex::default(),
            cache,
            interpreter,
            reporter,
            candidates: Mutex::default(),
            metadata: Mutex::default(),
            wheels: Mutex::default(),
            downloads: Arc::default(),
            unpacks: Arc::default(),
            abandoned: Arc::default(),
            depth: 0,
            prefetched: Mutex::default(),
            picks: Mutex::default(),
            speculate: false,
            prefetch_slots: tokio::sync::Semaphore::new(PREFETCH_CONCURRENCY),
            no_metadata_prefetch: Default::default(),
            links: Arc::default(),
            stats: FetchStats::default(),
        }
    }

    /// The target interpreter.
    pub fn interpreter(&self) -> &Interpreter {
        &self.interpreter
    }

    /// The cache this fetcher writes to.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    fn registry_for(&self, name: &PackageName) -> Arc<RegistryClient> {
        if let Some(registry) = self.overrides.get(name) {
            return Arc::clone(registry);
        }
        lock_map(&self.inherited)
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.registry))
    }

    /// An index entry's own package sources cover the dependencies of its packages too (pip
    /// applies a requirements file's `--index-url` to everything it installs), so a private
    /// plugin's private dependencies never come from the default index. A dependency keeps
    /// the registry it was first given.
    pub fn inherit(&self, parent: &PackageName, metadata: &Metadata) {
        let registry = match self.overrides.get(parent) {
            Some(registry) => Arc::clone(registry),
            None => match lock_map(&self.inherited).get(parent) {
                Some(registry) => Arc::clone(registry),
                None => return,
            },
        };
        let mut inherited = lock_map(&self.inherited);
        for requirement in &metadata.requires_dist {
            if !self.overrides.contains_key(&requirement.name) {
                inherited
                    .entry(requirement.name.clone())
                    .or_insert_with(|| Arc::clone(&registry));
            }
        }
    }

    fn shared<K: std::hash::Hash + Eq + Clone, T>(
        map: &Mutex<HashMap<K, Shared<T>>>,
        key: &K,
    ) -> Shared<T> {
        let mut map = match map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(key.clone()).or_default().clone()
    }

    /// A token that changes whenever [`Fetcher::candidates`] may answer differently for
    /// `name`, found without reading its pages (see
    /// [`RegistryClient::listing_fingerprint`]); `None` when it cannot be told that way.
    pub async fn listing_fingerprint(&self, name: &PackageName) -> Option<String> {
        self.registry_for(name).listing_fingerprint(name).await
    }

    /// Every file of every version of `name`, fetched once per run.
    pub async fn candidates(
        &self,
        name: &PackageName,
    ) -> Result<Arc<Vec<Candidate>>, Arc<FetchError>> {
        let cell = Self::shared(&self.candidates, name);
        cell.get_or_init(|| async {
            self.registry_for(name)
                .candidates(name)
                .await
                .map(Arc::new)
                .map_err(|source| Arc::new(FetchError::Registry(source)))
        })
        .await
        .clone()
    }

    /// Starts fetching `name` in the background, ahead of the resolver: its candidates, then
    /// the metadata of the version the resolver will most likely pick (the newest stable
    /// one), then the same for each of that version's requirements. Resolution then mostly
    /// finds its answers already fetched, instead of waiting on one request at a time.
    pub fn prefetch(self: &Arc<Self>, name: &PackageName) {
        self.prefetch_with(name, None, false);
    }

    /// [`Fetcher::prefetch`] for a requirement: the likely version is the newest that its
    /// specifiers allow (a plugin pinned below a dependency's newest release would otherwise
    /// have the newest fetched, or even built, for nothing).
    pub fn prefetch_requirement(self: &Arc<Self>, requirement: &Requirement) {
        self.prefetch_with(&requirement.name, allowed_versions(requirement), false);
    }

    /// [`Fetcher::prefetch`] of the versions `allowed` (all when `None`); `for_build` names a
    /// build requirement, fetched even when the target environment has it (a build
    /// environment starts empty). The first call for a name decides.
    fn prefetch_with(
        self: &Arc<Self>,
        name: &PackageName,
        allowed: Option<VersionSpecifiers>,
        for_build: bool,
    ) {
        {
            let mut seen = match self.prefetched.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            if !seen.insert(name.clone()) {
                return;
            }
        }
        let this = Arc::clone(self);
        let name = name.clone();
        self.handle.spawn(async move {
            let Ok(_permit) = this.prefetch_slots.acquire().await else {
                return;
            };
            let Ok(versions) = this.versions(&name).await else {
                return;
            };
            if !for_build && this.no_metadata_prefetch.contains(&name) {
                return;
            }
            let likely = versions
                .iter()
                .filter(|v| !v.yanked && !v.version.any_prerelease())
                .filter(|v| allowed.as_ref().is_none_or(|a| a.contains(&v.version)))
                .filter(|v| {
                    v.requires_python
                        .as_ref()
                        .is_none_or(|rp| rp.contains(&this.interpreter.python_full_version))
                })
                .map(|v| v.version.clone())
                .max();
            let Some(version) = likely else {
                return;
            };
            let Ok(candidates) = this.candidates(&name).await else {
                return;
            };
            let Some(file) = this.best_file(&candidates, &version).cloned() else {
                return;
            };
            drop(_permit);
            let is_wheel = file.filename.is_wheel();
            let metadata = if is_wheel {
                this.metadata(&name, &version).await.ok()
            } else {
                // When installing, the build environment is made ready meanwhile. An sdist
                // the index does not describe is built now, as the resolver would on picking
                // it: its requirements (the rest of the chain) are unknown until then, and it
                // is what they most likely pick. A wrong guess costs one build.
                if this.speculate {
                    let (ahead, file) = (Arc::clone(&this), file.clone());
                    this.handle.spawn(AHEAD.scope((), async move {
                        ahead.warm_build_requirements(&file).await;
                    }));
                }
                match this.index_metadata(&name, &version, &file).await {
                    Some(metadata) => Some(metadata),
                    None if this.speculate
                        && file
                            .size
                            .is_some_and(|size| size <= SPECULATIVE_DOWNLOAD_MAX) =>
                    {
                        AHEAD.scope((), this.metadata(&name, &version)).await.ok()
                    }
                    None => None,
                }
            };
            let Some(md) = metadata else {
                return;
            };
            // Installed packages are read from the environment first; their pages are
            // fetched only if that first resolution fails (the caller prefetches them).
            for req in &md.requires_dist {
                if req.evaluate_markers(&this.interpreter.markers, &[])
                    && !this.no_metadata_prefetch.contains(&req.name)
                {
                    this.prefetch_requirement(req);
                }
            }
            // The newest version is what the resolver picks unless something constrains
            // it: when installing, download and unpack it now, while the resolver waits on
            // other requests or builds. A wrong guess costs one download, bounded.
            if this.speculate
                && is_wheel
                && file
                    .size
                    .is_some_and(|size| size <= SPECULATIVE_DOWNLOAD_MAX)
            {
                let _ = AHEAD.scope((), this.wheel(&name, &version)).await;
            }
        });
    }

    /// The metadata of the sdist `file` of `name==version` when the index describes it (JSON
    /// API, PEP 658), kept for the resolver as [`Fetcher::metadata`] would; `None` when only
    /// its `PKG-INFO` or a build can tell. Never downloads the sdist.
    async fn index_metadata(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
        file: &Candidate,
    ) -> Option<Arc<Metadata>> {
        let cell = Self::shared(&self.metadata, &(name.clone(), version.clone()));
        if let Some(known) = cell.get() {
            return known.as_ref().ok().cloned();
        }
        let stored_at = metadata_cache_path(&self.cache, file);
        let cached = stored_metadata(stored_at.clone(), name, version).await;
        let fresh = cached.is_none();
        let metadata = match cached {
            Some(metadata) => Arc::new(metadata),
            None => Arc::new(self.registry_for(name).metadata(file).await.ok()??),
        };
        // The resolver may have started its own fetch meanwhile: then it keeps that one.
        if cell.set(Ok(Arc::clone(&metadata))).is_ok() {
            self.inherit(name, &metadata);
            if fresh && let Some(path) = stored_at {
                store_metadata(path, &metadata).await;
            }
        }
        Some(metadata)
    }

    /// Fetches ahead what building the sdist `file` will install into its build environment
    /// (setuptools, most often), so that its build does not wait on it: reads the build
    /// system from the sdist (downloaded now; bounded) unless plonk builds it natively.
    async fn warm_build_requirements(self: &Arc<Self>, file: &Candidate) {
        if file.size.is_none_or(|size| size > SPECULATIVE_DOWNLOAD_MAX) {
            return;
        }
        // Built before: no build, so nothing to make ready.
        if let Some(sha) = &file.sha256
            && find_wheel_in(&self.built_dir(&sha.to_ascii_lowercase())).is_some()
        {
            return;
        }
        let Ok(sdist) = self.sdist(file).await else {
            return;
        };
        let read = tokio::task::spawn_blocking(move || build::read_sdist_build_system(&sdist));
        let Ok(Ok(system)) = read.await else {
            return;
        };
        if build::native::may_build(&system) {
            return;
        }
        for req in &system.requires {
            if req.evaluate_markers(&self.interpreter.markers, &[]) {
                self.prefetch_with(&req.name, allowed_versions(req), true);
            }
        }
    }

    /// Where download and build progress goes: nowhere for work started ahead of the
    /// resolver (see [`AHEAD`]).
    fn progress_reporter(&self) -> Arc<dyn Reporter> {
        if AHEAD.try_with(|_| ()).is_ok() {
            Arc::new(crate::ops::reporter::SilentReporter)
        } else {
            Arc::clone(&self.reporter)
        }
    }

    /// Names read from the environment: their metadata is not fetched ahead, nor their pages
    /// when they turn up as dependencies of packages fetched ahead.
    pub fn skip_metadata_prefetch(&mut self, names: impl IntoIterator<Item = PackageName>) {
        self.no_metadata_prefetch.extend(names);
    }

    /// The command is done with this fetcher: builds still running (started on a guess the
    /// resolver dropped, or for a resolution that failed) stop their PEP 517 hook now instead
    /// of making the process wait for them at exit. Whatever they finished stays cached.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// Fetch wheels while resolving: the wheel of the first version the resolver picks of
    /// each package (downloaded and unpacked, or built from the sdist), and the wheel of the
    /// version the prefetcher expects it to pick (downloaded only when it is a wheel of at
    /// most [`SPECULATIVE_DOWNLOAD_MAX`] bytes). Resolution mostly waits on the network, so
    /// downloads and builds overlap it instead of following it; the resolver seldom drops a
    /// first pick (only when it walks down a package's versions). For runs that install.
    pub fn fetch_while_resolving(&mut self) {
        self.speculate = true;
    }

    /// The resolver picked `name==version` (it asks for its requirements). The first pick of
    /// a package may start fetching its file (see [`Fetcher::fetch_while_resolving`]); a
    /// second pick means the resolver is walking down the versions of `name` one conflict at
    /// a time, each waiting on a metadata request: the metadata of the next
    /// [`BACKTRACK_BATCH`] older versions is then fetched at once, and (when installing) the
    /// picked version's wheel downloaded, since the walk stops at one of them.
    pub fn picked(self: &Arc<Self>, name: &PackageName, version: &Version) {
        let picks = {
            let mut picks = lock_map(&self.picks);
            let count = picks.entry(name.clone()).or_default();
            *count += 1;
            *count
        };
        if picks == 1 {
            if self.speculate {
                let this = Arc::clone(self);
                let (name, version) = (name.clone(), version.clone());
                // Results are memoized: the install awaits the same work later.
                self.handle.spawn(AHEAD.scope((), async move {
                    let _ = this.wheel(&name, &version).await;
                }));
            }
            return;
        }
        let this = Arc::clone(self);
        let (name, version) = (name.clone(), version.clone());
        self.handle.spawn(async move {
            let Ok(versions) = this.versions(&name).await else {
                return;
            };
            let Ok(candidates) = this.candidates(&name).await else {
                return;
            };
            // The version picked now may well be the one kept (the walk stops somewhere):
            // download it, not unpack it, while the resolver goes on. Small wheels only.
            if this.speculate
                && let Some(file) = this.best_file(&candidates, &version)
                && file.filename.is_wheel()
                && file.size.is_some_and(|size| size <= BACKTRACK_DOWNLOAD_MAX)
            {
                let (ahead, file) = (Arc::clone(&this), file.clone());
                this.handle.spawn(AHEAD.scope((), async move {
                    let _ = ahead.download(&file, "wheels-v1").await;
                }));
            }
            let python = &this.interpreter.python_full_version;
            let older: Vec<Version> = versions
                .iter()
                .rev()
                .filter(|v| v.version < version && !v.yanked && !v.version.any_prerelease())
                .filter(|v| {
                    v.requires_python
                        .as_ref()
                        .is_none_or(|rp| rp.contains(python))
                })
                // Only wheels: an sdist's metadata may need a build.
                .filter(|v| {
                    this.best_file(&candidates, &v.version)
                        .is_some_and(|f| f.filename.is_wheel())
                })
                .take(BACKTRACK_BATCH)
                .map(|v| v.version.clone())
                .collect();
            let fetches = older.iter().map(|v| this.metadata(&name, v));
            // Errors are memoized too: the resolver meets them if it gets there.
            futures::future::join_all(fetches).await;
        });
    }

    /// The file of `name==version` plonk would install: the best compatible wheel, else the
    /// sdist. Files whose `Requires-Python` excludes the target are skipped.
    pub fn best_file<'a>(
        &self,
        candidates: &'a [Candidate],
        version: &Version,
    ) -> Option<&'a Candidate> {
        self.best_of(candidates.iter().filter(|c| &c.version == version))
    }

    /// [`Fetcher::best_file`] among `files` (all of one version).
    fn best_of<'a>(&self, files: impl Iterator<Item = &'a Candidate>) -> Option<&'a Candidate> {
        let python = &self.interpreter.python_full_version;
        let usable = files.filter(|c| {
            c.requires_python
                .as_ref()
                .is_none_or(|spec| spec.contains(python))
        });
        let mut best_wheel: Option<(&Candidate, (bool, usize))> = None;
        let mut sdist: Option<&Candidate> = None;
        for c in usable {
            match &c.filename {
                DistFilename::Wheel(w) => {
                    if let Some(priority) = self.interpreter.tags.compatibility(w) {
                        // Prefer files that are not yanked, then the most specific tag.
                        let key = (c.yanked, priority);
                        if best_wheel.as_ref().is_none_or(|(_, k)| key < *k) {
                            best_wheel = Some((c, key));
                        }
                    }
                }
                DistFilename::Sdist(_) => {
                    if sdist.is_none_or(|s| s.yanked && !c.yanked) {
                        sdist = Some(c);
                    }
                }
            }
        }
        best_wheel.map(|(c, _)| c).or(sdist)
    }

    /// The versions of `name` that have a file installable into the target.
    pub async fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, Arc<FetchError>> {
        let candidates = self.candidates(name).await?;
        let mut by_version: BTreeMap<&Version, Vec<&Candidate>> = BTreeMap::new();
        for c in candidates.iter() {
            by_version.entry(&c.version).or_default().push(c);
        }
        let mut out = Vec::new();
        for (version, files) in by_version {
            let installable: Vec<&&Candidate> = files
                .iter()
                .filter(|c| match &c.filename {
                    DistFilename::Wheel(w) => self.interpreter.tags.is_compatible(w),
                    DistFilename::Sdist(_) => true,
                })
                .collect();
            if installable.is_empty() {
                continue;
            }
            let yanked = installable.iter().all(|c| c.yanked);
            // Requires-Python: the chosen file's; when every file excludes us, report one of
            // them so the resolver can explain why.
            // (`files` holds this version only: looking through every candidate again for
            // each version is quadratic on projects with thousands of files.)
            let requires_python = self
                .best_of(files.iter().copied())
                .map(|c| c.requires_python.clone())
                .unwrap_or_else(|| installable.first().and_then(|c| c.requires_python.clone()));
            out.push(VersionInfo {
                version: version.clone(),
                requires_python,
                yanked,
            });
        }
        Ok(out)
    }

    /// The metadata of `name==version`: from the index when it has it, else from the sdist's
    /// static PKG-INFO, else by building.
    pub async fn metadata(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
    ) -> Result<Arc<Metadata>, Arc<FetchError>> {
        let key = (name.clone(), version.clone());
        let cell = Self::shared(&self.metadata, &key);
        let metadata = cell
            .get_or_init(|| async { self.fetch_metadata(name, version).await.map(Arc::new) })
            .await
            .clone();
        // Before anyone looks the dependencies up (the prefetcher does right after this).
        if let Ok(metadata) = &metadata {
            self.inherit(name, metadata);
        }
        metadata
    }

    /// The metadata of the file plonk would install, from the metadata cache when an earlier
    /// run already read it (keyed by the file's sha256), else fetched and then stored.
    async fn fetch_metadata(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
    ) -> Result<Metadata, Arc<FetchError>> {
        let candidates = self.candidates(name).await?;
        let file = self
            .best_file(&candidates, version)
            .cloned()
            .ok_or_else(|| Arc::new(FetchError::NoFile(format!("{name}=={version}"))))?;
        let stored_at = metadata_cache_path(&self.cache, &file);
        if let Some(md) = stored_metadata(stored_at.clone(), name, version).await {
            return Ok(md);
        }
        let metadata = self.fetch_file_metadata(name, version, &file).await?;
        if let Some(path) = stored_at {
            store_metadata(path, &metadata).await;
        }
        Ok(metadata)
    }

    async fn fetch_file_metadata(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
        file: &Candidate,
    ) -> Result<Metadata, Arc<FetchError>> {
        let file = file.clone();
        match self.registry_for(name).metadata(&file).await {
            Ok(Some(metadata)) => return Ok(metadata),
            Ok(None) => {}
            // The index's metadata endpoint failing is not fatal: the file itself has it.
            Err(err) => self.reporter.detail(&format!(
                "metadata of {name}=={version} from the index: {err}"
            )),
        }
        match &file.filename {
            DistFilename::Sdist(_) => {
                let sdist = self.sdist(&file).await?;
                let sdist2 = sdist.clone();
                let static_md =
                    tokio::task::spawn_blocking(move || build::read_sdist_metadata(&sdist2))
                        .await
                        .map_err(|e| Arc::new(FetchError::Join(e.to_string())))?
                        .map_err(|e| Arc::new(FetchError::Build(e)))?;
                if let Some(md) = static_md {
                    return Ok(md);
                }
                let wheel = self.wheel(name, version).await?;
                read_wheel_metadata(wheel.path).await
            }
            DistFilename::Wheel(_) => {
                let wheel = self.wheel(name, version).await?;
                read_wheel_metadata(wheel.path).await
            }
        }
    }

    /// Downloads (or finds in the cache) the sdist of a candidate.
    async fn sdist(&self, file: &Candidate) -> Result<PathBuf, Arc<FetchError>> {
        self.download(file, "archives-v1").await
    }

    /// Downloads a file into a content-addressed cache bucket, or reuses it; once per run
    /// and file, across nested fetchers too.
    pub async fn download(
        &self,
        file: &Candidate,
        bucket: &str,
    ) -> Result<PathBuf, Arc<FetchError>> {
        let key = format!("{bucket} {}", file.url);
        let cell = Self::shared(&self.downloads, &key);
        cell.get_or_init(|| self.download_uncached(file, bucket))
            .await
            .clone()
    }

    async fn download_uncached(
        &self,
        file: &Candidate,
        bucket: &str,
    ) -> Result<PathBuf, Arc<FetchError>> {
        let key = match &file.sha256 {
            Some(sha) => sha.clone(),
            None => crate::cache::cache_key(&[file.url.as_str().as_bytes()]),
        };
        let label = file.filename.to_string();
        let dir = self.cache.bucket(bucket).join(&key);
        // A hash-named folder only ever holds verified content (download renames into place).
        if file.sha256.is_some()
            && let Some(existing) = find_file_in(&dir, |_| true)
        {
            return Ok(existing);
        }
        tokio::fs::create_dir_all(&dir).await.map_err(|source| {
            Arc::new(FetchError::Io {
                path: dir.clone(),
                source,
            })
        })?;
        let reporter = self.progress_reporter();
        let progress = reporter.start(ProgressKind::Download, &label, file.size);
        let started = Instant::now();
        let shown = Arc::clone(&reporter);
        let last = std::sync::atomic::AtomicU64::new(0);
        let on_bytes = move |total: u64| {
            let before = last.swap(total, Ordering::Relaxed);
            shown.advance(progress, total.saturating_sub(before));
        };
        let result = self
            .registry_for(&file.name)
            .download_with_progress(file, &dir, Some(&on_bytes))
            .await;
        reporter.finish(progress);
        let path = result.map_err(|source| Arc::new(FetchError::Registry(source)))?;
        self.stats.downloaded.fetch_add(1, Ordering::Relaxed);
        self.stats
            .download_micros
            .fetch_add(started.elapsed().as_micros() as usize, Ordering::Relaxed);
        Ok(path)
    }

    /// A wheel of `name==version` for the target: downloaded, or built from the sdist (built
    /// wheels are cached by the sdist's sha256, so nothing is built twice).
    pub async fn wheel(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
    ) -> Result<WheelReady, Arc<FetchError>> {
        let key = (name.clone(), version.clone());
        let cell = Self::shared(&self.wheels, &key);
        cell.get_or_init(|| async { self.fetch_wheel(name, version).await })
            .await
            .clone()
    }

    async fn fetch_wheel(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
    ) -> Result<WheelReady, Arc<FetchError>> {
        let candidates = self.candidates(name).await?;
        let file = self
            .best_file(&candidates, version)
            .cloned()
            .ok_or_else(|| Arc::new(FetchError::NoFile(format!("{name}=={version}"))))?;
        match &file.filename {
            DistFilename::Wheel(_) => {
                let path = self.download(&file, "wheels-v1").await?;
                let unpacked = self.unpack(&path, file.sha256.as_deref()).await;
                Ok(WheelReady {
                    path,
                    built: false,
                    origin: Some(file),
                    unpacked,
                })
            }
            DistFilename::Sdist(_) => {
                let sdist = self.sdist(&file).await?;
                // The sdist in the cache was checked against this hash when downloaded.
                let sha = file
                    .sha256
                    .as_deref()
                    .filter(|sha| sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()));
                let path = self
                    .build_sdist_with_sha(name, version, &sdist, sha)
                    .await?;
                // Built wheels never change once in the built-wheel cache: their path (with
                // size and mtime, should it be rebuilt) names them without hashing them.
                let key = std::fs::metadata(&path).ok().map(|meta| {
                    let mtime = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    crate::cache::cache_key(&[
                        b"built",
                        path.to_string_lossy().as_bytes(),
                        &meta.len().to_le_bytes(),
                        &mtime.to_le_bytes(),
                    ])
                });
                let unpacked = self.unpack(&path, key.as_deref()).await;
                Ok(WheelReady {
                    path,
                    built: true,
                    origin: Some(file),
                    unpacked,
                })
            }
        }
    }

    /// A wheel plonk made or found itself (git checkouts, single files, local paths), made
    /// ready like the others: unpacked into the cache for linking.
    pub async fn local_wheel(&self, path: &Path) -> WheelReady {
        WheelReady {
            path: path.to_path_buf(),
            built: false,
            origin: None,
            unpacked: self.unpack(path, None).await,
        }
    }

    /// The verified unpacked copy of `wheel` in the cache (made now if missing), keyed by
    /// `key` (its sha256 or another name of its exact bytes), else by its sha256 hashed here. Runs on the blocking pool, so the wheels of one
    /// install unpack in parallel, before the environment is locked. `None` on any failure:
    /// the install then works from the archive and reports the real error, if any.
    async fn unpack(&self, wheel: &Path, key: Option<&str>) -> Option<UnpackedWheel> {
        let Some(key) = key else {
            return self.unpack_uncached(wheel, None).await;
        };
        let cell = {
            let mut map = lock_map(&self.unpacks);
            Arc::clone(map.entry(key.to_string()).or_default())
        };
        cell.get_or_init(|| self.unpack_uncached(wheel, Some(key)))
            .await
            .clone()
    }

    async fn unpack_uncached(&self, wheel: &Path, key: Option<&str>) -> Option<UnpackedWheel> {
        let bucket = self.cache.bucket(crate::cache::UNPACKED_BUCKET);
        let wheel = wheel.to_path_buf();
        let key = key.map(str::to_string);
        let env_root = self.interpreter.sys_prefix.clone();
        let links = Arc::clone(&self.links);
        let reporter = Arc::clone(&self.reporter);
        let result = tokio::task::spawn_blocking(move || {
            let key = match key {
                Some(key) => key,
                None => crate::dist::sha256_hex(&std::fs::read(&wheel).ok()?),
            };
            let unpacked = crate::install::unpack_cached(&wheel, &bucket, &key);
            links.get_or_init(|| {
                let possible = crate::install::links_possible(&bucket, &env_root);
                if !possible {
                    reporter.info(&format!(
                        "the cache ({}) cannot be hard-linked into {} (another filesystem?): files are copied instead",
                        bucket.display(),
                        env_root.display()
                    ));
                }
                possible
            });
            match unpacked {
                Ok(unpacked) => Some(unpacked),
                Err(err) => {
                    reporter.detail(&format!("could not unpack {} into the cache: {err}", wheel.display()));
                    None
                }
            }
        })
        .await;
        result.ok().flatten()
    }

    /// Builds a wheel from a local sdist, reusing a wheel built earlier from the same bytes.
    pub async fn build_sdist(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
        sdist: &Path,
    ) -> Result<PathBuf, Arc<FetchError>> {
        self.build_sdist_with_sha(name, version, sdist, None).await
    }

    /// [`Fetcher::build_sdist`] for an sdist whose sha256 is already known (a download
    /// verified against the index's hash), which spares reading and hashing it again.
    async fn build_sdist_with_sha(
        self: &Arc<Self>,
        name: &PackageName,
        version: &Version,
        sdist: &Path,
        sha256: Option<&str>,
    ) -> Result<PathBuf, Arc<FetchError>> {
        let sdist = sdist.to_path_buf();
        let bytes_sha = if let Some(sha) = sha256 {
            sha.to_ascii_lowercase()
        } else {
            let p = sdist.clone();
            tokio::task::spawn_blocking(move || {
                std::fs::read(&p).map(|b| crate::dist::sha256_hex(&b))
            })
            .await
            .map_err(|e| Arc::new(FetchError::Join(e.to_string())))?
            .map_err(|source| {
                Arc::new(FetchError::Io {
                    path: sdist.clone(),
                    source,
                })
            })?
        };
        self.build_project(
            &format!("{name}=={version}"),
            Some(&bytes_sha),
            ProjectInput::Sdist(sdist),
        )
        .await
    }

    /// Builds a wheel from a project folder (a git checkout, a local path). With `key` (a
    /// commit id), the wheel is cached under it; without, it is built every time.
    pub async fn build_dir(
        self: &Arc<Self>,
        label: &str,
        key: Option<&str>,
        dir: &Path,
    ) -> Result<PathBuf, Arc<FetchError>> {
        self.build_project(label, key, ProjectInput::Dir(dir.to_path_buf()))
            .await
    }

    async fn build_project(
        self: &Arc<Self>,
        label: &str,
        key: Option<&str>,
        input: ProjectInput,
    ) -> Result<PathBuf, Arc<FetchError>> {
        let out_dir = match key {
            Some(key) => self.built_dir(key),
            None => self
                .cache
                .bucket("built-v1")
                .join("uncached")
                .join(crate::cache::cache_key(&[
                    label.as_bytes(),
                    format!("{:?}", Instant::now()).as_bytes(),
                ])),
        };
        if key.is_some()
            && let Some(existing) = find_wheel_in(&out_dir)
        {
            return Ok(existing);
        }
        if self.depth >= MAX_BUILD_DEPTH {
            return Err(Arc::new(FetchError::BuildDepth(label.to_string())));
        }
        let reporter = self.progress_reporter();
        let progress = reporter.start(ProgressKind::Build, label, None);
        let started = Instant::now();
        let this = Arc::clone(self);
        let base_python = self.interpreter.base_executable.clone();
        // The real interpreter (a mirror's target may describe another platform).
        let interpreter = self.interpreter.as_queried().ok();
        let abandoned = Arc::clone(&self.abandoned);
        let cache = self.cache.clone();
        let label = label.to_string();
        let result = tokio::task::spawn_blocking(move || -> Result<PathBuf, FetchError> {
            let work = cache
                .tempdir_in("build-work-v1")
                .map_err(FetchError::Cache)?;
            let project = match &input {
                ProjectInput::Sdist(sdist) => {
                    build::unpack_sdist(sdist, work.path()).map_err(FetchError::Build)?
                }
                ProjectInput::Dir(dir) => dir.clone(),
            };
            let staging = work.path().join("out");
            std::fs::create_dir_all(&staging).map_err(|source| FetchError::Io {
                path: staging.clone(),
                source,
            })?;
            // Pure-Python hatchling / uv_build projects with a static configuration are built
            // in Rust (identical wheels, no Python start-up, no build environment); the rest
            // through PEP 517.
            let wheel = match build::native::try_build_wheel(&project, &staging)
                .map_err(FetchError::Build)?
            {
                Some(wheel) => wheel,
                None => {
                    let env = NestedBuildEnv { fetcher: this };
                    // The target's interpreter runs the build: no second query of it.
                    let options = build::BuildOptions {
                        interpreter,
                        cancel: Some(abandoned),
                        ..Default::default()
                    };
                    build::Pep517Build::new(&project, &base_python, &env, Some(&cache), options)
                        .and_then(|build| build.build_wheel(&staging))
                        .map_err(FetchError::Build)?
                }
            };
            // Stage, then rename into the content-addressed folder.
            std::fs::create_dir_all(&out_dir).map_err(|source| FetchError::Io {
                path: out_dir.clone(),
                source,
            })?;
            let file_name = wheel
                .file_name()
                .map(|f| f.to_os_string())
                .ok_or_else(|| FetchError::NoFile(label.clone()))?;
            let target = out_dir.join(file_name);
            std::fs::rename(&wheel, &target)
                .or_else(|_| std::fs::copy(&wheel, &target).map(|_| ()))
                .map_err(|source| FetchError::Io {
                    path: target.clone(),
                    source,
                })?;
            Ok(target)
        })
        .await;
        reporter.finish(progress);
        let path = result
            .map_err(|e| Arc::new(FetchError::Join(e.to_string())))?
            .map_err(Arc::new)?;
        self.stats.built.fetch_add(1, Ordering::Relaxed);
        self.stats
            .build_micros
            .fetch_add(started.elapsed().as_micros() as usize, Ordering::Relaxed);
        Ok(path)
    }

    /// Where the wheel built from the source `key` names (an sdist's sha256, a commit) is
    /// cached for this target.
    fn built_dir(&self, key: &str) -> PathBuf {
        let tags_key = self
            .interpreter
            .tags
            .iter()
            .next()
            .map(|(p, a, pl)| format!("{p}-{a}-{pl}"))
            .unwrap_or_default();
        self.cache
            .bucket("built-v1")
            .join(key)
            .join(crate::cache::cache_key(&[tags_key.as_bytes()]))
    }

    /// A fetcher one build level deeper, sharing nothing mutable with this one but the disk
    /// cache (build environments resolve on their own).
    fn nested(&self) -> Arc<Fetcher> {
        Arc::new(Fetcher {
            handle: self.handle.clone(),
            registry: Arc::clone(&self.registry),
            overrides: self.overrides.clone(),
            inherited: Mutex::new(lock_map(&self.inherited).clone()),
            cache: self.cache.clone(),
            interpreter: self.interpreter.clone(),
            reporter: Arc::clone(&self.reporter),
            candidates: Mutex::new(
                self.candidates
                    .lock()
                    .map(|m| m.clone())
                    .unwrap_or_default(),
            ),
            // Finished answers only: one still being made may be waiting on a build, and a
            // build environment that waited on it could be waiting on itself.
            metadata: Mutex::new(finished(&self.metadata)),
            wheels: Mutex::default(),
            downloads: Arc::clone(&self.downloads),
            unpacks: Arc::clone(&self.unpacks),
            abandoned: Arc::clone(&self.abandoned),
            depth: self.depth + 1,
            prefetched: Mutex::default(),
            picks: Mutex::default(),
            speculate: false,
            prefetch_slots: tokio::sync::Semaphore::new(PREFETCH_CONCURRENCY),
            no_metadata_prefetch: Default::default(),
            links: Arc::clone(&self.links),
            stats: FetchStats::default(),
        })
    }
}

/// The versions a requirement allows, when it names them (not a URL).
fn allowed_versions(requirement: &Requirement) -> Option<VersionSpecifiers> {
    match &requirement.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers.clone()),
        _ => None,
    }
}

/// The entries of a memo whose answer is already known.
fn finished<K: std::hash::Hash + Eq + Clone, T>(memo: &Memo<K, T>) -> HashMap<K, Shared<T>> {
    lock_map(memo)
        .iter()
        .filter(|(_, cell)| cell.initialized())
        .map(|(key, cell)| (key.clone(), Arc::clone(cell)))
        .collect()
}

/// A file-name filter keeping sdists and every wheel whose tags `tags` supports (and any
/// name it cannot read, left to the full parser), without building a `WheelFilename`.
fn installable_filter(tags: &crate::dist::Tags) -> crate::registry::FileFilter {
    let mut supported: HashMap<String, HashMap<String, std::collections::HashSet<String>>> =
        HashMap::new();
    for (py, abi, platform) in tags.iter() {
        supported
            .entry(py.clone())
            .or_default()
            .entry(abi.clone())
            .or_default()
            .insert(platform.clone());
    }
    Arc::new(move |filename: &str| {
        let Some(stem) = filename.strip_suffix(".whl") else {
            return true;
        };
        let mut parts = stem.rsplitn(4, '-');
        let (Some(platforms), Some(abis), Some(pythons), Some(_)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return true;
        };
        pythons.split('.').any(|py| {
            supported.get(py).is_some_and(|by_abi| {
                abis.split('.').any(|abi| {
                    by_abi
                        .get(abi)
                        .is_some_and(|plats| platforms.split('.').any(|p| plats.contains(p)))
                })
            })
        })
    })
}

/// Where the metadata of an index file is cached: by its sha256, else by its URL for remote
/// files; local files without a hash can change under the same path and are not cached.
fn metadata_cache_path(cache: &Cache, file: &Candidate) -> Option<PathBuf> {
    let key = match &file.sha256 {
        Some(sha) if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
            sha.to_ascii_lowercase()
        }
        Some(_) => return None,
        None if file.url.scheme() == "file" => return None,
        None => crate::cache::cache_key(&[b"url", file.url.as_str().as_bytes()]),
    };
    Some(cache.bucket(crate::cache::METADATA_BUCKET).join(key))
}

/// A cached metadata file, parsed; `None` when missing or unreadable (then refetched).
/// The metadata of `name==version` from the metadata cache entry at `path`, if any. A file of
/// another name or version under this key would be a broken entry: ignored.
async fn stored_metadata(
    path: Option<PathBuf>,
    name: &PackageName,
    version: &Version,
) -> Option<Metadata> {
    let path = path?;
    tokio::task::spawn_blocking(move || read_cached_metadata(&path))
        .await
        .ok()
        .flatten()
        .filter(|md| &md.name == name && &md.version == version)
}

/// Writes `metadata` to the metadata cache at `path`; a cache that cannot be written only
/// costs the next run a request.
async fn store_metadata(path: PathBuf, metadata: &Metadata) {
    let bytes = metadata_to_bytes(metadata);
    let _ = tokio::task::spawn_blocking(move || crate::cache::write_atomic(&path, &bytes)).await;
}

fn read_cached_metadata(path: &Path) -> Option<Metadata> {
    let bytes = std::fs::read(path).ok()?;
    Metadata::parse(&bytes).ok()
}

/// The fields of `metadata` that resolution and display use, as a METADATA file that
/// [`Metadata::parse`] reads back to the same values (the long description and license are
/// left out: they are large and nothing downstream of the fetcher reads them).
pub fn metadata_to_bytes(metadata: &Metadata) -> Vec<u8> {
    use std::fmt::Write as _;
    fn line(out: &mut String, key: &str, value: &str) {
        // Folded lines would need continuation rules; a cache entry needs none.
        let value = value.replace(['\r', '\n'], " ");
        let _ = writeln!(out, "{key}: {value}");
    }
    let mut out = String::new();
    line(&mut out, "Metadata-Version", &metadata.metadata_version);
    line(&mut out, "Name", metadata.name.as_ref());
    line(&mut out, "Version", &metadata.version.to_string());
    let optional = [
        ("Summary", &metadata.summary),
        ("Author", &metadata.author),
        ("Author-email", &metadata.author_email),
        ("Maintainer", &metadata.maintainer),
        ("Maintainer-email", &metadata.maintainer_email),
        ("Home-page", &metadata.home_page),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            line(&mut out, key, value);
        }
    }
    if let Some(spec) = &metadata.requires_python {
        line(&mut out, "Requires-Python", &spec.to_string());
    }
    for requirement in &metadata.requires_dist {
        line(&mut out, "Requires-Dist", &requirement.to_string());
    }
    for extra in &metadata.provides_extra {
        line(&mut out, "Provides-Extra", extra.as_ref());
    }
    for field in &metadata.dynamic {
        line(&mut out, "Dynamic", field);
    }
    for classifier in &metadata.classifiers {
        line(&mut out, "Classifier", classifier);
    }
    for (label, url) in &metadata.project_urls {
        line(&mut out, "Project-URL", &format!("{label}, {url}"));
    }
    out.into_bytes()
}

/// A locked map, whatever a panicking holder left in it.
fn lock_map<K, V>(map: &Mutex<HashMap<K, V>>) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
    map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn read_wheel_metadata(path: PathBuf) -> Result<Metadata, Arc<FetchError>> {
    tokio::task::spawn_blocking(move || build::read_wheel_metadata(&path))
        .await
        .map_err(|e| Arc::new(FetchError::Join(e.to_string())))?
        .map_err(|e| Arc::new(FetchError::Build(e)))
}

/// The first finished file in a cache folder (temp files start with a dot).
fn find_file_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                && keep(p)
        })
}

fn find_wheel_in(dir: &Path) -> Option<PathBuf> {
    find_file_in(dir, |p| p.extension().is_some_and(|x| x == "whl"))
}

/// What a build starts from.
enum ProjectInput {
    /// An sdist archive, unpacked into the build's work folder.
    Sdist(PathBuf),
    /// A project folder, built in place.
    Dir(PathBuf),
}

/// The resolver's view of a [`Fetcher`] plus the target environment's installed
/// distributions (whose metadata is read from disk, not fetched).
pub struct Provider {
    /// The fetcher.
    pub fetcher: Arc<Fetcher>,
    /// Installed distributions by name.
    pub installed: HashMap<PackageName, InstalledDist>,
    /// Packages whose dependencies are ignored (`--no-deps`).
    pub no_deps: bool,
    /// Distributions whose metadata the caller already knows (URL, git and single-file
    /// sources), by name and version.
    pub known: HashMap<PackageName, Metadata>,
    /// Installed packages offered at their installed version only, without asking the index:
    /// the fast first attempt of a resolution (most installs change none of them). When it
    /// fails, the caller resolves again with this empty.
    pub installed_only: std::collections::HashSet<PackageName>,
}

impl MetadataProvider for Provider {
    fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, ProviderError> {
        if let Some(md) = self.known.get(name) {
            return Ok(vec![VersionInfo {
                version: md.version.clone(),
                requires_python: None,
                yanked: false,
            }]);
        }
        if self.installed_only.contains(name)
            && let Some(dist) = self.installed.get(name)
        {
            return Ok(vec![VersionInfo {
                version: dist.version.clone(),
                requires_python: None,
                yanked: false,
            }]);
        }
        let fetched = self.fetcher.handle.block_on(self.fetcher.versions(name));
        // Asked for its versions, the resolver will pick one soon: fetch the likely pick's
        // metadata now. (Requirements prefetch their names as they are read, but not those
        // behind an extra, nor the dependencies of packages read from the environment.)
        self.fetcher.prefetch(name);
        match fetched {
            // Files exist, but none installs here (wheels for other platforms or Pythons):
            // say that rather than "not found".
            Ok(versions) if versions.is_empty() && !self.installed.contains_key(name) => {
                let files = self
                    .fetcher
                    .handle
                    .block_on(self.fetcher.candidates(name))
                    .unwrap_or_default();
                // The fetcher's registry drops files the target cannot install as it reads
                // the page: those are the ones to name.
                let example = files
                    .first()
                    .map(|f| (files.len(), f.filename.to_string()))
                    .or_else(|| self.fetcher.registry_for(name).dropped_files(name));
                match example {
                    Some((count, example)) => Err(ProviderError::new(
                        name.clone(),
                        SharedError(Arc::new(FetchError::NoCompatibleFile {
                            name: name.to_string(),
                            count,
                            example,
                            python: self.fetcher.interpreter.python_full_version.to_string(),
                        })),
                    )),
                    None => Ok(versions),
                }
            }
            Ok(mut versions) => {
                // The installed version is always a candidate, even if the index lost it.
                if let Some(dist) = self.installed.get(name)
                    && !versions.iter().any(|v| v.version == dist.version)
                {
                    versions.push(VersionInfo {
                        version: dist.version.clone(),
                        requires_python: None,
                        yanked: false,
                    });
                }
                Ok(versions)
            }
            Err(err) => match (&*err, self.installed.get(name)) {
                // An installed package missing from the index stays as it is.
                (FetchError::Registry(crate::registry::RegistryError::NotFound(_)), Some(dist)) => {
                    Ok(vec![VersionInfo {
                        version: dist.version.clone(),
                        requires_python: None,
                        yanked: false,
                    }])
                }
                (FetchError::Registry(crate::registry::RegistryError::NotFound(_)), None) => {
                    Ok(Vec::new())
                }
                _ => Err(ProviderError::new(name.clone(), SharedError(err))),
            },
        }
    }

    fn requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        if self.no_deps {
            return Ok(Vec::new());
        }
        if let Some(md) = self.known.get(name)
            && &md.version == version
        {
            self.fetcher.inherit(name, md);
            return Ok(md.requires_dist.clone());
        }
        if let Some(dist) = self.installed.get(name)
            && &dist.version == version
            && let Ok(md) = dist.metadata()
        {
            return Ok(md.requires_dist);
        }
        self.fetcher.picked(name, version);
        let md = self
            .fetcher
            .handle
            .block_on(self.fetcher.metadata(name, version))
            .map_err(|err| ProviderError::new(name.clone(), SharedError(err)))?;
        // Fetch ahead: the resolver will ask for these next. Only requirements whose markers
        // hold for the target: the others are never asked for, and looking them up costs a
        // request each (and a 404 for names like `onlyold; python_version < "3"`). Extras are
        // left out here; the resolver asks for their requirements when an extra is wanted.
        // Packages kept at their installed version (Tutor, above all) are never looked up:
        // a stale page of theirs would cost a TLS handshake and a request for nothing.
        let markers = &self.fetcher.interpreter.markers;
        for req in &md.requires_dist {
            if req.evaluate_markers(markers, &[])
                && !self.installed_only.contains(&req.name)
                && !self.known.contains_key(&req.name)
            {
                self.fetcher.prefetch_requirement(req);
            }
        }
        Ok(md.requires_dist.clone())
    }
}

/// An `Arc<FetchError>` as a standalone error (errors shared between waiters).
#[derive(Debug)]
pub struct SharedError(pub Arc<FetchError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Calls [`Fetcher::abandon`] when dropped: at the end of a command, on every way out.
pub struct AbandonOnDrop(pub Arc<Fetcher>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// The build step's [`BuildEnv`]: resolves build requirements with plonk's own resolver and
/// installs them with plonk's own installer (pip is never used).
struct NestedBuildEnv {
    fetcher: Arc<Fetcher>,
}

impl BuildEnv for NestedBuildEnv {
    fn install(
        &self,
        env: &PythonEnvironment,
        requirements: &[Requirement],
    ) -> Result<(), build::BoxError> {
        if requirements.is_empty() {
            return Ok(());
        }
        let fetcher = self.fetcher.nested();
        let provider = Provider {
            fetcher: Arc::clone(&fetcher),
            installed: HashMap::new(),
            no_deps: false,
            known: HashMap::new(),
            installed_only: Default::default(),
        };
        let request = resolve::ResolveRequest {
            requirements: requirements.to_vec(),
            installed: Vec::new(),
            fixed: Vec::new(),
            upgrade: resolve::Upgrade::None,
            markers: env.interpreter.markers.clone(),
            python_version: env.interpreter.python_full_version.clone(),
            pre_releases: false,
        };
        for req in requirements {
            fetcher.prefetch_requirement(req);
        }
        let resolution = resolve::resolve(&request, &provider)?;
        let handle = fetcher.handle.clone();
        let wheels = handle.block_on(async {
            let futures = resolution
                .packages
                .iter()
                .map(|(name, pkg)| fetcher.wheel(name, &pkg.version));
            futures::future::join_all(futures).await
        });
        let options = crate::install::InstallOptions {
            requested: false,
            direct_url: None,
            compile: false,
            installer: "plonk".to_string(),
        };
        for wheel in wheels {
            let wheel = wheel.map_err(SharedError)?;
            crate::install::install_wheel_prepared(
                &wheel.path,
                wheel.unpacked.as_ref(),
                env,
                &options,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn candidate(url: &str, sha256: Option<&str>) -> Candidate {
        let name = PackageName::from_str("demo").unwrap();
        Candidate {
            name: name.clone(),
            version: Version::from_str("1.0").unwrap(),
            filename: DistFilename::parse("demo-1.0-py3-none-any.whl", Some(&name)).unwrap(),
            url: url::Url::parse(url).unwrap(),
            sha256: sha256.map(str::to_string),
            requires_python: None,
            yanked: false,
            size: None,
            index: url::Url::parse("https://h/simple/").unwrap(),
        }
    }

    #[test]
    fn cached_metadata_reads_back_the_same() {
        let text = "Metadata-Version: 2.3\nName: Demo_Pkg\nVersion: 1.0.post1\n\
            Summary: A demo\nAuthor: Ann\nAuthor-email: ann@example.org\n\
            Home-page: https://example.org\nRequires-Python: >=3.9,<4\n\
            Requires-Dist: tutor<23,>=22.0.0\n\
            Requires-Dist: click[extra]>=8; python_version >= \"3.10\" and extra == \"cli\"\n\
            Requires-Dist: pkg @ https://example.org/pkg-1.0.tar.gz\n\
            Provides-Extra: cli\nDynamic: Requires-Dist\nClassifier: Framework :: Tutor\n\
            Project-URL: Source, https://example.org/src\nLicense: MIT\n\nLong\ndescription\n";
        let original = Metadata::parse(text.as_bytes()).unwrap();
        let back = Metadata::parse(&metadata_to_bytes(&original)).unwrap();
        assert_eq!(
            back,
            Metadata {
                license: None,
                description: None,
                ..original.clone()
            }
        );
        // Metadata from a JSON API (no Metadata-Version) and free text with newlines.
        let mut json = Metadata::new(original.name.clone(), original.version.clone());
        json.summary = Some("two\nlines".into());
        json.requires_dist = original.requires_dist.clone();
        let back = Metadata::parse(&metadata_to_bytes(&json)).unwrap();
        assert_eq!(back.summary.as_deref(), Some("two lines"));
        assert_eq!(back.metadata_version, "");
        assert_eq!(back.requires_dist, json.requires_dist);
    }

    #[test]
    fn installable_filter_matches_tags() {
        let tags = crate::dist::Tags::new(vec![
            (
                "cp311".into(),
                "cp311".into(),
                "manylinux_2_17_x86_64".into(),
            ),
            (
                "cp311".into(),
                "abi3".into(),
                "manylinux_2_17_x86_64".into(),
            ),
            ("py3".into(), "none".into(), "any".into()),
        ]);
        let keep = installable_filter(&tags);
        let rows = [
            ("demo-1.0.tar.gz", true),
            ("demo-1.0.zip", true),
            ("demo-1.0-py3-none-any.whl", true),
            ("demo-1.0-py2.py3-none-any.whl", true),
            ("demo-1.0-1build-py3-none-any.whl", true),
            (
                "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                true,
            ),
            ("demo-1.0-cp37-abi3-manylinux_2_17_x86_64.whl", false),
            ("demo-1.0-cp311-abi3-manylinux_2_17_x86_64.whl", true),
            ("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", false),
            ("demo-1.0-cp311-cp311-win_amd64.whl", false),
            ("demo-1.0-py2-none-any.whl", false),
            // Unreadable names are left to the full parser, which refuses them.
            ("garbage.whl", true),
            ("a-b.whl", true),
            ("", true),
        ];
        for (filename, expected) in rows {
            let wheel = crate::dist::WheelFilename::from_str(filename).ok();
            if let Some(wheel) = wheel.filter(|_| expected || filename.ends_with(".whl")) {
                // Agrees with the full check wherever the name parses.
                assert_eq!(keep(filename), tags.is_compatible(&wheel), "{filename}");
            }
            assert_eq!(keep(filename), expected, "{filename}");
        }
    }

    #[test]
    fn metadata_cache_keys() {
        let cache = Cache::new("/c");
        let sha = "AB".repeat(32);
        let rows = [
            (
                candidate("https://h/demo.whl", Some(&sha)),
                Some(format!("/c/metadata-v1/{}", sha.to_lowercase())),
            ),
            (candidate("https://h/demo.whl", Some("../../x")), None),
            (candidate("https://h/demo.whl", Some("")), None),
            (candidate("file:///tmp/demo.whl", None), None),
        ];
        for (file, expected) in rows {
            let path = metadata_cache_path(&cache, &file);
            assert_eq!(path, expected.map(PathBuf::from), "{:?}", file.sha256);
        }
        // Remote files without a hash are keyed by URL: distinct, inside the bucket.
        let a = metadata_cache_path(&cache, &candidate("https://h/a.whl", None)).unwrap();
        let b = metadata_cache_path(&cache, &candidate("https://h/b.whl", None)).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("/c/metadata-v1"));
        // Unreadable or garbage entries are misses.
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("entry");
        assert!(read_cached_metadata(&entry).is_none());
        std::fs::write(&entry, b"\xff\xfegarbage").unwrap();
        assert!(read_cached_metadata(&entry).is_none());
        std::fs::write(&entry, b"Name: x\n").unwrap();
        assert!(read_cached_metadata(&entry).is_none());
    }
}
