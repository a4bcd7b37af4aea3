//! Operations: one file per command. Each orders the stages (plan, fetch, build, verify,
//! then lock and apply) and reports through [`Reporter`]; none of them sees clap or prints.

pub mod reporter;

pub use reporter::{ProgressId, ProgressKind, Reporter, SilentReporter};
pub mod error;
pub mod fetch;
pub mod index;
pub mod install;
pub mod list;
pub mod local;
pub mod mirror;
pub mod recover;
pub mod remove;
pub mod search;
pub mod show;
pub mod sources;
pub mod targets;
pub mod update;
pub mod upgrade;
pub mod workspace;
