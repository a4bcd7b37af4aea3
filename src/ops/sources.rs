//! Git and single-file plugin sources turned into what `install` takes: a [`LocalWheel`]
//! (a git checkout built into a wheel; an editable checkout's wheel pointing at
//! `<venv>/src/<name>`; a `.py` file wrapped into a wheel) or a `.yml` file for the plugins
//! root. Everything is fetched, checked and built before the environment is touched; the
//! editable checkout and the `.yml` file are written only after the install succeeded
//! ([`install_set`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use crate::build::single_file::{self, PluginText, SingleFileError};
use crate::build::{self, BuildError};
use crate::dist::{DirectUrl, Metadata, PackageName, Version, sha256_hex};
use crate::environment::EnvLock;
use crate::http::{GetOptions, HttpError, Netrc};
use crate::install::receipt::{PluginRecord, Receipt};
use crate::ops::error::OpsError;
use crate::ops::fetch::{Fetcher, SharedError};
use crate::ops::install::{Change, Changelog, InstallOptions, LocalWheel, PluginOrigin, Target};
use crate::ops::workspace::Workspace;
use crate::ops::{ProgressKind, Reporter};
use crate::registry::RegistryClient;
use crate::source::git::{FetchedCommit, GitCache, GitError, GitHttpOptions, display_url};
use crate::source::{FileLocation, GitSource, SingleFileKind, SingleFileSource};

/// Receipt key (in a plugin record's unknown keys) of a plugins-root file plonk placed.
pub const RECORD_FILE_KEY: &str = "file";
/// Receipt key of an editable checkout plonk created under `<venv>/src/`.
pub const RECORD_CHECKOUT_KEY: &str = "checkout";

/// A git or single-file source that could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    /// Fetching or checking out failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The file is not a plugin, or its wheel could not be written.
    #[error(transparent)]
    File(#[from] SingleFileError),
    /// The checkout is not a Python project.
    #[error(
        "{url}@{reference} has no pyproject.toml or setup.py{at}, so it is not a Python project plonk can install"
    )]
    NotAProject {
        /// The repository.
        url: String,
        /// The ref.
        reference: String,
        /// ` in `sub/dir`` for a subdirectory.
        at: String,
    },
    /// `#egg=NAME` (or `NAME @`) names another distribution than the project builds.
    #[error("{url} builds the distribution `{found}`, not `{expected}` as its source says")]
    WrongName {
        /// The repository.
        url: String,
        /// The name the source gives.
        expected: String,
        /// The name the build gave.
        found: String,
    },
    /// The build failed.
    #[error("cannot build {what}")]
    Build {
        /// What was built.
        what: String,
        /// The cause.
        #[source]
        source: SharedError,
    },
    /// The built wheel's metadata is unreadable.
    #[error("cannot read the metadata of {}", path.display())]
    Metadata {
        /// The wheel.
        path: PathBuf,
        /// The cause.
        #[source]
        source: BuildError,
    },
    /// The single file could not be downloaded.
    #[error("cannot download the plugin file {what}")]
    Download {
        /// The URL (credentials hidden).
        what: String,
        /// The cause.
        #[source]
        source: HttpError,
    },
    /// The single file could not be read.
    #[error("cannot read the plugin file {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The `.py` file does not compile.
    #[error("{what} is not valid Python ({detail})")]
    NotPython {
        /// The file.
        what: String,
        /// The compiler's complaint.
        detail: String,
    },
    /// The `.yml` file is not a Tutor YAML plugin.
    #[error("{what} is not a Tutor YAML plugin: {detail}")]
    NotYamlPlugin {
        /// The file.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// The target interpreter could not be run to check the file.
    #[error("cannot run {} to check {what}", python.display())]
    Check {
        /// The file.
        what: String,
        /// The interpreter.
        python: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file operation in the cache or the plugins root.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What plonk was doing.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A worker thread died.
    #[error("a worker thread failed: {0}")]
    Join(String),
}

/// What plonk recorded about an installed source, to skip work when nothing moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledSource {
    /// The commit of a git source.
    pub commit: Option<String>,
    /// The sha256 of a single file.
    pub sha256: Option<String>,
    /// The installed distribution (and version), if it is still there.
    pub dist: Option<(PackageName, Version)>,
}

