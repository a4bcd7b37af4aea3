//! The ownership record of one environment (`<venv>/.plonk/receipt.json`): which plugin came
//! from which index entry and source, and which distributions plonk installed for whom.
//!
//! Written only under the environment lock. Unknown keys are kept so that an older plonk never
//! drops what a newer one recorded (Cargo's rule for its own receipts).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Folder of plonk's own files inside an environment.
pub const PLONK_DIR: &str = ".plonk";
const RECEIPT_FILE: &str = "receipt.json";
const RECEIPT_VERSION: u32 = 1;

/// Why a distribution is in the environment, as far as plonk knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum Reason {
    /// The user asked for it by name (a requirement or `-r` line).
    User,
    /// It is the distribution of this plugin.
    Plugin(String),
    /// It was installed as a dependency of this plugin or requested distribution.
    DependencyOf(String),
}

/// One plugin plonk installed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginRecord {
    /// Normalized name of the distribution that provides the plugin.
    pub distribution: String,
    /// Index file the entry came from, if it came from an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// The entry's `src` (or the target the user typed).
    pub src: String,
    /// For single files and archives: the sha256 of what was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// For git sources: the commit installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Keys written by other plonk versions.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One distribution plonk installed or manages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistRecord {
    /// Version installed.
    pub version: String,
    /// Why it is there; a distribution with no reason left can be removed.
    #[serde(default)]
    pub reasons: BTreeSet<Reason>,
    /// Keys written by other plonk versions.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The whole receipt of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// Format version.
    pub version: u32,
    /// Plugin name → record.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginRecord>,
    /// Normalized distribution name → record.
    #[serde(default)]
    pub distributions: BTreeMap<String, DistRecord>,
    /// Keys written by other plonk versions.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for Receipt {
    fn default() -> Self {
        Receipt {
            version: RECEIPT_VERSION,
            plugins: BTreeMap::new(),
            distributions: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// The receipt could not be read or written.
#[derive(Debug, Error)]
pub enum ReceiptError {
    /// I/O on the receipt file.
    #[error("cannot access plonk's record of the environment at {path}")]
    Io {
        /// The receipt path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a receipt plonk understands.
    #[error("plonk's record of the environment at {path} is damaged; move it away to continue")]
    Parse {
        /// The receipt path.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

impl Receipt {
    /// Path of the receipt inside an environment.
    pub fn path(env_root: &Path) -> PathBuf {
        env_root.join(PLONK_DIR).join(RECEIPT_FILE)
    }

    /// Reads the receipt of an environment; a missing file is an empty receipt.
    pub fn load(env_root: &Path) -> Result<Self, ReceiptError> {
        let path = Self::path(env_root);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| ReceiptError::Parse { path, source }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Receipt::default()),
            Err(source) => Err(ReceiptError::Io { path, source }),
        }
    }

    /// Writes the receipt atomically (temp file, then rename).
    pub fn save(&self, env_root: &Path) -> Result<(), ReceiptError> {
        let path = Self::path(env_root);
        let io = |source| ReceiptError::Io {
            path: path.clone(),
            source,
        };
        let dir = env_root.join(PLONK_DIR);
        std::fs::create_dir_all(&dir).map_err(io)?;
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| ReceiptError::Parse {
            path: path.clone(),
            source,
        })?;
        let tmp = dir.join(format!("{RECEIPT_FILE}.tmp"));
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Adds a reason for a distribution at a version.
    pub fn add_reason(&mut self, dist: &str, version: &str, reason: Reason) {
        let record = self.distributions.entry(dist.to_string()).or_default();
        record.version = version.to_string();
        record.reasons.insert(reason);
    }

    /// Updates the recorded version of a distribution plonk replaced, keeping its reasons.
    pub fn set_version(&mut self, dist: &str, version: &str) {
        if let Some(record) = self.distributions.get_mut(dist) {
            record.version = version.to_string();
        }
    }

    /// Forgets a plugin and every reason that named it; returns the plugin's record.
    pub fn forget_plugin(&mut self, plugin: &str) -> Option<PluginRecord> {
        let record = self.plugins.remove(plugin);
        for dist in self.distributions.values_mut() {
            dist.reasons.retain(|r| match r {
                Reason::Plugin(p) | Reason::DependencyOf(p) => p != plugin,
                Reason::User => true,
            });
        }
        record
    }

    /// Forgets a distribution entirely (it was removed from the environment).
    pub fn forget_distribution(&mut self, dist: &str) {
        self.distributions.remove(dist);
        for d in self.distributions.values_mut() {
            d.reasons
                .retain(|r| !matches!(r, Reason::DependencyOf(p) if p == dist));
        }
    }

    /// The plugin whose distribution is `dist`, if plonk installed one.
    pub fn plugin_of_distribution(&self, dist: &str) -> Option<&str> {
        self.plugins
            .iter()
            .find(|(_, p)| p.distribution == dist)
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_keeps_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"{"version":1,"future":{"a":1},"plugins":{"indigo":{"distribution":"tutor-indigo","src":"tutor-indigo>=22","pinned":true}},"distributions":{"tutor-indigo":{"version":"22.0.0","reasons":[{"kind":"plugin","name":"indigo"}],"origin":"x"}}}"#;
        std::fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
        std::fs::write(Receipt::path(dir.path()), text).unwrap();
        let receipt = Receipt::load(dir.path()).unwrap();
        assert!(receipt.extra.contains_key("future"));
        assert!(receipt.plugins["indigo"].extra.contains_key("pinned"));
        assert!(
            receipt.distributions["tutor-indigo"]
                .extra
                .contains_key("origin")
        );
        receipt.save(dir.path()).unwrap();
        let again = Receipt::load(dir.path()).unwrap();
        assert_eq!(receipt, again);
    }

    #[test]
    fn missing_is_empty_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Receipt::load(dir.path()).unwrap(), Receipt::default());
        std::fs::create_dir_all(dir.path().join(PLONK_DIR)).unwrap();
        for bad in ["", "{", "[]", r#"{"version":"x"}"#, "\u{0}\u{1}"] {
            std::fs::write(Receipt::path(dir.path()), bad).unwrap();
            let err = Receipt::load(dir.path()).unwrap_err();
            assert!(err.to_string().contains("damaged"), "{bad}: {err}");
        }
    }

    #[test]
    fn forgetting_a_plugin_drops_its_reasons() {
        let mut r = Receipt::default();
        r.add_reason("tutor-indigo", "22.0.0", Reason::Plugin("indigo".into()));
        r.add_reason("click", "8.0", Reason::DependencyOf("indigo".into()));
        r.add_reason("click", "8.0", Reason::User);
        r.plugins.insert(
            "indigo".into(),
            PluginRecord {
                distribution: "tutor-indigo".into(),
                src: "tutor-indigo".into(),
                ..Default::default()
            },
        );
        assert_eq!(r.plugin_of_distribution("tutor-indigo"), Some("indigo"));
        r.forget_plugin("indigo");
        assert!(r.distributions["tutor-indigo"].reasons.is_empty());
        assert_eq!(
            r.distributions["click"].reasons.iter().collect::<Vec<_>>(),
            vec![&Reason::User]
        );
    }
}
