//! Direct references (`name @ https://…/x.whl`, `name @ file:///…`, local paths): fetched or
//! built into a [`LocalWheel`] before resolution, so the resolver sees one fixed version and
//! the installer writes `direct_url.json` (PEP 610).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use crate::build;
use crate::dist::{DirectUrl, DistFilename, PackageName};
use crate::ops::error::OpsError;
use crate::ops::fetch::{Fetcher, SharedError};
use crate::ops::install::LocalWheel;
use crate::registry::Candidate;

/// Fetches or builds the wheel a direct reference points at.
pub async fn wheel_for_url(
    fetcher: &Arc<Fetcher>,
    name: &PackageName,
    url: &Url,
) -> Result<LocalWheel, OpsError> {
    let label = format!("{name} @ {}", crate::http::RedactedUrl::new(url));
    let fetch_err = |source| OpsError::Fetch {
        package: label.clone(),
        source: SharedError(source),
    };
    match url.scheme() {
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|_| OpsError::Usage(format!("`{label}` is not a usable local path")))?;
            wheel_for_path(fetcher, name, &path, Some(url)).await
        }
        "http" | "https" => {
            let filename = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_string();
            let parsed = DistFilename::parse(&filename, Some(name)).map_err(|e| {
                OpsError::Usage(format!(
                    "`{label}` does not point at a wheel or sdist file ({e})"
                ))
            })?;
            let sha256 = url
                .fragment()
                .and_then(|f| f.strip_prefix("sha256="))
                .map(str::to_lowercase);
            let mut clean = url.clone();
            clean.set_fragment(None);
            let candidate = Candidate {
                name: name.clone(),
                version: parsed.version().clone(),
                filename: parsed.clone(),
                url: clean.clone(),
                sha256,
                requires_python: None,
                yanked: false,
                size: None,
                index: clean.clone(),
            };
            let file = fetcher
                .download(&candidate, "archives-v1")
                .await
                .map_err(fetch_err)?;
            let mut wheel = wheel_for_file(fetcher, name, &file, &parsed).await?;
            let mut public = clean;
            let _ = public.set_password(None);
            let _ = public.set_username("");
            wheel.direct_url = Some(DirectUrl::archive(
                public.to_string(),
                wheel.sha256.as_deref(),
            ));
            Ok(wheel)
        }
        other => Err(OpsError::Usage(format!(
            "`{label}`: plonk installs http(s) and file URLs here, not `{other}:`"
        ))),
    }
}

/// Builds or reads the wheel of a local path: a project folder, a wheel or an sdist.
pub async fn wheel_for_path(
    fetcher: &Arc<Fetcher>,
    name: &PackageName,
    path: &Path,
    url: Option<&Url>,
) -> Result<LocalWheel, OpsError> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let url = match url {
        Some(u) => u.clone(),
        None => Url::from_file_path(&abs)
            .map_err(|_| OpsError::Usage(format!("{} is not a usable path", abs.display())))?,
    };
    let label = format!("{name} @ {}", abs.display());
    if abs.is_dir() {
        let wheel_path = fetcher
            .build_dir(&label, None, &abs)
            .await
            .map_err(|source| OpsError::Fetch {
                package: label.clone(),
                source: SharedError(source),
            })?;
        let mut wheel = read_local(wheel_path).await?;
        wheel.direct_url = Some(DirectUrl::dir(url.to_string(), false));
        return Ok(wheel);
    }
    let filename = abs
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = DistFilename::parse(&filename, Some(name)).map_err(|e| {
        OpsError::Usage(format!(
            "{} is not a project folder, wheel or sdist ({e})",
            abs.display()
        ))
    })?;
    let mut wheel = wheel_for_file(fetcher, name, &abs, &parsed).await?;
    wheel.direct_url = Some(DirectUrl::archive(url.to_string(), wheel.sha256.as_deref()));
    Ok(wheel)
}

async fn wheel_for_file(
    fetcher: &Arc<Fetcher>,
    name: &PackageName,
    file: &Path,
    parsed: &DistFilename,
) -> Result<LocalWheel, OpsError> {
    let sha256 = file_sha256(file.to_path_buf()).await?;
    let wheel_path = match parsed {
        DistFilename::Wheel(_) => file.to_path_buf(),
        DistFilename::Sdist(s) => {
            fetcher
                .build_sdist(name, &s.version, file)
                .await
                .map_err(|source| OpsError::Fetch {
                    package: format!("{name}=={}", s.version),
                    source: SharedError(source),
                })?
        }
    };
    let mut wheel = read_local(wheel_path).await?;
    wheel.sha256 = Some(sha256);
    Ok(wheel)
}

async fn read_local(wheel: PathBuf) -> Result<LocalWheel, OpsError> {
    let path = wheel.clone();
    let metadata = tokio::task::spawn_blocking(move || build::read_wheel_metadata(&path))
        .await
        .map_err(|e| OpsError::Join(e.to_string()))?
        .map_err(|source| OpsError::Other {
            message: format!("cannot read the metadata of {}", wheel.display()),
            source: Box::new(source),
        })?;
    Ok(LocalWheel {
        path: wheel,
        metadata,
        direct_url: None,
        sha256: None,
        commit: None,
    })
}

/// sha256 of a file, on a worker thread.
pub async fn file_sha256(path: PathBuf) -> Result<String, OpsError> {
    let p = path.clone();
    tokio::task::spawn_blocking(move || std::fs::read(&p).map(|b| crate::dist::sha256_hex(&b)))
        .await
        .map_err(|e| OpsError::Join(e.to_string()))?
        .map_err(|source| OpsError::Other {
            message: format!("cannot read {}", path.display()),
            source: Box::new(source),
        })
}
