//! A streaming reader for the two JSON page formats (PyPI's JSON API and PEP 691), which
//! keeps only what becomes a [`Link`] and borrows strings from the page where it can.
//!
//! PyPI's project pages reach 12 MB (a wheel per platform and release); building a
//! `serde_json::Value` tree of them costs more than anything else a warm install does, and
//! ten times the page in memory. This reader visits the document once, skips every field
//! plonk does not use, and is as lenient as the tree-based reading was: an entry or field of
//! the wrong type is skipped, never an error; only malformed JSON is.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use url::Url;

use super::links::{CoreMetadata, Link, hash_from_fragment};

/// Which page format is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonFormat {
    /// `/pypi/<name>/json` (every release's files) or `/pypi/<name>/<version>/json` (`urls`).
    PypiApi,
    /// A PEP 691 simple API project page (`files`).
    Simple,
}

/// What a JSON page says.
#[derive(Debug, Default)]
pub(crate) struct JsonPage {
    /// Every file entry that has a string file name and a usable URL.
    pub(crate) links: Vec<Link>,
    /// The PyPI JSON API's `info` object (metadata of the latest release), if any.
    pub(crate) info: Option<Value>,
}

/// Read a JSON page, keeping the files whose name `keep` accepts; `Err` only for malformed
/// JSON.
pub(crate) fn parse_json_page(
    body: &[u8],
    page_url: &Url,
    format: JsonFormat,
    keep: &dyn Fn(&str) -> bool,
) -> Result<JsonPage, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let raw = RawPage::deserialize(&mut deserializer)?;
    deserializer.end()?;
    let files = match format {
        JsonFormat::PypiApi => raw.releases.unwrap_or(raw.urls),
        JsonFormat::Simple => raw.files,
    };
    let links = files
        .into_iter()
        .filter(|file| file.filename.as_deref().is_some_and(keep))
        .filter_map(|file| file.into_link(page_url))
        .collect();
    Ok(JsonPage {
        links,
        info: raw.info,
    })
}

/// A JSON value of any type, strings borrowed when the page allows it.
enum Any<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    U64(u64),
    Other,
}

