//! Native builds of pure-Python projects whose backend is hatchling, without starting Python.

mod gitignore;
mod pyutil;
mod requirement;
