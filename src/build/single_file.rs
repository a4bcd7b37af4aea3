//! Wheels plonk writes itself, without a build backend:
//!
//! - a single-file `.py` plugin wrapped into a wheel: the file becomes the module
//!   `_plonk_plugins.<stem>` of the distribution `plonk-file-<stem>`, whose `tutor.plugin.v1`
//!   entry point is the file's stem, so Tutor lists it under the name it would give the file
//!   in its plugins root; the version `0+sha.<digest>` names the content;
//! - the editable wheel of a checkout (PEP 660 style): the dist-info of the checkout's built
//!   wheel plus a `__editable__.<name>-<version>.pth` that puts the checkout's package folders
//!   on `sys.path`, so a change to the checkout is seen without reinstalling;
//! - and the sniffing that refuses a download that is not what it claims to be (an HTML page,
//!   an empty file, bytes that are not UTF-8 text).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use zip::write::SimpleFileOptions;

use crate::dist::{PackageName, Record, RecordEntry, Version, record_hash};

/// The namespace package that holds wrapped single-file plugins.
pub const PLUGINS_PACKAGE: &str = "_plonk_plugins";
/// Prefix of the distribution name of a wrapped single-file plugin.
pub const DIST_PREFIX: &str = "plonk-file-";
/// The biggest plugin file plonk accepts.
pub const MAX_PLUGIN_FILE: u64 = 4 << 20;
/// The biggest member copied from a built wheel into an editable one.
const MAX_MEMBER: u64 = 64 << 20;

/// A wheel plonk could not write, or a file it refuses to wrap.
#[derive(Debug, thiserror::Error)]
pub enum SingleFileError {
    /// The file stem cannot name a Tutor plugin.
    #[error(
        "`{name}` cannot be a plugin name: use a file name made of letters, digits, `_`, `-` and `.`"
    )]
    BadName {
        /// The stem.
        name: String,
    },
    /// Nothing but whitespace.
    #[error("{what} is empty")]
    Empty {
        /// The file (URL or path).
        what: String,
    },
    /// An HTML page where a plugin was expected.
    #[error(
        "{what} is an HTML page, not a plugin file; if it is a gist or repository page, use the URL of the raw file"
    )]
    Html {
        /// The file.
        what: String,
    },
    /// Binary or non-UTF-8 content.
    #[error("{what} is not a UTF-8 text file, so it cannot be a {kind} plugin")]
    NotText {
        /// The file.
        what: String,
        /// `Python` or `YAML`.
        kind: &'static str,
    },
    /// Larger than [`MAX_PLUGIN_FILE`].
    #[error("{what} is larger than {MAX_PLUGIN_FILE} bytes, which no plugin file is")]
    TooLarge {
        /// The file.
        what: String,
    },
    /// A file system operation failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What plonk was doing.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A wheel could not be read or written.
    #[error("cannot {action} the wheel {}", path.display())]
    Zip {
        /// What plonk was doing.
        action: &'static str,
        /// The wheel.
        path: PathBuf,
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },
    /// The built wheel is not what a wheel should be.
    #[error("the wheel {} built from the checkout is unusable: {reason}", path.display())]
    BadWheel {
        /// The wheel.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A package of the built wheel is not a folder or module of the checkout (generated or
    /// moved by the backend), so an editable install cannot point at it.
    #[error(
        "`{top}` of the built wheel is not a folder or module of the checkout at {}, so it cannot be installed editable; install it without -e",
        checkout.display()
    )]
    NotInCheckout {
        /// The top-level name.
        top: String,
        /// The checkout.
        checkout: PathBuf,
    },
}

/// A wheel written by this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenWheel {
    /// Where it is.
    pub path: PathBuf,
    /// Its distribution name.
    pub name: PackageName,
    /// Its version.
    pub version: Version,
}

/// Which kind of plugin file a download claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginText {
    /// A Python module.
    Python,
    /// A YAML plugin.
    Yaml,
}

impl PluginText {
    fn label(self) -> &'static str {
        match self {
            PluginText::Python => "Python",
            PluginText::Yaml => "YAML",
        }
    }
}

