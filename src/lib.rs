//! plonk: a fast, pip-free plugin manager for Tutor.
//!
//! Modules are declared in pipeline order (see STYLE.md): the command-line layer, the
//! operations that order the stages, the stages themselves, then the edges every stage uses.
//!
//! Files plonk touches and the module that owns them:
//! - `<root>/config.yml` (`PLUGINS`, `PLUGIN_INDEXES`): [`tutor`]
//! - `<root>/env/plugins/index/cache.yml`: [`index`]
//! - `<venv>/lib/pythonX.Y/site-packages/**`, `<venv>/bin/*`: [`install`]
//! - `<venv>/pyvenv.cfg`, the env lock: [`environment`]
//! - `<venv>/.plonk/receipt.json` (ownership record): [`install`]
//! - `$PLONK_CACHE_DIR/**`: [`cache`]

// Errors carry their subject (paths, URLs, `name==version`) and their cause by design
// (STYLE.md); they are built only on failure paths, so their size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod ops;

pub mod build;
pub mod index;
pub mod install;
pub mod mirror;
pub mod registry;
pub mod resolve;
pub mod source;

pub mod cache;
pub mod dist;
pub mod environment;
pub mod http;
pub mod tutor;
