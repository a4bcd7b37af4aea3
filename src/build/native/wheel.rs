//! Writes the wheel archive: the selected files, then `METADATA`, `WHEEL`,
//! `entry_points.txt`, `licenses/` and `RECORD` in hatchling's order, with hatchling's
//! reproducible timestamps (2020-02-02) and 644/755 permissions. The archive is written to a
//! temporary file in the output folder and renamed into place once complete.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::config::HatchProject;
use super::metadata::{entry_points_file, metadata_file, wheel_file};
use super::pyutil::file_name_component;
use super::select::Included;
use super::{NResult, Refusal};
use crate::build::BuildError;
use crate::dist::{Record, RecordEntry, record_hash};

/// `{name}-{version}` as hatchling names the wheel and its `.dist-info`.
pub(crate) fn project_id(project: &HatchProject) -> String {
    let name = if project.build.strict_naming {
        &project.core.name
    } else {
        &project.core.raw_name
    };
    format!("{}-{}", file_name_component(name), project.core.version)
}

/// The wheel's file name.
pub(crate) fn wheel_name(project: &HatchProject) -> String {
    format!("{}-{}.whl", project_id(project), project.core.tag)
}

/// `normalize_file_permissions`: 644, or 755 when the owner may execute.
fn normalize_mode(mode: u32) -> u32 {
    let mut new = (mode | 0o644) & !0o133;
    if mode & 0o100 != 0 {
        new |= 0o111;
    }
    new & 0o7777
}

struct Writer {
    zip: ZipWriter<fs::File>,
    record: Record,
    time: DateTime,
    path: PathBuf,
}

impl Writer {
    fn add(&mut self, name: &str, data: &[u8], mode: u32) -> NResult<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(self.time)
            .unix_permissions(mode)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        let zip_err = |err: zip::result::ZipError| {
            Refusal::Failed(BuildError::io(
                "write",
                &self.path,
                std::io::Error::other(err),
            ))
        };
        self.zip.start_file(name, options).map_err(zip_err)?;
        self.zip
            .write_all(data)
            .map_err(|err| Refusal::Failed(BuildError::io("write", &self.path, err)))?;
        self.record.entries.push(RecordEntry {
            path: name.to_string(),
            hash: Some(record_hash(data)),
            size: Some(data.len() as u64),
        });
        Ok(())
    }
}

/// Builds the wheel of `project` from `files` into `out_dir`.
pub(crate) fn write(
    project: &HatchProject,
    files: &[Included],
    out_dir: &Path,
) -> NResult<PathBuf> {
    let failed = |action: &'static str, path: &Path, err: std::io::Error| {
        Refusal::Failed(BuildError::io(action, path, err))
    };
    fs::create_dir_all(out_dir).map_err(|err| failed("create the folder", out_dir, err))?;
    let name = wheel_name(project);
    let target = out_dir.join(&name);
    let temp = tempfile::Builder::new()
        .prefix(".plonk-native-")
        .suffix(".whl.tmp")
        .tempfile_in(out_dir)
        .map_err(|err| failed("create a file in", out_dir, err))?;
    let file = temp
        .reopen()
        .map_err(|err| failed("open", temp.path(), err))?;
    let time = DateTime::from_date_and_time(2020, 2, 2, 0, 0, 0)
        .map_err(|_| Refusal::skip("the reproducible timestamp is not representable"))?;
    let mut writer = Writer {
        zip: ZipWriter::new(file),
        record: Record::default(),
        time,
        path: temp.path().to_path_buf(),
    };

    for file in files {
        let data = project.tree.read(&file.rel)?;
        let path = project.tree.absolute(&file.rel);
        let mode = fs::metadata(&path)
            .map_err(|err| failed("inspect", &path, err))?
            .permissions()
            .mode();
        writer.add(&file.dist, &data, normalize_mode(mode))?;
    }
    let dist_info = format!("{}.dist-info", project_id(project));
    writer.add(
        &format!("{dist_info}/METADATA"),
        metadata_file(&project.core).as_bytes(),
        0o644,
    )?;
    writer.add(
        &format!("{dist_info}/WHEEL"),
        wheel_file(&project.core.tag).as_bytes(),
        0o644,
    )?;
    if let Some(entry_points) = entry_points_file(&project.core) {
        writer.add(
            &format!("{dist_info}/entry_points.txt"),
            entry_points.as_bytes(),
            0o644,
        )?;
    }
    for license in &project.core.license_files {
        let data = project.tree.read(license)?;
        writer.add(&format!("{dist_info}/licenses/{license}"), &data, 0o644)?;
    }
    let record_name = format!("{dist_info}/RECORD");
    writer.record.entries.push(RecordEntry {
        path: record_name.clone(),
        hash: None,
        size: None,
    });
    let record = writer.record.write();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(writer.time)
        .unix_permissions(0o644);
    let path = writer.path.clone();
    let zip_err = |err: zip::result::ZipError| failed("write", &path, std::io::Error::other(err));
    writer
        .zip
        .start_file(record_name, options)
        .map_err(zip_err)?;
    writer
        .zip
        .write_all(record.as_bytes())
        .map_err(|err| failed("write", &path, err))?;
    writer.zip.finish().map_err(zip_err)?;
    temp.persist(&target)
        .map_err(|err| failed("move the wheel to", &target, err.error))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(normalize_mode(0o100600), 0o644);
        assert_eq!(normalize_mode(0o100700), 0o755);
        assert_eq!(normalize_mode(0o100777), 0o755);
        assert_eq!(normalize_mode(0o100666), 0o644);
    }
}
