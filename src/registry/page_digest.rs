//! Page digests: what a project page said once it was parsed and filtered (its kept
//! [`Link`]s, the JSON API's `info` fields plonk reads, and how many files the filter
//! dropped), stored beside the HTTP cache and stamped with the cached body's identity.
//!
//! PyPI's project pages reach 12 MB, and a warm run would otherwise read and parse every one
//! of them again although the cached body did not change. A digest is used only when its
//! body id equals the one of the HTTP cache entry that answered (fresh, revalidated or
//! offline), which the cache can tell without reading the body; a new body (a 200) has a new
//! id, so its digest is simply not found and the page is parsed again.
//!
//! Layout: `<http cache>/pages-v1/<sha256 of (format, page URL, Accept, filter key)>`, one
//! JSON document each, written to a temporary file in the same folder and renamed into place
//! (processes sharing the cache see the old digest or the new one, never a torn one).
//! Anything unreadable, of another format or for another body is ignored: the page is parsed.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::links::{CoreMetadata, Link};

/// The folder, inside the HTTP cache folder, that holds the digests. The version is bumped
/// with [`FORMAT`] so that an older plonk sharing the cache never reads a newer layout.
pub(crate) const DIGEST_FOLDER: &str = "pages-v1";

/// The digest format, also written in each digest.
const FORMAT: u32 = 1;

/// The keys of the JSON API's `info` object that the registry reads (see
/// `metadata_from_json_info`); the rest (the long description above all) is not kept.
const INFO_KEYS: [&str; 5] = [
    "version",
    "requires_dist",
    "requires_python",
    "provides_extra",
    "summary",
];

/// What a page said, after the file filter: the input of `to_candidates`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ParsedPage {
    /// The files kept by the filter.
    pub(crate) links: Vec<Link>,
    /// The JSON API's `info` object (only [`INFO_KEYS`] once it went through a digest).
    pub(crate) info: Option<Value>,
    /// How many files the filter dropped, with one of their names.
    pub(crate) dropped: Option<(usize, String)>,
}

/// The stored form of a [`ParsedPage`].
#[derive(Debug, Serialize, Deserialize)]
struct Digest<'a> {
    format: u32,
    /// The HTTP cache entry's body id this was derived from.
    body_id: String,
    /// The page URL after redirects, that relative links were resolved against.
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dropped: Option<(usize, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    info: Option<Value>,
    #[serde(borrow)]
    links: Vec<DigestLink<'a>>,
}

/// A [`Link`] with short keys: pages keep hundreds of files.
#[derive(Debug, Serialize, Deserialize)]
struct DigestLink<'a> {
    #[serde(rename = "f")]
    filename: String,
    /// Borrowed from the digest where it can be: it is only parsed.
    #[serde(rename = "u", borrow)]
    url: Cow<'a, str>,
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    requires_python: Option<String>,
    #[serde(rename = "y", default, skip_serializing_if = "is_false")]
    yanked: bool,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// PEP 658: absent, `""` (available, no hash) or the sha256.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    core_metadata: Option<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The digest file of `page` asked with `accept` and read through the filter `filter_key`.
pub(crate) fn digest_path(
    http_cache: &Path,
    page: &Url,
    accept: Option<&str>,
    filter_key: &str,
) -> PathBuf {
    let key = crate::cache::cache_key(&[
        &FORMAT.to_le_bytes(),
        page.as_str().as_bytes(),
        accept.unwrap_or("").as_bytes(),
        filter_key.as_bytes(),
    ]);
    http_cache.join(DIGEST_FOLDER).join(key)
}

