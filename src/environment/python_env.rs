//! The target virtualenv: finding it (`--python`, `$VIRTUAL_ENV`, the `tutor` on `PATH`),
//! and reading the distributions installed in it (`*.dist-info` folders).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::error::{EnvError, EnvOrigin};
use super::interpreter::{Interpreter, Scheme};
use crate::cache::Cache;
use crate::dist::{DirectUrl, EntryPoints, Metadata, PackageName, Record, Version};

/// Where to look for the target environment; filled by the CLI from flags and variables.
#[derive(Debug, Clone, Default)]
pub struct FindOptions {
    /// `--python`: a venv folder or its python executable.
    pub python: Option<PathBuf>,
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
    /// `$PATH`, searched for the `tutor` executable whose shebang names the venv's python.
    pub path: Option<OsString>,
    /// The cache for interpreter queries.
    pub cache: Option<Cache>,
}

/// A virtualenv and its interpreter.
#[derive(Debug, Clone)]
pub struct PythonEnvironment {
    /// The venv folder (the one holding `pyvenv.cfg`).
    pub root: PathBuf,
    /// The venv's interpreter.
    pub interpreter: Interpreter,
}

/// A distribution installed in the environment (one `*.dist-info` folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledDist {
    /// The project name (from METADATA, else the folder name).
    pub name: PackageName,
    /// The version (from METADATA, else the folder name).
    pub version: Version,
    /// The `.dist-info` folder.
    pub dist_info: PathBuf,
    /// Whether a `REQUESTED` file marks it as asked for by the user.
    pub requested: bool,
    /// The first line of `INSTALLER` (`pip`, `uv`, `plonk`...).
    pub installer: Option<String>,
}

/// Everything found in site-packages, including what could not be read.
#[derive(Debug, Default)]
pub struct InstalledScan {
    /// Readable distributions, sorted by name then version.
    pub dists: Vec<InstalledDist>,
    /// `.dist-info` folders without a usable name and version.
    pub invalid: Vec<EnvError>,
    /// Legacy `.egg-info` folders and files: installed by setuptools, not managed by plonk.
    pub egg_info: Vec<PathBuf>,
}

