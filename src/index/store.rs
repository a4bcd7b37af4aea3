//! Where the index list and the index cache live. With a Tutor project (`<root>/config.yml`
//! exists) they are Tutor's own: `PLUGIN_INDEXES` of `config.yml` and
//! `<root>/env/plugins/index/cache.yml`, so both tools see the same data. Without one they are
//! plonk's: `PLUGIN_INDEXES` of `<config dir>/config.yml` and
//! `<cache dir>/plugin-index-v1/cache.yml`.

use std::path::{Path, PathBuf};

use super::IndexError;
use super::entry::{ParsedIndex, PluginEntry, parse_cache, render_cache};
use super::location::{abspath, expand_alias, is_http, normalize_index};
use crate::tutor::{DEFAULT_PLUGIN_INDEXES, PLUGIN_INDEXES_KEY, SettingsFile, TutorProject};

/// plonk's bucket in the global cache for index data.
pub const INDEX_BUCKET: &str = "plugin-index-v1";

/// The folders the index stage works in, settled by the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPaths {
    /// The Tutor project root (`--root`, `$TUTOR_ROOT`, else `~/.local/share/tutor`).
    pub tutor_root: PathBuf,
    /// plonk's configuration folder (`$XDG_CONFIG_HOME/plonk`).
    pub config_dir: PathBuf,
    /// The global cache folder.
    pub cache_dir: PathBuf,
}

impl IndexPaths {
    /// plonk's own settings file, used when there is no Tutor project.
    pub fn plonk_config_file(&self) -> PathBuf {
        self.config_dir.join("config.yml")
    }

    /// plonk's own index cache, used when there is no Tutor project.
    pub fn plonk_cache_file(&self) -> PathBuf {
        self.cache_dir.join(INDEX_BUCKET).join("cache.yml")
    }

    /// Where fetched index files and their HTTP validators are kept.
    pub fn http_cache_dir(&self) -> PathBuf {
        self.cache_dir.join(INDEX_BUCKET).join("http")
    }
}

/// The configured plugin indexes and the file that holds them.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    file: SettingsFile,
    tutor: Option<TutorProject>,
    cache_path: PathBuf,
}

impl IndexConfig {
    /// Opens Tutor's `config.yml` when the project exists, else plonk's own settings file.
    pub fn open(paths: &IndexPaths) -> Result<Self, IndexError> {
        let project = TutorProject::open(&paths.tutor_root)?;
        if project.exists() {
            return Ok(IndexConfig {
                file: project.config().clone(),
                cache_path: project.index_cache_path(),
                tutor: Some(project),
            });
        }
        let file = SettingsFile::open(&paths.plonk_config_file())?;
        file.string_list(PLUGIN_INDEXES_KEY)?;
        Ok(IndexConfig {
            file,
            tutor: None,
            cache_path: paths.plonk_cache_file(),
        })
    }

    /// The file that holds (or will hold) `PLUGIN_INDEXES`.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Whether the indexes are those of a Tutor project.
    pub fn is_tutor(&self) -> bool {
        self.tutor.is_some()
    }

    /// The Tutor project, when there is one.
    pub fn project(&self) -> Option<&TutorProject> {
        self.tutor.as_ref()
    }

    /// The index cache file that goes with this configuration.
    pub fn cache_path(&self) -> &Path {
        &self.cache_path
    }

    /// `PLUGIN_INDEXES` as written, `None` when unset.
    pub fn configured(&self) -> Option<Vec<String>> {
        self.file.string_list(PLUGIN_INDEXES_KEY).ok().flatten()
    }

