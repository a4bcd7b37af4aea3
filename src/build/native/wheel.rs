//! Writes the wheel archive from a [`WheelPlan`]: project files, generated `.dist-info` files
//! and (for `uv_build`) directory entries, in the backend's order, then `RECORD`. The archive is
//! written to a temporary file in the output folder and renamed into place once complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::config::HatchProject;
use super::metadata::{entry_points_file, metadata_file, wheel_file};
use super::pyutil::file_name_component;
use super::select::Included;
use super::tree::Tree;
use super::{NResult, Refusal};
use crate::build::BuildError;
use crate::dist::{Record, RecordEntry, record_hash};

/// How a project file's permissions become the archive entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModeRule {
    /// hatchling's `normalize_file_permissions`: 755 when the owner may execute, else 644.
    Hatchling,
    /// hatchling with `reproducible = false`: the file's own permission bits.
    Raw,
    /// uv's: 755 when anyone may execute, else 644.
    Uv,
}

/// One archive entry, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Planned {
    /// A project file (relative to the project) stored under `dist`.
    File {
        /// The path relative to the project.
        rel: String,
        /// The path inside the wheel.
        dist: String,
    },
    /// A generated file (`METADATA`, ...).
    Generated {
        /// The path inside the wheel.
        dist: String,
        /// The contents.
        data: Vec<u8>,
    },
    /// A directory entry (`uv_build` writes them; they are not in RECORD).
    Dir {
        /// The path inside the wheel, ending with `/`.
        dist: String,
    },
}

/// Everything needed to write the wheel; computing it reads the project but writes nothing.
#[derive(Debug, Clone)]
pub(crate) struct WheelPlan {
    /// The project folder.
    pub tree: Tree,
    /// The build backend reproduced.
    pub backend: &'static str,
    /// The wheel file name.
    pub name: String,
    /// The entries before `RECORD`.
    pub entries: Vec<Planned>,
    /// The path of `RECORD` inside the wheel.
    pub record: String,
    /// How file permissions are carried over.
    pub mode_rule: ModeRule,
}

/// `{name}-{version}` as hatchling names the wheel and its `.dist-info`.
pub(crate) fn project_id(project: &HatchProject) -> String {
    let name = if project.build.strict_naming {
        &project.core.name
    } else {
        &project.core.raw_name
    };
    format!("{}-{}", file_name_component(name), project.core.version)
}

/// The plan of hatchling's `build_standard`: files, `METADATA`, `WHEEL`,
/// `entry_points.txt`, `licenses/`, then `RECORD`.
pub(crate) fn hatchling_plan(project: HatchProject, files: Vec<Included>) -> NResult<WheelPlan> {
    let id = project_id(&project);
    let dist_info = format!("{id}.dist-info");
    if let Some(file) = files
        .iter()
        .find(|f| f.dist.starts_with(&format!("{dist_info}/")))
    {
        return Err(Refusal::skip(format!(
            "`{}` would be shipped inside `{dist_info}`",
            file.rel
        )));
    }
    let mut entries: Vec<Planned> = files
        .into_iter()
        .map(|f| Planned::File {
            rel: f.rel,
            dist: f.dist,
        })
        .collect();
    let generated = |name: &str, text: String| Planned::Generated {
        dist: format!("{dist_info}/{name}"),
        data: text.into_bytes(),
    };
    entries.push(generated("METADATA", metadata_file(&project.core)));
    entries.push(generated("WHEEL", wheel_file(&project.core.tag)));
    if let Some(text) = entry_points_file(&project.core) {
        entries.push(generated("entry_points.txt", text));
    }
    for license in &project.core.license_files {
        entries.push(Planned::File {
            rel: license.clone(),
            dist: format!("{dist_info}/licenses/{license}"),
        });
    }
    Ok(WheelPlan {
        name: format!("{id}-{}.whl", project.core.tag),
        tree: project.tree,
        backend: super::config::HATCHLING_BACKEND,
        entries,
        record: format!("{dist_info}/RECORD"),
        mode_rule: if project.build.reproducible {
            ModeRule::Hatchling
        } else {
            ModeRule::Raw
        },
    })
}

/// The permission bits of a file (`st_mode`); Windows has no executable bit.
#[cfg(unix)]
fn unix_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn unix_mode(_meta: &fs::Metadata) -> u32 {
    0o644
}