/// A prepared source.
#[derive(Debug)]
pub enum Prepared {
    /// The source has not moved since it was installed.
    Unchanged {
        /// The commit or sha256 it is still at.
        id: String,
    },
    /// A wheel to install, with the editable checkout to write after the install.
    Wheel {
        /// The wheel (boxed: it carries the whole metadata).
        wheel: Box<LocalWheel>,
        /// For an editable git source.
        checkout: Option<PendingCheckout>,
        /// The plugin names of its `tutor.plugin.v1`/`v0` entry points.
        plugins: Vec<String>,
    },
    /// A `.yml` plugin for the plugins root.
    File(PluginFilePlan),
}

/// An editable checkout to create or move once the install succeeded.
#[derive(Debug, Clone)]
pub struct PendingCheckout {
    fetched: FetchedCommit,
    /// Where it goes (`<venv>/src/<name>`).
    pub dest: PathBuf,
    previous: Option<String>,
    /// The distribution checked out.
    pub dist: PackageName,
}

/// A `.yml` plugin to write into the plugins root, tracked in the receipt.
#[derive(Debug, Clone)]
pub struct PluginFilePlan {
    /// The plugin name (the file's `name` key).
    pub plugin: String,
    /// File name in the plugins root.
    pub file_name: String,
    /// The content.
    pub text: String,
    /// sha256 of the content.
    pub sha256: String,
    /// The file's `version` key, if any.
    pub version: Option<String>,
    /// Where it came from (for the receipt).
    pub origin: PluginOrigin,
}

/// What an install does besides installing wheels: editable checkouts and plugins-root files.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Editable checkouts to write after the install.
    pub checkouts: Vec<PendingCheckout>,
    /// `.yml` plugins to place.
    pub files: Vec<PluginFilePlan>,
}

impl Extras {
    /// Whether there is nothing besides the wheels.
    pub fn is_empty(&self) -> bool {
        self.checkouts.is_empty() && self.files.is_empty()
    }

    /// Adds another set.
    pub fn extend(&mut self, other: Extras) {
        self.checkouts.extend(other.checkouts);
        self.files.extend(other.files);
    }
}

/// Fetches and builds git and single-file sources for one environment.
pub struct Sources {
    ws: Workspace,
    fetcher: Arc<Fetcher>,
    git: GitCache,
    reporter: Arc<dyn Reporter>,
}

impl Sources {
    /// Sources for the workspace's environment.
    pub fn new(ws: &Workspace, reporter: Arc<dyn Reporter>) -> Result<Self, OpsError> {
        let fetcher = Fetcher::new(
            tokio::runtime::Handle::current(),
            RegistryClient::new(ws.http.clone(), ws.locations.clone()),
            Default::default(),
            ws.cache.clone(),
            ws.env.interpreter.clone(),
            Arc::clone(&reporter),
        );
        let options = ws.http.options();
        let netrc = match &options.netrc {
            Some(path) => Netrc::from_file(path).unwrap_or_default(),
            None => Netrc::default(),
        };
        let git = GitCache::new(
            &ws.cache,
            GitHttpOptions {
                handle: tokio::runtime::Handle::current(),
                timeout: options.timeout,
                connect_timeout: options.connect_timeout,
                user_agent: options.user_agent.clone(),
                offline: options.offline,
                netrc,
            },
        )
        .map_err(|e| OpsError::Other {
            message: "cannot set up git".to_string(),
            source: Box::new(e),
        })?;
        Ok(Sources {
            ws: ws.clone(),
            fetcher: Arc::new(fetcher),
            git,
            reporter,
        })
    }

