//! `config.yml`: Tutor's project settings, and plonk's own settings file of the same shape.
//!
//! Reading gives a generic mapping. Writing changes one top-level key by editing the text of
//! that key's block only, so every other key, comment and quoting style of the file is kept
//! byte for byte; the result is re-read and compared with the original before it replaces the
//! file, and an edit that would change anything else is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::TutorError;
use super::yaml;

/// File name of a Tutor project's settings, inside the project root.
pub const CONFIG_FILENAME: &str = "config.yml";
/// Key of `config.yml` that lists enabled plugins.
pub const PLUGINS_KEY: &str = "PLUGINS";
/// Key of `config.yml` that lists plugin indexes.
pub const PLUGIN_INDEXES_KEY: &str = "PLUGIN_INDEXES";

/// A YAML file whose top level is a mapping of settings.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
    /// The file's text; `None` when the file does not exist.
    text: Option<String>,
    values: Map<String, Value>,
}

impl SettingsFile {
    /// Reads `path`; a missing file is an empty mapping, not an error.
    pub fn open(path: &Path) -> Result<Self, TutorError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SettingsFile {
                    path: path.to_path_buf(),
                    text: None,
                    values: Map::new(),
                });
            }
            Err(source) => {
                return Err(TutorError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| TutorError::NotUtf8 {
            path: path.to_path_buf(),
        })?;
        let values = parse_mapping(&text, path)?;
        Ok(SettingsFile {
            path: path.to_path_buf(),
            text: Some(text),
            values,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when it was opened (or has been written since).
    pub fn exists(&self) -> bool {
        self.text.is_some()
    }

    /// Every top-level setting.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// One top-level setting.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// A setting that must be a list of strings: `None` when the key is absent.
    pub fn string_list(&self, key: &str) -> Result<Option<Vec<String>>, TutorError> {
        match self.values.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(self.not_a_string_list(key)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.not_a_string_list(key)),
        }
    }

    fn not_a_string_list(&self, key: &str) -> TutorError {
        TutorError::NotAStringList {
            path: self.path.clone(),
            key: key.to_string(),
        }
    }

    /// Sets `key` to a list of strings and writes the file (creating it and its folder if
    /// needed). Only the text of that key's block changes; the edit is refused when the result
    /// would read back differently for any other key.
    pub fn set_string_list(&mut self, key: &str, items: &[String]) -> Result<(), TutorError> {
        let old_text = self.text.clone().unwrap_or_default();
        let new_text = replace_key_block(&old_text, key, items);
        let new_values = parse_mapping(&new_text, &self.path)?;
        let expected = Value::Array(items.iter().cloned().map(Value::String).collect());
        let mut others_before = self.values.clone();
        others_before.remove(key);
        let mut others_after = new_values.clone();
        let written = others_after.remove(key);
        if written.as_ref() != Some(&expected) || others_before != others_after {
            return Err(TutorError::UnsafeEdit {
                path: self.path.clone(),
                key: key.to_string(),
            });
        }
        write_atomic(&self.path, new_text.as_bytes())?;
        self.text = Some(new_text);
        self.values = new_values;
        Ok(())
    }
}

/// Parses a settings file's text: an empty document is an empty mapping.
fn parse_mapping(text: &str, path: &Path) -> Result<Map<String, Value>, TutorError> {
    match yaml::parse(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(TutorError::NotAMapping {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(TutorError::Yaml {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Whether `line` starts the top-level block of `key` (`KEY:`, `"KEY":` or `'KEY':`).
fn is_key_line(line: &str, key: &str) -> bool {
    let rest = [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .find_map(|k| line.strip_prefix(k.as_str()).map(str::to_string));
    let Some(rest) = rest else {
        return false;
    };
    let Some(after) = rest.trim_start_matches([' ', '\t']).strip_prefix(':') else {
        return false;
    };
    after.is_empty() || after.starts_with([' ', '\t', '\r', '\n'])
}

/// The byte range of the last top-level block of `key`: its line and the indented or `- `
/// lines after it (trailing blank and comment lines stay with what follows).
fn find_key_block(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut found = None;
    let mut offset = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_key_line(line, key) {
            let start = offset;
            let mut end = offset + line.len();
            let mut cursor = end;
            let mut j = i + 1;
            while j < lines.len() {
                let next = lines[j];
                let body = next.trim_end_matches(['\r', '\n']);
                let is_item = body == "-" || body.starts_with("- ") || body.starts_with("-\t");
                if (next.starts_with([' ', '\t']) && !body.trim().is_empty()) || is_item {
                    cursor += next.len();
                    end = cursor;
                } else if body.trim().is_empty() || body.starts_with('#') {
                    cursor += next.len();
                } else {
                    break;
                }
                j += 1;
            }
            found = Some((start, end));
            // Continue after the block: a later duplicate key is the one YAML readers keep.
            offset = end;
            let consumed = text[start..end].split_inclusive('\n').count();
            i += consumed.max(1);
            continue;
        }
        offset += line.len();
        i += 1;
    }
    found
}

/// `text` with the block of `key` replaced by a list of `items` (appended when absent).
fn replace_key_block(text: &str, key: &str, items: &[String]) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let block = yaml::key_with_string_list(key, items, eol);
    match find_key_block(text, key) {
        Some((start, end)) => {
            let mut out = String::with_capacity(text.len() + block.len());
            out.push_str(&text[..start]);
            out.push_str(&block);
            let rest = &text[end..];
            // The replaced block may have lacked a final line break at the end of the file.
            out.push_str(rest);
            out
        }
        None => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(&block);
            out
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into place,
/// keeping the permissions of the file it replaces (config.yml holds passwords).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TutorError> {
    let write_err = |source| TutorError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(write_err)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".plonk-tmp-")
        .tempfile_in(&dir)
        .map_err(write_err)?;
    temp.write_all(bytes).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => new_file_permissions(),
    };
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions).map_err(write_err)?;
    }
    temp.persist(path).map_err(|err| write_err(err.error))?;
    Ok(())
}

/// Permissions for a new file: what a plain `open(…, "w")` would give (0666 less the umask is
/// unknown without libc, so 0644, the common result), instead of the temp file's 0600.
#[cfg(unix)]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    None
}

/// A Tutor project root and its `config.yml`.
#[derive(Debug, Clone)]
pub struct TutorProject {
    root: PathBuf,
    config: SettingsFile,
}

impl TutorProject {
    /// Opens the project at `root`. A missing `config.yml` is not an error (the project is
    /// then "not created yet"); a `config.yml` whose `PLUGINS` or `PLUGIN_INDEXES` is not a list
    /// of strings is, as in Tutor.
    pub fn open(root: &Path) -> Result<Self, TutorError> {
        let config = SettingsFile::open(&root.join(CONFIG_FILENAME))?;
        config.string_list(PLUGIN_INDEXES_KEY)?;
        if let Some(plugins) = config.get(PLUGINS_KEY)
            && !plugins.is_array()
        {
            return Err(config.not_a_string_list(PLUGINS_KEY));
        }
        Ok(TutorProject {
            root: root.to_path_buf(),
            config,
        })
    }

    /// The project root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/config.yml`.
    pub fn config_path(&self) -> &Path {
        self.config.path()
    }

    /// Whether `<root>/config.yml` exists: only then is this a Tutor project whose files plonk
    /// shares (indexes, index cache, enabled plugins).
    pub fn exists(&self) -> bool {
        self.config.exists()
    }

    /// The settings file itself.
    pub fn config(&self) -> &SettingsFile {
        &self.config
    }

    /// Names listed in `PLUGINS` (entries that are not strings are ignored).
    pub fn enabled_plugins(&self) -> Vec<String> {
        match self.config.get(PLUGINS_KEY) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `name` is listed in `PLUGINS`.
    pub fn is_enabled(&self, name: &str) -> bool {
        self.enabled_plugins().iter().any(|p| p == name)
    }

    /// `PLUGIN_INDEXES`, or `None` when the key is absent (Tutor then uses its defaults).
    pub fn plugin_indexes(&self) -> Option<Vec<String>> {
        // `open` checked the type, so an error here cannot happen; treat it as absent anyway.
        self.config.string_list(PLUGIN_INDEXES_KEY).ok().flatten()
    }

    /// Writes `PLUGIN_INDEXES`, keeping every other key of `config.yml` unchanged.
    pub fn set_plugin_indexes(&mut self, indexes: &[String]) -> Result<(), TutorError> {
        self.config.set_string_list(PLUGIN_INDEXES_KEY, indexes)
    }

    /// `<root>/env`, where Tutor renders its environment.
    pub fn env_dir(&self) -> PathBuf {
        self.root.join("env")
    }

    /// `<root>/env/plugins/index/cache.yml`, Tutor's plugin index cache.
    pub fn index_cache_path(&self) -> PathBuf {
        self.env_dir()
            .join("plugins")
            .join("index")
            .join("cache.yml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A config.yml as `tutor config save` writes it (PyYAML, sorted keys, no indent).
    const TUTOR_CONFIG: &str = "CMS_OAUTH2_SECRET: abc\nCONTACT_EMAIL: contact@example.com\nID: xyz\nLMS_HOST: 'www.example.com'\nMYSQL_ROOT_PASSWORD: \"pw: #1\"\nPLUGINS:\n- mfe\n- indigo\nPLUGIN_INDEXES:\n- https://overhang.io/tutor/main\n- https://overhang.io/tutor/contrib\nRUN_CMS: true\nSOME_LIST:\n  - a\n  - b\n# a comment\nZ_NESTED:\n  key: [1, 2]\n";

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join(CONFIG_FILENAME);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_plugins_and_indexes() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), TUTOR_CONFIG);
        let project = TutorProject::open(tmp.path()).unwrap();
        assert!(project.exists());
        assert_eq!(project.enabled_plugins(), vec!["mfe", "indigo"]);
        assert!(project.is_enabled("mfe"));
        assert_eq!(
            project.plugin_indexes().unwrap(),
            vec![
                "https://overhang.io/tutor/main",
                "https://overhang.io/tutor/contrib"
            ]
        );
        assert_eq!(
            project.index_cache_path(),
            tmp.path().join("env/plugins/index/cache.yml")
        );
    }

    #[test]
    fn missing_config_is_not_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let project = TutorProject::open(&tmp.path().join("nowhere")).unwrap();
        assert!(!project.exists());
        assert!(project.enabled_plugins().is_empty());
        assert_eq!(project.plugin_indexes(), None);
    }

    #[test]
    fn bad_configs_are_readable_errors() {
        let rows: &[(&[u8], &str)] = &[
            (b"PLUGIN_INDEXES: main\n", "must be a list of strings"),
            (b"PLUGIN_INDEXES:\n- 1\n", "must be a list of strings"),
            (b"PLUGINS: {a: 1}\n", "must be a list of strings"),
            (b"- a\n- b\n", "must be a YAML mapping"),
            (b"a: [b\n", "is not valid YAML"),
            (b"\xff\xfe: x\n", "is not UTF-8"),
        ];
        for (text, expected) in rows {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::write(tmp.path().join(CONFIG_FILENAME), text).unwrap();
            let err = TutorProject::open(tmp.path()).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("config.yml"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn set_indexes_changes_only_that_block() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), TUTOR_CONFIG);
        let mut project = TutorProject::open(tmp.path()).unwrap();
        let new = vec![
            "https://overhang.io/tutor/main".to_string(),
            "/srv/my index".to_string(),
            "yes".to_string(),
        ];
        project.set_plugin_indexes(&new).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = TUTOR_CONFIG.replace(
            "PLUGIN_INDEXES:\n- https://overhang.io/tutor/main\n- https://overhang.io/tutor/contrib\n",
            "PLUGIN_INDEXES:\n- https://overhang.io/tutor/main\n- /srv/my index\n- \"yes\"\n",
        );
        assert_eq!(text, expected);
        let again = TutorProject::open(tmp.path()).unwrap();
        assert_eq!(again.plugin_indexes().unwrap(), new);
        assert_eq!(again.enabled_plugins(), vec!["mfe", "indigo"]);
    }

    #[test]
    fn set_indexes_appends_when_absent_and_creates_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), "PLUGINS:\n- mfe\nRUN_LMS: false");
        let mut project = TutorProject::open(tmp.path()).unwrap();
        project.set_plugin_indexes(&["a".to_string()]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "PLUGINS:\n- mfe\nRUN_LMS: false\nPLUGIN_INDEXES:\n- a\n"
        );
        project.set_plugin_indexes(&[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "PLUGINS:\n- mfe\nRUN_LMS: false\nPLUGIN_INDEXES: []\n"
        );

        let mut own = SettingsFile::open(&tmp.path().join("sub/dir/config.yml")).unwrap();
        assert!(!own.exists());
        own.set_string_list(PLUGIN_INDEXES_KEY, &["main".to_string()])
            .unwrap();
        assert!(own.exists());
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("sub/dir/config.yml")).unwrap(),
            "PLUGIN_INDEXES:\n- main\n"
        );
    }

    #[test]
    fn block_detection_rows() {
        let rows = [
            // Flow list on the key line.
            ("A: 1\nK: [x, y]\nB: 2\n", "A: 1\nK:\n- new\nB: 2\n"),
            // Indented list and comments inside the block, comment after it kept.
            (
                "K:\n  # inside\n  - x\n\n# after\nB: 2\n",
                "K:\n- new\n\n# after\nB: 2\n",
            ),
            // Quoted key, CRLF line endings.
            ("'K':\r\n- x\r\nB: 2\r\n", "K:\r\n- new\r\nB: 2\r\n"),
            // Last block without a final newline.
            ("B: 2\nK:\n- x", "B: 2\nK:\n- new\n"),
            // A key that merely starts like K is another key.
            ("KK:\n- x\n", "KK:\n- x\nK:\n- new\n"),
            // Document start marker.
            ("---\nK: []\n", "---\nK:\n- new\n"),
        ];
        for (before, after) in rows {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("c.yml");
            std::fs::write(&path, before).unwrap();
            let mut file = SettingsFile::open(&path).unwrap();
            file.set_string_list("K", &["new".to_string()]).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), after, "{before:?}");
        }
    }

    #[test]
    fn unsafe_edits_are_refused_and_leave_the_file() {
        let rows = ["{K: [x], B: 2}\n", "B: 2\n...\n"];
        for before in rows {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("c.yml");
            std::fs::write(&path, before).unwrap();
            let mut file = SettingsFile::open(&path).unwrap();
            let err = file.set_string_list("K", &["n".to_string()]).unwrap_err();
            assert!(
                matches!(err, TutorError::UnsafeEdit { .. } | TutorError::Yaml { .. }),
                "{before:?}: {err}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        }
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), "A: 1\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut project = TutorProject::open(tmp.path()).unwrap();
        project.set_plugin_indexes(&["x".to_string()]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(project.config().values()["A"], json!(1));
    }
}
