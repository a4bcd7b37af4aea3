//! Errors of the environment module: finding, querying and creating virtualenvs, reading the
//! distributions installed in them, and the env lock.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::dist::DistError;

/// Where plonk got the environment it is complaining about, so a message can name the option
/// or variable the user has to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOrigin {
    /// The `--python` option.
    PythonOption,
    /// The `VIRTUAL_ENV` environment variable.
    VirtualEnv,
    /// The shebang of the `tutor` executable found on `PATH`.
    TutorOnPath(PathBuf),
    /// A path given directly to the library (e.g. `plonk venv PATH`).
    Direct,
}

impl fmt::Display for EnvOrigin {
    /// Renders as a parenthesised suffix (with its leading space), or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvOrigin::PythonOption => f.write_str(" (from `--python`)"),
            EnvOrigin::VirtualEnv => f.write_str(" (from `VIRTUAL_ENV`)"),
            EnvOrigin::TutorOnPath(tutor) => {
                write!(f, " (used by the `tutor` executable `{}`)", tutor.display())
            }
            EnvOrigin::Direct => Ok(()),
        }
    }
}

/// The standard error of a failed interpreter run, kept as an error source so that the CLI
/// prints it on its own `caused by:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOutput(pub String);

impl fmt::Display for ProcessOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.trim();
        if text.is_empty() {
            f.write_str("the interpreter printed nothing on stderr")
        } else {
            f.write_str(text)
        }
    }
}

impl std::error::Error for ProcessOutput {}

/// A failure to find, query, create, read or lock a Python environment.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// No `--python`, no `VIRTUAL_ENV`, no `tutor` on `PATH`.
    #[error(
        "No Python environment was found: pass `--python PATH` (a virtualenv or its python), \
         activate a virtualenv (`VIRTUAL_ENV`), or put a virtualenv's `tutor` on `PATH`"
    )]
    NoEnvironment,

    /// The given environment path does not exist.
    #[error("The Python environment `{}`{origin} does not exist", path.display())]
    PathNotFound {
        /// The path as given.
        path: PathBuf,
        /// Where it came from.
        origin: EnvOrigin,
    },

    /// The path exists but has no `pyvenv.cfg`.
    #[error(
        "`{}`{origin} is not a virtualenv (it has no `pyvenv.cfg`); plonk only installs into \
         virtualenvs: create one with `plonk venv PATH` and pass it with `--python`",
        path.display()
    )]
    NotAVirtualenv {
        /// The folder (or interpreter prefix) that is not a virtualenv.
        path: PathBuf,
        /// Where it came from.
        origin: EnvOrigin,
    },

    /// A virtualenv without `bin/python` (or `Scripts/python.exe`).
    #[error("The virtualenv `{}` has no Python interpreter in `bin/`; recreate it with `plonk venv`", root.display())]
    NoInterpreterInVenv {
        /// The virtualenv root.
        root: PathBuf,
    },

    /// The interpreter path does not exist.
    #[error("The Python interpreter `{}` does not exist", python.display())]
    InterpreterNotFound {
        /// The interpreter path.
        python: PathBuf,
    },

    /// The interpreter could not be started.
    #[error("Failed to run the Python interpreter `{}`", python.display())]
    InterpreterSpawn {
        /// The interpreter path.
        python: PathBuf,
        /// Why the process did not start.
        #[source]
        source: std::io::Error,
    },

    /// The interpreter ran but the query script failed.
    #[error("The Python interpreter `{}` failed to describe itself ({status})", python.display())]
    InterpreterFailed {
        /// The interpreter path.
        python: PathBuf,
        /// The exit status, as text.
        status: String,
        /// What the interpreter printed on stderr.
        #[source]
        stderr: ProcessOutput,
    },

    /// The query answer was not the JSON plonk expects.
    #[error("The Python interpreter `{}` gave an answer plonk cannot read", python.display())]
    InterpreterOutput {
        /// The interpreter path.
        python: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// A version reported by the interpreter is not PEP 440.
    #[error("The Python interpreter `{}` reported an invalid version `{value}`", python.display())]
    InterpreterVersion {
        /// The interpreter path.
        python: PathBuf,
        /// The reported value.
        value: String,
        /// The parse error.
        #[source]
        source: pep440_rs::VersionParseError,
    },

    /// The interpreter is too old (or Python 2).
    #[error("The Python interpreter `{}` is Python {version}; plonk needs Python 3.8 or newer", python.display())]
    UnsupportedPython {
        /// The interpreter path.
        python: PathBuf,
        /// Its version.
        version: String,
    },

    /// `create_venv` on a non-empty folder that is not a virtualenv.
    #[error(
        "`{}` exists, is not empty and is not a virtualenv; refusing to create a virtualenv there",
        path.display()
    )]
    VenvTargetNotEmpty {
        /// The target folder.
        path: PathBuf,
    },

    /// `create_venv` on a platform without symlinks.
    #[error("Creating a virtualenv at `{}` is not supported on this platform", path.display())]
    VenvUnsupported {
        /// The target folder.
        path: PathBuf,
    },

    /// A filesystem operation failed.
    #[error("Failed to {action} `{}`", path.display())]
    Io {
        /// What plonk was doing, as a verb phrase ("read", "create the folder").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Another plonk process kept the env lock for longer than the timeout.
    #[error(
        "Timed out after {}s waiting for another plonk process to release `{}`",
        timeout.as_secs_f64(),
        path.display()
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long plonk waited.
        timeout: Duration,
    },

    /// A `.dist-info` folder whose name and version cannot be determined.
    #[error(
        "`{}` is not a valid installed distribution: neither its METADATA nor its folder name \
         give a name and version",
        path.display()
    )]
    InvalidDistInfo {
        /// The `.dist-info` folder.
        path: PathBuf,
    },

    /// A file of an installed distribution could not be parsed.
    #[error("Failed to parse `{}` of `{dist}`", path.display())]
    DistFile {
        /// `name==version` of the distribution.
        dist: String,
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: DistError,
    },
}

impl EnvError {
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
