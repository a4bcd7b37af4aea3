//! Git sources through libgit2 (`git2`): a cache of bare repositories by URL
//! (`<cache>/git-v1/<hash of the URL>`), refs resolved against what the remote advertises so a
//! second install fetches only what is new (or nothing), shallow fetches where the transport
//! allows them, plain checkouts for builds, and working copies for editable installs.
//!
//! `http://` and `https://` go through a smart-HTTP transport of plonk's own (reqwest with
//! rustls), so git traffic uses the same TLS roots, proxy settings, credentials (URL userinfo,
//! netrc) and offline switch as every other download; libgit2 only speaks the git protocol.
//! Credentials are taken from the URL for the request and never written to disk or shown:
//! every URL in a message goes through [`display_url`].
//!
//! Everything here blocks: async callers use `spawn_blocking`.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use git2::build::CheckoutBuilder;
use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use git2::{AutotagOption, Direction, FetchOptions, ObjectType, Oid, Repository};
use url::Url;

use crate::cache::{Cache, GIT_BUCKET, cache_key};
use crate::http::{Netrc, percent_decode};

/// The longest HTTP body (a pack) plonk accepts from a git server.
const MAX_PACK_BYTES: u64 = 2 << 30;

/// A git operation that failed. Every URL is shown without credentials.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A scheme plonk has no transport for (`ssh://`, `git@host:path`).
    #[error(
        "plonk cannot fetch the git repository {url}: only https, http, git and file URLs (and local paths) are supported"
    )]
    UnsupportedScheme {
        /// The repository.
        url: String,
    },
    /// The repository does not exist or cannot be listed.
    #[error("the git repository {url} does not exist or cannot be read")]
    NotFound {
        /// The repository.
        url: String,
        /// libgit2's or the server's explanation.
        #[source]
        source: GitCause,
    },
    /// Fetching objects failed.
    #[error("cannot fetch {what} from the git repository {url}")]
    Fetch {
        /// The repository.
        url: String,
        /// The ref or commit being fetched.
        what: String,
        /// The explanation.
        #[source]
        source: GitCause,
    },
    /// The ref is not a branch, tag or commit of the repository.
    #[error("`{reference}` is not a branch, tag or commit of the git repository {url}")]
    RefNotFound {
        /// The repository.
        url: String,
        /// The ref asked for.
        reference: String,
    },
    /// No `@REF` and the remote has no HEAD.
    #[error(
        "the git repository {url} has no default branch; name a branch, tag or commit with `@REF`"
    )]
    NoHead {
        /// The repository.
        url: String,
    },
    /// `--offline` and the cache cannot answer.
    #[error(
        "the git repository {url} is not in plonk's cache at {what}, and plonk is offline (--offline)"
    )]
    Offline {
        /// The repository.
        url: String,
        /// The ref asked for.
        what: String,
    },
    /// The cache folder or a checkout folder could not be used.
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
    /// A libgit2 operation on a local repository failed.
    #[error("cannot {action} the git repository at {}", path.display())]
    Local {
        /// What plonk was doing.
        action: &'static str,
        /// The repository folder.
        path: PathBuf,
        /// libgit2's explanation.
        #[source]
        source: GitCause,
    },
    /// An editable checkout has uncommitted changes plonk would overwrite.
    #[error(
        "the checkout at {} has local changes; commit or discard them, or move the folder away",
        path.display()
    )]
    Dirty {
        /// The checkout.
        path: PathBuf,
    },
    /// An editable checkout belongs to another repository.
    #[error(
        "{} already exists and is not a checkout of {url}; move it away",
        path.display()
    )]
    Foreign {
        /// The checkout.
        path: PathBuf,
        /// The repository plonk would check out.
        url: String,
    },
    /// An editable checkout is at a commit plonk did not put there and cannot fast-forward.
    #[error(
        "the checkout at {} is at commit {head}, which {url}@{reference} does not build on; update it with git yourself or move it away",
        path.display()
    )]
    Diverged {
        /// The checkout.
        path: PathBuf,
        /// Its HEAD.
        head: String,
        /// The repository.
        url: String,
        /// The ref asked for.
        reference: String,
    },
}

/// libgit2's (or the HTTP transport's) message, with credentials removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCause(pub String);

impl std::fmt::Display for GitCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GitCause {}

impl GitCause {
    fn new(err: &git2::Error, url: &Url) -> Self {
        GitCause(scrub(err.message(), url))
    }
}

/// `url` with the password, and the user name of http(s) URLs (often a token), replaced by
/// `****`. The only way a git URL reaches a message.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("****"));
    }
    if matches!(url.scheme(), "http" | "https") && !url.username().is_empty() {
        let _ = shown.set_username("****");
    }
    shown.to_string()
}

/// `url` without user name and password: what is written to disk and keys the cache.
pub fn public_url(url: &Url) -> Url {
    let mut public = url.clone();
    let _ = public.set_password(None);
    let _ = public.set_username("");
    public
}

/// Removes the credentials of `url` from free text (a libgit2 message may quote the URL).
fn scrub(text: &str, url: &Url) -> String {
    let mut out = text.to_string();
    for secret in [url.password().unwrap_or(""), url.username()] {
        if secret.len() >= 3 {
            out = out.replace(secret, "****");
        }
    }
    out
}

/// What the requested ref turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    /// A branch (`refs/heads/NAME`), or the default branch when no ref was given.
    Branch(String),
    /// A tag (`refs/tags/NAME`).
    Tag(String),
    /// Another full ref (`refs/pull/1/head`).
    Other(String),
    /// A commit id.
    Commit,
}

/// A commit of a repository, present in plonk's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedCommit {
    /// The repository URL without credentials.
    pub url: Url,
    /// The commit id (40 hex digits).
    pub commit: String,
    /// The ref the user asked for (`None`: the default branch).
    pub reference: Option<String>,
    /// What the ref is.
    pub kind: RefKind,
    /// Whether objects were fetched (false: the cache had the commit already).
    pub fetched: bool,
    repo_dir: PathBuf,
}

