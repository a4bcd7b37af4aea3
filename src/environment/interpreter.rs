//! What a Python interpreter is: its prefixes, PEP 508 marker values, supported wheel tags
//! and install scheme, learnt by running it once with `query.py` (the answer is cached by
//! executable path, mtime and size).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use serde::{Deserialize, Serialize};

use super::error::{EnvError, ProcessOutput};
use super::tags::{
    TagInterpreter, TagPlatform, TagTarget, generic_abis, normalize, supported_tags,
};
use crate::cache::{Cache, INTERPRETER_BUCKET, cache_key, write_atomic};
use crate::dist::{Tags, Version};

/// The script run inside the interpreter; prints one JSON object.
const QUERY_SCRIPT: &str = include_str!("query.py");

/// Where a distribution's files go (the `sysconfig` paths of the environment's prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    /// Pure-Python modules (`site-packages`).
    pub purelib: PathBuf,
    /// Platform-specific modules (usually equal to `purelib`).
    pub platlib: PathBuf,
    /// Console scripts (`bin`).
    pub scripts: PathBuf,
    /// The `.data/data` root (the prefix).
    pub data: PathBuf,
    /// C headers (`include/site/pythonX.Y`, as pip does in a virtualenv).
    pub include: PathBuf,
}

/// The scheme paths of a virtualenv made from this interpreter, relative to the venv root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VenvLayout {
    pub(crate) purelib: PathBuf,
    pub(crate) platlib: PathBuf,
    pub(crate) scripts: PathBuf,
    pub(crate) include: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawMarkers {
    implementation_name: String,
    implementation_version: String,
    os_name: String,
    platform_machine: String,
    platform_python_implementation: String,
    platform_release: String,
    platform_system: String,
    platform_version: String,
    python_full_version: String,
    python_version: String,
    sys_platform: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawElf {
    class: u32,
    data: u32,
    machine: u32,
    flags: u64,
    interpreter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawPlatform {
    sysconfig_platform: String,
    pointer_size: u32,
    glibc_version: Option<String>,
    musl_version: Option<String>,
    elf: Option<RawElf>,
    mac_version: Option<String>,
    mac_machine: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawAbi {
    py_version_nodot: Option<String>,
    soabi: Option<String>,
    ext_suffix: Option<String>,
    abiflags: Option<String>,
    debug: bool,
    gil_disabled: bool,
}

/// The JSON printed by `query.py`, also what the cache stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueryAnswer {
    executable: PathBuf,
    base_executable: PathBuf,
    prefix: PathBuf,
    base_prefix: PathBuf,
    version_info: Vec<u32>,
    markers: RawMarkers,
    scheme: Scheme,
    pub(crate) venv_layout: VenvLayout,
    platform: RawPlatform,
    abi: RawAbi,
}

/// A cache entry: the answer and the facts it was keyed on, checked again on read.
#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    python: PathBuf,
    answer: QueryAnswer,
}

/// A Python interpreter, as it described itself.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// `sys.executable`: the path it was run as (inside a venv: the venv's `bin/python`).
    pub executable: PathBuf,
    /// The real interpreter behind a venv or a pyenv shim; what a new venv should link to.
    pub base_executable: PathBuf,
    /// `sys.prefix` (the venv root inside a venv).
    pub sys_prefix: PathBuf,
    /// `sys.base_prefix` (the installation the venv was made from).
    pub sys_base_prefix: PathBuf,
    /// `platform.python_version()`.
    pub python_full_version: Version,
    /// PEP 508 marker values.
    pub markers: MarkerEnvironment,
    /// Supported wheel tags, most preferred first.
    pub tags: Tags,
    /// Install paths for `sys_prefix`.
    pub scheme: Scheme,
    /// What the tags were computed from (reusable for other targets by the mirror).
    pub tag_target: TagTarget,
    pub(crate) answer: QueryAnswer,
}

