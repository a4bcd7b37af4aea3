//! `HttpError`: every way a request can fail, each naming the (redacted) URL.

use std::path::PathBuf;

use super::RedactedUrl;

/// An HTTP or `file://` fetch that failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// `--offline` forbids network requests.
    #[error("cannot fetch {url} because network access is disabled (offline mode)")]
    Offline {
        /// The URL that would have been fetched.
        url: RedactedUrl,
    },
    /// The HTTP client itself could not be set up.
    #[error("could not set up the HTTP client")]
    Client {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The netrc file exists but could not be read.
    #[error("could not read the netrc file {}", path.display())]
    Netrc {
        /// Path of the netrc file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Only `http`, `https` and `file` URLs can be fetched.
    #[error("cannot fetch {url}: unsupported URL scheme")]
    UnsupportedScheme {
        /// The URL.
        url: RedactedUrl,
    },
    /// The server could not be reached (after retries).
    #[error("could not connect to {url}")]
    Connect {
        /// The URL.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The server did not answer in time (after retries).
    #[error("request to {url} timed out after {seconds} s without data")]
    Timeout {
        /// The URL.
        url: RedactedUrl,
        /// The read timeout in force, in seconds.
        seconds: f64,
    },
    /// Any other transport failure (after retries).
    #[error("request to {url} failed")]
    Request {
        /// The URL.
        url: RedactedUrl,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// 401 or 403: the index host refused the credentials (or their absence).
    #[error(
        "the index host `{host}` refused access to {url} (HTTP {status}); check the credentials in the URL or in ~/.netrc"
    )]
    Unauthorized {
        /// Host that refused.
        host: String,
        /// The URL.
        url: RedactedUrl,
        /// 401 or 403.
        status: u16,
    },
    /// 404 / 410, or a missing local file.
    #[error("{url} was not found")]
    NotFound {
        /// The URL.
        url: RedactedUrl,
    },
    /// Any other unsuccessful status (5xx after retries, other 4xx).
    #[error("{url} answered with HTTP status {status}")]
    Status {
        /// The URL.
        url: RedactedUrl,
        /// The status code.
        status: u16,
    },
    /// The body ended before Content-Length bytes arrived.
    #[error("download of {url} was cut short: received {received} of {expected} bytes")]
    Truncated {
        /// The URL.
        url: RedactedUrl,
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The body is bigger than announced or allowed.
    #[error("{url} sent more than the {limit} bytes expected")]
    TooLarge {
        /// The URL.
        url: RedactedUrl,
        /// The limit that was crossed.
        limit: u64,
    },
    /// A redirect loop or chain longer than allowed.
    #[error("too many redirects while fetching {url}")]
    TooManyRedirects {
        /// The original URL.
        url: RedactedUrl,
    },
    /// A 3xx answer without a usable `Location`.
    #[error("{url} answered with a redirect without a valid location")]
    BadRedirect {
        /// The URL.
        url: RedactedUrl,
    },
    /// Reading a `file://` URL or writing a download failed.
    #[error("could not access {}", path.display())]
    Io {
        /// The local path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl HttpError {
    /// Whether this error means "this resource does not exist" (as opposed to a failure).
    pub fn is_not_found(&self) -> bool {
        matches!(self, HttpError::NotFound { .. })
    }

    /// Whether this error comes from `--offline`.
    pub fn is_offline(&self) -> bool {
        matches!(self, HttpError::Offline { .. })
    }
}
