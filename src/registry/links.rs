//! Parsers for the three ways an index lists files: PEP 503/592/658 HTML anchors (also
//! find-links pages), PEP 691 JSON, and the PyPI JSON API. They return [`Link`]s with absolute
//! URLs resolved against the page's (final) URL; turning a link into a `Candidate` is left to
//! the caller.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::json_pages::{JsonFormat, parse_json_page};

/// What an index says about a file's core metadata (PEP 658 / PEP 714).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CoreMetadata {
    /// Not advertised.
    #[default]
    Absent,
    /// `<url>.metadata` exists; no hash given.
    Available,
    /// `<url>.metadata` exists with this sha256 (lowercase hex).
    Sha256(String),
}

/// One file as an index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The filename, percent-decoded, not yet validated.
    pub filename: String,
    /// Absolute URL without fragment.
    pub url: Url,
    /// Lowercase sha256, when the index gave one.
    pub sha256: Option<String>,
    /// The raw `Requires-Python` value.
    pub requires_python: Option<String>,
    /// PEP 592 yank flag.
    pub yanked: bool,
    /// Size in bytes, when the index gave it.
    pub size: Option<u64>,
    /// PEP 658 metadata file.
    pub core_metadata: CoreMetadata,
}

impl Link {
    pub(crate) fn new(filename: String, url: Url) -> Self {
        Link {
            filename,
            url,
            sha256: None,
            requires_python: None,
            yanked: false,
            size: None,
            core_metadata: CoreMetadata::Absent,
        }
    }
}

/// Whether a filename from an index may be used as a file name in a local folder.
pub fn is_safe_filename(filename: &str) -> bool {
    !filename.is_empty()
        && !filename.contains(['/', '\\', '\0'])
        && !filename.contains("..")
        && !filename.starts_with('.')
}

/// The percent-decoded last path segment of a URL.
pub fn url_filename(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    let decoded = percent_decode(segment);
    (!decoded.is_empty()).then_some(decoded)
}

static ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<a\s([^>]*)>").unwrap_or_else(|_| unreachable!("constant regex"))
});
static BASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<base\s([^>]*)>").unwrap_or_else(|_| unreachable!("constant regex"))
});
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"#)
        .unwrap_or_else(|_| unreachable!("constant regex"))
});

/// The attributes of one tag, names lower-cased, values HTML-unescaped; a bare attribute has
/// an empty value.
fn attributes(text: &str) -> Vec<(String, String)> {
    ATTRIBUTE
        .captures_iter(text)
        .filter_map(|caps| {
            let name = caps.get(1)?.as_str().to_ascii_lowercase();
            let value = caps
                .get(2)
                .or_else(|| caps.get(3))
                .or_else(|| caps.get(4))
                .map_or("", |m| m.as_str());
            Some((name, html_unescape(value)))
        })
        .collect()
}

/// Parse a PEP 503 page (or a find-links page): every `<a href>` becomes a link.
pub fn parse_html(text: &str, page_url: &Url) -> Vec<Link> {
    let base = BASE
        .captures(text)
        .and_then(|caps| caps.get(1))
        .and_then(|attrs| {
            attributes(attrs.as_str())
                .into_iter()
                .find(|(name, _)| name == "href")
        })
        .and_then(|(_, href)| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone());
    let mut links = Vec::new();
    for caps in ANCHOR.captures_iter(text) {
        let Some(attrs) = caps.get(1) else { continue };
        let attrs = attributes(attrs.as_str());
        let get = |key: &str| {
            attrs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, v)| v.as_str())
        };
        let Some(href) = get("href") else { continue };
        let Ok(mut url) = base.join(href.trim()) else {
            continue;
        };
        let sha256 = url.fragment().and_then(hash_from_fragment);
        url.set_fragment(None);
        let Some(filename) = url_filename(&url) else {
            continue;
        };
        let mut link = Link::new(filename, url);
        link.sha256 = sha256;
        link.requires_python = get("data-requires-python")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        link.yanked = get("data-yanked").is_some();
        // PEP 714 renamed the attribute; the old name still appears on older servers.
        let metadata = get("data-core-metadata").or_else(|| get("data-dist-info-metadata"));
        link.core_metadata = match metadata {
            None => CoreMetadata::Absent,
            Some(value) => match value.trim() {
                "false" => CoreMetadata::Absent,
                "" | "true" => CoreMetadata::Available,
                other => match other.split_once('=') {
                    Some((algo, digest)) if algo.eq_ignore_ascii_case("sha256") => {
                        CoreMetadata::Sha256(digest.trim().to_ascii_lowercase())
                    }
                    // Another algorithm: the file exists, we just cannot check it.
                    _ => CoreMetadata::Available,
                },
            },
        };
        links.push(link);
    }
    links
}

