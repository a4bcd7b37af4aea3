//! Mirror targets: `--python-version X.Y` and `--platform TAG` turned into the interpreter
//! description the resolver and the fetcher work with (markers, wheel tags, version), without
//! running the target's Python.

use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, StringVersion};

use super::MirrorError;
use crate::dist::{Tags, Version};
use crate::environment::{Interpreter, TagInterpreter, TagPlatform, supported_tags};

/// A Python version given on the command line: `3.11` or `3.11.4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PythonVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch, when given (`X.Y` means `X.Y.0` for `Requires-Python`, as pip does).
    pub patch: Option<u32>,
}

impl FromStr for PythonVersion {
    type Err = MirrorError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || MirrorError::BadPythonVersion {
            value: value.to_string(),
        };
        let parts: Vec<&str> = value.trim().split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut numbers = Vec::new();
        for part in &parts {
            if part.is_empty() || part.len() > 4 || !part.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            numbers.push(part.parse::<u32>().map_err(|_| bad())?);
        }
        if numbers[0] < 3 {
            return Err(bad());
        }
        Ok(PythonVersion {
            major: numbers[0],
            minor: numbers[1],
            patch: numbers.get(2).copied(),
        })
    }
}

impl std::fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "{}.{}.{patch}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// What a platform tag says about the platform: its tag generator and marker values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    /// The tag as given.
    pub tag: String,
    /// Platform tags are generated from this (older manylinux/macOS versions included).
    pub platform: TagPlatform,
    /// `sys_platform`.
    pub sys_platform: &'static str,
    /// `platform_system`.
    pub platform_system: &'static str,
    /// `os_name`.
    pub os_name: &'static str,
    /// `platform_machine`.
    pub machine: String,
}

