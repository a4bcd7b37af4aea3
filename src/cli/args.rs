//! Command-line arguments (clap). Only the CLI layer sees these types; `settings` turns them
//! into `Settings` and per-command options before any operation runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// plonk: a fast, pip-free plugin manager for Tutor.
#[derive(Debug, Parser)]
#[command(name = "plonk", version, about, propagate_version = true)]
pub struct Cli {
    /// Global options, accepted before or after the command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Target environment: a venv folder or its python executable.
    #[arg(long, global = true, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Tutor project root (default: $TUTOR_ROOT, else ~/.local/share/tutor).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Open edX release whose plugin index files are used (default: from the installed tutor).
    #[arg(long, global = true, value_name = "NAME")]
    pub release: Option<String>,
    /// Package index (simple API, or a PyPI-style JSON API base).
    #[arg(long, global = true, value_name = "URL", env = "PLONK_INDEX_URL")]
    pub index_url: Option<String>,
    /// Extra package indexes, searched after the main one.
    #[arg(long, global = true, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// Local folders or HTML pages of links to package files.
    #[arg(long, global = true, value_name = "PATH/URL")]
    pub find_links: Vec<String>,
    /// Ignore the package index; use only --find-links.
    #[arg(long, global = true)]
    pub no_index: bool,
    /// No network: use the cache and local sources only.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Revalidate cached index data.
    #[arg(long, global = true)]
    pub refresh: bool,
    /// Global cache folder (default: $PLONK_CACHE_DIR, else $XDG_CACHE_HOME/plonk).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Use a temporary cache that is deleted at exit.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Print less (repeat for nothing but errors).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Print more detail.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Machine-readable output (list, search, show, install/upgrade --dry-run).
    #[arg(long, global = true)]
    pub json: bool,
    /// Give up waiting for another plonk process on the same environment after this many seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
}

/// plonk's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage plugin indexes.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Fetch every configured plugin index and write the index cache.
    Update,
    /// Search the plugin indexes by name and description.
    Search {
        /// Case-insensitive substring (default: everything).
        pattern: Option<String>,
    },
    /// Show one plugin of the indexes.
    Show {
        /// Plugin name.
        name: String,
    },
    /// Install plugins (index names, single-file URLs or paths, git URLs) and requirements.
    Install(InstallArgs),
    /// Upgrade installed plugins (all of them by default).
    Upgrade(UpgradeArgs),
    /// Remove plugins and the dependencies plonk installed for them.
    Remove(RemoveArgs),
    /// List plugins in the environment and plugins root.
    List {
        /// Only plugins enabled in the Tutor project.
        #[arg(long)]
        enabled: bool,
    },
    /// Create a virtualenv natively (no pip inside), optionally with Tutor.
    Venv(VenvArgs),
    /// Build an offline mirror.
    Mirror(MirrorArgs),
    /// Show or clear the cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// `plonk index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Add a plugin index (URL, local folder, or the aliases `main` / `contrib`), then update.
    Add {
        /// URL, folder or alias.
        url: String,
    },
    /// Remove a plugin index.
    Remove {
        /// URL, folder or alias.
        url: String,
    },
    /// List the configured plugin indexes.
    List,
}

/// `plonk cache …`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache folder.
    Dir,
    /// Delete everything in the cache.
    Clean,
}

/// `plonk install`
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Plugin names from the indexes, single-file plugin URLs or paths, git URLs, or requirements.
    pub targets: Vec<String>,
    /// Install from a requirements file (same syntax as an index entry's `src`).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    /// Install a git source editable: checked out into `<venv>/src/<name>` (as pip does).
    #[arg(short = 'e', long = "editable", value_name = "GIT-URL")]
    pub editable: Vec<String>,
    /// Resolve and print what would change, without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not install dependencies.
    #[arg(long)]
    pub no_deps: bool,
    /// Byte-compile installed Python files.
    #[arg(long)]
    pub compile: bool,
    /// Reinstall the named targets even if they are up to date.
    #[arg(long)]
    pub reinstall: bool,
}

/// `plonk upgrade`
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Plugins to upgrade (default, or `all`: every plugin installed in the environment).
    pub names: Vec<String>,
    /// Any failure fails the whole command with nothing changed.
    #[arg(long)]
    pub strict: bool,
    /// Print the plan without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `plonk remove`
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Plugin names or distribution names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Keep the dependencies that were installed for the plugin.
    #[arg(long)]
    pub keep_deps: bool,
    /// Remove even if the plugin is enabled in the Tutor project.
    #[arg(long)]
    pub force: bool,
}

/// `plonk venv`
#[derive(Debug, Args)]
pub struct VenvArgs {
    /// Folder of the new virtualenv.
    pub path: PathBuf,
    /// Base Python interpreter (default: python3 on PATH).
    #[arg(long, value_name = "PY")]
    pub interpreter: Option<PathBuf>,
    /// Install Tutor into the new environment, e.g. `>=22,<23`.
    #[arg(long, value_name = "SPEC")]
    pub tutor: Option<String>,
}

/// `plonk mirror`
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// Folder of the mirror.
    pub dir: PathBuf,
    /// Plugins to mirror (default: every plugin of the configured indexes).
    pub names: Vec<String>,
    /// Plugin index to mirror (repeatable; default: the configured ones).
    #[arg(long = "index", value_name = "URL")]
    pub indexes: Vec<String>,
    /// Target Python versions (repeatable).
    #[arg(long = "python-version", value_name = "X.Y")]
    pub python_versions: Vec<String>,
    /// Target platform tags (repeatable).
    #[arg(long = "platform", value_name = "TAG")]
    pub platforms: Vec<String>,
    /// Drop files that no longer belong to the mirror.
    #[arg(long)]
    pub prune: bool,
}
