//! Builders for the Python distributions the integration tests install: wheels (valid per the
//! binary distribution format, with a RECORD whose hashes and sizes check out) and sdists in the
//! shape hatchling and setuptools produce them. Everything is written at test time, so a test
//! states exactly what it installs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

/// Timestamp stamped on every archive member, so rebuilding a fixture gives the same bytes
/// (the one hatchling uses for reproducible builds: 2020-02-02).
const SOURCE_DATE_EPOCH: u64 = 1_580_601_600;

/// PEP 503 normalised name: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

/// The name as it appears in wheel and (PEP 625) sdist filenames and in `.dist-info`:
/// normalised, with `_` as separator (`tutor-indigo` -> `tutor_indigo`).
pub fn filename_name(name: &str) -> String {
    normalize(name).replace('-', "_")
}

/// Lower-case hex sha256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `sha256=<urlsafe base64, no padding>` form RECORD files use.
pub fn record_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_slice())
    )
}

/// One member of an archive under construction.
#[derive(Clone, Debug)]
struct Member {
    path: String,
    data: Vec<u8>,
    mode: u32,
}

/// A wheel to write; see the module docs. Defaults: tag `py3-none-any`, `Root-Is-Purelib: true`,
/// file mode 0o644 (0o755 for `.data/scripts`).
#[derive(Clone, Debug)]
pub struct WheelBuilder {
    name: String,
    version: String,
    build_tag: Option<String>,
    tag: String,
    root_is_purelib: bool,
    summary: Option<String>,
    requires: Vec<String>,
    requires_python: Option<String>,
    extras: Vec<String>,
    extra_headers: Vec<(String, String)>,
    entry_points: BTreeMap<String, Vec<(String, String)>>,
    files: Vec<Member>,
    data: Vec<(String, Member)>,
    dist_info_files: Vec<Member>,
    raw: Vec<(Member, bool)>,
    metadata_version: String,
}

