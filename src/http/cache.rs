//! The HTTP response cache: stored answers of index pages with their freshness (Cache-Control
//! `max-age` minus `Age`, `no-cache`, `no-store`) and validators (ETag, Last-Modified).
//!
//! One file per request (URL + `Accept`), named by the SHA-256 of both: a magic line, a JSON
//! header line, then the body as received. Entries are written to a temporary file in the
//! same folder and renamed into place, so processes sharing the cache never see a torn entry
//! and two writers of the same entry both succeed (the last rename wins, both are complete).
//! Anything unreadable is treated as absent and overwritten by the next fetch.
//!
//! Every stored body gets a `body_id`, a token that is new whenever a new body is stored (a
//! 304 keeps it). Callers that derive something expensive from a body (the registry's parsed
//! project pages) stamp it with that id, and [`super::HttpClient::get_cached_page`] answers a
//! fresh or revalidated request with the id alone, reading the body only when asked: a warm
//! run then never reads the megabytes of a PyPI project page it has already digested.
//!
//! This module is part of the HTTP edge and knows no other plonk module; the folder it works
//! in is given by [`super::HttpOptions::cache_dir`].

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::client::{Validators, hex};

/// First line of every entry: the format, so a future layout is never misread.
const MAGIC: &[u8] = b"plonk-http-cache-1\n";

/// Longest freshness plonk gives a response on its own (RFC 9111 §4.2.2 heuristic), when
/// the server says nothing about freshness.
pub const HEURISTIC_MAX_SECONDS: u64 = 600;

/// What the response headers allow a private cache to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CachePolicy {
    /// Seconds the response stays fresh, counted from when it was generated
    /// (`Cache-Control: max-age`).
    pub max_age: Option<u64>,
    /// `Expires` minus `Date`, when there is no `max-age` (an unparsable `Expires` is 0).
    pub expires: Option<u64>,
    /// Heuristic freshness (RFC 9111 §4.2.2) when the server gives no explicit one: 10% of
    /// the time since `Last-Modified`; [`HEURISTIC_MAX_SECONDS`] for a response with no
    /// validator at all (revalidating it would mean downloading it again anyway); none for
    /// a response with an ETag only (a cheap conditional request decides). Capped at
    /// [`HEURISTIC_MAX_SECONDS`].
    pub heuristic: Option<u64>,
    /// `no-store`: do not keep the response at all.
    pub no_store: bool,
    /// `no-cache`: keep it, but revalidate before every use.
    pub no_cache: bool,
    /// The `Age` header: how old the response already was when it arrived (CDNs).
    pub age: u64,
}

impl CachePolicy {
    /// The policy the response headers describe. Unknown directives are ignored; a malformed
    /// `max-age` counts as 0 (the response is then stale at once, so it is revalidated
    /// rather than trusted).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut policy = CachePolicy::default();
        let mut has_cache_control = false;
        for value in headers.get_all(header::CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let (name, argument) = match directive.split_once('=') {
                    Some((name, argument)) => (name, Some(argument.trim().trim_matches('"'))),
                    None => (directive, None),
                };
                let name = name.trim().to_ascii_lowercase();
                has_cache_control |= !name.is_empty();
                match name.as_str() {
                    "max-age" => {
                        // RFC 9111: with several max-age values the response is stale.
                        let parsed = argument.and_then(|a| a.parse::<u64>().ok());
                        policy.max_age = match (policy.max_age, parsed) {
                            (None, Some(seconds)) => Some(seconds),
                            _ => Some(0),
                        };
                    }
                    "no-store" => policy.no_store = true,
                    "no-cache" => policy.no_cache = true,
                    _ => {}
                }
            }
        }
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        policy.age = text(header::AGE)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let date = text(header::DATE).and_then(parse_http_date);
        if policy.max_age.is_none()
            && let Some(expires) = text(header::EXPIRES)
        {
            let expires = parse_http_date(expires);
            policy.expires = Some(match (expires, date) {
                (Some(expires), Some(date)) => expires.saturating_sub(date),
                (Some(expires), None) => expires.saturating_sub(now()),
                _ => 0,
            });
        }
        if policy.max_age.is_none() && policy.expires.is_none() && !has_cache_control {
            let modified = text(header::LAST_MODIFIED).and_then(parse_http_date);
            policy.heuristic = match (modified, text(header::ETAG)) {
                (Some(modified), _) => {
                    let age = date.unwrap_or_else(now).saturating_sub(modified);
                    Some((age / 10).min(HEURISTIC_MAX_SECONDS))
                }
                (None, None) if text(header::LAST_MODIFIED).is_none() => {
                    Some(HEURISTIC_MAX_SECONDS)
                }
                _ => None,
            };
        }
        policy
    }

    /// Until when (Unix seconds) a response received at `now` may be used without asking.
    pub fn fresh_until(&self, now: u64) -> Option<u64> {
        if self.no_cache || self.no_store {
            return None;
        }
        let lifetime = self.max_age.or(self.expires).or(self.heuristic)?;
        let lifetime = lifetime.checked_sub(self.age)?;
        (lifetime > 0).then(|| now.saturating_add(lifetime))
    }
}

