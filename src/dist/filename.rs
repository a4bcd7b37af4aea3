//! Distribution filenames: PEP 427 wheels (`name-version[-build]-py-abi-plat.whl`) and
//! source distributions (`name-version.tar.gz` / `.zip`).

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use super::DistError;

/// A parsed wheel filename (PEP 427), with compressed tag sets (`py2.py3`) expanded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// Normalized distribution name.
    pub name: PackageName,
    /// Distribution version.
    pub version: Version,
    /// Optional build tag; always starts with a digit.
    pub build: Option<String>,
    /// Python tags, e.g. `["py2", "py3"]`.
    pub python_tags: Vec<String>,
    /// ABI tags, e.g. `["none"]`.
    pub abi_tags: Vec<String>,
    /// Platform tags, e.g. `["any"]`.
    pub platform_tags: Vec<String>,
}

impl WheelFilename {
    /// Every `(python, abi, platform)` triple this wheel claims to support.
    pub fn tag_triples(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.python_tags.iter().flat_map(move |py| {
            self.abi_tags.iter().flat_map(move |abi| {
                self.platform_tags
                    .iter()
                    .map(move |plat| (py.as_str(), abi.as_str(), plat.as_str()))
            })
        })
    }

    /// Whether this wheel is pure Python and platform-independent (`none`/`any` only).
    pub fn is_universal(&self) -> bool {
        self.abi_tags.iter().all(|a| a == "none") && self.platform_tags.iter().all(|p| p == "any")
    }

    /// The `.dist-info` directory name the wheel must contain, `<name>-<version>.dist-info`
    /// with the name escaped (dashes become underscores).
    pub fn dist_info_dir(&self) -> String {
        format!(
            "{}-{}.dist-info",
            self.name.as_dist_info_name(),
            self.version
        )
    }

    /// The `.data` directory name, `<name>-<version>.data`.
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", self.name.as_dist_info_name(), self.version)
    }
}

fn wheel_err(filename: &str, reason: impl Into<String>) -> DistError {
    DistError::InvalidWheelFilename {
        filename: filename.to_string(),
        reason: reason.into(),
    }
}

fn split_tags(filename: &str, part: &str, what: &str) -> Result<Vec<String>, DistError> {
    let tags: Vec<String> = part.split('.').map(str::to_string).collect();
    if tags.iter().any(|t| t.is_empty()) {
        return Err(wheel_err(
            filename,
            format!("the {what} tag `{part}` is empty"),
        ));
    }
    if let Some(bad) = tags
        .iter()
        .find(|t| !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(wheel_err(
            filename,
            format!("the {what} tag `{bad}` has characters other than letters, digits and `_`"),
        ));
    }
    Ok(tags)
}

impl FromStr for WheelFilename {
    type Err = DistError;

    fn from_str(filename: &str) -> Result<Self, Self::Err> {
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| wheel_err(filename, "it does not end in `.whl`"))?;
        if stem.contains(['/', '\\']) {
            return Err(wheel_err(filename, "it contains a path separator"));
        }
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts.as_slice() {
            [name, version, py, abi, plat] => (*name, *version, None, *py, *abi, *plat),
            [name, version, build, py, abi, plat] => {
                (*name, *version, Some(*build), *py, *abi, *plat)
            }
            _ => {
                return Err(wheel_err(
                    filename,
                    "expected `name-version[-build]-python-abi-platform.whl`",
                ));
            }
        };
        let name = PackageName::from_str(name)
            .ok()
            .filter(|_| !name.is_empty())
            .ok_or_else(|| wheel_err(filename, format!("`{name}` is not a valid package name")))?;
        let version = Version::from_str(version)
            .map_err(|_| wheel_err(filename, format!("`{version}` is not a valid version")))?;
        let build = match build {
            None => None,
            Some(b) => {
                if !b.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(wheel_err(
                        filename,
                        format!("the build tag `{b}` does not start with a digit"),
                    ));
                }
                if !b.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(wheel_err(
                        filename,
                        format!("the build tag `{b}` is invalid"),
                    ));
                }
                Some(b.to_string())
            }
        };
        Ok(WheelFilename {
            name,
            version,
            build,
            python_tags: split_tags(filename, py, "python")?,
            abi_tags: split_tags(filename, abi, "ABI")?,
            platform_tags: split_tags(filename, plat, "platform")?,
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name.as_dist_info_name(), self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{build}")?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            self.platform_tags.join(".")
        )
    }
}

