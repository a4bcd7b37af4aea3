//! Errors of operations: each adds the user's intent ("Failed to install `indigo`") on top of
//! the stage error it keeps as its source.

use std::path::PathBuf;

use thiserror::Error;

/// Fetching or building one package failed.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The package index failed.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// A build failed.
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    /// The cache could not be used.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// No installable file of this version.
    #[error(
        "no file of `{0}` can be installed into this environment (no compatible wheel and no sdist)"
    )]
    NoFile(String),
    /// The index has files of the package, but none installs into the target.
    #[error(
        "`{name}` has {count} file(s) on the package index (e.g. `{example}`) but none for Python {python} on this platform"
    )]
    NoCompatibleFile {
        /// The package.
        name: String,
        /// How many files the index lists.
        count: usize,
        /// One of them.
        example: String,
        /// The target's Python version.
        python: String,
    },
    /// Builds nested too deep (a build requirement that needs a build of itself).
    #[error("building `{0}` needs builds nested too deep; is there a build-requirement cycle?")]
    BuildDepth(String),
    /// A file operation in the cache.
    #[error("cannot write {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A worker thread died.
    #[error("a worker thread failed: {0}")]
    Join(String),
}

/// An operation failed; the message says what the user wanted and for what.
#[derive(Debug, Error)]
pub enum OpsError {
    /// The target environment could not be found or queried.
    #[error(transparent)]
    Environment(#[from] crate::environment::EnvError),
    /// Resolution failed (conflicts are explained in the source).
    #[error("cannot install {what}")]
    Resolve {
        /// What was asked.
        what: String,
        /// The explanation.
        #[source]
        source: crate::resolve::ResolveError,
    },
    /// Fetching or building a package failed.
    #[error("failed to get `{package}`")]
    Fetch {
        /// `name==version`.
        package: String,
        /// The cause.
        #[source]
        source: crate::ops::fetch::SharedError,
    },
    /// Installing into the environment failed.
    #[error("failed to install `{package}` into {}; the environment was left as it was", env.display())]
    Install {
        /// `name==version`.
        package: String,
        /// The env root.
        env: PathBuf,
        /// The cause.
        #[source]
        source: crate::install::InstallError,
    },
    /// Removing from the environment failed.
    #[error("failed to remove `{package}` from {}", env.display())]
    Uninstall {
        /// `name==version`.
        package: String,
        /// The env root.
        env: PathBuf,
        /// The cause.
        #[source]
        source: crate::install::InstallError,
    },
    /// The ownership record could not be used.
    #[error(transparent)]
    Receipt(#[from] crate::install::receipt::ReceiptError),
    /// A target the user typed makes no sense.
    #[error("{0}")]
    Usage(String),
    /// Nothing installed under that name.
    #[error("`{name}` is not installed in {}", env.display())]
    NotInstalled {
        /// The name given.
        name: String,
        /// The env root.
        env: PathBuf,
    },
    /// The plugin is enabled in the Tutor project.
    #[error(
        "`{plugin}` is enabled in the Tutor project at {}; run `tutor plugins disable {plugin}` first, or pass --force",
        root.display()
    )]
    Enabled {
        /// The plugin name.
        plugin: String,
        /// The Tutor root.
        root: PathBuf,
    },
    /// A worker thread died.
    #[error("a worker thread failed: {0}")]
    Join(String),
    /// Another failure with its own message.
    #[error("{message}")]
    Other {
        /// What failed.
        message: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