/// Parse an HTTP date in the preferred IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`)
/// into Unix seconds; `None` for anything else (obsolete forms are treated as absent).
pub fn parse_http_date(text: &str) -> Option<u64> {
    let rest = text.trim().split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok().filter(|_| p.len() == 2))
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), years from March.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// The JSON header line of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryHeader {
    /// The URL after redirects, without credentials: relative links resolve against it.
    pub url: String,
    /// `Content-Type` of the response.
    pub content_type: Option<String>,
    /// `ETag`, for `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified`, for `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// Unix seconds when the response was stored or last revalidated.
    pub stored_at: u64,
    /// Unix seconds until which it is fresh; `None`: revalidate before use.
    pub fresh_until: Option<u64>,
    /// Identity of the stored body: new for every body received, kept by a 304. `None` in
    /// entries written before it existed (a revalidation gives them one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_id: Option<String>,
}

impl EntryHeader {
    /// The header of a response received now.
    pub fn new(url: &Url, headers: &HeaderMap, now: u64) -> Self {
        let validators = Validators::from_headers(headers);
        EntryHeader {
            url: url.to_string(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            etag: validators.etag,
            last_modified: validators.last_modified,
            stored_at: now,
            fresh_until: CachePolicy::from_headers(headers).fresh_until(now),
            body_id: Some(new_body_id()),
        }
    }

    /// After a 304: new freshness, and any validator the 304 sent replaces the old one.
    pub fn revalidated(mut self, headers: &HeaderMap, now: u64) -> Self {
        let fresher = Validators::from_headers(headers);
        self.etag = fresher.etag.or(self.etag);
        self.last_modified = fresher.last_modified.or(self.last_modified);
        self.stored_at = now;
        // The stored validators still describe the body: the heuristic needs them.
        let mut merged = headers.clone();
        for (name, value) in [
            (header::ETAG, &self.etag),
            (header::LAST_MODIFIED, &self.last_modified),
        ] {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                merged.insert(name, value);
            }
        }
        self.fresh_until = CachePolicy::from_headers(&merged).fresh_until(now);
        // The body did not change: what was derived from it stays valid.
        self.body_id = self.body_id.or_else(|| Some(new_body_id()));
        self
    }

    /// Whether the entry may be used at `now` without asking the server.
    pub fn is_fresh(&self, now: u64) -> bool {
        self.fresh_until.is_some_and(|until| now < until)
    }

    /// The validators for a conditional request.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

/// One stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its header.
    pub header: EntryHeader,
    /// The body as received.
    pub body: Vec<u8>,
}