    /// Fetches a git source, then builds it (non-editable) or prepares its editable wheel.
    /// With `installed` at the same commit (and the distribution still there), nothing is
    /// built: [`Prepared::Unchanged`].
    pub async fn git(
        &self,
        source: &GitSource,
        installed: Option<&InstalledSource>,
    ) -> Result<Prepared, SourcesError> {
        let shown = display_url(&source.url);
        let reference = source.reference.clone();
        let progress = self.reporter.start(
            ProgressKind::Download,
            &format!("{shown}@{}", reference.as_deref().unwrap_or("HEAD")),
            None,
        );
        let fetched = {
            let git = self.git.clone();
            let url = source.url.clone();
            let reference = reference.clone();
            tokio::task::spawn_blocking(move || git.fetch(&url, reference.as_deref()))
                .await
                .map_err(|e| SourcesError::Join(e.to_string()))
        };
        self.reporter.finish(progress);
        let fetched = fetched??;
        if let Some(installed) = installed
            && installed.dist.is_some()
            && installed.commit.as_deref() == Some(fetched.commit.as_str())
        {
            return Ok(Prepared::Unchanged {
                id: fetched.commit.clone(),
            });
        }
        let short = &fetched.commit[..fetched.commit.len().min(10)];
        let reference_shown = reference.clone().unwrap_or_else(|| "HEAD".to_string());

        // A plain checkout to build from (also the content an editable checkout gets).
        let work = self
            .ws
            .cache
            .tempdir_in(crate::cache::GIT_BUCKET)
            .map_err(|e| SourcesError::Io {
                action: "create a checkout folder in",
                path: self.ws.cache.bucket(crate::cache::GIT_BUCKET),
                source: std::io::Error::other(e),
            })?;
        let checkout = work.path().join("checkout");
        {
            let git = self.git.clone();
            let fetched = fetched.clone();
            let dest = checkout.clone();
            tokio::task::spawn_blocking(move || git.export(&fetched, &dest))
                .await
                .map_err(|e| SourcesError::Join(e.to_string()))??;
        }
        let project = match &source.subdirectory {
            Some(sub) => checkout.join(sub),
            None => checkout.clone(),
        };
        if !project.join("pyproject.toml").is_file() && !project.join("setup.py").is_file() {
            return Err(SourcesError::NotAProject {
                url: shown,
                reference: reference_shown,
                at: source
                    .subdirectory
                    .as_ref()
                    .map(|s| format!(" in `{s}`"))
                    .unwrap_or_default(),
            });
        }
        let label = format!(
            "{} @ {shown}@{short}",
            source
                .name
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "git".to_string())
        );
        let key = crate::cache::cache_key(&[
            b"git",
            fetched.commit.as_bytes(),
            source.subdirectory.as_deref().unwrap_or("").as_bytes(),
        ]);
        let built = self
            .fetcher
            .build_dir(&label, Some(&key), &project)
            .await
            .map_err(|e| SourcesError::Build {
                what: format!("{shown}@{reference_shown} (commit {short})"),
                source: SharedError(e),
            })?;
        let metadata = read_metadata(built.clone()).await?;
        if let Some(expected) = &source.name
            && expected != &metadata.name
        {
            return Err(SourcesError::WrongName {
                url: shown,
                expected: expected.to_string(),
                found: metadata.name.to_string(),
            });
        }
        let plugins = wheel_plugin_names(&built);

        if !source.editable {
            let mut direct_url = DirectUrl::vcs(
                fetched.url.to_string(),
                "git",
                fetched.commit.clone(),
                reference.clone(),
            );
            direct_url.subdirectory = source.subdirectory.clone();
            return Ok(Prepared::Wheel {
                wheel: Box::new(LocalWheel {
                    path: built,
                    metadata,
                    direct_url: Some(direct_url),
                    sha256: None,
                    commit: Some(fetched.commit.clone()),
                }),
                checkout: None,
                plugins,
            });
        }

