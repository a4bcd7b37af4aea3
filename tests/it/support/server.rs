//! `FakeIndex`: a loopback HTTP/1.1 package index (127.0.0.1:0) over a folder of wheels and
//! sdists, for the integration tests. It speaks the PyPI JSON API (`/pypi/…`, with relative
//! file URLs), the simple API (`/simple/<name>/`, PEP 691 JSON or PEP 503 HTML, PEP 658
//! `.metadata` files), serves `/packages/<file>` with HTTP ranges, and any file of an optional
//! index folder (`plugins.yml`, a mirror). Project pages carry an ETag and `Cache-Control:
//! no-cache` (switchable, e.g. to PyPI's `max-age=900`). Switches inject failures at run time
//! and a request log proves what was (not) asked.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use base64::Engine as _;
use plonk::dist::{DistFilename, Metadata, PackageName, Version, sha256_hex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a held request waits for its trigger (see [`FakeIndex::hold_until`]).
pub const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_secs(8);

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
    /// The `If-None-Match` header, if any (conditional requests).
    pub if_none_match: Option<String>,
}

/// A running fake index; stops when dropped.
pub struct FakeIndex {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Switches {
    index_dir: Option<PathBuf>,
    yanked: HashSet<String>,
    truncate: HashSet<String>,
    bad_sha256: HashSet<String>,
    hang: HashSet<String>,
    /// Paths answered only once a request for another path (a prefix) has arrived.
    holds: HashMap<String, (String, std::time::Duration)>,
    /// Held paths that were released by their trigger (not by the time limit).
    released: HashSet<String>,
    status: HashMap<String, u16>,
    redirects: HashMap<String, String>,
    auth: Option<(String, String)>,
    fail_next: u32,
    fail_status: u16,
    no_pep658: bool,
    no_ranges: bool,
    /// `Cache-Control` sent with project pages (which always carry an ETag and answer 304
    /// to a matching `If-None-Match`); `None`: `no-cache`, so every run revalidates and
    /// files a test adds later are seen.
    cache_control: Option<String>,
}

struct State {
    packages_dir: PathBuf,
    switches: Mutex<Switches>,
    log: Mutex<Vec<LoggedRequest>>,
    /// Scanned files by name, rescanned when their size or mtime changes.
    files: Mutex<HashMap<String, Scanned>>,
}

/// A scanned file: size and mtime when read, and what was read.
type Scanned = (u64, SystemTime, Arc<FileInfo>);

/// What the index knows about one file.
#[derive(Debug)]
struct FileInfo {
    filename: String,
    name: PackageName,
    version: Version,
    is_wheel: bool,
    size: u64,
    sha256: String,
    /// METADATA / PKG-INFO bytes, when they could be read.
    metadata_bytes: Option<Vec<u8>>,
    metadata: Option<Metadata>,
}

impl FakeIndex {
    /// Serve `packages_dir` (its `*.whl`, `*.tar.gz` and `*.zip`, read on each request so a
    /// test may add files later) on a fresh loopback port.
    pub fn start(packages_dir: &Path) -> FakeIndex {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            packages_dir: packages_dir.to_path_buf(),
            switches: Mutex::new(Switches::default()),
            log: Mutex::new(Vec::new()),
            files: Mutex::new(HashMap::new()),
        });
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake index runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("tokio listener");
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let state = Arc::clone(&served);
                        tokio::spawn(async move {
                            let _ = handle(stream, state).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stop => {}
                }
            });
            // Dropping the runtime cancels every connection task, hanging ones included.
            drop(runtime);
        });
        FakeIndex {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Also serve every file of `dir` (e.g. `<dir>/main/redwood/plugins.yml` at
    /// `/main/redwood/plugins.yml`; a folder serves its `index.html`).
    pub fn with_index_dir(self, dir: &Path) -> FakeIndex {
        self.switches().index_dir = Some(dir.to_path_buf());
        self
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JSON API base, `<url>/pypi/` (an `--index-url` plonk talks JSON to).
    pub fn json_api_url(&self) -> String {
        format!("{}/pypi/", self.url())
    }

    /// The simple API base, `<url>/simple/`.
    pub fn simple_url(&self) -> String {
        format!("{}/simple/", self.url())
    }

    /// `http://user:pass@127.0.0.1:<port>` + `path`.
    pub fn url_with_credentials(&self, user: &str, pass: &str, path: &str) -> String {
        format!("http://{user}:{pass}@{}{path}", self.addr)
    }

    /// The port, for netrc-style tests.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn switches(&self) -> std::sync::MutexGuard<'_, Switches> {
        self.state
            .switches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Mark `file` yanked in every API.
    pub fn set_yanked(&self, file: &str) {
        self.switches().yanked.insert(file.to_string());
    }

    /// Answer the next `n` requests (any path) with `status`, then behave normally.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut switches = self.switches();
        switches.fail_next = n;
        switches.fail_status = status;
    }

    /// Send `file` with its full Content-Length but only half of the bytes, then close.
    pub fn truncate(&self, file: &str) {
        self.switches().truncate.insert(file.to_string());
    }

    /// Advertise a wrong sha256 for `file` (and its `.metadata`).
    pub fn bad_sha256(&self, file: &str) {
        self.switches().bad_sha256.insert(file.to_string());
    }

    /// Answer `path` only after a request for `trigger` (a path) has arrived, or
    /// after [`HOLD_LIMIT`]; [`FakeIndex::released_by_trigger`] tells which. Proves that
    /// plonk asks for `trigger` while it is still waiting for `path` (work in parallel).
    pub fn hold_until(&self, path: &str, trigger: &str) {
        self.hold_until_for(path, trigger, HOLD_LIMIT);
    }

    /// [`FakeIndex::hold_until`] with its own limit, for triggers that come after a build
    /// (slow on a loaded machine): only a failing test waits it out.
    pub fn hold_until_for(&self, path: &str, trigger: &str, limit: std::time::Duration) {
        self.switches()
            .holds
            .insert(path.to_string(), (trigger.to_string(), limit));
    }

    /// Whether the held `path` was answered because its trigger arrived.
    pub fn released_by_trigger(&self, path: &str) -> bool {
        self.switches().released.contains(path)
    }

    /// Accept requests for `path` and never answer.
    pub fn hang(&self, path: &str) {
        self.switches().hang.insert(path.to_string());
    }

    /// Answer `path` with `code` and an empty body.
    pub fn status(&self, path: &str, code: u16) {
        self.switches().status.insert(path.to_string(), code);
    }

    /// Answer `path` with a 302 to `location`.
    pub fn redirect(&self, path: &str, location: &str) {
        self.switches()
            .redirects
            .insert(path.to_string(), location.to_string());
    }

    /// Require HTTP basic auth with these credentials on every request.
    pub fn require_basic_auth(&self, user: &str, pass: &str) {
        self.switches().auth = Some((user.to_string(), pass.to_string()));
    }

    /// Stop advertising and serving PEP 658 `.metadata` files.
    pub fn disable_pep658(&self) {
        self.switches().no_pep658 = true;
    }

    /// Ignore `Range` headers (answer 200 with the whole file), like some mirrors.
    pub fn disable_ranges(&self) {
        self.switches().no_ranges = true;
    }

    /// Send `Cache-Control: <value>` with project pages (JSON API and simple API) instead of
    /// the default `no-cache`, e.g. `max-age=900` like PyPI.
    pub fn set_cache_control(&self, value: &str) {
        self.switches().cache_control = Some(value.to_string());
    }

    /// The requests received so far, as `"GET /path"`.
    pub fn requests(&self) -> Vec<String> {
        self.request_log()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The requests received so far, with their interesting headers.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forget the requests received so far.
    pub fn clear_requests(&self) {
        self.state
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl Drop for FakeIndex {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A parsed request head.
struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
}

/// What to send back.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes, then close (Content-Length stays the full size).
    cut_at: Option<usize>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            cut_at: None,
        }
    }

    fn empty(status: u16) -> Self {
        Response::new(status, "text/plain", format!("{status}\n"))
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Request {
        method,
        target,
        headers,
    })
}

async fn handle(mut stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let Some(request) = read_head(&mut stream).await else {
        return Ok(());
    };
    state
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(LoggedRequest {
            method: request.method.clone(),
            path: request.target.clone(),
            authorization: request.headers.get("authorization").cloned(),
            range: request.headers.get("range").cloned(),
            accept: request.headers.get("accept").cloned(),
            if_none_match: request.headers.get("if-none-match").cloned(),
        });
    let path = request
        .target
        .split(['?', '#'])
        .next()
        .unwrap_or("/")
        .to_string();
    let hang = state
        .switches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .hang
        .contains(&path);
    if hang {
        // Keep the connection open and silent until the server is dropped.
        std::future::pending::<()>().await;
    }
    let hold = state
        .switches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .holds
        .get(&path)
        .cloned();
    if let Some((trigger, limit)) = hold {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            let seen = state
                .log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|r| r.path.split(['?', '#']).next() == Some(trigger.as_str()));
            if seen {
                state
                    .switches
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .released
                    .insert(path.clone());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    let response = respond(&state, &request, &path);
    write_response(&mut stream, &request, response).await
}

async fn write_response(
    stream: &mut TcpStream,
    request: &Request,
    response: Response,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    if request.method != "HEAD" {
        let end = response
            .cut_at
            .unwrap_or(response.body.len())
            .min(response.body.len());
        stream.write_all(&response.body[..end]).await?;
    }
    stream.flush().await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(state: &State, request: &Request, path: &str) -> Response {
    {
        let mut switches = state.switches.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(code) = switches.status.get(path) {
            return Response::empty(*code);
        }
        if let Some(location) = switches.redirects.get(path) {
            return Response::empty(302).header("Location", location.clone());
        }
        if switches.fail_next > 0 {
            switches.fail_next -= 1;
            return Response::empty(switches.fail_status);
        }
        if let Some((user, pass)) = &switches.auth {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
            );
            if request.headers.get("authorization") != Some(&expected) {
                return Response::empty(401).header("WWW-Authenticate", "Basic realm=\"fake\"");
            }
        }
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Response::empty(405);
    }
    let decoded = percent_decode(path);
    let segments: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let page = match segments.as_slice() {
        ["pypi", name, "json"] => json_project(state, name),
        ["pypi", name, version, "json"] => json_version(state, name, version),
        ["simple", ""] | ["simple"] => simple_root(state),
        ["simple", name, ""] | ["simple", name] => simple_project(state, request, name),
        ["packages", file] => return package_file(state, request, file),
        _ => return static_file(state, request, &decoded),
    };
    with_cache_headers(state, request, page)
}

/// Project pages with `Cache-Control` (default `no-cache`) and an ETag; 304 when the
/// client's `If-None-Match` names the current content.
fn with_cache_headers(state: &State, request: &Request, page: Response) -> Response {
    if page.status != 200 {
        return page;
    }
    let cache_control = state
        .switches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .cache_control
        .clone()
        .unwrap_or_else(|| "no-cache".to_string());
    let etag = format!("\"{}\"", &sha256_hex(&page.body)[..16]);
    if request.headers.get("if-none-match") == Some(&etag) {
        return Response::new(304, "text/plain", Vec::new())
            .header("ETag", etag)
            .header("Cache-Control", cache_control);
    }
    page.header("ETag", etag)
        .header("Cache-Control", cache_control)
}

fn scan(state: &State) -> Vec<Arc<FileInfo>> {
    let Ok(entries) = std::fs::read_dir(&state.packages_dir) else {
        return Vec::new();
    };
    let mut cache = state.files.lock().unwrap_or_else(|p| p.into_inner());
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(filename) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !(filename.ends_with(".whl")
            || filename.ends_with(".tar.gz")
            || filename.ends_with(".zip"))
        {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some((size, time, info)) = cache.get(&filename)
            && *size == meta.len()
            && *time == mtime
        {
            found.push(Arc::clone(info));
            continue;
        }
        let Some(info) = read_file_info(&entry.path(), &filename) else {
            continue;
        };
        let info = Arc::new(info);
        cache.insert(filename, (meta.len(), mtime, Arc::clone(&info)));
        found.push(info);
    }
    found.sort_by(|a, b| {
        (&a.name, &a.version, &a.filename).cmp(&(&b.name, &b.version, &b.filename))
    });
    found
}

fn read_file_info(path: &Path, filename: &str) -> Option<FileInfo> {
    let parsed = DistFilename::parse(filename, None).ok()?;
    let bytes = std::fs::read(path).ok()?;
    let metadata_bytes = if parsed.is_wheel() {
        wheel_metadata(&bytes)
    } else if filename.ends_with(".zip") {
        zip_sdist_pkg_info(&bytes)
    } else {
        tar_sdist_pkg_info(&bytes)
    };
    let metadata = metadata_bytes
        .as_deref()
        .and_then(|m| Metadata::parse(m).ok());
    Some(FileInfo {
        filename: filename.to_string(),
        name: parsed.name().clone(),
        version: parsed.version().clone(),
        is_wheel: parsed.is_wheel(),
        size: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
        metadata_bytes,
        metadata,
    })
}

fn wheel_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| {
            n.strip_suffix(".dist-info/METADATA")
                .is_some_and(|d| !d.contains('/'))
        })?
        .into_owned();
    let mut file = archive.by_name(&name).ok()?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).ok()?;
    Some(out)
}

