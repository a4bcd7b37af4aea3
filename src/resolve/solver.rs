//! The PubGrub [`DependencyProvider`] behind [`resolve`](super::resolve): package identities,
//! version choice (installed first, yanked / pre-release / Requires-Python rules), the
//! dependencies of each version, and turning PubGrub's answer into a [`Resolution`].

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use pep440_rs::{Operator, Version, VersionSpecifiers, release_specifiers_to_ranges};
use pep508_rs::{ExtraName, PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyProvider, PackageResolutionStatistics, PubGrubError, Ranges,
};

use super::error::{ProviderError, ResolveError};
use super::report;
use super::{
    MetadataProvider, Requester, Resolution, ResolveRequest, ResolvedPackage, VersionInfo,
};

/// A `name==version` key of the requirements cache.
type NameVersion = (PackageName, Version);

/// A version set of PubGrub.
pub(crate) type Range = Ranges<Version>;

/// A PubGrub package. Extras are packages of their own (as in uv): `Extra(n, e)` at `v`
/// depends on `Dist(n) == v` plus the requirements that only `e` activates, so a package's
/// extras always share its version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Pkg {
    /// The request itself, at version 0.
    Root,
    /// The target interpreter; only versions whose `Requires-Python` excludes it depend on it.
    Python,
    /// A distribution.
    Dist(PackageName),
    /// An extra of a distribution.
    Extra(PackageName, ExtraName),
}

impl Pkg {
    pub(crate) fn name(&self) -> Option<&PackageName> {
        match self {
            Self::Dist(name) | Self::Extra(name, _) => Some(name),
            Self::Root | Self::Python => None,
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("the requirements"),
            Self::Python => f.write_str("Python"),
            Self::Dist(name) => write!(f, "{name}"),
            Self::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// Why a version cannot be used although it exists (PubGrub's custom incompatibilities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// It depends on a direct URL for a package that was not pre-resolved.
    UrlDependency(PackageName),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UrlDependency(dep) => write!(
                f,
                "depends on `{dep}` through a direct URL, which plonk only accepts for packages you name"
            ),
        }
    }
}

/// What the requirements seen so far say about a package's versions.
#[derive(Debug, Default)]
struct Hints {
    /// Versions some requirement pins with `==`/`===` (allows them even when yanked).
    pins: HashSet<Version>,
    /// Some specifier names a pre-release, which allows pre-releases.
    mentions_pre: bool,
}

/// Where a dependency of the root comes from (for the explanation of a conflict).
#[derive(Debug, Default)]
pub(crate) struct RootOrigin {
    /// Named by a user requirement.
    pub(crate) user: bool,
    /// Fixed at this version.
    pub(crate) fixed: Option<Version>,
    /// Installed at this version.
    pub(crate) installed: Option<Version>,
}

/// The state PubGrub consults; caches everything the provider answered.
pub(crate) struct Solver<'a> {
    req: &'a ResolveRequest,
    provider: &'a dyn MetadataProvider,
    /// Release part of the target Python, the only version of [`Pkg::Python`].
    python: Version,
    fixed: HashMap<PackageName, Version>,
    installed: HashMap<PackageName, Version>,
    root_deps: Vec<(Pkg, Range)>,
    pub(crate) root_origins: HashMap<PackageName, RootOrigin>,
    versions: RefCell<HashMap<PackageName, Rc<[VersionInfo]>>>,
    requirements: RefCell<HashMap<NameVersion, Rc<[Requirement]>>>,
    hints: RefCell<HashMap<PackageName, Hints>>,
    /// The last version chosen for each distribution, preferred for its extras.
    last_choice: RefCell<HashMap<PackageName, Version>>,
    /// Errors met in `prioritize` (which cannot fail), returned by the next `choose_version`.
    pending_errors: RefCell<HashMap<PackageName, ProviderError>>,
}