impl WheelBuilder {
    /// A wheel of `name` (any spelling; normalised in filenames) at `version`.
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            build_tag: None,
            tag: "py3-none-any".to_string(),
            root_is_purelib: true,
            summary: None,
            requires: Vec::new(),
            requires_python: None,
            extras: Vec::new(),
            extra_headers: Vec::new(),
            entry_points: BTreeMap::new(),
            files: Vec::new(),
            data: Vec::new(),
            dist_info_files: Vec::new(),
            raw: Vec::new(),
            metadata_version: "2.1".to_string(),
        }
    }

    /// A file at the root of the wheel (installed into purelib or platlib), mode 0o644.
    pub fn file(self, path: &str, data: impl AsRef<[u8]>) -> Self {
        self.file_mode(path, data, 0o644)
    }

    /// A file at the root of the wheel with explicit unix permissions.
    pub fn file_mode(mut self, path: &str, data: impl AsRef<[u8]>, mode: u32) -> Self {
        self.files.push(Member {
            path: path.to_string(),
            data: data.as_ref().to_vec(),
            mode,
        });
        self
    }

    /// A `Requires-Dist` line, PEP 508 text as given (markers included).
    pub fn requires(mut self, req: &str) -> Self {
        self.requires.push(req.to_string());
        self
    }

    /// The `Requires-Python` specifier.
    pub fn requires_python(mut self, spec: &str) -> Self {
        self.requires_python = Some(spec.to_string());
        self
    }

    /// A `Provides-Extra` line; its requirements are `requires("x; extra == \"name\"")`.
    pub fn extra(mut self, name: &str) -> Self {
        self.extras.push(name.to_string());
        self
    }

    /// The `Summary` header.
    pub fn summary(mut self, text: &str) -> Self {
        self.summary = Some(text.to_string());
        self
    }

    /// Any other METADATA header (`Dynamic`, `License`, `Author`, ...).
    pub fn header(mut self, key: &str, value: &str) -> Self {
        self.extra_headers
            .push((key.to_string(), value.to_string()));
        self
    }

    /// The `Metadata-Version` (default 2.1).
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.metadata_version = version.to_string();
        self
    }

    /// An entry point, written to `entry_points.txt`.
    pub fn entry_point(mut self, group: &str, name: &str, value: &str) -> Self {
        self.entry_points
            .entry(group.to_string())
            .or_default()
            .push((name.to_string(), value.to_string()));
        self
    }

    /// A `console_scripts` entry point.
    pub fn console_script(self, name: &str, value: &str) -> Self {
        self.entry_point("console_scripts", name, value)
    }

    /// A `gui_scripts` entry point.
    pub fn gui_script(self, name: &str, value: &str) -> Self {
        self.entry_point("gui_scripts", name, value)
    }

    /// A file under `<name>-<version>.data/<kind>/`; `kind` is one of scripts, data, headers,
    /// purelib, platlib. Scripts get mode 0o755, the rest 0o644.
    pub fn data(self, kind: &str, path: &str, data: impl AsRef<[u8]>) -> Self {
        let mode = if kind == "scripts" { 0o755 } else { 0o644 };
        self.data_mode(kind, path, data, mode)
    }

    /// Like [`WheelBuilder::data`] with explicit unix permissions.
    pub fn data_mode(mut self, kind: &str, path: &str, data: impl AsRef<[u8]>, mode: u32) -> Self {
        self.data.push((
            kind.to_string(),
            Member {
                path: path.to_string(),
                data: data.as_ref().to_vec(),
                mode,
            },
        ));
        self
    }

    /// An extra file in `.dist-info/` (listed in RECORD).
    pub fn dist_info_file(mut self, name: &str, data: impl AsRef<[u8]>) -> Self {
        self.dist_info_files.push(Member {
            path: name.to_string(),
            data: data.as_ref().to_vec(),
            mode: 0o644,
        });
        self
    }

    /// A zip member written verbatim under `name` (e.g. `../evil.py` for hostile-input tests),
    /// listed in RECORD only when `in_record`.
    pub fn raw_entry(mut self, name: &str, data: impl AsRef<[u8]>, in_record: bool) -> Self {
        self.raw.push((
            Member {
                path: name.to_string(),
                data: data.as_ref().to_vec(),
                mode: 0o644,
            },
            in_record,
        ));
        self
    }

    /// The compressed tag triple of the filename, e.g. `py3-none-any`, `py2.py3-none-any`,
    /// `cp311-cp311-manylinux_2_17_x86_64`.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = tag.to_string();
        self
    }

    /// The optional build tag (must start with a digit).
    pub fn build_tag(mut self, build: &str) -> Self {
        self.build_tag = Some(build.to_string());
        self
    }

    /// `Root-Is-Purelib` of the WHEEL file.
    pub fn root_is_purelib(mut self, purelib: bool) -> Self {
        self.root_is_purelib = purelib;
        self
    }

    /// The project name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version as given.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `<name>-<version>.dist-info`.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", filename_name(&self.name), self.version)
    }

    /// `<name>-<version>.data`.
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", filename_name(&self.name), self.version)
    }

    /// The wheel filename, `{name}-{version}(-{build})?-{tag}.whl`.
    pub fn filename(&self) -> String {
        let build = self
            .build_tag
            .as_deref()
            .map(|b| format!("-{b}"))
            .unwrap_or_default();
        format!(
            "{}-{}{}-{}.whl",
            filename_name(&self.name),
            self.version,
            build,
            self.tag
        )
    }

    /// The METADATA text (also what a PEP 658 `.metadata` file holds).
    pub fn metadata(&self) -> String {
        let mut out = format!(
            "Metadata-Version: {}\nName: {}\nVersion: {}\n",
            self.metadata_version, self.name, self.version
        );
        if let Some(summary) = &self.summary {
            out.push_str(&format!("Summary: {summary}\n"));
        }
        for (key, value) in &self.extra_headers {
            out.push_str(&format!("{key}: {value}\n"));
        }
        if let Some(spec) = &self.requires_python {
            out.push_str(&format!("Requires-Python: {spec}\n"));
        }
        for req in &self.requires {
            out.push_str(&format!("Requires-Dist: {req}\n"));
        }
        for extra in &self.extras {
            out.push_str(&format!("Provides-Extra: {extra}\n"));
        }
        out
    }

    /// The WHEEL text, with one `Tag:` line per expanded tag.
    pub fn wheel_file(&self) -> String {
        let mut out = format!(
            "Wheel-Version: 1.0\nGenerator: plonk-tests\nRoot-Is-Purelib: {}\n",
            self.root_is_purelib
        );
        if let Some(build) = &self.build_tag {
            out.push_str(&format!("Build: {build}\n"));
        }
        let mut parts = self.tag.splitn(3, '-');
        let (py, abi, plat) = (
            parts.next().unwrap_or("py3"),
            parts.next().unwrap_or("none"),
            parts.next().unwrap_or("any"),
        );
        for p in py.split('.') {
            for a in abi.split('.') {
                for pl in plat.split('.') {
                    out.push_str(&format!("Tag: {p}-{a}-{pl}\n"));
                }
            }
        }
        out
    }

    /// The entry_points.txt text, or `None` when there are no entry points.
    pub fn entry_points_file(&self) -> Option<String> {
        if self.entry_points.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (group, entries) in &self.entry_points {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{group}]\n"));
            for (name, value) in entries {
                out.push_str(&format!("{name} = {value}\n"));
            }
        }
        Some(out)
    }

    /// The archive members in write order: package files, `.data`, then `.dist-info` with
    /// RECORD last (as the spec recommends); the bool says whether RECORD lists the member.
    fn members(&self) -> Vec<(Member, bool)> {
        let mut members: Vec<(Member, bool)> =
            self.files.iter().map(|m| (m.clone(), true)).collect();
        let data_dir = self.data_dir();
        for (kind, m) in &self.data {
            members.push((
                Member {
                    path: format!("{data_dir}/{kind}/{}", m.path),
                    ..m.clone()
                },
                true,
            ));
        }
        members.extend(self.raw.iter().cloned());
        let dist_info = self.dist_info_dir();
        let mut meta = vec![
            Member {
                path: format!("{dist_info}/METADATA"),
                data: self.metadata().into_bytes(),
                mode: 0o644,
            },
            Member {
                path: format!("{dist_info}/WHEEL"),
                data: self.wheel_file().into_bytes(),
                mode: 0o644,
            },
        ];
        if let Some(eps) = self.entry_points_file() {
            meta.push(Member {
                path: format!("{dist_info}/entry_points.txt"),
                data: eps.into_bytes(),
                mode: 0o644,
            });
        }
        for m in &self.dist_info_files {
            meta.push(Member {
                path: format!("{dist_info}/{}", m.path),
                ..m.clone()
            });
        }
        members.extend(meta.into_iter().map(|m| (m, true)));
        members
    }

    /// The RECORD text for `members`, RECORD's own line last with no hash.
    fn record(&self, members: &[(Member, bool)]) -> String {
        let mut out = String::new();
        for (m, listed) in members {
            if *listed {
                out.push_str(&format!(
                    "{},{},{}\n",
                    csv_field(&m.path),
                    record_hash(&m.data),
                    m.data.len()
                ));
            }
        }
        out.push_str(&format!("{}/RECORD,,\n", self.dist_info_dir()));
        out
    }

    /// The wheel's bytes.
    pub fn build_bytes(&self) -> Vec<u8> {
        let members = self.members();
        let record = self.record(&members);
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let time = zip_time();
        let all = members
            .into_iter()
            .map(|(m, _)| m)
            .chain(std::iter::once(Member {
                path: format!("{}/RECORD", self.dist_info_dir()),
                data: record.into_bytes(),
                mode: 0o644,
            }));
        for m in all {
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(time)
                .unix_permissions(m.mode);
            zip.start_file(m.path.as_str(), options).unwrap();
            zip.write_all(&m.data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Writes the wheel into `dir` (created if missing) and returns its path.
    pub fn build(&self, dir: &Path) -> PathBuf {
        fs::create_dir_all(dir).unwrap();
        let path = dir.join(self.filename());
        fs::write(&path, self.build_bytes()).unwrap();
        path
    }
}

/// Quotes a RECORD path the way Python's csv module would (only when needed).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn zip_time() -> zip::DateTime {
    zip::DateTime::from_date_and_time(2020, 2, 2, 0, 0, 0).unwrap()
}

/// Which PEP 517 backend an sdist declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `hatchling.build`, configuration in `[project]`, PKG-INFO 2.4 with the full metadata
    /// (what the official Tutor plugins ship).
    Hatchling,
    /// `setuptools.build_meta`, configuration in setup.cfg + setup.py, PKG-INFO 2.1 without
    /// `Requires-Dist`, so the dependencies are only known after a build.
    Setuptools,
}

