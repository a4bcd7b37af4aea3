//! Errors of the mirror stage: each names the file, folder, wheel or value it is about.

use std::path::PathBuf;

/// A mirror folder, file or target description that plonk cannot use.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// Reading a file or folder of the mirror failed.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file or folder of the mirror failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A wheel whose metadata cannot be read.
    #[error("{} is not a wheel plonk can mirror: {reason}", path.display())]
    BadWheel {
        /// The wheel.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `--python-version` that is not `X.Y` or `X.Y.Z`.
    #[error("`{value}` is not a Python version; give it as X.Y, e.g. `--python-version 3.11`")]
    BadPythonVersion {
        /// What was given.
        value: String,
    },
    /// `--platform` that is not a wheel platform tag.
    #[error(
        "`{value}` is not a wheel platform tag plonk knows; give one such as `manylinux_2_17_x86_64`, `musllinux_1_2_aarch64`, `macosx_11_0_arm64` or `win_amd64`"
    )]
    BadPlatform {
        /// What was given.
        value: String,
    },
    /// The marker file exists but is not valid.
    #[error(
        "the mirror marker {} is not valid; delete it to rebuild the mirror from scratch",
        path.display()
    )]
    BadMarker {
        /// The marker file.
        path: PathBuf,
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// The marker comes from a newer plonk.
    #[error(
        "{} was written by a newer plonk (mirror format {found}; this plonk knows {supported}); upgrade plonk or use another folder",
        path.display()
    )]
    NewerFormat {
        /// The marker file.
        path: PathBuf,
        /// Its format number.
        found: u32,
        /// The format this plonk writes.
        supported: u32,
    },
    /// The folder holds other things than a mirror.
    #[error(
        "{} is not empty and is not a plonk mirror (it has no {marker}); choose an empty or new folder",
        path.display()
    )]
    NotAMirror {
        /// The folder.
        path: PathBuf,
        /// The marker file name.
        marker: &'static str,
    },
}
