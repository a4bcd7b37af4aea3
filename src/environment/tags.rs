//! The supported wheel tags of an interpreter, in the order `packaging.tags.sys_tags()` yields
//! them (most preferred first), computed from a few facts about the interpreter and platform.
//!
//! Kept free of I/O so that the mirror can compute the tags of a target it does not run on
//! (`--python-version 3.11 --platform manylinux_2_17_x86_64`).

/// The platform a tag list is generated for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPlatform {
    /// Linux. `arch` is the part after `linux_` (already adjusted for a 32-bit interpreter
    /// on a 64-bit kernel). `glibc` is `None` when the interpreter is not linked against a glibc
    /// that manylinux wheels can use; `musl` is the musl version when linked against musl.
    Linux {
        /// `x86_64`, `aarch64`, `armv7l`, `i686`...
        arch: String,
        /// glibc (major, minor).
        glibc: Option<(u32, u32)>,
        /// musl (major, minor).
        musl: Option<(u32, u32)>,
    },
    /// macOS `version` (major, minor) on `arch` (`arm64`, `x86_64`...).
    MacOs {
        /// The running macOS version.
        version: (u32, u32),
        /// The interpreter's CPU architecture.
        arch: String,
    },
    /// Any other platform: the single normalized `sysconfig.get_platform()` value (`win_amd64`).
    Other(String),
}

/// The flavour of interpreter, which decides the ABI tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagInterpreter {
    /// CPython: `cpXY` tags, abi3 where it applies.
    CPython {
        /// A debug build (`Py_DEBUG`), whose ABI tag carries a `d`.
        debug: bool,
        /// A free-threaded build (3.13+ `Py_GIL_DISABLED`), whose ABI tag carries a `t`.
        gil_disabled: bool,
    },
    /// Any other implementation (PyPy, GraalPy...), tagged `<short name><version nodot>`.
    Generic {
        /// The short name: `pp` for PyPy, else `sys.implementation.name`.
        short_name: String,
        /// The ABI tags from `EXT_SUFFIX` (see [`generic_abis`]).
        abis: Vec<String>,
    },
}

/// Everything the tag list depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// Python language version (major, minor).
    pub python_version: (u32, u32),
    /// `sysconfig.get_config_var("py_version_nodot")` (e.g. `311`).
    pub py_version_nodot: String,
    /// The implementation.
    pub interpreter: TagInterpreter,
    /// Platform tags, most preferred first (see [`TagPlatform::platform_tags`]).
    pub platforms: Vec<String>,
}

/// The CPU architectures tagged by manylinux, beyond the 32-bit ones that need an ELF check.
const MANYLINUX_ARCHS: &[&str] = &[
    "x86_64",
    "aarch64",
    "ppc64",
    "ppc64le",
    "s390x",
    "loongarch64",
    "riscv64",
];

impl TagPlatform {
    /// Whether manylinux wheels can run for this architecture at all; `armhf` and `i686`
    /// need the interpreter's ELF header, which the caller checks (see `armv7l`/`i686`).
    pub fn manylinux_arch(arch: &str) -> bool {
        MANYLINUX_ARCHS.contains(&arch) || arch == "armv7l" || arch == "i686"
    }

    /// The platform tags, most preferred first, as `packaging.tags.platform_tags()`.
    pub fn platform_tags(&self) -> Vec<String> {
        match self {
            TagPlatform::Linux { arch, glibc, musl } => linux_platforms(arch, *glibc, *musl),
            TagPlatform::MacOs { version, arch } => mac_platforms(*version, arch),
            TagPlatform::Other(platform) => vec![normalize(platform)],
        }
    }
}

/// `packaging.tags._normalize_string`.
pub(crate) fn normalize(value: &str) -> String {
    value.replace(['.', '-', ' '], "_")
}