fn zip_sdist_pkg_info(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.split('/').count() == 2 && n.ends_with("/PKG-INFO"))?
        .into_owned();
    let mut file = archive.by_name(&name).ok()?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).ok()?;
    Some(out)
}

fn tar_sdist_pkg_info(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let path = entry.path().ok()?.into_owned();
        if path.components().count() == 2 && path.file_name().is_some_and(|n| n == "PKG-INFO") {
            let mut out = Vec::new();
            entry.read_to_end(&mut out).ok()?;
            return Some(out);
        }
    }
    None
}

fn project_files(state: &State, name: &str) -> Option<(PackageName, Vec<Arc<FileInfo>>)> {
    let name = PackageName::from_str(name).ok()?;
    let files: Vec<_> = scan(state).into_iter().filter(|f| f.name == name).collect();
    (!files.is_empty()).then_some((name, files))
}

/// The digest the index advertises (wrong on purpose for `bad_sha256` files).
fn advertised_sha256(switches: &Switches, file: &FileInfo) -> String {
    if switches.bad_sha256.contains(&file.filename) {
        "0".repeat(64)
    } else {
        file.sha256.clone()
    }
}

fn requires_python(file: &FileInfo) -> Option<String> {
    file.metadata
        .as_ref()
        .and_then(|m| m.requires_python.as_ref())
        .map(ToString::to_string)
}

