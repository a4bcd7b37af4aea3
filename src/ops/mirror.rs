//! `plonk mirror`.