impl Interpreter {
    /// Runs `python` once (or reads the cached answer) and describes it.
    ///
    /// The cache entry is keyed by the path as given, its canonical target and the target's
    /// mtime and size, so a replaced interpreter is queried again. Wrapper scripts (pyenv
    /// shims) are never cached: the interpreter they run can change without them changing.
    pub fn query(python: &Path, cache: Option<&Cache>) -> Result<Interpreter, EnvError> {
        // A bare name (`python3.11`) is left to the OS's PATH lookup; a relative path is
        // anchored so the cache key and messages name the real file.
        let python = if python.components().count() > 1 {
            std::path::absolute(python).map_err(|_| EnvError::InterpreterNotFound {
                python: python.to_path_buf(),
            })?
        } else {
            python.to_path_buf()
        };
        let entry_path = cache.and_then(|cache| cache_entry_path(cache, &python));
        if let Some(entry_path) = &entry_path
            && let Some(answer) = read_cache_entry(entry_path, &python)
            && let Ok(interpreter) = Interpreter::from_answer(&python, answer)
        {
            return Ok(interpreter);
        }
        let answer = run_query(&python)?;
        let interpreter = Interpreter::from_answer(&python, answer)?;
        if let Some(entry_path) = entry_path {
            let entry = CacheEntry {
                python: python.clone(),
                answer: interpreter.answer.clone(),
            };
            // A cache that cannot be written only costs a query next time: not an error.
            if let Ok(json) = serde_json::to_vec(&entry) {
                let _ = write_atomic(&entry_path, &json);
            }
        }
        Ok(interpreter)
    }

    /// Builds the description from a query answer; `python` names the interpreter in errors.
    pub(crate) fn from_answer(python: &Path, answer: QueryAnswer) -> Result<Self, EnvError> {
        let raw = &answer.markers;
        let version_error = |value: &str, source| EnvError::InterpreterVersion {
            python: python.to_path_buf(),
            value: value.to_string(),
            source,
        };
        // Builds from a git checkout report `3.13.0+`, which is not PEP 440.
        let full_version = raw.python_full_version.trim_end_matches('+');
        let python_full_version: Version = full_version
            .parse()
            .map_err(|err| version_error(&raw.python_full_version, err))?;
        let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: &raw.implementation_name,
            implementation_version: &raw.implementation_version,
            os_name: &raw.os_name,
            platform_machine: &raw.platform_machine,
            platform_python_implementation: &raw.platform_python_implementation,
            platform_release: &raw.platform_release,
            platform_system: &raw.platform_system,
            platform_version: &raw.platform_version,
            python_full_version: full_version,
            python_version: &raw.python_version,
            sys_platform: &raw.sys_platform,
        })
        .map_err(|err| {
            // Name whichever of the three versions is broken.
            let value = [
                raw.implementation_version.as_str(),
                full_version,
                raw.python_version.as_str(),
            ]
            .into_iter()
            .find(|v| v.parse::<Version>().is_err())
            .unwrap_or_default()
            .to_string();
            version_error(&value, err)
        })?;
        let (major, minor) = match answer.version_info.as_slice() {
            [major, minor, ..] => (*major, *minor),
            _ => {
                return Err(EnvError::UnsupportedPython {
                    python: python.to_path_buf(),
                    version: raw.python_full_version.clone(),
                });
            }
        };
        if (major, minor) < (3, 8) {
            return Err(EnvError::UnsupportedPython {
                python: python.to_path_buf(),
                version: raw.python_full_version.clone(),
            });
        }
        let tag_target = tag_target(&answer, (major, minor));
        let tags = Tags::new(supported_tags(&tag_target));
        Ok(Interpreter {
            executable: answer.executable.clone(),
            base_executable: answer.base_executable.clone(),
            sys_prefix: answer.prefix.clone(),
            sys_base_prefix: answer.base_prefix.clone(),
            python_full_version,
            markers,
            tags,
            scheme: answer.scheme.clone(),
            tag_target,
            answer,
        })
    }

    /// The interpreter exactly as its query described it, undoing what a mirror target
    /// changed (version, markers, tags): what running it gives.
    pub fn as_queried(&self) -> Result<Interpreter, EnvError> {
        Interpreter::from_answer(&self.executable, self.answer.clone())
    }

    /// The language version (major, minor), e.g. `(3, 11)`.
    pub fn python_version(&self) -> (u32, u32) {
        self.tag_target.python_version
    }

    /// Whether this interpreter runs inside a virtualenv (`sys.prefix != sys.base_prefix`).
    pub fn is_virtualenv(&self) -> bool {
        self.sys_prefix != self.sys_base_prefix
    }

    /// Whether this is a free-threaded (no-GIL) build, whose venv paths carry a `t`.
    pub fn gil_disabled(&self) -> bool {
        self.answer.abi.gil_disabled
    }

    /// Whether the interpreter is 64-bit.
    pub fn is_64bit(&self) -> bool {
        self.answer.platform.pointer_size == 8
    }

    /// The same interpreter as seen from a virtualenv at `root` made from it (no process run):
    /// prefix, executable and scheme move, everything else is shared.
    pub(crate) fn for_venv(&self, root: &Path, executable: PathBuf) -> Interpreter {
        let layout = &self.answer.venv_layout;
        let mut answer = self.answer.clone();
        answer.executable = executable;
        answer.prefix = root.to_path_buf();
        answer.scheme = Scheme {
            purelib: root.join(&layout.purelib),
            platlib: root.join(&layout.platlib),
            scripts: root.join(&layout.scripts),
            data: root.to_path_buf(),
            include: root.join(&layout.include),
        };
        Interpreter {
            executable: answer.executable.clone(),
            sys_prefix: answer.prefix.clone(),
            scheme: answer.scheme.clone(),
            answer,
            ..self.clone()
        }
    }
}

