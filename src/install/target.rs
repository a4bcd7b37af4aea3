//! Where a wheel's files go: the scheme directories of one environment and its interpreter.
//!
//! This is the seam between installing and the environment module: install logic only needs
//! these paths, so tests can install into a plain temp-dir layout.

use std::path::{Path, PathBuf};

use crate::environment::PythonEnvironment;

/// The directories and interpreter a wheel is installed with. All paths absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallTarget {
    /// The environment root (`sys.prefix` of a venv); nothing is written outside it.
    pub root: PathBuf,
    /// Pure-Python site-packages.
    pub purelib: PathBuf,
    /// Platform-specific site-packages (the same as purelib in most venvs).
    pub platlib: PathBuf,
    /// Where scripts and launchers go (`bin`).
    pub scripts: PathBuf,
    /// Where `.data/data` files go (the env root).
    pub data: PathBuf,
    /// Base folder of `.data/headers`; a wheel's headers land in `<include>/<dist name>/`.
    pub include: PathBuf,
    /// The interpreter written into script shebangs and used to byte-compile.
    pub python: PathBuf,
}

impl InstallTarget {
    /// The POSIX layout of a venv at `root` for Python `major.minor`, with `<root>/bin/python`
    /// as interpreter; `include` follows pip (`include/site/pythonX.Y`).
    pub fn posix_venv(root: &Path, major: u8, minor: u8) -> Self {
        let site = root
            .join("lib")
            .join(format!("python{major}.{minor}"))
            .join("site-packages");
        InstallTarget {
            root: root.to_path_buf(),
            purelib: site.clone(),
            platlib: site,
            scripts: root.join("bin"),
            data: root.to_path_buf(),
            include: root
                .join("include")
                .join("site")
                .join(format!("python{major}.{minor}")),
            python: root.join("bin").join("python"),
        }
    }
}

impl From<&PythonEnvironment> for InstallTarget {
    fn from(env: &PythonEnvironment) -> Self {
        let scheme = &env.interpreter.scheme;
        InstallTarget {
            root: env.root.clone(),
            purelib: scheme.purelib.clone(),
            platlib: scheme.platlib.clone(),
            scripts: scheme.scripts.clone(),
            data: scheme.data.clone(),
            include: scheme.include.clone(),
            python: env.interpreter.executable.clone(),
        }
    }
}
