//! Errors of the build stage: unpacking sdists, reading their metadata and `pyproject.toml`,
//! and running PEP 517 hooks. Every variant names the archive or project it was working on.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::BoxError;
use crate::dist::DistError;

/// A failure while unpacking, inspecting or building a source distribution.
#[derive(Debug, Error)]
pub enum BuildError {
    /// A filesystem operation failed.
    #[error("Failed to {action} `{}`", path.display())]
    Io {
        /// What plonk was doing, as a verb phrase ("create the folder", "read").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends in neither `.tar.gz` / `.tgz` nor `.zip`.
    #[error("`{}` is not a source distribution plonk can read (expected `.tar.gz` or `.zip`)", archive.display())]
    UnsupportedArchive {
        /// The archive.
        archive: PathBuf,
    },
    /// The archive is corrupt or truncated (tar / gzip layer).
    #[error("Failed to read the source distribution `{}`", archive.display())]
    Archive {
        /// The archive.
        archive: PathBuf,
        /// The decoding error.
        #[source]
        source: std::io::Error,
    },
    /// The archive is corrupt or truncated (zip layer).
    #[error("cannot read the archive `{}`: it is not a valid zip file", archive.display())]
    Zip {
        /// The archive.
        archive: PathBuf,
        /// The decoding error.
        #[source]
        source: zip::result::ZipError,
    },
    /// An entry that would write outside the destination or is not a plain file, folder or
    /// link (a path with `..`, an absolute path, a link leaving the archive, a device file).
    #[error("The source distribution `{}` has an unsafe entry `{entry}`: {reason}", archive.display())]
    UnsafeEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry name as stored in the archive.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The archive unpacks to more bytes than allowed (a decompression bomb or a mistake).
    #[error("The source distribution `{}` unpacks to more than {limit} bytes", archive.display())]
    TooLarge {
        /// The archive.
        archive: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The archive has more entries than allowed.
    #[error("The source distribution `{}` has more than {limit} entries", archive.display())]
    TooManyEntries {
        /// The archive.
        archive: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The archive is not laid out as `name-version/...`.
    #[error("The source distribution `{}` is not a single top-level folder: {reason}", archive.display())]
    Layout {
        /// The archive.
        archive: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// `pyproject.toml` is not valid TOML or does not have the expected shape.
    #[error("Failed to parse `{}`", path.display())]
    PyProjectToml {
        /// The `pyproject.toml` file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A `pyproject.toml` field has an invalid value.
    #[error("`{}` has an invalid `{field}` value `{value}`", path.display())]
    PyProjectField {
        /// The `pyproject.toml` file.
        path: PathBuf,
        /// The field, e.g. `build-system.requires`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// The parse error.
        #[source]
        source: BoxError,
    },
    /// A `pyproject.toml` that has a `[build-system]` table without `requires` (PEP 518).
    #[error("`{}` has a `[build-system]` table without `requires`", path.display())]
    MissingBuildRequires {
        /// The `pyproject.toml` file.
        path: PathBuf,
    },
    /// A `backend-path` entry that is absolute, missing, or outside the project.
    #[error("The `backend-path` entry `{entry}` of `{}` is not a folder inside the project", project.display())]
    BackendPath {
        /// The project folder.
        project: PathBuf,
        /// The entry as written in `pyproject.toml`.
        entry: String,
    },
    /// A `build-backend` value that is not `module.path[:object.path]`.
    #[error("The `build-backend` `{backend}` of `{}` is not of the form `module:object`", project.display())]
    InvalidBackend {
        /// The project folder.
        project: PathBuf,
        /// The value as written.
        backend: String,
    },
    /// The caller no longer wanted the build's result (see [`super::BuildOptions::cancel`]).
    #[error("The build of `{}` was stopped: its result is no longer needed", project.display())]
    Cancelled {
        /// The project folder.
        project: PathBuf,
    },
    /// A path a build hook must receive is not valid UTF-8 (hooks take `str` paths, which
    /// plonk passes as JSON).
    #[error("Cannot pass `{}` to the build backend of `{}`: the path is not valid UTF-8", path.display(), project.display())]
    NonUtf8Path {
        /// The project folder.
        project: PathBuf,
        /// The path.
        path: PathBuf,
    },
    /// The isolated build environment could not be created.
    #[error("Failed to create a build environment for `{}`", project.display())]
    CreateEnv {
        /// The project folder.
        project: PathBuf,
        /// The environment error.
        #[source]
        source: BoxError,
    },
    /// Installing build requirements into the build environment failed.
    #[error("Failed to install the build requirements ({stage}) of `{}`: {requirements}", project.display())]
    InstallRequirements {
        /// The project folder.
        project: PathBuf,
        /// Where they came from: `build-system.requires` or `get_requires_for_build_wheel`.
        stage: &'static str,
        /// The requirements, comma-separated.
        requirements: String,
        /// The installer's error.
        #[source]
        source: BoxError,
    },
    /// The hook subprocess could not be started.
    #[error("Failed to run the build hook `{hook}` for `{}` with `{}`", project.display(), python.display())]
    Spawn {
        /// The project folder.
        project: PathBuf,
        /// The PEP 517 hook.
        hook: &'static str,
        /// The build environment's interpreter.
        python: PathBuf,
        /// The spawn error.
        #[source]
        source: std::io::Error,
    },
    /// The backend failed (import error, exception in the hook, crash); `output` is the tail of
    /// what it printed.
    #[error("The build hook `{hook}` failed for `{}`{}", project.display(), render_output(output))]
    HookFailed {
        /// The project folder.
        project: PathBuf,
        /// The PEP 517 hook.
        hook: &'static str,
        /// The last lines of the backend's stdout and stderr.
        output: String,
    },
    /// The hook ran longer than the configured timeout and was killed.
    #[error("The build hook `{hook}` for `{}` did not finish within {}s and was stopped{}", project.display(), timeout.as_secs(), render_output(output))]
    HookTimeout {
        /// The project folder.
        project: PathBuf,
        /// The PEP 517 hook.
        hook: &'static str,
        /// The configured timeout.
        timeout: Duration,
        /// The last lines of the backend's stdout and stderr.
        output: String,
    },
    /// The hook returned something PEP 517 does not allow.
    #[error("The build hook `{hook}` for `{}` returned an invalid result: {reason}", project.display())]
    HookResult {
        /// The project folder.
        project: PathBuf,
        /// The PEP 517 hook.
        hook: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The built wheel is not the one expected (bad filename, other project, missing).
    #[error("The wheel `{filename}` built from `{}` is invalid: {reason}", project.display())]
    InvalidWheel {
        /// The project folder.
        project: PathBuf,
        /// The wheel filename returned by the backend.
        filename: String,
        /// What is wrong with it.
        reason: String,
    },
    /// METADATA / PKG-INFO produced by the backend could not be parsed.
    #[error("The metadata of `{}` is invalid", subject.display())]
    Metadata {
        /// The project folder, wheel or sdist it came from.
        subject: PathBuf,
        /// The parse error.
        #[source]
        source: DistError,
    },
}

impl BuildError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The backend's output, after the one-sentence message, indented so it reads as details.
fn render_output(output: &str) -> String {
    let trimmed = output.trim_end();
    if trimmed.is_empty() {
        return " (it printed nothing)".to_string();
    }
    let mut text = String::from("; its last output lines:");
    for line in trimmed.lines() {
        text.push_str("\n    ");
        text.push_str(line);
    }
    text
}
