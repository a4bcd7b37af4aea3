//! `HttpClient`: one shared `reqwest::Client` with timeouts, bounded retries with back-off,
//! credentials (URL userinfo, netrc) scoped to their host, the offline switch, and `file://`.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::cache::{self, CacheStatus, CachedPage, CachedResponse, Entry, EntryHeader};
use super::netrc::{Credentials, Netrc};
use super::{HttpError, RedactedUrl};

/// Redirect chains longer than this are an error.
const MAX_REDIRECTS: usize = 10;

/// The largest index page or metadata file [`HttpClient::get_cached`] reads into memory. The
/// biggest real project pages are tens of megabytes; without a bound, a hostile or broken
/// server streaming an endless body would exhaust memory.
pub const MAX_PAGE_SIZE: u64 = 256 << 20;

/// How the client behaves; the CLI fills it from flags and environment variables.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Read timeout: how long a connection may stay silent.
    pub timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Retries after the first attempt on connection errors, timeouts and 5xx answers.
    pub retries: u32,
    /// Delay before the first retry; it doubles on each further retry.
    pub retry_base_delay: Duration,
    /// Refuse every non-`file://` request.
    pub offline: bool,
    /// The netrc file to read credentials from (usually `~/.netrc`).
    pub netrc: Option<PathBuf>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Folder of the HTTP response cache used by [`HttpClient::get_cached`] (the cache's
    /// `http-v1` bucket); `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// `--refresh`: revalidate cached responses even when they are still fresh.
    pub refresh: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            retry_base_delay: Duration::from_millis(500),
            offline: false,
            netrc: None,
            user_agent: concat!("plonk/", env!("CARGO_PKG_VERSION")).to_string(),
            cache_dir: None,
            refresh: false,
        }
    }
}

/// A byte range for `Range:` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `start..=end`.
    FromTo(u64, u64),
    /// Everything from `start` on.
    From(u64),
    /// The last `n` bytes.
    Last(u64),
}

impl ByteRange {
    fn header_value(self) -> String {
        match self {
            ByteRange::FromTo(start, end) => format!("bytes={start}-{end}"),
            ByteRange::From(start) => format!("bytes={start}-"),
            ByteRange::Last(n) => format!("bytes=-{n}"),
        }
    }

    /// The `start..end` (exclusive) slice this range selects in a body of `len` bytes.
    fn resolve(self, len: u64) -> Option<(u64, u64)> {
        let (start, end) = match self {
            ByteRange::FromTo(start, end) => (start, end.saturating_add(1).min(len)),
            ByteRange::From(start) => (start, len),
            ByteRange::Last(n) => (len.saturating_sub(n), len),
        };
        (start < end || (len == 0 && start == 0)).then_some((start, end))
    }
}

/// A parsed `Content-Range: bytes start-end/total` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
    /// Size of the whole resource, when the server said.
    pub total: Option<u64>,
}

impl ContentRange {
    /// Parse a `Content-Range` header value; `None` when it is not a byte range.
    pub fn parse(value: &str) -> Option<Self> {
        let rest = value.trim().strip_prefix("bytes")?.trim_start();
        let (span, total) = rest.split_once('/')?;
        let (start, end) = span.split_once('-')?;
        let start = start.trim().parse().ok()?;
        let end = end.trim().parse().ok()?;
        let total = match total.trim() {
            "*" => None,
            total => Some(total.parse().ok()?),
        };
        (start <= end).then_some(Self { start, end, total })
    }
}

/// Cache validators for conditional GETs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` of the cached copy.
    pub etag: Option<String>,
    /// The `Last-Modified` of the cached copy.
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators a response carries.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Self {
            etag: get(header::ETAG),
            last_modified: get(header::LAST_MODIFIED),
        }
    }

    /// Whether there is nothing to validate with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// Per-request knobs for [`HttpClient::get`].