impl PythonEnvironment {
    /// Finds the target environment: `--python`, else `$VIRTUAL_ENV`, else the venv whose
    /// python the `tutor` executable on `PATH` runs. Only virtualenvs are accepted.
    pub fn find(opts: &FindOptions) -> Result<Self, EnvError> {
        let cache = opts.cache.as_ref();
        if let Some(python) = &opts.python {
            return Self::from_path(python, EnvOrigin::PythonOption, cache);
        }
        if let Some(venv) = opts
            .virtual_env
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            return Self::from_path(venv, EnvOrigin::VirtualEnv, cache);
        }
        if let Some(tutor) = opts
            .path
            .as_deref()
            .and_then(|path| find_executable("tutor", path))
        {
            return Self::from_tutor(&tutor, cache);
        }
        Err(EnvError::NoEnvironment)
    }

    /// The virtualenv at `root` (which must hold a `pyvenv.cfg`).
    pub fn from_root(root: &Path, cache: Option<&Cache>) -> Result<Self, EnvError> {
        Self::from_venv_dir(root, EnvOrigin::Direct, cache)
    }

    /// A venv folder or a python executable inside one.
    fn from_path(path: &Path, origin: EnvOrigin, cache: Option<&Cache>) -> Result<Self, EnvError> {
        let meta = std::fs::metadata(path).map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                EnvError::PathNotFound {
                    path: path.to_path_buf(),
                    origin: origin.clone(),
                }
            } else {
                EnvError::io("read", path, err)
            }
        })?;
        if meta.is_dir() {
            return Self::from_venv_dir(path, origin, cache);
        }
        let interpreter = Interpreter::query(path, cache)?;
        let root = interpreter.sys_prefix.clone();
        if !interpreter.is_virtualenv() || !root.join("pyvenv.cfg").is_file() {
            return Err(EnvError::NotAVirtualenv { path: root, origin });
        }
        Ok(Self { root, interpreter })
    }

    fn from_venv_dir(
        root: &Path,
        origin: EnvOrigin,
        cache: Option<&Cache>,
    ) -> Result<Self, EnvError> {
        let root = std::path::absolute(root).map_err(|err| EnvError::io("read", root, err))?;
        if !root.exists() {
            return Err(EnvError::PathNotFound { path: root, origin });
        }
        if !root.join("pyvenv.cfg").is_file() {
            return Err(EnvError::NotAVirtualenv { path: root, origin });
        }
        let python = venv_python(&root)
            .ok_or_else(|| EnvError::NoInterpreterInVenv { root: root.clone() })?;
        let interpreter = Interpreter::query(&python, cache)?;
        Ok(Self { root, interpreter })
    }

    /// The venv of the python a `tutor` launcher runs (its shebang), else the venv the
    /// launcher sits in.
    fn from_tutor(tutor: &Path, cache: Option<&Cache>) -> Result<Self, EnvError> {
        let origin = EnvOrigin::TutorOnPath(tutor.to_path_buf());
        if let Some(python) = std::fs::read(tutor)
            .ok()
            .and_then(|bytes| shebang_python(&bytes))
            && python.is_absolute()
            && python.exists()
        {
            return Self::from_path(&python, origin, cache);
        }
        // `#!/usr/bin/env python` or an unreadable launcher: `<venv>/bin/tutor`.
        let dir = tutor
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/"));
        Self::from_venv_dir(dir, origin, cache)
    }

    /// The install paths of the environment.
    pub fn scheme(&self) -> &Scheme {
        &self.interpreter.scheme
    }

    /// The site-packages folders: purelib, then platlib when it differs.
    pub fn site_packages(&self) -> Vec<&Path> {
        let scheme = self.scheme();
        let mut dirs = vec![scheme.purelib.as_path()];
        if scheme.platlib != scheme.purelib {
            dirs.push(scheme.platlib.as_path());
        }
        dirs
    }

    /// The venv's python executable.
    pub fn python(&self) -> &Path {
        &self.interpreter.executable
    }

    /// The readable distributions installed in the environment, sorted by name then version.
    /// Broken `.dist-info` folders are left out (see [`PythonEnvironment::scan_installed`]).
    pub fn installed(&self) -> Result<Vec<InstalledDist>, EnvError> {
        Ok(self.scan_installed()?.dists)
    }

    /// Everything in site-packages: the distributions, the broken `.dist-info` folders (as
    /// errors, for the caller to report) and legacy `.egg-info` entries.
    pub fn scan_installed(&self) -> Result<InstalledScan, EnvError> {
        self.scan(None)
    }

    /// The installed distributions called one of `names` (sorted like
    /// [`PythonEnvironment::installed`]). Only the `.dist-info` folders whose name says they
    /// may be one of them are read, so this costs little in a large environment.
    pub fn installed_named(&self, names: &[PackageName]) -> Result<Vec<InstalledDist>, EnvError> {
        let wanted: HashSet<&PackageName> = names.iter().collect();
        Ok(self.scan(Some(&wanted))?.dists)
    }

    /// [`PythonEnvironment::scan_installed`], reading only the folders that may hold one of
    /// `wanted` when given (a folder whose name does not parse is read to be sure).
    fn scan(&self, wanted: Option<&HashSet<&PackageName>>) -> Result<InstalledScan, EnvError> {
        let mut scan = InstalledScan::default();
        for dir in self.site_packages() {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(EnvError::io("list", dir, err)),
            };
            for entry in entries {
                let entry = entry.map_err(|err| EnvError::io("list", dir, err))?;
                let file_name = entry.file_name();
                let Some(file_name) = file_name.to_str() else {
                    continue;
                };
                // pip renames folders it is removing to `~name`.
                if file_name.starts_with('~') {
                    continue;
                }
                if file_name.ends_with(".egg-info") {
                    if wanted.is_none() {
                        scan.egg_info.push(entry.path());
                    }
                    continue;
                }
                let Some(stem) = file_name.strip_suffix(".dist-info") else {
                    continue;
                };
                if let Some(wanted) = wanted
                    && let Some(Ok(folder_name)) = stem
                        .split_once('-')
                        .map(|(name, _)| PackageName::from_str(name))
                    && !wanted.contains(&folder_name)
                {
                    continue;
                }
                // The entry's type comes with the listing; only a link needs a look.
                let path = entry.path();
                let is_dir = match entry.file_type() {
                    Ok(t) if t.is_symlink() => path.is_dir(),
                    Ok(t) => t.is_dir(),
                    Err(_) => path.is_dir(),
                };
                if !is_dir {
                    continue;
                }
                match read_dist_info(&path) {
                    Some(dist) if wanted.is_none_or(|w| w.contains(&dist.name)) => {
                        scan.dists.push(dist)
                    }
                    Some(_) => {}
                    None if wanted.is_none() => {
                        scan.invalid.push(EnvError::InvalidDistInfo { path })
                    }
                    None => {}
                }
            }
        }
        scan.dists.sort_by(|a, b| {
            (&a.name, &a.version, &a.dist_info).cmp(&(&b.name, &b.version, &b.dist_info))
        });
        scan.egg_info.sort();
        Ok(scan)
    }

    /// The installed distribution called `name`, if any (the first when a broken env has two).
    pub fn find_dist(&self, name: &PackageName) -> Option<InstalledDist> {
        self.installed_named(std::slice::from_ref(name))
            .ok()?
            .into_iter()
            .next()
    }
}