fn linux_platforms(arch: &str, glibc: Option<(u32, u32)>, musl: Option<(u32, u32)>) -> Vec<String> {
    // An armv8l interpreter also runs armv7l wheels.
    let archs: Vec<&str> = if arch == "armv8l" {
        vec!["armv8l", "armv7l"]
    } else {
        vec![arch]
    };
    let mut tags = Vec::new();
    if let Some((major, minor)) = glibc
        && archs.iter().any(|arch| TagPlatform::manylinux_arch(arch))
    {
        // manylinux starts at glibc 2.5 on x86, 2.17 elsewhere.
        let oldest = if archs.iter().any(|a| *a == "x86_64" || *a == "i686") {
            5
        } else {
            17
        };
        // Older glibc majors do not exist in practice; packaging also stops at major 2.
        let mut maxima = vec![(major, minor)];
        maxima.extend((2..major).rev().map(|m| (m, 50)));
        for arch in &archs {
            for &(major, max_minor) in &maxima {
                let min_minor = if major == 2 { oldest } else { 0 };
                for minor in (min_minor..=max_minor).rev() {
                    tags.push(format!("manylinux_{major}_{minor}_{arch}"));
                    let legacy = match (major, minor) {
                        (2, 17) => Some("manylinux2014"),
                        (2, 12) => Some("manylinux2010"),
                        (2, 5) => Some("manylinux1"),
                        _ => None,
                    };
                    if let Some(legacy) = legacy {
                        tags.push(format!("{legacy}_{arch}"));
                    }
                }
            }
        }
    }
    if let Some((major, minor)) = musl {
        for arch in &archs {
            for minor in (0..=minor).rev() {
                tags.push(format!("musllinux_{major}_{minor}_{arch}"));
            }
        }
    }
    for arch in &archs {
        tags.push(format!("linux_{arch}"));
    }
    tags
}

/// `packaging.tags._mac_binary_formats`.
fn mac_binary_formats(version: (u32, u32), arch: &str) -> Vec<&str> {
    let mut formats = vec![arch];
    match arch {
        "x86_64" => {
            if version < (10, 4) {
                return Vec::new();
            }
            formats.extend(["intel", "fat64", "fat32"]);
        }
        "i386" => {
            if version < (10, 4) {
                return Vec::new();
            }
            formats.extend(["intel", "fat32", "fat"]);
        }
        "ppc64" => {
            if !((10, 4)..=(10, 5)).contains(&version) {
                return Vec::new();
            }
            formats.push("fat64");
        }
        "ppc" => {
            if version > (10, 6) {
                return Vec::new();
            }
            formats.extend(["fat32", "fat"]);
        }
        _ => {}
    }
    if arch == "arm64" || arch == "x86_64" {
        formats.push("universal2");
    }
    if ["x86_64", "i386", "ppc64", "ppc", "intel"].contains(&arch) {
        formats.push("universal");
    }
    formats
}

/// `packaging.tags.mac_platforms(version, arch)`.
pub fn mac_platforms(version: (u32, u32), arch: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut push = |major: u32, minor: u32, format: &str| {
        tags.push(format!("macosx_{major}_{minor}_{format}"));
    };
    if ((10, 0)..(11, 0)).contains(&version) {
        // Before macOS 11 every yearly release bumped the minor version.
        for minor in (0..=version.1).rev() {
            for format in mac_binary_formats((10, minor), arch) {
                push(10, minor, format);
            }
        }
    }
    if version >= (11, 0) {
        // Since macOS 11 every yearly release bumps the major version.
        for major in (11..=version.0).rev() {
            for format in mac_binary_formats((major, 0), arch) {
                push(major, 0, format);
            }
        }
        // macOS 11+ on x86_64 runs binaries of earlier releases; arm64 only through
        // universal2 (the x86_64 half may target an older macOS).
        for minor in (4..=16).rev() {
            if arch == "x86_64" {
                for format in mac_binary_formats((10, minor), arch) {
                    push(10, minor, format);
                }
            } else {
                push(10, minor, "universal2");
            }
        }
    }
    tags
}

