//! Integration tests: one binary driving the built `plonk`, a module per command.

mod support;

mod harness;
mod install;
mod registry;
mod remove;
mod indexes;
mod safety;