impl InstalledDist {
    /// `name==version`, for messages.
    pub fn id(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }

    fn read_optional(&self, file: &str) -> Result<Option<Vec<u8>>, EnvError> {
        let path = self.dist_info.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(EnvError::io("read", path, err)),
        }
    }

    fn read_required(&self, file: &str) -> Result<Vec<u8>, EnvError> {
        let path = self.dist_info.join(file);
        std::fs::read(&path).map_err(|err| EnvError::io("read", path, err))
    }

    fn parse_error(&self, file: &str, source: crate::dist::DistError) -> EnvError {
        EnvError::DistFile {
            dist: self.id(),
            path: self.dist_info.join(file),
            source,
        }
    }

    /// The parsed `METADATA`.
    pub fn metadata(&self) -> Result<Metadata, EnvError> {
        let bytes = self.read_required("METADATA")?;
        Metadata::parse(&bytes).map_err(|err| self.parse_error("METADATA", err))
    }

    /// The parsed `entry_points.txt` (empty when the distribution has none).
    pub fn entry_points(&self) -> Result<EntryPoints, EnvError> {
        match self.read_optional("entry_points.txt")? {
            Some(bytes) => {
                EntryPoints::parse(&bytes).map_err(|err| self.parse_error("entry_points.txt", err))
            }
            None => Ok(EntryPoints::default()),
        }
    }

    /// The parsed `RECORD` (required: without it the files cannot be removed safely).
    pub fn record(&self) -> Result<Record, EnvError> {
        let bytes = self.read_required("RECORD")?;
        Record::parse(&bytes).map_err(|err| self.parse_error("RECORD", err))
    }

    /// The PEP 610 `direct_url.json`, for distributions installed from a URL, git or a path.
    pub fn direct_url(&self) -> Result<Option<DirectUrl>, EnvError> {
        match self.read_optional("direct_url.json")? {
            Some(bytes) => DirectUrl::parse(&bytes)
                .map(Some)
                .map_err(|err| self.parse_error("direct_url.json", err)),
            None => Ok(None),
        }
    }
}

/// The python of a venv: `bin/python`, `bin/python3`, or `Scripts/python.exe` on Windows.
pub(crate) fn venv_python(root: &Path) -> Option<PathBuf> {
    ["bin/python", "bin/python3", "Scripts/python.exe"]
        .into_iter()
        .map(|rel| root.join(rel))
        .find(|path| path.is_file())
}

