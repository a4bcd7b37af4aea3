//! Errors of the cache layer: every variant names the path it was working on.

use std::path::PathBuf;

/// A failure while reading or writing the global cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A filesystem operation on a cache path failed.
    #[error("Failed to {action} `{}` in the cache", path.display())]
    Io {
        /// What plonk was doing, as a verb phrase ("write", "create the folder").
        action: &'static str,
        /// The cache path involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl CacheError {
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