/// The short interpreter name of `packaging.tags.interpreter_name()`.
fn short_name(implementation: &str) -> String {
    match implementation {
        "python" => "py".to_string(),
        "cpython" => "cp".to_string(),
        "pypy" => "pp".to_string(),
        "ironpython" => "ip".to_string(),
        "jython" => "jy".to_string(),
        other => other.to_string(),
    }
}

/// `major.minor` at the start of a version string (`2.36`, `1.2.3`, `2.20-2014.11`).
fn major_minor(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.trim().splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    Some((major, minor.parse().ok()?))
}

/// What `packaging.tags.sys_tags()` would look at, from the query answer.
fn tag_target(answer: &QueryAnswer, python_version: (u32, u32)) -> TagTarget {
    let is_32bit = answer.platform.pointer_size == 4;
    let implementation = &answer.markers.implementation_name;
    let interpreter = if implementation == "cpython" {
        TagInterpreter::CPython {
            debug: answer.abi.debug,
            gil_disabled: answer.abi.gil_disabled,
        }
    } else {
        TagInterpreter::Generic {
            short_name: short_name(implementation),
            abis: generic_abis(answer.abi.ext_suffix.as_deref()),
        }
    };
    let py_version_nodot = answer
        .abi
        .py_version_nodot
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{}{}", python_version.0, python_version.1));
    let platform = tag_platform(&answer.markers.platform_system, &answer.platform, is_32bit);
    TagTarget {
        python_version,
        py_version_nodot,
        interpreter,
        platforms: platform.platform_tags(),
    }
}

fn tag_platform(system: &str, raw: &RawPlatform, is_32bit: bool) -> TagPlatform {
    let generic = || TagPlatform::Other(normalize(&raw.sysconfig_platform));
    match system {
        "Darwin" => {
            let Some(version) = raw.mac_version.as_deref().and_then(|v| {
                // "14" alone means 14.0.
                major_minor(v).or_else(|| v.trim().parse().ok().map(|major| (major, 0)))
            }) else {
                return generic();
            };
            let machine = raw.mac_machine.clone().unwrap_or_default();
            let arch = if !is_32bit {
                machine
            } else if machine.starts_with("ppc") {
                "ppc".to_string()
            } else {
                "i386".to_string()
            };
            TagPlatform::MacOs { version, arch }
        }
        "Linux" => {
            let mut linux = normalize(&raw.sysconfig_platform);
            if !linux.starts_with("linux_") {
                return TagPlatform::Other(linux);
            }
            if is_32bit {
                if linux == "linux_x86_64" {
                    linux = "linux_i686".to_string();
                } else if linux == "linux_aarch64" {
                    linux = "linux_armv8l".to_string();
                }
            }
            let arch = linux["linux_".len()..].to_string();
            let glibc = raw
                .glibc_version
                .as_deref()
                .and_then(major_minor)
                .filter(|_| manylinux_abi(&arch, raw.elf.as_ref()));
            let musl = raw.musl_version.as_deref().and_then(major_minor);
            TagPlatform::Linux { arch, glibc, musl }
        }
        _ => generic(),
    }
}