/// `packaging.tags._cpython_abis` for Python 3.8+: `cpXY[t][d]`, plus the non-debug ABI that
/// a debug build can also load.
pub fn cpython_abis(python_version: (u32, u32), debug: bool, gil_disabled: bool) -> Vec<String> {
    let (major, minor) = python_version;
    let threading = if python_version >= (3, 13) && gil_disabled {
        "t"
    } else {
        ""
    };
    let mut abis = vec![format!(
        "cp{major}{minor}{threading}{}",
        if debug { "d" } else { "" }
    )];
    if debug {
        abis.push(format!("cp{major}{minor}{threading}"));
    }
    abis
}

/// `packaging.tags._generic_abi`: the ABI tag encoded in `EXT_SUFFIX`
/// (`.pypy310-pp73-x86_64-linux-gnu.so` gives `pypy310_pp73`).
pub fn generic_abis(ext_suffix: Option<&str>) -> Vec<String> {
    let Some(ext_suffix) = ext_suffix.filter(|s| s.starts_with('.')) else {
        return Vec::new();
    };
    let parts: Vec<&str> = ext_suffix.split('.').collect();
    if parts.len() < 3 {
        return Vec::new();
    }
    let soabi = parts[1];
    let pieces: Vec<&str> = soabi.split('-').collect();
    let abi = if soabi.starts_with("cpython") {
        match pieces.get(1) {
            Some(version) => format!("cp{version}"),
            None => return Vec::new(),
        }
    } else if soabi.starts_with("cp") {
        pieces[0].to_string()
    } else if soabi.starts_with("pypy") {
        pieces[..pieces.len().min(2)].join("-")
    } else if soabi.starts_with("graalpy") {
        pieces[..pieces.len().min(3)].join("-")
    } else if !soabi.is_empty() {
        soabi.to_string()
    } else {
        return Vec::new();
    };
    vec![normalize(&abi)]
}