impl Entry {
    /// Serialize: magic line, JSON header line, body.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings and integers cannot fail.
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(MAGIC.len() + header.len() + 1 + self.body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&header);
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    /// Parse what [`Entry::to_bytes`] wrote; `None` for anything else (garbage, truncation,
    /// another format), which the caller treats as a cache miss.
    pub fn from_bytes(mut bytes: Vec<u8>) -> Option<Self> {
        if !bytes.starts_with(MAGIC) {
            return None;
        }
        let rest = &bytes[MAGIC.len()..];
        let newline = rest.iter().position(|b| *b == b'\n')?;
        let header: EntryHeader = serde_json::from_slice(&rest[..newline]).ok()?;
        Url::parse(&header.url).ok()?;
        let body_start = MAGIC.len() + newline + 1;
        // Reuse the buffer: bodies reach megabytes (PyPI JSON pages).
        bytes.drain(..body_start);
        Some(Entry {
            header,
            body: bytes,
        })
    }
}

/// Where the answer to a cached GET came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// The stored copy was fresh: no request was made.
    Fresh,
    /// The server answered 304: the stored copy was reused.
    Revalidated,
    /// A full response was received (and stored, unless `no-store`).
    Fetched,
    /// Offline: the stored copy was used although it may be stale.
    Offline,
    /// Not cacheable here (`file://`, or no cache folder): fetched directly.
    Uncached,
}

/// A response from [`super::HttpClient::get_cached`].
#[derive(Debug, Clone)]
pub struct CachedResponse {
    /// The URL after redirects, without credentials.
    pub url: Url,
    /// `Content-Type`, if known.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// Where it came from.
    pub status: CacheStatus,
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The entry file for `url` asked with `accept` in `dir`.
pub fn entry_path(dir: &Path, url: &Url, accept: Option<&str>) -> PathBuf {
    let mut hasher = Sha256::new();
    for part in [url.as_str(), accept.unwrap_or("")] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    dir.join(hex(&hasher.finalize()))
}

/// A new body identity: unique across processes (pid) and time (nanoseconds, a counter).
fn new_body_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:x}-{:x}-{count:x}", std::process::id())
}

/// A stored entry whose header has been read and whose body has not: the file stays open,
/// so the body read later is the one the header describes even if another process has
/// renamed a new entry into place meanwhile.
#[derive(Debug)]
pub struct OpenEntry {
    /// Its header.
    pub header: EntryHeader,
    /// The entry file, for error messages.
    path: PathBuf,
    reader: BufReader<std::fs::File>,
    /// Where the body starts in the file.
    body_offset: u64,
    /// Size of the body, from the file's size when opened.
    body_len: u64,
}

impl OpenEntry {
    /// The entry file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the whole body (from its start, however often this is called).
    pub fn read_body(&mut self) -> std::io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        self.reader.seek(SeekFrom::Start(self.body_offset))?;
        // Bodies reach megabytes: allocate once.
        let mut body = Vec::with_capacity(usize::try_from(self.body_len).unwrap_or(0));
        self.reader.read_to_end(&mut body)?;
        Ok(body)
    }
}

/// Open an entry and read its header only; `None` when missing or unreadable.
pub fn open(path: &Path) -> Option<OpenEntry> {
    let file = std::fs::File::open(path).ok()?;
    open_file(file, path)
}

fn open_file(file: std::fs::File, path: &Path) -> Option<OpenEntry> {
    let len = file.metadata().ok()?.len();
    let mut reader = BufReader::new(file);
    let mut head = Vec::with_capacity(512);
    for _ in 0..2 {
        // A header line longer than this is not one plonk wrote.
        let read = (&mut reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut head)
            .ok()?;
        if read == 0 || head.last() != Some(&b'\n') {
            return None;
        }
    }
    let body_offset = head.len() as u64;
    let header = Entry::from_bytes(head)?.header;
    Some(OpenEntry {
        header,
        path: path.to_path_buf(),
        reader,
        body_offset,
        body_len: len.saturating_sub(body_offset),
    })
}

/// Read an entry; `None` when missing or unreadable.
pub fn read(path: &Path) -> Option<Entry> {
    let mut open = open(path)?;
    let body = open.read_body().ok()?;
    Some(Entry {
        header: open.header,
        body,
    })
}