        // Editable: the wheel points at `<venv>/src/<name>`, written after the install.
        let dest = self.ws.env.root.join("src").join(metadata.name.as_ref());
        let install_dir = match &source.subdirectory {
            Some(sub) => dest.join(sub),
            None => dest.clone(),
        };
        let previous = installed.and_then(|i| i.commit.clone());
        {
            let git = self.git.clone();
            let fetched = fetched.clone();
            let dest = dest.clone();
            let previous = previous.clone();
            tokio::task::spawn_blocking(move || {
                git.check_working_copy(&fetched, &dest, previous.as_deref())
            })
            .await
            .map_err(|e| SourcesError::Join(e.to_string()))??;
        }
        let out_dir = self
            .ws
            .cache
            .bucket(crate::cache::BUILT_BUCKET)
            .join("editable")
            .join(crate::cache::cache_key(&[
                key.as_bytes(),
                install_dir.to_string_lossy().as_bytes(),
            ]));
        let editable = {
            let built = built.clone();
            let project = project.clone();
            let install_dir = install_dir.clone();
            tokio::task::spawn_blocking(move || {
                single_file::editable_wheel(&built, &project, &install_dir, &out_dir)
            })
            .await
            .map_err(|e| SourcesError::Join(e.to_string()))??
        };
        let url = Url::from_directory_path(&install_dir)
            .map(|u| u.to_string().trim_end_matches('/').to_string())
            .unwrap_or_else(|_| format!("file://{}", install_dir.display()));
        Ok(Prepared::Wheel {
            wheel: Box::new(LocalWheel {
                path: editable.path,
                metadata: metadata.clone(),
                direct_url: Some(DirectUrl::dir(url, true)),
                sha256: None,
                commit: Some(fetched.commit.clone()),
            }),
            checkout: Some(PendingCheckout {
                fetched,
                dest,
                previous,
                dist: metadata.name.clone(),
            }),
            plugins,
        })
    }

    /// Fetches a single-file plugin and checks it: a `.py` is wrapped into a wheel, a `.yml`
    /// becomes a [`PluginFilePlan`]. With `installed` at the same sha256, nothing is built.
    pub async fn single_file(
        &self,
        source: &SingleFileSource,
        installed: Option<&InstalledSource>,
        origin: PluginOrigin,
    ) -> Result<Prepared, SourcesError> {
        let what = redact_target(&source.location.to_string());
        let (bytes, content_type, url) = match &source.location {
            FileLocation::Url(url) => {
                let progress = self.reporter.start(ProgressKind::Download, &what, None);
                let options = GetOptions {
                    max_size: Some(single_file::MAX_PLUGIN_FILE),
                    ..GetOptions::default()
                };
                let response = self.ws.http.get(url, &options).await;
                self.reporter.finish(progress);
                let response = response.map_err(|source| SourcesError::Download {
                    what: what.clone(),
                    source,
                })?;
                let content_type = response
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let mut public = url.clone();
                let _ = public.set_password(None);
                let _ = public.set_username("");
                (response.body, content_type, public.to_string())
            }
            FileLocation::Path(path) => {
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let bytes = tokio::fs::read(&abs)
                    .await
                    .map_err(|source| SourcesError::Read {
                        path: abs.clone(),
                        source,
                    })?;
                let url = Url::from_file_path(&abs)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| abs.display().to_string());
                (bytes, None, url)
            }
        };
        let kind = match source.kind {
            SingleFileKind::Python => PluginText::Python,
            SingleFileKind::Yaml => PluginText::Yaml,
        };
        let text = single_file::check_plugin_text(&bytes, kind, content_type.as_deref(), &what)?;
        let sha256 = sha256_hex(text.as_bytes());
        if let Some(installed) = installed
            && installed.sha256.as_deref() == Some(sha256.as_str())
            && (installed.dist.is_some() || source.kind == SingleFileKind::Yaml)
        {
            return Ok(Prepared::Unchanged { id: sha256 });
        }
        match source.kind {
            SingleFileKind::Yaml => {
                let (plugin, version) = check_yaml_plugin(&text, &what)?;
                let stem = source
                    .base_name()
                    .trim_end_matches(".yml")
                    .trim_end_matches(".yaml")
                    .to_string();
                let file_name = format!("{stem}.yml");
                single_file::plugin_distribution_name(&stem)?;
                Ok(Prepared::File(PluginFilePlan {
                    plugin,
                    file_name,
                    text,
                    sha256,
                    version,
                    origin,
                }))
            }
            SingleFileKind::Python => {
                let plugin = source.plugin_name();
                self.check_python(&text, &what).await?;
                let out_dir = self
                    .ws
                    .cache
                    .bucket(crate::cache::BUILT_BUCKET)
                    .join("single-file")
                    .join(&sha256);
                let written = {
                    let plugin = plugin.clone();
                    let text = text.clone();
                    let sha256 = sha256.clone();
                    tokio::task::spawn_blocking(move || {
                        single_file::python_plugin_wheel(&plugin, &text, &sha256, &out_dir)
                    })
                    .await
                    .map_err(|e| SourcesError::Join(e.to_string()))??
                };
                Ok(Prepared::Wheel {
                    wheel: Box::new(LocalWheel {
                        path: written.path,
                        metadata: Metadata::new(written.name, written.version),
                        direct_url: Some(DirectUrl::archive(url, Some(&sha256))),
                        sha256: Some(sha256),
                        commit: None,
                    }),
                    checkout: None,
                    plugins: vec![plugin],
                })
            }
        }
    }

    /// Compiles `text` with the target interpreter (without running it).
    async fn check_python(&self, text: &str, what: &str) -> Result<(), SourcesError> {
        const CHECK: &str = "import sys\n\
            try:\n    compile(sys.stdin.buffer.read(), sys.argv[1], 'exec')\n\
            except SyntaxError as e:\n    print(f'line {e.lineno}: {e.msg}'); sys.exit(1)\n\
            except ValueError as e:\n    print(e); sys.exit(1)\n";
        let python = self.ws.env.interpreter.executable.clone();
        let check_err = |source| SourcesError::Check {
            what: what.to_string(),
            python: python.clone(),
            source,
        };
        let mut child = tokio::process::Command::new(&python)
            .args(["-I", "-c", CHECK, what])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(check_err)?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt;
            stdin.write_all(text.as_bytes()).await.map_err(check_err)?;
        }
        let out = child.wait_with_output().await.map_err(check_err)?;
        if out.status.success() {
            return Ok(());
        }
        let detail = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Err(SourcesError::NotPython {
            what: what.to_string(),
            detail: if detail.is_empty() {
                "it does not compile".to_string()
            } else {
                detail
            },
        })
    }
}