fn json_file(switches: &Switches, file: &FileInfo, prefix: &str) -> serde_json::Value {
    let yanked = switches.yanked.contains(&file.filename);
    serde_json::json!({
        "filename": file.filename,
        "url": format!("{prefix}packages/{}", file.filename),
        "digests": {"sha256": advertised_sha256(switches, file), "md5": ""},
        "requires_python": requires_python(file),
        "yanked": yanked,
        "yanked_reason": if yanked { Some("yanked by the test") } else { None },
        "size": file.size,
        "packagetype": if file.is_wheel { "bdist_wheel" } else { "sdist" },
        "core-metadata": metadata_hashes(switches, file),
    })
}

/// PEP 658/714 `core-metadata` value of a file: `{"sha256": …}` for wheels, else `false`.
fn metadata_hashes(switches: &Switches, file: &FileInfo) -> serde_json::Value {
    match metadata_sha256(switches, file) {
        Some(sha) => serde_json::json!({ "sha256": sha }),
        None => serde_json::Value::Bool(false),
    }
}

/// The advertised sha256 of a wheel's `.metadata` file (wrong for `bad_sha256` files).
fn metadata_sha256(switches: &Switches, file: &FileInfo) -> Option<String> {
    if switches.no_pep658 || !file.is_wheel {
        return None;
    }
    let bytes = file.metadata_bytes.as_ref()?;
    Some(if switches.bad_sha256.contains(&file.filename) {
        "0".repeat(64)
    } else {
        sha256_hex(bytes)
    })
}

