//! `RegistryClient`: lists a project's files from every configured source, fetches a
//! candidate's metadata the cheapest way available, and downloads verified files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

use super::json_pages::{JsonFormat, parse_json_page};
use super::links::{self, CoreMetadata, Link};
use super::locations::{FindLinks, IndexApi, IndexLocations};
use super::page_digest::{self, ParsedPage};
use super::remote_zip::{self, ZipReadError};
use super::{Candidate, RegistryError};
use crate::dist::{
    DistFilename, ExtraName, Metadata, PackageName, Version, VersionSpecifiers, sha256_hex,
};
use crate::http::{CachedPage, HttpClient, HttpError, RedactedUrl};

/// What the simple API is asked for: PEP 691 JSON first, HTML as a fallback.
const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// Facts about a listed file that `Candidate` does not carry, kept by URL so `metadata` and
/// `download` can use them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileHint {
    /// The filename exactly as the index spelled it (saved under this name).
    filename: String,
    /// PEP 658 availability.
    core_metadata: CoreMetadata,
    /// The JSON API base (`…/pypi/`) when the file was listed by the JSON API (shared by
    /// every file of the page: hints are kept for thousands of files).
    json_base: Option<Arc<Url>>,
    /// Metadata the JSON API page already gave (its `info` describes the latest version).
    json_metadata: Option<Arc<Metadata>>,
    /// The file is of the version the JSON API page's `info` describes: its per-version page
    /// would only repeat that `info`.
    described_by_info: bool,
}

/// Files a source listed: candidates and their hints, side by side.
#[derive(Debug, Default)]
struct Listing {
    candidates: Vec<Candidate>,
    hints: Vec<FileHint>,
}

/// What one source said about a project: `None` when it does not know it.
type SourceAnswer = Result<Option<Listing>, RegistryError>;

/// Which listed files a client keeps, by file name (see [`RegistryClient::with_file_filter`]).
pub type FileFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How a project page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    /// The PyPI JSON API.
    JsonApi,
    /// A simple API page: PEP 691 JSON or PEP 503 HTML, by its content type.
    Simple,
    /// A find-links page: HTML.
    Html,
}

/// Talks to package indexes and find-links locations.
pub struct RegistryClient {
    http: HttpClient,
    locations: IndexLocations,
    /// Files not kept are dropped while the page is read, before any URL or name parsing.
    filter: Option<FileFilter>,
    /// Names the filter in page digests: pages read through another filter keep other files.
    filter_key: String,
    /// Per project: files the filter dropped, and one of their names.
    dropped: Mutex<HashMap<PackageName, (usize, String)>>,
    /// Per project, the hints of its listed files with their URLs, latest listing last. A
    /// list rather than a map by URL: a warm resolution lists thousands of files and looks
    /// up only the few it fetches, and hashing every URL cost more than those look-ups.
    hints: Mutex<HashMap<PackageName, Vec<(Url, FileHint)>>>,
    /// JSON API bases whose per-version pages are missing (some proxies only mirror the
    /// project pages): not asked again.
    no_version_pages: Mutex<HashSet<Url>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("locations", &self.locations)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client over `locations`, sending its requests through `http`.
    pub fn new(http: HttpClient, locations: IndexLocations) -> Self {
        Self {
            http,
            locations,
            filter: None,
            filter_key: String::new(),
            dropped: Mutex::new(HashMap::new()),
            hints: Mutex::new(HashMap::new()),
            no_version_pages: Mutex::new(HashSet::new()),
        }
    }

    /// Keep only the files whose name `keep` accepts (e.g. wheels the target can install):
    /// projects list tens of thousands of wheels for other platforms, and reading them into
    /// candidates is most of what a warm resolution would cost.
    ///
    /// `key` names what `keep` does (e.g. the target's tags): the filtered pages are cached
    /// under it, so two filters that keep different files must have different keys, and a
    /// filter must always keep the same files under one key.
    pub fn with_file_filter(mut self, keep: FileFilter, key: impl Into<String>) -> Self {
        self.filter = Some(keep);
        // Hashed once here rather than with every page; never equal to the empty key of a
        // client without filter.
        self.filter_key = crate::cache::cache_key(&[b"filter", key.into().as_bytes()]);
        self
    }

    /// Count `count` files of `name` the filter dropped (`example` one of them), so a project
    /// whose every file was dropped can be told apart from an unknown one.
    fn record_dropped(&self, name: &PackageName, count: usize, example: &str) {
        let mut all = self
            .dropped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.entry(name.clone())
            .or_insert_with(|| (0, example.to_string()))
            .0 += count;
    }

    /// Whether the filter keeps `filename` (a file of `name`); a dropped file is counted.
    fn keeps(&self, name: &PackageName, filename: &str) -> bool {
        let kept = self.filter.as_ref().is_none_or(|keep| keep(filename));
        if !kept {
            self.record_dropped(name, 1, filename);
        }
        kept
    }

    /// How many listed files of `name` the file filter dropped, with one of their names.
    pub fn dropped_files(&self, name: &PackageName) -> Option<(usize, String)> {
        self.dropped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(name)
            .cloned()
    }

    /// The configured locations.
    pub fn locations(&self) -> &IndexLocations {
        &self.locations
    }

