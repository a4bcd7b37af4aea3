//! Fetching index files: http(s) through the shared [`HttpClient`] (timeouts, retries,
//! conditional GETs with the `ETag` / `Last-Modified` of the copy kept in the cache), and
//! local paths from disk. Offline, an http index is served from that kept copy.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::IndexError;
use super::location::{IndexFile, index_file};
use crate::http::{GetOptions, HttpClient, HttpError, Validators};

/// Index files larger than this are refused (the biggest real one is a few kilobytes).
pub const MAX_INDEX_SIZE: u64 = 32 * 1024 * 1024;

/// The text of an index file and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedIndex {
    /// The file's text.
    pub text: String,
    /// Where it came from.
    pub freshness: Freshness,
}

/// How an index file was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Downloaded or read now.
    Fetched,
    /// The server answered 304: the kept copy is current.
    NotModified,
    /// Offline: the kept copy was used without asking the server.
    Offline,
}

/// What is kept beside a fetched index body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct KeptMeta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// Fetches the index file at `location` (see [`super::location::index_file_location`]).
/// `http_cache` is the folder where http bodies and validators are kept.
pub async fn fetch_index(
    client: &HttpClient,
    location: &str,
    http_cache: &Path,
) -> Result<FetchedIndex, IndexError> {
    match index_file(location) {
        None => Err(IndexError::BadIndex(location.to_string())),
        Some(IndexFile::Path(path)) => {
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|source| IndexError::Read {
                    index: location.to_string(),
                    source,
                })?;
            Ok(FetchedIndex {
                text: to_text(bytes, location)?,
                freshness: Freshness::Fetched,
            })
        }
        Some(IndexFile::Url(url)) if url.scheme() == "file" => {
            let response = client
                .get(&url, &GetOptions::default())
                .await
                .map_err(|source| fetch_error(location, source))?;
            Ok(FetchedIndex {
                text: to_text(response.body, location)?,
                freshness: Freshness::Fetched,
            })
        }
        Some(IndexFile::Url(url)) => {
            let (body_path, meta_path) = kept_paths(http_cache, location);
            let kept = read_kept(&body_path, &meta_path, location).await;
            if client.is_offline()
                && let Some((text, _)) = kept
            {
                return Ok(FetchedIndex {
                    text,
                    freshness: Freshness::Offline,
                });
            }
            let validators = kept.as_ref().map(|(_, meta)| Validators {
                etag: meta.etag.clone(),
                last_modified: meta.last_modified.clone(),
            });
            let options = GetOptions {
                accept: Some(
                    "application/yaml, text/yaml, text/plain;q=0.9, */*;q=0.8".to_string(),
                ),
                validators: validators.filter(|v| !v.is_empty()),
                max_size: Some(MAX_INDEX_SIZE),
                ..GetOptions::default()
            };
            let response = client
                .get(&url, &options)
                .await
                .map_err(|source| fetch_error(location, source))?;
            if response.status == 304
                && let Some((text, _)) = kept
            {
                return Ok(FetchedIndex {
                    text,
                    freshness: Freshness::NotModified,
                });
            }
            let is_html = response
                .headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("html"));
            if is_html {
                return Err(IndexError::Html {
                    index: location.to_string(),
                });
            }
            let text = to_text(response.body, location)?;
            let validators = Validators::from_headers(&response.headers);
            if !validators.is_empty() {
                let meta = KeptMeta {
                    url: location.to_string(),
                    etag: validators.etag,
                    last_modified: validators.last_modified,
                };
                // Keeping a copy is an optimisation: failing to write it is not an error.
                let _ = keep(&body_path, &meta_path, &text, &meta);
            }
            Ok(FetchedIndex {
                text,
                freshness: Freshness::Fetched,
            })
        }
    }
}

fn fetch_error(location: &str, source: HttpError) -> IndexError {
    IndexError::Fetch {
        index: location.to_string(),
        source,
    }
}

fn to_text(bytes: Vec<u8>, location: &str) -> Result<String, IndexError> {
    String::from_utf8(bytes).map_err(|_| IndexError::NotUtf8 {
        index: location.to_string(),
    })
}