/// Reads one `.dist-info` folder; `None` when neither METADATA nor the folder name give a
/// valid name and version.
fn read_dist_info(path: &Path) -> Option<InstalledDist> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".dist-info")?;
    let (folder_name, folder_version) = match stem.split_once('-') {
        Some((name, version)) => (Some(name), Some(version)),
        None => (None, None),
    };
    let (meta_name, meta_version) = read_name_version(&path.join("METADATA"));
    // METADATA wins; the folder name is the fallback for each field.
    let name = meta_name.or_else(|| {
        folder_name
            .filter(|n| !n.is_empty())
            .and_then(|n| PackageName::from_str(n).ok())
    })?;
    let version =
        meta_version.or_else(|| folder_version.and_then(|v| Version::from_str(v).ok()))?;
    let installer = read_first_line(&path.join("INSTALLER"));
    Some(InstalledDist {
        name,
        version,
        dist_info: path.to_path_buf(),
        requested: path.join("REQUESTED").exists(),
        installer,
    })
}

/// The first line of a short file (`INSTALLER`), trimmed; `None` when missing or empty. One
/// read: this runs for every distribution of the environment.
fn read_first_line(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 256];
    let n = file.read(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// `Name` and `Version` of a METADATA file, reading only its start when that holds them:
/// the long description after the headers can be most of the file.
fn read_name_version(path: &Path) -> (Option<PackageName>, Option<Version>) {
    use std::io::Read;
    const HEAD: usize = 8192;
    let Ok(mut file) = std::fs::File::open(path) else {
        return (None, None);
    };
    let mut bytes = Vec::with_capacity(HEAD);
    if (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return (None, None);
    }
    if bytes.len() < HEAD {
        return metadata_name_version(&bytes);
    }
    // Only whole lines count: a cut `Version: 1.0` must not read as `1`.
    if let Some(end) = bytes.iter().rposition(|&b| b == b'\n') {
        let (name, version, ended) = metadata_headers(&bytes[..end]);
        if ended || (name.is_some() && version.is_some()) {
            return (name, version);
        }
    }
    if file.read_to_end(&mut bytes).is_err() {
        return (None, None);
    }
    metadata_name_version(&bytes)
}

/// `Name` and `Version` from the headers of a METADATA file; the full parse (requirements,
/// ...) is left to [`InstalledDist::metadata`] so that listing never fails on an odd field.
fn metadata_name_version(bytes: &[u8]) -> (Option<PackageName>, Option<Version>) {
    let (name, version, _) = metadata_headers(bytes);
    (name, version)
}

/// [`metadata_name_version`], and whether the headers ended (a blank line) in `bytes`.
fn metadata_headers(bytes: &[u8]) -> (Option<PackageName>, Option<Version>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            return (name, version, true); // The body (description) starts here.
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if key.eq_ignore_ascii_case("name") && name.is_none() {
            // PackageName accepts the empty string; a distribution cannot be nameless.
            name = Some(value)
                .filter(|v| !v.is_empty())
                .and_then(|v| PackageName::from_str(v).ok());
        } else if key.eq_ignore_ascii_case("version") && version.is_none() {
            version = Version::from_str(value).ok();
        }
    }
    (name, version, false)
}

