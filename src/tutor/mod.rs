//! The Tutor project as plonk sees it: `<root>/config.yml` (`PLUGINS`, `PLUGIN_INDEXES`),
//! the plugins root of single-file plugins, and the Open edX release of a Tutor version.
//! An edge module: it knows no other plonk module.

mod config;
mod error;
pub mod plugins_root;
mod release;
pub mod yaml;

pub use config::{CONFIG_FILENAME, PLUGIN_INDEXES_KEY, PLUGINS_KEY, SettingsFile, TutorProject};
pub use error::TutorError;
pub use plugins_root::{PluginFile, PluginFileError, PluginFileKind, plugin_files};
pub use release::{
    MAIN_RELEASE, RELEASES, is_known_release, release_for_major, release_for_tutor,
    release_for_version, release_for_version_text, validate_release, version_suffix,
};

/// Tutor's default `PLUGIN_INDEXES` (from its `config/base.yml`), used when the key is unset.
pub const DEFAULT_PLUGIN_INDEXES: &[&str] = &[
    "https://overhang.io/tutor/main",
    "https://overhang.io/tutor/contrib",
];