impl<'a> Solver<'a> {
    /// Checks the request and computes the root's dependencies.
    pub(crate) fn new(
        req: &'a ResolveRequest,
        provider: &'a dyn MetadataProvider,
    ) -> Result<Self, ResolveError> {
        let fixed: HashMap<_, _> = req.fixed.iter().cloned().collect();
        let installed: HashMap<_, _> = req.installed.iter().cloned().collect();
        let mut solver = Self {
            req,
            provider,
            python: req.python_version.only_release(),
            fixed,
            installed,
            root_deps: Vec::new(),
            root_origins: HashMap::new(),
            versions: RefCell::default(),
            requirements: RefCell::default(),
            hints: RefCell::default(),
            last_choice: RefCell::default(),
            pending_errors: RefCell::default(),
        };
        solver.root_deps = solver.compute_root_deps()?;
        Ok(solver)
    }

    fn compute_root_deps(&mut self) -> Result<Vec<(Pkg, Range)>, ResolveError> {
        let mut deps: BTreeMap<Pkg, Range> = BTreeMap::new();
        // The user's specifiers per package, to name them when they contradict each other.
        let mut asked: BTreeMap<PackageName, Vec<String>> = BTreeMap::new();
        for requirement in &self.req.requirements {
            if !requirement.marker.evaluate(&self.req.markers, &[]) {
                continue;
            }
            let range = match self.requirement_range(requirement) {
                Ok(range) => range,
                Err(Unavailable::UrlDependency(package)) => {
                    return Err(ResolveError::UnresolvedUrl { package });
                }
            };
            let name = &requirement.name;
            self.root_origins.entry(name.clone()).or_default().user = true;
            asked
                .entry(name.clone())
                .or_default()
                .push(report::requirement_text(requirement));
            add_dep(&mut deps, Pkg::Dist(name.clone()), range.clone());
            for extra in &requirement.extras {
                add_dep(
                    &mut deps,
                    Pkg::Extra(name.clone(), extra.clone()),
                    range.clone(),
                );
            }
        }
        // Contradictory user requirements are reported before PubGrub sees an empty range.
        for (name, texts) in &asked {
            let Some(range) = deps.get(&Pkg::Dist(name.clone())) else {
                continue;
            };
            if range.is_empty() {
                let listed = report::join_and(texts);
                return Err(ResolveError::Conflict {
                    explanation: format!(
                        "You asked for {listed}, and no version of {name} satisfies them all."
                    ),
                });
            }
            if let Some(version) = self.fixed.get(name)
                && !range.contains(version)
            {
                return Err(ResolveError::Conflict {
                    explanation: format!(
                        "You asked for {} but {name} {version} is installed and {}.",
                        report::join_and(texts),
                        report::fixed_clause(name)
                    ),
                });
            }
        }
        for (name, version) in &self.req.installed {
            self.root_origins.entry(name.clone()).or_default().installed = Some(version.clone());
            add_dep(&mut deps, Pkg::Dist(name.clone()), Range::full());
        }
        for (name, version) in &self.req.fixed {
            self.root_origins.entry(name.clone()).or_default().fixed = Some(version.clone());
            add_dep(
                &mut deps,
                Pkg::Dist(name.clone()),
                Range::singleton(version.clone()),
            );
        }
        Ok(deps.into_iter().collect())
    }

    /// Runs PubGrub and builds the resolution.
    pub(crate) fn solve(&self) -> Result<Resolution, ResolveError> {
        let solution = match pubgrub::resolve(self, Pkg::Root, Version::new([0])) {
            Ok(solution) => solution,
            Err(PubGrubError::NoSolution(tree)) => {
                return Err(ResolveError::Conflict {
                    explanation: report::explain(tree, self),
                });
            }
            Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
            | Err(PubGrubError::ErrorChoosingVersion { source, .. })
            | Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(source.into()),
        };

        let mut packages: BTreeMap<PackageName, ResolvedPackage> = BTreeMap::new();
        let mut extras: Vec<(PackageName, ExtraName)> = Vec::new();
        for (pkg, version) in solution {
            match pkg {
                Pkg::Dist(name) => {
                    packages.insert(
                        name,
                        ResolvedPackage {
                            version,
                            extras: BTreeSet::new(),
                            required_by: BTreeSet::new(),
                        },
                    );
                }
                Pkg::Extra(name, extra) => extras.push((name, extra)),
                Pkg::Root | Pkg::Python => {}
            }
        }
        for (name, extra) in extras {
            if let Some(package) = packages.get_mut(&name) {
                package.extras.insert(extra);
            }
        }

        // Who requires whom, from the requirements that are active in the solution.
        let mut edges: Vec<(PackageName, Requester)> = Vec::new();
        for requirement in &self.req.requirements {
            if requirement.marker.evaluate(&self.req.markers, &[]) {
                edges.push((requirement.name.clone(), Requester::User));
            }
        }
        let cache = self.requirements.borrow();
        for (name, package) in &packages {
            let Some(requirements) = cache.get(&(name.clone(), package.version.clone())) else {
                continue;
            };
            let active_extras: Vec<ExtraName> = package.extras.iter().cloned().collect();
            for requirement in requirements.iter() {
                if &requirement.name == name {
                    continue;
                }
                let active = requirement.marker.evaluate(&self.req.markers, &[])
                    || active_extras.iter().any(|extra| {
                        requirement
                            .marker
                            .evaluate(&self.req.markers, std::slice::from_ref(extra))
                    });
                if active {
                    edges.push((requirement.name.clone(), Requester::Package(name.clone())));
                }
            }
        }
        drop(cache);
        for (name, requester) in edges {
            if let Some(package) = packages.get_mut(&name) {
                package.required_by.insert(requester);
            }
        }
        Ok(Resolution { packages })
    }

