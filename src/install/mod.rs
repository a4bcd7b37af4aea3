//! Installing wheels into an environment and uninstalling distributions from it, following the
//! binary distribution format and the recording-installed-packages specification.
//!
//! Every change is staged and tracked so that an error leaves the environment as it was.
//! The work is done against an [`InstallTarget`] (scheme paths + interpreter), which a
//! [`PythonEnvironment`] converts into; tests use plain temp-dir layouts. All functions block:
//! async callers use `spawn_blocking`.

mod error;
pub mod journal;
mod paths;
pub mod receipt;
mod scripts;
mod target;
#[cfg(test)]
mod testing;
mod uninstall;
mod unpacked;
mod wheel;

use std::path::Path;

pub use error::InstallError;
pub use target::InstallTarget;
pub use uninstall::{UninstallReport, owned_by_others, uninstall_from, uninstall_into_backup};
pub use unpacked::{UnpackedWheel, links_possible, unpack_cached};
pub use wheel::{
    InstallOptions, InstalledWheel, MAX_UNPACKED_SIZE, install_unpacked_into, install_wheel_into,
};

use crate::environment::{InstalledDist, PythonEnvironment};

/// Install `wheel` into `env` (see [`install_wheel_into`]). On error `env` is unchanged.
/// The result converts into the environment's [`InstalledDist`] with `.into()`.
pub fn install_wheel(
    wheel: &Path,
    env: &PythonEnvironment,
    opts: &InstallOptions,
) -> Result<InstalledWheel, InstallError> {
    install_wheel_into(wheel, &InstallTarget::from(env), opts)
}

/// Install a wheel unpacked into the cache (see [`unpack_cached`]) into `env` by
/// hard-linking its files (copying across filesystems); see [`install_unpacked_into`].
pub fn install_unpacked(
    unpacked: &UnpackedWheel,
    env: &PythonEnvironment,
    opts: &InstallOptions,
) -> Result<InstalledWheel, InstallError> {
    install_unpacked_into(unpacked, &InstallTarget::from(env), opts)
}

/// Install `wheel` into `env` from its unpacked copy in the cache when there is one (hard
/// links), else from the archive. A copy found damaged (files missing from the cache) is
/// given up for the archive: the failed attempt has been rolled back, so nothing is lost.
pub fn install_wheel_prepared(
    wheel: &Path,
    unpacked: Option<&UnpackedWheel>,
    env: &PythonEnvironment,
    opts: &InstallOptions,
) -> Result<InstalledWheel, InstallError> {
    if let Some(unpacked) = unpacked {
        match install_unpacked(unpacked, env, opts) {
            Err(InstallError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            result => return result,
        }
    }
    install_wheel(wheel, env, opts)
}

impl From<InstalledWheel> for InstalledDist {
    fn from(installed: InstalledWheel) -> Self {
        InstalledDist {
            name: installed.name,
            version: installed.version,
            dist_info: installed.dist_info,
            requested: installed.requested,
            installer: Some(installed.installer),
        }
    }
}

/// Uninstall `dist` from `env` (see [`uninstall_from`]); files listed in another
/// distribution's RECORD are kept, which this computes by reading every other RECORD of the
/// environment; [`uninstall_from`] accepts a precomputed set instead.
pub fn uninstall(
    env: &PythonEnvironment,
    dist: &InstalledDist,
) -> Result<UninstallReport, InstallError> {
    uninstall_from(&InstallTarget::from(env), &dist.dist_info, None)
}