/// The first executable file called `name` in the `PATH`-style list `path`.
fn find_executable(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The interpreter a launcher script runs: `#!/venv/bin/python`, or the `/bin/sh` trampoline
/// pip and uv write when the path is too long or has spaces:
/// `#!/bin/sh` then `'''exec' "/venv/bin/python" "$0" "$@"`.
fn shebang_python(bytes: &[u8]) -> Option<PathBuf> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let first = lines.next()?.strip_prefix("#!")?.trim();
    if first == "/bin/sh" || first == "/bin/bash" || first == "/usr/bin/env sh" {
        let line = lines.next()?.trim();
        let rest = line.strip_prefix("'''exec' ")?;
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        return Some(PathBuf::from(&rest[..end]));
    }
    if first.starts_with("/usr/bin/env") {
        return None;
    }
    // Paths with spaces cannot appear in a plain shebang; arguments (`-E`) are dropped.
    let program = first.split_whitespace().next()?;
    Some(PathBuf::from(program))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn make_venv(dir: &Path) {
        let status = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn write_dist(site: &Path, folder: &str, metadata: Option<&str>) -> PathBuf {
        let dir = site.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(metadata) = metadata {
            std::fs::write(dir.join("METADATA"), metadata).unwrap();
        }
        dir
    }

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    #[test]
    fn find_order_and_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        make_venv(&venv);

        // Nothing given.
        let err = PythonEnvironment::find(&FindOptions::default()).unwrap_err();
        assert!(matches!(err, EnvError::NoEnvironment));
        assert!(err.to_string().contains("--python") && err.to_string().contains("VIRTUAL_ENV"));

        // --python as a folder, and as the python inside it.
        for python in [venv.clone(), venv.join("bin/python")] {
            let env = PythonEnvironment::find(&FindOptions {
                python: Some(python),
                virtual_env: Some(tmp.path().join("elsewhere")),
                ..FindOptions::default()
            })
            .unwrap();
            assert_eq!(env.root, venv);
            assert_eq!(env.interpreter.sys_prefix, venv);
        }

        // VIRTUAL_ENV pointing nowhere names the variable.
        let err = PythonEnvironment::find(&FindOptions {
            virtual_env: Some(tmp.path().join("missing")),
            ..FindOptions::default()
        })
        .unwrap_err();
        assert!(matches!(err, EnvError::PathNotFound { .. }), "{err}");
        assert!(err.to_string().contains("VIRTUAL_ENV"), "{err}");

        // A folder that is not a venv.
        let err = PythonEnvironment::find(&FindOptions {
            python: Some(tmp.path().to_path_buf()),
            ..FindOptions::default()
        })
        .unwrap_err();
        assert!(matches!(err, EnvError::NotAVirtualenv { .. }), "{err}");
        assert!(err.to_string().contains("--python"), "{err}");

        // A python that is not in a venv.
        let err = PythonEnvironment::find(&FindOptions {
            python: Some(venv.join("bin/python").canonicalize().unwrap()),
            ..FindOptions::default()
        })
        .unwrap_err();
        assert!(matches!(err, EnvError::NotAVirtualenv { .. }), "{err}");
    }

    #[test]
    fn find_through_tutor_on_path() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        make_venv(&venv);
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let tutor = bin.join("tutor");
        let launcher = format!(
            "#!{}\nimport sys\nfrom tutor.commands.cli import main\nsys.exit(main())\n",
            venv.join("bin/python").display()
        );
        std::fs::write(&tutor, launcher).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tutor, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = std::env::join_paths([tmp.path().join("empty"), bin.clone()]).unwrap();
        let env = PythonEnvironment::find(&FindOptions {
            path: Some(path.clone()),
            ..FindOptions::default()
        })
        .unwrap();
        assert_eq!(env.root, venv);

        // A launcher with `/usr/bin/env python` inside a venv: the venv it sits in.
        let venv_tutor = venv.join("bin/tutor");
        std::fs::write(&venv_tutor, "#!/usr/bin/env python\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&venv_tutor, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let env = PythonEnvironment::find(&FindOptions {
            path: Some(venv.join("bin").into_os_string()),
            ..FindOptions::default()
        })
        .unwrap();
        assert_eq!(env.root, venv);

        // A tutor outside any venv names the tutor executable.
        std::fs::write(&tutor, "#!/usr/bin/env python3\n").unwrap();
        let err = PythonEnvironment::find(&FindOptions {
            path: Some(bin.into_os_string()),
            ..FindOptions::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("tutor"), "{err}");
    }

    #[test]
    fn shebang_rows() {
        let rows: &[(&[u8], Option<&str>)] = &[
            (
                b"#!/opt/tutor/bin/python\nimport sys\n",
                Some("/opt/tutor/bin/python"),
            ),
            (
                b"#!/opt/tutor/bin/python3 -E\n",
                Some("/opt/tutor/bin/python3"),
            ),
            (
                b"#!/bin/sh\n'''exec' \"/very long/bin/python\" \"$0\" \"$@\"\n' '''\n",
                Some("/very long/bin/python"),
            ),
            (b"#!/usr/bin/env python3\n", None),
            (b"#!/bin/sh\necho hi\n", None),
            (b"#!/bin/sh\n'''exec' \"/unterminated\n", None),
            (b"import sys\n", None),
            (b"", None),
            (b"#!", None),
            (b"\xff\xfe#!/x\n", None),
        ];
        for (bytes, expected) in rows {
            assert_eq!(
                shebang_python(bytes),
                expected.map(PathBuf::from),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn metadata_is_read_past_its_first_block_only_when_needed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("METADATA");
        let body = "x".repeat(20_000);
        // Headers in the first block, a long description after: the headers are enough.
        std::fs::write(&path, format!("Name: foo\nVersion: 1.0\n\n{body}")).unwrap();
        let (n, v) = read_name_version(&path);
        assert_eq!(
            (n.unwrap().to_string(), v.unwrap().to_string()),
            ("foo".into(), "1.0".into())
        );
        // A version cut at the block's end is not read as a shorter one.
        let pad = format!("Name: foo\nSummary: {}\n", "s".repeat(8192 - 30));
        std::fs::write(&path, format!("{pad}Version: 1.0.0\n\n{body}")).unwrap();
        // The first block ends with `Version: 1`.
        assert_eq!(pad.len() + "Version: 1".len(), 8192);
        let (_, v) = read_name_version(&path);
        assert_eq!(v.unwrap().to_string(), "1.0.0");
        // Headers longer than the block.
        let long = format!("Name: foo\nSummary: {}\nVersion: 2.0\n", "s".repeat(10_000));
        std::fs::write(&path, long).unwrap();
        assert_eq!(read_name_version(&path).1.unwrap().to_string(), "2.0");
        assert_eq!(read_name_version(&tmp.path().join("missing")), (None, None));
    }

    #[test]
    fn installed_named_reads_only_matching_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        make_venv(&venv);
        let env = PythonEnvironment::from_root(&venv, None).unwrap();
        let site = env.site_packages()[0].to_path_buf();
        write_dist(
            &site,
            "tutor_mfe-1.0.dist-info",
            Some("Name: tutor-mfe\nVersion: 1.0\n"),
        );
        write_dist(
            &site,
            "six-1.16.0.dist-info",
            Some("Name: six\nVersion: 1.16.0\n"),
        );
        // A folder whose name does not parse is read to be sure.
        write_dist(
            &site,
            "odd.dist-info",
            Some("Name: tutor-indigo\nVersion: 2.0\n"),
        );
        let found = env
            .installed_named(&[name("tutor-mfe"), name("tutor-indigo"), name("absent")])
            .unwrap();
        let ids: Vec<String> = found.iter().map(InstalledDist::id).collect();
        assert_eq!(ids, ["tutor-indigo==2.0", "tutor-mfe==1.0"]);
        assert_eq!(env.find_dist(&name("six")).unwrap().id(), "six==1.16.0");
    }

    #[test]
    fn installed_distributions() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        make_venv(&venv);
        let env = PythonEnvironment::from_root(&venv, None).unwrap();
        assert_eq!(env.installed().unwrap(), vec![]);
        let site = env.site_packages()[0].to_path_buf();
        assert!(site.ends_with("site-packages"));

        // METADATA wins over the folder name.
        let good = write_dist(
            &site,
            "tutor_mfe-1.0.dist-info",
            Some("Metadata-Version: 2.1\nName: tutor-mfe\nVersion: 19.0.0\n\nBody: x\n"),
        );
        std::fs::write(good.join("REQUESTED"), "").unwrap();
        std::fs::write(good.join("INSTALLER"), "plonk\n").unwrap();
        std::fs::write(
            good.join("entry_points.txt"),
            "[tutor.plugin.v1]\nmfe = tutormfe.plugin\n",
        )
        .unwrap();
        std::fs::write(good.join("RECORD"), "tutormfe/__init__.py,,\n").unwrap();
        // No METADATA: the folder name.
        write_dist(&site, "six-1.16.0.dist-info", None);
        // Garbage METADATA: the folder name.
        write_dist(&site, "Click-8.1.7.dist-info", Some("\u{0}\u{1}garbage"));
        // Neither.
        write_dist(&site, "broken.dist-info", Some("Name: ../../etc\n"));
        write_dist(&site, "-1.0.dist-info", None);
        write_dist(&site, "~ip-23.0.dist-info", None);
        std::fs::create_dir_all(site.join("legacy-1.0-py3.11.egg-info")).unwrap();
        std::fs::write(site.join("not-a-dir.dist-info"), "").unwrap();

        let scan = env.scan_installed().unwrap();
        let names: Vec<String> = scan.dists.iter().map(InstalledDist::id).collect();
        assert_eq!(names, ["click==8.1.7", "six==1.16.0", "tutor-mfe==19.0.0"]);
        assert_eq!(scan.invalid.len(), 2);
        assert!(
            scan.invalid
                .iter()
                .any(|e| e.to_string().contains("broken.dist-info"))
        );
        assert_eq!(scan.egg_info.len(), 1);

        let mfe = env.find_dist(&name("tutor_mfe")).unwrap();
        assert!(mfe.requested);
        assert_eq!(mfe.installer.as_deref(), Some("plonk"));
        assert_eq!(mfe.metadata().unwrap().version.to_string(), "19.0.0");
        assert_eq!(
            mfe.entry_points().unwrap().group("tutor.plugin.v1").len(),
            1
        );
        assert_eq!(mfe.record().unwrap().entries.len(), 1);
        assert_eq!(mfe.direct_url().unwrap(), None);

        let six = env.find_dist(&name("six")).unwrap();
        assert!(!six.requested);
        assert_eq!(six.installer, None);
        assert!(six.metadata().is_err());
        assert_eq!(six.entry_points().unwrap(), EntryPoints::default());
        assert!(six.record().is_err());

        std::fs::write(six.dist_info.join("direct_url.json"), "{broken").unwrap();
        let err = six.direct_url().unwrap_err();
        assert!(err.to_string().contains("six==1.16.0"), "{err}");
        assert!(env.find_dist(&name("absent")).is_none());
    }

    #[test]
    fn installer_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("INSTALLER");
        assert_eq!(read_first_line(&path), None);
        let rows: &[(&[u8], Option<&str>)] = &[
            (b"pip\n", Some("pip")),
            (b"  uv  \r\nsecond line\n", Some("uv")),
            (b"", None),
            (b"\n\nplonk\n", None),
            (b"\xff\xfe\n", Some("\u{fffd}\u{fffd}")),
        ];
        for (bytes, expected) in rows {
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(read_first_line(&path).as_deref(), *expected, "{bytes:?}");
        }
        // Only the start of a huge file is read.
        std::fs::write(&path, "x".repeat(1 << 20)).unwrap();
        assert_eq!(read_first_line(&path).map(|l| l.len()), Some(256));
    }

    #[test]
    fn metadata_header_rows() {
        let rows: &[(&str, Option<&str>, Option<&str>)] = &[
            ("Name: foo\nVersion: 1.0\n", Some("foo"), Some("1.0")),
            (
                "name: Foo_Bar\nversion:  2.0.post1 \n",
                Some("foo-bar"),
                Some("2.0.post1"),
            ),
            ("Name: foo\n\nVersion: 1.0\n", Some("foo"), None),
            ("Name: \nVersion: nope\n", None, None),
            ("Version: 1.0\nVersion: 2.0\n", None, Some("1.0")),
            ("", None, None),
            ("Name", None, None),
        ];
        for (text, name, version) in rows {
            let (n, v) = metadata_name_version(text.as_bytes());
            assert_eq!(n.map(|n| n.to_string()).as_deref(), *name, "{text:?}");
            assert_eq!(v.map(|v| v.to_string()).as_deref(), *version, "{text:?}");
        }
    }
}