/// Write an entry atomically (temporary file in the same folder, then rename).
pub fn write(path: &Path, entry: &Entry) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    temp.write_all(&entry.to_bytes())?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Store `header` with the body of `stored` (after a 304), atomically, copying the body
/// file to file (in the kernel where it can) rather than through memory.
pub fn write_revalidated(
    path: &Path,
    header: &EntryHeader,
    stored: &mut OpenEntry,
) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    let head = Entry {
        header: header.clone(),
        body: Vec::new(),
    }
    .to_bytes();
    temp.write_all(&head)?;
    stored.reader.seek(SeekFrom::Start(stored.body_offset))?;
    let copied = std::io::copy(&mut stored.reader, temp.as_file_mut())?;
    if copied != stored.body_len {
        // The stored file changed size under us: never store a torn body.
        return Err(std::io::Error::other(
            "the cached body changed while it was copied",
        ));
    }
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// A response from [`super::HttpClient::get_cached_page`]: like [`CachedResponse`], but a
/// body stored in the cache is read only when [`CachedPage::body`] asks for it.
#[derive(Debug)]
pub struct CachedPage {
    /// The URL after redirects, without credentials.
    pub url: Url,
    /// `Content-Type`, if known.
    pub content_type: Option<String>,
    /// Where it came from.
    pub status: CacheStatus,
    /// The stored body's identity ([`EntryHeader::body_id`]); `None` when the body is not
    /// stored (`file://`, no cache folder, `no-store`) or has no identity yet.
    pub body_id: Option<String>,
    body: PageBody,
}

#[derive(Debug)]
enum PageBody {
    InMemory(Vec<u8>),
    Stored(Box<OpenEntry>),
}

impl CachedPage {
    /// A page whose body is already in memory.
    pub(crate) fn in_memory(
        url: Url,
        content_type: Option<String>,
        status: CacheStatus,
        body_id: Option<String>,
        body: Vec<u8>,
    ) -> Self {
        CachedPage {
            url,
            content_type,
            status,
            body_id,
            body: PageBody::InMemory(body),
        }
    }

    /// A page answered from `stored`, described by `header` (the stored header, or its
    /// revalidated successor), its body still in the file; `fallback_url` (without
    /// credentials) stands in for a stored URL that does not parse.
    pub(crate) fn stored(
        header: EntryHeader,
        stored: OpenEntry,
        status: CacheStatus,
        fallback_url: Url,
    ) -> Self {
        CachedPage {
            url: Url::parse(&header.url).unwrap_or(fallback_url),
            content_type: header.content_type,
            status,
            body_id: header.body_id,
            body: PageBody::Stored(Box::new(stored)),
        }
    }

    /// Whether reading the body means reading the cache file (rather than memory).
    pub fn body_is_stored(&self) -> bool {
        matches!(self.body, PageBody::Stored(_))
    }

    /// The body; a stored one is read from the entry opened when the page was answered.
    pub async fn body(self) -> Result<Vec<u8>, super::HttpError> {
        match self.body {
            PageBody::InMemory(body) => Ok(body),
            PageBody::Stored(mut stored) => {
                let path = stored.path.clone();
                let read = tokio::task::spawn_blocking(move || stored.read_body()).await;
                let source = match read {
                    Ok(Ok(body)) => return Ok(body),
                    Ok(Err(err)) => err,
                    Err(err) => std::io::Error::other(err.to_string()),
                };
                Err(super::HttpError::Io { path, source })
            }
        }
    }

