//! `RegistryError`: failures to list, describe or download a package's files.

use std::path::PathBuf;

use crate::dist::{DistError, PackageName};
use crate::http::{HttpError, RedactedUrl};

/// A registry operation that failed; each variant names the package or file and the URL.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No configured index or find-links location knows the project.
    #[error("package `{0}` was not found in any configured package index or find-links location")]
    NotFound(PackageName),
    /// Fetching a project page failed and no other source answered.
    #[error("could not fetch the files of `{name}` from {url}")]
    Index {
        /// The project.
        name: PackageName,
        /// The page asked for.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: HttpError,
    },
    /// `--offline` and the project page is not in the cache.
    #[error(
        "`{name}` is not in the cache and offline mode forbids fetching {url}; run the command once without `--offline`"
    )]
    OfflineNotCached {
        /// The project.
        name: PackageName,
        /// The page that would have been fetched.
        url: RedactedUrl,
    },
    /// A project page is not valid JSON.
    #[error("the package index page for `{name}` at {url} is not valid JSON")]
    Parse {
        /// The project.
        name: PackageName,
        /// The page.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A find-links folder could not be listed.
    #[error("could not list the find-links folder {}", path.display())]
    FindLinks {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Fetching metadata failed.
    #[error("could not fetch the metadata of `{package}` from {url}")]
    Metadata {
        /// `name==version`.
        package: String,
        /// The URL asked for.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: HttpError,
    },
    /// The metadata was fetched but does not parse.
    #[error("the metadata of `{package}` from {url} is invalid")]
    InvalidMetadata {
        /// `name==version`.
        package: String,
        /// Where it came from.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: DistError,
    },
    /// The metadata served by the JSON API has a bad field.
    #[error("the JSON API metadata of `{package}` at {url} is invalid: {reason}")]
    InvalidJsonMetadata {
        /// `name==version`.
        package: String,
        /// The page.
        url: RedactedUrl,
        /// What is wrong.
        reason: String,
    },
    /// A PEP 658 metadata file does not match its advertised hash.
    #[error(
        "the metadata file of {filename} from {url} does not match the index: expected sha256 {expected}, got {actual}"
    )]
    MetadataHashMismatch {
        /// The distribution filename.
        filename: String,
        /// The `.metadata` URL.
        url: RedactedUrl,
        /// Advertised digest.
        expected: String,
        /// Digest of what arrived.
        actual: String,
    },
    /// A wheel whose METADATA cannot be located or read.
    #[error("{filename} from {url} is not a valid wheel: {reason}")]
    InvalidWheel {
        /// The wheel filename.
        filename: String,
        /// Where it came from.
        url: RedactedUrl,
        /// What is wrong.
        reason: String,
    },
    /// A download failed.
    #[error("could not download {filename} from {url}")]
    Download {
        /// The file.
        filename: String,
        /// Its URL.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: HttpError,
    },
    /// The downloaded bytes do not match the index's sha256.
    #[error(
        "hash mismatch for {filename} from {url}: the index says sha256 {expected}, the downloaded file has {actual}"
    )]
    HashMismatch {
        /// The file.
        filename: String,
        /// Its URL.
        url: RedactedUrl,
        /// Advertised digest.
        expected: String,
        /// Digest of what arrived.
        actual: String,
    },
    /// The file name a candidate would be saved under is unsafe (`..`, separators).
    #[error("refusing to save {url} under the unsafe file name `{filename}`")]
    UnsafeFilename {
        /// The name.
        filename: String,
        /// The URL.
        url: RedactedUrl,
    },
    /// Writing into the destination folder failed.
    #[error("could not write {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
