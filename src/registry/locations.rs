//! Where packages come from: `IndexLocations` (index, extra indexes, find-links, `--no-index`)
//! and which API each index speaks.

use std::path::PathBuf;

use url::Url;

/// The default package index: PyPI, spoken to through its JSON API.
pub const PYPI_URL: &str = "https://pypi.org/";

/// The package sources of one resolution, as given by `--index-url`, `--extra-index-url`,
/// `--find-links` and `--no-index` (or a plugin's `src` options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexLocations {
    /// The main index; `None` is PyPI.
    pub index_url: Option<Url>,
    /// Indexes searched besides the main one.
    pub extra_index_urls: Vec<Url>,
    /// Folders and HTML pages of links to distribution files.
    pub find_links: Vec<FindLinks>,
    /// Ignore the indexes, use find-links only.
    pub no_index: bool,
}

impl IndexLocations {
    /// The indexes to ask, main first, with the API each speaks.
    pub fn indexes(&self) -> Vec<IndexApi> {
        if self.no_index {
            return Vec::new();
        }
        let main = match &self.index_url {
            Some(url) => IndexApi::for_url(url),
            None => IndexApi::pypi(),
        };
        let mut indexes = vec![main];
        for url in &self.extra_index_urls {
            let api = IndexApi::for_url(url);
            if !indexes.contains(&api) {
                indexes.push(api);
            }
        }
        indexes
    }
}

/// A `--find-links` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindLinks {
    /// A local folder of distribution files.
    Path(PathBuf),
    /// An http(s) page of `<a href>` links to distribution files.
    Url(Url),
}

impl FindLinks {
    /// Interpret a `--find-links` value: an http(s) URL, a `file://` URL or a path.
    pub fn parse(value: &str) -> Self {
        if let Ok(url) = Url::parse(value) {
            match url.scheme() {
                "http" | "https" => return FindLinks::Url(url),
                "file" => {
                    if let Ok(path) = url.to_file_path() {
                        return FindLinks::Path(path);
                    }
                }
                _ => {}
            }
        }
        FindLinks::Path(PathBuf::from(value))
    }
}

/// An index and the API plonk uses to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexApi {
    /// The PyPI JSON API; `base` ends with `/pypi/` (`<base><name>/json`).
    Json {
        /// The URL the user gave (reported as the candidates' index).
        index: Url,
        /// `…/pypi/`.
        base: Url,
    },
    /// The simple API (PEP 503 HTML / PEP 691 JSON); `base` ends with `/`.
    Simple {
        /// The URL the user gave, with a trailing slash.
        base: Url,
    },
}

impl IndexApi {
    /// PyPI itself.
    pub fn pypi() -> Self {
        let index = Url::parse(PYPI_URL).unwrap_or_else(|_| unreachable!("constant URL"));
        let base = Url::parse("https://pypi.org/pypi/").unwrap_or_else(|_| unreachable!());
        IndexApi::Json { index, base }
    }

    /// The API for an index URL: PyPI's own host (any path) and URLs ending in `/pypi` use
    /// the JSON API, everything else the simple API.
    pub fn for_url(url: &Url) -> Self {
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let is_pypi_host = matches!(base.host_str(), Some("pypi.org" | "test.pypi.org"))
            && matches!(base.scheme(), "https" | "http");
        if is_pypi_host {
            let mut json = base.clone();
            json.set_path("/pypi/");
            return IndexApi::Json {
                index: url.clone(),
                base: json,
            };
        }
        if base.path().ends_with("/pypi/") {
            return IndexApi::Json {
                index: url.clone(),
                base,
            };
        }
        IndexApi::Simple { base }
    }

    /// The index URL reported in candidates.
    pub fn index_url(&self) -> &Url {
        match self {
            IndexApi::Json { index, .. } => index,
            IndexApi::Simple { base } => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(url: &str) -> IndexApi {
        IndexApi::for_url(&Url::parse(url).unwrap())
    }

    #[test]
    fn api_classification() {
        let json = |u: &str| match api(u) {
            IndexApi::Json { base, .. } => Some(base.to_string()),
            IndexApi::Simple { .. } => None,
        };
        assert_eq!(
            json("https://pypi.org/simple").as_deref(),
            Some("https://pypi.org/pypi/")
        );
        assert_eq!(
            json("https://pypi.org/").as_deref(),
            Some("https://pypi.org/pypi/")
        );
        assert_eq!(
            json("http://127.0.0.1:8080/pypi").as_deref(),
            Some("http://127.0.0.1:8080/pypi/")
        );
        assert_eq!(
            json("http://h/mirror/pypi/").as_deref(),
            Some("http://h/mirror/pypi/")
        );
        assert_eq!(json("https://pypi.example.org/simple/"), None);
        assert_eq!(json("https://h/pypi-mirror/simple"), None);
        match api("https://u:p@h/simple?x=1#frag") {
            IndexApi::Simple { base } => assert_eq!(base.as_str(), "https://u:p@h/simple/"),
            other => panic!("{other:?}"),
        }
        match api("file:///srv/mirror/simple") {
            IndexApi::Simple { base } => assert_eq!(base.as_str(), "file:///srv/mirror/simple/"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn locations_order_and_no_index() {
        let extra = Url::parse("https://h/simple/").unwrap();
        let mut locations = IndexLocations {
            extra_index_urls: vec![extra.clone(), extra],
            ..IndexLocations::default()
        };
        let indexes = locations.indexes();
        assert_eq!(indexes.len(), 2);
        assert_eq!(indexes[0], IndexApi::pypi());
        locations.no_index = true;
        assert!(locations.indexes().is_empty());
    }

    #[test]
    fn find_links_parse() {
        assert_eq!(
            FindLinks::parse("https://h/links.html"),
            FindLinks::Url(Url::parse("https://h/links.html").unwrap())
        );
        assert_eq!(
            FindLinks::parse("file:///tmp/wheels"),
            FindLinks::Path(PathBuf::from("/tmp/wheels"))
        );
        assert_eq!(
            FindLinks::parse("./wheels"),
            FindLinks::Path(PathBuf::from("./wheels"))
        );
    }
}