impl<'a> Any<'a> {
    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Any::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Any<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Any<'de>, E> {
        Ok(Any::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Any<'de>, E> {
        Ok(Any::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Any<'de>, E> {
        Ok(Any::Str(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Any<'de>, E> {
        Ok(Any::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Any<'de>, E> {
        Ok(Any::U64(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Any<'de>, E> {
        Ok(Any::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Any<'de>, E> {
        Ok(Any::Other)
    }
    fn visit_unit<E>(self) -> Result<Any<'de>, E> {
        Ok(Any::Other)
    }
    fn visit_none<E>(self) -> Result<Any<'de>, E> {
        Ok(Any::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Any::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Any<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Any::Other)
    }
}

impl<'de> Deserialize<'de> for Any<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

/// The `sha256` member of a hashes object (`hashes`, `digests`), if it is a string.
struct Sha256Of<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Sha256Of<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sha256Of<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hashes object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut sha = None;
                while let Some(key) = map.next_key::<Any<'de>>()? {
                    match key.into_str().as_deref() {
                        Some("sha256") => sha = map.next_value::<Any<'de>>()?.into_str(),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Sha256Of(sha))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnyVisitor.visit_seq(seq).map(|_| Sha256Of(None))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Sha256Of(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// PEP 658 / 714 availability: `true`, or an object of hashes.
struct CoreMeta(CoreMetadata);

impl<'de> Deserialize<'de> for CoreMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CoreMeta;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a hashes object")
            }
            fn visit_bool<E>(self, v: bool) -> Result<CoreMeta, E> {
                Ok(CoreMeta(if v {
                    CoreMetadata::Available
                } else {
                    CoreMetadata::Absent
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CoreMeta, A::Error> {
                let Sha256Of(sha) =
                    Sha256Of::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(CoreMeta(match sha {
                    Some(digest) => CoreMetadata::Sha256(digest.trim().to_ascii_lowercase()),
                    None => CoreMetadata::Available,
                }))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<CoreMeta, A::Error> {
                AnyVisitor
                    .visit_seq(seq)
                    .map(|_| CoreMeta(CoreMetadata::Absent))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
            fn visit_str<E>(self, _: &str) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
            fn visit_u64<E>(self, _: u64) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
            fn visit_i64<E>(self, _: i64) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
            fn visit_f64<E>(self, _: f64) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
            fn visit_unit<E>(self) -> Result<CoreMeta, E> {
                Ok(CoreMeta(CoreMetadata::Absent))
            }
        }
        d.deserialize_any(V)
    }
}

/// One file entry as read; `filename` is `None` for entries that are not objects.
#[derive(Default)]
struct RawFile<'a> {
    filename: Option<Cow<'a, str>>,
    url: Option<Cow<'a, str>>,
    hashes: Option<Cow<'a, str>>,
    digests: Option<Cow<'a, str>>,
    requires_python: Option<Cow<'a, str>>,
    yanked: bool,
    size: Option<u64>,
    /// `core-metadata` when present (whatever its value), else `dist-info-metadata`.
    core_metadata: Option<CoreMetadata>,
    dist_info_metadata: Option<CoreMetadata>,
}

impl RawFile<'_> {
    fn into_link(self, page_url: &Url) -> Option<Link> {
        let filename = self.filename?.into_owned();
        let mut url = page_url.join(self.url?.trim()).ok()?;
        let fragment_hash = url.fragment().and_then(hash_from_fragment);
        url.set_fragment(None);
        let mut link = Link::new(filename, url);
        let lower = |d: Cow<'_, str>| d.trim().to_ascii_lowercase();
        link.sha256 = self
            .hashes
            .map(lower)
            .or(fragment_hash)
            .or_else(|| self.digests.map(lower));
        link.requires_python = self
            .requires_python
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        link.yanked = self.yanked;
        link.size = self.size;
        link.core_metadata = self
            .core_metadata
            .or(self.dist_info_metadata)
            .unwrap_or_default();
        Some(link)
    }
}

impl<'de> Deserialize<'de> for RawFile<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFile<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut file = RawFile::default();
                while let Some(key) = map.next_key::<Any<'de>>()? {
                    let Some(key) = key.into_str() else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    match key.as_ref() {
                        "filename" => file.filename = map.next_value::<Any<'de>>()?.into_str(),
                        "url" => file.url = map.next_value::<Any<'de>>()?.into_str(),
                        "hashes" => file.hashes = map.next_value::<Sha256Of<'de>>()?.0,
                        "digests" => file.digests = map.next_value::<Sha256Of<'de>>()?.0,
                        "requires-python" | "requires_python" => {
                            file.requires_python = map.next_value::<Any<'de>>()?.into_str();
                        }
                        "yanked" => {
                            // PEP 691: a string is a yank reason.
                            file.yanked = match map.next_value::<Any<'de>>()? {
                                Any::Bool(yanked) => yanked,
                                Any::Str(_) => true,
                                _ => false,
                            };
                        }
                        "size" => {
                            file.size = match map.next_value::<Any<'de>>()? {
                                Any::U64(size) => Some(size),
                                _ => None,
                            };
                        }
                        "core-metadata" => {
                            file.core_metadata = Some(map.next_value::<CoreMeta>()?.0);
                        }
                        "dist-info-metadata" => {
                            file.dist_info_metadata = Some(map.next_value::<CoreMeta>()?.0);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(file)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnyVisitor.visit_seq(seq).map(|_| RawFile::default())
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RawFile::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of file entries; anything but a list is an empty one.
struct Files<'a>(Vec<RawFile<'a>>);

impl<'de> Deserialize<'de> for Files<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Files<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of files")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut files = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(file) = seq.next_element::<RawFile<'de>>()? {
                    files.push(file);
                }
                Ok(Files(files))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                AnyVisitor.visit_map(map).map(|_| Files(Vec::new()))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Files(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// PyPI's `releases`: version → files, flattened; `None` when it is not an object.
struct Releases<'a>(Option<Vec<RawFile<'a>>>);

impl<'de> Deserialize<'de> for Releases<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Releases<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of releases")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut files = Vec::new();
                while let Some((_, Files(release))) = map.next_entry::<IgnoredAny, Files<'de>>()? {
                    files.extend(release);
                }
                Ok(Releases(Some(files)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnyVisitor.visit_seq(seq).map(|_| Releases(None))
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Releases(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The top level of either format; a document that is not an object is an empty page.
#[derive(Default)]
struct RawPage<'a> {
    info: Option<Value>,
    releases: Option<Vec<RawFile<'a>>>,
    urls: Vec<RawFile<'a>>,
    files: Vec<RawFile<'a>>,
}

impl<'de> Deserialize<'de> for RawPage<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPage<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a project page")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut page = RawPage::default();
                while let Some(key) = map.next_key::<Any<'de>>()? {
                    match key.into_str().as_deref() {
                        Some("info") => page.info = Some(map.next_value::<Value>()?),
                        Some("releases") => page.releases = map.next_value::<Releases<'de>>()?.0,
                        Some("urls") => page.urls = map.next_value::<Files<'de>>()?.0,
                        Some("files") => page.files = map.next_value::<Files<'de>>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(page)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnyVisitor.visit_seq(seq).map(|_| RawPage::default())
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RawPage::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://proxy.local/pypi/demo/json").unwrap()
    }

    #[test]
    fn escaped_strings_and_key_precedence() {
        // Escapes force owned strings; `core-metadata` wins over `dist-info-metadata` even
        // when it says false; `hashes` wins over the URL fragment, which wins over `digests`.
        let body = br#"{"releases": {"1.0": [
            {"filename": "demo-1.0.tar.gz", "url": "\/x\/demo-1.0.tar.gz#sha256=FF",
             "digests": {"sha256": "AA"}, "core-metadata": false, "dist-info-metadata": true,
             "requires_python": "  >=3.8\u0020 "},
            {"url": "/x/demo-1.1.tar.gz", "filename": "demo-1.1.tar.gz", "hashes": {"sha256": "BB"},
             "digests": {"sha256": "AA"}, "dist-info-metadata": {"md5": "x"}, "size": -1},
            {"filename": "demo-1.2.tar.gz", "url": "/x/demo-1.2.tar.gz", "digests": {"sha256": 7, "x": [1, {"a": null}]},
             "core-metadata": [true], "size": 1.5, "yanked": null}
        ]}, "info": {"version": "1.0", "description": "long\ntext"}}"#;
        let parsed = parse_json_page(body, &page(), JsonFormat::PypiApi, &|_| true).unwrap();
        let links = parsed.links;
        assert_eq!(links.len(), 3);
        assert_eq!(
            links[0].url.as_str(),
            "https://proxy.local/x/demo-1.0.tar.gz"
        );
        assert_eq!(links[0].sha256.as_deref(), Some("ff"));
        assert_eq!(links[0].core_metadata, CoreMetadata::Absent);
        assert_eq!(links[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(links[1].sha256.as_deref(), Some("bb"));
        assert_eq!(links[1].core_metadata, CoreMetadata::Available);
        assert_eq!(links[1].size, None);
        assert_eq!(links[2].sha256, None);
        assert_eq!(links[2].core_metadata, CoreMetadata::Absent);
        assert_eq!(links[2].size, None);
        assert!(!links[2].yanked);
        assert_eq!(parsed.info.unwrap()["version"], "1.0");
    }

    #[test]
    fn files_not_kept_are_dropped() {
        let body = br#"{"files": [
            {"filename": "demo-1.0-cp311-cp311-win_amd64.whl", "url": "::not a url::"},
            {"filename": "demo-1.0.tar.gz", "url": "/x/demo-1.0.tar.gz"}
        ]}"#;
        let keep = |name: &str| !name.ends_with(".whl");
        let links = parse_json_page(body, &page(), JsonFormat::Simple, &keep)
            .unwrap()
            .links;
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].filename, "demo-1.0.tar.gz");
    }

    #[test]
    fn truncated_and_hostile_documents() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"releases\": {\"1.0\": [{\"filename\": \"a\"",
            b"{\"files\": [] } trailing",
            b"\xff\xfe",
            b"{\"files\": [{\"filename\": \"a\\uZZZZ\"}]}",
        ] {
            assert!(
                parse_json_page(bad, &page(), JsonFormat::Simple, &|_| true).is_err(),
                "{bad:?}"
            );
        }
        // Deep nesting: skipped without recursion in an ignored field, refused by
        // serde_json's recursion limit where it is read; never a stack overflow.
        let deep = format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let parsed =
            parse_json_page(deep.as_bytes(), &page(), JsonFormat::Simple, &|_| true).unwrap();
        assert!(parsed.links.is_empty());
        let deep = format!(
            "{{\"info\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_json_page(deep.as_bytes(), &page(), JsonFormat::PypiApi, &|_| true).is_err());
        let deep = format!(
            "{{\"files\": [{{\"filename\": {}{}}}]}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_json_page(deep.as_bytes(), &page(), JsonFormat::Simple, &|_| true).is_ok());
        // Hostile file names are kept as text here; turning them into candidates checks them.
        let body = br#"{"files": [{"filename": "../../evil.whl", "url": "../../evil.whl"}]}"#;
        let links = parse_json_page(body, &page(), JsonFormat::Simple, &|_| true)
            .unwrap()
            .links;
        assert_eq!(links[0].filename, "../../evil.whl");
    }
}
