//! `plonk show NAME`: an index entry's fields (Tutor's `Name:`, `Source:`, `Status:`…) and
//! what `plonk install NAME` would install: the version picked from the package index, or the
//! git reference, URL or file its `src` names.

use std::fmt;

use pep508_rs::VersionOrUrl;

use crate::dist::{PackageName, Version};
use crate::index::{IndexError, PluginEntry, find_entry};
use crate::ops::list::{Discovery, PluginOrigin, PluginStatus};
use crate::registry::{FindLinks, IndexLocations, RegistryClient};
use crate::source::{FileLocation, Source, SourceLine, SourceOptions, redact};

/// What installing a plugin would give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallPick {
    /// A version of a distribution from a package index.
    Version {
        /// The distribution.
        name: PackageName,
        /// The version.
        version: Version,
        /// Whether that version is already installed (install keeps it).
        installed: bool,
    },
    /// A direct URL requirement.
    Url {
        /// The distribution.
        name: PackageName,
        /// The URL (credentials hidden).
        url: String,
    },
    /// A git repository.
    Git {
        /// The repository URL (credentials hidden).
        url: String,
        /// The branch, tag or commit.
        reference: Option<String>,
    },
    /// A single-file plugin.
    File {
        /// Its URL or path.
        location: String,
    },
    /// The version could not be told.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for InstallPick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallPick::Version {
                name,
                version,
                installed,
            } => {
                write!(f, "{name}=={version}")?;
                if *installed {
                    f.write_str(" (installed)")?;
                }
                Ok(())
            }
            InstallPick::Url { name, url } => write!(f, "{name} @ {url}"),
            InstallPick::Git { url, reference } => match reference {
                Some(r) => write!(f, "git {url}@{r}"),
                None => write!(f, "git {url} (default branch)"),
            },
            InstallPick::File { location } => write!(f, "single file {location}"),
            InstallPick::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}

/// Everything `plonk show` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginDetails {
    /// The index entry.
    pub entry: PluginEntry,
    /// Its status in the environment.
    pub status: PluginStatus,
    /// What `install` would pick.
    pub install: InstallPick,
}

/// Where to look versions up.
pub struct VersionLookup<'a> {
    /// The registry with the user's package sources.
    pub registry: &'a RegistryClient,
    /// The target interpreter's full version, to honour `Requires-Python`.
    pub python: Option<Version>,
}

/// Shows the entry `name`. Without a `lookup` (no network, no environment) the version is
/// reported as unknown.
pub async fn show(
    entries: &[PluginEntry],
    name: &str,
    discovery: &Discovery,
    lookup: Option<&VersionLookup<'_>>,
) -> Result<PluginDetails, IndexError> {
    let entry = find_entry(entries, name)?.clone();
    let status = discovery.status_of_entry(&entry);
    let install = match entry.source() {
        Err(err) => InstallPick::Unknown {
            reason: crate::index::error_chain(&err),
        },
        Ok(source) => pick(&source, discovery, lookup).await,
    };
    Ok(PluginDetails {
        entry,
        status,
        install,
    })
}

async fn pick(
    source: &Source,
    discovery: &Discovery,
    lookup: Option<&VersionLookup<'_>>,
) -> InstallPick {
    let (lines, options) = match source {
        Source::SingleFile(file) => {
            let location = match &file.location {
                FileLocation::Url(url) => redact(url.as_str()),
                FileLocation::Path(path) => path.display().to_string(),
            };
            return InstallPick::File { location };
        }
        Source::Requirements { lines, options } => (lines, options),
    };
    let Some(first) = lines.first() else {
        return InstallPick::Unknown {
            reason: "the source names nothing".to_string(),
        };
    };
    let requirement = match first {
        SourceLine::Git(git) => {
            return InstallPick::Git {
                url: redact(git.url.as_str()),
                reference: git.reference.clone(),
            };
        }
        SourceLine::Requirement(requirement) => requirement,
    };
    let specifiers = match &requirement.version_or_url {
        Some(VersionOrUrl::Url(url)) => {
            return InstallPick::Url {
                name: requirement.name.clone(),
                url: redact(url.as_str()),
            };
        }
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers.clone()),
        None => None,
    };
    let installed = installed_version(discovery, &requirement.name);
    if let Some(version) = &installed
        && specifiers.as_ref().is_none_or(|s| s.contains(version))
    {
        return InstallPick::Version {
            name: requirement.name.clone(),
            version: version.clone(),
            installed: true,
        };
    }
    let Some(lookup) = lookup else {
        return InstallPick::Unknown {
            reason: "the package index was not consulted".to_string(),
        };
    };
    let own_registry;
    let registry = if options.is_empty() {
        lookup.registry
    } else {
        own_registry = RegistryClient::new(
            lookup.registry.http().clone(),
            with_entry_options(lookup.registry.locations(), options),
        );
        &own_registry
    };
    let candidates = match registry.candidates(&requirement.name).await {
        Ok(c) => c,
        Err(err) => {
            return InstallPick::Unknown {
                reason: crate::index::error_chain(&err),
            };
        }
    };
    let allowed: Vec<&Version> = candidates
        .iter()
        .filter(|c| !c.yanked)
        .filter(|c| specifiers.as_ref().is_none_or(|s| s.contains(&c.version)))
        .filter(|c| match (&c.requires_python, &lookup.python) {
            (Some(rp), Some(py)) => rp.contains(py),
            _ => true,
        })
        .map(|c| &c.version)
        .collect();
    let best_stable = allowed.iter().filter(|v| !v.any_prerelease()).max();
    let best = best_stable.or_else(|| allowed.iter().max());
    match best {
        Some(version) => InstallPick::Version {
            name: requirement.name.clone(),
            version: (*version).clone(),
            installed: false,
        },
        None => InstallPick::Unknown {
            reason: format!(
                "no version of `{}` matches `{requirement}`",
                requirement.name
            ),
        },
    }
}