/// The page stored at `path` for the body `body_id` of the page at `url`; `None` when
/// missing, unreadable, of another format or for another body.
pub(crate) fn read(path: &Path, body_id: &str, url: &Url) -> Option<ParsedPage> {
    let bytes = std::fs::read(path).ok()?;
    let digest: Digest = serde_json::from_slice(&bytes).ok()?;
    if digest.format != FORMAT || digest.body_id != body_id || digest.url != url.as_str() {
        return None;
    }
    let links = digest
        .links
        .into_iter()
        .map(|link| {
            Some(Link {
                filename: link.filename,
                url: Url::parse(&link.url).ok()?,
                sha256: link.sha256,
                requires_python: link.requires_python,
                yanked: link.yanked,
                size: link.size,
                core_metadata: match link.core_metadata {
                    None => CoreMetadata::Absent,
                    Some(hash) if hash.is_empty() => CoreMetadata::Available,
                    Some(hash) => CoreMetadata::Sha256(hash),
                },
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ParsedPage {
        links,
        info: digest.info,
        dropped: digest.dropped,
    })
}

/// Store `page`, parsed from the body `body_id` of the page at `url`, atomically.
pub(crate) fn write(
    path: &Path,
    body_id: &str,
    url: &Url,
    page: &ParsedPage,
) -> std::io::Result<()> {
    let digest = Digest {
        format: FORMAT,
        body_id: body_id.to_string(),
        url: url.to_string(),
        dropped: page.dropped.clone(),
        info: page.info.as_ref().map(reduced_info),
        links: page
            .links
            .iter()
            .map(|link| DigestLink {
                filename: link.filename.clone(),
                url: Cow::Borrowed(link.url.as_str()),
                sha256: link.sha256.clone(),
                requires_python: link.requires_python.clone(),
                yanked: link.yanked,
                size: link.size,
                core_metadata: match &link.core_metadata {
                    CoreMetadata::Absent => None,
                    CoreMetadata::Available => Some(String::new()),
                    CoreMetadata::Sha256(hash) => Some(hash.clone()),
                },
            })
            .collect(),
    };
    let bytes = serde_json::to_vec(&digest).map_err(std::io::Error::other)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // No fsync: a digest lost or torn by a crash is garbage, ignored, and written again.
    let mut temp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    temp.write_all(&bytes)?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// The `info` object with only the keys the registry reads.
fn reduced_info(info: &Value) -> Value {
    match info {
        Value::Object(map) => Value::Object(
            INFO_KEYS
                .iter()
                .filter_map(|key| Some((key.to_string(), map.get(*key)?.clone())))
                .collect(),
        ),
        // Not an object: kept as it is, so reading it fails the same way it did.
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> ParsedPage {
        let url = |f: &str| Url::parse(&format!("https://files.example/p/{f}")).unwrap();
        ParsedPage {
            links: vec![
                Link {
                    filename: "demo-1.0.tar.gz".into(),
                    url: url("demo-1.0.tar.gz"),
                    sha256: Some("ab".repeat(32)),
                    requires_python: Some(">=3.8".into()),
                    yanked: true,
                    size: Some(12),
                    core_metadata: CoreMetadata::Sha256("cd".repeat(32)),
                },
                Link {
                    core_metadata: CoreMetadata::Available,
                    ..Link::new("demo-1.0-py3-none-any.whl".into(), url("w.whl"))
                },
                Link::new("demo-0.9.zip".into(), url("demo-0.9.zip")),
            ],
            info: Some(serde_json::json!({
                "version": "1.0", "requires_dist": ["a"], "description": "long",
                "summary": "S",
            })),
            dropped: Some((3, "demo-1.0-cp39-cp39-win32.whl".into())),
        }
    }

    #[test]
    fn round_trip_keeps_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://pypi.org/pypi/demo/json").unwrap();
        let path = digest_path(dir.path(), &url, None, "tags");
        write(&path, "id-1", &url, &page()).unwrap();
        let read_back = read(&path, "id-1", &url).unwrap();
        let mut expected = page();
        expected.info = Some(serde_json::json!({
            "version": "1.0", "requires_dist": ["a"], "summary": "S",
        }));
        assert_eq!(read_back, expected);
        // Another body, another page URL: not this digest.
        assert!(read(&path, "id-2", &url).is_none());
        let other = Url::parse("https://pypi.org/pypi/other/json").unwrap();
        assert!(read(&path, "id-1", &other).is_none());
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn keys_differ_by_page_accept_and_filter() {
        let dir = Path::new("/c");
        let url = Url::parse("https://h/simple/demo/").unwrap();
        let base = digest_path(dir, &url, Some("json"), "k");
        assert!(base.starts_with("/c/pages-v1"));
        assert_eq!(base, digest_path(dir, &url, Some("json"), "k"));
        assert_ne!(base, digest_path(dir, &url, Some("html"), "k"));
        assert_ne!(base, digest_path(dir, &url, Some("json"), "k2"));
        assert_ne!(base, digest_path(dir, &url, None, "k"));
        let other = Url::parse("https://h/simple/other/").unwrap();
        assert_ne!(base, digest_path(dir, &other, Some("json"), "k"));
    }

    #[test]
    fn garbage_truncated_and_other_formats_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://pypi.org/pypi/demo/json").unwrap();
        let path = digest_path(dir.path(), &url, None, "");
        write(&path, "id", &url, &page()).unwrap();
        let good = std::fs::read(&path).unwrap();
        let good_text = String::from_utf8(good.clone()).unwrap();
        let rows: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage".to_vec(),
            b"\xff\xfe\x00".to_vec(),
            good[..good.len() / 2].to_vec(),
            good[..good.len() - 1].to_vec(),
            good_text.replace("\"format\":1", "\"format\":2").into_bytes(),
            good_text.replace("\"format\":1,", "").into_bytes(),
            // A link whose URL does not parse spoils the digest, not the run.
            good_text
                .replace("https://files.example/p/w.whl", "not a url")
                .into_bytes(),
            br#"{"format":1,"body_id":"id","url":"https://pypi.org/pypi/demo/json","links":[{"f":1}]}"#.to_vec(),
            br#"[1,2,3]"#.to_vec(),
        ];
        for bad in rows {
            std::fs::write(&path, &bad).unwrap();
            assert!(
                read(&path, "id", &url).is_none(),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
        assert!(read(&dir.path().join("missing"), "id", &url).is_none());
    }

    #[test]
    fn hostile_filenames_are_kept_for_the_candidate_checks() {
        // The digest stores names as the page gave them; `to_candidates` refuses unsafe ones
        // on every read, from a digest or not.
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://h/simple/demo/").unwrap();
        let path = digest_path(dir.path(), &url, None, "");
        let hostile = ParsedPage {
            links: vec![Link::new(
                "../demo-1.0.tar.gz".into(),
                Url::parse("https://h/x").unwrap(),
            )],
            ..ParsedPage::default()
        };
        write(&path, "id", &url, &hostile).unwrap();
        assert_eq!(read(&path, "id", &url).unwrap(), hostile);
    }
}