#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    /// The `Accept` header.
    pub accept: Option<String>,
    /// Ask for part of the resource only.
    pub range: Option<ByteRange>,
    /// Send `If-None-Match` / `If-Modified-Since`; a 304 is then a success.
    pub validators: Option<Validators>,
    /// Refuse bodies larger than this.
    pub max_size: Option<u64>,
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The URL after redirects, without credentials: resolve relative links against it.
    pub url: Url,
    /// 200, 206 or 304.
    pub status: u16,
    /// Response headers (empty for `file://`).
    pub headers: HeaderMap,
    /// The body (empty on 304).
    pub body: Vec<u8>,
}

/// The answer to a range request.
#[derive(Debug, Clone)]
pub struct RangeResponse {
    /// The URL after redirects.
    pub url: Url,
    /// The bytes received.
    pub body: Vec<u8>,
    /// Where `body` sits in the resource; `None` when the server ignored the range and sent
    /// the whole resource.
    pub content_range: Option<ContentRange>,
}

/// The answer to a conditional GET.
#[derive(Debug, Clone)]
pub enum Conditional {
    /// 304: the cached copy is still good.
    NotModified {
        /// The URL after redirects.
        url: Url,
        /// The 304's headers (may carry fresher validators).
        headers: HeaderMap,
    },
    /// A new body.
    Modified(HttpResponse),
}

/// A finished streaming download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The URL after redirects.
    pub url: Url,
    /// Bytes written.
    pub size: u64,
    /// Lowercase hex sha256 of the bytes written.
    pub sha256: String,
}