/// PyPI's `info` for one version: metadata of a wheel if there is one, else of the sdist;
/// `requires_dist` is null when empty, as on PyPI.
fn json_info(files: &[&Arc<FileInfo>], name: &PackageName, version: &Version) -> serde_json::Value {
    let metadata = files
        .iter()
        .filter(|f| f.is_wheel)
        .chain(files.iter().filter(|f| !f.is_wheel))
        .find_map(|f| f.metadata.as_ref());
    let requires_dist: Option<Vec<String>> = metadata
        .map(|m| {
            m.requires_dist
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty());
    serde_json::json!({
        "name": name.to_string(),
        "version": version.to_string(),
        "requires_dist": requires_dist,
        "requires_python": metadata.and_then(|m| m.requires_python.as_ref()).map(ToString::to_string),
        "summary": metadata.and_then(|m| m.summary.clone()),
        "provides_extra": metadata.map(|m| m.provides_extra.iter().map(ToString::to_string).collect::<Vec<_>>()),
    })
}

fn json_project(state: &State, name: &str) -> Response {
    let Some((name, files)) = project_files(state, name) else {
        return Response::empty(404);
    };
    let switches = state.switches.lock().unwrap_or_else(|p| p.into_inner());
    let mut releases: BTreeMap<Version, Vec<&Arc<FileInfo>>> = BTreeMap::new();
    for file in &files {
        releases.entry(file.version.clone()).or_default().push(file);
    }
    let Some((latest, latest_files)) = releases.iter().next_back() else {
        return Response::empty(404);
    };
    // Relative to /pypi/<name>/json: `../../` is the server root.
    let prefix = "../../";
    let body = serde_json::json!({
        "info": json_info(latest_files, &name, latest),
        "releases": releases.iter().map(|(version, files)| {
            let list = files.iter().map(|f| json_file(&switches, f, prefix)).collect();
            (version.to_string(), serde_json::Value::Array(list))
        }).collect::<serde_json::Map<_, _>>(),
        "urls": latest_files.iter().map(|f| json_file(&switches, f, prefix)).collect::<Vec<_>>(),
    });
    Response::new(200, "application/json", body.to_string())
}

fn json_version(state: &State, name: &str, version: &str) -> Response {
    let Some((name, files)) = project_files(state, name) else {
        return Response::empty(404);
    };
    let Ok(version) = Version::from_str(version) else {
        return Response::empty(404);
    };
    let files: Vec<&Arc<FileInfo>> = files.iter().filter(|f| f.version == version).collect();
    if files.is_empty() {
        return Response::empty(404);
    }
    let switches = state.switches.lock().unwrap_or_else(|p| p.into_inner());
    // Relative to /pypi/<name>/<version>/json.
    let prefix = "../../../";
    let body = serde_json::json!({
        "info": json_info(&files, &name, &version),
        "urls": files.iter().map(|f| json_file(&switches, f, prefix)).collect::<Vec<_>>(),
    });
    Response::new(200, "application/json", body.to_string())
}

fn simple_root(state: &State) -> Response {
    let mut names: Vec<String> = scan(state).iter().map(|f| f.name.to_string()).collect();
    names.dedup();
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    for name in names {
        html.push_str(&format!("<a href=\"{name}/\">{name}</a>\n"));
    }
    html.push_str("</body></html>\n");
    Response::new(200, "text/html", html)
}

fn simple_project(state: &State, request: &Request, name: &str) -> Response {
    let Some((name, files)) = project_files(state, name) else {
        return Response::empty(404);
    };
    let switches = state.switches.lock().unwrap_or_else(|p| p.into_inner());
    let wants_json = request
        .headers
        .get("accept")
        .is_some_and(|a| a.contains("application/vnd.pypi.simple.v1+json"));
    let metadata_sha = |f: &FileInfo| metadata_sha256(&switches, f);
    if wants_json {
        let body = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": name.to_string(),
            "files": files.iter().map(|f| {
                let mut file = serde_json::json!({
                    "filename": f.filename,
                    "url": format!("../../packages/{}", f.filename),
                    "hashes": {"sha256": advertised_sha256(&switches, f)},
                    "requires-python": requires_python(f),
                    "yanked": switches.yanked.contains(&f.filename),
                    "size": f.size,
                });
                if let Some(sha) = metadata_sha(f) {
                    file["core-metadata"] = serde_json::json!({"sha256": sha});
                    file["dist-info-metadata"] = serde_json::json!({"sha256": sha});
                }
                file
            }).collect::<Vec<_>>(),
        });
        return Response::new(200, "application/vnd.pypi.simple.v1+json", body.to_string());
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><title>Links for {name}</title></head><body>\n<h1>Links for {name}</h1>\n"
    );
    for f in &files {
        let mut attrs = String::new();
        if let Some(spec) = requires_python(f) {
            attrs.push_str(&format!(" data-requires-python=\"{}\"", html_escape(&spec)));
        }
        if switches.yanked.contains(&f.filename) {
            attrs.push_str(" data-yanked=\"yanked by the test\"");
        }
        if let Some(sha) = metadata_sha(f) {
            attrs.push_str(&format!(
                " data-dist-info-metadata=\"sha256={sha}\" data-core-metadata=\"sha256={sha}\""
            ));
        }
        html.push_str(&format!(
            "<a href=\"../../packages/{file}#sha256={sha}\"{attrs}>{file}</a><br/>\n",
            file = f.filename,
            sha = advertised_sha256(&switches, f),
        ));
    }
    html.push_str("</body></html>\n");
    Response::new(200, "text/html", html)
}