fn two_numbers(major: &str, minor: &str) -> Option<(u32, u32)> {
    let ok = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    if !ok(major) || !ok(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn arch_ok(arch: &str) -> bool {
    !arch.is_empty()
        && arch.len() <= 32
        && arch
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FromStr for PlatformSpec {
    type Err = MirrorError;

    /// Parses `manylinux_2_17_x86_64` (and `manylinux2014_x86_64`, `manylinux2010_…`,
    /// `manylinux1_…`), `musllinux_1_2_aarch64`, `linux_x86_64`, `macosx_11_0_arm64`,
    /// `win_amd64`, `win32`, `win_arm64`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || MirrorError::BadPlatform {
            value: value.to_string(),
        };
        let tag = value.trim().to_ascii_lowercase();
        let linux = |arch: &str, glibc, musl| -> Result<PlatformSpec, MirrorError> {
            if !arch_ok(arch) {
                return Err(bad());
            }
            Ok(PlatformSpec {
                tag: tag.clone(),
                platform: TagPlatform::Linux {
                    arch: arch.to_string(),
                    glibc,
                    musl,
                },
                sys_platform: "linux",
                platform_system: "Linux",
                os_name: "posix",
                machine: arch.to_string(),
            })
        };
        for (legacy, glibc) in [
            ("manylinux2014_", (2, 17)),
            ("manylinux2010_", (2, 12)),
            ("manylinux1_", (2, 5)),
        ] {
            if let Some(arch) = tag.strip_prefix(legacy) {
                return linux(arch, Some(glibc), None);
            }
        }
        for (prefix, is_musl) in [("manylinux_", false), ("musllinux_", true)] {
            if let Some(rest) = tag.strip_prefix(prefix) {
                let mut parts = rest.splitn(3, '_');
                let (Some(major), Some(minor), Some(arch)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                let version = two_numbers(major, minor).ok_or_else(bad)?;
                return if is_musl {
                    linux(arch, None, Some(version))
                } else {
                    linux(arch, Some(version), None)
                };
            }
        }
        if let Some(arch) = tag.strip_prefix("linux_") {
            return linux(arch, None, None);
        }
        if let Some(rest) = tag.strip_prefix("macosx_") {
            let mut parts = rest.splitn(3, '_');
            let (Some(major), Some(minor), Some(arch)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let version = two_numbers(major, minor).ok_or_else(bad)?;
            if !arch_ok(arch) {
                return Err(bad());
            }
            return Ok(PlatformSpec {
                tag: tag.clone(),
                platform: TagPlatform::MacOs {
                    version,
                    arch: arch.to_string(),
                },
                sys_platform: "darwin",
                platform_system: "Darwin",
                os_name: "posix",
                machine: arch.to_string(),
            });
        }
        let windows_machine = match tag.as_str() {
            "win_amd64" => Some("AMD64"),
            "win32" => Some("x86"),
            "win_arm64" => Some("ARM64"),
            _ => None,
        };
        if let Some(machine) = windows_machine {
            return Ok(PlatformSpec {
                tag: tag.clone(),
                platform: TagPlatform::Other(tag.clone()),
                sys_platform: "win32",
                platform_system: "Windows",
                os_name: "nt",
                machine: machine.to_string(),
            });
        }
        Err(bad())
    }
}

/// One target of a mirror: the interpreter description plonk resolves and picks wheels for.
#[derive(Debug, Clone)]
pub struct MirrorTarget {
    /// A short label: `cp311-manylinux_2_17_x86_64`, or `cp311-this machine`.
    pub label: String,
    /// The interpreter as the resolver and fetcher see it (the build interpreter's paths,
    /// the target's version, markers and tags).
    pub interpreter: Interpreter,
    /// Whether this is the build interpreter itself.
    pub native: bool,
}

/// The target for `python` (None: the build interpreter's version) on `platform` (None: this
/// machine's platform), derived from the build interpreter `base`.
pub fn target_for(
    base: &Interpreter,
    python: Option<PythonVersion>,
    platform: Option<&PlatformSpec>,
) -> Result<MirrorTarget, MirrorError> {
    if python.is_none() && platform.is_none() {
        let tt = &base.tag_target;
        return Ok(MirrorTarget {
            label: format!(
                "cp{}{} (this machine)",
                tt.python_version.0, tt.python_version.1
            ),
            interpreter: base.clone(),
            native: true,
        });
    }
    let mut interpreter = base.clone();
    let mut tag_target = base.tag_target.clone();
    let mut markers: MarkerEnvironment = base.markers.clone();
    if let Some(py) = python {
        let full = format!("{}.{}.{}", py.major, py.minor, py.patch.unwrap_or(0));
        let short = format!("{}.{}", py.major, py.minor);
        let bad = || MirrorError::BadPythonVersion {
            value: py.to_string(),
        };
        let full_version = Version::from_str(&full).map_err(|_| bad())?;
        let full_string = StringVersion::from_str(&full).map_err(|_| bad())?;
        let short_string = StringVersion::from_str(&short).map_err(|_| bad())?;
        interpreter.python_full_version = full_version;
        markers = markers
            .with_python_full_version(full_string.clone())
            .with_python_version(short_string)
            .with_implementation_name("cpython")
            .with_implementation_version(full_string)
            .with_platform_python_implementation("CPython");
        tag_target.python_version = (py.major, py.minor);
        tag_target.py_version_nodot = format!("{}{}", py.major, py.minor);
        tag_target.interpreter = TagInterpreter::CPython {
            debug: false,
            gil_disabled: false,
        };
    }
    if let Some(platform) = platform {
        tag_target.platforms = platform.platform.platform_tags();
        markers = markers
            .with_sys_platform(platform.sys_platform)
            .with_platform_system(platform.platform_system)
            .with_os_name(platform.os_name)
            .with_platform_machine(platform.machine.clone())
            // Unknown for a platform plonk does not run on; nothing real tests these.
            .with_platform_release("")
            .with_platform_version("");
    }
    interpreter.tags = Tags::new(supported_tags(&tag_target));
    interpreter.markers = markers;
    let label = format!(
        "cp{}{}-{}",
        tag_target.python_version.0,
        tag_target.python_version.1,
        platform
            .map(|p| p.tag.clone())
            .unwrap_or_else(|| "this platform".to_string())
    );
    interpreter.tag_target = tag_target;
    Ok(MirrorTarget {
        label,
        interpreter,
        native: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions() {
        let ok = [
            ("3.11", (3, 11, None)),
            ("3.8.10", (3, 8, Some(10))),
            (" 3.13 ", (3, 13, None)),
        ];
        for (text, (major, minor, patch)) in ok {
            let v: PythonVersion = text.parse().unwrap();
            assert_eq!((v.major, v.minor, v.patch), (major, minor, patch), "{text}");
        }
        for bad in [
            "",
            "3",
            "three.eleven",
            "3.11.1.1",
            "2.7",
            "3..1",
            "3.11a",
            "../3.11",
            "3.99999",
        ] {
            assert!(bad.parse::<PythonVersion>().is_err(), "{bad}");
        }
        assert_eq!("3.11".parse::<PythonVersion>().unwrap().to_string(), "3.11");
    }

    #[test]
    fn a_target_runs_as_the_interpreter_it_was_derived_from() {
        let base = Interpreter::query(std::path::Path::new("python3"), None).unwrap();
        let other = if base.python_version() == (3, 8) {
            "3.12"
        } else {
            "3.8"
        };
        let platform: PlatformSpec = "manylinux_2_17_aarch64".parse().unwrap();
        let target = target_for(&base, Some(other.parse().unwrap()), Some(&platform)).unwrap();
        assert_ne!(target.interpreter.markers, base.markers);
        // What a build for this target runs: the real interpreter, not the target's view.
        let real = target.interpreter.as_queried().unwrap();
        assert_eq!(real.python_full_version, base.python_full_version);
        assert_eq!(real.markers, base.markers);
        assert_eq!(
            real.tags.iter().collect::<Vec<_>>(),
            base.tags.iter().collect::<Vec<_>>()
        );
        assert_eq!(real.base_executable, base.base_executable);
    }

    #[test]
    fn platform_tags() {
        let spec: PlatformSpec = "manylinux_2_17_x86_64".parse().unwrap();
        let tags = spec.platform.platform_tags();
        assert_eq!(
            tags.first().map(String::as_str),
            Some("manylinux_2_17_x86_64")
        );
        assert!(tags.contains(&"manylinux2014_x86_64".to_string()));
        assert!(tags.contains(&"manylinux1_x86_64".to_string()));
        assert!(tags.contains(&"linux_x86_64".to_string()));
        assert!(!tags.iter().any(|t| t.contains("2_28")));
        assert_eq!(spec.sys_platform, "linux");

        let legacy: PlatformSpec = "manylinux2014_aarch64".parse().unwrap();
        assert_eq!(
            legacy.platform.platform_tags().first().map(String::as_str),
            Some("manylinux_2_17_aarch64")
        );
        let musl: PlatformSpec = "musllinux_1_2_x86_64".parse().unwrap();
        assert!(
            musl.platform
                .platform_tags()
                .contains(&"musllinux_1_1_x86_64".to_string())
        );
        let mac: PlatformSpec = "macosx_11_0_arm64".parse().unwrap();
        assert_eq!(mac.sys_platform, "darwin");
        assert!(
            mac.platform
                .platform_tags()
                .contains(&"macosx_11_0_universal2".to_string())
        );
        let win: PlatformSpec = "WIN_AMD64".parse().unwrap();
        assert_eq!((win.sys_platform, win.machine.as_str()), ("win32", "AMD64"));
        assert_eq!(win.platform.platform_tags(), vec!["win_amd64".to_string()]);

        for bad in [
            "",
            "any",
            "manylinux_2_x86_64",
            "manylinux_x_y_x86_64",
            "macosx_11_arm64",
            "linux_",
            "linux_../../etc",
            "manylinux_2_17_x86 64",
            "solaris",
        ] {
            assert!(bad.parse::<PlatformSpec>().is_err(), "{bad}");
        }
    }
}
