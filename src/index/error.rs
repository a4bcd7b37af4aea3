//! Errors of the plugin index stage: each names the index (file URL or path), the plugin or
//! the cache file it is about.

use std::path::PathBuf;

use crate::cache::CacheError;
use crate::http::HttpError;
use crate::source::SourceError;
use crate::tutor::TutorError;

/// A plugin index, the index cache or an index entry that plonk cannot use.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Downloading an index file failed.
    #[error("{}", fetch_message(index, source))]
    Fetch {
        /// The index file URL.
        index: String,
        /// What went wrong.
        #[source]
        source: HttpError,
    },
    /// Reading a local index file failed.
    #[error("could not read the plugin index `{}`", crate::source::redact(index))]
    Read {
        /// The index file path.
        index: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The index file is not UTF-8.
    #[error(
        "the plugin index `{}` is not UTF-8 text",
        crate::source::redact(index)
    )]
    NotUtf8 {
        /// The index file.
        index: String,
    },
    /// The server sent an HTML page (an error or login page) instead of YAML.
    #[error(
        "`{}` returned an HTML page instead of a YAML plugin index; check the index URL",
        crate::source::redact(index)
    )]
    Html {
        /// The index file.
        index: String,
    },
    /// The index file is not YAML.
    #[error(
        "the plugin index `{}` is not valid YAML",
        crate::source::redact(index)
    )]
    Yaml {
        /// The index file.
        index: String,
        /// The parser's message.
        #[source]
        source: crate::tutor::yaml::YamlError,
    },
    /// The index file is YAML but not a list.
    #[error(
        "the plugin index `{}` must be a YAML list of plugins, not {found}",
        crate::source::redact(index)
    )]
    NotAList {
        /// The index file.
        index: String,
        /// What was found instead ("a mapping", "a string"...).
        found: &'static str,
    },
    /// The index cache could not be read.
    #[error("the plugin index cache `{}` is unreadable; run `plonk update` to rebuild it", path.display())]
    CacheRead {
        /// The cache file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<IndexError>,
    },
    /// The index cache could not be written.
    #[error("could not write the plugin index cache `{}`", path.display())]
    CacheWrite {
        /// The cache file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: CacheError,
    },
    /// `config.yml` (or plonk's own settings file) could not be read or written.
    #[error(transparent)]
    Config(#[from] TutorError),
    /// An index given to `index add` / `index remove` that is neither a URL nor a path.
    #[error("`{0}` is not a plugin index (expected an http(s) URL, a folder, `main` or `contrib`)")]
    BadIndex(String),
    /// Every configured index failed during an update.
    #[error(
        "none of the {count} plugin indexes could be fetched; the plugin index cache was left unchanged"
    )]
    AllFailed {
        /// How many indexes were tried.
        count: usize,
    },
    /// No index could be read, there is no cache, and no built-in copy for this release.
    #[error(
        "no plugin index could be fetched, there is no plugin index cache, and plonk has no built-in index for release `{release}`; run `plonk update` when the index is reachable"
    )]
    NoEmbedded {
        /// The release.
        release: String,
    },
    /// The Open edX release is needed (to build index file URLs) and could not be told.
    #[error(
        "cannot tell which Open edX release to use: no `tutor` was found in the target environment; pass `--release NAME` (e.g. `--release redwood`) or `--python VENV`"
    )]
    NoRelease,
    /// A plugin name that no index lists.
    #[error(
        "plugin `{name}` could not be found in the plugin indexes; `plonk search` lists the available plugins"
    )]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// An entry whose `src` plonk cannot use.
    #[error(
        "the `src` of plugin `{entry}` in the plugin index `{}` is not usable",
        crate::source::redact(index)
    )]
    BadSource {
        /// The index file the entry came from.
        index: String,
        /// The plugin name.
        entry: String,
        /// What is wrong with the `src`.
        #[source]
        source: SourceError,
    },
}

/// The sentence of [`IndexError::Fetch`]: offline, it names the command that would fetch it.
fn fetch_message(index: &str, source: &HttpError) -> String {
    let index = crate::source::redact(index);
    if source.is_offline() {
        format!(
            "the plugin index `{index}` is not in the cache and offline mode forbids fetching it; run `plonk update` once without `--offline`"
        )
    } else {
        format!("could not fetch the plugin index `{index}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_messages_hide_passwords_and_name_the_command_offline() {
        let url = url::Url::parse("https://u:pw@idx.example/v/plugins.yml").unwrap();
        let offline = IndexError::Fetch {
            index: url.to_string(),
            source: HttpError::Offline {
                url: crate::http::RedactedUrl::new(&url),
            },
        };
        assert_eq!(
            offline.to_string(),
            "the plugin index `https://u:****@idx.example/v/plugins.yml` is not in the cache and offline mode forbids fetching it; run `plonk update` once without `--offline`"
        );
        let missing = IndexError::Fetch {
            index: url.to_string(),
            source: HttpError::NotFound {
                url: crate::http::RedactedUrl::new(&url),
            },
        };
        assert_eq!(
            missing.to_string(),
            "could not fetch the plugin index `https://u:****@idx.example/v/plugins.yml`"
        );
    }
}