/// `sha256=<hex>` from a URL fragment; other algorithms are ignored.
pub(crate) fn hash_from_fragment(fragment: &str) -> Option<String> {
    fragment.split('&').find_map(|part| {
        let (algo, digest) = part.split_once('=')?;
        (algo.eq_ignore_ascii_case("sha256") && !digest.is_empty())
            .then(|| digest.trim().to_ascii_lowercase())
    })
}

/// Parse a PEP 691 JSON project page. Entries with wrong types are skipped.
pub fn parse_simple_json(body: &[u8], page_url: &Url) -> Result<Vec<Link>, serde_json::Error> {
    parse_json_page(body, page_url, JsonFormat::Simple, &|_| true).map(|page| page.links)
}

/// Parse a PyPI JSON API project page (`/pypi/<name>/json`): every file of every release
/// (or, on a per-version page, its `urls`).
pub fn parse_pypi_json(body: &[u8], page_url: &Url) -> Result<Vec<Link>, serde_json::Error> {
    parse_json_page(body, page_url, JsonFormat::PypiApi, &|_| true).map(|page| page.links)
}

/// Decode the HTML character references an index may use in attribute values.
pub fn html_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Percent-decoding of URL path segments (shared with the HTTP client's userinfo decoding).
pub use crate::http::percent_decode;

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://proxy.local/simple/demo/").unwrap()
    }

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn html_valid_page() {
        let html = format!(
            r#"<!DOCTYPE html><html><body>
            <a href="../../packages/demo-1.0-py3-none-any.whl#sha256={SHA}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=BBBB">demo-1.0-py3-none-any.whl</a><br/>
            <A HREF='https://files.example/demo-1.1.tar.gz#md5=00&amp;sha256=CCCC' data-yanked="">demo-1.1.tar.gz</A>
            <a data-core-metadata="true" href=demo-2.0-py3-none-any.whl>x</a>
            <a href="demo%2B1-3.0.zip" data-yanked="broken" data-core-metadata="false">y</a>
            </body></html>"#
        );
        let links = parse_html(&html, &page());
        assert_eq!(links.len(), 4);
        assert_eq!(
            links[0].url.as_str(),
            "https://proxy.local/packages/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(links[0].filename, "demo-1.0-py3-none-any.whl");
        assert_eq!(links[0].sha256.as_deref(), Some(SHA));
        assert_eq!(links[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(links[0].core_metadata, CoreMetadata::Sha256("bbbb".into()));
        assert!(!links[0].yanked);
        assert_eq!(links[1].sha256.as_deref(), Some("cccc"));
        assert!(links[1].yanked);
        assert_eq!(
            links[1].url.as_str(),
            "https://files.example/demo-1.1.tar.gz"
        );
        assert_eq!(links[2].core_metadata, CoreMetadata::Available);
        assert_eq!(
            links[2].url.as_str(),
            "https://proxy.local/simple/demo/demo-2.0-py3-none-any.whl"
        );
        assert_eq!(links[3].filename, "demo+1-3.0.zip");
        assert!(links[3].yanked);
        assert_eq!(links[3].core_metadata, CoreMetadata::Absent);
    }

    #[test]
    fn html_base_tag() {
        let html = r#"<html><head><base href="https://cdn.example/files/"></head>
            <a href="demo-1.0.tar.gz">demo</a></html>"#;
        let links = parse_html(html, &page());
        assert_eq!(
            links[0].url.as_str(),
            "https://cdn.example/files/demo-1.0.tar.gz"
        );
    }

    #[test]
    fn html_garbage_and_truncated() {
        let rows = [
            "",
            "not html at all",
            "<a>no href</a>",
            "<a href=",
            "<a href=\"demo-1.0.tar.gz",
            "<<<>>> <a href=\"\">empty</a>",
            "\u{0}\u{fffd}<a name=x>",
        ];
        for html in rows {
            let links = parse_html(html, &page());
            // An empty href points at the page itself, whose last segment is empty.
            assert!(links.is_empty(), "{html:?}: {links:?}");
        }
    }

    #[test]
    fn html_hostile_filenames() {
        let html = r#"<a href="..%2F..%2Fetc%2Fpasswd">a</a>
            <a href="%2Fabs%2Fdemo-1.0.tar.gz">b</a>
            <a href="..%5Cdemo-1.0.tar.gz">c</a>
            <a href="../../../../demo-1.0.tar.gz">d</a>"#;
        let links = parse_html(html, &page());
        let safe: Vec<_> = links
            .iter()
            .filter(|l| is_safe_filename(&l.filename))
            .map(|l| l.filename.as_str())
            .collect();
        // `../` in the href is fine (resolved by URL joining); encoded separators are not.
        assert_eq!(safe, ["demo-1.0.tar.gz"]);
        assert_eq!(links[3].url.as_str(), "https://proxy.local/demo-1.0.tar.gz");
    }

    #[test]
    fn safe_filename_rows() {
        for ok in ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"] {
            assert!(is_safe_filename(ok), "{ok}");
        }
        for bad in [
            "",
            "../x.whl",
            "a/b.whl",
            "a\\b.whl",
            "..",
            ".hidden.whl",
            "a\0.whl",
            "x..tar.gz",
        ] {
            assert!(!is_safe_filename(bad), "{bad}");
        }
    }

    #[test]
    fn simple_json_page() {
        let body = format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "demo", "files": [
                {{"filename": "demo-1.0-py3-none-any.whl", "url": "../../packages/demo-1.0-py3-none-any.whl",
                  "hashes": {{"sha256": "{SHA}"}}, "requires-python": ">=3.8", "yanked": false,
                  "size": 123, "core-metadata": {{"sha256": "DDDD"}}}},
                {{"filename": "demo-1.1.tar.gz", "url": "https://f.example/demo-1.1.tar.gz#sha256=EE",
                  "hashes": {{}}, "yanked": "bad release", "dist-info-metadata": true}},
                {{"filename": 12, "url": "x"}},
                {{"filename": "demo-2.0.tar.gz"}},
                {{"filename": "demo-3.0.tar.gz", "url": "y", "size": "big", "requires-python": 3}},
                "garbage"
            ]}}"#
        );
        let links = parse_simple_json(body.as_bytes(), &page()).unwrap();
        assert_eq!(links.len(), 3);
        assert_eq!(
            links[0].url.as_str(),
            "https://proxy.local/packages/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(links[0].size, Some(123));
        assert_eq!(links[0].core_metadata, CoreMetadata::Sha256("dddd".into()));
        assert_eq!(links[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(links[1].sha256.as_deref(), Some("ee"));
        assert!(links[1].yanked);
        assert_eq!(links[1].core_metadata, CoreMetadata::Available);
        assert_eq!(links[2].size, None);
        assert_eq!(links[2].requires_python, None);
    }

    #[test]
    fn simple_json_garbage() {
        assert!(parse_simple_json(b"{\"files\": [", &page()).is_err());
        assert!(parse_simple_json(b"<html>", &page()).is_err());
        assert!(parse_simple_json(b"", &page()).is_err());
        for body in [
            &b"{}"[..],
            b"[]",
            b"{\"files\": 3}",
            b"null",
            b"{\"files\": {}}",
        ] {
            assert!(parse_simple_json(body, &page()).unwrap().is_empty());
        }
    }

    #[test]
    fn pypi_json_page() {
        let url = Url::parse("https://proxy.local/pypi/demo/json").unwrap();
        let body = format!(
            r#"{{"info": {{"name": "demo"}}, "releases": {{
                "1.0": [{{"filename": "demo-1.0-py3-none-any.whl", "url": "../../packages/demo-1.0-py3-none-any.whl",
                         "digests": {{"sha256": "{SHA}", "md5": "x"}}, "requires_python": "",
                         "yanked": true, "size": 99, "core-metadata": {{"sha256": "ABC"}}}}],
                "2.0": [{{"filename": "demo-2.0.tar.gz", "url": "https://files/demo-2.0.tar.gz",
                         "digests": [], "requires_python": null, "yanked": "no"}}],
                "3.0": "garbage", "4.0": [17]
            }}}}"#
        );
        let links = parse_pypi_json(body.as_bytes(), &url).unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(
            links[0].url.as_str(),
            "https://proxy.local/packages/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(links[0].sha256.as_deref(), Some(SHA));
        assert!(links[0].yanked);
        assert_eq!(links[0].requires_python, None);
        assert_eq!(links[0].size, Some(99));
        assert_eq!(links[0].core_metadata, CoreMetadata::Sha256("abc".into()));
        assert_eq!(links[1].sha256, None);
        assert_eq!(links[1].core_metadata, CoreMetadata::Absent);

        let per_version = br#"{"info": {}, "urls": [{"filename": "demo-1.0.tar.gz", "url": "/x/demo-1.0.tar.gz"}]}"#;
        let links = parse_pypi_json(per_version, &url).unwrap();
        assert_eq!(
            links[0].url.as_str(),
            "https://proxy.local/x/demo-1.0.tar.gz"
        );
        assert!(parse_pypi_json(b"{\"releases\": {\"1.0\": [", &url).is_err());
        assert!(parse_pypi_json(b"[1, 2]", &url).unwrap().is_empty());
    }

    #[test]
    fn unescape_rows() {
        let rows = [
            ("&gt;=3.8", ">=3.8"),
            ("&gt;=3.6,&lt;4", ">=3.6,<4"),
            ("&#62;=3&#x2C;&#X3c;4", ">=3,<4"),
            ("a &amp; b &quot;c&quot; &apos;", "a & b \"c\" '"),
            (
                "&unknown; & &#xzz; &#99999999;",
                "&unknown; & &#xzz; &#99999999;",
            ),
            ("trailing &", "trailing &"),
            ("&gt", "&gt"),
        ];
        for (input, expected) in rows {
            assert_eq!(html_unescape(input), expected, "{input}");
        }
    }

    #[test]
    fn percent_decode_rows() {
        assert_eq!(percent_decode("a%2Bb"), "a+b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