/// A source distribution to write; see [`Backend`].
#[derive(Clone, Debug)]
pub struct SdistBuilder {
    backend: Backend,
    name: String,
    version: String,
    summary: String,
    requires: Vec<String>,
    requires_python: Option<String>,
    extras: BTreeMap<String, Vec<String>>,
    entry_points: BTreeMap<String, Vec<(String, String)>>,
    packages: Vec<String>,
    py_modules: Vec<String>,
    dynamic_version: Option<String>,
    files: Vec<Member>,
    pkg_info_version: String,
    pyproject_text: Option<String>,
}

impl SdistBuilder {
    /// A hatchling sdist of `name` at `version`.
    pub fn hatchling(name: &str, version: &str) -> Self {
        Self::new(Backend::Hatchling, name, version, "2.4")
    }

    /// A setuptools sdist of `name` at `version`.
    pub fn setuptools(name: &str, version: &str) -> Self {
        Self::new(Backend::Setuptools, name, version, "2.1")
    }

    fn new(backend: Backend, name: &str, version: &str, pkg_info_version: &str) -> Self {
        Self {
            backend,
            name: name.to_string(),
            version: version.to_string(),
            summary: format!("The {name} test fixture"),
            requires: Vec::new(),
            requires_python: None,
            extras: BTreeMap::new(),
            entry_points: BTreeMap::new(),
            packages: Vec::new(),
            py_modules: Vec::new(),
            dynamic_version: None,
            files: Vec::new(),
            pkg_info_version: pkg_info_version.to_string(),
            pyproject_text: None,
        }
    }

