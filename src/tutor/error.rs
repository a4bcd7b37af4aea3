//! Errors of the `tutor` module: every variant names the file (or value) it is about.

use std::path::PathBuf;

/// A Tutor project file (`config.yml`, a plugin file) that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TutorError {
    /// Reading a file failed.
    #[error("Failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error("Failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("`{}` is not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid YAML.
    #[error("`{}` is not valid YAML", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        #[source]
        source: crate::tutor::yaml::YamlError,
    },
    /// The top level of the file is not a mapping of settings.
    #[error("`{}` must be a YAML mapping of settings (`KEY: value` lines)", path.display())]
    NotAMapping {
        /// The file.
        path: PathBuf,
    },
    /// A setting that must be a list of strings is something else.
    #[error("`{key}` in `{}` must be a list of strings", path.display())]
    NotAStringList {
        /// The file.
        path: PathBuf,
        /// The setting.
        key: String,
    },
    /// A change could not be made without touching other settings of the file.
    #[error(
        "could not change `{key}` in `{}` without altering its other settings; edit the file by hand",
        path.display()
    )]
    UnsafeEdit {
        /// The file.
        path: PathBuf,
        /// The setting being changed.
        key: String,
    },
    /// `--release` (or a detected release) is not a usable release name.
    #[error(
        "`{0}` is not a valid Open edX release name (expected a lower-case name such as `redwood`, or `main`)"
    )]
    BadRelease(String),
}
