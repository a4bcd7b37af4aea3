//! Shared helpers of the integration tests.

pub mod packages;
pub mod plonk;
pub mod scenarios;
pub mod server;
pub mod servers;
pub mod tree;
pub mod venv;