/// The HTTP client every module shares; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Built on the first network request: setting up TLS (certificate store, the crypto
    /// library's entropy) costs tens of milliseconds that a run served from the cache, or
    /// offline, never needs.
    client: std::sync::OnceLock<reqwest::Client>,
    options: HttpOptions,
    netrc: Netrc,
    /// Credentials seen in URLs, by `host:port`, so later requests there (file links of an
    /// index given as `https://user:pass@host/simple`) authenticate too.
    url_credentials: Mutex<HashMap<String, Credentials>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Set up the client (and read the netrc file, if any); the connection pool and TLS are
    /// set up by the first network request.
    pub fn new(options: HttpOptions) -> Result<Self, HttpError> {
        let netrc = match &options.netrc {
            Some(path) => Netrc::from_file(path).map_err(|source| HttpError::Netrc {
                path: path.clone(),
                source,
            })?,
            None => Netrc::default(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                client: std::sync::OnceLock::new(),
                options,
                netrc,
                url_credentials: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The shared `reqwest` client, built on first use.
    fn client(&self) -> Result<&reqwest::Client, HttpError> {
        if let Some(client) = self.inner.client.get() {
            return Ok(client);
        }
        let options = &self.inner.options;
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.timeout)
            // Redirects are followed by hand so credentials stay with their host.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|source| HttpError::Client { source })?;
        // Two first requests may race: one client wins, the other is dropped.
        Ok(self.inner.client.get_or_init(|| client))
    }

    /// The options this client was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.inner.options
    }

    /// Whether network requests are refused.
    pub fn is_offline(&self) -> bool {
        self.inner.options.offline
    }

    /// GET a whole resource: `(url after redirects, headers, body)`.
    pub async fn get_bytes(&self, url: &Url) -> Result<(Url, HeaderMap, Vec<u8>), HttpError> {
        let response = self.get(url, &GetOptions::default()).await?;
        Ok((response.url, response.headers, response.body))
    }

    /// GET a range of a resource. Servers that ignore ranges answer with the whole body.
    pub async fn get_range(&self, url: &Url, range: ByteRange) -> Result<RangeResponse, HttpError> {
        let options = GetOptions {
            range: Some(range),
            ..GetOptions::default()
        };
        let response = self.get(url, &options).await?;
        let content_range = if response.status == 206 {
            response
                .headers
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(ContentRange::parse)
        } else {
            None
        };
        if response.status == 206 && content_range.is_none() {
            // A partial answer we cannot place is useless; treat it as a broken response.
            return Err(HttpError::Status {
                url: RedactedUrl::new(&response.url),
                status: 206,
            });
        }
        Ok(RangeResponse {
            url: response.url,
            body: response.body,
            content_range,
        })
    }

    /// GET with cache validators: a 304 comes back as [`Conditional::NotModified`]. Bodies
    /// over [`MAX_PAGE_SIZE`] are refused.
    pub async fn get_conditional(
        &self,
        url: &Url,
        accept: Option<&str>,
        validators: &Validators,
    ) -> Result<Conditional, HttpError> {
        let options = GetOptions {
            accept: accept.map(str::to_string),
            validators: (!validators.is_empty()).then(|| validators.clone()),
            max_size: Some(MAX_PAGE_SIZE),
            ..GetOptions::default()
        };
        let response = self.get(url, &options).await?;
        if response.status == 304 {
            Ok(Conditional::NotModified {
                url: response.url,
                headers: response.headers,
            })
        } else {
            Ok(Conditional::Modified(response))
        }
    }

    /// GET through the HTTP response cache (see [`super::cache`]): a fresh stored answer is
    /// used without a request; a stale one is revalidated with its ETag / Last-Modified and
    /// reused on 304; `refresh` revalidates even fresh ones; offline, any stored answer is
    /// used, stale or not, and a missing one is [`HttpError::Offline`]. `file://` URLs and a
    /// client without cache folder fetch directly.
    pub async fn get_cached(
        &self,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<CachedResponse, HttpError> {
        self.get_cached_page(url, accept)
            .await?
            .into_response()
            .await
    }

    /// [`HttpClient::get_cached`] without reading a stored body: a fresh, revalidated or
    /// offline answer carries the stored body's identity ([`CachedPage::body_id`]) and reads
    /// the body only when [`CachedPage::body`] is called, so a caller that has already
    /// derived what it needs from that body skips reading it.
    pub async fn get_cached_page(
        &self,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<CachedPage, HttpError> {
        let options = &self.inner.options;
        let dir = match &options.cache_dir {
            Some(dir) if url.scheme() != "file" => dir,
            _ => {
                let response = self
                    .get(
                        url,
                        &GetOptions {
                            accept: accept.map(str::to_string),
                            max_size: Some(MAX_PAGE_SIZE),
                            ..GetOptions::default()
                        },
                    )
                    .await?;
                return Ok(CachedPage::in_memory(
                    response.url,
                    content_type(&response.headers),
                    CacheStatus::Uncached,
                    None,
                    response.body,
                ));
            }
        };
        let path = cache::entry_path(dir, url, accept);
        let stored = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || cache::open(&path))
                .await
                .ok()
                .flatten()
        };
        let now = cache::now();
        let stored = match stored {
            Some(entry) if options.offline || (!options.refresh && entry.header.is_fresh(now)) => {
                let status = if entry.header.is_fresh(now) {
                    CacheStatus::Fresh
                } else {
                    CacheStatus::Offline
                };
                let header = entry.header.clone();
                return Ok(CachedPage::stored(
                    header,
                    entry,
                    status,
                    strip_credentials(url),
                ));
            }
            other => other,
        };
        let conditional = self
            .get_conditional(
                url,
                accept,
                &stored
                    .as_ref()
                    .map(|e| e.header.validators())
                    .unwrap_or_default(),
            )
            .await?;
        match (conditional, stored) {
            (Conditional::NotModified { headers, .. }, Some(mut old)) => {
                let header = old.header.clone().revalidated(&headers, now);
                // The body is copied file to file; a cache that cannot be written only
                // costs the next run a request.
                let old = tokio::task::spawn_blocking({
                    let header = header.clone();
                    move || {
                        let _ = cache::write_revalidated(&path, &header, &mut old);
                        old
                    }
                })
                .await
                .map_err(|err| HttpError::Io {
                    path: dir.clone(),
                    source: std::io::Error::other(err.to_string()),
                })?;
                Ok(CachedPage::stored(
                    header,
                    old,
                    CacheStatus::Revalidated,
                    strip_credentials(url),
                ))
            }
            (Conditional::NotModified { url: final_url, .. }, None) => {
                // A 304 to an unconditional request: nothing to reuse.
                Err(HttpError::Status {
                    url: RedactedUrl::new(&final_url),
                    status: 304,
                })
            }
            (Conditional::Modified(response), _) => {
                let entry = Entry {
                    header: EntryHeader::new(&response.url, &response.headers, now),
                    body: response.body,
                };
                if cache::CachePolicy::from_headers(&response.headers).no_store {
                    return Ok(from_entry(entry, CacheStatus::Fetched, url, false));
                }
                // A cache that cannot be written only costs the next run a request; an
                // entry that was not written has no identity to derive anything from.
                let (entry, written) = tokio::task::spawn_blocking(move || {
                    let written = cache::write(&path, &entry).is_ok();
                    (entry, written)
                })
                .await
                .map_err(|err| HttpError::Io {
                    path: dir.clone(),
                    source: std::io::Error::other(err.to_string()),
                })?;
                Ok(from_entry(entry, CacheStatus::Fetched, url, written))
            }
        }
    }

    /// GET with every knob; retried on connection errors, timeouts and 5xx answers.
    pub async fn get(&self, url: &Url, options: &GetOptions) -> Result<HttpResponse, HttpError> {
        if url.scheme() == "file" {
            return read_file_url(url, options).await;
        }
        self.retrying(|| async {
            let (final_url, mut response) = self.send(url, options).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            if status != 304 {
                let expected = response.content_length();
                let limit = options.max_size;
                let redacted = || RedactedUrl::new(&final_url);
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            body.extend_from_slice(&chunk);
                            check_size(body.len() as u64, expected, limit, redacted)?;
                        }
                        Ok(None) => break,
                        Err(err) => {
                            return Err(body_error(
                                err,
                                &final_url,
                                body.len() as u64,
                                expected,
                                self.inner.options.timeout,
                            ));
                        }
                    }
                }
                check_complete(body.len() as u64, expected, redacted)?;
            }
            Ok(HttpResponse {
                url: final_url,
                status,
                headers,
                body,
            })
        })
        .await
    }

    /// Stream `url` into the file `dest` (created or truncated), hashing while writing.
    ///
    /// More bytes than `Content-Length` or `max_size` is an error, and so is fewer bytes than
    /// announced. `progress` is called with the byte count so far. On error `dest` may hold a
    /// partial file: the caller downloads into a temporary file it deletes.
    pub async fn download(
        &self,
        url: &Url,
        dest: &Path,
        max_size: Option<u64>,
        progress: Option<&(dyn Fn(u64) + Send + Sync)>,
    ) -> Result<Downloaded, HttpError> {
        if url.scheme() == "file" {
            return copy_file_url(url, dest, max_size, progress).await;
        }
        self.retrying(|| async {
            let (final_url, mut response) = self.send(url, &GetOptions::default()).await?;
            let io_err = |source| HttpError::Io {
                path: dest.to_path_buf(),
                source,
            };
            let file = tokio::fs::File::create(dest).await.map_err(io_err)?;
            let mut writer = tokio::io::BufWriter::with_capacity(256 * 1024, file);
            let mut hasher = Sha256::new();
            let expected = response.content_length();
            let redacted = || RedactedUrl::new(&final_url);
            let mut size = 0u64;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        size += chunk.len() as u64;
                        check_size(size, expected, max_size, redacted)?;
                        hasher.update(&chunk);
                        writer.write_all(&chunk).await.map_err(io_err)?;
                        if let Some(progress) = progress {
                            progress(size);
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        return Err(body_error(
                            err,
                            &final_url,
                            size,
                            expected,
                            self.inner.options.timeout,
                        ));
                    }
                }
            }
            check_complete(size, expected, redacted)?;
            writer.flush().await.map_err(io_err)?;
            writer.into_inner().sync_all().await.map_err(io_err)?;
            Ok(Downloaded {
                url: final_url,
                size,
                sha256: hex(&hasher.finalize()),
            })
        })
        .await
    }

    /// Run `op` until it succeeds, fails for good, or the retries are used up.
    async fn retrying<T, F, Fut>(&self, mut op: F) -> Result<T, HttpError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, HttpError>>,
    {
        let options = &self.inner.options;
        let mut attempt = 0u32;
        loop {
            match op().await {
                Err(err) if attempt < options.retries && is_retryable(&err) => {
                    let delay = options
                        .retry_base_delay
                        .saturating_mul(2u32.saturating_pow(attempt))
                        .min(Duration::from_secs(30));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// Send one GET, following redirects by hand; non-success statuses become errors.
    async fn send(
        &self,
        url: &Url,
        options: &GetOptions,
    ) -> Result<(Url, reqwest::Response), HttpError> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            match current.scheme() {
                "http" | "https" => {}
                _ => {
                    return Err(HttpError::UnsupportedScheme {
                        url: RedactedUrl::new(&current),
                    });
                }
            }
            if self.inner.options.offline {
                return Err(HttpError::Offline {
                    url: RedactedUrl::new(&current),
                });
            }
            let credentials = self.credentials_for(&current);
            let bare = strip_credentials(&current);
            let mut request = self.client()?.get(bare.clone());
            if let Some(accept) = &options.accept {
                request = request.header(header::ACCEPT, accept);
            }
            if let Some(range) = options.range {
                request = request.header(header::RANGE, range.header_value());
            }
            if let Some(validators) = &options.validators {
                if let Some(etag) = &validators.etag {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(modified) = &validators.last_modified {
                    request = request.header(header::IF_MODIFIED_SINCE, modified);
                }
            }
            if let Some(credentials) = &credentials {
                request = request.basic_auth(&credentials.username, credentials.password.as_ref());
            }
            // The read timeout also bounds the wait for the headers, whatever the transport.
            let timeout = self.inner.options.timeout;
            let sent = tokio::time::timeout(timeout, request.send()).await;
            let response = match sent {
                Err(_elapsed) => {
                    return Err(HttpError::Timeout {
                        url: RedactedUrl::new(&bare),
                        seconds: timeout.as_secs_f64(),
                    });
                }
                Ok(Err(err)) => return Err(transport_error(err, &bare, timeout)),
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| current.join(location).ok());
                match location {
                    Some(next) => {
                        current = next;
                        continue;
                    }
                    None => {
                        return Err(HttpError::BadRedirect {
                            url: RedactedUrl::new(&bare),
                        });
                    }
                }
            }
            check_status(status, &bare)?;
            return Ok((bare, response));
        }
        Err(HttpError::TooManyRedirects {
            url: RedactedUrl::new(url),
        })
    }

    /// Credentials for one request: the URL's own userinfo, else what an earlier URL gave for
    /// this host, else the netrc entry for this host. Never another host's.
    fn credentials_for(&self, url: &Url) -> Option<Credentials> {
        let host = url.host_str()?.to_ascii_lowercase();
        // URL credentials belong to one host and port; netrc entries name hosts only.
        let authority = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
        let mut known = self
            .inner
            .url_credentials
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !url.username().is_empty() || url.password().is_some() {
            let username = percent_decode(url.username());
            let mut password = url.password().map(percent_decode);
            if password.is_none() {
                // `https://user@host/`: the password may live in netrc.
                password = self
                    .inner
                    .netrc
                    .get(&host)
                    .filter(|c| c.username == username)
                    .and_then(|c| c.password.clone());
            }
            let credentials = Credentials { username, password };
            known.insert(authority, credentials.clone());
            return Some(credentials);
        }
        if let Some(credentials) = known.get(&authority) {
            return Some(credentials.clone());
        }
        self.inner.netrc.get(&host).cloned()
    }
}

/// A cache entry as a response.
/// A page whose body is in memory; `stored`: it is also in the cache under its body id.
fn from_entry(entry: Entry, status: CacheStatus, asked: &Url, stored: bool) -> CachedPage {
    let url = Url::parse(&entry.header.url).unwrap_or_else(|_| strip_credentials(asked));
    CachedPage::in_memory(
        url,
        entry.header.content_type,
        status,
        entry.header.body_id.filter(|_| stored),
        entry.body,
    )
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Map a final status to success or an error.
fn check_status(status: StatusCode, url: &Url) -> Result<(), HttpError> {
    let code = status.as_u16();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        return Ok(());
    }
    let redacted = RedactedUrl::new(url);
    Err(match code {
        401 | 403 => HttpError::Unauthorized {
            host: url.host_str().unwrap_or_default().to_string(),
            url: redacted,
            status: code,
        },
        404 | 410 => HttpError::NotFound { url: redacted },
        _ => HttpError::Status {
            url: redacted,
            status: code,
        },
    })
}

/// Connection errors, timeouts, cut-short bodies and 5xx are worth another try; 4xx never.
fn is_retryable(err: &HttpError) -> bool {
    match err {
        // A host name that does not exist will not exist a second later either.
        HttpError::Connect { source, .. } => !is_unknown_host(source),
        HttpError::Timeout { .. } | HttpError::Request { .. } | HttpError::Truncated { .. } => true,
        HttpError::Status { status, .. } => *status >= 500,
        _ => false,
    }
}

/// Whether a connection failed because DNS says the host name does not exist (not a
/// temporary resolver failure).
fn is_unknown_host(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains("Name or service not known")
            || text.contains("No address associated with hostname")
            || text.contains("nodename nor servname provided")
        {
            return true;
        }
        source = e.source();
    }
    false
}