/// The plugin name (`name`) and `version` of a Tutor YAML plugin.
fn check_yaml_plugin(text: &str, what: &str) -> Result<(String, Option<String>), SourcesError> {
    let not_plugin = |detail: String| SourcesError::NotYamlPlugin {
        what: what.to_string(),
        detail,
    };
    let value = crate::tutor::yaml::parse(text)
        .map_err(|e| not_plugin(format!("it is not valid YAML ({e})")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(not_plugin("it is not a mapping".to_string()));
    };
    let Some(serde_json::Value::String(name)) = map.get("name") else {
        return Err(not_plugin(
            "it has no `name` key with a string value".to_string(),
        ));
    };
    if name.trim().is_empty() || name.contains(['/', '\\', '\n']) {
        return Err(not_plugin(format!("`{name}` is not a usable plugin name")));
    }
    let version = match map.get("version") {
        Some(serde_json::Value::String(v)) => Some(v.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok((name.clone(), version))
}

async fn read_metadata(wheel: PathBuf) -> Result<Metadata, SourcesError> {
    let path = wheel.clone();
    tokio::task::spawn_blocking(move || build::read_wheel_metadata(&path))
        .await
        .map_err(|e| SourcesError::Join(e.to_string()))?
        .map_err(|source| SourcesError::Metadata {
            path: wheel,
            source,
        })
}

/// The names of a wheel's Tutor plugin entry points (`tutor.plugin.v1`, then `v0`).
pub fn wheel_plugin_names(wheel: &Path) -> Vec<String> {
    let read = || -> Option<Vec<String>> {
        let file = std::fs::File::open(wheel).ok()?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
        let name = zip
            .file_names()
            .filter_map(Result::ok)
            .find(|n| {
                n.split_once('/')
                    .is_some_and(|(d, r)| d.ends_with(".dist-info") && r == "entry_points.txt")
            })?
            .into_owned();
        let mut bytes = Vec::new();
        zip.by_name(&name)
            .ok()?
            .take(1 << 20)
            .read_to_end(&mut bytes)
            .ok()?;
        let eps = crate::dist::EntryPoints::parse(&bytes).ok()?;
        Some(
            crate::ops::list::PLUGIN_GROUPS
                .iter()
                .flat_map(|g| eps.group(g).iter().map(|e| e.name.clone()))
                .collect(),
        )
    };
    read().unwrap_or_default()
}

/// The install target of a prepared wheel: `name==version`, fixed by the local wheel (a
/// URL requirement would print credentials in messages).
pub fn wheel_target(wheel: LocalWheel, plugin: Option<PluginOrigin>) -> Result<Target, OpsError> {
    let text = format!("{}=={}", wheel.metadata.name, wheel.metadata.version);
    let requirement = crate::dist::parse_requirement(&text).map_err(|e| OpsError::Other {
        message: format!("cannot install `{text}`"),
        source: Box::new(e),
    })?;
    Ok(Target {
        requirement,
        plugin,
        locations: None,
        local_wheel: Some(wheel),
    })
}

/// Text the user typed with every URL's credentials hidden (http(s) user names too: they
/// are often tokens).
pub fn redact_target(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let scheme = head[..pos]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '+'))
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let end = tail.find(['/', '?', '#', ' ']).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let hidden = match userinfo.split_once(':') {
                    Some((user, _)) if !scheme.ends_with("http") && !scheme.ends_with("https") => {
                        format!("{user}:****")
                    }
                    _ if scheme.ends_with("http") || scheme.ends_with("https") => {
                        "****".to_string()
                    }
                    _ => userinfo.to_string(),
                };
                out.push_str(&hidden);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Installs `opts` (through `ops::install`), then writes the editable checkouts and the
/// plugins-root files of `extras`. With `--dry-run`, only reports them.
pub async fn install_set(
    ws: &Workspace,
    opts: InstallOptions,
    extras: Extras,
    reporter: Arc<dyn Reporter>,
) -> Result<Changelog, OpsError> {
    let dry_run = opts.dry_run;
    let mut log = if opts.targets.is_empty() {
        Changelog {
            dry_run,
            ..Changelog::default()
        }
    } else {
        crate::ops::install::install(ws, opts, Arc::clone(&reporter)).await?
    };
    if dry_run {
        for file in &extras.files {
            log.changes.push(Change::Add {
                name: file.file_name.clone(),
                version: file_version(file),
            });
        }
        return Ok(log);
    }
    let more = apply_extras(ws, extras, reporter).await?;
    log.installed += more.len();
    log.changes.extend(more);
    Ok(log)
}

fn file_version(file: &PluginFilePlan) -> String {
    file.version
        .clone()
        .unwrap_or_else(|| single_file::plugin_version(&file.sha256).to_string())
}

/// Writes editable checkouts and plugins-root files under the environment lock, and records
/// them in the receipt. Returns the plugins-root changes.
pub async fn apply_extras(
    ws: &Workspace,
    extras: Extras,
    reporter: Arc<dyn Reporter>,
) -> Result<Vec<Change>, OpsError> {
    if extras.is_empty() {
        return Ok(Vec::new());
    }
    let ws = ws.clone();
    let git = if extras.checkouts.is_empty() {
        None
    } else {
        Some(Sources::new(&ws, Arc::clone(&reporter))?.git)
    };
    tokio::task::spawn_blocking(move || apply_extras_blocking(&ws, extras, git, reporter.as_ref()))
        .await
        .map_err(|e| OpsError::Join(e.to_string()))?
}

fn apply_extras_blocking(
    ws: &Workspace,
    extras: Extras,
    git: Option<GitCache>,
    reporter: &dyn Reporter,
) -> Result<Vec<Change>, OpsError> {
    let env = &ws.env;
    let _lock = EnvLock::acquire(&env.root, ws.lock_timeout, || {
        reporter.warn("waiting for another plonk process to finish with this environment")
    })?;
    let mut receipt = Receipt::load(&env.root)?;
    let mut changes = Vec::new();
    for checkout in &extras.checkouts {
        let Some(git) = &git else { break };
        let created = !checkout.dest.exists();
        git.working_copy(&checkout.fetched, &checkout.dest, checkout.previous.as_deref())
            .map_err(|e| OpsError::Other {
                message: format!(
                    "`{}` was installed, but its editable checkout could not be written; run the command again",
                    checkout.dist
                ),
                source: Box::new(e),
            })?;
        // The commit is what `upgrade` compares; install() recorded it only if it
        // replaced the distribution.
        for record in receipt.plugins.values_mut() {
            if record.distribution == checkout.dist.as_ref() {
                record.commit = Some(checkout.fetched.commit.clone());
                if created {
                    record.extra.insert(
                        RECORD_CHECKOUT_KEY.to_string(),
                        serde_json::Value::String(checkout.dest.display().to_string()),
                    );
                }
            }
        }
    }
    for file in &extras.files {
        let path = ws.plugins_root.join(&file.file_name);
        crate::cache::write_atomic(&path, file.text.as_bytes()).map_err(|e| OpsError::Other {
            message: format!(
                "cannot write the plugin `{}` into the plugins root {}",
                file.plugin,
                ws.plugins_root.display()
            ),
            source: Box::new(e),
        })?;
        let mut extra = BTreeMap::new();
        extra.insert(
            RECORD_FILE_KEY.to_string(),
            serde_json::Value::String(path.display().to_string()),
        );
        receipt.plugins.insert(
            file.plugin.clone(),
            PluginRecord {
                distribution: String::new(),
                index: file.origin.index.clone(),
                src: file.origin.src.clone(),
                sha256: Some(file.sha256.clone()),
                commit: None,
                extra,
            },
        );
        changes.push(Change::Add {
            name: file.file_name.clone(),
            version: file_version(file),
        });
    }
    receipt.save(&env.root)?;
    Ok(changes)
}

/// An error of this module with the user's intent on top.
pub fn failed(what: &str, err: SourcesError) -> OpsError {
    OpsError::Other {
        message: format!("cannot install `{}`", redact_target(what)),
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_credentials_are_hidden() {
        let rows = [
            (
                "git+https://tok3n@github.com/o/r@v1#egg=r",
                "git+https://****@github.com/o/r@v1#egg=r",
            ),
            ("https://user:pa55@h/x.py", "https://****@h/x.py"),
            (
                "git+ssh://git@github.com/o/r",
                "git+ssh://git@github.com/o/r",
            ),
            ("ftp://u:p@h/x", "ftp://u:****@h/x"),
            ("name @ git+https://a:b@h/r", "name @ git+https://****@h/r"),
            ("plain-name", "plain-name"),
            ("", ""),
            ("://", "://"),
        ];
        for (input, expected) in rows {
            assert_eq!(redact_target(input), expected, "{input}");
        }
    }

    #[test]
    fn yaml_plugins_rows() {
        assert_eq!(
            check_yaml_plugin("name: theme\nversion: 0.1.0\n", "f").unwrap(),
            ("theme".to_string(), Some("0.1.0".to_string()))
        );
        assert_eq!(
            check_yaml_plugin("name: x\nversion: 2\n", "f").unwrap().1,
            Some("2".to_string())
        );
        for (bad, expected) in [
            ("- a\n- b\n", "not a mapping"),
            ("version: 1\n", "no `name`"),
            ("name: [\n", "not valid YAML"),
            ("name: ../../etc\n", "not a usable plugin name"),
            ("name: 3\n", "no `name`"),
        ] {
            let err = check_yaml_plugin(bad, "https://h/p.yml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{bad:?}: {err}");
        }
    }
}