/// The ordered `(python, abi, platform)` triples of `packaging.tags.sys_tags()`.
pub fn supported_tags(target: &TagTarget) -> Vec<(String, String, String)> {
    let mut tags = Vec::new();
    let platforms = &target.platforms;
    let (major, minor) = target.python_version;
    let mut push = |python: &str, abi: &str, platform: &str| {
        tags.push((python.to_string(), abi.to_string(), platform.to_string()));
    };
    match &target.interpreter {
        TagInterpreter::CPython {
            debug,
            gil_disabled,
        } => {
            let interpreter = format!("cp{major}{minor}");
            let abis = cpython_abis(target.python_version, *debug, *gil_disabled);
            for abi in &abis {
                for platform in platforms {
                    push(&interpreter, abi, platform);
                }
            }
            // Free-threaded builds cannot load the stable ABI.
            let threading = abis
                .first()
                .and_then(|abi| abi.strip_prefix("cp"))
                .is_some_and(|rest| {
                    rest.trim_start_matches(|c: char| c.is_ascii_digit())
                        .contains('t')
                });
            let use_abi3 = (major, minor) >= (3, 2) && !threading;
            if use_abi3 {
                for platform in platforms {
                    push(&interpreter, "abi3", platform);
                }
            }
            for platform in platforms {
                push(&interpreter, "none", platform);
            }
            if use_abi3 {
                for older in (2..minor).rev() {
                    let interpreter = format!("cp{major}{older}");
                    for platform in platforms {
                        push(&interpreter, "abi3", platform);
                    }
                }
            }
        }
        TagInterpreter::Generic { short_name, abis } => {
            let interpreter = format!("{short_name}{}", target.py_version_nodot);
            let mut abis = abis.clone();
            if !abis.iter().any(|abi| abi == "none") {
                abis.push("none".to_string());
            }
            for abi in &abis {
                for platform in platforms {
                    push(&interpreter, abi, platform);
                }
            }
        }
    }
    // `compatible_tags`: pure-Python wheels, newest language version first.
    let mut py_range = vec![format!("py{major}{minor}"), format!("py{major}")];
    py_range.extend((0..minor).rev().map(|m| format!("py{major}{m}")));
    for python in &py_range {
        for platform in platforms {
            push(python, "none", platform);
        }
    }
    match &target.interpreter {
        TagInterpreter::CPython { .. } => {
            push(&format!("cp{}", target.py_version_nodot), "none", "any")
        }
        TagInterpreter::Generic { short_name, .. } if short_name == "pp" => {
            push(&format!("pp{major}"), "none", "any")
        }
        TagInterpreter::Generic { .. } => {}
    }
    for python in &py_range {
        push(python, "none", "any");
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `code` with the system python3 and returns its stdout lines.
    fn python_lines(python: &str, code: &str) -> Vec<String> {
        let out = std::process::Command::new(python)
            .args(["-c", code])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A Python whose pip vendors packaging 24+ (the 3.11 one vendors 21.3, which predates
    /// free-threading and the multi-arch manylinux API).
    fn modern_python() -> String {
        let home = std::env::var("HOME").unwrap_or_default();
        let pattern = std::path::Path::new(&home).join(".pyenv/versions");
        if let Ok(entries) = std::fs::read_dir(&pattern) {
            for entry in entries.flatten() {
                let path = entry.path().join("bin/python3.13");
                if entry.file_name().to_string_lossy().starts_with("3.13") && path.exists() {
                    return path.to_string_lossy().into_owned();
                }
            }
        }
        "python3.13".to_string()
    }

    fn py(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn mac_platforms_match_packaging() {
        for (version, arch) in [
            ((14, 2), "arm64"),
            ((14, 0), "x86_64"),
            ((11, 0), "arm64"),
            ((10, 15), "x86_64"),
            ((10, 9), "i386"),
            ((10, 5), "ppc64"),
            ((10, 6), "ppc"),
        ] {
            let code = format!(
                "from pip._vendor.packaging.tags import mac_platforms\n\
                 for p in mac_platforms(({}, {}), {arch:?}): print(p)",
                version.0, version.1
            );
            let expected = python_lines(&modern_python(), &code);
            assert_eq!(mac_platforms(version, arch), expected, "{version:?} {arch}");
        }
    }

    #[test]
    fn manylinux_platforms_match_packaging() {
        // packaging reads the glibc version of the running process: patch it.
        for (glibc, arch) in [((2, 36), "x86_64"), ((2, 17), "aarch64"), ((2, 28), "i686")] {
            let code = format!(
                "from pip._vendor.packaging import _manylinux\n\
                 _manylinux._get_glibc_version = lambda: ({}, {})\n\
                 _manylinux._have_compatible_abi = lambda *a: True\n\
                 for p in _manylinux.platform_tags([{arch:?}]): print(p)",
                glibc.0, glibc.1
            );
            let mut expected = python_lines(&modern_python(), &code);
            expected.push(format!("linux_{arch}"));
            let tags = TagPlatform::Linux {
                arch: arch.to_string(),
                glibc: Some(glibc),
                musl: None,
            }
            .platform_tags();
            assert_eq!(tags, expected, "{glibc:?} {arch}");
        }
    }

    #[test]
    fn linux_without_glibc_and_with_musl() {
        let tags = TagPlatform::Linux {
            arch: py("x86_64"),
            glibc: None,
            musl: Some((1, 2)),
        }
        .platform_tags();
        assert_eq!(
            tags,
            [
                "musllinux_1_2_x86_64",
                "musllinux_1_1_x86_64",
                "musllinux_1_0_x86_64",
                "linux_x86_64"
            ]
        );
        let tags = TagPlatform::Linux {
            arch: py("armv8l"),
            glibc: None,
            musl: None,
        }
        .platform_tags();
        assert_eq!(tags, ["linux_armv8l", "linux_armv7l"]);
        // An architecture manylinux does not cover gets only its plain tag.
        let tags = TagPlatform::Linux {
            arch: py("sparc64"),
            glibc: Some((2, 36)),
            musl: None,
        }
        .platform_tags();
        assert_eq!(tags, ["linux_sparc64"]);
    }

    #[test]
    fn cpython_tags_match_packaging() {
        // Fixed platforms make this independent of the machine.
        let platforms = vec![py("manylinux_2_17_x86_64"), py("linux_x86_64")];
        for (version, debug, gil_disabled) in [
            ((3, 11), false, false),
            ((3, 8), true, false),
            ((3, 13), false, true),
        ] {
            let abis = cpython_abis(version, debug, gil_disabled);
            let code = format!(
                "from pip._vendor.packaging import tags\n\
                 plats = ['manylinux_2_17_x86_64', 'linux_x86_64']\n\
                 ts = list(tags.cpython_tags(({}, {}), {abis:?}, plats))\n\
                 ts += list(tags.compatible_tags(({}, {}), 'cp{}{}', plats))\n\
                 for t in ts: print(t)",
                version.0, version.1, version.0, version.1, version.0, version.1
            );
            let expected = python_lines(&modern_python(), &code);
            let target = TagTarget {
                python_version: version,
                py_version_nodot: format!("{}{}", version.0, version.1),
                interpreter: TagInterpreter::CPython {
                    debug,
                    gil_disabled,
                },
                platforms: platforms.clone(),
            };
            let got: Vec<String> = supported_tags(&target)
                .into_iter()
                .map(|(a, b, c)| format!("{a}-{b}-{c}"))
                .collect();
            assert_eq!(got, expected, "{version:?} debug={debug} t={gil_disabled}");
        }
    }

    #[test]
    fn cpython_abis_rows() {
        assert_eq!(cpython_abis((3, 11), false, false), ["cp311"]);
        assert_eq!(cpython_abis((3, 11), true, false), ["cp311d", "cp311"]);
        assert_eq!(cpython_abis((3, 13), false, true), ["cp313t"]);
        // Py_GIL_DISABLED means nothing before 3.13.
        assert_eq!(cpython_abis((3, 12), false, true), ["cp312"]);
    }

    #[test]
    fn generic_abis_rows() {
        let rows: &[(Option<&str>, &[&str])] = &[
            (Some(".cpython-310-x86_64-linux-gnu.so"), &["cp310"]),
            (Some(".cpython-310-darwin.so"), &["cp310"]),
            (Some(".cp310-win_amd64.pyd"), &["cp310"]),
            (Some(".pypy38-pp73-x86_64-linux-gnu.so"), &["pypy38_pp73"]),
            (
                Some(".graalpy-38-native-x86_64-darwin.dylib"),
                &["graalpy_38_native"],
            ),
            (Some(".pyd"), &[]),
            (Some("garbage"), &[]),
            (Some(""), &[]),
            (Some("..so"), &[]),
            (Some(".cpython.so"), &[]),
            (None, &[]),
        ];
        for (suffix, expected) in rows {
            assert_eq!(generic_abis(*suffix), *expected, "{suffix:?}");
        }
    }

    #[test]
    fn pypy_tags_shape() {
        let target = TagTarget {
            python_version: (3, 10),
            py_version_nodot: py("310"),
            interpreter: TagInterpreter::Generic {
                short_name: py("pp"),
                abis: vec![py("pypy310_pp73")],
            },
            platforms: vec![py("linux_x86_64")],
        };
        let tags = supported_tags(&target);
        assert_eq!(
            tags[0],
            (py("pp310"), py("pypy310_pp73"), py("linux_x86_64"))
        );
        assert_eq!(tags[1], (py("pp310"), py("none"), py("linux_x86_64")));
        assert!(tags.contains(&(py("pp3"), py("none"), py("any"))));
        assert_eq!(tags.last(), Some(&(py("py30"), py("none"), py("any"))));
    }
}
