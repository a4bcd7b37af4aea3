//! The build stage: turns a source distribution or a project folder into a wheel.
//!
//! - [`sdist`]: safe unpacking of sdists, static `PKG-INFO`, `pyproject.toml`.
//! - [`pep517`]: PEP 517 builds in an isolated environment that plonk creates and fills
//!   through the [`BuildEnv`] seam (ops implements it with plonk's resolver and installer;
//!   pip is never used).

mod error;
pub mod native;
pub mod pep517;
pub mod sdist;
pub mod single_file;

pub use error::BuildError;
pub use pep517::{
    BuildEnv, BuildOptions, DEFAULT_HOOK_TIMEOUT, Pep517Build, build_wheel, prepare_metadata,
    read_wheel_metadata,
};
pub use sdist::{
    BuildSystem, Project, PyProject, UnpackLimits, parse_pyproject, read_pyproject,
    read_sdist_build_system, read_sdist_metadata, unpack_sdist, unpack_sdist_with_limits,
};

/// A boxed error from a seam implemented outside this module.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