/// The archive format of a source distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdistExtension {
    /// `.tar.gz` (the only format PEP 625 allows today).
    TarGz,
    /// `.zip` (legacy).
    Zip,
}

impl SdistExtension {
    /// The extension with its leading dot.
    pub fn as_str(self) -> &'static str {
        match self {
            SdistExtension::TarGz => ".tar.gz",
            SdistExtension::Zip => ".zip",
        }
    }
}

impl fmt::Display for SdistExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed source distribution filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SdistFilename {
    /// Normalized distribution name.
    pub name: PackageName,
    /// Distribution version.
    pub version: Version,
    /// Archive format.
    pub extension: SdistExtension,
}

fn sdist_err(filename: &str, reason: impl Into<String>) -> DistError {
    DistError::InvalidSdistFilename {
        filename: filename.to_string(),
        reason: reason.into(),
    }
}

impl SdistFilename {
    /// Parse `name-version.tar.gz` or `name-version.zip`.
    ///
    /// Legacy sdists may have dashes in the name (`foo-bar-1.0.tar.gz`); with `expected` the
    /// split point is the one whose prefix normalizes to that name, without it the filename is
    /// split at the last dash.
    pub fn parse(filename: &str, expected: Option<&PackageName>) -> Result<Self, DistError> {
        if filename.contains(['/', '\\']) {
            return Err(sdist_err(filename, "it contains a path separator"));
        }
        let lower = filename.to_ascii_lowercase();
        let (stem, extension) = if lower.ends_with(".tar.gz") {
            (&filename[..filename.len() - 7], SdistExtension::TarGz)
        } else if lower.ends_with(".zip") {
            (&filename[..filename.len() - 4], SdistExtension::Zip)
        } else {
            return Err(sdist_err(
                filename,
                "it does not end in `.tar.gz` or `.zip`",
            ));
        };
        let make = |name: &str, version: &str| -> Result<Self, DistError> {
            let name = PackageName::from_str(name)
                .ok()
                .filter(|_| !name.is_empty())
                .ok_or_else(|| {
                    sdist_err(filename, format!("`{name}` is not a valid package name"))
                })?;
            let version = Version::from_str(version)
                .map_err(|_| sdist_err(filename, format!("`{version}` is not a valid version")))?;
            Ok(SdistFilename {
                name,
                version,
                extension,
            })
        };
        match expected {
            Some(expected) => {
                for (i, _) in stem.match_indices('-') {
                    let prefix = &stem[..i];
                    if PackageName::from_str(prefix).is_ok_and(|n| &n == expected) {
                        return make(prefix, &stem[i + 1..]);
                    }
                }
                Err(sdist_err(
                    filename,
                    format!("it does not start with `{expected}-`"),
                ))
            }
            None => {
                let (name, version) = stem
                    .rsplit_once('-')
                    .ok_or_else(|| sdist_err(filename, "expected `name-version`"))?;
                make(name, version)
            }
        }
    }
}

impl fmt::Display for SdistFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}{}",
            self.name.as_dist_info_name(),
            self.version,
            self.extension
        )
    }
}

/// Either kind of distribution filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DistFilename {
    /// A built distribution.
    Wheel(WheelFilename),
    /// A source distribution.
    Sdist(SdistFilename),
}

impl DistFilename {
    /// Parse a wheel or sdist filename; `expected_name` helps split legacy sdist names and,
    /// when given, a wheel whose name differs is an error.
    pub fn parse(filename: &str, expected_name: Option<&PackageName>) -> Result<Self, DistError> {
        if filename.ends_with(".whl") {
            let wheel = WheelFilename::from_str(filename)?;
            if let Some(expected) = expected_name
                && &wheel.name != expected
            {
                return Err(wheel_err(
                    filename,
                    format!("its name `{}` is not `{expected}`", wheel.name),
                ));
            }
            Ok(DistFilename::Wheel(wheel))
        } else {
            SdistFilename::parse(filename, expected_name).map(DistFilename::Sdist)
        }
    }

    /// The normalized distribution name.
    pub fn name(&self) -> &PackageName {
        match self {
            DistFilename::Wheel(w) => &w.name,
            DistFilename::Sdist(s) => &s.name,
        }
    }

    /// The distribution version.
    pub fn version(&self) -> &Version {
        match self {
            DistFilename::Wheel(w) => &w.version,
            DistFilename::Sdist(s) => &s.version,
        }
    }