/// `packaging._manylinux._have_compatible_abi`: 32-bit ARM must be hard-float EABI5 and i686
/// a 32-bit x86 executable; the 64-bit architectures need no check.
fn manylinux_abi(arch: &str, elf: Option<&RawElf>) -> bool {
    const ELFCLASS32: u32 = 1;
    const ELFDATA2LSB: u32 = 1;
    const EM_386: u32 = 3;
    const EM_ARM: u32 = 40;
    const EF_ARM_ABIMASK: u64 = 0xFF00_0000;
    const EF_ARM_ABI_VER5: u64 = 0x0500_0000;
    const EF_ARM_ABI_FLOAT_HARD: u64 = 0x0000_0400;
    let is_32bit_lsb = |elf: &RawElf, machine| {
        elf.class == ELFCLASS32 && elf.data == ELFDATA2LSB && elf.machine == machine
    };
    if arch == "armv7l" || arch == "armv8l" {
        elf.is_some_and(|elf| {
            is_32bit_lsb(elf, EM_ARM)
                && elf.flags & EF_ARM_ABIMASK == EF_ARM_ABI_VER5
                && elf.flags & EF_ARM_ABI_FLOAT_HARD == EF_ARM_ABI_FLOAT_HARD
        })
    } else if arch == "i686" {
        elf.is_some_and(|elf| is_32bit_lsb(elf, EM_386))
    } else {
        TagPlatform::manylinux_arch(arch)
    }
}

/// The cache file for `python`, or `None` when it must not be cached (a wrapper script) or
/// cannot be inspected (then the query reports the real problem).
fn cache_entry_path(cache: &Cache, python: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(python).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    if is_script(&canonical) {
        return None;
    }
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    // A venv's answer also depends on its pyvenv.cfg (`home`), next to `bin/`.
    let cfg_mtime = python
        .parent()
        .and_then(Path::parent)
        .and_then(|root| std::fs::metadata(root.join("pyvenv.cfg")).ok())
        .and_then(|meta| meta.modified().ok())
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let key = cache_key(&[
        QUERY_SCRIPT.as_bytes(),
        python.as_os_str().as_encoded_bytes(),
        canonical.as_os_str().as_encoded_bytes(),
        &mtime.to_le_bytes(),
        &meta.len().to_le_bytes(),
        &cfg_mtime.to_le_bytes(),
    ]);
    Some(cache.bucket(INTERPRETER_BUCKET).join(format!("{key}.json")))
}

/// Whether `path` starts with `#!` (a shell wrapper such as a pyenv shim).
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut head))
        .is_ok_and(|()| &head == b"#!")
}

fn read_cache_entry(path: &Path, python: &Path) -> Option<QueryAnswer> {
    let bytes = std::fs::read(path).ok()?;
    let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
    // The interpreter the answer points at must still be there.
    (entry.python == python && entry.answer.base_executable.exists()).then_some(entry.answer)
}

fn run_query(python: &Path) -> Result<QueryAnswer, EnvError> {
    // -E: ignore PYTHONPATH/PYTHONHOME; -s: no user site-packages. (-I would be better but
    // Python 2 rejects it before the script can say "too old".)
    let output = Command::new(python)
        .args(["-E", "-s", "-c", QUERY_SCRIPT])
        .stdin(Stdio::null())
        .output()
        .map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                EnvError::InterpreterNotFound {
                    python: python.to_path_buf(),
                }
            } else {
                EnvError::InterpreterSpawn {
                    python: python.to_path_buf(),
                    source: err,
                }
            }
        })?;
    if !output.status.success() {
        return Err(EnvError::InterpreterFailed {
            python: python.to_path_buf(),
            status: output.status.to_string(),
            stderr: ProcessOutput(String::from_utf8_lossy(&output.stderr).into_owned()),
        });
    }
    parse_answer(python, &output.stdout)
}