/// How git reaches HTTP servers.
#[derive(Debug, Clone)]
pub struct GitHttpOptions {
    /// The runtime that drives the HTTP requests (the caller blocks on it from a worker
    /// thread).
    pub handle: tokio::runtime::Handle,
    /// Read timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// `User-Agent`.
    pub user_agent: String,
    /// Refuse network access.
    pub offline: bool,
    /// Credentials by host.
    pub netrc: Netrc,
}

/// plonk's git cache: bare repositories by URL under `<cache>/git-v1/`.
#[derive(Clone)]
pub struct GitCache {
    root: PathBuf,
    http: Arc<HttpContext>,
}

impl std::fmt::Debug for GitCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitCache")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl GitCache {
    /// The git cache of `cache`, reaching HTTP servers with `http`.
    pub fn new(cache: &Cache, http: GitHttpOptions) -> Result<Self, GitError> {
        let client = reqwest::Client::builder()
            .user_agent(http.user_agent.clone())
            .connect_timeout(http.connect_timeout)
            .read_timeout(http.timeout)
            // reqwest drops the Authorization header when a redirect leaves the host.
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| GitError::Io {
                action: "set up HTTP for git in",
                path: cache.bucket(GIT_BUCKET),
                source: std::io::Error::other(e),
            })?;
        Ok(GitCache {
            root: cache.bucket(GIT_BUCKET),
            http: Arc::new(HttpContext {
                handle: http.handle,
                client,
                netrc: http.netrc,
                offline: http.offline,
            }),
        })
    }

    /// The bare repository that caches `url`.
    pub fn repo_dir(&self, url: &Url) -> PathBuf {
        // `…/repo` and `…/repo/` are one repository.
        let public = public_url(url);
        let key = public.as_str().trim_end_matches('/');
        self.root.join(cache_key(&[key.as_bytes()]))
    }

    /// Makes the commit that `reference` (branch, tag, full ref or commit id; `None`: the
    /// default branch) names in `url` present in the cache, fetching only what is missing.
    pub fn fetch(&self, url: &Url, reference: Option<&str>) -> Result<FetchedCommit, GitError> {
        check_scheme(url)?;
        let dir = self.repo_dir(url);
        let _lock = lock(&self.root, &dir)?;
        let repo = open_or_init_bare(&dir)?;
        let _scope = HttpScope::enter(Arc::clone(&self.http));
        let network = matches!(url.scheme(), "http" | "https" | "git");
        if network && self.http.offline {
            return offline_lookup(&repo, url, reference, &dir);
        }
        fetch_into(&repo, url, reference, &dir)
    }

    /// Writes the files of `fetched`'s commit into `dest` (created if missing): a plain
    /// checkout, no `.git`.
    pub fn export(&self, fetched: &FetchedCommit, dest: &Path) -> Result<(), GitError> {
        let _lock = lock(&self.root, &fetched.repo_dir)?;
        let repo = Repository::open_bare(&fetched.repo_dir).map_err(|e| GitError::Local {
            action: "open",
            path: fetched.repo_dir.clone(),
            source: GitCause::new(&e, &fetched.url),
        })?;
        std::fs::create_dir_all(dest).map_err(|source| GitError::Io {
            action: "create the folder",
            path: dest.to_path_buf(),
            source,
        })?;
        let local = |action: &'static str| {
            let url = fetched.url.clone();
            let path = fetched.repo_dir.clone();
            move |e: git2::Error| GitError::Local {
                action,
                path,
                source: GitCause::new(&e, &url),
            }
        };
        let oid = Oid::from_str(&fetched.commit).map_err(local("read"))?;
        let commit = repo.find_commit(oid).map_err(local("read"))?;
        let mut checkout = CheckoutBuilder::new();
        checkout
            .target_dir(dest)
            .force()
            .recreate_missing(true)
            .update_index(false);
        repo.checkout_tree(commit.as_object(), Some(&mut checkout))
            .map_err(|e| GitError::Local {
                action: "check out a commit of",
                path: fetched.repo_dir.clone(),
                source: GitCause::new(&e, &fetched.url),
            })
    }

    /// Whether [`GitCache::working_copy`] can make `dest` a checkout of `fetched`, and
    /// whether it would change anything: `dest` is missing, or a clean checkout of the same
    /// repository at `previous` (the commit plonk installed), at the new commit, or at an
    /// ancestor of it. Changes nothing.
    pub fn check_working_copy(
        &self,
        fetched: &FetchedCommit,
        dest: &Path,
        previous: Option<&str>,
    ) -> Result<bool, GitError> {
        if !dest.exists() {
            return Ok(true);
        }
        let url = &fetched.url;
        let oid = Oid::from_str(&fetched.commit).map_err(|e| GitError::Local {
            action: "read",
            path: fetched.repo_dir.clone(),
            source: GitCause::new(&e, url),
        })?;
        let repo = Repository::open(dest).map_err(|_| GitError::Foreign {
            path: dest.to_path_buf(),
            url: display_url(url),
        })?;
        let origin = repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string));
        if origin.as_deref() != Some(url.as_str()) {
            return Err(GitError::Foreign {
                path: dest.to_path_buf(),
                url: display_url(url),
            });
        }
        let dirty = is_dirty(&repo).map_err(|e| GitError::Local {
            action: "read the status of",
            path: dest.to_path_buf(),
            source: GitCause::new(&e, url),
        })?;
        if dirty {
            return Err(GitError::Dirty {
                path: dest.to_path_buf(),
            });
        }
        let Some(head) = repo.head().ok().and_then(|h| h.target()) else {
            return Ok(true);
        };
        if head == oid {
            return Ok(false);
        }
        let recorded = previous.is_some_and(|p| p == head.to_string());
        let cache = Repository::open_bare(&fetched.repo_dir).ok();
        let ancestor = repo.graph_descendant_of(oid, head).unwrap_or(false)
            || cache.is_some_and(|c| c.graph_descendant_of(oid, head).unwrap_or(false));
        if recorded || ancestor {
            Ok(true)
        } else {
            Err(GitError::Diverged {
                path: dest.to_path_buf(),
                head: head.to_string(),
                url: display_url(url),
                reference: fetched
                    .reference
                    .clone()
                    .unwrap_or_else(|| "HEAD".to_string()),
            })
        }
    }

    /// Makes `dest` a git working copy of `fetched` (an editable install's checkout, as pip
    /// makes under `<venv>/src/`): created when missing, moved to the new commit when
    /// [`GitCache::check_working_copy`] allows it. The working copy is shallow (the commit
    /// without its history) and its `origin` is the repository URL without credentials.
    /// Returns whether anything changed.
    pub fn working_copy(
        &self,
        fetched: &FetchedCommit,
        dest: &Path,
        previous: Option<&str>,
    ) -> Result<bool, GitError> {
        let _lock = lock(&self.root, &fetched.repo_dir)?;
        if !self.check_working_copy(fetched, dest, previous)? {
            return Ok(false);
        }
        let url = &fetched.url;
        let local = |action: &'static str, path: &Path| {
            let url = url.clone();
            let path = path.to_path_buf();
            move |e: git2::Error| GitError::Local {
                action,
                path,
                source: GitCause::new(&e, &url),
            }
        };
        let cache =
            Repository::open_bare(&fetched.repo_dir).map_err(local("open", &fetched.repo_dir))?;
        let oid = Oid::from_str(&fetched.commit).map_err(local("read", &fetched.repo_dir))?;
        let existing = dest.exists();
        let repo = if existing {
            Repository::open(dest).map_err(local("open", dest))?
        } else {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|source| GitError::Io {
                    action: "create the folder",
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            let repo = Repository::init(dest).map_err(local("create", dest))?;
            repo.remote("origin", url.as_str())
                .map_err(local("configure", dest))?;
            repo
        };
        let result = (|| -> Result<(), git2::Error> {
            copy_commit(&cache, &repo, oid)?;
            add_shallow(&repo, oid)?;
            match &fetched.kind {
                RefKind::Branch(branch) => {
                    repo.reference(
                        &format!("refs/remotes/origin/{branch}"),
                        oid,
                        true,
                        "plonk: fetch",
                    )?;
                    // A plain ref update: `branch()` refuses to move the checked-out branch.
                    repo.reference(&format!("refs/heads/{branch}"), oid, true, "plonk: update")?;
                    let mut local_branch = repo.find_branch(branch, git2::BranchType::Local)?;
                    local_branch.set_upstream(Some(&format!("origin/{branch}")))?;
                    repo.set_head(&format!("refs/heads/{branch}"))?;
                }
                RefKind::Tag(tag) => {
                    repo.reference(&format!("refs/tags/{tag}"), oid, true, "plonk: fetch")?;
                    repo.set_head_detached(oid)?;
                }
                RefKind::Other(_) | RefKind::Commit => repo.set_head_detached(oid)?,
            }
            let mut checkout = CheckoutBuilder::new();
            checkout.force().recreate_missing(true);
            repo.checkout_head(Some(&mut checkout))
        })();
        if let Err(e) = result {
            if !existing {
                let _ = std::fs::remove_dir_all(dest);
            }
            return Err(GitError::Local {
                action: "check out into",
                path: dest.to_path_buf(),
                source: GitCause::new(&e, url),
            });
        }
        Ok(true)
    }

    /// The commit a working copy is at, if it is a git repository.
    pub fn head_of(dest: &Path) -> Option<String> {
        let repo = Repository::open(dest).ok()?;
        let head = repo.head().ok()?.target()?;
        Some(head.to_string())
    }
}

