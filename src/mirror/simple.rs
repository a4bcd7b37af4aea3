//! The package half of a mirror: wheels in `wheels/`, a PEP 658 `.metadata` file beside each,
//! a PEP 503 simple index in `simple/` (sha256 in every link, `data-requires-python`,
//! `data-core-metadata`), and a flat `wheels/index.html` usable as a `--find-links` page.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{MirrorError, SIMPLE_DIR, WHEELS_DIR};
use crate::dist::{Metadata, PackageName, WheelFilename};

/// METADATA files larger than this are refused (real ones are a few kilobytes).
const MAX_METADATA: u64 = 16 * 1024 * 1024;

/// One wheel of the mirror, as the simple index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelEntry {
    /// The file name in `wheels/`.
    pub filename: String,
    /// The parsed file name.
    pub wheel: WheelFilename,
    /// sha256 of the wheel.
    pub sha256: String,
    /// sha256 of its `.metadata` file.
    pub metadata_sha256: String,
    /// `Requires-Python` as written in its METADATA.
    pub requires_python: Option<String>,
}

/// The METADATA bytes of a wheel file (the one `*.dist-info/METADATA` at the top level,
/// preferring the folder its file name implies).
pub fn wheel_metadata_bytes(path: &Path, wheel: &WheelFilename) -> Result<Vec<u8>, MirrorError> {
    let bad = |reason: String| MirrorError::BadWheel {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| MirrorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|err| bad(format!("it is not a readable zip archive ({err})")))?;
    let wanted = format!("{}/METADATA", wheel.dist_info_dir());
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .filter(|name| {
            name.strip_suffix(".dist-info/METADATA")
                .is_some_and(|dir| !dir.is_empty() && !dir.contains(['/', '\\']))
        })
        .collect();
    let name = names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(&wanted))
        .or_else(|| (names.len() == 1).then(|| &names[0]))
        .ok_or_else(|| bad(format!("it has no usable {wanted} file")))?
        .clone();
    let entry = archive
        .by_name(&name)
        .map_err(|err| bad(format!("its {name} cannot be read ({err})")))?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_METADATA + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| bad(format!("its {name} cannot be read ({err})")))?;
    if bytes.len() as u64 > MAX_METADATA {
        return Err(bad("its METADATA file is too large".to_string()));
    }
    Ok(bytes)
}

/// Writes `wheels/<file>.metadata` for a wheel of the mirror and describes the wheel for the
/// index pages. `sha256` is the wheel's (known from the download or the checksum list).
pub fn describe_wheel(dir: &Path, filename: &str, sha256: &str) -> Result<WheelEntry, MirrorError> {
    let path = dir.join(WHEELS_DIR).join(filename);
    let wheel: WheelFilename = filename.parse().map_err(|_| MirrorError::BadWheel {
        path: path.clone(),
        reason: "its file name is not a wheel file name".to_string(),
    })?;
    let bytes = wheel_metadata_bytes(&path, &wheel)?;
    let metadata = Metadata::parse(&bytes).map_err(|err| MirrorError::BadWheel {
        path: path.clone(),
        reason: format!("its METADATA is invalid ({err})"),
    })?;
    let metadata_path = dir.join(WHEELS_DIR).join(format!("{filename}.metadata"));
    let current = std::fs::read(&metadata_path).ok();
    if current.as_deref() != Some(bytes.as_slice()) {
        write_file(&metadata_path, &bytes)?;
    }
    Ok(WheelEntry {
        filename: filename.to_string(),
        wheel,
        sha256: sha256.to_string(),
        metadata_sha256: crate::dist::sha256_hex(&bytes),
        requires_python: metadata.requires_python.as_ref().map(ToString::to_string),
    })
}

/// Writes `bytes` to `path` through a temp file and a rename, creating the folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), MirrorError> {
    crate::cache::write_atomic(path, bytes).map_err(|err| MirrorError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(err.to_string()),
    })
}

/// `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A URL path segment: everything but unreserved characters percent-encoded.
fn url_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'!') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn anchor(href_prefix: &str, entry: &WheelEntry) -> String {
    let mut attributes = String::new();
    if let Some(rp) = &entry.requires_python {
        attributes.push_str(&format!(" data-requires-python=\"{}\"", html_escape(rp)));
    }
    // PEP 714 renamed the attribute; both are written for older clients.
    attributes.push_str(&format!(
        " data-dist-info-metadata=\"sha256={0}\" data-core-metadata=\"sha256={0}\"",
        entry.metadata_sha256
    ));
    format!(
        "    <a href=\"{href_prefix}{}#sha256={}\"{attributes}>{}</a><br/>\n",
        url_segment(&entry.filename),
        entry.sha256,
        html_escape(&entry.filename)
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n    <title>{}</title>\n  </head>\n  <body>\n{body}  </body>\n</html>\n",
        html_escape(title)
    )
}