    /// A project file, relative to the project root (`tutorindigo/plugin.py`).
    pub fn file(mut self, path: &str, data: impl AsRef<[u8]>) -> Self {
        self.files.push(Member {
            path: path.to_string(),
            data: data.as_ref().to_vec(),
            mode: 0o644,
        });
        self
    }

    /// A runtime dependency: `[project] dependencies` + PKG-INFO for hatchling,
    /// `install_requires` in setup.py for setuptools.
    pub fn requires(mut self, req: &str) -> Self {
        self.requires.push(req.to_string());
        self
    }

    /// `requires-python` / `python_requires`.
    pub fn requires_python(mut self, spec: &str) -> Self {
        self.requires_python = Some(spec.to_string());
        self
    }

    /// An optional dependency of `extra`.
    pub fn extra_requires(mut self, extra: &str, req: &str) -> Self {
        self.extras
            .entry(extra.to_string())
            .or_default()
            .push(req.to_string());
        self
    }

    /// The summary / description line.
    pub fn summary(mut self, text: &str) -> Self {
        self.summary = text.to_string();
        self
    }

    /// An entry point (`console_scripts` maps to `[project.scripts]` for hatchling).
    pub fn entry_point(mut self, group: &str, name: &str, value: &str) -> Self {
        self.entry_points
            .entry(group.to_string())
            .or_default()
            .push((name.to_string(), value.to_string()));
        self
    }

    /// A `console_scripts` entry point.
    pub fn console_script(self, name: &str, value: &str) -> Self {
        self.entry_point("console_scripts", name, value)
    }

    /// An import package to ship (`[tool.hatch.build.targets.wheel] packages` /
    /// `packages=`); needed when its name is not the project's (`tutorindigo`).
    pub fn package(mut self, name: &str) -> Self {
        self.packages.push(name.to_string());
        self
    }

    /// A top-level module (setuptools `py_modules`; hatchling `only-include` of `<name>.py`).
    pub fn py_module(mut self, name: &str) -> Self {
        self.py_modules.push(name.to_string());
        self
    }

    /// Hatchling only: `dynamic = ["version"]` read from `__version__` in `path`, as the
    /// real Tutor plugins do (`tutorindigo/__about__.py`). The file must exist (add it with
    /// [`SdistBuilder::file`]); PKG-INFO still carries the concrete version.
    pub fn dynamic_version(mut self, path: &str) -> Self {
        self.dynamic_version = Some(path.to_string());
        self
    }

    /// The PKG-INFO `Metadata-Version` (default 2.4 for hatchling, 2.1 for setuptools).
    pub fn pkg_info_version(mut self, version: &str) -> Self {
        self.pkg_info_version = version.to_string();
        self
    }

    /// The backend this sdist declares.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `{name}-{version}` with the PEP 625 name: the archive's top folder.
    pub fn base_name(&self) -> String {
        format!("{}-{}", filename_name(&self.name), self.version)
    }

    /// The PEP 625 filename, `tutor_indigo-22.0.0.tar.gz`.
    pub fn filename(&self) -> String {
        format!("{}.tar.gz", self.base_name())
    }