/// Whether a working copy has changes to tracked files (untracked files do not count: build
/// outputs and `__pycache__` are expected).
fn is_dirty(repo: &Repository) -> Result<bool, git2::Error> {
    let mut options = git2::StatusOptions::new();
    options.include_untracked(false).include_ignored(false);
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .any(|s| s.status() != git2::Status::CURRENT && s.status() != git2::Status::IGNORED))
}

/// Copies a commit and its whole tree from one object database to another.
fn copy_commit(from: &Repository, to: &Repository, commit: Oid) -> Result<(), git2::Error> {
    let source = from.odb()?;
    let dest = to.odb()?;
    let mut stack = vec![commit];
    let tree = from.find_commit(commit)?.tree_id();
    stack.push(tree);
    while let Some(oid) = stack.pop() {
        if dest.exists(oid) {
            continue;
        }
        let object = source.read(oid)?;
        if object.kind() == ObjectType::Tree {
            let tree = from.find_tree(oid)?;
            for entry in tree.iter() {
                // Submodules are commits of other repositories: not copied.
                if matches!(
                    entry.kind(),
                    Some(ObjectType::Tree) | Some(ObjectType::Blob)
                ) {
                    stack.push(entry.id());
                }
            }
        }
        dest.write(object.kind(), object.data())?;
    }
    Ok(())
}

/// Marks `oid` as a shallow boundary of `repo` (its parents are not in the repository).
fn add_shallow(repo: &Repository, oid: Oid) -> Result<(), git2::Error> {
    let commit = repo.find_commit(oid)?;
    if commit.parent_count() == 0 {
        return Ok(());
    }
    let path = repo.path().join("shallow");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let id = oid.to_string();
    if !lines.contains(&id) {
        lines.push(id);
    }
    std::fs::write(&path, format!("{}\n", lines.join("\n")))
        .map_err(|e| git2::Error::from_str(&format!("cannot write {}: {e}", path.display())))
}

fn check_scheme(url: &Url) -> Result<(), GitError> {
    match url.scheme() {
        "http" | "https" | "file" | "git" => Ok(()),
        _ => Err(GitError::UnsupportedScheme {
            url: display_url(url),
        }),
    }
}

/// An exclusive lock on one cached repository, released on drop.
fn lock(root: &Path, dir: &Path) -> Result<File, GitError> {
    std::fs::create_dir_all(root).map_err(|source| GitError::Io {
        action: "create the folder",
        path: root.to_path_buf(),
        source,
    })?;
    let path = dir.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| GitError::Io {
            action: "open the lock file",
            path: path.clone(),
            source,
        })?;
    file.lock().map_err(|source| GitError::Io {
        action: "lock",
        path,
        source,
    })?;
    Ok(file)
}

