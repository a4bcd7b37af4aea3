//! Open edX release names: which release a Tutor version belongs to, and which names are
//! acceptable in an index URL (`<base>/<release>/plugins.yml`).

use pep440_rs::{LocalSegment, Version};

use super::TutorError;

/// Tutor major versions and their Open edX release, as in Tutor's `env.get_release`.
pub const RELEASES: &[(u64, &str)] = &[
    (15, "olive"),
    (16, "palm"),
    (17, "quince"),
    (18, "redwood"),
    (19, "sumac"),
    (20, "teak"),
    (21, "ulmo"),
    (22, "verawood"),
];

/// The release name of Tutor Main (the development branch).
pub const MAIN_RELEASE: &str = "main";

/// The release of a Tutor major version, if plonk knows it.
pub fn release_for_major(major: u64) -> Option<&'static str> {
    RELEASES
        .iter()
        .find(|(m, _)| *m == major)
        .map(|(_, name)| *name)
}

/// The release of a Tutor version: `main` for a Tutor Main version (local segment `main` or
/// `nightly`, e.g. `22.0.0+main`), else the release of its major version.
pub fn release_for_version(version: &Version) -> Option<&'static str> {
    let is_main = version
        .local()
        .iter()
        .any(|segment| matches!(segment, LocalSegment::String(s) if s == "main" || s == "nightly"));
    if is_main {
        return Some(MAIN_RELEASE);
    }
    release_for_major(*version.release().first()?)
}

/// The release of a Tutor version as Tutor prints it (`tutor --version`): `22.0.3`, or with
/// the branch suffix of Tutor Main, `22.0.0-main` / `22.0.0-nightly`.
pub fn release_for_version_text(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if let Some((_, suffix)) = text.split_once('-')
        && (suffix == "main" || suffix == "nightly")
    {
        return Some(MAIN_RELEASE);
    }
    let version: Version = text.parse().ok()?;
    release_for_version(&version)
}

/// The `__version_suffix__` of Tutor's `tutor/__about__.py`: `main` on Tutor Main, empty
/// (`None`) for a release. The installed distribution's version never carries the suffix, so
/// this file is the only way to tell Tutor Main apart.
pub fn version_suffix(about_py: &str) -> Option<String> {
    for line in about_py.lines() {
        let Some(rest) = line.trim_start().strip_prefix("__version_suffix__") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let value = value.split('#').next().unwrap_or_default().trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
        return (!unquoted.is_empty()).then(|| unquoted.to_string());
    }
    None
}

/// The release of an installed Tutor: its `__version_suffix__` when set (Tutor Main; the old
/// `nightly` suffix means `main` too), else the release of its version.
pub fn release_for_tutor(version: &Version, about_py: Option<&str>) -> Option<String> {
    if let Some(suffix) = about_py.and_then(version_suffix) {
        if suffix == "nightly" {
            return Some(MAIN_RELEASE.to_string());
        }
        return validate_release(&suffix).ok();
    }
    release_for_version(version).map(str::to_string)
}

/// Checks a release name given by the user (`--release`) or found in a file: lower-case
/// letters, digits, `.`, `-` and `_`, starting with a letter or digit, so that it can never
/// climb out of `<base>/<release>/plugins.yml`.
pub fn validate_release(name: &str) -> Result<String, TutorError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(name.to_string())
    } else {
        Err(TutorError::BadRelease(name.to_string()))
    }
}

/// Whether the release is one plonk knows (a Tutor major version's release, or `main`).
pub fn is_known_release(name: &str) -> bool {
    name == MAIN_RELEASE || RELEASES.iter().any(|(_, n)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_to_releases() {
        let rows = [
            ("15.3.9", Some("olive")),
            ("16.0.0", Some("palm")),
            ("17.0.6", Some("quince")),
            ("18.2.2", Some("redwood")),
            ("19.0.5", Some("sumac")),
            ("20.0.0", Some("teak")),
            ("21.0.9", Some("ulmo")),
            ("22.0.3", Some("verawood")),
            ("22.0.0rc1", Some("verawood")),
            ("22.0.0+main", Some("main")),
            ("21.0.0+nightly", Some("main")),
            ("14.2.5", None),
            ("99.0.0", None),
        ];
        for (text, expected) in rows {
            let version: Version = text.parse().unwrap();
            assert_eq!(release_for_version(&version), expected, "{text}");
        }
    }

    #[test]
    fn version_texts_to_releases() {
        assert_eq!(release_for_version_text("22.0.0-nightly"), Some("main"));
        assert_eq!(release_for_version_text("21.0.0-main"), Some("main"));
        assert_eq!(release_for_version_text("20.0.1"), Some("teak"));
        assert_eq!(release_for_version_text("garbage"), None);
        assert_eq!(release_for_version_text(""), None);
    }

    #[test]
    fn about_py_suffix() {
        let main = "import os\n__version__ = \"22.0.0\"\n__version_suffix__ = \"main\"\n";
        let release = "__version__ = \"22.0.3\"\n__version_suffix__ = \"\"\n";
        let single = "__version_suffix__='nightly'  # old name\n";
        assert_eq!(version_suffix(main).as_deref(), Some("main"));
        assert_eq!(version_suffix(release), None);
        assert_eq!(version_suffix(single).as_deref(), Some("nightly"));
        assert_eq!(
            version_suffix("__version_suffix__ = os.environ['X']\n"),
            None
        );
        let v: Version = "22.0.0".parse().unwrap();
        assert_eq!(release_for_tutor(&v, Some(main)).as_deref(), Some("main"));
        assert_eq!(release_for_tutor(&v, Some(single)).as_deref(), Some("main"));
        assert_eq!(
            release_for_tutor(&v, Some(release)).as_deref(),
            Some("verawood")
        );
        assert_eq!(release_for_tutor(&v, None).as_deref(), Some("verawood"));
        // A hostile suffix never becomes a path.
        let evil = "__version_suffix__ = \"../../etc\"\n";
        assert_eq!(release_for_tutor(&v, Some(evil)), None);
    }

    #[test]
    fn release_names() {
        for ok in ["redwood", "main", "my-fork_1.2"] {
            assert_eq!(validate_release(ok).unwrap(), ok);
        }
        for bad in [
            "", "..", "../x", "a/b", "Redwood", "-x", ".hidden", "a b", "a\\b",
        ] {
            let err = validate_release(bad).unwrap_err();
            assert!(
                err.to_string().contains("not a valid Open edX release"),
                "{err}"
            );
        }
        assert!(is_known_release("ulmo"));
        assert!(is_known_release("main"));
        assert!(!is_known_release("nutmeg"));
    }
}