    /// The version range a requirement allows, noting pins and pre-release mentions.
    fn requirement_range(&self, requirement: &Requirement) -> Result<Range, Unavailable> {
        match &requirement.version_or_url {
            None => Ok(Range::full()),
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                self.note_specifiers(&requirement.name, specifiers);
                Ok(Range::from(specifiers.clone()))
            }
            // The caller resolved the URL and fixed the package at its version.
            Some(VersionOrUrl::Url(_)) if self.fixed.contains_key(&requirement.name) => {
                Ok(Range::full())
            }
            Some(VersionOrUrl::Url(_)) => Err(Unavailable::UrlDependency(requirement.name.clone())),
        }
    }

    fn note_specifiers(&self, name: &PackageName, specifiers: &VersionSpecifiers) {
        let mut hints = self.hints.borrow_mut();
        let hints = hints.entry(name.clone()).or_default();
        for specifier in specifiers.iter() {
            if specifier.version().any_prerelease() {
                hints.mentions_pre = true;
            }
            if matches!(specifier.operator(), Operator::Equal | Operator::ExactEqual) {
                hints.pins.insert(specifier.version().clone());
            }
        }
    }

    /// The known versions of `name`, sorted ascending; fixed and installed versions are
    /// always candidates, even when the indexes do not list them.
    pub(crate) fn versions(&self, name: &PackageName) -> Result<Rc<[VersionInfo]>, ProviderError> {
        if let Some(versions) = self.versions.borrow().get(name) {
            return Ok(Rc::clone(versions));
        }
        let mut list = if let Some(version) = self.fixed.get(name) {
            // A fixed package has exactly one candidate; the index is not even asked.
            vec![VersionInfo {
                version: version.clone(),
                requires_python: None,
                yanked: false,
            }]
        } else {
            self.provider.versions(name)?
        };
        list.sort_by(|a, b| a.version.cmp(&b.version));
        list.dedup_by(|a, b| a.version == b.version);
        if let Some(version) = self.installed.get(name)
            && !self.fixed.contains_key(name)
            && list
                .binary_search_by(|info| info.version.cmp(version))
                .is_err()
        {
            let at = list.partition_point(|info| &info.version < version);
            list.insert(
                at,
                VersionInfo {
                    version: version.clone(),
                    requires_python: None,
                    yanked: false,
                },
            );
        }
        let list: Rc<[VersionInfo]> = list.into();
        self.versions
            .borrow_mut()
            .insert(name.clone(), Rc::clone(&list));
        Ok(list)
    }

    /// Known versions without asking the provider (for explanations).
    pub(crate) fn cached_versions(&self, name: &PackageName) -> Option<Rc<[VersionInfo]>> {
        self.versions.borrow().get(name).cloned()
    }

    pub(crate) fn python_version(&self) -> &Version {
        &self.req.python_version
    }

    /// Whether pre-releases of `name` may be chosen.
    pub(crate) fn allows_pre(&self, name: &PackageName, versions: &[VersionInfo]) -> bool {
        self.req.pre_releases
            || self
                .hints
                .borrow()
                .get(name)
                .is_some_and(|hints| hints.mentions_pre)
            || versions
                .iter()
                .filter(|info| !info.yanked)
                .all(|info| info.version.any_prerelease())
    }

    /// Whether a yanked `version` of `name` is pinned with `==`.
    pub(crate) fn is_pinned(&self, name: &PackageName, version: &Version) -> bool {
        self.hints
            .borrow()
            .get(name)
            .is_some_and(|hints| hints.pins.contains(version))
    }

    /// The `Requires-Python` range of a version when it excludes the target Python.
    fn python_conflict(&self, name: &PackageName, info: &VersionInfo) -> Option<Range> {
        if self.installed.get(name) == Some(&info.version) {
            // It is installed and works there; do not second-guess it.
            return None;
        }
        let specifiers = info.requires_python.as_ref()?;
        let range = release_specifiers_to_ranges(specifiers.clone());
        (!range.contains(&self.python)).then_some(range)
    }

    fn choose_dist(
        &self,
        name: &PackageName,
        range: &Range,
    ) -> Result<Option<Version>, ProviderError> {
        if let Some(error) = self.pending_errors.borrow_mut().remove(name) {
            return Err(error);
        }
        if let Some(version) = self.fixed.get(name) {
            return Ok(range.contains(version).then(|| version.clone()));
        }
        if !self.req.upgrade.contains(name)
            && let Some(version) = self.installed.get(name)
            && range.contains(version)
        {
            return Ok(Some(version.clone()));
        }
        let versions = self.versions(name)?;
        let allows_pre = self.allows_pre(name, &versions);
        // The newest Python-incompatible version is returned only when nothing else fits,
        // so that the conflict's explanation names the Requires-Python.
        let mut fallback = None;
        for info in versions.iter().rev() {
            if !range.contains(&info.version) {
                continue;
            }
            let pinned = self.is_pinned(name, &info.version);
            if info.yanked && !pinned {
                continue;
            }
            if info.version.any_prerelease() && !allows_pre && !pinned {
                continue;
            }
            if self.python_conflict(name, info).is_none() {
                return Ok(Some(info.version.clone()));
            }
            fallback.get_or_insert_with(|| info.version.clone());
        }
        Ok(fallback)
    }

    fn cached_requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Rc<[Requirement]>, ProviderError> {
        let key = (name.clone(), version.clone());
        if let Some(requirements) = self.requirements.borrow().get(&key) {
            return Ok(Rc::clone(requirements));
        }
        let requirements: Rc<[Requirement]> = self.provider.requirements(name, version)?.into();
        self.requirements
            .borrow_mut()
            .insert(key, Rc::clone(&requirements));
        Ok(requirements)
    }

    /// Adds `requirement` (already known to be active) to `deps`, as a dependency of `owner`.
    fn add_requirement(
        &self,
        deps: &mut BTreeMap<Pkg, Range>,
        requirement: &Requirement,
        owner: &PackageName,
    ) -> Result<(), Unavailable> {
        let range = self.requirement_range(requirement)?;
        let name = &requirement.name;
        // A distribution depending on itself adds nothing (its extras still count).
        if name != owner {
            add_dep(deps, Pkg::Dist(name.clone()), range.clone());
        }
        for extra in &requirement.extras {
            add_dep(deps, Pkg::Extra(name.clone(), extra.clone()), range.clone());
        }
        Ok(())
    }

    fn dist_dependencies(
        &self,
        name: &PackageName,
        version: &Version,
        extra: Option<&ExtraName>,
    ) -> Result<Dependencies<Pkg, Range, Unavailable>, ProviderError> {
        let mut deps = BTreeMap::new();
        if extra.is_some() {
            // The extra lives and dies with its distribution at the same version.
            deps.insert(Pkg::Dist(name.clone()), Range::singleton(version.clone()));
        } else {
            let versions = self.versions(name)?;
            if let Ok(at) = versions.binary_search_by(|info| info.version.cmp(version))
                && let Some(range) = self.python_conflict(name, &versions[at])
            {
                // No need for its requirements: it cannot be installed on this Python.
                return Ok(Dependencies::Available(
                    [(Pkg::Python, range)].into_iter().collect(),
                ));
            }
        }
        let requirements = self.cached_requirements(name, version)?;
        let markers = &self.req.markers;
        for requirement in requirements.iter() {
            let active = match extra {
                None => requirement.marker.evaluate(markers, &[]),
                // Only what the extra adds; the base requirements come with `Dist`.
                Some(extra) => {
                    requirement
                        .marker
                        .evaluate(markers, std::slice::from_ref(extra))
                        && !requirement.marker.evaluate(markers, &[])
                }
            };
            if !active {
                continue;
            }
            if let Err(reason) = self.add_requirement(&mut deps, requirement, name) {
                return Ok(Dependencies::Unavailable(reason));
            }
        }
        // A package needing itself (`a[x]` inside the extra `x`) adds nothing.
        let itself = match extra {
            Some(extra) => Pkg::Extra(name.clone(), extra.clone()),
            None => Pkg::Dist(name.clone()),
        };
        deps.remove(&itself);
        Ok(Dependencies::Available(deps.into_iter().collect()))
    }
}