fn open_or_init_bare(dir: &Path) -> Result<Repository, GitError> {
    let local = |action| {
        move |e: git2::Error| GitError::Local {
            action,
            path: dir.to_path_buf(),
            source: GitCause(e.message().to_string()),
        }
    };
    if dir.join("HEAD").is_file() {
        Repository::open_bare(dir).map_err(local("open"))
    } else {
        Repository::init_bare(dir).map_err(local("create"))
    }
}

/// One ref a remote advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Advertised {
    name: String,
    oid: Oid,
}

/// What to fetch for a requested ref.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    /// A ref of the remote: fetch it into `local`; `oid` is what it points at (a tag object
    /// for annotated tags), `commit` the peeled commit when advertised.
    Ref {
        remote: String,
        local: String,
        oid: Oid,
        commit: Option<Oid>,
        kind: RefKind,
    },
    /// A commit id (possibly abbreviated) not named by any ref.
    Commit(String),
}

/// Picks the ref `reference` names among the advertised ones, as pip does: a branch, then a
/// tag, then a full ref name, then a commit id.
fn pick(
    heads: &[Advertised],
    default_branch: Option<&str>,
    reference: Option<&str>,
) -> Option<Wanted> {
    let find = |name: &str| heads.iter().find(|h| h.name == name).map(|h| h.oid);
    let peeled = |name: &str| find(&format!("{name}^{{}}"));
    let Some(reference) = reference else {
        let head = find("HEAD")?;
        let branch = default_branch
            .and_then(|b| b.strip_prefix("refs/heads/"))
            .map(str::to_string)
            .or_else(|| {
                heads
                    .iter()
                    .filter(|h| h.oid == head)
                    .find_map(|h| h.name.strip_prefix("refs/heads/").map(str::to_string))
            })?;
        return Some(Wanted::Ref {
            remote: format!("refs/heads/{branch}"),
            local: format!("refs/remotes/origin/{branch}"),
            oid: head,
            commit: Some(head),
            kind: RefKind::Branch(branch),
        });
    };
    let branch = format!("refs/heads/{reference}");
    if let Some(oid) = find(&branch) {
        return Some(Wanted::Ref {
            remote: branch,
            local: format!("refs/remotes/origin/{reference}"),
            oid,
            commit: Some(oid),
            kind: RefKind::Branch(reference.to_string()),
        });
    }
    let tag = format!("refs/tags/{reference}");
    if let Some(oid) = find(&tag) {
        return Some(Wanted::Ref {
            commit: peeled(&tag),
            remote: tag.clone(),
            local: tag,
            oid,
            kind: RefKind::Tag(reference.to_string()),
        });
    }
    if reference.starts_with("refs/")
        && let Some(oid) = find(reference)
    {
        let local = match reference.strip_prefix("refs/heads/") {
            Some(b) => format!("refs/remotes/origin/{b}"),
            None if reference.starts_with("refs/tags/") => reference.to_string(),
            None => format!("refs/plonk/{}", &reference["refs/".len()..]),
        };
        return Some(Wanted::Ref {
            commit: peeled(reference),
            remote: reference.to_string(),
            local,
            oid,
            kind: RefKind::Other(reference.to_string()),
        });
    }
    let is_hex =
        (4..=40).contains(&reference.len()) && reference.chars().all(|c| c.is_ascii_hexdigit());
    is_hex.then(|| Wanted::Commit(reference.to_ascii_lowercase()))
}

/// Lists the remote's refs and fetches what `reference` needs into `repo`.
fn fetch_into(
    repo: &Repository,
    url: &Url,
    reference: Option<&str>,
    dir: &Path,
) -> Result<FetchedCommit, GitError> {
    let shown = display_url(url);
    let what = reference.unwrap_or("HEAD").to_string();
    let (heads, default_branch) = list_remote(repo, url)?;
    let wanted =
        pick(&heads, default_branch.as_deref(), reference).ok_or_else(|| match reference {
            Some(r) => GitError::RefNotFound {
                url: shown.clone(),
                reference: r.to_string(),
            },
            None => GitError::NoHead { url: shown.clone() },
        })?;
    let shallow_ok = matches!(url.scheme(), "http" | "https" | "git");
    let fetch_err = |e: git2::Error| GitError::Fetch {
        url: shown.clone(),
        what: what.clone(),
        source: GitCause::new(&e, url),
    };
    let (commit, kind, fetched) = match wanted {
        Wanted::Ref {
            remote,
            local,
            oid,
            commit,
            kind,
        } => {
            let have = repo.odb().map(|o| o.exists(oid)).unwrap_or(false);
            let mut fetched = false;
            if !have {
                let refspec = format!("+{remote}:{local}");
                fetch_refspecs(repo, url, &[refspec.as_str()], shallow_ok).map_err(fetch_err)?;
                fetched = true;
            } else {
                // Keep the cache's ref where the remote's is, for offline use.
                let _ = repo.reference(&local, oid, true, "plonk: up to date");
            }
            let commit = match commit {
                Some(c) if repo.find_commit(c).is_ok() => c,
                _ => repo
                    .find_object(oid, None)
                    .and_then(|o| o.peel_to_commit())
                    .map(|c| c.id())
                    .map_err(fetch_err)?,
            };
            if let (RefKind::Branch(branch), None) = (&kind, reference) {
                let _ = repo.reference_symbolic(
                    "refs/remotes/origin/HEAD",
                    &format!("refs/remotes/origin/{branch}"),
                    true,
                    "plonk: default branch",
                );
            }
            (commit, kind, fetched)
        }
        Wanted::Commit(id) => {
            let mut fetched = false;
            let found = match lookup_commit(repo, &id) {
                Some(c) => Some(c),
                None => {
                    // A commit no ref names: fetch every branch and tag (whole history, since
                    // a shallow fetch only brings the tips), then look again.
                    let specs = [
                        "+refs/heads/*:refs/remotes/origin/*",
                        "+refs/tags/*:refs/tags/*",
                    ];
                    fetch_refspecs(repo, url, &specs, false).map_err(fetch_err)?;
                    fetched = true;
                    if lookup_commit(repo, &id).is_none() && repo.is_shallow() {
                        fetch_with_depth(repo, url, &specs, Some(i32::MAX)).map_err(fetch_err)?;
                    }
                    lookup_commit(repo, &id)
                }
            };
            let commit = found.ok_or_else(|| GitError::RefNotFound {
                url: shown.clone(),
                reference: id.clone(),
            })?;
            (commit, RefKind::Commit, fetched)
        }
    };
    Ok(FetchedCommit {
        url: public_url(url),
        commit: commit.to_string(),
        reference: reference.map(str::to_string),
        kind,
        fetched,
        repo_dir: dir.to_path_buf(),
    })
}

