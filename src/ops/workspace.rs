//! The settled context of an operation on one environment: the env, the cache, the HTTP
//! client and the package sources. Built by the CLI from its settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::Cache;
use crate::environment::PythonEnvironment;
use crate::http::HttpClient;
use crate::registry::IndexLocations;

/// Everything an install, upgrade or remove needs.
#[derive(Clone)]
pub struct Workspace {
    /// The target environment.
    pub env: PythonEnvironment,
    /// The global cache.
    pub cache: Cache,
    /// The HTTP client (offline flag, credentials, timeouts).
    pub http: HttpClient,
    /// Package sources from flags.
    pub locations: IndexLocations,
    /// The Tutor project root.
    pub tutor_root: PathBuf,
    /// The plugins root for single-file plugins.
    pub plugins_root: PathBuf,
    /// How long to wait for the env lock.
    pub lock_timeout: Option<Duration>,
    /// Fault injection for crash tests (`PLONK_FAULT`).
    pub faults: crate::install::journal::FaultPlan,
}
