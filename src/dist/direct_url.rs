//! PEP 610 `direct_url.json`: where a distribution installed from a URL, VCS or local
//! directory came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DistError;

/// The content of `direct_url.json`. Exactly one of `archive_info`, `vcs_info`, `dir_info`
/// is set in valid data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectUrl {
    /// The URL (credentials must have been removed by the caller).
    pub url: String,
    /// Set for an archive (wheel or sdist file) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_info: Option<ArchiveInfo>,
    /// Set for a VCS URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs_info: Option<VcsInfo>,
    /// Set for a local directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_info: Option<DirInfo>,
    /// Subdirectory of the source that holds the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
}

/// `archive_info` of PEP 610.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveInfo {
    /// Deprecated single `<algo>=<hex>` hash, still written for older readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Algorithm → hex digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
}

/// `vcs_info` of PEP 610.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VcsInfo {
    /// `git`, `hg`, `bzr` or `svn`.
    pub vcs: String,
    /// The exact commit installed.
    pub commit_id: String,
    /// The branch, tag or ref the user asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_revision: Option<String>,
}

/// `dir_info` of PEP 610.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirInfo {
    /// Whether installed in editable mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<bool>,
}

impl DirectUrl {
    /// An archive URL with its sha256 (hex).
    pub fn archive(url: impl Into<String>, sha256: Option<&str>) -> Self {
        let info = match sha256 {
            Some(h) => ArchiveInfo {
                hash: Some(format!("sha256={h}")),
                hashes: Some(BTreeMap::from([("sha256".to_string(), h.to_string())])),
            },
            None => ArchiveInfo::default(),
        };
        DirectUrl {
            url: url.into(),
            archive_info: Some(info),
            vcs_info: None,
            dir_info: None,
            subdirectory: None,
        }
    }

    /// A VCS URL (without the `git+` prefix, as PEP 610 wants) at a commit.
    pub fn vcs(
        url: impl Into<String>,
        vcs: impl Into<String>,
        commit_id: impl Into<String>,
        requested_revision: Option<String>,
    ) -> Self {
        DirectUrl {
            url: url.into(),
            archive_info: None,
            vcs_info: Some(VcsInfo {
                vcs: vcs.into(),
                commit_id: commit_id.into(),
                requested_revision,
            }),
            dir_info: None,
            subdirectory: None,
        }
    }

    /// A local directory (`file://` URL).
    pub fn dir(url: impl Into<String>, editable: bool) -> Self {
        DirectUrl {
            url: url.into(),
            archive_info: None,
            vcs_info: None,
            dir_info: Some(DirInfo {
                editable: editable.then_some(true),
            }),
            subdirectory: None,
        }
    }

    /// Parse `direct_url.json`.
    pub fn parse(bytes: &[u8]) -> Result<Self, DistError> {
        serde_json::from_slice(bytes).map_err(|source| DistError::InvalidDirectUrl { source })
    }

    /// Render as JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The sha256 hex digest of an archive, from `hashes` or the legacy `hash`.
    pub fn archive_sha256(&self) -> Option<&str> {
        let info = self.archive_info.as_ref()?;
        info.hashes
            .as_ref()
            .and_then(|h| h.get("sha256"))
            .map(String::as_str)
            .or_else(|| info.hash.as_deref()?.strip_prefix("sha256="))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for d in [
            DirectUrl::archive("https://example.org/foo-1.0-py3-none-any.whl", Some("abcd")),
            DirectUrl::archive("file:///tmp/foo.py", None),
            DirectUrl::vcs(
                "https://github.com/overhangio/tutor-mfe",
                "git",
                "0123abcd",
                Some("main".into()),
            ),
            DirectUrl::dir("file:///src/foo", true),
        ] {
            assert_eq!(DirectUrl::parse(d.to_json().as_bytes()).unwrap(), d);
        }
        let d = DirectUrl::archive("https://x/y.whl", Some("abcd"));
        assert_eq!(d.archive_sha256(), Some("abcd"));
        assert!(d.to_json().contains("\"hashes\":{\"sha256\":\"abcd\"}"));
    }

    #[test]
    fn parse_pip_written() {
        let d = DirectUrl::parse(
            br#"{"url": "https://h/x.tar.gz", "archive_info": {"hash": "sha256=ff"}}"#,
        )
        .unwrap();
        assert_eq!(d.archive_sha256(), Some("ff"));
        let d = DirectUrl::parse(br#"{"url": "file:///a", "dir_info": {}}"#).unwrap();
        assert_eq!(d.dir_info, Some(DirInfo { editable: None }));
    }

    #[test]
    fn parse_garbage() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"archive_info\":{}}",
            b"{\"url\": 3}",
        ] {
            assert!(DirectUrl::parse(bad).is_err());
        }
    }
}
