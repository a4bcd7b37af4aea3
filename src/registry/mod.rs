//! Package registry stage: lists a project's files ([`Candidate`]s) from the PyPI JSON API,
//! the simple API (PEP 691 JSON, PEP 503/592/658 HTML) and find-links locations, fetches core
//! metadata without building (JSON API, PEP 658, wheel METADATA over HTTP ranges) and
//! downloads files with their sha256 verified. Parsed project pages are kept as digests beside
//! the HTTP cache, so a warm run does not read or parse a page whose cached body is unchanged.

mod client;
mod error;
mod json_pages;
mod links;
mod locations;
mod page_digest;
mod remote_zip;

use url::Url;

use crate::dist::{DistFilename, PackageName, Version, VersionSpecifiers};

pub use client::{FileFilter, RegistryClient};
pub use error::RegistryError;
pub use links::{
    CoreMetadata, Link, html_unescape, parse_html, parse_pypi_json, parse_simple_json,
};
pub use locations::{FindLinks, IndexApi, IndexLocations, PYPI_URL};

/// One distribution file of one version, as an index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Normalized project name.
    pub name: PackageName,
    /// The version, from the filename.
    pub version: Version,
    /// The parsed filename.
    pub filename: DistFilename,
    /// Absolute URL of the file (`file://` for local files); never carries credentials
    /// taken from the index URL (the HTTP client remembers those per host).
    pub url: Url,
    /// Lowercase hex sha256, when the index gave one.
    pub sha256: Option<String>,
    /// `Requires-Python`; `None` when absent or unparsable.
    pub requires_python: Option<VersionSpecifiers>,
    /// PEP 592: the file is yanked (the resolver decides what that means).
    pub yanked: bool,
    /// Size in bytes, when the index gave it.
    pub size: Option<u64>,
    /// The index or find-links location that listed it.
    pub index: Url,
}