/// The commit an id (full or abbreviated) names in `repo`.
fn lookup_commit(repo: &Repository, id: &str) -> Option<Oid> {
    let object = repo.revparse_single(id).ok()?;
    object.peel_to_commit().ok().map(|c| c.id())
}

/// The refs a remote advertises, and its default branch.
fn list_remote(
    repo: &Repository,
    url: &Url,
) -> Result<(Vec<Advertised>, Option<String>), GitError> {
    let not_found = |e: git2::Error| GitError::NotFound {
        url: display_url(url),
        source: GitCause::new(&e, url),
    };
    if url.scheme() == "file" {
        // libgit2's message for a missing folder is vague; say it plainly.
        let exists = url.to_file_path().is_ok_and(|p| p.exists());
        if !exists {
            return Err(GitError::NotFound {
                url: display_url(url),
                source: GitCause("there is no such folder".to_string()),
            });
        }
    }
    let mut remote = repo.remote_anonymous(url.as_str()).map_err(not_found)?;
    let connection = remote
        .connect_auth(Direction::Fetch, None, None)
        .map_err(not_found)?;
    let heads = connection
        .list()
        .map_err(not_found)?
        .iter()
        .map(|h| Advertised {
            name: h.name().to_string(),
            oid: h.oid(),
        })
        .collect();
    let default_branch = connection
        .default_branch()
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_string));
    Ok((heads, default_branch))
}

fn fetch_refspecs(
    repo: &Repository,
    url: &Url,
    refspecs: &[&str],
    shallow: bool,
) -> Result<(), git2::Error> {
    if shallow {
        // A server that refuses the shallow request says so with a remote error; it gets a
        // full fetch instead. Connection, access and not-found errors would only repeat.
        match fetch_with_depth(repo, url, refspecs, Some(1)) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let message = e.message().to_ascii_lowercase();
                let refused_shallow = ["shallow", "deepen", "remote error", "unexpected pkt"]
                    .iter()
                    .any(|m| message.contains(m));
                if !refused_shallow {
                    return Err(e);
                }
            }
        }
    }
    fetch_with_depth(repo, url, refspecs, None)
}

fn fetch_with_depth(
    repo: &Repository,
    url: &Url,
    refspecs: &[&str],
    depth: Option<i32>,
) -> Result<(), git2::Error> {
    let mut remote = repo.remote_anonymous(url.as_str())?;
    let mut options = FetchOptions::new();
    options
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    if let Some(depth) = depth {
        options.depth(depth);
    }
    remote.fetch(refspecs, Some(&mut options), None)
}

/// With `--offline`: the commit the cache last saw for `reference`.
fn offline_lookup(
    repo: &Repository,
    url: &Url,
    reference: Option<&str>,
    dir: &Path,
) -> Result<FetchedCommit, GitError> {
    let offline = || GitError::Offline {
        url: display_url(url),
        what: reference.unwrap_or("HEAD").to_string(),
    };
    let (commit, kind) = match reference {
        None => {
            let head = repo
                .find_reference("refs/remotes/origin/HEAD")
                .map_err(|_| offline())?;
            let branch = head
                .symbolic_target()
                .ok()
                .flatten()
                .and_then(|t| t.strip_prefix("refs/remotes/origin/"))
                .map(str::to_string)
                .ok_or_else(offline)?;
            let commit = head.peel_to_commit().map_err(|_| offline())?.id();
            (commit, RefKind::Branch(branch))
        }
        Some(r) => {
            let candidates = [
                (
                    format!("refs/remotes/origin/{r}"),
                    RefKind::Branch(r.to_string()),
                ),
                (format!("refs/tags/{r}"), RefKind::Tag(r.to_string())),
            ];
            let found = candidates.into_iter().find_map(|(name, kind)| {
                let commit = repo.find_reference(&name).ok()?.peel_to_commit().ok()?;
                Some((commit.id(), kind))
            });
            match found {
                Some(found) => found,
                None => (lookup_commit(repo, r).ok_or_else(offline)?, RefKind::Commit),
            }
        }
    };
    Ok(FetchedCommit {
        url: public_url(url),
        commit: commit.to_string(),
        reference: reference.map(str::to_string),
        kind,
        fetched: false,
        repo_dir: dir.to_path_buf(),
    })
}

// ---------------------------------------------------------------------------------------------
// Smart HTTP over reqwest.

/// What the HTTP transport needs; installed for the current thread while plonk runs a git
/// operation (libgit2 calls the transport on the thread that started the operation).
struct HttpContext {
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
    netrc: Netrc,
    offline: bool,
}

thread_local! {
    static CONTEXT: RefCell<Option<Arc<HttpContext>>> = const { RefCell::new(None) };
}

/// Installs a context for the current thread until dropped, and registers the transport.
struct HttpScope {
    previous: Option<Arc<HttpContext>>,
}

impl HttpScope {
    fn enter(context: Arc<HttpContext>) -> HttpScope {
        register_transports();
        let previous = CONTEXT.with(|c| c.borrow_mut().replace(context));
        HttpScope { previous }
    }
}