    /// The indexes in use: the configured ones, else Tutor's defaults (`main`, `contrib`).
    pub fn indexes(&self) -> Vec<String> {
        self.configured().unwrap_or_else(|| {
            DEFAULT_PLUGIN_INDEXES
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
    }

    /// Adds an index (alias expanded, existing local path made absolute, as
    /// `tutor plugins index add` does) and saves. Returns the stored form, or `None` when the
    /// index was already there.
    pub fn add(&mut self, index: &str, cwd: &Path) -> Result<Option<String>, IndexError> {
        check_index_text(index)?;
        let normalized = normalize_index(index, cwd);
        let mut indexes = self.indexes();
        if indexes.contains(&normalized) {
            return Ok(None);
        }
        indexes.push(normalized.clone());
        self.file.set_string_list(PLUGIN_INDEXES_KEY, &indexes)?;
        Ok(Some(normalized))
    }

    /// Removes an index given as written, as an alias, or as a path (relative paths are
    /// tried made absolute even when the folder is gone) and saves. Returns the removed form,
    /// or `None` when it was not there.
    pub fn remove(&mut self, index: &str, cwd: &Path) -> Result<Option<String>, IndexError> {
        check_index_text(index)?;
        let mut forms = vec![normalize_index(index, cwd), expand_alias(index).to_string()];
        if !is_http(index) {
            forms.push(
                abspath(Path::new(index), cwd)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let mut indexes = self.indexes();
        let Some(position) = indexes.iter().position(|i| forms.contains(i)) else {
            return Ok(None);
        };
        let removed = indexes.remove(position);
        self.file.set_string_list(PLUGIN_INDEXES_KEY, &indexes)?;
        Ok(Some(removed))
    }
}

fn check_index_text(index: &str) -> Result<(), IndexError> {
    if index.trim().is_empty() || index.chars().any(char::is_control) {
        return Err(IndexError::BadIndex(index.escape_debug().to_string()));
    }
    Ok(())
}

/// Reads an index cache: `None` when the file does not exist.
pub fn read_cache(path: &Path) -> Result<Option<ParsedIndex>, IndexError> {
    let wrap = |source: IndexError| IndexError::CacheRead {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(wrap(IndexError::Read {
                index: path.display().to_string(),
                source,
            }));
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        wrap(IndexError::NotUtf8 {
            index: path.display().to_string(),
        })
    })?;
    parse_cache(&text, &path.display().to_string())
        .map(Some)
        .map_err(wrap)
}

/// Writes an index cache atomically, in Tutor's layout.
pub fn write_cache(path: &Path, entries: &[PluginEntry]) -> Result<(), IndexError> {
    crate::cache::write_atomic(path, render_cache(entries).as_bytes()).map_err(|source| {
        IndexError::CacheWrite {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The release an index file location belongs to (`…/<release>/plugins.yml`).
pub fn release_of_location(location: &str) -> Option<&str> {
    let rest = location.strip_suffix("/plugins.yml")?;
    let release = rest.rsplit('/').next()?;
    (!release.is_empty()).then_some(release)
}

/// Whether cached entries were fetched for `release` (an empty cache fits every release).
pub fn cache_is_for_release(entries: &[PluginEntry], release: &str) -> bool {
    entries.is_empty()
        || entries
            .iter()
            .any(|e| release_of_location(&e.index) == Some(release))
}

/// The release of cached entries, when they all agree.
pub fn release_of_entries(entries: &[PluginEntry]) -> Option<String> {
    let mut releases = entries.iter().filter_map(|e| release_of_location(&e.index));
    let first = releases.next()?;
    releases.all(|r| r == first).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::location::{CONTRIB_INDEX, MAIN_INDEX};

    fn paths(tmp: &Path) -> IndexPaths {
        IndexPaths {
            tutor_root: tmp.join("tutor"),
            config_dir: tmp.join("config"),
            cache_dir: tmp.join("cache"),
        }
    }

    #[test]
    fn plonk_file_without_a_tutor_project() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let mut config = IndexConfig::open(&p).unwrap();
        assert!(!config.is_tutor());
        assert_eq!(config.path(), p.plonk_config_file());
        assert_eq!(config.cache_path(), p.plonk_cache_file());
        assert_eq!(config.configured(), None);
        assert_eq!(config.indexes(), vec![MAIN_INDEX, CONTRIB_INDEX]);
        std::fs::create_dir(tmp.path().join("local")).unwrap();
        let added = config.add("local", tmp.path()).unwrap().unwrap();
        assert_eq!(added, tmp.path().join("local").to_string_lossy());
        assert_eq!(config.add("./local/", tmp.path()).unwrap(), None);
        assert_eq!(config.add("main", tmp.path()).unwrap(), None);
        let again = IndexConfig::open(&p).unwrap();
        assert_eq!(again.indexes(), vec![MAIN_INDEX, CONTRIB_INDEX, &added]);
        let mut again = again;
        assert_eq!(
            again.remove("contrib", tmp.path()).unwrap().as_deref(),
            Some(CONTRIB_INDEX)
        );
        std::fs::remove_dir(tmp.path().join("local")).unwrap();
        // The folder is gone; its relative name still removes it.
        assert_eq!(again.remove("local", tmp.path()).unwrap(), Some(added));
        assert_eq!(again.remove("nothing", tmp.path()).unwrap(), None);
        assert_eq!(IndexConfig::open(&p).unwrap().indexes(), vec![MAIN_INDEX]);
    }

    #[test]
    fn tutor_config_when_the_project_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        std::fs::create_dir_all(&p.tutor_root).unwrap();
        let original = "LMS_HOST: local.openedx.io\nPLUGINS:\n- mfe\n";
        std::fs::write(p.tutor_root.join("config.yml"), original).unwrap();
        let mut config = IndexConfig::open(&p).unwrap();
        assert!(config.is_tutor());
        assert_eq!(
            config.cache_path(),
            p.tutor_root.join("env/plugins/index/cache.yml")
        );
        config.add("https://idx.example/", tmp.path()).unwrap();
        let text = std::fs::read_to_string(p.tutor_root.join("config.yml")).unwrap();
        assert_eq!(
            text,
            format!(
                "{original}PLUGIN_INDEXES:\n- {MAIN_INDEX}\n- {CONTRIB_INDEX}\n- https://idx.example/\n"
            )
        );
    }

    #[test]
    fn bad_index_text() {
        let tmp = tempfile::tempdir().unwrap();
        let mut config = IndexConfig::open(&paths(tmp.path())).unwrap();
        for bad in ["", "  ", "a\nb"] {
            let err = config.add(bad, tmp.path()).unwrap_err();
            assert!(err.to_string().contains("is not a plugin index"), "{err}");
        }
    }

    #[test]
    fn releases_of_locations() {
        assert_eq!(
            release_of_location("https://h/main/redwood/plugins.yml"),
            Some("redwood")
        );
        assert_eq!(
            release_of_location("/srv/idx/main/plugins.yml"),
            Some("main")
        );
        assert_eq!(release_of_location("plugins.yml"), None);
        assert_eq!(release_of_location("https://h/x.yml"), None);
    }

    #[test]
    fn cache_read_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache.yml");
        assert!(read_cache(&path).unwrap().is_none());
        std::fs::write(&path, b"{}").unwrap();
        let err = read_cache(&path).unwrap_err();
        assert!(err.to_string().contains("unreadable"), "{err}");
        std::fs::write(&path, b"\xff\xfe").unwrap();
        assert!(read_cache(&path).is_err());
        std::fs::write(
            &path,
            b"- name: a\n  src: b\n  index: https://h/i/ulmo/plugins.yml\n",
        )
        .unwrap();
        let parsed = read_cache(&path).unwrap().unwrap();
        assert!(cache_is_for_release(&parsed.entries, "ulmo"));
        assert!(!cache_is_for_release(&parsed.entries, "teak"));
        assert!(cache_is_for_release(&[], "teak"));
        assert_eq!(release_of_entries(&parsed.entries).as_deref(), Some("ulmo"));
        write_cache(&tmp.path().join("a/b/cache.yml"), &parsed.entries).unwrap();
        let back = read_cache(&tmp.path().join("a/b/cache.yml"))
            .unwrap()
            .unwrap();
        assert_eq!(back.entries, parsed.entries);
    }
}
