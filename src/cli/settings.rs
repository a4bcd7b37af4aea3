//! Settle settings first: raw flags and environment variables become one [`Settings`] value
//! before any operation runs, so no operation reads the process environment itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;
use url::Url;

use super::args::GlobalArgs;

/// Everything an operation needs to know about where and how to work.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--python`: a venv folder or its python executable.
    pub python: Option<PathBuf>,
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
    /// `$PATH`, to find the `tutor` executable's venv.
    pub path_var: Option<OsString>,
    /// Tutor project root.
    pub tutor_root: PathBuf,
    /// Folder of single-file (`.py` / `.yml`) plugins.
    pub plugins_root: PathBuf,
    /// `--release`, when given.
    pub release: Option<String>,
    /// Where packages come from.
    pub sources: PackageSources,
    /// `--offline`.
    pub offline: bool,
    /// `--refresh`.
    pub refresh: bool,
    /// The global cache folder.
    pub cache_dir: PathBuf,
    /// `--no-cache`: `cache_dir` is private to this run and deleted at exit.
    pub no_cache: bool,
    /// plonk's own config folder (`$XDG_CONFIG_HOME/plonk`).
    pub config_dir: PathBuf,
    /// The user's home folder.
    pub home: PathBuf,
    /// `~/.netrc` (or `$NETRC`), when it exists.
    pub netrc: Option<PathBuf>,
    /// HTTP read timeout (`PLONK_HTTP_TIMEOUT`, seconds; default 30).
    pub http_timeout: Duration,
    /// How long to wait for the environment lock (`--lock-timeout`); None = forever.
    pub lock_timeout: Option<Duration>,
    /// Output control.
    pub output: OutputSettings,
    /// `PLONK_FAULT`: abort at a named step (crash-safety tests).
    pub faults: crate::install::journal::FaultPlan,
}

/// Package sources from flags and environment variables, as in pip.
#[derive(Debug, Clone, Default)]
pub struct PackageSources {
    /// `--index-url` / `PLONK_INDEX_URL`; None = PyPI.
    pub index_url: Option<Url>,
    /// `--extra-index-url` / `PLONK_EXTRA_INDEX_URL` (space separated).
    pub extra_index_urls: Vec<Url>,
    /// `--find-links` / `PLONK_FIND_LINKS`: folders or URLs.
    pub find_links: Vec<String>,
    /// `--no-index`.
    pub no_index: bool,
}

/// How much to print, and in which form.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputSettings {
    /// `-q` count.
    pub quiet: u8,
    /// `-v` count.
    pub verbose: u8,
    /// Progress bars allowed (terminal and no `--no-progress`).
    pub progress: bool,
    /// `--json`.
    pub json: bool,
}

/// A flag or variable that does not make sense.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// An index URL that does not parse.
    #[error("`{value}` given by {origin} is not a valid URL")]
    BadUrl {
        /// The flag or variable.
        origin: &'static str,
        /// What was given.
        value: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// No home folder to put defaults under.
    #[error("cannot find the home folder: set HOME")]
    NoHome,
    /// A timeout that is not a number.
    #[error("PLONK_HTTP_TIMEOUT must be a number of seconds, not `{0}`")]
    BadTimeout(String),
}

/// Reads an environment variable, treating an empty value as unset.
fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn parse_url(origin: &'static str, value: &str) -> Result<Url, SettingsError> {
    // A bare folder is accepted as an index too.
    let p = Path::new(value);
    if (p.is_absolute() || value.starts_with('.'))
        && let Ok(abs) = std::path::absolute(p)
        && let Ok(u) = Url::from_directory_path(&abs)
    {
        return Ok(u);
    }
    Url::parse(value).map_err(|source| SettingsError::BadUrl {
        origin,
        value: value.to_string(),
        source,
    })
}

impl Settings {
    /// Builds the settings from global flags and the process environment.
    pub fn from_args(args: &GlobalArgs, stderr_is_terminal: bool) -> Result<Self, SettingsError> {
        let home = var("HOME")
            .map(PathBuf::from)
            .ok_or(SettingsError::NoHome)?;
        let xdg = |name: &str, default: &str| {
            var(name)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(default))
        };
        let cache_dir = match (&args.cache_dir, var("PLONK_CACHE_DIR")) {
            // `--no-cache`: a private folder for this run, deleted when plonk exits.
            _ if args.no_cache => {
                std::env::temp_dir().join(format!("plonk-no-cache-{}", std::process::id()))
            }
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => xdg("XDG_CACHE_HOME", ".cache").join("plonk"),
        };
        let config_dir = xdg("XDG_CONFIG_HOME", ".config").join("plonk");
        let data_home = xdg("XDG_DATA_HOME", ".local/share");
        let tutor_root = args
            .root
            .clone()
            .or_else(|| var("TUTOR_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| data_home.join("tutor"));
        let plugins_root = var("TUTOR_PLUGINS_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_home.join("tutor-plugins"));

        let index_url = args
            .index_url
            .as_deref()
            .map(|u| parse_url("--index-url", u))
            .transpose()?;
        let mut extra_index_urls = args
            .extra_index_url
            .iter()
            .map(|u| parse_url("--extra-index-url", u))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(extra) = var("PLONK_EXTRA_INDEX_URL") {
            for u in extra.to_string_lossy().split_whitespace() {
                extra_index_urls.push(parse_url("PLONK_EXTRA_INDEX_URL", u)?);
            }
        }
        let mut find_links = args.find_links.clone();
        if let Some(fl) = var("PLONK_FIND_LINKS") {
            find_links.extend(fl.to_string_lossy().split_whitespace().map(String::from));
        }
        let no_index = args.no_index || var("PLONK_NO_INDEX").is_some_and(|v| v != "0");
        let offline = args.offline || var("PLONK_OFFLINE").is_some_and(|v| v != "0");

        let netrc = var("NETRC")
            .map(PathBuf::from)
            .or_else(|| Some(home.join(".netrc")))
            .filter(|p| p.is_file());
        let http_timeout = match var("PLONK_HTTP_TIMEOUT") {
            Some(v) => {
                let s = v.to_string_lossy().to_string();
                let secs: f64 = s
                    .parse()
                    .map_err(|_| SettingsError::BadTimeout(s.clone()))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(SettingsError::BadTimeout(s));
                }
                Duration::from_secs_f64(secs)
            }
            None => Duration::from_secs(30),
        };

        Ok(Settings {
            python: args.python.clone(),
            virtual_env: var("VIRTUAL_ENV").map(PathBuf::from),
            path_var: var("PATH"),
            tutor_root,
            plugins_root,
            release: args.release.clone(),
            sources: PackageSources {
                index_url,
                extra_index_urls,
                find_links,
                no_index,
            },
            offline,
            refresh: args.refresh,
            cache_dir,
            no_cache: args.no_cache,
            config_dir,
            home,
            netrc,
            http_timeout,
            lock_timeout: args.lock_timeout.map(Duration::from_secs),
            faults: var("PLONK_FAULT")
                .map(|v| crate::install::journal::FaultPlan::parse(&v.to_string_lossy()))
                .unwrap_or_default(),
            output: OutputSettings {
                quiet: args.quiet,
                verbose: args.verbose,
                progress: stderr_is_terminal && !args.no_progress && args.quiet == 0 && !args.json,
                json: args.json,
            },
        })
    }
}
