//! Integration tests: one binary driving the built `plonk`, a module per command.

mod support;

mod cache;
mod harness;
mod indexes;
mod install;
mod registry;
mod remove;
mod safety;
mod sources;
mod upgrade;
mod airgap;
mod mirror;