/// The archive permissions of a project file with mode `mode`.
fn file_mode(rule: ModeRule, mode: u32) -> u32 {
    match rule {
        ModeRule::Hatchling => {
            let mut new = (mode | 0o644) & !0o133;
            if mode & 0o100 != 0 {
                new |= 0o111;
            }
            new & 0o7777
        }
        ModeRule::Raw => mode & 0o7777,
        ModeRule::Uv if mode & 0o111 != 0 => 0o755,
        ModeRule::Uv => 0o644,
    }
}

struct Writer {
    zip: ZipWriter<fs::File>,
    record: Record,
    time: DateTime,
    path: PathBuf,
}

impl Writer {
    fn failed(&self, err: std::io::Error) -> Refusal {
        Refusal::Failed(BuildError::io("write", &self.path, err))
    }

    fn add(&mut self, name: &str, data: &[u8], mode: u32, record: bool) -> NResult<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(self.time)
            .unix_permissions(mode)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        self.zip
            .start_file(name, options)
            .map_err(|err| self.failed(std::io::Error::other(err)))?;
        self.zip.write_all(data).map_err(|err| self.failed(err))?;
        if record {
            self.record.entries.push(RecordEntry {
                path: name.to_string(),
                hash: Some(record_hash(data)),
                size: Some(data.len() as u64),
            });
        }
        Ok(())
    }

    fn add_dir(&mut self, name: &str) -> NResult<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(self.time)
            .unix_permissions(0o755);
        self.zip
            .add_directory(name, options)
            .map_err(|err| self.failed(std::io::Error::other(err)))
    }
}

/// Writes the wheel of `plan` into `out_dir` and returns its path.
pub(crate) fn write(plan: &WheelPlan, out_dir: &Path) -> NResult<PathBuf> {
    let failed = |action: &'static str, path: &Path, err: std::io::Error| {
        Refusal::Failed(BuildError::io(action, path, err))
    };
    fs::create_dir_all(out_dir).map_err(|err| failed("create the folder", out_dir, err))?;
    let target = out_dir.join(&plan.name);
    let temp = tempfile::Builder::new()
        .prefix(".plonk-native-")
        .suffix(".whl.tmp")
        .tempfile_in(out_dir)
        .map_err(|err| failed("create a file in", out_dir, err))?;
    let file = temp
        .reopen()
        .map_err(|err| failed("open", temp.path(), err))?;
    // hatchling's reproducible timestamp (`SOURCE_DATE_EPOCH` default, 2020-02-02).
    let time = DateTime::from_date_and_time(2020, 2, 2, 0, 0, 0)
        .map_err(|_| Refusal::skip("the reproducible timestamp is not representable"))?;
    let mut writer = Writer {
        zip: ZipWriter::new(file),
        record: Record::default(),
        time,
        path: temp.path().to_path_buf(),
    };
    for entry in &plan.entries {
        match entry {
            Planned::File { rel, dist } => {
                let data = plan.tree.read(rel)?;
                let path = plan.tree.absolute(rel);
                let mode =
                    unix_mode(&fs::metadata(&path).map_err(|err| failed("inspect", &path, err))?);
                writer.add(dist, &data, file_mode(plan.mode_rule, mode), true)?;
            }
            Planned::Generated { dist, data } => writer.add(dist, data, 0o644, true)?,
            Planned::Dir { dist } => writer.add_dir(dist)?,
        }
    }
    writer.record.entries.push(RecordEntry {
        path: plan.record.clone(),
        hash: None,
        size: None,
    });
    let record = writer.record.write();
    writer.add(&plan.record, record.as_bytes(), 0o644, false)?;
    let path = writer.path.clone();
    writer
        .zip
        .finish()
        .map_err(|err| failed("write", &path, std::io::Error::other(err)))?;
    temp.persist(&target)
        .map_err(|err| failed("move the wheel to", &target, err.error))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let rows = [
            (ModeRule::Hatchling, 0o100600, 0o644),
            (ModeRule::Hatchling, 0o100700, 0o755),
            (ModeRule::Hatchling, 0o100777, 0o755),
            (ModeRule::Hatchling, 0o100666, 0o644),
            (ModeRule::Hatchling, 0o100645, 0o644),
            (ModeRule::Raw, 0o100640, 0o640),
            (ModeRule::Uv, 0o100645, 0o755),
            (ModeRule::Uv, 0o100600, 0o644),
        ];
        for (rule, mode, expected) in rows {
            assert_eq!(file_mode(rule, mode), expected, "{rule:?} {mode:o}");
        }
    }
}