    /// The HTTP client in use.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Every file of `name` on every source, in source order (main index, extra indexes,
    /// find-links). Sources that fail are ignored as long as another one answers.
    pub async fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, RegistryError> {
        let mut requests = Vec::new();
        for api in self.locations.indexes() {
            requests.push(Box::pin(self.ask_index(api, name))
                as std::pin::Pin<Box<dyn Future<Output = SourceAnswer> + Send + '_>>);
        }
        for find_links in &self.locations.find_links {
            requests.push(Box::pin(self.ask_find_links(find_links, name)));
        }
        let answers = futures::future::join_all(requests).await;

        let mut listing: Option<Listing> = None;
        let mut first_error = None;
        for answer in answers {
            match answer {
                // Moved, not copied, when one source answers: thousands of candidates.
                Ok(Some(listed)) => match &mut listing {
                    None => listing = Some(listed),
                    Some(all) => {
                        all.candidates.extend(listed.candidates);
                        all.hints.extend(listed.hints);
                    }
                },
                Ok(None) => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        let Some(Listing {
            mut candidates,
            mut hints,
        }) = listing
        else {
            return Err(first_error.unwrap_or_else(|| RegistryError::NotFound(name.clone())));
        };
        // Projects list thousands of files (a wheel per platform and release): a set keeps
        // the de-duplication linear, and borrowing the URLs keeps it cheap.
        let mut seen: HashSet<&str> = HashSet::with_capacity(candidates.len());
        let first_listing: Vec<bool> = candidates
            .iter()
            .map(|candidate| seen.insert(candidate.url.as_str()))
            .collect();
        drop(seen);
        if first_listing.contains(&false) {
            let mut keep = first_listing.iter();
            candidates.retain(|_| keep.next().copied().unwrap_or(true));
            let mut keep = first_listing.iter();
            hints.retain(|_| keep.next().copied().unwrap_or(true));
        }
        let hints = candidates
            .iter()
            .map(|candidate| candidate.url.clone())
            .zip(hints);
        self.hints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(name.clone())
            .or_default()
            .extend(hints);
        Ok(candidates)
    }

    /// A token that changes whenever what [`RegistryClient::candidates`] answers for `name`
    /// may change, found without reading or parsing any page: the identities of the cached
    /// project pages of every index (see [`CachedPage::body_id`]) and the file filter's key.
    /// Asking costs what `candidates` costs in requests (none for fresh pages). `None` when
    /// some source cannot be identified so (find-links, `file://` indexes, no cache, a
    /// failed request): compare the candidates themselves then.
    pub async fn listing_fingerprint(&self, name: &PackageName) -> Option<String> {
        if !self.locations.find_links.is_empty() {
            return None;
        }
        let mut parts = vec![self.filter_key.clone()];
        for api in self.locations.indexes() {
            let (page, accept) = project_page(&api, name)?;
            let identity = match self.http.get_cached_page(&page, accept).await {
                Ok(response) => response.body_id?,
                Err(err) if err.is_not_found() => "absent".to_string(),
                Err(_) => return None,
            };
            parts.push(page.to_string());
            parts.push(identity);
        }
        let parts: Vec<&[u8]> = parts.iter().map(|part| part.as_bytes()).collect();
        Some(crate::cache::cache_key(&parts))
    }

    async fn ask_index(&self, api: IndexApi, name: &PackageName) -> SourceAnswer {
        let index = api.index_url().clone();
        let json_base = match &api {
            IndexApi::Json { base, .. } => Some(base),
            IndexApi::Simple { .. } => None,
        };
        let (page, accept) =
            project_page(&api, name).ok_or_else(|| RegistryError::NotFound(name.clone()))?;
        // Project pages go through the HTTP cache: fresh ones cost no request at all.
        let response = match self.http.get_cached_page(&page, accept).await {
            Ok(response) => response,
            Err(err) if err.is_not_found() => return Ok(None),
            Err(err) if err.is_offline() => {
                return Err(RegistryError::OfflineNotCached {
                    name: name.clone(),
                    url: RedactedUrl::new(&page),
                });
            }
            Err(source) => {
                return Err(RegistryError::Index {
                    name: name.clone(),
                    url: RedactedUrl::new(&page),
                    source,
                });
            }
        };
        let kind = if json_base.is_some() {
            PageKind::JsonApi
        } else {
            PageKind::Simple
        };
        let parsed = self.read_page(name, &page, accept, kind, response).await?;
        let json_base = json_base.map(|base| Arc::new(base.clone()));
        let mut listing = to_candidates(parsed.links, name, &index, json_base.as_ref());
        if kind == PageKind::JsonApi {
            // `info` is the latest version's metadata: those files need no further request.
            let info = parsed.info.as_ref();
            let latest = info
                .and_then(|info| info.get("version"))
                .and_then(Value::as_str)
                .and_then(|v| Version::from_str(v).ok());
            for (candidate, hint) in listing.candidates.iter().zip(&mut listing.hints) {
                if latest.as_ref() == Some(&candidate.version) {
                    hint.described_by_info = true;
                    hint.json_metadata = metadata_from_json_info(info, candidate)
                        .ok()
                        .flatten()
                        .map(Arc::new);
                }
            }
        }
        Ok(Some(listing))
    }

    /// The kept files of a page (and the JSON API's `info`): from its digest when the HTTP
    /// cache answered with a body already digested under this filter, without reading that
    /// body; else parsed, and digested for the next run. The files the filter dropped are
    /// counted either way.
    async fn read_page(
        &self,
        name: &PackageName,
        asked: &Url,
        accept: Option<&str>,
        kind: PageKind,
        response: CachedPage,
    ) -> Result<ParsedPage, RegistryError> {
        let digest = match (&self.http.options().cache_dir, &response.body_id) {
            (Some(dir), Some(body_id)) => Some((
                page_digest::digest_path(dir, asked, accept, &self.filter_key),
                body_id.clone(),
            )),
            _ => None,
        };
        if let Some((path, body_id)) = &digest {
            let (path, body_id, url) = (path.clone(), body_id.clone(), response.url.clone());
            let stored =
                tokio::task::spawn_blocking(move || page_digest::read(&path, &body_id, &url))
                    .await
                    .ok()
                    .flatten();
            if let Some(parsed) = stored {
                if let Some((count, example)) = &parsed.dropped {
                    self.record_dropped(name, *count, example);
                }
                return Ok(parsed);
            }
        }
        let (url, content_type) = (response.url.clone(), response.content_type.clone());
        let body = response
            .body()
            .await
            .map_err(|source| RegistryError::Index {
                name: name.clone(),
                url: RedactedUrl::new(asked),
                source,
            })?;
        let parsed = self
            .parse_page(&body, &url, content_type.as_deref(), kind)
            .map_err(|source| RegistryError::Parse {
                name: name.clone(),
                url: RedactedUrl::new(&url),
                source,
            })?;
        drop(body);
        if let Some((count, example)) = &parsed.dropped {
            self.record_dropped(name, *count, example);
        }
        if let Some((path, body_id)) = digest {
            // A digest that cannot be written only costs the next run a parse.
            let parsed = parsed.clone();
            let _ = tokio::task::spawn_blocking(move || {
                page_digest::write(&path, &body_id, &url, &parsed)
            })
            .await;
        }
        Ok(parsed)
    }

    /// Parse a page, keeping the files the filter accepts and counting the others.
    fn parse_page(
        &self,
        body: &[u8],
        url: &Url,
        content_type: Option<&str>,
        kind: PageKind,
    ) -> Result<ParsedPage, serde_json::Error> {
        let dropped = std::cell::RefCell::new(None::<(usize, String)>);
        let keep = |filename: &str| {
            let kept = self.filter.as_ref().is_none_or(|keep| keep(filename));
            if !kept {
                dropped
                    .borrow_mut()
                    .get_or_insert_with(|| (0, filename.to_string()))
                    .0 += 1;
            }
            kept
        };
        let json = match kind {
            PageKind::JsonApi => Some(JsonFormat::PypiApi),
            PageKind::Simple if is_json(content_type, body) => Some(JsonFormat::Simple),
            PageKind::Simple | PageKind::Html => None,
        };
        let (links, info) = match json {
            Some(format) => {
                let page = parse_json_page(body, url, format, &keep)?;
                (page.links, page.info)
            }
            None => {
                let mut links = links::parse_html(&String::from_utf8_lossy(body), url);
                links.retain(|link| keep(&link.filename));
                (links, None)
            }
        };
        Ok(ParsedPage {
            links,
            info,
            dropped: dropped.into_inner(),
        })
    }

    async fn ask_find_links(&self, find_links: &FindLinks, name: &PackageName) -> SourceAnswer {
        let files = match find_links {
            FindLinks::Url(url) => {
                let response = self
                    .http
                    .get_cached_page(url, None)
                    .await
                    .map_err(|source| {
                        if source.is_offline() {
                            RegistryError::OfflineNotCached {
                                name: name.clone(),
                                url: RedactedUrl::new(url),
                            }
                        } else {
                            RegistryError::Index {
                                name: name.clone(),
                                url: RedactedUrl::new(url),
                                source,
                            }
                        }
                    })?;
                let parsed = self
                    .read_page(name, url, None, PageKind::Html, response)
                    .await?;
                to_candidates(parsed.links, name, url, None)
            }
            FindLinks::Path(path) => {
                let folder = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let listed = list_folder(folder.clone()).await?;
                let index =
                    Url::from_directory_path(&folder).map_err(|()| RegistryError::FindLinks {
                        path: folder.clone(),
                        source: std::io::Error::other("not an absolute path"),
                    })?;
                let mut links: Vec<Link> = listed
                    .into_iter()
                    .filter_map(|(filename, path)| {
                        let url = Url::from_file_path(path).ok()?;
                        Some(Link {
                            filename,
                            url,
                            sha256: None,
                            requires_python: None,
                            yanked: false,
                            size: None,
                            core_metadata: CoreMetadata::Absent,
                        })
                    })
                    .collect();
                links.retain(|link| self.keeps(name, &link.filename));
                to_candidates(links, name, &index, None)
            }
        };
        Ok((!files.candidates.is_empty()).then_some(files))
    }

    fn lock_no_version_pages(&self) -> std::sync::MutexGuard<'_, HashSet<Url>> {
        self.no_version_pages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hint(&self, candidate: &Candidate) -> FileHint {
        let known = self
            .hints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&candidate.name)
            .and_then(|hints| hints.iter().rev().find(|(url, _)| *url == candidate.url))
            .map(|(_, hint)| hint.clone());
        known.unwrap_or_else(|| FileHint {
            filename: saved_name(candidate),
            core_metadata: CoreMetadata::Absent,
            json_base: match IndexApi::for_url(&candidate.index) {
                IndexApi::Json { base, .. } if candidate.url.scheme() != "file" => {
                    Some(Arc::new(base))
                }
                _ => None,
            },
            json_metadata: None,
            described_by_info: false,
        })
    }

    /// The candidate's core metadata without building it: from the JSON API, a PEP 658
    /// `.metadata` file, or a wheel's METADATA (range requests, or the local file). `None`
    /// for a sdist whose metadata the index does not serve: it must be read after download.
    pub async fn metadata(&self, candidate: &Candidate) -> Result<Option<Metadata>, RegistryError> {
        let hint = self.hint(candidate);
        let package = format!("{}=={}", candidate.name, candidate.version);
        let wheel = match &candidate.filename {
            DistFilename::Wheel(wheel) => Some(wheel),
            DistFilename::Sdist(_) => None,
        };

        // The JSON API's `info` describes a release, not a file: PyPI takes it from one
        // uploaded file, and wheels can disagree with it (seen: pydantic 2.14.4's info pins
        // pydantic-core==2.50.2, its wheels ==2.50.5). A wheel is described by its own
        // METADATA; `info` is used for sdists, and for wheels only when that cannot be read.
        if wheel.is_none()
            && let Some(metadata) = &hint.json_metadata
        {
            return Ok(Some(Metadata::clone(metadata)));
        }

        // PEP 658 first: one request for the exact file, hash-checked.
        if hint.core_metadata != CoreMetadata::Absent
            && let Some(metadata) = self.pep658_metadata(candidate, &hint, &package).await?
        {
            return Ok(Some(metadata));
        }

        if wheel.is_none()
            && !hint.described_by_info
            && let Some(base) = &hint.json_base
            && !self.lock_no_version_pages().contains(base)
        {
            match self.json_metadata(base, candidate, &package).await {
                Ok(Some(metadata)) => return Ok(Some(metadata)),
                // `requires_dist: null` is ambiguous on the JSON API (no dependencies, or
                // metadata PyPI did not extract); a missing per-version page happens behind
                // some proxies. Either way: read the wheel, or leave the sdist to the build.
                Ok(None) => {}
                Err(RegistryError::Metadata { source, .. }) if source.is_not_found() => {
                    // The version is listed (it is a candidate), so the endpoint is missing.
                    self.lock_no_version_pages().insert(Url::clone(base));
                }
                Err(err) => return Err(err),
            }
        }

        let Some(wheel) = wheel else {
            return Ok(None);
        };
        let dist_info = wheel.dist_info_dir();
        let bytes = if candidate.url.scheme() == "file" {
            let path = candidate
                .url
                .to_file_path()
                .map_err(|()| RegistryError::InvalidWheel {
                    filename: hint.filename.clone(),
                    url: RedactedUrl::new(&candidate.url),
                    reason: "its file URL has no local path".into(),
                })?;
            let dir = dist_info.clone();
            let read = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ZipReadError> {
                let file = std::fs::File::open(&path).map_err(|source| {
                    ZipReadError::Http(HttpError::Io {
                        path: path.clone(),
                        source,
                    })
                })?;
                remote_zip::metadata_from_zip(std::io::BufReader::new(file), &dir)
            })
            .await
            .map_err(|err| ZipReadError::Invalid(format!("reading it was interrupted ({err})")));
            read.and_then(|inner| inner)
        } else {
            remote_zip::metadata_by_range(&self.http, &candidate.url, &dist_info).await
        };
        let bytes = bytes.map_err(|err| match err {
            ZipReadError::Http(source) => RegistryError::Metadata {
                package: package.clone(),
                url: RedactedUrl::new(&candidate.url),
                source,
            },
            ZipReadError::Invalid(reason) => RegistryError::InvalidWheel {
                filename: hint.filename.clone(),
                url: RedactedUrl::new(&candidate.url),
                reason,
            },
        })?;
        let metadata =
            Metadata::parse(&bytes).map_err(|source| RegistryError::InvalidMetadata {
                package,
                url: RedactedUrl::new(&candidate.url),
                source,
            })?;
        Ok(Some(metadata))
    }

    /// `/pypi/<name>/<version>/json`: `None` when `requires_dist` is null (unknown).
    async fn json_metadata(
        &self,
        base: &Url,
        candidate: &Candidate,
        package: &str,
    ) -> Result<Option<Metadata>, RegistryError> {
        let url = join(
            base,
            &format!("{}/{}/json", candidate.name, candidate.version),
        )
        .ok_or_else(|| RegistryError::InvalidJsonMetadata {
            package: package.to_string(),
            url: RedactedUrl::new(base),
            reason: "the per-version URL cannot be built".into(),
        })?;
        let response =
            self.http
                .get_cached(&url, None)
                .await
                .map_err(|source| RegistryError::Metadata {
                    package: package.to_string(),
                    url: RedactedUrl::new(&url),
                    source,
                })?;
        let (final_url, body) = (response.url, response.body);
        let invalid = |reason: String| RegistryError::InvalidJsonMetadata {
            package: package.to_string(),
            url: RedactedUrl::new(&final_url),
            reason,
        };
        let value: Value = serde_json::from_slice(&body)
            .map_err(|err| invalid(format!("the page is not valid JSON ({err})")))?;
        metadata_from_json_info(value.get("info"), candidate).map_err(invalid)
    }

    /// PEP 658: `<url>.metadata`, hash-checked when the index gave a hash. `None` when the
    /// file turns out to be missing.
    async fn pep658_metadata(
        &self,
        candidate: &Candidate,
        hint: &FileHint,
        package: &str,
    ) -> Result<Option<Metadata>, RegistryError> {
        let mut url = candidate.url.clone();
        url.set_path(&format!("{}.metadata", candidate.url.path()));
        let body = match self.http.get_bytes(&url).await {
            Ok((_, _, body)) => body,
            Err(err) if err.is_not_found() => return Ok(None),
            Err(source) => {
                return Err(RegistryError::Metadata {
                    package: package.to_string(),
                    url: RedactedUrl::new(&url),
                    source,
                });
            }
        };
        if let CoreMetadata::Sha256(expected) = &hint.core_metadata {
            let actual = sha256_hex(&body);
            if &actual != expected {
                return Err(RegistryError::MetadataHashMismatch {
                    filename: hint.filename.clone(),
                    url: RedactedUrl::new(&url),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        let metadata = Metadata::parse(&body).map_err(|source| RegistryError::InvalidMetadata {
            package: package.to_string(),
            url: RedactedUrl::new(&url),
            source,
        })?;
        Ok(Some(metadata))
    }

    /// Download the candidate into `dest_dir` under its filename, verifying its sha256
    /// when known. Returns the final path.
    pub async fn download(
        &self,
        candidate: &Candidate,
        dest_dir: &Path,
    ) -> Result<PathBuf, RegistryError> {
        self.download_with_progress(candidate, dest_dir, None).await
    }

    /// [`RegistryClient::download`], calling `progress` with the bytes received so far.
    pub async fn download_with_progress(
        &self,
        candidate: &Candidate,
        dest_dir: &Path,
        progress: Option<&(dyn Fn(u64) + Send + Sync)>,
    ) -> Result<PathBuf, RegistryError> {
        let filename = self.hint(candidate).filename;
        let redacted = RedactedUrl::new(&candidate.url);
        if !links::is_safe_filename(&filename) {
            return Err(RegistryError::UnsafeFilename {
                filename,
                url: redacted,
            });
        }
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RegistryError::Io { path, source }
        };
        let temp = tempfile::Builder::new()
            .prefix(".plonk-download-")
            .suffix(".part")
            .tempfile_in(dest_dir)
            .map_err(io_error(dest_dir))?;
        // Dropping `temp` deletes the partial file on every error path below.
        let done = self
            .http
            .download(&candidate.url, temp.path(), candidate.size, progress)
            .await
            .map_err(|source| RegistryError::Download {
                filename: filename.clone(),
                url: redacted.clone(),
                source,
            })?;
        if let Some(expected) = &candidate.sha256
            && &done.sha256 != expected
        {
            return Err(RegistryError::HashMismatch {
                filename,
                url: redacted,
                expected: expected.clone(),
                actual: done.sha256,
            });
        }
        let dest = dest_dir.join(&filename);
        temp.persist(&dest).map_err(|err| RegistryError::Io {
            path: dest.clone(),
            source: err.error,
        })?;
        Ok(dest)
    }
}

/// Build candidates from links: unsafe or unparsable filenames and other projects' files are
/// skipped; a bad `Requires-Python` becomes `None`.
fn to_candidates(
    links: Vec<Link>,
    name: &PackageName,
    index: &Url,
    json_base: Option<&Arc<Url>>,
) -> Listing {
    // The files of a release share one `Requires-Python`, and pages list them together:
    // the last one parsed is mostly the next one too.
    let mut last_requires_python: Option<(String, Option<VersionSpecifiers>)> = None;
    let mut files = Listing {
        candidates: Vec::with_capacity(links.len()),
        hints: Vec::with_capacity(links.len()),
    };
    for link in links {
        if !links::is_safe_filename(&link.filename) {
            continue;
        }
        let Ok(filename) = DistFilename::parse(&link.filename, Some(name)) else {
            continue;
        };
        if filename.name() != name {
            continue;
        }
        let requires_python = match (link.requires_python, &last_requires_python) {
            (None, _) => None,
            (Some(spec), Some((last, parsed))) if *last == spec => parsed.clone(),
            (Some(spec), _) => {
                let parsed = VersionSpecifiers::from_str(&spec).ok();
                last_requires_python = Some((spec, parsed.clone()));
                parsed
            }
        };
        let candidate = Candidate {
            name: name.clone(),
            version: filename.version().clone(),
            filename,
            url: link.url,
            sha256: link.sha256,
            requires_python,
            yanked: link.yanked,
            size: link.size,
            index: index.clone(),
        };
        let hint = FileHint {
            filename: link.filename,
            core_metadata: link.core_metadata,
            json_base: json_base.cloned(),
            json_metadata: None,
            described_by_info: false,
        };
        files.candidates.push(candidate);
        files.hints.push(hint);
    }
    files
}

/// Metadata from the `info` object of a per-version JSON API page.
fn metadata_from_json_info(
    info: Option<&Value>,
    candidate: &Candidate,
) -> Result<Option<Metadata>, String> {
    let info = info
        .and_then(Value::as_object)
        .ok_or_else(|| "it has no `info` object".to_string())?;
    let requires_dist = match info.get("requires_dist") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("`requires_dist` is not a list".into()),
    };
    let mut metadata = Metadata::new(candidate.name.clone(), candidate.version.clone());
    for item in requires_dist {
        let line = item
            .as_str()
            .ok_or_else(|| "`requires_dist` holds a non-string".to_string())?;
        let requirement = crate::dist::parse_requirement(line).map_err(|err| err.to_string())?;
        metadata.requires_dist.push(requirement);
    }
    metadata.requires_python = info
        .get("requires_python")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|spec| !spec.is_empty())
        .and_then(|spec| VersionSpecifiers::from_str(spec).ok());
    if let Some(extras) = info.get("provides_extra").and_then(Value::as_array) {
        metadata.provides_extra = extras
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|extra| ExtraName::from_str(extra).ok())
            .collect();
    }
    metadata.summary = info
        .get("summary")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(metadata))
}

