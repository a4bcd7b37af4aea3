//! Errors of the `dist` module: parsing filenames, METADATA, RECORD, entry points and PEP 610 data.

use thiserror::Error;

/// An error while parsing or validating distribution data (filenames and the files inside a
/// distribution).
#[derive(Debug, Error)]
pub enum DistError {
    /// A wheel filename that does not follow PEP 427.
    #[error("`{filename}` is not a valid wheel filename: {reason}")]
    InvalidWheelFilename {
        /// The filename as given.
        filename: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A source distribution filename that cannot be split into name and version.
    #[error("`{filename}` is not a valid source distribution filename: {reason}")]
    InvalidSdistFilename {
        /// The filename as given.
        filename: String,
        /// What is wrong with it.
        reason: String,
    },
    /// METADATA / PKG-INFO bytes that are not UTF-8.
    #[error("The metadata is not valid UTF-8")]
    MetadataNotUtf8 {
        /// The decoding error.
        #[source]
        source: std::str::Utf8Error,
    },
    /// A header line that is neither `Key: value` nor a continuation.
    #[error("The metadata has a malformed header line {line}: `{text}`")]
    MetadataMalformedLine {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// A required metadata field is absent.
    #[error("The metadata has no `{field}` field")]
    MetadataMissingField {
        /// The field name, e.g. `Name`.
        field: &'static str,
    },
    /// The `Name` field is not a valid package name.
    #[error("The metadata field `Name: {value}` is not a valid package name")]
    MetadataInvalidName {
        /// The raw value.
        value: String,
        /// The validation error.
        #[source]
        source: pep508_rs::InvalidNameError,
    },
    /// The `Version` field is not a PEP 440 version.
    #[error("The metadata field `Version: {value}` is not a valid version")]
    MetadataInvalidVersion {
        /// The raw value.
        value: String,
        /// The parse error.
        #[source]
        source: pep440_rs::VersionParseError,
    },
    /// A `Requires-Dist` line that is not a PEP 508 requirement.
    #[error("The metadata line `Requires-Dist: {line}` is not a valid requirement")]
    InvalidRequiresDist {
        /// The raw value.
        line: String,
        /// The parse error.
        #[source]
        source: Box<super::RequirementError>,
    },
    /// A `Requires-Python` value that is not a PEP 440 specifier set.
    #[error("The metadata line `Requires-Python: {value}` is not a valid version specifier")]
    InvalidRequiresPython {
        /// The raw value.
        value: String,
        /// The parse error.
        #[source]
        source: Box<pep440_rs::VersionSpecifiersParseError>,
    },
    /// A `Provides-Extra` value that is not a valid extra name.
    #[error("The metadata line `Provides-Extra: {value}` is not a valid extra name")]
    InvalidExtra {
        /// The raw value.
        value: String,
        /// The validation error.
        #[source]
        source: pep508_rs::InvalidNameError,
    },
    /// A RECORD file that is not valid CSV of `path,hash,size` rows.
    #[error("RECORD line {line} is invalid: {reason}")]
    InvalidRecord {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An `entry_points.txt` that is not valid INI.
    #[error("entry_points.txt line {line} is invalid: {reason}")]
    InvalidEntryPoints {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A `direct_url.json` that is not valid PEP 610 JSON.
    #[error("direct_url.json is not valid PEP 610 data")]
    InvalidDirectUrl {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}
