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
use super::remote_zip::{self, ZipReadError};
use super::{Candidate, RegistryError};
use crate::dist::{
    DistFilename, ExtraName, Metadata, PackageName, Version, VersionSpecifiers, sha256_hex,
};
use crate::http::{HttpClient, HttpError, RedactedUrl};

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
    /// The JSON API base (`…/pypi/`) when the file was listed by the JSON API.
    json_base: Option<Url>,
    /// Metadata the JSON API page already gave (its `info` describes the latest version).
    json_metadata: Option<Metadata>,
}

/// What one source said about a project: `None` when it does not know it.
type SourceAnswer = Result<Option<Vec<(Candidate, FileHint)>>, RegistryError>;

/// Talks to package indexes and find-links locations.
/// Which listed files a client keeps, by file name (see [`RegistryClient::with_file_filter`]).
pub type FileFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub struct RegistryClient {
    http: HttpClient,
    locations: IndexLocations,
    /// Files not kept are dropped while the page is read, before any URL or name parsing.
    filter: Option<FileFilter>,
    /// Per project: files the filter dropped, and one of their names.
    dropped: Mutex<HashMap<PackageName, (usize, String)>>,
    hints: Mutex<HashMap<Url, FileHint>>,
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
            dropped: Mutex::new(HashMap::new()),
            hints: Mutex::new(HashMap::new()),
            no_version_pages: Mutex::new(HashSet::new()),
        }
    }

    /// Keep only the files whose name `keep` accepts (e.g. wheels the target can install):
    /// projects list tens of thousands of wheels for other platforms, and reading them into
    /// candidates is most of what a warm resolution would cost.
    pub fn with_file_filter(mut self, keep: FileFilter) -> Self {
        self.filter = Some(keep);
        self
    }

    /// Whether the filter keeps `filename` (a file of `name`); a dropped file is counted, so
    /// a project whose every file was dropped can be told apart from an unknown one.
    fn keeps(&self, name: &PackageName, filename: &str) -> bool {
        let kept = self.filter.as_ref().is_none_or(|keep| keep(filename));
        if !kept {
            let mut dropped = self
                .dropped
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let entry = dropped
                .entry(name.clone())
                .or_insert_with(|| (0, filename.to_string()));
            entry.0 += 1;
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

        let mut found = false;
        let mut first_error = None;
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut hints = Vec::new();
        // Projects list thousands of files (a wheel per platform and release): a set keeps
        // the de-duplication linear.
        let mut seen: HashSet<Url> = HashSet::new();
        for answer in answers {
            match answer {
                Ok(Some(files)) => {
                    found = true;
                    for (candidate, hint) in files {
                        if seen.insert(candidate.url.clone()) {
                            hints.push((candidate.url.clone(), hint));
                            candidates.push(candidate);
                        }
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        if !found {
            return Err(first_error.unwrap_or_else(|| RegistryError::NotFound(name.clone())));
        }
        self.hints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(hints);
        Ok(candidates)
    }

    async fn ask_index(&self, api: IndexApi, name: &PackageName) -> SourceAnswer {
        let index = api.index_url().clone();
        let (page, json_base) = match &api {
            IndexApi::Json { base, .. } => (join(base, &format!("{name}/json")), Some(base)),
            IndexApi::Simple { base } => (join(base, &format!("{name}/")), None),
        };
        let page = page.ok_or_else(|| RegistryError::NotFound(name.clone()))?;
        let accept = json_base.is_none().then_some(SIMPLE_ACCEPT);
        // Project pages go through the HTTP cache: fresh ones cost no request at all.
        let response = match self.http.get_cached(&page, accept).await {
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
        let parse_error = |source| RegistryError::Parse {
            name: name.clone(),
            url: RedactedUrl::new(&response.url),
            source,
        };
        if json_base.is_some() {
            let keep = |filename: &str| self.keeps(name, filename);
            let page = parse_json_page(&response.body, &response.url, JsonFormat::PypiApi, &keep)
                .map_err(parse_error)?;
            let mut files = to_candidates(page.links, name, &index, json_base);
            // `info` is the latest version's metadata: those files need no further request.
            let info = page.info.as_ref();
            let latest = info
                .and_then(|info| info.get("version"))
                .and_then(Value::as_str)
                .and_then(|v| Version::from_str(v).ok());
            for (candidate, hint) in &mut files {
                if latest.as_ref() == Some(&candidate.version) {
                    hint.json_metadata = metadata_from_json_info(info, candidate).ok().flatten();
                }
            }
            return Ok(Some(files));
        }
        let mut links = if is_json(response.content_type.as_deref(), &response.body) {
            let keep = |filename: &str| self.keeps(name, filename);
            parse_json_page(&response.body, &response.url, JsonFormat::Simple, &keep)
                .map_err(parse_error)?
                .links
        } else {
            links::parse_html(&String::from_utf8_lossy(&response.body), &response.url)
        };
        links.retain(|link| self.keeps(name, &link.filename));
        Ok(Some(to_candidates(links, name, &index, None)))
    }

    async fn ask_find_links(&self, find_links: &FindLinks, name: &PackageName) -> SourceAnswer {
        let files = match find_links {
            FindLinks::Url(url) => {
                let response = self.http.get_cached(url, None).await.map_err(|source| {
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
                let mut links =
                    links::parse_html(&String::from_utf8_lossy(&response.body), &response.url);
                links.retain(|link| self.keeps(name, &link.filename));
                to_candidates(links, name, url, None)
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
        Ok((!files.is_empty()).then_some(files))
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
            .get(&candidate.url)
            .cloned();
        known.unwrap_or_else(|| FileHint {
            filename: saved_name(candidate),
            core_metadata: CoreMetadata::Absent,
            json_base: match IndexApi::for_url(&candidate.index) {
                IndexApi::Json { base, .. } if candidate.url.scheme() != "file" => Some(base),
                _ => None,
            },
            json_metadata: None,
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
            && let Some(metadata) = hint.json_metadata.clone()
        {
            return Ok(Some(metadata));
        }

        // PEP 658 first: one request for the exact file, hash-checked.
        if hint.core_metadata != CoreMetadata::Absent
            && let Some(metadata) = self.pep658_metadata(candidate, &hint, &package).await?
        {
            return Ok(Some(metadata));
        }

        if wheel.is_none()
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
                    self.lock_no_version_pages().insert(base.clone());
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
    json_base: Option<&Url>,
) -> Vec<(Candidate, FileHint)> {
    links
        .into_iter()
        .filter_map(|link| {
            if !links::is_safe_filename(&link.filename) {
                return None;
            }
            let filename = DistFilename::parse(&link.filename, Some(name)).ok()?;
            if filename.name() != name {
                return None;
            }
            let requires_python = link
                .requires_python
                .as_deref()
                .and_then(|spec| VersionSpecifiers::from_str(spec).ok());
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
            };
            Some((candidate, hint))
        })
        .collect()
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
        let names: Vec<String> = found.iter().map(|(c, _)| c.filename.to_string()).collect();
        assert_eq!(
            names,
            [
                "demo-1.0.tar.gz",
                "demo-2.0-py3-none-any.whl",
                "demo-3.0.zip"
            ]
        );
        assert_eq!(found[0].0.requires_python, None);
        assert_eq!(
            found[1].0.requires_python,
            Some(VersionSpecifiers::from_str(">=3.8").unwrap())
        );
        assert_eq!(found[1].0.version.to_string(), "2.0");
    }

    #[test]
    fn json_info_rows() {
        let index = Url::parse("https://h/pypi/").unwrap();
        let (candidate, _) = to_candidates(
            vec![link("demo-1.0-py3-none-any.whl")],
            &name("demo"),
            &index,
            None,
        )
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
        let (mut candidate, _) =
            to_candidates(vec![link("Demo-1.0.tar.gz")], &name("demo"), &index, None).remove(0);
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
        let client = RegistryClient::new(http, locations).with_file_filter(keep);
        let found = client.candidates(&name("demo")).await.unwrap();
        assert_eq!(found.len(), 1);
        let (count, example) = client.dropped_files(&name("demo")).unwrap();
        assert_eq!(count, 2);
        assert!(example.ends_with("win_amd64.whl"), "{example}");
        assert!(client.dropped_files(&name("other")).is_none());
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
}