fn kept_paths(http_cache: &Path, location: &str) -> (PathBuf, PathBuf) {
    let key = crate::cache::cache_key(&[location.as_bytes()]);
    (
        http_cache.join(format!("{key}.yml")),
        http_cache.join(format!("{key}.json")),
    )
}

async fn read_kept(body: &Path, meta: &Path, location: &str) -> Option<(String, KeptMeta)> {
    let meta: KeptMeta = serde_json::from_slice(&tokio::fs::read(meta).await.ok()?).ok()?;
    if meta.url != location {
        return None;
    }
    let text = String::from_utf8(tokio::fs::read(body).await.ok()?).ok()?;
    Some((text, meta))
}

fn keep(
    body: &Path,
    meta_path: &Path,
    text: &str,
    meta: &KeptMeta,
) -> Result<(), crate::cache::CacheError> {
    crate::cache::write_atomic(body, text.as_bytes())?;
    let json = serde_json::to_vec(meta).unwrap_or_default();
    crate::cache::write_atomic(meta_path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpOptions;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn client(offline: bool) -> HttpClient {
        HttpClient::new(HttpOptions {
            timeout: Duration::from_secs(2),
            retries: 0,
            offline,
            ..HttpOptions::default()
        })
        .unwrap()
    }

    /// Serves `responses` in order, one per connection; records request heads.
    fn serve(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for response in responses {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                log2.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).to_string());
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (format!("http://{addr}"), log)
    }

    fn ok(body: &str, extra: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn local_paths_and_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plugins.yml");
        std::fs::write(&file, "[]").unwrap();
        let c = client(false);
        let got = fetch_index(&c, &file.to_string_lossy(), tmp.path())
            .await
            .unwrap();
        assert_eq!(got.text, "[]");
        let missing = tmp.path().join("nope/plugins.yml");
        let err = fetch_index(&c, &missing.to_string_lossy(), tmp.path())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not read the plugin index"),
            "{err}"
        );
        std::fs::write(&file, b"\xff\xfe").unwrap();
        let err = fetch_index(&c, &file.to_string_lossy(), tmp.path())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[tokio::test]
    async fn conditional_get_reuses_the_kept_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let body = "- name: a\n  src: b\n";
        let (base, log) = serve(vec![
            ok(body, "ETag: \"v1\"\r\n"),
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_string(),
        ]);
        let location = format!("{base}/main/plugins.yml");
        let c = client(false);
        let first = fetch_index(&c, &location, tmp.path()).await.unwrap();
        assert_eq!(first.freshness, Freshness::Fetched);
        let second = fetch_index(&c, &location, tmp.path()).await.unwrap();
        assert_eq!(second.freshness, Freshness::NotModified);
        assert_eq!(second.text, body);
        let requests = log.lock().unwrap().clone();
        assert!(
            requests[1]
                .to_ascii_lowercase()
                .contains("if-none-match: \"v1\""),
            "{}",
            requests[1]
        );
        // Offline: the kept copy, no request.
        let offline = fetch_index(&client(true), &location, tmp.path())
            .await
            .unwrap();
        assert_eq!(offline.freshness, Freshness::Offline);
        assert_eq!(log.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn html_and_status_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let (base, _) = serve(vec![
            ok("<html>login</html>", "Content-Type: text/html\r\n"),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
        ]);
        let c = client(false);
        let err = fetch_index(&c, &format!("{base}/a/plugins.yml"), tmp.path())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("HTML page"), "{err}");
        let err = fetch_index(&c, &format!("{base}/b/plugins.yml"), tmp.path())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not fetch the plugin index"),
            "{err}"
        );
        // Offline without a kept copy.
        let err = fetch_index(&client(true), &format!("{base}/c/plugins.yml"), tmp.path())
            .await
            .unwrap_err();
        assert!(
            matches!(err, IndexError::Fetch { ref source, .. } if source.is_offline()),
            "{err}"
        );
    }
}