impl Drop for HttpScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CONTEXT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Registers the `http` and `https` transports once per process; a failure leaves libgit2's
/// own (which then explains itself).
fn register_transports() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        for scheme in ["http", "https"] {
            // SAFETY: libgit2 wants registration synchronised with transport creation. This
            // runs once, inside `OnceLock::get_or_init`, and every git operation of plonk
            // goes through `HttpScope::enter` (hence through here) before creating one.
            let _ = unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, HttpSubtransport::default())
                })
            };
        }
    });
}

#[derive(Default)]
struct HttpSubtransport {
    /// The repository URL after the first request's redirects: later requests go there.
    base: Arc<Mutex<Option<Url>>>,
}

impl SmartSubtransport for HttpSubtransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let context = CONTEXT
            .with(|c| c.borrow().clone())
            .ok_or_else(|| git2::Error::from_str("git over HTTP is used outside of plonk"))?;
        let mut base = match self.base.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if base.is_none() {
            let parsed = Url::parse(url.trim_end_matches('/'))
                .map_err(|e| git2::Error::from_str(&format!("the URL does not parse: {e}")))?;
            *base = Some(parsed);
        }
        let Some(repo_url) = base.clone() else {
            return Err(git2::Error::from_str("no repository URL"));
        };
        drop(base);
        match action {
            Service::UploadPackLs => {
                let target = join(&repo_url, "info/refs?service=git-upload-pack");
                let mut stream = HttpStream::new(context, Method::Get, target, repo_url);
                stream.base_to_update = Some(Arc::clone(&self.base));
                Ok(Box::new(stream))
            }
            Service::UploadPack => {
                let target = join(&repo_url, "git-upload-pack");
                Ok(Box::new(HttpStream::new(
                    context,
                    Method::Post,
                    target,
                    repo_url,
                )))
            }
            Service::ReceivePackLs | Service::ReceivePack => Err(git2::Error::from_str(
                "plonk only reads git repositories; pushing is not supported",
            )),
        }
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// `base` + `/` + `rest` (rest may carry a query).
fn join(base: &Url, rest: &str) -> String {
    format!("{}/{rest}", base.as_str().trim_end_matches('/'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// One request: writes are buffered as the body, the first read sends it and then streams
/// the answer.
struct HttpStream {
    context: Arc<HttpContext>,
    method: Method,
    target: String,
    /// The repository URL, for credentials and messages.
    repo: Url,
    body: Vec<u8>,
    response: Option<reqwest::Response>,
    chunk: Vec<u8>,
    position: usize,
    received: u64,
    base_to_update: Option<Arc<Mutex<Option<Url>>>>,
}

impl HttpStream {
    fn new(context: Arc<HttpContext>, method: Method, target: String, repo: Url) -> Self {
        HttpStream {
            context,
            method,
            target,
            repo,
            body: Vec::new(),
            response: None,
            chunk: Vec::new(),
            position: 0,
            received: 0,
            base_to_update: None,
        }
    }

    fn error(&self, message: String) -> std::io::Error {
        std::io::Error::other(scrub(&message, &self.repo))
    }

    fn send(&mut self) -> std::io::Result<()> {
        let shown = display_url(&self.repo);
        if self.context.offline {
            return Err(self.error(format!(
                "plonk is offline (--offline) and cannot reach {shown}"
            )));
        }
        let mut url = Url::parse(&self.target).map_err(|e| self.error(e.to_string()))?;
        let credentials = credentials_for(&url, &self.context.netrc);
        let _ = url.set_password(None);
        let _ = url.set_username("");
        let client = &self.context.client;
        let mut request = match self.method {
            Method::Get => client.get(url.clone()),
            Method::Post => client
                .post(url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-git-upload-pack-request",
                )
                .header(
                    reqwest::header::ACCEPT,
                    "application/x-git-upload-pack-result",
                )
                .body(std::mem::take(&mut self.body)),
        };
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, password);
        }
        let response = self
            .context
            .handle
            // Built inside the runtime: reqwest arms its timers when the future is created.
            .block_on(async move { request.send().await })
            .map_err(|e| self.error(format!("cannot reach {shown}: {}", error_chain(&e))))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            401 | 403 => {
                return Err(self.error(format!(
                    "{shown} refused access (HTTP {status}); give credentials in the URL or in ~/.netrc"
                )));
            }
            404 => {
                return Err(self.error(format!("{shown} answered HTTP 404 (not found)")));
            }
            _ => return Err(self.error(format!("{shown} answered HTTP {status}"))),
        }
        if self.method == Method::Get {
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.starts_with("application/x-git-upload-pack-advertisement") {
                return Err(self.error(format!(
                    "{shown} is not a git repository served over smart HTTP (it answered with `{content_type}`)"
                )));
            }
            // Follow a redirect for the next requests of this fetch.
            if let Some(base) = &self.base_to_update {
                let final_url = response.url().as_str();
                if let Some(repo) = final_url.strip_suffix("/info/refs?service=git-upload-pack")
                    && let Ok(mut repo_url) = Url::parse(repo)
                {
                    if let (Some(user), true) = (
                        Some(self.repo.username()).filter(|u| !u.is_empty()),
                        repo_url.host_str() == self.repo.host_str(),
                    ) {
                        let _ = repo_url.set_username(user);
                        let _ = repo_url.set_password(self.repo.password());
                    }
                    if let Ok(mut b) = base.lock() {
                        *b = Some(repo_url);
                    }
                }
            }
        }
        self.response = Some(response);
        Ok(())
    }
}

impl Read for HttpStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.response.is_none() {
            self.send()?;
        }
        loop {
            if self.position < self.chunk.len() {
                let n = buf.len().min(self.chunk.len() - self.position);
                buf[..n].copy_from_slice(&self.chunk[self.position..self.position + n]);
                self.position += n;
                return Ok(n);
            }
            let Some(response) = self.response.as_mut() else {
                return Ok(0);
            };
            let next = self
                .context
                .handle
                .block_on(async { response.chunk().await });
            match next {
                Ok(Some(bytes)) => {
                    self.received += bytes.len() as u64;
                    if self.received > MAX_PACK_BYTES {
                        return Err(self.error(format!(
                            "{} sent more than {MAX_PACK_BYTES} bytes",
                            display_url(&self.repo)
                        )));
                    }
                    self.chunk = bytes.to_vec();
                    self.position = 0;
                }
                Ok(None) => return Ok(0),
                Err(e) => {
                    return Err(self.error(format!(
                        "the connection to {} broke: {}",
                        display_url(&self.repo),
                        error_chain(&e)
                    )));
                }
            }
        }
    }
}

