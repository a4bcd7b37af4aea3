//! Core metadata (`METADATA` in wheels, `PKG-INFO` in sdists): an RFC 822 style header block,
//! optionally followed by the long description as the message body.
//!
//! The parser is hand-written rather than a mail parser so that nothing is MIME-decoded and every
//! malformed line is reported with its number.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};

use super::DistError;

/// The fields of core metadata plonk uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `Metadata-Version`, e.g. `2.1`; empty when the metadata did not come from a file.
    pub metadata_version: String,
    /// `Name`, normalized.
    pub name: PackageName,
    /// `Version`.
    pub version: Version,
    /// Every `Requires-Dist`, in file order.
    pub requires_dist: Vec<Requirement>,
    /// `Requires-Python`, if any.
    pub requires_python: Option<VersionSpecifiers>,
    /// Every `Provides-Extra`.
    pub provides_extra: Vec<ExtraName>,
    /// Every `Dynamic` field name (Metadata 2.2+), as written.
    pub dynamic: Vec<String>,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Author-email`.
    pub author_email: Option<String>,
    /// `Maintainer`.
    pub maintainer: Option<String>,
    /// `Maintainer-email`.
    pub maintainer_email: Option<String>,
    /// `Home-page`.
    pub home_page: Option<String>,
    /// `License`.
    pub license: Option<String>,
    /// Every `Classifier`.
    pub classifiers: Vec<String>,
    /// Every `Project-URL` as `(label, url)`.
    pub project_urls: Vec<(String, String)>,
    /// The long description: the message body, or the legacy `Description` header.
    pub description: Option<String>,
}

impl Metadata {
    /// Metadata with only a name and a version, every other field empty; for metadata that
    /// comes from elsewhere than a file (e.g. an index's JSON API), with `..Metadata::new(..)`.
    pub fn new(name: PackageName, version: Version) -> Self {
        Metadata {
            metadata_version: String::new(),
            name,
            version,
            requires_dist: Vec::new(),
            requires_python: None,
            provides_extra: Vec::new(),
            dynamic: Vec::new(),
            summary: None,
            author: None,
            author_email: None,
            maintainer: None,
            maintainer_email: None,
            home_page: None,
            license: None,
            classifiers: Vec::new(),
            project_urls: Vec::new(),
            description: None,
        }
    }

    /// Whether `field` (case-insensitive, e.g. `Requires-Dist`) is declared `Dynamic`.
    pub fn is_dynamic(&self, field: &str) -> bool {
        self.dynamic.iter().any(|d| d.eq_ignore_ascii_case(field))
    }

    /// Parse a METADATA or PKG-INFO file.
    pub fn parse(bytes: &[u8]) -> Result<Self, DistError> {
        let text =
            std::str::from_utf8(bytes).map_err(|source| DistError::MetadataNotUtf8 { source })?;
        let (headers, body) = split_headers(text)?;

        let mut metadata_version = None;
        let mut name = None;
        let mut version = None;
        let mut out_requires = Vec::new();
        let mut requires_python = None;
        let mut provides_extra = Vec::new();
        let mut dynamic = Vec::new();
        let mut summary = None;
        let mut author = None;
        let mut author_email = None;
        let mut maintainer = None;
        let mut maintainer_email = None;
        let mut home_page = None;
        let mut license = None;
        let mut classifiers = Vec::new();
        let mut project_urls = Vec::new();
        let mut description = None;

        for (key, raw) in headers {
            let key_lower = key.to_ascii_lowercase();
            // Multi-line values only make sense for free text; structured fields are unfolded.
            let value = || unfold(&raw);
            match key_lower.as_str() {
                "metadata-version" => metadata_version = Some(value()),
                "name" => {
                    let v = value();
                    if v.is_empty() {
                        // Treated as absent: an empty name is no name.
                        continue;
                    }
                    name =
                        Some(PackageName::from_str(&v).map_err(|source| {
                            DistError::MetadataInvalidName { value: v, source }
                        })?);
                }
                "version" => {
                    let v = value();
                    version = Some(Version::from_str(&v).map_err(|source| {
                        DistError::MetadataInvalidVersion { value: v, source }
                    })?);
                }
                "requires-dist" => {
                    let v = value();
                    let req = super::parse_requirement(&v).map_err(|source| {
                        DistError::InvalidRequiresDist {
                            line: v.clone(),
                            source: Box::new(source),
                        }
                    })?;
                    out_requires.push(req);
                }
                "requires-python" => {
                    let v = value();
                    if !v.is_empty() {
                        requires_python =
                            Some(VersionSpecifiers::from_str(&v).map_err(|source| {
                                DistError::InvalidRequiresPython {
                                    value: v.clone(),
                                    source: Box::new(source),
                                }
                            })?);
                    }
                }
                "provides-extra" => {
                    let v = value();
                    let extra = ExtraName::from_str(&v)
                        .map_err(|source| DistError::InvalidExtra { value: v, source })?;
                    if !provides_extra.contains(&extra) {
                        provides_extra.push(extra);
                    }
                }
                "dynamic" => dynamic.push(value()),
                "summary" => summary = Some(value()),
                "author" => author = Some(value()),
                "author-email" => author_email = Some(value()),
                "maintainer" => maintainer = Some(value()),
                "maintainer-email" => maintainer_email = Some(value()),
                "home-page" => home_page = Some(value()),
                "license" => license = Some(dedent_continuation(&raw)),
                "classifier" => classifiers.push(value()),
                "project-url" => {
                    let v = value();
                    let (label, url) = match v.split_once(',') {
                        Some((l, u)) => (l.trim().to_string(), u.trim().to_string()),
                        None => (String::new(), v),
                    };
                    project_urls.push((label, url));
                }
                "description" => description = Some(dedent_continuation(&raw)),
                _ => {}
            }
        }

        let body = body.trim_end_matches(['\n', '\r']);
        if !body.trim().is_empty() {
            description = Some(body.to_string());
        }

        Ok(Metadata {
            metadata_version: metadata_version.ok_or(DistError::MetadataMissingField {
                field: "Metadata-Version",
            })?,
            name: name.ok_or(DistError::MetadataMissingField { field: "Name" })?,
            version: version.ok_or(DistError::MetadataMissingField { field: "Version" })?,
            requires_dist: out_requires,
            requires_python,
            provides_extra,
            dynamic,
            summary,
            author,
            author_email,
            maintainer,
            maintainer_email,
            home_page,
            license,
            classifiers,
            project_urls,
            description,
        })
    }
}

/// Split the text into `(key, raw value)` headers, continuation lines kept (joined with `\n`),
/// and the body after the first empty line.
/// Header `(key, raw value)` pairs in file order.
type Headers = Vec<(String, String)>;

fn split_headers(text: &str) -> Result<(Headers, &str), DistError> {
    let mut headers: Headers = Vec::new();
    let mut rest = text;
    let mut line_no = 0;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        line_no += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return Ok((headers, next));
        }
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line);
                }
                None => {
                    return Err(DistError::MetadataMalformedLine {
                        line: line_no,
                        text: line.to_string(),
                    });
                }
            }
        } else {
            let (key, value) =
                line.split_once(':')
                    .ok_or_else(|| DistError::MetadataMalformedLine {
                        line: line_no,
                        text: line.to_string(),
                    })?;
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(DistError::MetadataMalformedLine {
                    line: line_no,
                    text: line.to_string(),
                });
            }
            headers.push((key.to_string(), value.trim().to_string()));
        }
        rest = next;
    }
    Ok((headers, ""))
}

/// RFC 822 unfolding for structured fields: continuation lines join with one space.
fn unfold(raw: &str) -> String {
    if !raw.contains('\n') {
        return raw.trim().to_string();
    }
    raw.split('\n')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Free-text fields keep their lines; continuation lines lose the indentation setuptools adds
/// (8 spaces, or 7 spaces and `|`).
fn dedent_continuation(raw: &str) -> String {
    let mut lines = raw.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        let stripped = if let Some(s) = line.strip_prefix("       |") {
            s
        } else {
            let indent = line
                .char_indices()
                .take(8)
                .take_while(|(_, c)| *c == ' ' || *c == '\t')
                .count();
            &line[indent..]
        };
        out.push_str(stripped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Metadata-Version: 2.1\r\n\
Name: Tutor_MFE\r\n\
Version: 22.1.0\r\n\
Summary: MFE plugin\r\n\
\x20\x20for Tutor\r\n\
Author: Overhang.IO\r\n\
Requires-Python: >=3.9\r\n\
Requires-Dist: tutor<23.0.0,>=22.0.0\r\n\
Requires-Dist: pytest ; extra == 'dev'\r\n\
Provides-Extra: dev\r\n\
Project-URL: Code, https://github.com/overhangio/tutor-mfe\r\n\
Classifier: Programming Language :: Python\r\n\
Dynamic: license\r\n\
\r\n\
# tutor-mfe\r\n\
\r\n\
Body: with colon\r\n";

    #[test]
    fn parse_metadata() {
        let m = Metadata::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(m.metadata_version, "2.1");
        assert_eq!(m.name.to_string(), "tutor-mfe");
        assert_eq!(m.version.to_string(), "22.1.0");
        assert_eq!(m.summary.as_deref(), Some("MFE plugin for Tutor"));
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.requires_dist[0].name.to_string(), "tutor");
        assert!(m.requires_python.is_some());
        assert_eq!(m.provides_extra.len(), 1);
        assert_eq!(m.dynamic, ["license"]);
        assert!(m.is_dynamic("License"));
        assert_eq!(m.project_urls[0].0, "Code");
        assert_eq!(m.author.as_deref(), Some("Overhang.IO"));
        assert!(
            m.description
                .as_deref()
                .unwrap()
                .contains("Body: with colon")
        );
    }

    #[test]
    fn parse_pkg_info_legacy_description() {
        let text = "Metadata-Version: 1.1\nName: foo\nVersion: 1.0\nDescription: line one\n        line two\n       |line three\nPlatform: UNKNOWN\n";
        let m = Metadata::parse(text.as_bytes()).unwrap();
        assert_eq!(
            m.description.as_deref(),
            Some("line one\nline two\nline three")
        );
        assert!(m.requires_dist.is_empty());
        assert!(m.requires_python.is_none());
    }

    #[test]
    fn parse_errors() {
        // Garbage and truncated input.
        assert!(matches!(
            Metadata::parse(b""),
            Err(DistError::MetadataMissingField { .. })
        ));
        assert!(matches!(
            Metadata::parse(b"Metadata-Version: 2.1\nName: foo\n"),
            Err(DistError::MetadataMissingField { field: "Version" })
        ));
        assert!(matches!(
            Metadata::parse(b"Metadata-Version: 2.1\nName:\nVersion: 1\n"),
            Err(DistError::MetadataMissingField { field: "Name" })
        ));
        assert!(matches!(
            Metadata::parse(b"not a header\n"),
            Err(DistError::MetadataMalformedLine { line: 1, .. })
        ));
        assert!(matches!(
            Metadata::parse(b"  continuation first\n"),
            Err(DistError::MetadataMalformedLine { .. })
        ));
        assert!(matches!(
            Metadata::parse(b"Metadata-Version: 2.1\nName: foo\nVersion: 1\xff\n"),
            Err(DistError::MetadataNotUtf8 { .. })
        ));
        assert!(matches!(
            Metadata::parse(b"Metadata-Version: 2.1\nName: foo\nVersion: one\n"),
            Err(DistError::MetadataInvalidVersion { .. })
        ));
        assert!(matches!(
            Metadata::parse(b"Metadata-Version: 2.1\nName: -foo-\nVersion: 1\n"),
            Err(DistError::MetadataInvalidName { .. })
        ));
        let err = Metadata::parse(
            b"Metadata-Version: 2.1\nName: foo\nVersion: 1\nRequires-Dist: bar >>> 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bar >>> 1"), "{err}");
        assert!(matches!(
            Metadata::parse(
                b"Metadata-Version: 2.1\nName: foo\nVersion: 1\nRequires-Python: >=three\n"
            ),
            Err(DistError::InvalidRequiresPython { .. })
        ));
    }
}