    /// The PKG-INFO text.
    pub fn pkg_info(&self) -> String {
        let mut out = format!(
            "Metadata-Version: {}\nName: {}\nVersion: {}\nSummary: {}\n",
            self.pkg_info_version, self.name, self.version, self.summary
        );
        if let Some(spec) = &self.requires_python {
            out.push_str(&format!("Requires-Python: {spec}\n"));
        }
        if self.backend == Backend::Hatchling {
            for req in &self.requires {
                out.push_str(&format!("Requires-Dist: {req}\n"));
            }
            for (extra, reqs) in &self.extras {
                out.push_str(&format!("Provides-Extra: {extra}\n"));
                for req in reqs {
                    out.push_str(&format!(
                        "Requires-Dist: {}\n",
                        with_extra_marker(req, extra)
                    ));
                }
            }
        }
        out
    }

    /// Replaces the generated pyproject.toml (PKG-INFO stays as the backend would write it).
    pub fn pyproject_text(mut self, text: &str) -> Self {
        self.pyproject_text = Some(text.to_string());
        self
    }

    /// The pyproject.toml text.
    pub fn pyproject(&self) -> String {
        if let Some(text) = &self.pyproject_text {
            return text.clone();
        }
        match self.backend {
            Backend::Hatchling => self.hatchling_pyproject(),
            Backend::Setuptools => "[build-system]\nrequires = [\"setuptools>=61\"]\n\
                 build-backend = \"setuptools.build_meta\"\n"
                .to_string(),
        }
    }

    fn hatchling_pyproject(&self) -> String {
        let mut out = String::from(
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n",
        );
        out.push_str("[project]\n");
        out.push_str(&format!("name = {}\n", toml_str(&self.name)));
        if self.dynamic_version.is_none() {
            out.push_str(&format!("version = {}\n", toml_str(&self.version)));
        }
        out.push_str(&format!("description = {}\n", toml_str(&self.summary)));
        if let Some(spec) = &self.requires_python {
            out.push_str(&format!("requires-python = {}\n", toml_str(spec)));
        }
        out.push_str(&format!("dependencies = {}\n", toml_list(&self.requires)));
        if self.dynamic_version.is_some() {
            out.push_str("dynamic = [\"version\"]\n");
        }
        if !self.extras.is_empty() {
            out.push_str("\n[project.optional-dependencies]\n");
            for (extra, reqs) in &self.extras {
                out.push_str(&format!("{extra} = {}\n", toml_list(reqs)));
            }
        }
        for (group, entries) in &self.entry_points {
            if group == "console_scripts" {
                out.push_str("\n[project.scripts]\n");
            } else if group == "gui_scripts" {
                out.push_str("\n[project.gui-scripts]\n");
            } else {
                out.push_str(&format!("\n[project.entry-points.{}]\n", toml_str(group)));
            }
            for (name, value) in entries {
                out.push_str(&format!("{} = {}\n", toml_str(name), toml_str(value)));
            }
        }
        if let Some(path) = &self.dynamic_version {
            out.push_str(&format!(
                "\n[tool.hatch.version]\npath = {}\n",
                toml_str(path)
            ));
        }
        if !self.packages.is_empty() || !self.py_modules.is_empty() {
            out.push_str("\n[tool.hatch.build.targets.wheel]\n");
            if !self.packages.is_empty() {
                out.push_str(&format!("packages = {}\n", toml_list(&self.packages)));
            }
            if !self.py_modules.is_empty() {
                let files: Vec<String> =
                    self.py_modules.iter().map(|m| format!("{m}.py")).collect();
                out.push_str(&format!("only-include = {}\n", toml_list(&files)));
            }
        }
        out
    }

    /// setup.cfg (metadata) for setuptools sdists.
    fn setup_cfg(&self) -> String {
        let mut out = format!(
            "[metadata]\nname = {}\nversion = {}\ndescription = {}\n",
            self.name, self.version, self.summary
        );
        if let Some(spec) = &self.requires_python {
            out.push_str(&format!("\n[options]\npython_requires = {spec}\n"));
        }
        out.push_str("\n[egg_info]\ntag_build = \ntag_date = 0\n");
        out
    }

