//! Distribution formats: wheel and sdist filenames, platform tags, METADATA / PKG-INFO,
//! RECORD, entry points, PEP 610 `direct_url.json`, and hashing helpers.
//!
//! This is an edge module: it knows no other plonk module and does no I/O; callers hand it
//! bytes.

mod direct_url;
mod entry_points;
mod error;
mod filename;
mod hash;
mod metadata;
mod record;
mod requirement;
mod tags;

pub use direct_url::{ArchiveInfo, DirInfo, DirectUrl, VcsInfo};
pub use entry_points::{EntryPoint, EntryPoints};
pub use error::DistError;
pub use filename::{DistFilename, SdistExtension, SdistFilename, WheelFilename};
pub use hash::{Sha256Hasher, hex_encode, record_hash, sha256_hex, urlsafe_b64_nopad};
pub use metadata::Metadata;
pub use record::{Record, RecordEntry};
pub use requirement::{RequirementError, parse_requirement};
pub use tags::Tags;

pub use pep440_rs::{Version, VersionSpecifiers};
pub use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement};