/// Checks that `bytes` (from `what`, a URL or path shown in messages) look like a plugin file
/// of `kind`: not empty, not an HTML page (by `content_type` or by its first tag), UTF-8 text
/// without NUL bytes, and not too large. Returns the text. Whether it parses as Python or
/// YAML is the caller's next check.
pub fn check_plugin_text(
    bytes: &[u8],
    kind: PluginText,
    content_type: Option<&str>,
    what: &str,
) -> Result<String, SingleFileError> {
    if bytes.len() as u64 > MAX_PLUGIN_FILE {
        return Err(SingleFileError::TooLarge {
            what: what.to_string(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SingleFileError::NotText {
        what: what.to_string(),
        kind: kind.label(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(SingleFileError::Empty {
            what: what.to_string(),
        });
    }
    if text.contains('\0') {
        return Err(SingleFileError::NotText {
            what: what.to_string(),
            kind: kind.label(),
        });
    }
    let html_type = content_type.is_some_and(|t| {
        let t = t.trim().to_ascii_lowercase();
        t.starts_with("text/html") || t.starts_with("application/xhtml")
    });
    let start: String = text
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    let html_start = start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || start.starts_with("<head")
        || start.starts_with("<body")
        || start.starts_with("<!--");
    if html_type || html_start {
        return Err(SingleFileError::Html {
            what: what.to_string(),
        });
    }
    Ok(text.to_string())
}

/// The distribution name of the wrapped plugin `plugin` (`plonk-file-<stem>`).
pub fn plugin_distribution_name(plugin: &str) -> Result<PackageName, SingleFileError> {
    check_plugin_name(plugin)?;
    let mut tail = String::new();
    for c in plugin.chars() {
        if c.is_ascii_alphanumeric() {
            tail.push(c.to_ascii_lowercase());
        } else if !tail.ends_with('-') {
            tail.push('-');
        }
    }
    let tail = tail.trim_matches('-');
    PackageName::from_str(&format!("{DIST_PREFIX}{tail}")).map_err(|_| SingleFileError::BadName {
        name: plugin.to_string(),
    })
}

/// A plugin name Tutor and an entry point can both carry: not empty, no path, no `=`, no
/// whitespace, not hidden.
fn check_plugin_name(plugin: &str) -> Result<(), SingleFileError> {
    let ok = !plugin.is_empty()
        && !plugin.starts_with('.')
        && plugin.len() <= 100
        && plugin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && plugin.chars().any(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(SingleFileError::BadName {
            name: plugin.to_string(),
        })
    }
}

/// The module of the wrapped plugin, inside [`PLUGINS_PACKAGE`]: the stem with every
/// character that is not a word character replaced by `_`.
pub fn plugin_module(plugin: &str) -> String {
    let mut ident: String = plugin
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    ident
}

/// The version of a wrapped plugin whose file has this sha256: `0+sha.<first 12 digits>`.
pub fn plugin_version(sha256: &str) -> Version {
    let digest: String = sha256.chars().take(12).collect();
    Version::from_str(&format!("0+sha.{digest}")).unwrap_or_else(|_| Version::new([0]))
}

/// Wraps the Python plugin `plugin` (the file's stem) with content `code` into a wheel in
/// `out_dir`.
pub fn python_plugin_wheel(
    plugin: &str,
    code: &str,
    sha256: &str,
    out_dir: &Path,
) -> Result<WrittenWheel, SingleFileError> {
    let name = plugin_distribution_name(plugin)?;
    let version = plugin_version(sha256);
    let module = plugin_module(plugin);
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: The single-file Tutor plugin `{plugin}`, wrapped into a wheel by plonk\n"
    );
    let entry_points = format!("[tutor.plugin.v1]\n{plugin} = {PLUGINS_PACKAGE}.{module}\n");
    let mut wheel = WheelWriter::new(&name, &version, "py3-none-any");
    wheel.add(
        &format!("{PLUGINS_PACKAGE}/{module}.py"),
        code.as_bytes().to_vec(),
    );
    wheel.add_dist_info("METADATA", metadata.into_bytes());
    wheel.add_dist_info("entry_points.txt", entry_points.into_bytes());
    wheel.add_dist_info("WHEEL", wheel_file("py3-none-any").into_bytes());
    let path = wheel.write(out_dir)?;
    Ok(WrittenWheel {
        path,
        name,
        version,
    })
}

fn wheel_file(tag: &str) -> String {
    format!(
        "Wheel-Version: 1.0\nGenerator: plonk {}\nRoot-Is-Purelib: true\nTag: {tag}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Turns `built` (a wheel built from the project at `project_dir`) into an editable wheel in
/// `out_dir`: the same dist-info (RECORD rewritten) and `.data`, and instead of the package
/// files a `.pth` listing, for each top-level package or module, the folder of
/// `install_dir` (where the project will live; may differ from `project_dir`, which has the
/// same content) that holds it.
pub fn editable_wheel(
    built: &Path,
    project_dir: &Path,
    install_dir: &Path,
    out_dir: &Path,
) -> Result<WrittenWheel, SingleFileError> {
    let zip_err = |action: &'static str| {
        move |source| SingleFileError::Zip {
            action,
            path: built.to_path_buf(),
            source,
        }
    };
    let bad = |reason: String| SingleFileError::BadWheel {
        path: built.to_path_buf(),
        reason,
    };
    let file = File::open(built).map_err(|source| SingleFileError::Io {
        action: "open",
        path: built.to_path_buf(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err("read"))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(zip_err("read"))?;
    let dist_info = names
        .iter()
        .filter_map(|n| n.split_once('/'))
        .find(|(dir, rest)| dir.ends_with(".dist-info") && *rest == "METADATA")
        .map(|(dir, _)| dir.to_string())
        .ok_or_else(|| bad("it has no `.dist-info/METADATA`".to_string()))?;
    let stem = dist_info.trim_end_matches(".dist-info");
    let (raw_name, raw_version) = stem
        .split_once('-')
        .ok_or_else(|| bad(format!("`{dist_info}` does not name a version")))?;
    let name = PackageName::from_str(raw_name)
        .map_err(|_| bad(format!("`{dist_info}` does not name a distribution")))?;
    let version = Version::from_str(raw_version)
        .map_err(|_| bad(format!("`{dist_info}` does not name a version")))?;
    let tag = built
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_suffix(".whl"))
        .map(|f| {
            f.splitn(3, '-')
                .nth(2)
                .unwrap_or("py3-none-any")
                .to_string()
        })
        .unwrap_or_else(|| "py3-none-any".to_string());
    let data_dir = format!("{stem}.data");

    let mut wheel = WheelWriter::with_dist_info(&dist_info, &tag);
    let mut tops: Vec<String> = Vec::new();
    for name_in_zip in &names {
        if name_in_zip.ends_with('/') {
            continue;
        }
        let (first, rest) = name_in_zip
            .split_once('/')
            .unwrap_or((name_in_zip.as_str(), ""));
        if first.is_empty() || first == ".." || name_in_zip.contains("/../") {
            return Err(bad(format!("it holds the unsafe path `{name_in_zip}`")));
        }
        let keep = (first == dist_info && rest != "RECORD" && rest != "direct_url.json")
            || first == data_dir
            || (rest.is_empty() && first.ends_with(".pth"));
        if keep {
            let mut entry = zip.by_name(name_in_zip).map_err(zip_err("read"))?;
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_MEMBER + 1)
                .read_to_end(&mut bytes)
                .map_err(|source| SingleFileError::Io {
                    action: "read",
                    path: built.to_path_buf(),
                    source,
                })?;
            if bytes.len() as u64 > MAX_MEMBER {
                return Err(bad(format!(
                    "`{name_in_zip}` is larger than {MAX_MEMBER} bytes"
                )));
            }
            let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
            wheel.add_with_mode(name_in_zip, bytes, mode);
        } else if first != dist_info && !tops.iter().any(|t| t == first) {
            tops.push(first.to_string());
        }
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    for top in &tops {
        let relative = locate(project_dir, top).ok_or_else(|| SingleFileError::NotInCheckout {
            top: top.clone(),
            checkout: project_dir.to_path_buf(),
        })?;
        let root = if relative.as_os_str().is_empty() {
            install_dir.to_path_buf()
        } else {
            install_dir.join(relative)
        };
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    let lines: String = roots.iter().map(|r| format!("{}\n", r.display())).collect();
    let pth = format!("__editable__.{}-{version}.pth", name.as_dist_info_name());
    wheel.add(&pth, lines.into_bytes());
    let path = wheel.write(out_dir)?;
    Ok(WrittenWheel {
        path,
        name,
        version,
    })
}

/// The folder of `project_dir` (relative) that holds the top-level package or module `top`:
/// the project root, `src/`, or a folder a few levels down (hidden and build folders skipped).
fn locate(project_dir: &Path, top: &str) -> Option<PathBuf> {
    let holds = |dir: &Path| {
        let path = dir.join(top);
        path.is_dir() || path.is_file()
    };
    for candidate in [PathBuf::new(), PathBuf::from("src")] {
        if holds(&project_dir.join(&candidate)) {
            return Some(candidate);
        }
    }
    let skip = |name: &str| {
        name.starts_with('.')
            || matches!(
                name,
                "build" | "dist" | "node_modules" | "__pycache__" | "tests" | "venv"
            )
    };
    let mut level: Vec<PathBuf> = vec![PathBuf::new()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for relative in &level {
            let Ok(entries) = std::fs::read_dir(project_dir.join(relative)) else {
                continue;
            };
            let mut children: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter(|e| !skip(&e.file_name().to_string_lossy()))
                .map(|e| relative.join(e.file_name()))
                .collect();
            children.sort();
            for child in children {
                if holds(&project_dir.join(&child)) {
                    return Some(child);
                }
                next.push(child);
            }
        }
        level = next;
    }
    None
}

/// Writes a wheel from in-memory members, with a complete RECORD.
struct WheelWriter {
    dist_info: String,
    filename: String,
    members: Vec<(String, Vec<u8>, u32)>,
    seen: BTreeSet<String>,
}

impl WheelWriter {
    fn new(name: &PackageName, version: &Version, tag: &str) -> Self {
        let dist_info = format!("{}-{version}.dist-info", name.as_dist_info_name());
        Self::with_dist_info(&dist_info, tag)
    }

    fn with_dist_info(dist_info: &str, tag: &str) -> Self {
        let stem = dist_info.trim_end_matches(".dist-info");
        WheelWriter {
            dist_info: dist_info.to_string(),
            filename: format!("{stem}-{tag}.whl"),
            members: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    fn add(&mut self, path: &str, bytes: Vec<u8>) {
        self.add_with_mode(path, bytes, 0o644);
    }

    fn add_with_mode(&mut self, path: &str, bytes: Vec<u8>, mode: u32) {
        if self.seen.insert(path.to_string()) {
            self.members.push((path.to_string(), bytes, mode));
        }
    }

    fn add_dist_info(&mut self, file: &str, bytes: Vec<u8>) {
        let path = format!("{}/{file}", self.dist_info);
        self.add(&path, bytes);
    }

    /// Writes `<out_dir>/<filename>` through a temporary file and returns its path.
    fn write(mut self, out_dir: &Path) -> Result<PathBuf, SingleFileError> {
        let record_path = format!("{}/RECORD", self.dist_info);
        let mut record = Record::default();
        for (path, bytes, _) in &self.members {
            record.entries.push(RecordEntry {
                path: path.clone(),
                hash: Some(record_hash(bytes)),
                size: Some(bytes.len() as u64),
            });
        }
        record.entries.push(RecordEntry {
            path: record_path.clone(),
            hash: None,
            size: None,
        });
        let record_bytes = record.write().into_bytes();
        self.members.push((record_path, record_bytes, 0o644));

        std::fs::create_dir_all(out_dir).map_err(|source| SingleFileError::Io {
            action: "create the folder",
            path: out_dir.to_path_buf(),
            source,
        })?;
        let dest = out_dir.join(&self.filename);
        let io = |action, source| SingleFileError::Io {
            action,
            path: dest.clone(),
            source,
        };
        let temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(out_dir)
            .map_err(|e| io("create a temporary file for", e))?;
        let zip_err = |source| SingleFileError::Zip {
            action: "write",
            path: dest.clone(),
            source,
        };
        let mut zip = zip::ZipWriter::new(temp);
        for (path, bytes, mode) in &self.members {
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode);
            zip.start_file(path.as_str(), options).map_err(zip_err)?;
            zip.write_all(bytes).map_err(|e| io("write", e))?;
        }
        let temp = zip.finish().map_err(zip_err)?;
        temp.persist(&dest).map_err(|e| io("write", e.error))?;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_zip(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut zip = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        let mut out = std::collections::BTreeMap::new();
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.insert(name, bytes);
        }
        out
    }

    #[test]
    fn plugin_text_rows() {
        let ok = "from tutor import hooks\n";
        assert_eq!(
            check_plugin_text(ok.as_bytes(), PluginText::Python, Some("text/plain"), "f").unwrap(),
            ok
        );
        assert!(check_plugin_text(b"\xef\xbb\xbfname: x\n", PluginText::Yaml, None, "f").is_ok());
        let rows: &[(&[u8], Option<&str>, &str)] = &[
            (b"", None, "is empty"),
            (b"  \n\t\n", None, "is empty"),
            (b"<!DOCTYPE html><html>", None, "HTML page"),
            (b"\n  <html lang=en>", None, "HTML page"),
            (b"print(1)", Some("text/html; charset=utf-8"), "HTML page"),
            (b"\xff\xfe\x00p\x00r", None, "not a UTF-8 text file"),
            (b"print(1)\0\0", None, "not a UTF-8 text file"),
            (b"caf\xe9", None, "not a UTF-8 text file"),
        ];
        for (bytes, content_type, expected) in rows {
            let err = check_plugin_text(bytes, PluginText::Python, *content_type, "https://h/p.py")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{bytes:?}: {err}");
            assert!(err.contains("https://h/p.py"), "{err}");
        }
        let big = vec![b'#'; (MAX_PLUGIN_FILE + 1) as usize];
        assert!(check_plugin_text(&big, PluginText::Python, None, "f").is_err());
    }

    #[test]
    fn plugin_names() {
        assert_eq!(
            plugin_distribution_name("myplugin").unwrap().as_ref(),
            "plonk-file-myplugin"
        );
        assert_eq!(
            plugin_distribution_name("My_Plugin.v2").unwrap().as_ref(),
            "plonk-file-my-plugin-v2"
        );
        assert_eq!(plugin_module("my-plugin.v2"), "my_plugin_v2");
        assert_eq!(plugin_module("2fa"), "_2fa");
        for bad in [
            "", ".hidden", "a b", "a=b", "../x", "x/y", "é", "---", "a\nb",
        ] {
            assert!(plugin_distribution_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            plugin_version("0123456789abcdef").to_string(),
            "0+sha.0123456789ab"
        );
    }

    #[test]
    fn python_plugin_wheel_has_entry_point_and_record() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel =
            python_plugin_wheel("myplugin", "X = 1\n", "abcdef0123456789", tmp.path()).unwrap();
        assert_eq!(
            wheel.path.file_name().unwrap().to_string_lossy(),
            "plonk_file_myplugin-0+sha.abcdef012345-py3-none-any.whl"
        );
        let files = read_zip(&wheel.path);
        let di = "plonk_file_myplugin-0+sha.abcdef012345.dist-info";
        assert_eq!(files["_plonk_plugins/myplugin.py"], b"X = 1\n");
        let eps = String::from_utf8(files[&format!("{di}/entry_points.txt")].clone()).unwrap();
        assert_eq!(
            eps,
            "[tutor.plugin.v1]\nmyplugin = _plonk_plugins.myplugin\n"
        );
        let record = Record::parse(&files[&format!("{di}/RECORD")]).unwrap();
        assert_eq!(record.entries.len(), 5);
        let md = crate::dist::Metadata::parse(&files[&format!("{di}/METADATA")]).unwrap();
        assert_eq!(md.name.as_ref(), "plonk-file-myplugin");
        assert!(crate::build::read_wheel_metadata(&wheel.path).is_ok());
    }

    #[test]
    fn editable_wheel_points_at_the_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        std::fs::create_dir_all(project.join("src/tutorfoo")).unwrap();
        std::fs::write(project.join("src/tutorfoo/__init__.py"), "").unwrap();
        std::fs::write(project.join("helper.py"), "").unwrap();
        let mut built = WheelWriter::new(
            &PackageName::from_str("tutor-foo").unwrap(),
            &Version::from_str("1.0").unwrap(),
            "py3-none-any",
        );
        built.add("tutorfoo/__init__.py", Vec::new());
        built.add("tutorfoo/plugin.py", b"X = 1\n".to_vec());
        built.add("helper.py", Vec::new());
        built.add_dist_info(
            "METADATA",
            b"Metadata-Version: 2.1\nName: tutor-foo\nVersion: 1.0\n".to_vec(),
        );
        built.add_dist_info(
            "entry_points.txt",
            b"[tutor.plugin.v1]\nfoo = tutorfoo.plugin\n".to_vec(),
        );
        built.add_dist_info("WHEEL", wheel_file("py3-none-any").into_bytes());
        let built = built.write(&tmp.path().join("built")).unwrap();

        let install_dir = Path::new("/venv/src/tutor-foo");
        let editable =
            editable_wheel(&built, &project, install_dir, &tmp.path().join("out")).unwrap();
        let files = read_zip(&editable.path);
        let pth = String::from_utf8(files["__editable__.tutor_foo-1.0.pth"].clone()).unwrap();
        assert_eq!(pth, "/venv/src/tutor-foo/src\n/venv/src/tutor-foo\n");
        assert!(files.contains_key("tutor_foo-1.0.dist-info/entry_points.txt"));
        assert!(!files.keys().any(|k| k.starts_with("tutorfoo/")));

        // A package the checkout does not have (generated by the backend) is refused.
        std::fs::remove_dir_all(project.join("src")).unwrap();
        let err = editable_wheel(&built, &project, install_dir, &tmp.path().join("out"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tutorfoo`"), "{err}");
    }
}
