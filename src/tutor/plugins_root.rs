//! The plugins root (`$TUTOR_PLUGINS_ROOT`, else `~/.local/share/tutor-plugins`): single-file
//! plugins that Tutor discovers, `*.py` (v1, named after the file) and `*.yml` (v0, named by
//! their `name` key).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{TutorError, yaml};

/// The two kinds of single-file plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginFileKind {
    /// A Python module (`*.py`), Tutor's v1 plugin API.
    Python,
    /// A YAML plugin (`*.yml`), Tutor's v0 plugin API.
    Yaml,
}

/// One plugin file of the plugins root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    /// The plugin name: the file stem of a `.py`, the `name` key of a `.yml`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Python or YAML.
    pub kind: PluginFileKind,
    /// The `version` key of a `.yml` plugin.
    pub version: Option<String>,
}

/// A `*.yml` file of the plugins root that Tutor would refuse.
#[derive(Debug, thiserror::Error)]
pub enum PluginFileError {
    /// The file could not be read or parsed.
    #[error(transparent)]
    File(#[from] TutorError),
    /// The file has no string `name`.
    #[error("plugin file `{}` has no `name` key with a string value", path.display())]
    NoName {
        /// The file.
        path: PathBuf,
    },
}

/// The plugin files of `root`, sorted by name, and the `.yml` files that are not valid plugins.
/// A missing folder has no plugins. Like Python's `glob("*.py")`, hidden files are skipped.
pub fn plugin_files(root: &Path) -> (Vec<PluginFile>, Vec<PluginFileError>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return (files, problems);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if file_name.starts_with('.') || !path.is_file() {
            continue;
        }
        if let Some(stem) = file_name.strip_suffix(".py") {
            files.push(PluginFile {
                name: stem.to_string(),
                path,
                kind: PluginFileKind::Python,
                version: None,
            });
        } else if file_name.ends_with(".yml") {
            match read_yaml_plugin(&path) {
                Ok(file) => files.push(file),
                Err(err) => problems.push(err),
            }
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.path.cmp(&b.path)));
    (files, problems)
}

fn read_yaml_plugin(path: &Path) -> Result<PluginFile, PluginFileError> {
    let bytes = std::fs::read(path).map_err(|source| TutorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| TutorError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let value = yaml::parse(&text).map_err(|source| TutorError::Yaml {
        path: path.to_path_buf(),
        source,
    })?;
    let Value::Object(map) = value else {
        return Err(TutorError::NotAMapping {
            path: path.to_path_buf(),
        }
        .into());
    };
    let Some(Value::String(name)) = map.get("name") else {
        return Err(PluginFileError::NoName {
            path: path.to_path_buf(),
        });
    };
    let version = match map.get("version") {
        Some(Value::String(v)) => Some(v.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(PluginFile {
        name: name.clone(),
        path: path.to_path_buf(),
        kind: PluginFileKind::Yaml,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_py_and_yml_plugins() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("zeta.py"), "print()").unwrap();
        std::fs::write(root.join("alpha.yml"), "name: myalpha\nversion: 1.2.0\n").unwrap();
        std::fs::write(root.join("noname.yml"), "version: 1\n").unwrap();
        std::fs::write(root.join("list.yml"), "- a\n").unwrap();
        std::fs::write(root.join("broken.yml"), "name: [\n").unwrap();
        std::fs::write(root.join(".hidden.py"), "").unwrap();
        std::fs::write(root.join("notes.txt"), "").unwrap();
        std::fs::create_dir(root.join("dir.py")).unwrap();
        let (files, problems) = plugin_files(root);
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["myalpha", "zeta"]);
        assert_eq!(files[0].version.as_deref(), Some("1.2.0"));
        assert_eq!(files[0].kind, PluginFileKind::Yaml);
        assert_eq!(files[1].kind, PluginFileKind::Python);
        assert_eq!(problems.len(), 3);
        for p in &problems {
            assert!(!p.to_string().contains('\n'), "{p}");
        }
    }

    #[test]
    fn missing_root_is_empty() {
        let (files, problems) = plugin_files(Path::new("/nonexistent/plonk/plugins"));
        assert!(files.is_empty() && problems.is_empty());
    }
}
