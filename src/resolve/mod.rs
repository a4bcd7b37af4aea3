//! Dependency resolution: the user's requirements plus every distribution already in the
//! env become one pinned [`Resolution`], computed with PubGrub.
//!
//! The resolver never does I/O itself: it asks a [`MetadataProvider`] (implemented by ops on
//! top of the registry and the build stage) for the versions of a package and for the
//! requirements of one version. It runs on the calling thread; the caller puts it on its own.
//!
//! Semantics (SPEC "Installation semantics"): markers are evaluated for the target
//! environment, extras are separate PubGrub packages tied to their distribution's version,
//! `Requires-Python` is checked against the target interpreter, yanked versions are skipped
//! unless pinned with `==`, pre-releases only when requested, pinned or the only versions,
//! installed versions are preferred unless upgrading, and `fixed` packages (the installed
//! Tutor) never change. Conflicts are explained in plain sentences ([`ResolveError::Conflict`]).

mod error;
mod report;
mod solver;

use std::collections::{BTreeMap, BTreeSet};

use crate::dist::{
    ExtraName, MarkerEnvironment, PackageName, Requirement, Version, VersionSpecifiers,
};

pub use error::{BoxError, ProviderError, ResolveError};

/// Where the resolver gets package data; blocking (ops answers from its async side).
pub trait MetadataProvider {
    /// Every known version of `name` (one entry per version, any order). An empty list means
    /// the package does not exist in the configured indexes.
    fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, ProviderError>;

    /// The `Requires-Dist` of one version. Also asked for installed and fixed versions, whose
    /// metadata the provider reads from the env.
    fn requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError>;
}

/// One version of a package as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version.
    pub version: Version,
    /// `Requires-Python` of its files, if any.
    pub requires_python: Option<VersionSpecifiers>,
    /// Whether every file of this version is yanked.
    pub yanked: bool,
}

/// Which packages may move to their newest allowed version instead of staying put.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Upgrade {
    /// Installed versions are kept whenever allowed.
    #[default]
    None,
    /// Every package prefers its newest allowed version (fixed packages still never move).
    All,
    /// These packages prefer their newest allowed version.
    Packages(BTreeSet<PackageName>),
}

impl Upgrade {
    fn contains(&self, name: &PackageName) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Packages(names) => names.contains(name),
        }
    }
}

/// Everything one resolution needs to know.
#[derive(Debug, Clone)]
pub struct ResolveRequest {
    /// What the user and the plugins ask for.
    pub requirements: Vec<Requirement>,
    /// The env's distributions: kept at their version unless a requirement forces a change;
    /// their own requirements are enforced too.
    pub installed: Vec<(PackageName, Version)>,
    /// Never changed (the installed Tutor, URL requirements resolved by the caller); a
    /// requirement that excludes one is a conflict.
    pub fixed: Vec<(PackageName, Version)>,
    /// Which packages prefer their newest version over the installed one.
    pub upgrade: Upgrade,
    /// The target interpreter's marker values.
    pub markers: MarkerEnvironment,
    /// The target interpreter's full version, checked against `Requires-Python`.
    pub python_version: Version,
    /// Allow pre-releases for every package.
    pub pre_releases: bool,
}

/// The outcome: every package to have in the env, pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Every package reachable from the requirements and every installed or fixed package.
    pub packages: BTreeMap<PackageName, ResolvedPackage>,
}

/// One pinned package of a [`Resolution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackage {
    /// The chosen version.
    pub version: Version,
    /// The extras some requirement activated.
    pub extras: BTreeSet<ExtraName>,
    /// Who needs it; empty for an installed or fixed package nothing requires.
    pub required_by: BTreeSet<Requester>,
}

/// Who asked for a package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Requester {
    /// One of [`ResolveRequest::requirements`].
    User,
    /// A requirement of this resolved package.
    Package(PackageName),
}

/// Resolves `req` with metadata from `provider`, on the calling thread.
pub fn resolve(
    req: &ResolveRequest,
    provider: &dyn MetadataProvider,
) -> Result<Resolution, ResolveError> {
    solver::Solver::new(req, provider)?.solve()
}

#[cfg(test)]
mod tests;