/// The name a candidate is saved under when no hint is known: the URL's last segment when
/// it is a safe filename of the same distribution, else the canonical filename.
fn saved_name(candidate: &Candidate) -> String {
    links::url_filename(&candidate.url)
        .filter(|name| links::is_safe_filename(name))
        .filter(|name| {
            DistFilename::parse(name, Some(&candidate.name)).is_ok_and(|f| f == candidate.filename)
        })
        .unwrap_or_else(|| candidate.filename.to_string())
}

/// Whether a simple API answer is PEP 691 JSON.
fn is_json(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(content_type) => content_type.to_ascii_lowercase().contains("json"),
        // `file://` pages have no headers: sniff.
        None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    }
}

/// The project page of `name` on an index, with the `Accept` it is asked with.
fn project_page(api: &IndexApi, name: &PackageName) -> Option<(Url, Option<&'static str>)> {
    match api {
        IndexApi::Json { base, .. } => Some((join(base, &format!("{name}/json"))?, None)),
        IndexApi::Simple { base } => Some((join(base, &format!("{name}/"))?, Some(SIMPLE_ACCEPT))),
    }
}

/// `base` joined with a relative path made of normalized names and versions.
fn join(base: &Url, relative: &str) -> Option<Url> {
    base.join(relative).ok()
}