fn transport_error(err: reqwest::Error, url: &Url, timeout: Duration) -> HttpError {
    let url = RedactedUrl::new(url);
    if err.is_timeout() {
        HttpError::Timeout {
            url,
            seconds: timeout.as_secs_f64(),
        }
    } else if err.is_connect() {
        HttpError::Connect {
            url,
            source: err.without_url(),
        }
    } else {
        HttpError::Request {
            url,
            source: err.without_url(),
        }
    }
}

/// An error while reading a body: a short body is `Truncated`, the rest as for headers.
fn body_error(
    err: reqwest::Error,
    url: &Url,
    received: u64,
    expected: Option<u64>,
    timeout: Duration,
) -> HttpError {
    match expected {
        Some(expected) if received < expected && !err.is_timeout() => HttpError::Truncated {
            url: RedactedUrl::new(url),
            received,
            expected,
        },
        _ => transport_error(err, url, timeout),
    }
}

fn check_size(
    size: u64,
    expected: Option<u64>,
    limit: Option<u64>,
    url: impl Fn() -> RedactedUrl,
) -> Result<(), HttpError> {
    for limit in [expected, limit].into_iter().flatten() {
        if size > limit {
            return Err(HttpError::TooLarge { url: url(), limit });
        }
    }
    Ok(())
}

