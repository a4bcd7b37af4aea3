//! `plonk index add|remove|list`, and the release of the target environment's Tutor (which
//! every index command needs to build `<base>/<release>/plugins.yml`).

use std::path::{Path, PathBuf};

use crate::dist::PackageName;
use crate::environment::PythonEnvironment;
use crate::index::{IndexConfig, IndexError, IndexPaths};
use crate::tutor::release_for_tutor;

/// The Open edX release of the Tutor installed in `env`: `main` for Tutor Main (its
/// `tutor/__about__.py` has a version suffix), else the release of its major version. `None`
/// when Tutor is not installed or its version is unknown to plonk.
pub fn release_of_env(env: &PythonEnvironment) -> Option<String> {
    let tutor: PackageName = "tutor".parse().ok()?;
    let dist = env.find_dist(&tutor)?;
    let mut about_files = Vec::new();
    if let Some(site) = dist.dist_info.parent() {
        about_files.push(site.join("tutor").join("__about__.py"));
    }
    // An editable install (Tutor Main from a git checkout) lives where direct_url.json says.
    if let Ok(Some(direct)) = dist.direct_url()
        && let Ok(url) = url::Url::parse(&direct.url)
        && let Ok(path) = url.to_file_path()
    {
        about_files.push(path.join("tutor").join("__about__.py"));
    }
    let about = about_files
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok());
    release_for_tutor(&dist.version, about.as_deref())
}

/// The configured plugin indexes and where they are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexList {
    /// The file that holds `PLUGIN_INDEXES` (it may not exist yet).
    pub file: PathBuf,
    /// Whether it is the Tutor project's `config.yml`.
    pub tutor: bool,
    /// Whether the key is unset and Tutor's defaults apply.
    pub default: bool,
    /// The indexes in use, in order.
    pub indexes: Vec<String>,
}

/// `plonk index list`.
pub fn list_indexes(paths: &IndexPaths) -> Result<IndexList, IndexError> {
    let config = IndexConfig::open(paths)?;
    Ok(IndexList {
        file: config.path().to_path_buf(),
        tutor: config.is_tutor(),
        default: config.configured().is_none(),
        indexes: config.indexes(),
    })
}

/// What `index add` / `index remove` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexChange {
    /// The index (in its stored form) was added.
    Added(String),
    /// The index was already configured; nothing changed.
    AlreadyPresent(String),
    /// The index (in its stored form) was removed.
    Removed(String),
    /// The index was not configured; nothing changed.
    NotPresent(String),
}

impl IndexChange {
    /// Whether the configuration changed (and the cache should be updated).
    pub fn changed(&self) -> bool {
        matches!(self, IndexChange::Added(_) | IndexChange::Removed(_))
    }
}

/// `plonk index add`: aliases expanded, an existing local folder made absolute against `cwd`.
/// Returns the change and the file written.
pub fn add_index(
    paths: &IndexPaths,
    index: &str,
    cwd: &Path,
) -> Result<(IndexChange, PathBuf), IndexError> {
    let mut config = IndexConfig::open(paths)?;
    let change = match config.add(index, cwd)? {
        Some(stored) => IndexChange::Added(stored),
        None => IndexChange::AlreadyPresent(crate::index::normalize_index(index, cwd)),
    };
    Ok((change, config.path().to_path_buf()))
}

/// `plonk index remove`.
pub fn remove_index(
    paths: &IndexPaths,
    index: &str,
    cwd: &Path,
) -> Result<(IndexChange, PathBuf), IndexError> {
    let mut config = IndexConfig::open(paths)?;
    let change = match config.remove(index, cwd)? {
        Some(stored) => IndexChange::Removed(stored),
        None => IndexChange::NotPresent(index.to_string()),
    };
    Ok((change, config.path().to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_list_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = IndexPaths {
            tutor_root: tmp.path().join("root"),
            config_dir: tmp.path().join("cfg"),
            cache_dir: tmp.path().join("cache"),
        };
        let list = list_indexes(&paths).unwrap();
        assert!(list.default && !list.tutor);
        assert_eq!(list.indexes.len(), 2);
        let (change, file) = add_index(&paths, "https://idx.example", tmp.path()).unwrap();
        assert_eq!(change, IndexChange::Added("https://idx.example".into()));
        assert_eq!(file, paths.plonk_config_file());
        let (change, _) = add_index(&paths, "https://idx.example", tmp.path()).unwrap();
        assert!(!change.changed());
        let (change, _) = remove_index(&paths, "main", tmp.path()).unwrap();
        assert_eq!(
            change,
            IndexChange::Removed(crate::index::MAIN_INDEX.into())
        );
        let list = list_indexes(&paths).unwrap();
        assert!(!list.default);
        assert_eq!(
            list.indexes,
            vec![crate::index::CONTRIB_INDEX, "https://idx.example"]
        );
    }
}