    /// setup.py (modules, dependencies, entry points) for setuptools sdists: the dependencies
    /// live only here, so nothing short of running the backend reveals them.
    fn setup_py(&self) -> String {
        let mut out = String::from("from setuptools import setup\n\nsetup(\n");
        if !self.packages.is_empty() {
            out.push_str(&format!("    packages={},\n", py_list(&self.packages)));
        }
        if !self.py_modules.is_empty() {
            out.push_str(&format!("    py_modules={},\n", py_list(&self.py_modules)));
        }
        out.push_str(&format!(
            "    install_requires={},\n",
            py_list(&self.requires)
        ));
        if !self.extras.is_empty() {
            out.push_str("    extras_require={\n");
            for (extra, reqs) in &self.extras {
                out.push_str(&format!("        {:?}: {},\n", extra, py_list(reqs)));
            }
            out.push_str("    },\n");
        }
        if !self.entry_points.is_empty() {
            out.push_str("    entry_points={\n");
            for (group, entries) in &self.entry_points {
                let lines: Vec<String> = entries
                    .iter()
                    .map(|(name, value)| format!("{name} = {value}"))
                    .collect();
                out.push_str(&format!("        {:?}: {},\n", group, py_list(&lines)));
            }
            out.push_str("    },\n");
        }
        out.push_str(")\n");
        out
    }

    /// The archive members, relative to the top folder.
    fn members(&self) -> Vec<Member> {
        let text = |path: &str, data: String| Member {
            path: path.to_string(),
            data: data.into_bytes(),
            mode: 0o644,
        };
        let mut members = self.files.clone();
        members.push(text("pyproject.toml", self.pyproject()));
        if self.backend == Backend::Setuptools {
            members.push(text("setup.cfg", self.setup_cfg()));
            members.push(text("setup.py", self.setup_py()));
        }
        members.push(text("PKG-INFO", self.pkg_info()));
        members
    }

    /// The `.tar.gz` bytes: regular files only (no folder entries, as hatchling writes them),
    /// owner 0/0, fixed mtime.
    pub fn build_bytes(&self) -> Vec<u8> {
        let base = self.base_name();
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for m in self.members() {
            let mut header = tar::Header::new_gnu();
            header.set_size(m.data.len() as u64);
            header.set_mode(m.mode);
            header.set_mtime(SOURCE_DATE_EPOCH);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, format!("{base}/{}", m.path), m.data.as_slice())
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    /// Writes the sdist into `dir` (created if missing) and returns its path.
    pub fn build(&self, dir: &Path) -> PathBuf {
        fs::create_dir_all(dir).unwrap();
        let path = dir.join(self.filename());
        fs::write(&path, self.build_bytes()).unwrap();
        path
    }
}

/// `req` with `extra == "<extra>"` added to its marker, as backends write optional deps.
fn with_extra_marker(req: &str, extra: &str) -> String {
    match req.split_once(';') {
        Some((spec, marker)) => format!(
            "{}; ({}) and extra == '{extra}'",
            spec.trim(),
            marker.trim()
        ),
        None => format!("{}; extra == '{extra}'", req.trim()),
    }
}

/// A TOML basic string.
fn toml_str(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A Python list literal of strings (Rust's `{:?}` quoting is valid Python for these).
fn py_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// Reads a wheel back and checks every member against RECORD (hash and size), and that
/// RECORD lists every member; returns the problems found (empty = valid).
pub fn verify_wheel(path: &Path) -> Vec<String> {
    let file = fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        contents.insert(name, data);
    }
    let mut problems = Vec::new();
    let Some((record_name, record)) = contents
        .iter()
        .find(|(name, _)| name.ends_with(".dist-info/RECORD") && name.matches('/').count() == 1)
    else {
        return vec!["no .dist-info/RECORD".to_string()];
    };
    let record = String::from_utf8_lossy(record).to_string();
    let mut listed = std::collections::BTreeSet::new();
    for line in record.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.rsplitn(3, ',').collect();
        let [size, hash, path] = fields[..] else {
            problems.push(format!("bad RECORD line {line:?}"));
            continue;
        };
        let path = path.trim_matches('"').to_string();
        listed.insert(path.clone());
        if &path == record_name {
            continue;
        }
        match contents.get(&path) {
            None => problems.push(format!("RECORD lists missing {path}")),
            Some(data) => {
                if hash != record_hash(data) {
                    problems.push(format!("hash mismatch for {path}"));
                }
                if size != data.len().to_string() {
                    problems.push(format!("size mismatch for {path}"));
                }
            }
        }
    }
    for name in contents.keys() {
        if !listed.contains(name) && !name.ends_with('/') {
            problems.push(format!("{name} is not in RECORD"));
        }
    }
    problems
}