fn check_complete(
    size: u64,
    expected: Option<u64>,
    url: impl Fn() -> RedactedUrl,
) -> Result<(), HttpError> {
    match expected {
        Some(expected) if size < expected => Err(HttpError::Truncated {
            url: url(),
            received: size,
            expected,
        }),
        _ => Ok(()),
    }
}

/// The URL without its userinfo (credentials travel in the `Authorization` header).
fn strip_credentials(url: &Url) -> Url {
    let mut bare = url.clone();
    // Only URLs that cannot carry credentials refuse this, and those carry none.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare
}

/// Decodes `%XX` escapes (URL userinfo, path segments); invalid escapes are kept as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Lowercase hex (http is an edge module and does not use `dist`'s helpers).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The local path of a `file://` URL; a folder stands for its `index.html`, as on a
/// static web server (so a mirror works as a plain path).
fn file_url_path(url: &Url) -> Result<PathBuf, HttpError> {
    let path = url
        .to_file_path()
        .map_err(|()| HttpError::UnsupportedScheme {
            url: RedactedUrl::new(url),
        })?;
    if path.is_dir() {
        Ok(path.join("index.html"))
    } else {
        Ok(path)
    }
}

fn local_error(url: &Url, path: &Path, source: std::io::Error) -> HttpError {
    if source.kind() == std::io::ErrorKind::NotFound {
        HttpError::NotFound {
            url: RedactedUrl::new(url),
        }
    } else {
        HttpError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

async fn read_file_url(url: &Url, options: &GetOptions) -> Result<HttpResponse, HttpError> {
    let path = file_url_path(url)?;
    let mut body = tokio::fs::read(&path)
        .await
        .map_err(|source| local_error(url, &path, source))?;
    let mut status = 200;
    let mut headers = HeaderMap::new();
    if let Some(range) = options.range {
        let len = body.len() as u64;
        let (start, end) = range.resolve(len).ok_or_else(|| HttpError::Status {
            url: RedactedUrl::new(url),
            status: 416,
        })?;
        // Bounded by `len`, so these fit in usize.
        body = body[start as usize..end as usize].to_vec();
        status = 206;
        let value = format!("bytes {start}-{}/{len}", end.saturating_sub(1));
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    if let Some(limit) = options.max_size
        && body.len() as u64 > limit
    {
        return Err(HttpError::TooLarge {
            url: RedactedUrl::new(url),
            limit,
        });
    }
    Ok(HttpResponse {
        url: url.clone(),
        status,
        headers,
        body,
    })
}

async fn copy_file_url(
    url: &Url,
    dest: &Path,
    max_size: Option<u64>,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<Downloaded, HttpError> {
    use tokio::io::AsyncReadExt;

    let path = file_url_path(url)?;
    let mut source = tokio::fs::File::open(&path)
        .await
        .map_err(|source| local_error(url, &path, source))?;
    let write_err = |source| HttpError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut writer = tokio::fs::File::create(dest).await.map_err(write_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = source
            .read(&mut buf)
            .await
            .map_err(|source| HttpError::Io {
                path: path.clone(),
                source,
            })?;
        if n == 0 {
            break;
        }
        size += n as u64;
        check_size(size, None, max_size, || RedactedUrl::new(url))?;
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).await.map_err(write_err)?;
        if let Some(progress) = progress {
            progress(size);
        }
    }
    writer.sync_all().await.map_err(write_err)?;
    Ok(Downloaded {
        url: url.clone(),
        size,
        sha256: hex(&hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_rows() {
        let rows = [
            ("bytes 0-9/100", Some((0, 9, Some(100)))),
            ("bytes 90-99/*", Some((90, 99, None))),
            ("  bytes  5-5/6 ", Some((5, 5, Some(6)))),
            ("bytes 9-0/100", None),
            ("bytes */100", None),
            ("items 0-9/100", None),
            ("bytes 0-9", None),
            ("bytes a-b/c", None),
            ("", None),
        ];
        for (input, expected) in rows {
            let parsed = ContentRange::parse(input).map(|r| (r.start, r.end, r.total));
            assert_eq!(parsed, expected, "{input:?}");
        }
    }

    #[test]
    fn byte_range_resolution() {
        assert_eq!(ByteRange::Last(10).resolve(100), Some((90, 100)));
        assert_eq!(ByteRange::Last(1000).resolve(100), Some((0, 100)));
        assert_eq!(ByteRange::FromTo(10, 19).resolve(100), Some((10, 20)));
        assert_eq!(ByteRange::FromTo(90, 200).resolve(100), Some((90, 100)));
        assert_eq!(ByteRange::From(100).resolve(100), None);
        assert_eq!(ByteRange::FromTo(0, 0).header_value(), "bytes=0-0");
        assert_eq!(ByteRange::Last(7).header_value(), "bytes=-7");
    }

    #[test]
    fn retryable_errors() {
        let url = RedactedUrl::new(&Url::parse("https://x.org/").unwrap());
        let status = |status| HttpError::Status {
            url: url.clone(),
            status,
        };
        assert!(is_retryable(&status(500)));
        assert!(is_retryable(&status(503)));
        assert!(!is_retryable(&status(429)));
        assert!(!is_retryable(&status(400)));
        assert!(!is_retryable(&HttpError::NotFound { url: url.clone() }));
        assert!(!is_retryable(&HttpError::Offline { url: url.clone() }));
        assert!(is_retryable(&HttpError::Timeout { url, seconds: 1.0 }));
    }

    #[test]
    fn strip_and_decode_credentials() {
        let url = Url::parse("https://us%40er:p%3Ass@x.org/simple/").unwrap();
        assert_eq!(strip_credentials(&url).as_str(), "https://x.org/simple/");
        assert_eq!(percent_decode(url.username()), "us@er");
        assert_eq!(percent_decode(url.password().unwrap()), "p:ss");
        assert_eq!(percent_decode("bad%zz%4"), "bad%zz%4");
    }

    #[test]
    fn credentials_stay_with_their_host() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        std::fs::write(&netrc, "machine b.org login bob password nb\n").unwrap();
        let client = HttpClient::new(HttpOptions {
            netrc: Some(netrc),
            ..HttpOptions::default()
        })
        .unwrap();
        let a = Url::parse("https://alice:pa@a.org/simple/").unwrap();
        let creds = client.credentials_for(&a).unwrap();
        assert_eq!(creds.username, "alice");
        // Later requests to the same host without userinfo reuse them.
        let file = Url::parse("https://a.org/packages/x.whl").unwrap();
        assert_eq!(client.credentials_for(&file).unwrap().username, "alice");
        // Another port of the same host is another server.
        let other_port = Url::parse("https://a.org:8443/x").unwrap();
        assert!(client.credentials_for(&other_port).is_none());
        // Another host only gets its own netrc entry.
        let b = Url::parse("https://b.org/x").unwrap();
        assert_eq!(client.credentials_for(&b).unwrap().username, "bob");
        let c = Url::parse("https://c.org/x").unwrap();
        assert!(client.credentials_for(&c).is_none());
        // A user without password takes the password from netrc when the login matches.
        let bob = Url::parse("https://bob@b.org/x").unwrap();
        assert_eq!(
            client.credentials_for(&bob).unwrap().password.as_deref(),
            Some("nb")
        );
    }

    #[tokio::test]
    async fn offline_refuses_network_but_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"0123456789").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/index.html"), b"<html>").unwrap();
        let client = HttpClient::new(HttpOptions {
            offline: true,
            ..HttpOptions::default()
        })
        .unwrap();
        let url = Url::parse("https://user:secret@pypi.org/simple/x/").unwrap();
        let err = client.get_bytes(&url).await.unwrap_err();
        assert!(err.is_offline());
        let text = err.to_string();
        assert!(text.contains("pypi.org/simple/x/"), "{text}");
        assert!(!text.contains("secret"), "{text}");

        let file = Url::from_file_path(dir.path().join("a.txt")).unwrap();
        let (_, _, body) = client.get_bytes(&file).await.unwrap();
        assert_eq!(body, b"0123456789");
        let range = client.get_range(&file, ByteRange::Last(3)).await.unwrap();
        assert_eq!(range.body, b"789");
        assert_eq!(
            range.content_range,
            Some(ContentRange {
                start: 7,
                end: 9,
                total: Some(10)
            })
        );
        let folder = Url::from_directory_path(dir.path().join("sub")).unwrap();
        assert_eq!(client.get_bytes(&folder).await.unwrap().2, b"<html>");
        let missing = Url::from_file_path(dir.path().join("nope")).unwrap();
        assert!(client.get_bytes(&missing).await.unwrap_err().is_not_found());

        let dest = dir.path().join("copy");
        let done = client.download(&file, &dest, None, None).await.unwrap();
        assert_eq!(done.size, 10);
        assert_eq!(
            done.sha256,
            "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882"
        );
        let err = client
            .download(&file, &dest, Some(4), None)
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::TooLarge { limit: 4, .. }), "{err}");
    }

    #[tokio::test]
    async fn unsupported_scheme() {
        let client = HttpClient::new(HttpOptions::default()).unwrap();
        let url = Url::parse("ftp://x.org/a").unwrap();
        let err = client.get_bytes(&url).await.unwrap_err();
        assert!(matches!(err, HttpError::UnsupportedScheme { .. }));
    }
}