    /// Whether this is a wheel.
    pub fn is_wheel(&self) -> bool {
        matches!(self, DistFilename::Wheel(_))
    }
}

impl fmt::Display for DistFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistFilename::Wheel(w) => w.fmt(f),
            DistFilename::Sdist(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    #[test]
    fn wheel_valid() {
        let w = WheelFilename::from_str("tutor_mfe-22.1.0-py3-none-any.whl").unwrap();
        assert_eq!(w.name, name("tutor-mfe"));
        assert_eq!(w.version.to_string(), "22.1.0");
        assert_eq!(w.build, None);
        assert_eq!(w.python_tags, ["py3"]);
        assert_eq!(w.dist_info_dir(), "tutor_mfe-22.1.0.dist-info");
        assert!(w.is_universal());
        assert_eq!(w.to_string(), "tutor_mfe-22.1.0-py3-none-any.whl");

        let w = WheelFilename::from_str("six-1.16.0-1abc-py2.py3-none-any.whl").unwrap();
        assert_eq!(w.build.as_deref(), Some("1abc"));
        assert_eq!(w.python_tags, ["py2", "py3"]);
        assert_eq!(w.tag_triples().count(), 2);
        assert_eq!(w.to_string(), "six-1.16.0-1abc-py2.py3-none-any.whl");

        let w = WheelFilename::from_str(
            "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name, name("pyyaml"));
        assert_eq!(w.platform_tags.len(), 2);
        assert!(!w.is_universal());
    }

    #[test]
    fn wheel_garbage() {
        for bad in [
            "",
            ".whl",
            "foo.whl",
            "foo-1.0.whl",
            "foo-1.0-py3-none.whl",
            "foo-1.0-py3-none-any.tar.gz",
            "foo-notaversion-py3-none-any.whl",
            "foo-1.0-abc-py3-none-any.whl",
            "foo-1.0-1-2-py3-none-any.whl",
            "foo-1.0-py3..py2-none-any.whl",
            "-1.0-py3-none-any.whl",
            "../foo-1.0-py3-none-any.whl",
            "/abs/foo-1.0-py3-none-any.whl",
            "foo-1.0-py3-none-any/../x.whl",
        ] {
            assert!(WheelFilename::from_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sdist_valid() {
        let s = SdistFilename::parse("tutor-mfe-22.1.0.tar.gz", None).unwrap();
        assert_eq!(s.name, name("tutor-mfe"));
        assert_eq!(s.version.to_string(), "22.1.0");
        assert_eq!(s.extension, SdistExtension::TarGz);

        let s = SdistFilename::parse("Foo_Bar-1.0.zip", None).unwrap();
        assert_eq!(s.name, name("foo-bar"));
        assert_eq!(s.extension, SdistExtension::Zip);

        // The version contains a dash: only the expected name tells where to split.
        let s = SdistFilename::parse("foo-bar-1.0-1.tar.gz", Some(&name("foo-bar"))).unwrap();
        assert_eq!(s.version.to_string(), "1.0.post1");
        let s = SdistFilename::parse("Foo.Bar-2.0.tar.gz", Some(&name("foo-bar"))).unwrap();
        assert_eq!(s.name, name("foo-bar"));
        assert_eq!(s.to_string(), "foo_bar-2.0.tar.gz");
    }

    #[test]
    fn sdist_garbage() {
        for bad in [
            "",
            "foo.tar.gz",
            "foo-1.0.tar.bz2",
            "foo-1.0",
            "foo-bar.tar.gz",
            "-1.0.tar.gz",
            "../foo-1.0.tar.gz",
        ] {
            assert!(SdistFilename::parse(bad, None).is_err(), "{bad}");
        }
        assert!(SdistFilename::parse("foo-1.0.tar.gz", Some(&name("bar"))).is_err());
    }

    #[test]
    fn dist_filename() {
        let d = DistFilename::parse("foo-1.0-py3-none-any.whl", None).unwrap();
        assert!(d.is_wheel());
        assert_eq!(d.name(), &name("foo"));
        let d = DistFilename::parse("foo-1.0.tar.gz", Some(&name("foo"))).unwrap();
        assert!(!d.is_wheel());
        assert_eq!(d.version().to_string(), "1.0");
        assert!(DistFilename::parse("foo-1.0-py3-none-any.whl", Some(&name("bar"))).is_err());
        assert!(DistFilename::parse("foo-1.0.exe", None).is_err());
    }
}