/// The user's package sources with an entry's own options applied (its `--index-url`
/// replaces the main index; extra indexes and find-links are added).
pub fn with_entry_options(base: &IndexLocations, options: &SourceOptions) -> IndexLocations {
    let mut locations = base.clone();
    if let Some(index_url) = &options.index_url {
        locations.index_url = Some(index_url.clone());
    }
    locations
        .extra_index_urls
        .extend(options.extra_index_urls.iter().cloned());
    locations
        .find_links
        .extend(options.find_links.iter().map(|f| FindLinks::parse(f)));
    locations
}

fn installed_version(discovery: &Discovery, name: &PackageName) -> Option<Version> {
    discovery.plugins.iter().find_map(|p| match &p.origin {
        PluginOrigin::Distribution {
            name: dist,
            version,
            ..
        } if dist == name => Some(version.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<PluginEntry> {
        crate::index::merge(
            crate::index::parse_index(text, "https://h/main/redwood/plugins.yml")
                .unwrap()
                .entries,
        )
    }

    #[tokio::test]
    async fn picks_without_a_registry() {
        let e = entries(
            "- name: git\n  src: -e git+https://u:pw@h/r@v1#egg=r\n- name: file\n  src: https://h/p.py\n- name: req\n  src: tutor-req>=1\n- name: url\n  src: x @ https://h/x-1.0-py3-none-any.whl\n",
        );
        let d = Discovery::default();
        let pick = |name: &'static str| {
            let e = e.clone();
            let d = d.clone();
            async move { show(&e, name, &d, None).await.unwrap().install.to_string() }
        };
        assert_eq!(pick("git").await, "git https://u:****@h/r@v1");
        assert_eq!(pick("file").await, "single file https://h/p.py");
        assert_eq!(
            pick("req").await,
            "unknown (the package index was not consulted)"
        );
        assert_eq!(pick("url").await, "x @ https://h/x-1.0-py3-none-any.whl");
        let err = show(&e, "missing", &d, None).await.unwrap_err();
        assert!(
            err.to_string().contains("`missing` could not be found"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn installed_version_is_kept() {
        let e = entries("- name: mfe\n  src: tutor-mfe>=18,<19\n");
        let mut d = Discovery::default();
        d.plugins.push(crate::ops::list::InstalledPlugin {
            name: "mfe".into(),
            version: "18.1.0".into(),
            origin: PluginOrigin::Distribution {
                name: "tutor-mfe".parse().unwrap(),
                version: "18.1.0".parse().unwrap(),
                direct_url: None,
            },
        });
        d.by_distribution
            .insert("tutor-mfe".parse().unwrap(), vec!["mfe".into()]);
        let details = show(&e, "MFE", &d, None).await.unwrap();
        assert_eq!(details.install.to_string(), "tutor-mfe==18.1.0 (installed)");
        assert_eq!(details.status, PluginStatus::Installed);
    }

    #[test]
    fn entry_options_apply() {
        let base = IndexLocations::default();
        let options = SourceOptions {
            index_url: Some("https://i.example/simple".parse().unwrap()),
            extra_index_urls: vec!["https://e.example/simple".parse().unwrap()],
            find_links: vec!["/srv/wheels".into()],
        };
        let merged = with_entry_options(&base, &options);
        assert_eq!(
            merged.index_url.unwrap().as_str(),
            "https://i.example/simple"
        );
        assert_eq!(merged.extra_index_urls.len(), 1);
        assert_eq!(
            merged.find_links,
            vec![FindLinks::Path("/srv/wheels".into())]
        );
    }
}