fn parse_answer(python: &Path, stdout: &[u8]) -> Result<QueryAnswer, EnvError> {
    let value: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|source| EnvError::InterpreterOutput {
            python: python.to_path_buf(),
            source,
        })?;
    if value.get("error").and_then(|e| e.as_str()) == Some("unsupported_python") {
        let version = value
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string();
        return Err(EnvError::UnsupportedPython {
            python: python.to_path_buf(),
            version,
        });
    }
    serde_json::from_value(value).map_err(|source| EnvError::InterpreterOutput {
        python: python.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pyenv_python(minor: &str) -> PathBuf {
        let home = PathBuf::from(std::env::var("HOME").unwrap());
        let versions = home.join(".pyenv/versions");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&versions)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{minor}."))
            })
            .map(|e| e.path().join(format!("bin/python{minor}")))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop().unwrap_or_else(|| panic!("no python{minor}"))
    }

    /// The major version of the packaging that the interpreter's pip vendors, and the
    /// `sys_tags()` it computes.
    fn packaging_sys_tags(python: &Path) -> (u32, Vec<String>) {
        let out = Command::new(python)
            .args([
                "-c",
                "from pip._vendor import packaging\n\
                 from pip._vendor.packaging.tags import sys_tags\n\
                 print(packaging.__version__.split('.')[0])\n\
                 for t in sys_tags(): print(t)",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines().map(str::to_string);
        let major = lines.next().unwrap().parse().unwrap();
        (major, lines.collect())
    }

    fn tag_strings(interpreter: &Interpreter) -> Vec<String> {
        interpreter
            .tags
            .iter()
            .map(|(a, b, c)| format!("{a}-{b}-{c}"))
            .collect()
    }

    #[test]
    fn tags_match_packaging_sys_tags() {
        // 3.8 and 3.11 vendor packaging 21.3, 3.13 vendors 24.1.
        for minor in ["3.8", "3.11", "3.13"] {
            let python = pyenv_python(minor);
            let interpreter = Interpreter::query(&python, None).unwrap();
            let (packaging_major, theirs) = packaging_sys_tags(&python);
            let mut ours = tag_strings(&interpreter);
            if packaging_major < 22 {
                // packaging 22 added `cpXY-none-any` (as the brief and current pip expect).
                let cp_any = format!("cp{}-none-any", minor.replace('.', ""));
                ours.retain(|tag| *tag != cp_any);
            }
            let first_difference = ours.iter().zip(&theirs).position(|(a, b)| a != b);
            assert_eq!(
                (first_difference, ours.len()),
                (None, theirs.len()),
                "{minor}: {:?}",
                first_difference.map(|i| (&ours[i], &theirs[i]))
            );
        }
    }

    #[test]
    fn query_reports_markers_prefix_and_scheme() {
        let python = pyenv_python("3.11");
        let interpreter = Interpreter::query(&python, None).unwrap();
        assert_eq!(interpreter.python_version(), (3, 11));
        assert_eq!(interpreter.markers.python_version().to_string(), "3.11");
        assert_eq!(interpreter.markers.implementation_name(), "cpython");
        assert!(!interpreter.is_virtualenv());
        assert_eq!(
            interpreter.scheme.purelib,
            interpreter.sys_prefix.join("lib/python3.11/site-packages")
        );
        assert_eq!(interpreter.python_full_version.release()[..2], [3, 11]);
    }

    #[test]
    fn query_inside_a_venv_without_pip() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        let status = Command::new(pyenv_python("3.11"))
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(status.success());
        let interpreter = Interpreter::query(&venv.join("bin/python"), None).unwrap();
        assert!(interpreter.is_virtualenv());
        assert_eq!(interpreter.sys_prefix, venv);
        assert_eq!(
            interpreter.scheme,
            Scheme {
                purelib: venv.join("lib/python3.11/site-packages"),
                platlib: venv.join("lib/python3.11/site-packages"),
                scripts: venv.join("bin"),
                data: venv.clone(),
                include: venv.join("include/site/python3.11"),
            }
        );
        assert!(!interpreter.base_executable.starts_with(&venv));
        assert!(interpreter.base_executable.exists());
        // The derived venv view of the base interpreter agrees with the real one.
        let base = Interpreter::query(&interpreter.base_executable, None).unwrap();
        let derived = base.for_venv(&venv, venv.join("bin/python"));
        assert_eq!(derived.scheme, interpreter.scheme);
    }

    #[test]
    fn cache_is_used_and_keyed_by_file() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("cache"));
        let python = pyenv_python("3.12");
        let first = Interpreter::query(&python, Some(&cache)).unwrap();
        let bucket = cache.bucket(INTERPRETER_BUCKET);
        let entries: Vec<_> = std::fs::read_dir(&bucket).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1);
        // Tamper with the cached answer: a cache hit returns the tampered value.
        let path = entries[0].path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("\"platform_release\":\"", "\"platform_release\":\"X"),
        )
        .unwrap();
        let second = Interpreter::query(&python, Some(&cache)).unwrap();
        assert!(second.markers.platform_release().starts_with('X'));
        assert_eq!(first.tag_target, second.tag_target);
        // A garbage entry is ignored and rewritten.
        std::fs::write(&path, b"{not json").unwrap();
        let third = Interpreter::query(&python, Some(&cache)).unwrap();
        assert_eq!(
            third.markers.platform_release(),
            first.markers.platform_release()
        );
        assert!(serde_json::from_slice::<CacheEntry>(&std::fs::read(&path).unwrap()).is_ok());
    }

    #[test]
    fn shims_are_not_cached() {
        let tmp = tempfile::tempdir().unwrap();
        let shim = tmp.path().join("python3");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\nexec {} \"$@\"\n",
                pyenv_python("3.11").display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let cache = Cache::new(tmp.path().join("cache"));
        let interpreter = Interpreter::query(&shim, Some(&cache)).unwrap();
        assert!(!interpreter.base_executable.starts_with(tmp.path()));
        assert!(!cache.bucket(INTERPRETER_BUCKET).exists());
    }

    #[test]
    fn errors_name_the_interpreter() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope/python");
        let err = Interpreter::query(&missing, None).unwrap_err();
        assert!(matches!(err, EnvError::InterpreterNotFound { .. }), "{err}");

        let failing = tmp.path().join("failing");
        std::fs::write(&failing, "#!/bin/sh\necho boom >&2\nexit 3\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let err = Interpreter::query(&failing, None).unwrap_err();
        assert!(err.to_string().contains("failing"), "{err}");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(source, "boom");

        let old =
            PathBuf::from(std::env::var("HOME").unwrap()).join(".pyenv/versions/2.7.18/bin/python");
        if old.exists() {
            let err = Interpreter::query(&old, None).unwrap_err();
            assert!(
                matches!(err, EnvError::UnsupportedPython { ref version, .. } if version == "2.7.18"),
                "{err}"
            );
        }
    }

    #[test]
    fn parse_answer_rows() {
        let python = Path::new("/py");
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            b"{\"executable\": 1}",
            b"\xff\xfe",
        ] {
            assert!(matches!(
                parse_answer(python, bad),
                Err(EnvError::InterpreterOutput { .. })
            ));
        }
        assert!(matches!(
            parse_answer(
                python,
                br#"{"error": "unsupported_python", "version": "3.7.1"}"#
            ),
            Err(EnvError::UnsupportedPython { .. })
        ));
    }

    #[test]
    fn from_answer_rows() {
        let python = pyenv_python("3.11");
        let answer = run_query(&python).unwrap();
        // A dev build's `3.11.7+` is accepted as 3.11.7.
        let mut dev = answer.clone();
        dev.markers.python_full_version = "3.11.7+".to_string();
        let interpreter = Interpreter::from_answer(&python, dev).unwrap();
        assert_eq!(interpreter.python_full_version.to_string(), "3.11.7");
        // A broken marker version is named.
        let mut broken = answer.clone();
        broken.markers.python_version = "three".to_string();
        let err = Interpreter::from_answer(&python, broken).unwrap_err();
        assert!(err.to_string().contains("`three`"), "{err}");
        // Too old, or a truncated version_info.
        for version_info in [vec![3, 7, 1], vec![3]] {
            let mut old = answer.clone();
            old.version_info = version_info;
            let err = Interpreter::from_answer(&python, old).unwrap_err();
            assert!(matches!(err, EnvError::UnsupportedPython { .. }), "{err}");
        }
    }

    #[test]
    fn major_minor_rows() {
        assert_eq!(major_minor("2.36"), Some((2, 36)));
        assert_eq!(major_minor("2.20-2014.11"), Some((2, 20)));
        assert_eq!(major_minor("1.2.4"), Some((1, 2)));
        assert_eq!(major_minor("14"), None);
        assert_eq!(major_minor("x.y"), None);
        assert_eq!(major_minor(""), None);
    }

    #[test]
    fn manylinux_abi_rows() {
        let arm = RawElf {
            class: 1,
            data: 1,
            machine: 40,
            flags: 0x0500_0400,
            interpreter: None,
        };
        assert!(manylinux_abi("armv7l", Some(&arm)));
        assert!(!manylinux_abi(
            "armv7l",
            Some(&RawElf {
                flags: 0x0500_0000,
                ..arm.clone()
            })
        ));
        assert!(!manylinux_abi("armv7l", None));
        assert!(manylinux_abi(
            "i686",
            Some(&RawElf {
                machine: 3,
                flags: 0,
                ..arm.clone()
            })
        ));
        assert!(manylinux_abi("x86_64", None));
        assert!(!manylinux_abi("sparc", None));
    }
}
