//! HTTP edge: one shared client with timeouts, bounded retries with back-off, credentials from
//! URLs and netrc (kept to their host), an offline switch, `file://` reads, range requests,
//! conditional GETs, a response cache with HTTP freshness, and hashed streaming downloads.
//! Knows no stage.

pub mod cache;
mod client;
mod error;
mod netrc;
mod redact;

pub use cache::{CacheStatus, CachedPage, CachedResponse};
pub use client::{
    ByteRange, Conditional, ContentRange, Downloaded, GetOptions, HttpClient, HttpOptions,
    HttpResponse, RangeResponse, Validators, percent_decode,
};
pub use error::HttpError;
pub use netrc::{Credentials, Netrc};
pub use redact::RedactedUrl;
pub use reqwest::header::HeaderMap;
