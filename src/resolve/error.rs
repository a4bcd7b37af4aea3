//! Errors of the resolver: conflicts explained in plain words, and failures of the
//! [`MetadataProvider`](super::MetadataProvider) that feeds it.

use crate::dist::PackageName;

/// Any error a [`MetadataProvider`](super::MetadataProvider) reports (network, parse, build).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of the metadata provider, tagged with the package it was asked about.
#[derive(Debug, thiserror::Error)]
#[error("Failed to get the metadata of `{package}`")]
pub struct ProviderError {
    /// The package whose versions or requirements could not be fetched.
    pub package: PackageName,
    /// What went wrong; shown by the CLI as a `caused by:` line.
    #[source]
    pub source: BoxError,
}

impl ProviderError {
    /// Wraps any error raised while answering for `package`.
    pub fn new(package: PackageName, source: impl Into<BoxError>) -> Self {
        Self {
            package,
            source: source.into(),
        }
    }
}

/// Why a resolution failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No set of versions satisfies every requirement; `explanation` says why, in a few
    /// sentences naming packages and versions.
    #[error("{explanation}")]
    Conflict {
        /// Plain-words explanation, one sentence per line.
        explanation: String,
    },
    /// The provider failed to answer for `package`.
    #[error("Failed to get the metadata of `{package}`")]
    Provider {
        /// The package the provider was asked about.
        package: PackageName,
        /// The provider's error.
        #[source]
        source: BoxError,
    },
    /// A requirement points at a URL for a package that was not pre-resolved into
    /// `ResolveRequest::fixed` (the caller resolves URLs before calling the resolver).
    #[error("`{package}` is required from a direct URL but was not pre-resolved to a version")]
    UnresolvedUrl {
        /// The package named by the URL requirement.
        package: PackageName,
    },
}

impl From<ProviderError> for ResolveError {
    fn from(err: ProviderError) -> Self {
        Self::Provider {
            package: err.package,
            source: err.source,
        }
    }
}