/// The simple index pages for `entries`: `simple/index.html`, one `simple/<name>/index.html`
/// per project, and the flat `wheels/index.html`. Returns (relative path, content) pairs.
pub fn render_pages(entries: &[WheelEntry]) -> Vec<(PathBuf, String)> {
    let mut by_project: BTreeMap<PackageName, Vec<&WheelEntry>> = BTreeMap::new();
    for entry in entries {
        by_project
            .entry(entry.wheel.name.clone())
            .or_default()
            .push(entry);
    }
    let mut pages = Vec::new();
    let mut root = String::new();
    for (name, files) in &mut by_project {
        files.sort_by(|a, b| (&a.wheel.version, &a.filename).cmp(&(&b.wheel.version, &b.filename)));
        root.push_str(&format!(
            "    <a href=\"{0}/\">{1}</a><br/>\n",
            url_segment(name.as_ref()),
            html_escape(name.as_ref())
        ));
        let body: String = files
            .iter()
            .map(|e| anchor(&format!("../../{WHEELS_DIR}/"), e))
            .collect();
        pages.push((
            PathBuf::from(SIMPLE_DIR)
                .join(name.as_ref())
                .join("index.html"),
            page(&format!("Links for {name}"), &body),
        ));
    }
    pages.push((
        PathBuf::from(SIMPLE_DIR).join("index.html"),
        page("Simple index", &root),
    ));
    let mut flat: Vec<&WheelEntry> = entries.iter().collect();
    flat.sort_by(|a, b| a.filename.cmp(&b.filename));
    let body: String = flat.iter().map(|e| anchor("", e)).collect();
    pages.push((
        PathBuf::from(WHEELS_DIR).join("index.html"),
        page("Wheels", &body),
    ));
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn wheel_bytes(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            for (name, content) in entries {
                zip.start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                zip.write_all(content.as_bytes()).unwrap();
            }
            zip.finish().unwrap();
        }
        buf.into_inner()
    }

    const METADATA: &str =
        "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\nRequires-Python: >=3.9\n";

    #[test]
    fn metadata_files_and_pages() {
        let tmp = tempfile::tempdir().unwrap();
        let wheels = tmp.path().join(WHEELS_DIR);
        std::fs::create_dir_all(&wheels).unwrap();
        let name = "demo_pkg-1.0-py3-none-any.whl";
        let bytes = wheel_bytes(&[
            ("demo_pkg/__init__.py", ""),
            ("demo_pkg-1.0.dist-info/METADATA", METADATA),
        ]);
        std::fs::write(wheels.join(name), &bytes).unwrap();
        let sha = crate::dist::sha256_hex(&bytes);
        let entry = describe_wheel(tmp.path(), name, &sha).unwrap();
        assert_eq!(
            std::fs::read_to_string(wheels.join(format!("{name}.metadata"))).unwrap(),
            METADATA
        );
        assert_eq!(
            entry.metadata_sha256,
            crate::dist::sha256_hex(METADATA.as_bytes())
        );
        assert_eq!(entry.requires_python.as_deref(), Some(">=3.9"));

        let pages = render_pages(&[entry]);
        let project = pages
            .iter()
            .find(|(p, _)| p == &PathBuf::from("simple/demo-pkg/index.html"))
            .unwrap();
        assert!(project.1.contains(&format!(
            "<a href=\"../../wheels/{name}#sha256={sha}\" data-requires-python=\"&gt;=3.9\""
        )));
        assert!(project.1.contains("data-core-metadata=\"sha256="));
        let root = pages
            .iter()
            .find(|(p, _)| p == &PathBuf::from("simple/index.html"))
            .unwrap();
        assert!(root.1.contains("<a href=\"demo-pkg/\">demo-pkg</a>"));
        let flat = pages
            .iter()
            .find(|(p, _)| p == &PathBuf::from("wheels/index.html"))
            .unwrap();
        assert!(flat.1.contains(&format!("<a href=\"{name}#sha256={sha}\"")));
    }

    #[test]
    fn bad_wheels_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let wheels = tmp.path().join(WHEELS_DIR);
        std::fs::create_dir_all(&wheels).unwrap();
        let rows: [(&str, Vec<u8>, &str); 4] = [
            ("garbage-1.0-py3-none-any.whl", b"not a zip".to_vec(), "zip"),
            (
                "nometa-1.0-py3-none-any.whl",
                wheel_bytes(&[("nometa/__init__.py", "")]),
                "METADATA",
            ),
            (
                "deep-1.0-py3-none-any.whl",
                wheel_bytes(&[
                    ("../deep-1.0.dist-info/METADATA", METADATA),
                    ("a/b.dist-info/METADATA", METADATA),
                ]),
                "METADATA",
            ),
            (
                "truncated-1.0-py3-none-any.whl",
                wheel_bytes(&[("truncated-1.0.dist-info/METADATA", METADATA)])[..20].to_vec(),
                "zip",
            ),
        ];
        for (name, bytes, needle) in rows {
            std::fs::write(wheels.join(name), &bytes).unwrap();
            let err = describe_wheel(tmp.path(), name, "0").unwrap_err();
            let text = err.to_string();
            assert!(text.contains(name) && text.contains(needle), "{text}");
        }
        assert!(describe_wheel(tmp.path(), "../../etc/passwd", "0").is_err());
    }

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(url_segment("a b+c%.whl"), "a%20b+c%25.whl");
    }
}
