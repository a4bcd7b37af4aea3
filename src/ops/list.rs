//! `plonk list`, and the plugin status every index command shows: which Tutor plugins are
//! installed (entry points in `tutor.plugin.v1` / `tutor.plugin.v0`, files in the plugins
//! root) and which are enabled (`PLUGINS` of `config.yml`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::dist::{PackageName, Version};
use crate::environment::{EnvError, PythonEnvironment};
use crate::index::PluginEntry;
use crate::ops::Reporter;
use crate::tutor::{PluginFileKind, plugin_files};

/// The entry-point groups Tutor loads plugins from.
pub const PLUGIN_GROUPS: &[&str] = &["tutor.plugin.v1", "tutor.plugin.v0"];

/// A plugin's status, as in Tutor's `plugin_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PluginStatus {
    /// Installed and listed in `PLUGINS`.
    Enabled,
    /// Installed, not enabled.
    Installed,
    /// Not installed.
    NotInstalled,
}

impl PluginStatus {
    /// The word used in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginStatus::Enabled => "enabled",
            PluginStatus::Installed => "installed",
            PluginStatus::NotInstalled => "not installed",
        }
    }

    /// The text of the STATUS column, exactly as Tutor prints it.
    pub fn label(self) -> &'static str {
        match self {
            PluginStatus::Enabled => "✅ enabled",
            PluginStatus::Installed => "installed",
            PluginStatus::NotInstalled => "not installed",
        }
    }
}

/// Where an installed plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// An entry point of a distribution in the environment.
    Distribution {
        /// The distribution.
        name: PackageName,
        /// Its version.
        version: Version,
        /// The URL of a `direct_url.json` (git, URL or path installs).
        direct_url: Option<String>,
    },
    /// A file of the plugins root.
    File {
        /// The file.
        path: PathBuf,
        /// Python or YAML.
        kind: PluginFileKind,
    },
}

/// One installed plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPlugin {
    /// The plugin name (entry-point name, file stem, or a YAML plugin's `name`).
    pub name: String,
    /// Tutor's VERSION column: the distribution version, a `.py` file's path, a YAML plugin's
    /// `version`.
    pub version: String,
    /// Where it comes from.
    pub origin: PluginOrigin,
}

impl InstalledPlugin {
    /// Where the plugin comes from, for `list -v`: `name==version` (or the direct URL) of its
    /// distribution, or the file.
    pub fn source(&self) -> String {
        match &self.origin {
            PluginOrigin::Distribution {
                name,
                version,
                direct_url,
            } => match direct_url {
                Some(url) => format!("{name} @ {}", crate::source::redact(url)),
                None => format!("{name}=={version}"),
            },
            PluginOrigin::File { path, .. } => path.display().to_string(),
        }
    }
}

/// The installed and enabled plugins of one environment and plugins root.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Installed plugins, sorted by name.
    pub plugins: Vec<InstalledPlugin>,
    /// Distribution → the plugin names of its entry points.
    pub by_distribution: BTreeMap<PackageName, Vec<String>>,
    /// `PLUGINS` of `config.yml`.
    pub enabled: BTreeSet<String>,
}

/// Finds the plugins of `env` (when there is one) and of `plugins_root`. Unreadable
/// distributions and invalid plugin files are reported as warnings and left out.
pub fn discover(
    env: Option<&PythonEnvironment>,
    plugins_root: &Path,
    enabled: Vec<String>,
    reporter: &dyn Reporter,
) -> Result<Discovery, EnvError> {
    let mut discovery = Discovery {
        enabled: enabled.into_iter().collect(),
        ..Discovery::default()
    };
    if let Some(env) = env {
        for dist in env.installed()? {
            let entry_points = match dist.entry_points() {
                Ok(eps) => eps,
                Err(err) => {
                    reporter.warn(&crate::index::error_chain(&err));
                    continue;
                }
            };
            let direct_url = dist.direct_url().ok().flatten().map(|d| d.url);
            for group in PLUGIN_GROUPS {
                for ep in entry_points.groups.get(*group).into_iter().flatten() {
                    discovery
                        .by_distribution
                        .entry(dist.name.clone())
                        .or_default()
                        .push(ep.name.clone());
                    discovery.plugins.push(InstalledPlugin {
                        name: ep.name.clone(),
                        version: dist.version.to_string(),
                        origin: PluginOrigin::Distribution {
                            name: dist.name.clone(),
                            version: dist.version.clone(),
                            direct_url: direct_url.clone(),
                        },
                    });
                }
            }
        }
    }
    let (files, problems) = plugin_files(plugins_root);
    for problem in problems {
        reporter.warn(&crate::index::error_chain(&problem));
    }
    for file in files {
        let version = match file.kind {
            PluginFileKind::Python => file.path.display().to_string(),
            PluginFileKind::Yaml => file.version.clone().unwrap_or_default(),
        };
        discovery.plugins.push(InstalledPlugin {
            name: file.name,
            version,
            origin: PluginOrigin::File {
                path: file.path,
                kind: file.kind,
            },
        });
    }
    discovery.plugins.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(discovery)
}

impl Discovery {
    /// Whether a plugin of this name is installed.
    pub fn is_installed(&self, name: &str) -> bool {
        self.plugins.iter().any(|p| p.name == name)
    }

    /// The status of an installed plugin name.
    pub fn status_of_name(&self, name: &str) -> PluginStatus {
        if !self.is_installed(name) {
            PluginStatus::NotInstalled
        } else if self.enabled.contains(name) {
            PluginStatus::Enabled
        } else {
            PluginStatus::Installed
        }
    }