fn package_file(state: &State, request: &Request, file: &str) -> Response {
    let switches = state.switches.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dist) = file.strip_suffix(".metadata") {
        if switches.no_pep658 {
            return Response::empty(404);
        }
        let info = scan(state).into_iter().find(|f| f.filename == dist);
        return match info.and_then(|f| f.metadata_bytes.clone()) {
            Some(bytes) => Response::new(200, "application/octet-stream", bytes),
            None => Response::empty(404),
        };
    }
    if file.contains("..") || file.contains('/') {
        return Response::empty(404);
    }
    let Ok(bytes) = std::fs::read(state.packages_dir.join(file)) else {
        return Response::empty(404);
    };
    let range = if switches.no_ranges {
        None
    } else {
        request.headers.get("range").cloned()
    };
    let mut response = match range {
        None => Response::new(200, "application/octet-stream", bytes),
        Some(range) => match parse_range(&range, bytes.len() as u64) {
            Some((start, end)) => {
                let len = bytes.len();
                Response::new(
                    206,
                    "application/octet-stream",
                    bytes[start as usize..=end as usize].to_vec(),
                )
                .header("Content-Range", format!("bytes {start}-{end}/{len}"))
            }
            None => {
                Response::empty(416).header("Content-Range", format!("bytes */{}", bytes.len()))
            }
        },
    };
    response = response.header("Accept-Ranges", "bytes");
    if switches.truncate.contains(file) {
        response.cut_at = Some(response.body.len() / 2);
    }
    response
}