/// The distribution files of a find-links folder: `(filename, path)`, non-recursive.
async fn list_folder(folder: PathBuf) -> Result<Vec<(String, PathBuf)>, RegistryError> {
    let listing = tokio::task::spawn_blocking({
        let folder = folder.clone();
        move || -> std::io::Result<Vec<(String, PathBuf)>> {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                if !entry.file_type()?.is_file() && !entry.path().is_file() {
                    continue;
                }
                if let Some(name) = entry.file_name().to_str() {
                    files.push((name.to_string(), entry.path()));
                }
            }
            files.sort();
            Ok(files)
        }
    })
    .await
    .map_err(|err| RegistryError::FindLinks {
        path: folder.clone(),
        source: std::io::Error::other(err.to_string()),
    })?;
    listing.map_err(|source| RegistryError::FindLinks {
        path: folder,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> PackageName {
        PackageName::from_str(n).unwrap()
    }

    fn link(filename: &str) -> Link {
        Link {
            filename: filename.to_string(),
            url: Url::parse(&format!("https://h/packages/{filename}")).unwrap(),
            sha256: None,
            requires_python: None,
            yanked: false,
            size: None,
            core_metadata: CoreMetadata::Absent,
        }
    }

    #[test]
    fn candidates_filter_and_requires_python() {
        let index = Url::parse("https://h/simple/").unwrap();
        let mut bad_python = link("demo-1.0.tar.gz");
        bad_python.requires_python = Some(">=3.8,<<4!!".into());
        let mut good_python = link("demo-2.0-py3-none-any.whl");
        good_python.requires_python = Some(">=3.8".into());
        let rows = vec![
            bad_python,
            good_python,
            link("other-1.0.tar.gz"),
            link("demo-garbage"),
            link("../demo-1.0.tar.gz"),
            link("Demo_Pkg-3.0.tar.gz"),
            link("demo-3.0.zip"),
        ];
        let found = to_candidates(rows, &name("demo"), &index, None);
        let names: Vec<String> = found
            .candidates
            .iter()
            .map(|c| c.filename.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "demo-1.0.tar.gz",
                "demo-2.0-py3-none-any.whl",
                "demo-3.0.zip"
            ]
        );
        let found = found.candidates;
        assert_eq!(found[0].requires_python, None);
        assert_eq!(
            found[1].requires_python,
            Some(VersionSpecifiers::from_str(">=3.8").unwrap())
        );
        assert_eq!(found[1].version.to_string(), "2.0");
    }

    #[test]
    fn requires_python_is_parsed_per_distinct_run() {
        let index = Url::parse("https://h/simple/").unwrap();
        let specs = [
            Some(">=3.8"),
            Some(">=3.8"),
            None,
            Some(">=3.9"),
            Some("!!"),
            Some(">=3.8"),
        ];
        let rows: Vec<Link> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let mut row = link(&format!("demo-1.{i}.tar.gz"));
                row.requires_python = spec.map(str::to_string);
                row
            })
            .collect();
        let found = to_candidates(rows, &name("demo"), &index, None);
        let got: Vec<Option<String>> = found
            .candidates
            .iter()
            .map(|c| c.requires_python.as_ref().map(ToString::to_string))
            .collect();
        let expected = [
            Some(">=3.8"),
            Some(">=3.8"),
            None,
            Some(">=3.9"),
            None,
            Some(">=3.8"),
        ];
        assert_eq!(got, expected.map(|s| s.map(str::to_string)));
    }

    #[test]
    fn json_info_rows() {
        let index = Url::parse("https://h/pypi/").unwrap();
        let candidate = to_candidates(
            vec![link("demo-1.0-py3-none-any.whl")],
            &name("demo"),
            &index,
            None,
        )
        .candidates
        .remove(0);
        let parse = |text: &str| {
            let value: Value = serde_json::from_str(text).unwrap();
            metadata_from_json_info(value.get("info"), &candidate)
        };
        let metadata = parse(
            r#"{"info": {"requires_dist": ["a>=1", "b; extra == 'x'"], "requires_python": ">=3.9",
                "provides_extra": ["x", "!!"], "summary": "S"}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(metadata.requires_dist.len(), 2);
        assert_eq!(metadata.provides_extra.len(), 1);
        assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.9");
        assert_eq!(metadata.name, name("demo"));
        assert!(
            parse(r#"{"info": {"requires_dist": null}}"#)
                .unwrap()
                .is_none()
        );
        assert!(parse(r#"{"info": {}}"#).unwrap().is_none());
        let lenient = parse(r#"{"info": {"requires_dist": [], "requires_python": "garbage"}}"#);
        assert_eq!(lenient.unwrap().unwrap().requires_python, None);
        assert!(parse(r#"{"info": {"requires_dist": "a"}}"#).is_err());
        assert!(parse(r#"{"info": {"requires_dist": [1]}}"#).is_err());
        assert!(parse(r#"{"info": {"requires_dist": ["not a req !!"]}}"#).is_err());
        assert!(parse(r#"{"info": 3}"#).is_err());
        assert!(parse(r#"{}"#).is_err());
    }

    #[test]
    fn saved_name_prefers_the_url() {
        let index = Url::parse("https://h/simple/").unwrap();
        let mut candidate =
            to_candidates(vec![link("Demo-1.0.tar.gz")], &name("demo"), &index, None)
                .candidates
                .remove(0);
        assert_eq!(saved_name(&candidate), "Demo-1.0.tar.gz");
        candidate.url = Url::parse("https://h/packages/..%2Fevil").unwrap();
        assert_eq!(saved_name(&candidate), "demo-1.0.tar.gz");
    }

    #[test]
    fn json_sniffing() {
        assert!(is_json(None, b"  {\"files\": []}"));
        assert!(!is_json(None, b"<html>"));
        assert!(is_json(
            Some("application/vnd.pypi.simple.v1+json"),
            b"<html>"
        ));
        assert!(!is_json(Some("text/html"), b"{"));
    }

    #[tokio::test]
    async fn find_links_folder_and_no_index() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "demo-1.0.tar.gz",
            "demo-1.1-py3-none-any.whl",
            "other-1.0.tar.gz",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(file), b"x").unwrap();
        }
        let http = HttpClient::new(crate::http::HttpOptions {
            offline: true,
            ..Default::default()
        })
        .unwrap();
        let locations = IndexLocations {
            find_links: vec![FindLinks::Path(dir.path().to_path_buf())],
            no_index: true,
            ..IndexLocations::default()
        };
        let client = RegistryClient::new(http.clone(), locations);
        let found = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|c| c.url.scheme() == "file" && c.sha256.is_none())
        );
        let err = client.candidates(&name("absent")).await.unwrap_err();
        assert!(matches!(err, RegistryError::NotFound(_)), "{err}");

        // Offline with PyPI configured: the folder still answers, PyPI's error is dropped.
        let locations = IndexLocations {
            find_links: vec![FindLinks::Path(dir.path().to_path_buf())],
            ..IndexLocations::default()
        };
        let client = RegistryClient::new(http, locations);
        assert_eq!(client.candidates(&name("demo")).await.unwrap().len(), 2);
        // Nothing answers: the offline error is reported, naming the URL.
        let err = client.candidates(&name("absent")).await.unwrap_err();
        assert!(
            matches!(err, RegistryError::OfflineNotCached { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("`absent`"), "{text}");
        assert!(text.contains("pypi.org/pypi/absent/json"), "{text}");
        assert!(text.contains("offline"), "{text}");

        // Local download checks the hash and names the file.
        let out = tempfile::tempdir().unwrap();
        let mut candidate = found_by_name(&found, "demo-1.0.tar.gz");
        let path = client.download(&candidate, out.path()).await.unwrap();
        assert_eq!(path, out.path().join("demo-1.0.tar.gz"));
        candidate.sha256 = Some("00".repeat(32));
        let err = client.download(&candidate, out.path()).await.unwrap_err();
        assert!(matches!(err, RegistryError::HashMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&"00".repeat(32)));
        // Only the first, verified file is left; no temp file.
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    }

    fn found_by_name(found: &[Candidate], filename: &str) -> Candidate {
        found
            .iter()
            .find(|c| c.filename.to_string() == filename)
            .unwrap()
            .clone()
    }

    #[tokio::test]
    async fn the_file_filter_drops_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "demo-1.0.tar.gz",
            "demo-1.1-cp311-cp311-win_amd64.whl",
            "demo-1.1-cp312-cp312-win_amd64.whl",
        ] {
            std::fs::write(dir.path().join(file), b"x").unwrap();
        }
        let http = HttpClient::new(crate::http::HttpOptions::default()).unwrap();
        let locations = IndexLocations {
            find_links: vec![FindLinks::Path(dir.path().to_path_buf())],
            no_index: true,
            ..IndexLocations::default()
        };
        let keep: FileFilter = Arc::new(|filename: &str| !filename.ends_with(".whl"));
        let client = RegistryClient::new(http, locations).with_file_filter(keep, "no-wheels");
        let found = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(found.len(), 1);
        let (count, example) = client.dropped_files(&name("demo")).unwrap();
        assert_eq!(count, 2);
        assert!(example.ends_with("win_amd64.whl"), "{example}");
        assert!(client.dropped_files(&name("other")).is_none());
    }

    #[tokio::test]
    async fn files_listed_twice_are_kept_once_with_their_hints() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["demo-1.0.tar.gz", "demo-1.1-py3-none-any.whl"] {
            std::fs::write(dir.path().join(file), b"x").unwrap();
        }
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("demo-0.9.tar.gz"), b"x").unwrap();
        let http = HttpClient::new(crate::http::HttpOptions::default()).unwrap();
        let folder = |path: &Path| FindLinks::Path(path.to_path_buf());
        let locations = IndexLocations {
            find_links: vec![folder(dir.path()), folder(other.path()), folder(dir.path())],
            no_index: true,
            ..IndexLocations::default()
        };
        let client = RegistryClient::new(http, locations);
        let found = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(
            found
                .iter()
                .map(|c| c.filename.to_string())
                .collect::<Vec<_>>(),
            [
                "demo-1.0.tar.gz",
                "demo-1.1-py3-none-any.whl",
                "demo-0.9.tar.gz"
            ]
        );
        for candidate in &found {
            assert_eq!(
                client.hint(candidate).filename,
                candidate.filename.to_string()
            );
        }
    }

    #[tokio::test]
    async fn missing_find_links_folder_is_reported() {
        let http = HttpClient::new(crate::http::HttpOptions::default()).unwrap();
        let locations = IndexLocations {
            find_links: vec![FindLinks::Path("/nonexistent/plonk/wheels".into())],
            no_index: true,
            ..IndexLocations::default()
        };
        let client = RegistryClient::new(http, locations);
        let err = client.candidates(&name("demo")).await.unwrap_err();
        assert!(matches!(err, RegistryError::FindLinks { .. }), "{err}");
    }

    /// A loopback index serving pages from a table (path → content type, body, ETag) with
    /// `Cache-Control: <cache_control>`, answering 304 when `If-None-Match` matches; it
    /// counts requests.
    /// Served pages by path: content type, body, ETag.
    type Pages = Arc<Mutex<HashMap<String, (String, String, String)>>>;

    struct PageServer {
        base: Url,
        pages: Pages,
        requests: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl PageServer {
        async fn start(cache_control: &'static str) -> PageServer {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
            let pages: Pages = Arc::default();
            let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let (served, counter) = (pages.clone(), requests.clone());
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let (pages, counter) = (served.clone(), counter.clone());
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
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let head = String::from_utf8_lossy(&buf).to_string();
                        let path = head.split(' ').nth(1).unwrap_or("").to_string();
                        let inm = head
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("if-none-match")
                                    .then(|| value.trim().to_string())
                            })
                            .unwrap_or_default();
                        let page = pages.lock().unwrap().get(&path).cloned();
                        let response = match page {
                            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                            Some((_, _, etag)) if etag == inm => format!(
                                "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nCache-Control: {cache_control}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            ),
                            Some((content_type, body, etag)) => format!(
                                "HTTP/1.1 200 OK\r\nETag: {etag}\r\nCache-Control: {cache_control}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            ),
                        };
                        let _ = stream.write_all(response.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            });
            PageServer {
                base,
                pages,
                requests,
            }
        }

        fn set(&self, path: &str, content_type: &str, body: String, etag: &str) {
            self.pages.lock().unwrap().insert(
                path.to_string(),
                (content_type.to_string(), body, etag.to_string()),
            );
        }

        fn requests(&self) -> usize {
            self.requests.load(std::sync::atomic::Ordering::SeqCst)
        }

        /// The JSON API index (`…/pypi/`).
        fn json_index(&self) -> IndexLocations {
            IndexLocations {
                index_url: Some(self.base.join("pypi/").unwrap()),
                ..IndexLocations::default()
            }
        }
    }

    /// A JSON API project page listing `files` (all of version `latest`'s files share its
    /// `info`, which requires `dep`).
    fn json_api_page(latest: &str, files: &[&str]) -> String {
        let entries: Vec<String> = files
            .iter()
            .map(|f| {
                format!(
                    r#"{{"filename": "{f}", "url": "/files/{f}", "digests": {{"sha256": "{}"}}}}"#,
                    "ab".repeat(32)
                )
            })
            .collect();
        format!(
            r#"{{"info": {{"version": "{latest}", "requires_dist": ["dep>=1"], "description": "{}"}},
                "releases": {{"any": [{}]}}}}"#,
            "long ".repeat(50),
            entries.join(", ")
        )
    }

    fn registry(
        dir: &Path,
        refresh: bool,
        filter: Option<(FileFilter, &str)>,
        locations: IndexLocations,
    ) -> RegistryClient {
        let http = HttpClient::new(crate::http::HttpOptions {
            cache_dir: Some(dir.to_path_buf()),
            refresh,
            retries: 0,
            ..Default::default()
        })
        .unwrap();
        let client = RegistryClient::new(http, locations);
        match filter {
            Some((keep, key)) => client.with_file_filter(keep, key),
            None => client,
        }
    }

    /// Replace the body of the cached response of `url` with garbage, keeping its header
    /// (and so its body id): only a digest can still answer.
    fn spoil_cached_body(dir: &Path, url: &Url, accept: Option<&str>) {
        let path = crate::http::cache::entry_path(dir, url, accept);
        let mut entry = crate::http::cache::read(&path).unwrap();
        entry.body = b"{ not a page".to_vec();
        crate::http::cache::write(&path, &entry).unwrap();
    }

    fn filenames(found: &[Candidate]) -> Vec<String> {
        let mut names: Vec<String> = found.iter().map(|c| c.filename.to_string()).collect();
        names.sort();
        names
    }

    fn no_windows() -> FileFilter {
        Arc::new(|filename: &str| !filename.contains("win_amd64"))
    }

    const FILES: [&str; 3] = [
        "demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        "demo-1.0-cp311-cp311-win_amd64.whl",
    ];

    #[tokio::test]
    async fn the_latest_sdist_without_requires_dist_needs_no_per_version_page() {
        // `info` describes the latest version and says `requires_dist: null` (metadata PyPI
        // did not extract): its per-version page would say the same, so it is not asked for
        // and the sdist is left to the build.
        let server = PageServer::start("max-age=900").await;
        server.set(
            "/pypi/demo/json",
            "application/json",
            r#"{"info": {"version": "1.0", "requires_dist": null},
                "releases": {"1.0": [{"filename": "demo-1.0.tar.gz", "url": "/files/demo-1.0.tar.gz"}]}}"#
                .to_string(),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let client = registry(dir.path(), false, None, server.json_index());
        let found = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(filenames(&found), ["demo-1.0.tar.gz"]);
        assert_eq!(client.metadata(&found[0]).await.unwrap(), None);
        assert_eq!(server.requests(), 1, "only the project page is asked for");
    }

    #[tokio::test]
    async fn fresh_pages_are_answered_from_their_digest_without_reading_the_body() {
        let server = PageServer::start("max-age=900").await;
        let page = server.base.join("pypi/demo/json").unwrap();
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("1.0", &FILES),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let client = registry(
            dir.path(),
            false,
            Some((no_windows(), "k")),
            server.json_index(),
        );
        let first = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(
            filenames(&first),
            ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
        );
        let dropped = client.dropped_files(&name("demo")).unwrap();
        assert_eq!(dropped.0, 1);

        // The body behind the entry is garbage now: parsing it would fail.
        spoil_cached_body(dir.path(), &page, None);
        let again = registry(
            dir.path(),
            false,
            Some((no_windows(), "k")),
            server.json_index(),
        );
        let second = again.candidates(&name("demo")).await.unwrap();
        assert_eq!(second, first);
        assert_eq!(again.dropped_files(&name("demo")), Some(dropped));
        assert_eq!(server.requests(), 1);
        // The latest version's `info` survives the digest: the sdist needs no request.
        let sdist = found_by_name(&second, "demo-1.0.tar.gz");
        let metadata = again.metadata(&sdist).await.unwrap().unwrap();
        assert_eq!(metadata.requires_dist.len(), 1);
        assert_eq!(server.requests(), 1);
    }

    #[tokio::test]
    async fn a_new_body_replaces_the_digest_and_a_304_keeps_it() {
        let server = PageServer::start("max-age=900").await;
        let page = server.base.join("pypi/demo/json").unwrap();
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("1.0", &FILES[..1]),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let first = registry(dir.path(), false, None, server.json_index())
            .candidates(&name("demo"))
            .await
            .unwrap();
        assert_eq!(filenames(&first), ["demo-1.0.tar.gz"]);

        // A changed page: the refresh gets a 200 with a new body, which is read.
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("2.0", &["demo-1.0.tar.gz", "demo-2.0.tar.gz"]),
            "\"v2\"",
        );
        let refreshed = registry(dir.path(), true, None, server.json_index())
            .candidates(&name("demo"))
            .await
            .unwrap();
        assert_eq!(
            filenames(&refreshed),
            ["demo-1.0.tar.gz", "demo-2.0.tar.gz"]
        );
        assert_eq!(server.requests(), 2);

        // A 304 keeps the body, so its digest stays good (the spoiled body is not read).
        spoil_cached_body(dir.path(), &page, None);
        let revalidated = registry(dir.path(), true, None, server.json_index())
            .candidates(&name("demo"))
            .await
            .unwrap();
        assert_eq!(revalidated, refreshed);
        assert_eq!(server.requests(), 3);
    }

    #[tokio::test]
    async fn listing_fingerprints_follow_the_cached_pages() {
        let server = PageServer::start("max-age=900").await;
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("1.0", &FILES),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let client = registry(dir.path(), false, None, server.json_index());
        let first = client.listing_fingerprint(&name("demo")).await.unwrap();
        assert_eq!(server.requests(), 1);
        // Fresh: the same token, no request, and no body read (it is garbage now).
        spoil_cached_body(
            dir.path(),
            &server.base.join("pypi/demo/json").unwrap(),
            None,
        );
        let again = registry(dir.path(), false, None, server.json_index());
        assert_eq!(
            again.listing_fingerprint(&name("demo")).await,
            Some(first.clone())
        );
        assert_eq!(server.requests(), 1);
        // Another filter, another token.
        let keep: FileFilter = Arc::new(|_: &str| true);
        let filtered = registry(dir.path(), false, Some((keep, "all")), server.json_index());
        let other = filtered.listing_fingerprint(&name("demo")).await.unwrap();
        assert_ne!(other, first);
        // A new body, a new token.
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("2.0", &FILES[..1]),
            "\"v2\"",
        );
        let refreshed = registry(dir.path(), true, None, server.json_index());
        let changed = refreshed.listing_fingerprint(&name("demo")).await.unwrap();
        assert_ne!(changed, first);
        // An unknown project has a stable token; find-links have none.
        let absent = client.listing_fingerprint(&name("absent")).await.unwrap();
        assert_eq!(
            client.listing_fingerprint(&name("absent")).await,
            Some(absent)
        );
        let locations = IndexLocations {
            find_links: vec![FindLinks::Path(dir.path().to_path_buf())],
            ..server.json_index()
        };
        let with_folder = registry(dir.path(), false, None, locations);
        assert_eq!(with_folder.listing_fingerprint(&name("demo")).await, None);
    }

    #[tokio::test]
    async fn garbage_digests_fall_back_to_parsing() {
        let server = PageServer::start("max-age=900").await;
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("1.0", &FILES),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let expected = registry(dir.path(), false, None, server.json_index())
            .candidates(&name("demo"))
            .await
            .unwrap();
        let digests = dir.path().join(page_digest::DIGEST_FOLDER);
        let files: Vec<PathBuf> = std::fs::read_dir(&digests)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let good = std::fs::read(&files[0]).unwrap();
        for garbage in [
            Vec::new(),
            b"garbage".to_vec(),
            good[..good.len() / 2].to_vec(),
            String::from_utf8(good.clone())
                .unwrap()
                .replace("\"format\":1", "\"format\":99")
                .into_bytes(),
        ] {
            std::fs::write(&files[0], &garbage).unwrap();
            let found = registry(dir.path(), false, None, server.json_index())
                .candidates(&name("demo"))
                .await
                .unwrap();
            assert_eq!(found, expected);
            // Parsed again and digested again.
            assert_eq!(std::fs::read(&files[0]).unwrap(), good);
        }
        assert_eq!(server.requests(), 1);
    }

    #[tokio::test]
    async fn another_filter_key_does_not_reuse_a_digest() {
        let server = PageServer::start("max-age=900").await;
        server.set(
            "/pypi/demo/json",
            "application/json",
            json_api_page("1.0", &FILES),
            "\"v1\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let keep_all: FileFilter = Arc::new(|_: &str| true);
        let sdists: FileFilter = Arc::new(|f: &str| !f.ends_with(".whl"));
        let all = registry(
            dir.path(),
            false,
            Some((keep_all, "all")),
            server.json_index(),
        );
        assert_eq!(all.candidates(&name("demo")).await.unwrap().len(), 3);
        assert!(all.dropped_files(&name("demo")).is_none());

        let only_sdists = registry(
            dir.path(),
            false,
            Some((sdists.clone(), "sdists")),
            server.json_index(),
        );
        let found = only_sdists.candidates(&name("demo")).await.unwrap();
        assert_eq!(filenames(&found), ["demo-1.0.tar.gz"]);
        assert_eq!(only_sdists.dropped_files(&name("demo")).unwrap().0, 2);
        let unfiltered = registry(dir.path(), false, None, server.json_index());
        assert_eq!(unfiltered.candidates(&name("demo")).await.unwrap().len(), 3);
        assert_eq!(
            std::fs::read_dir(dir.path().join(page_digest::DIGEST_FOLDER))
                .unwrap()
                .count(),
            3
        );
        assert_eq!(server.requests(), 1);
    }

    #[tokio::test]
    async fn simple_pages_html_and_json_are_digested() {
        let server = PageServer::start("max-age=900").await;
        let html: String = FILES
            .iter()
            .map(|f| format!("<a href=\"../../files/{f}#sha256={}\" data-requires-python=\"&gt;=3.8\">{f}</a>\n", "cd".repeat(32)))
            .collect();
        server.set("/simple/demo/", "text/html", html, "\"h\"");
        let json = r#"{"meta": {"api-version": "1.1"}, "name": "other", "files": [{"filename": "other-1.0.tar.gz", "url": "/files/other-1.0.tar.gz", "hashes": {}, "core-metadata": true}]}"#
            .to_string();
        server.set(
            "/simple/other/",
            "application/vnd.pypi.simple.v1+json",
            json,
            "\"j\"",
        );
        let locations = IndexLocations {
            index_url: Some(server.base.join("simple/").unwrap()),
            ..IndexLocations::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let client = registry(
            dir.path(),
            false,
            Some((no_windows(), "k")),
            locations.clone(),
        );
        let demo = client.candidates(&name("demo")).await.unwrap();
        let other = client.candidates(&name("other")).await.unwrap();
        assert_eq!(demo.len(), 2);
        assert!(
            demo.iter()
                .all(|c| c.requires_python.is_some() && c.sha256.is_some())
        );
        assert_eq!(other.len(), 1);
        for path in ["simple/demo/", "simple/other/"] {
            spoil_cached_body(
                dir.path(),
                &server.base.join(path).unwrap(),
                Some(SIMPLE_ACCEPT),
            );
        }
        let again = registry(dir.path(), false, Some((no_windows(), "k")), locations);
        assert_eq!(again.candidates(&name("demo")).await.unwrap(), demo);
        assert_eq!(again.candidates(&name("other")).await.unwrap(), other);
        assert_eq!(again.dropped_files(&name("demo")).unwrap().0, 1);
        // PEP 658 availability survives the digest.
        assert_eq!(again.hint(&other[0]).core_metadata, CoreMetadata::Available);
        assert_eq!(server.requests(), 2);
    }
}