    /// The whole response, body read.
    pub async fn into_response(self) -> Result<CachedResponse, super::HttpError> {
        let (url, content_type, status) =
            (self.url.clone(), self.content_type.clone(), self.status);
        let body = self.body().await?;
        Ok(CachedResponse {
            url,
            content_type,
            body,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn policy_rows() {
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let rows: &[(Headers, Option<u64>)] = &[
            (&[("cache-control", "max-age=900, public")], Some(1900)),
            (
                &[("cache-control", "max-age=900"), ("age", "100")],
                Some(1800),
            ),
            (&[("cache-control", "max-age=900"), ("age", "900")], None),
            (&[("cache-control", "max-age=900"), ("age", "5000")], None),
            (&[("cache-control", "max-age=\"60\"")], Some(1060)),
            (&[("cache-control", "MAX-AGE=60")], Some(1060)),
            (&[("cache-control", "max-age=60, no-cache")], None),
            (&[("cache-control", "no-store, max-age=60")], None),
            (&[("cache-control", "max-age=60, max-age=70")], None),
            (&[("cache-control", "max-age=-1")], None),
            (&[("cache-control", "max-age=lots")], None),
            (
                &[("cache-control", "max-age=60"), ("age", "garbage")],
                Some(1060),
            ),
            (&[("cache-control", ",,,=,max-age")], None),
            (&[("cache-control", "public")], None),
            // No freshness, no validator: the heuristic's upper bound.
            (&[], Some(1600)),
            // An ETag only: revalidate (cheap).
            (&[("etag", "\"x\"")], None),
            // Last-Modified: 10% of its age, capped.
            (
                &[
                    ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("last-modified", "Sun, 06 Nov 1994 08:32:57 GMT"),
                ],
                Some(1100),
            ),
            (
                &[
                    ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ],
                None,
            ),
            (
                &[
                    ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("last-modified", "Mon, 01 Jan 1990 00:00:00 GMT"),
                ],
                Some(1600),
            ),
            (&[("last-modified", "garbage")], None),
            // Expires, relative to Date; max-age wins over it; a bad one is expired.
            (
                &[
                    ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
                ],
                Some(1060),
            ),
            (
                &[
                    ("cache-control", "max-age=5"),
                    ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
                ],
                Some(1005),
            ),
            (&[("expires", "0")], None),
        ];
        for (pairs, expected) in rows {
            let policy = CachePolicy::from_headers(&headers(pairs));
            assert_eq!(policy.fresh_until(1000), *expected, "{pairs:?}");
        }
        let policy = CachePolicy::from_headers(&headers(&[("cache-control", "no-store")]));
        assert!(policy.no_store);
    }

    #[test]
    fn http_date_rows() {
        let rows = [
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(784_111_777)),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
            ("Wed, 25 Nov 2026 16:19:10 GMT", Some(1_795_623_550)),
            ("Tue, 29 Feb 2000 12:00:00 GMT", Some(951_825_600)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", None),
            ("Sun Nov  6 08:49:37 1994", None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", None),
            ("Sun, 32 Nov 1994 08:49:37 GMT", None),
            ("Sun, 06 Foo 1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1994 24:00:00 GMT", None),
            ("Sun, 06 Nov 1994 8:49:37 GMT", None),
            ("Sun, 06 Nov 1969 08:49:37 GMT", None),
            ("", None),
            ("0", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_http_date(text), expected, "{text}");
        }
    }

    #[test]
    fn entry_round_trip_and_garbage() {
        let url = Url::parse("https://pypi.org/pypi/tutor/json").unwrap();
        let h = headers(&[
            ("cache-control", "max-age=900"),
            ("etag", "\"abc\""),
            ("last-modified", "Tue, 01 Jan 2030 00:00:00 GMT"),
            ("content-type", "application/json"),
        ]);
        let entry = Entry {
            header: EntryHeader::new(&url, &h, 1000),
            body: b"{\"x\":\n1}".to_vec(),
        };
        assert_eq!(entry.header.fresh_until, Some(1900));
        assert!(entry.header.is_fresh(1899));
        assert!(!entry.header.is_fresh(1900));
        let bytes = entry.to_bytes();
        assert_eq!(Entry::from_bytes(bytes.clone()).unwrap(), entry);
        // Garbage, truncation, other formats: a miss, never a panic.
        let garbage: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage".to_vec(),
            MAGIC.to_vec(),
            [MAGIC, b"{not json}\nbody"].concat(),
            [MAGIC, b"{\"url\":\"x\"}\n"].concat(),
            [MAGIC, br#"{"url":"not a url","content_type":null,"etag":null,"last_modified":null,"stored_at":1,"fresh_until":null}"#, b"\n"].concat(),
            bytes[..MAGIC.len() + 10].to_vec(),
        ];
        for bad in garbage {
            assert!(Entry::from_bytes(bad.clone()).is_none(), "{bad:?}");
        }
        // A 304 refreshes freshness and keeps validators it does not replace.
        let after = entry.header.clone().revalidated(
            &headers(&[("cache-control", "max-age=10"), ("etag", "\"new\"")]),
            5000,
        );
        assert_eq!(after.fresh_until, Some(5010));
        assert_eq!(after.etag.as_deref(), Some("\"new\""));
        assert_eq!(
            after.last_modified.as_deref(),
            Some("Tue, 01 Jan 2030 00:00:00 GMT")
        );
    }

    #[test]
    fn write_is_atomic_and_keyed_by_accept() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://h/simple/a/").unwrap();
        let json = entry_path(dir.path(), &url, Some("application/json"));
        let html = entry_path(dir.path(), &url, Some("text/html"));
        assert_ne!(json, html);
        assert_eq!(json, entry_path(dir.path(), &url, Some("application/json")));
        let entry = Entry {
            header: EntryHeader::new(&url, &HeaderMap::new(), 1),
            body: b"one".to_vec(),
        };
        write(&json, &entry).unwrap();
        let second = Entry {
            body: b"two".to_vec(),
            ..entry
        };
        write(&json, &second).unwrap();
        assert_eq!(read(&json).unwrap().body, b"two");
        assert!(read(&html).is_none());
        // Only the entry is left: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A loopback server answering every GET with `body`, `Cache-Control: <cache_control>`
    /// and an ETag, or 304 when `If-None-Match` matches; it logs each request's
    /// `If-None-Match` (empty string when absent).
    struct Server {
        url: Url,
        log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    }

    impl Server {
        async fn start(cache_control: &'static str, body: &'static str) -> Server {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = Url::parse(&format!(
                "http://{}/pypi/demo/json",
                listener.local_addr().unwrap()
            ))
            .unwrap();
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let served = log.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    let log = served.clone();
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 1024];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            let n = stream.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                        let inm = head
                            .lines()
                            .find_map(|l| l.strip_prefix("if-none-match:"))
                            .map(|v| v.trim().to_string())
                            .unwrap_or_default();
                        log.lock().unwrap().push(inm.clone());
                        let etag = "\"v1\"";
                        let response = if inm == etag {
                            format!(
                                "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nCache-Control: {cache_control}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            )
                        } else {
                            format!(
                                "HTTP/1.1 200 OK\r\nETag: {etag}\r\nCache-Control: {cache_control}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            )
                        };
                        let _ = stream.write_all(response.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            });
            Server { url, log }
        }

        fn requests(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }
    }

    fn client(dir: &Path, offline: bool, refresh: bool) -> super::super::HttpClient {
        super::super::HttpClient::new(super::super::HttpOptions {
            cache_dir: Some(dir.to_path_buf()),
            offline,
            refresh,
            retries: 0,
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn fresh_answers_need_no_request() {
        let server = Server::start("max-age=900", "{\"a\":1}").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        let first = http.get_cached(&server.url, None).await.unwrap();
        assert_eq!(first.status, CacheStatus::Fetched);
        assert_eq!(first.body, b"{\"a\":1}");
        assert_eq!(first.content_type.as_deref(), Some("application/json"));
        let second = http.get_cached(&server.url, None).await.unwrap();
        assert_eq!(second.status, CacheStatus::Fresh);
        assert_eq!(second.body, first.body);
        assert_eq!(second.url, first.url);
        assert_eq!(server.requests().len(), 1);

        // --refresh revalidates a fresh entry; the 304 reuses the stored body.
        let refreshing = client(dir.path(), false, true);
        let third = refreshing.get_cached(&server.url, None).await.unwrap();
        assert_eq!(third.status, CacheStatus::Revalidated);
        assert_eq!(third.body, first.body);
        assert_eq!(server.requests(), ["", "\"v1\""]);
    }

    #[tokio::test]
    async fn stale_answers_are_revalidated_then_used_offline() {
        let server = Server::start("max-age=0", "[1, 2]").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        assert_eq!(
            http.get_cached(&server.url, None).await.unwrap().status,
            CacheStatus::Fetched
        );
        let again = http.get_cached(&server.url, None).await.unwrap();
        assert_eq!(again.status, CacheStatus::Revalidated);
        assert_eq!(again.body, b"[1, 2]");
        assert_eq!(server.requests(), ["", "\"v1\""]);

        // Offline: the stale entry is used without a request; a missing one is an error.
        let offline = client(dir.path(), true, true);
        let used = offline.get_cached(&server.url, None).await.unwrap();
        assert_eq!(used.status, CacheStatus::Offline);
        assert_eq!(used.body, b"[1, 2]");
        assert_eq!(server.requests().len(), 2);
        let other = server.url.join("/pypi/other/json").unwrap();
        let err = offline.get_cached(&other, None).await.unwrap_err();
        assert!(err.is_offline(), "{err}");
    }

    #[tokio::test]
    async fn garbage_entries_are_ignored_and_replaced() {
        let server = Server::start("max-age=900", "ok").await;
        let dir = tempfile::tempdir().unwrap();
        let path = entry_path(dir.path(), &server.url, None);
        std::fs::write(&path, b"plonk-http-cache-1\n{broken").unwrap();
        let http = client(dir.path(), false, false);
        let got = http.get_cached(&server.url, None).await.unwrap();
        assert_eq!(got.status, CacheStatus::Fetched);
        assert_eq!(got.body, b"ok");
        // The request was unconditional, and the entry was rewritten.
        assert_eq!(server.requests(), [""]);
        assert_eq!(read(&path).unwrap().body, b"ok");
        // Offline with garbage only: an offline error, not a panic.
        std::fs::write(&path, b"\xff\xfe").unwrap();
        let err = client(dir.path(), true, false)
            .get_cached(&server.url, None)
            .await
            .unwrap_err();
        assert!(err.is_offline());
    }

    #[tokio::test]
    async fn no_store_is_not_kept_and_files_bypass_the_cache() {
        let server = Server::start("no-store", "secret").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        assert_eq!(
            http.get_cached(&server.url, None).await.unwrap().status,
            CacheStatus::Fetched
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let file = dir.path().join("page.html");
        std::fs::write(&file, b"<a>").unwrap();
        let url = Url::from_file_path(&file).unwrap();
        let got = http.get_cached(&url, None).await.unwrap();
        assert_eq!(got.status, CacheStatus::Uncached);
        assert_eq!(got.body, b"<a>");
    }

    #[tokio::test]
    async fn cached_pages_read_their_body_only_when_asked() {
        let server = Server::start("max-age=900", "{\"a\":1}").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        let first = http.get_cached_page(&server.url, None).await.unwrap();
        assert_eq!(first.status, CacheStatus::Fetched);
        assert!(!first.body_is_stored());
        let id = first.body_id.clone().unwrap();
        assert_eq!(first.body().await.unwrap(), b"{\"a\":1}");

        let fresh = http.get_cached_page(&server.url, None).await.unwrap();
        assert_eq!(fresh.status, CacheStatus::Fresh);
        assert!(fresh.body_is_stored());
        assert_eq!(fresh.body_id.as_deref(), Some(id.as_str()));
        assert_eq!(fresh.url, server.url);
        // Another process replaces the entry meanwhile: the page still reads the body its
        // id names, from the file it opened.
        let path = entry_path(dir.path(), &server.url, None);
        let mut replaced = read(&path).unwrap();
        replaced.header.body_id = Some("other".into());
        replaced.body = b"new".to_vec();
        write(&path, &replaced).unwrap();
        assert_eq!(fresh.body().await.unwrap(), b"{\"a\":1}");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_304_keeps_the_body_id_and_a_200_renews_it() {
        let server = Server::start("max-age=0", "[1, 2]").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        let path = entry_path(dir.path(), &server.url, None);
        let first = http.get_cached_page(&server.url, None).await.unwrap();
        let id = first.body_id.clone().unwrap();

        let again = http.get_cached_page(&server.url, None).await.unwrap();
        assert_eq!(again.status, CacheStatus::Revalidated);
        assert_eq!(again.body_id.as_deref(), Some(id.as_str()));
        assert_eq!(again.body().await.unwrap(), b"[1, 2]");
        // The entry was rewritten with the body copied over, and the same id.
        let stored = read(&path).unwrap();
        assert_eq!(stored.body, b"[1, 2]");
        assert_eq!(stored.header.body_id.as_deref(), Some(id.as_str()));
        assert_eq!(server.requests(), ["", "\"v1\""]);

        // An entry from before body ids gets one when revalidated.
        let mut old = stored.clone();
        old.header.body_id = None;
        write(&path, &old).unwrap();
        assert!(!String::from_utf8_lossy(&old.to_bytes()).contains("body_id"));
        let upgraded = http.get_cached_page(&server.url, None).await.unwrap();
        let new_id = upgraded.body_id.clone().unwrap();
        assert_ne!(new_id, id);
        assert_eq!(read(&path).unwrap().header.body_id, Some(new_id.clone()));

        // Without validators the request is unconditional: a 200 is a new body, a new id.
        let mut bare = read(&path).unwrap();
        bare.header.etag = None;
        write(&path, &bare).unwrap();
        let fetched = http.get_cached_page(&server.url, None).await.unwrap();
        assert_eq!(fetched.status, CacheStatus::Fetched);
        let fetched_id = fetched.body_id.clone().unwrap();
        assert_ne!(fetched_id, new_id);
        assert_eq!(read(&path).unwrap().header.body_id, Some(fetched_id));
    }

    #[tokio::test]
    async fn unstored_bodies_have_no_id() {
        let server = Server::start("no-store", "secret").await;
        let dir = tempfile::tempdir().unwrap();
        let http = client(dir.path(), false, false);
        let page = http.get_cached_page(&server.url, None).await.unwrap();
        assert_eq!(page.body_id, None);
        let file = dir.path().join("page.html");
        std::fs::write(&file, b"<a>").unwrap();
        let url = Url::from_file_path(&file).unwrap();
        let page = http.get_cached_page(&url, None).await.unwrap();
        assert_eq!((page.status, page.body_id), (CacheStatus::Uncached, None));
    }

    #[test]
    fn body_ids_are_unique() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_body_id()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn open_reads_the_body_again_and_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = Url::parse("https://h/simple/a/").unwrap();
        let path = entry_path(dir.path(), &url, None);
        let entry = Entry {
            header: EntryHeader::new(&url, &HeaderMap::new(), 1),
            body: b"line one\nline two\n".to_vec(),
        };
        write(&path, &entry).unwrap();
        let mut opened = open(&path).unwrap();
        assert_eq!(opened.header, entry.header);
        assert_eq!(opened.read_body().unwrap(), entry.body);
        assert_eq!(opened.read_body().unwrap(), entry.body);
        // A revalidated header with the same body, copied file to file.
        let header = EntryHeader {
            stored_at: 99,
            ..entry.header.clone()
        };
        write_revalidated(&path, &header, &mut opened).unwrap();
        let rewritten = read(&path).unwrap();
        assert_eq!((rewritten.header, rewritten.body), (header, entry.body));
        // Truncated to the header or less: a miss.
        let bytes = std::fs::read(&path).unwrap();
        let header_end = bytes.len() - 18;
        std::fs::write(&path, &bytes[..header_end - 1]).unwrap();
        assert!(open(&path).is_none());
    }
}