fn add_dep(deps: &mut BTreeMap<Pkg, Range>, pkg: Pkg, range: Range) {
    match deps.get_mut(&pkg) {
        Some(existing) => *existing = existing.intersection(&range),
        None => {
            deps.insert(pkg, range);
        }
    }
}

impl DependencyProvider for Solver<'_> {
    type P = Pkg;
    type V = Version;
    type VS = Range;
    type M = Unavailable;
    type Err = ProviderError;
    /// (kind, conflicts, named by the user, fewer candidates first): the root and Python
    /// first, then pinned packages, then distributions before their extras so that an extra
    /// can reuse its distribution's version. The user's own requirements are decided before
    /// the dependencies they bring: their metadata is fetched first, so the deep dependency
    /// chains of a plugin (and any walking down its versions) overlap the rest instead of
    /// waiting for the whole tree of the first package.
    type Priority = (u8, u32, bool, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Range,
        statistics: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let conflicts = statistics.conflict_count();
        let name = match package {
            Pkg::Root | Pkg::Python => return (5, conflicts, true, Reverse(0)),
            Pkg::Dist(name) | Pkg::Extra(name, _) => name,
        };
        if self.fixed.contains_key(name) || range.as_singleton().is_some() {
            let kind = if matches!(package, Pkg::Dist(_)) {
                4
            } else {
                3
            };
            return (kind, conflicts, true, Reverse(0));
        }
        let count = match self.versions(name) {
            Ok(versions) => versions
                .iter()
                .filter(|info| range.contains(&info.version))
                .count(),
            Err(error) => {
                self.pending_errors.borrow_mut().insert(name.clone(), error);
                // Decide it next, so the error surfaces right away.
                return (5, conflicts, true, Reverse(0));
            }
        };
        if count == 0 {
            // Fail fast on packages that have nothing to offer.
            return (4, conflicts, true, Reverse(0));
        }
        let kind = if matches!(package, Pkg::Dist(_)) {
            2
        } else {
            1
        };
        let named = self
            .root_origins
            .get(name)
            .is_some_and(|origin| origin.user);
        (kind, conflicts, named, Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Pkg,
        range: &Range,
    ) -> Result<Option<Version>, ProviderError> {
        match package {
            Pkg::Root => Ok(range
                .contains(&Version::new([0]))
                .then(|| Version::new([0]))),
            Pkg::Python => Ok(range.contains(&self.python).then(|| self.python.clone())),
            Pkg::Dist(name) => {
                let chosen = self.choose_dist(name, range)?;
                if let Some(version) = &chosen {
                    self.last_choice
                        .borrow_mut()
                        .insert(name.clone(), version.clone());
                }
                Ok(chosen)
            }
            Pkg::Extra(name, _) => {
                let last = self.last_choice.borrow().get(name).cloned();
                match last {
                    Some(version) if range.contains(&version) => Ok(Some(version)),
                    _ => self.choose_dist(name, range),
                }
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Range, Unavailable>, ProviderError> {
        match package {
            Pkg::Root => Ok(Dependencies::Available(
                self.root_deps.iter().cloned().collect(),
            )),
            Pkg::Python => Ok(Dependencies::Available(Vec::new().into_iter().collect())),
            Pkg::Dist(name) => self.dist_dependencies(name, version, None),
            Pkg::Extra(name, extra) => self.dist_dependencies(name, version, Some(extra)),
        }
    }
}
