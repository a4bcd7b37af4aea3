//! Errors of installing a wheel into an environment and uninstalling a distribution.

use std::path::PathBuf;

use thiserror::Error;

use crate::dist::DistError;

/// Why a wheel could not be installed or a distribution uninstalled. Install errors name the
/// wheel file and, where there is one, the archive entry or path at fault.
#[derive(Debug, Error)]
pub enum InstallError {
    /// The wheel file could not be opened.
    #[error("Failed to open the wheel `{}`", wheel.display())]
    OpenWheel {
        /// The wheel file.
        wheel: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The wheel's file name is not a PEP 427 name.
    #[error("`{}` does not have a valid wheel file name", wheel.display())]
    WheelFilename {
        /// The wheel file.
        wheel: PathBuf,
        /// The parse error.
        #[source]
        source: DistError,
    },
    /// The wheel is not a readable zip archive (corrupt or truncated).
    #[error("The wheel `{}` is not a valid zip archive", wheel.display())]
    Zip {
        /// The wheel file.
        wheel: PathBuf,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// An entry of the wheel could not be read (corrupt data, bad name encoding, encryption).
    #[error("Failed to read `{entry}` from the wheel `{}`", wheel.display())]
    ZipEntry {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name, or its index when the name itself is unreadable.
        entry: String,
        /// The zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading an entry's data failed (corrupt deflate stream, CRC mismatch).
    #[error("Failed to decompress `{entry}` from the wheel `{}`", wheel.display())]
    ReadEntry {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The archive's central directory lists some name more than once.
    #[error("The wheel `{}` contains an entry name more than once", wheel.display())]
    DuplicateNames {
        /// The wheel file.
        wheel: PathBuf,
    },
    /// An entry whose name could escape the install directory or is otherwise unsafe.
    #[error("The wheel `{}` has an unsafe entry `{entry}`: {reason}", wheel.display())]
    UnsafeEntry {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The same entry name appears twice in the archive.
    #[error("The wheel `{}` contains `{entry}` more than once", wheel.display())]
    DuplicateEntry {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// An entry decompresses to more bytes than its header declares (a zip bomb).
    #[error(
        "The entry `{entry}` of the wheel `{}` decompresses to more than its declared {declared} bytes",
        wheel.display()
    )]
    EntryTooLarge {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The size the archive declares.
        declared: u64,
    },
    /// The wheel unpacks to more than the allowed total.
    #[error("The wheel `{}` unpacks to more than {limit} bytes", wheel.display())]
    WheelTooLarge {
        /// The wheel file.
        wheel: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// No `.dist-info` directory for the wheel's name and version.
    #[error("The wheel `{}` has no `{expected}` directory", wheel.display())]
    MissingDistInfo {
        /// The wheel file.
        wheel: PathBuf,
        /// The directory name the file name implies.
        expected: String,
    },
    /// A `.dist-info` or `.data` directory that does not belong to the wheel's name and version.
    #[error(
        "The wheel `{}` contains `{found}`, which does not match its name and version (expected `{expected}`)",
        wheel.display()
    )]
    DistInfoMismatch {
        /// The wheel file.
        wheel: PathBuf,
        /// The directory found.
        found: String,
        /// The directory expected.
        expected: String,
    },
    /// A required file of the `.dist-info` directory is missing.
    #[error("The wheel `{}` has no `{file}`", wheel.display())]
    MissingDistFile {
        /// The wheel file.
        wheel: PathBuf,
        /// The missing file, e.g. `foo-1.0.dist-info/RECORD`.
        file: String,
    },
    /// The `WHEEL` file is malformed or of an unsupported version.
    #[error("The file `{file}` of the wheel `{}` is invalid: {reason}", wheel.display())]
    InvalidWheelFile {
        /// The wheel file.
        wheel: PathBuf,
        /// The file inside the wheel.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `.dist-info` file (RECORD, METADATA, entry_points.txt) does not parse.
    #[error("The file `{file}` of the wheel `{}` is invalid", wheel.display())]
    InvalidDistFile {
        /// The wheel file.
        wheel: PathBuf,
        /// The file inside the wheel.
        file: String,
        /// The parse error.
        #[source]
        source: DistError,
    },
    /// METADATA names another distribution or version than the file name.
    #[error(
        "The wheel `{}` contains metadata for `{found}`, not `{expected}`",
        wheel.display()
    )]
    MetadataMismatch {
        /// The wheel file.
        wheel: PathBuf,
        /// `name==version` from METADATA.
        found: String,
        /// `name==version` from the file name.
        expected: String,
    },
    /// A file of the wheel that RECORD does not list with a hash.
    #[error("The entry `{entry}` of the wheel `{}` is not listed with a hash in RECORD", wheel.display())]
    NotInRecord {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// A file whose content does not match its RECORD hash.
    #[error(
        "The entry `{entry}` of the wheel `{}` does not match RECORD: expected {expected}, got {actual}",
        wheel.display()
    )]
    HashMismatch {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The RECORD hash.
        expected: String,
        /// The hash of the content.
        actual: String,
    },
    /// A file whose size does not match its RECORD size.
    #[error(
        "The entry `{entry}` of the wheel `{}` is {actual} bytes but RECORD says {expected}",
        wheel.display()
    )]
    SizeMismatch {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The RECORD size.
        expected: u64,
        /// The actual size.
        actual: u64,
    },
    /// A RECORD hash algorithm plonk does not accept (only sha256, sha384, sha512).
    #[error(
        "The entry `{entry}` of the wheel `{}` uses the unsupported hash `{algorithm}` in RECORD",
        wheel.display()
    )]
    UnsupportedHash {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The algorithm named in RECORD.
        algorithm: String,
    },
    /// A `.data/<key>/` folder other than purelib, platlib, scripts, headers and data.
    #[error("The entry `{entry}` of the wheel `{}` is in an unknown `.data` folder", wheel.display())]
    UnknownDataDir {
        /// The wheel file.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// A console or GUI script entry point that cannot become a launcher.
    #[error(
        "The entry point `{name} = {value}` in `[{group}]` of the wheel `{}` is invalid",
        wheel.display()
    )]
    InvalidEntryPoint {
        /// The wheel file.
        wheel: PathBuf,
        /// `console_scripts` or `gui_scripts`.
        group: String,
        /// The script name.
        name: String,
        /// The object reference.
        value: String,
    },
    /// Two files of the wheel (or a file and a launcher) would be installed at the same path.
    #[error("The wheel `{}` installs `{}` twice", wheel.display(), path.display())]
    ConflictingPaths {
        /// The wheel file.
        wheel: PathBuf,
        /// The destination path.
        path: PathBuf,
    },
    /// One path of the wheel is both a file and the folder of other files (`a` and `a/b`).
    #[error(
        "The wheel `{}` installs `{}` both as a file and as a folder",
        wheel.display(),
        path.display()
    )]
    FileAndFolder {
        /// The wheel file.
        wheel: PathBuf,
        /// The destination path that is both.
        path: PathBuf,
    },
    /// The distribution's `.dist-info` directory already exists in the environment.
    #[error(
        "Cannot install `{}` because `{}` already exists; uninstall it first",
        wheel.display(),
        dist_info.display()
    )]
    AlreadyInstalled {
        /// The wheel file.
        wheel: PathBuf,
        /// The existing directory.
        dist_info: PathBuf,
    },
    /// A file-system operation failed.
    #[error("Failed to {action} `{}`", path.display())]
    Io {
        /// What was being done, e.g. `write`, `create directory`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The interpreter could not be run to byte-compile.
    #[error("Failed to run `{}` to byte-compile the installed files", python.display())]
    CompileSpawn {
        /// The interpreter.
        python: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Byte-compiling exited with an error.
    #[error("Byte-compiling with `{}` failed ({status}): {stderr}", python.display())]
    CompileFailed {
        /// The interpreter.
        python: PathBuf,
        /// The exit status.
        status: String,
        /// The last lines of its standard error.
        stderr: String,
    },
    /// The install failed and its rollback could not restore a path either.
    #[error(
        "Installing `{}` failed and `{}` could not be restored",
        wheel.display(),
        leftover.display()
    )]
    RollbackIncomplete {
        /// The wheel file.
        wheel: PathBuf,
        /// The first path the rollback could not restore or remove.
        leftover: PathBuf,
        /// The error that made the install fail.
        #[source]
        cause: Box<InstallError>,
    },
    /// An installed distribution without a readable RECORD cannot be uninstalled safely.
    #[error("Cannot uninstall `{}` because its RECORD is missing or unreadable", dist_info.display())]
    MissingRecord {
        /// The `.dist-info` directory.
        dist_info: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An installed distribution's RECORD does not parse.
    #[error("Cannot uninstall `{}` because its RECORD is invalid", dist_info.display())]
    InvalidRecord {
        /// The `.dist-info` directory.
        dist_info: PathBuf,
        /// The parse error.
        #[source]
        source: DistError,
    },
    /// The `.dist-info` directory to uninstall is not inside the environment's site-packages.
    #[error("`{}` is not a distribution of this environment", dist_info.display())]
    ForeignDistInfo {
        /// The `.dist-info` directory.
        dist_info: PathBuf,
    },
}

impl InstallError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        InstallError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