/// One `bytes=` range over a body of `len` bytes: inclusive `(start, end)`.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (start, "") => (start.parse().ok()?, len - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

/// A file of the index folder, with an `ETag` (and 304 answers to `If-None-Match`) so
/// conditional GETs can be tested.
fn static_file(state: &State, request: &Request, path: &str) -> Response {
    let Some(root) = state
        .switches
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .index_dir
        .clone()
    else {
        return Response::empty(404);
    };
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return Response::empty(404);
    }
    let mut full = root.join(relative);
    if full.is_dir() {
        full = full.join("index.html");
    }
    match std::fs::read(&full) {
        Ok(bytes) => {
            let content_type = match full.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html",
                Some("yml" | "yaml") => "application/yaml",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            let etag = format!("\"{}\"", &sha256_hex(&bytes)[..16]);
            if request.headers.get("if-none-match") == Some(&etag) {
                return Response::new(304, content_type, Vec::new()).header("ETag", etag);
            }
            Response::new(200, content_type, bytes).header("ETag", etag)
        }
        Err(_) => Response::empty(404),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (
                (bytes[i + 1] as char).to_digit(16),
                (bytes[i + 2] as char).to_digit(16),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_rows() {
        let rows = [
            ("bytes=0-9", 100, Some((0, 9))),
            ("bytes=-10", 100, Some((90, 99))),
            ("bytes=-1000", 100, Some((0, 99))),
            ("bytes=90-", 100, Some((90, 99))),
            ("bytes=90-500", 100, Some((90, 99))),
            ("bytes=100-", 100, None),
            ("bytes=5-1", 100, None),
            ("bytes=0-1,5-6", 100, None),
            ("items=0-1", 100, None),
            ("bytes=x-y", 100, None),
            ("bytes=0-0", 0, None),
        ];
        for (value, len, expected) in rows {
            assert_eq!(parse_range(value, len), expected, "{value}");
        }
    }
}
