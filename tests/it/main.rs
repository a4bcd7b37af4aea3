//! Integration tests: one binary driving the built `plonk`, a module per command.

mod support;

mod airgap;
mod cache;
mod harness;
mod hostile;
mod indexes;
mod install;
mod mirror;
mod parallel;
mod registry;
mod remove;
mod safety;
mod sources;
mod upgrade;
