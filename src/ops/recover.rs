//! Crash recovery: before any command works on an environment, a change an earlier plonk
//! left half done (killed, power loss) is finished or undone, under the environment lock.

use std::path::Path;
use std::time::Duration;

use crate::environment::EnvLock;
use crate::install::journal::{self, Recovery};
use crate::ops::error::OpsError;

/// Recovers the environment at `root` if needed; returns the sentence to show the user.
pub fn recover(root: &Path, lock_timeout: Option<Duration>) -> Result<Option<String>, OpsError> {
    // Cheap check first: most runs find no journal and take no lock here.
    if !journal::pending(root) {
        return Ok(None);
    }
    let _lock = EnvLock::acquire(root, lock_timeout, || {})?;
    let outcome = journal::recover(root).map_err(|source| OpsError::Other {
        message: format!(
            "cannot recover the interrupted change in {}",
            root.display()
        ),
        source: Box::new(source),
    })?;
    Ok(outcome.map(|r| match r {
        Recovery::RolledBack { operation } => format!(
            "Recovered {}: an interrupted `plonk {operation}` was rolled back; the environment is as it was before it",
            root.display()
        ),
        Recovery::Completed { operation } => format!(
            "Recovered {}: an interrupted `plonk {operation}` had finished its changes; its clean-up is now done",
            root.display()
        ),
    }))
}