    /// The plugin names an index entry goes by: its own name, and the entry-point names of the
    /// installed distributions its `src` names (`mfe-extensions` installs `mfe_extensions`).
    pub fn names_of_entry(&self, entry: &PluginEntry) -> Vec<String> {
        let mut names = vec![entry.name.clone()];
        if let Ok(source) = entry.source() {
            for dist in source.distribution_names() {
                for name in self.by_distribution.get(&dist).into_iter().flatten() {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        names
    }

    /// The status of an index entry: the best status of the names it goes by.
    pub fn status_of_entry(&self, entry: &PluginEntry) -> PluginStatus {
        self.names_of_entry(entry)
            .iter()
            .map(|n| self.status_of_name(n))
            .min()
            .unwrap_or(PluginStatus::NotInstalled)
    }
}

/// One row of `plonk list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// Plugin name.
    pub name: String,
    /// Enabled or installed.
    pub status: PluginStatus,
    /// Tutor's VERSION column.
    pub version: String,
    /// Where it comes from (shown with `-v`).
    pub source: String,
}

/// The rows of `plonk list` (`--enabled`: only enabled plugins), sorted by name, one per
/// plugin as Tutor lists them.
pub fn list(discovery: &Discovery, enabled_only: bool) -> Vec<ListRow> {
    discovery
        .plugins
        .iter()
        .map(|p| ListRow {
            name: p.name.clone(),
            status: discovery.status_of_name(&p.name),
            version: p.version.replace('\n', " "),
            source: p.source(),
        })
        .filter(|row| !enabled_only || row.status == PluginStatus::Enabled)
        .collect()
}

/// Tutor's `utils.format_table`: columns padded to their widest value (in characters) and
/// separated by a tab, the last column not padded, no final newline.
pub fn format_table(rows: &[Vec<String>]) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let columns = first.len();
    let mut widths = vec![1; columns];
    for row in rows {
        for (c, value) in row.iter().enumerate().take(columns) {
            widths[c] = widths[c].max(value.chars().count());
        }
    }
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate().take(columns) {
            out.push_str(value);
            if c + 1 < columns {
                let pad = widths[c].saturating_sub(value.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
                out.push('\t');
            }
        }
        if r + 1 < rows.len() {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::SilentReporter;

    fn entry(name: &str, src: &str) -> PluginEntry {
        PluginEntry {
            name: name.to_string(),
            src: src.to_string(),
            url: None,
            author: None,
            maintainer: None,
            description: None,
            index: "i".to_string(),
            extra: Default::default(),
        }
    }

    fn dist_plugin(name: &str, dist: &str) -> InstalledPlugin {
        InstalledPlugin {
            name: name.to_string(),
            version: "1.0".to_string(),
            origin: PluginOrigin::Distribution {
                name: dist.parse().unwrap(),
                version: "1.0".parse().unwrap(),
                direct_url: None,
            },
        }
    }

    #[test]
    fn statuses_match_through_the_distribution() {
        let mut d = Discovery::default();
        d.plugins.push(dist_plugin("mfe", "tutor-mfe"));
        d.plugins.push(dist_plugin(
            "mfe_extensions",
            "tutor-contrib-mfe-extensions",
        ));
        d.by_distribution
            .insert("tutor-mfe".parse().unwrap(), vec!["mfe".into()]);
        d.by_distribution.insert(
            "tutor-contrib-mfe-extensions".parse().unwrap(),
            vec!["mfe_extensions".into()],
        );
        d.enabled.insert("mfe_extensions".to_string());
        assert_eq!(
            d.status_of_entry(&entry("mfe", "tutor-mfe>=18")),
            PluginStatus::Installed
        );
        assert_eq!(
            d.status_of_entry(&entry(
                "mfe-extensions",
                "tutor-contrib-mfe-extensions>=18,<19"
            )),
            PluginStatus::Enabled
        );
        assert_eq!(
            d.status_of_entry(&entry("notes", "tutor-notes")),
            PluginStatus::NotInstalled
        );
        // Enabled but not installed is "not installed", as in Tutor.
        d.enabled.insert("forum".to_string());
        assert_eq!(
            d.status_of_entry(&entry("forum", "tutor-forum")),
            PluginStatus::NotInstalled
        );
        let rows = list(&d, false);
        assert_eq!(rows.len(), 2);
        assert_eq!(list(&d, true).len(), 1);
        assert_eq!(rows[0].source, "tutor-mfe==1.0");
    }

    #[test]
    fn plugins_root_files_are_discovered() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("myplugin.py"), "").unwrap();
        std::fs::write(
            tmp.path().join("theme.yml"),
            "name: theme\nversion: 0.1.0\n",
        )
        .unwrap();
        let d = discover(None, tmp.path(), vec!["theme".into()], &SilentReporter).unwrap();
        let rows = list(&d, false);
        assert_eq!(rows[0].name, "myplugin");
        assert_eq!(
            rows[0].version,
            tmp.path().join("myplugin.py").display().to_string()
        );
        assert_eq!(rows[1].status, PluginStatus::Enabled);
        assert_eq!(rows[1].version, "0.1.0");
    }

    #[test]
    fn table_like_tutor() {
        let rows = vec![
            vec!["NAME".into(), "STATUS".into(), "DESCRIPTION".into()],
            vec!["mfe".into(), "✅ enabled".into(), "Micro frontends".into()],
            vec!["notes".into(), "not installed".into(), "".into()],
        ];
        assert_eq!(
            format_table(&rows),
            "NAME \tSTATUS       \tDESCRIPTION\nmfe  \t✅ enabled    \tMicro frontends\nnotes\tnot installed\t"
        );
        assert_eq!(format_table(&[]), "");
    }
}