impl Write for HttpStream {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.response.is_some() {
            return Err(self.error("a request was written after its answer".to_string()));
        }
        self.body.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// User and password for `url`: its own userinfo, else the netrc entry of its host.
fn credentials_for(url: &Url, netrc: &Netrc) -> Option<(String, Option<String>)> {
    if !url.username().is_empty() || url.password().is_some() {
        return Some((
            percent_decode(url.username()),
            url.password().map(percent_decode),
        ));
    }
    let host = url.host_str()?;
    netrc
        .get(host)
        .map(|c| (c.username.clone(), c.password.clone()))
}

/// An error and its causes on one line (reqwest's own message is terse).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn heads() -> Vec<Advertised> {
        [
            ("HEAD", 1),
            ("refs/heads/main", 1),
            ("refs/heads/dev", 2),
            ("refs/tags/v1", 3),
            ("refs/tags/v1^{}", 4),
            ("refs/tags/light", 2),
            ("refs/pull/7/head", 5),
        ]
        .iter()
        .map(|(n, i)| Advertised {
            name: n.to_string(),
            oid: oid(*i),
        })
        .collect()
    }

    #[test]
    fn refs_are_picked_like_pip() {
        let h = heads();
        match pick(&h, Some("refs/heads/main"), None) {
            Some(Wanted::Ref {
                kind,
                oid: o,
                local,
                ..
            }) => {
                assert_eq!(kind, RefKind::Branch("main".into()));
                assert_eq!(o, oid(1));
                assert_eq!(local, "refs/remotes/origin/main");
            }
            other => panic!("{other:?}"),
        }
        // Without the symref, the branch at HEAD's commit.
        assert!(matches!(
            pick(&h, None, None),
            Some(Wanted::Ref { kind: RefKind::Branch(b), .. }) if b == "main"
        ));
        match pick(&h, None, Some("v1")) {
            Some(Wanted::Ref {
                kind,
                oid: o,
                commit,
                ..
            }) => {
                assert_eq!(kind, RefKind::Tag("v1".into()));
                assert_eq!(o, oid(3));
                assert_eq!(commit, Some(oid(4)));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            pick(&h, None, Some("dev")),
            Some(Wanted::Ref {
                kind: RefKind::Branch(_),
                ..
            })
        ));
        match pick(&h, None, Some("refs/pull/7/head")) {
            Some(Wanted::Ref { local, kind, .. }) => {
                assert_eq!(local, "refs/plonk/pull/7/head");
                assert_eq!(kind, RefKind::Other("refs/pull/7/head".into()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            pick(&h, None, Some("ABCDEF1")),
            Some(Wanted::Commit("abcdef1".into()))
        );
        // Garbage, truncated and hostile refs name nothing.
        for bad in [
            "nope",
            "",
            "abc",
            "refs/heads/../../x",
            "../main",
            "g123456",
        ] {
            assert_eq!(pick(&h, None, Some(bad)), None, "{bad}");
        }
        assert_eq!(pick(&[], None, None), None);
    }

    #[test]
    fn credentials_never_shown() {
        let url = Url::parse("https://tok3n:s3cret@example.org/org/repo.git").unwrap();
        let shown = display_url(&url);
        assert!(
            !shown.contains("s3cret") && !shown.contains("tok3n"),
            "{shown}"
        );
        let url = Url::parse("https://ghp_token123@example.org/r").unwrap();
        assert_eq!(display_url(&url), "https://****@example.org/r");
        assert_eq!(public_url(&url).as_str(), "https://example.org/r");
        assert_eq!(
            scrub("failed for https://ghp_token123@example.org/r", &url),
            "failed for https://****@example.org/r"
        );
        let file = Url::parse("file:///srv/repo").unwrap();
        assert_eq!(display_url(&file), "file:///srv/repo");
    }

    #[test]
    fn ssh_is_refused_clearly() {
        let url = Url::parse("ssh://git@example.org/org/repo").unwrap();
        let err = check_scheme(&url).unwrap_err().to_string();
        assert!(err.contains("only https, http, git and file"), "{err}");
    }

    /// A repository with one file per commit, built with libgit2.
    fn commit_file(repo: &Repository, path: &str, content: &str, message: &str) -> Oid {
        let workdir = repo.workdir().unwrap().to_path_buf();
        let full = workdir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, content).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new(path)).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.org").unwrap();
        let parents: Vec<git2::Commit<'_>> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    fn cache_for(dir: &Path, rt: &tokio::runtime::Runtime) -> GitCache {
        GitCache::new(
            &Cache::new(dir),
            GitHttpOptions {
                handle: rt.handle().clone(),
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                user_agent: "plonk-test".into(),
                offline: false,
                netrc: Netrc::default(),
            },
        )
        .unwrap()
    }

    #[test]
    fn local_fetch_by_branch_tag_commit_and_working_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let source = Repository::init(tmp.path().join("src")).unwrap();
        let first = commit_file(&source, "pkg/a.py", "A = 1\n", "first");
        let head = source.head().unwrap().name().unwrap().to_string();
        let branch = head.strip_prefix("refs/heads/").unwrap().to_string();
        source
            .tag_lightweight("v1", &source.find_object(first, None).unwrap(), false)
            .unwrap();
        let url = Url::from_directory_path(tmp.path().join("src")).unwrap();
        let cache = cache_for(&tmp.path().join("cache"), &rt);

        let fetched = cache.fetch(&url, None).unwrap();
        assert_eq!(fetched.commit, first.to_string());
        assert_eq!(fetched.kind, RefKind::Branch(branch.clone()));
        assert!(fetched.fetched);
        let again = cache.fetch(&url, Some(&branch)).unwrap();
        assert!(!again.fetched, "nothing new: nothing fetched");

        let second = commit_file(&source, "pkg/a.py", "A = 2\n", "second");
        let moved = cache.fetch(&url, Some(&branch)).unwrap();
        assert_eq!(moved.commit, second.to_string());
        assert!(moved.fetched);
        let tag = cache.fetch(&url, Some("v1")).unwrap();
        assert_eq!(tag.commit, first.to_string());
        let by_id = cache.fetch(&url, Some(&first.to_string()[..10])).unwrap();
        assert_eq!(by_id.commit, first.to_string());

        let out = tmp.path().join("out");
        cache.export(&tag, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("pkg/a.py")).unwrap(),
            "A = 1\n"
        );
        assert!(!out.join(".git").exists());

        // Working copy: created at the tag's commit, then moved along the branch.
        let wc = tmp.path().join("venv/src/pkg");
        assert!(cache.working_copy(&fetched, &wc, None).unwrap());
        assert_eq!(GitCache::head_of(&wc), Some(first.to_string()));
        assert!(!cache.working_copy(&fetched, &wc, None).unwrap());
        assert!(
            cache
                .working_copy(&moved, &wc, Some(&first.to_string()))
                .unwrap()
        );
        assert_eq!(
            std::fs::read_to_string(wc.join("pkg/a.py")).unwrap(),
            "A = 2\n"
        );
        // Local changes are never overwritten.
        std::fs::write(wc.join("pkg/a.py"), "mine\n").unwrap();
        let err = cache.working_copy(&fetched, &wc, None).unwrap_err();
        assert!(matches!(err, GitError::Dirty { .. }), "{err}");
        // A folder of another repository is not touched.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        let err = cache.working_copy(&fetched, &other, None).unwrap_err();
        assert!(matches!(err, GitError::Foreign { .. }), "{err}");

        let err = cache.fetch(&url, Some("nope")).unwrap_err().to_string();
        assert!(
            err.contains("`nope` is not a branch, tag or commit"),
            "{err}"
        );
        let missing = Url::parse("file:///nonexistent/plonk/repo").unwrap();
        let err = cache.fetch(&missing, None).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    /// A loopback smart-HTTP git server backed by `git upload-pack --stateless-rpc`; returns
    /// its base URL, or None when the git program is missing.
    fn smart_http_server(repo: PathBuf) -> Option<String> {
        use std::io::BufRead;
        use std::net::TcpListener;
        use std::process::{Command, Stdio};
        if Command::new("git").arg("--version").output().is_err() {
            eprintln!("SKIPPED: no git program to serve smart HTTP");
            return None;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                let advertise = first.starts_with("GET") && first.contains("/repo.git/info/refs");
                let post = first.starts_with("POST") && first.contains("/repo.git/git-upload-pack");
                let (content_type, payload) = if advertise || post {
                    let mut cmd = Command::new("git");
                    cmd.arg("upload-pack").arg("--stateless-rpc");
                    if advertise {
                        cmd.arg("--advertise-refs");
                    }
                    let mut child = cmd
                        .arg(&repo)
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap();
                    child.stdin.take().unwrap().write_all(&body).unwrap();
                    let out = child.wait_with_output().unwrap().stdout;
                    if advertise {
                        let mut all = b"001e# service=git-upload-pack\n0000".to_vec();
                        all.extend(out);
                        ("application/x-git-upload-pack-advertisement", all)
                    } else {
                        ("application/x-git-upload-pack-result", out)
                    }
                } else {
                    ("text/html", b"<html>not git</html>".to_vec())
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    payload.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&payload);
            }
        });
        Some(format!("http://{addr}"))
    }

    #[test]
    fn smart_http_fetch_is_shallow_and_incremental() {
        let tmp = tempfile::tempdir().unwrap();
        let source = Repository::init(tmp.path().join("src")).unwrap();
        commit_file(&source, "a.txt", "one\n", "first");
        let second = commit_file(&source, "a.txt", "two\n", "second");
        let Some(base) = smart_http_server(tmp.path().join("src")) else {
            return;
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let cache = cache_for(&tmp.path().join("cache"), &rt);
        let url = Url::parse(&format!("{base}/repo.git")).unwrap();
        let fetched = cache.fetch(&url, None).unwrap();
        assert_eq!(fetched.commit, second.to_string());
        let repo = Repository::open_bare(cache.repo_dir(&url)).unwrap();
        assert!(repo.is_shallow(), "the first fetch over HTTP is shallow");
        let third = commit_file(&source, "a.txt", "three\n", "third");
        let moved = cache.fetch(&url, None).unwrap();
        assert_eq!(moved.commit, third.to_string());
        assert!(moved.fetched);
        let out = tmp.path().join("out");
        cache.export(&moved, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("a.txt")).unwrap(),
            "three\n"
        );
        // Credentials in the URL never reach a message.
        let secret = Url::parse(&format!(
            "{}/repo.git",
            base.replace("http://", "http://user:hunter22@")
        ))
        .unwrap();
        let err = cache.fetch(&secret, Some("nope")).unwrap_err().to_string();
        assert!(!err.contains("hunter22"), "{err}");
        // An HTML page is not a repository.
        let page = Url::parse(&format!("{base}/page")).unwrap();
        let err = GitCache::new(
            &Cache::new(tmp.path().join("cache2")),
            GitHttpOptions {
                handle: rt.handle().clone(),
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                user_agent: "t".into(),
                offline: false,
                netrc: Netrc::default(),
            },
        )
        .unwrap()
        .fetch(&page, None)
        .unwrap_err();
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(chain.contains("not a git repository"), "{chain}");
    }

    #[test]
    fn offline_uses_what_the_cache_saw() {
        let tmp = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut cache = cache_for(&tmp.path().join("cache"), &rt);
        let url = Url::parse("https://127.0.0.1:9/org/repo.git").unwrap();
        if let Some(ctx) = Arc::get_mut(&mut cache.http) {
            ctx.offline = true;
        }
        let err = cache.fetch(&url, Some("main")).unwrap_err().to_string();
        assert!(err.contains("offline"), "{err}");
    }
}
