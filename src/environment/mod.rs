//! The target Python environment: finding or creating the virtualenv, asking its interpreter
//! what it is (markers, tags, install scheme), listing its distributions, and the env lock.
//!
//! Every function here blocks (processes, filesystem, file locks): async callers use
//! `spawn_blocking`.

mod error;
mod interpreter;
mod lock;
mod python_env;
mod tags;
mod venv;

pub use error::{EnvError, EnvOrigin, ProcessOutput};
pub use interpreter::{Interpreter, Scheme};
pub use lock::EnvLock;
pub use python_env::{FindOptions, InstalledDist, InstalledScan, PythonEnvironment};
pub use tags::{
    TagInterpreter, TagPlatform, TagTarget, cpython_abis, generic_abis, mac_platforms,
    supported_tags,
};
pub use venv::{create_venv, create_venv_for};
