//! Native wheel builds of pure-Python hatchling projects, without starting Python.
//!
//! The official Tutor plugins and Tutor itself ship hatchling sdists whose build configuration
//! is static; plonk reproduces what `hatchling.build.build_wheel` (hatchling 1.33, packaging
//! 26.4, pathspec 1.1) puts in the wheel: the same files under the same names, the same
//! `METADATA`, `entry_points.txt` and licenses. Only `WHEEL`'s `Generator` line differs
//! (`plonk <version> (hatchling-compatible)`), and timestamps.
//!
//! Anything plonk does not reproduce exactly (build hooks, metadata hooks with work left,
//! version sources other than a file, plugins, unknown classifiers, links leaving the project,
//! ...) makes the project *not eligible*: [`try_build_wheel`] returns `Ok(None)` and the
//! caller falls back to PEP 517, which reports hatchling's own verdict. Projects using other
//! backends (including `uv_build`) are not eligible either.
//!
//! - [`tree`]: confined reads of the project folder.
//! - [`config`]: `pyproject.toml` / `PKG-INFO` → core metadata and build options.
//! - [`select`]: file selection; [`gitignore`]: pathspec's pattern matching.
//! - [`requirement`]: packaging-compatible dependency strings; [`lists`]: classifiers, SPDX.
//! - [`metadata`] and [`wheel`]: the `.dist-info` texts and the archive.

mod config;
mod gitignore;
mod lists;
mod metadata;
mod pkg_info;
mod pyutil;
mod requirement;
mod select;
mod tree;
mod wheel;

use std::path::{Path, PathBuf};

use super::BuildError;

/// Whether plonk can build a project natively, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    /// plonk builds it itself; `wheel` is the file name it will produce.
    Eligible {
        /// The build backend plonk stands in for (`hatchling.build`).
        backend: &'static str,
        /// The wheel file name.
        wheel: String,
    },
    /// It needs the PEP 517 path.
    NotEligible {
        /// One sentence for `-v` output, e.g. "the build backend is `setuptools.build_meta`".
        reason: String,
    },
}

impl Eligibility {
    /// Whether the project is eligible.
    pub fn is_eligible(&self) -> bool {
        matches!(self, Self::Eligible { .. })
    }
}

/// Why an internal step stopped: the project is not eligible, or building really failed.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not something plonk reproduces exactly; the reason is for `-v` output.
    NotEligible(String),
    /// An I/O failure on an eligible project.
    Failed(BuildError),
}

impl Refusal {
    pub(crate) fn skip(reason: impl Into<String>) -> Self {
        Self::NotEligible(reason.into())
    }
}

pub(crate) type NResult<T> = Result<T, Refusal>;

/// Reads the project and computes the wheel's contents without writing anything.
fn plan(project_dir: &Path) -> NResult<(config::HatchProject, Vec<select::Included>)> {
    let tree = tree::Tree::open(project_dir)?;
    let project = config::load(tree)?;
    let files = select::select(&project)?;
    // A project file shipped inside the `.dist-info` folder would collide with hatchling's.
    let dist_info = format!("{}.dist-info/", wheel::project_id(&project));
    if let Some(file) = files.iter().find(|f| f.dist.starts_with(&dist_info)) {
        return Err(Refusal::skip(format!(
            "`{}` would be shipped inside `{dist_info}`",
            file.rel
        )));
    }
    Ok((project, files))
}

/// Whether the project in `project_dir` (an unpacked sdist or a checkout) can be built
/// natively, with the reason when not. Reads the project; writes nothing.
pub fn eligible(project_dir: &Path) -> Result<Eligibility, BuildError> {
    match plan(project_dir) {
        Ok((project, _)) => Ok(Eligibility::Eligible {
            backend: config::HATCHLING_BACKEND,
            wheel: wheel::wheel_name(&project),
        }),
        Err(Refusal::NotEligible(reason)) => Ok(Eligibility::NotEligible { reason }),
        Err(Refusal::Failed(err)) => Err(err),
    }
}

/// Builds the wheel of the project in `project_dir` into `out_dir` natively and returns its
/// path; `Ok(None)` when the project is not eligible (see [`eligible`] for the reason), so
/// the caller uses PEP 517 instead. The wheel has the same files, `METADATA` and entry points
/// as hatchling's.
pub fn try_build_wheel(project_dir: &Path, out_dir: &Path) -> Result<Option<PathBuf>, BuildError> {
    let result = plan(project_dir).and_then(|(project, files)| wheel::write(&project, &files, out_dir));
    match result {
        Ok(wheel) => Ok(Some(wheel)),
        Err(Refusal::NotEligible(_)) => Ok(None),
        Err(Refusal::Failed(err)) => Err(err),
    }
}

#[cfg(test)]
mod scratch {
    #[test]
    #[ignore]
    fn scratch_compare() {
        let out = std::path::Path::new("/tmp/native/out");
        for entry in std::fs::read_dir("/tmp/native/src").unwrap() {
            let dir = entry.unwrap().path();
            println!("{}: {:?}", dir.display(), super::eligible(&dir));
            println!("  -> {:?}", super::try_build_wheel(&dir, out));
        }
    }
}
