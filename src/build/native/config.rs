//! hatchling's view of a project: `pyproject.toml` (`[build-system]`, `[project]`,
//! `[tool.hatch]`), dynamic fields taken from an sdist's `PKG-INFO` or the version file, and
//! every core-metadata field computed the way `hatchling.metadata.core` computes it (PEP 503
//! names, sorted dependencies, classifier order, SPDX expressions, e-mail addresses).
//!
//! Whatever hatchling would compute with code plonk cannot see (build hooks, metadata hooks
//! that still have work to do, version sources other than a regex over a file) or would reject
//! makes the project ineligible, so the PEP 517 path handles it.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use toml::{Table, Value};

use super::lists::{canonicalize_license_expression, sort_classifiers};
use super::pkg_info::{CoreFields, PkgInfo};
use super::pyutil::{
    is_valid_project_name, normalize_project_name, py_strip, splitlines, universal_newlines,
};
use super::requirement::PyRequirement;
use super::tree::{Kind, Tree};
use super::{NResult, Refusal};

/// The backend module hatchling projects name.
pub(crate) const HATCHLING_BACKEND: &str = "hatchling.build";
/// The hatchling release whose behaviour is reproduced (with packaging 26.4, pathspec 1.1).
pub(crate) const HATCHLING_VERSION: &str = "1.33.0";

/// Every core-metadata field of the project, ready to be written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Core {
    /// `project.name` as written.
    pub raw_name: String,
    /// PEP 503 normalized name.
    pub name: String,
    /// The normalized version (file names).
    pub version: String,
    /// The version as written, stripped (`Version:`).
    pub original_version: String,
    /// `Summary:`.
    pub description: String,
    /// The long description.
    pub readme: String,
    /// Its content type.
    pub readme_content_type: String,
    /// `Requires-Python:` (`str(SpecifierSet)`).
    pub requires_python: String,
    /// The wheel tag hatchling infers from `requires-python` (`py3-none-any`).
    pub tag: String,
    /// `License:` text.
    pub license: String,
    /// `License-Expression:`.
    pub license_expression: String,
    /// License files, relative to the project, sorted.
    pub license_files: Vec<String>,
    /// `Author:` names and `Author-email:` addresses.
    pub authors: (Vec<String>, Vec<String>),
    /// `Maintainer:` names and `Maintainer-email:` addresses.
    pub maintainers: (Vec<String>, Vec<String>),
    /// Sorted unique keywords.
    pub keywords: Vec<String>,
    /// Classifiers in trove order.
    pub classifiers: Vec<String>,
    /// `Project-URL:` label and URL, in document order.
    pub urls: Vec<(String, String)>,
    /// `[console_scripts]`.
    pub scripts: BTreeMap<String, String>,
    /// `[gui_scripts]`.
    pub gui_scripts: BTreeMap<String, String>,
    /// Other entry-point groups.
    pub entry_points: BTreeMap<String, BTreeMap<String, String>>,
    /// Formatted, sorted, unique `Requires-Dist` values.
    pub dependencies: Vec<String>,
    /// Sorted extras with their formatted, sorted requirements.
    pub optional_dependencies: Vec<(String, Vec<String>)>,
}

/// The wheel target's file-selection configuration (`tool.hatch.build.targets.wheel`
/// falling back to `tool.hatch.build`).
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildConfig {
    /// `include` patterns (without the package patterns).
    pub include: Vec<String>,
    /// `exclude` patterns.
    pub exclude: Vec<String>,
    /// `artifacts` patterns.
    pub artifacts: Vec<String>,
    /// `packages`, normalized and sorted.
    pub packages: Vec<String>,
    /// `only-include` (or the packages), normalized.
    pub only_include: Vec<String>,
    /// `sources` rewrite rules `(prefix, replacement)`, sorted by prefix.
    pub sources: Vec<(String, String)>,
    /// `force-include` as `(source relative to the project, target)` in hatchling's order.
    pub force_include: Vec<(String, String)>,
    /// `only-packages`.
    pub only_packages: bool,
    /// `skip-excluded-dirs`.
    pub skip_excluded_dirs: bool,
    /// `ignore-vcs`.
    pub ignore_vcs: bool,
    /// `strict-naming`.
    pub strict_naming: bool,
    /// `reproducible` (fixed timestamps, normalized permissions).
    pub reproducible: bool,
    /// Nothing but forced inclusions is selected.
    pub exclude_all: bool,
}

/// A project hatchling would build and plonk can build the same way.
#[derive(Debug, Clone)]
pub(crate) struct HatchProject {
    /// The project folder.
    pub tree: Tree,
    /// Core metadata.
    pub core: Core,
    /// File selection.
    pub build: BuildConfig,
}

/// A "not eligible" result with `reason`.
pub(crate) fn skip<T>(reason: impl Into<String>) -> NResult<T> {
    Err(Refusal::skip(reason))
}

/// Not eligible because `field` has the wrong TOML type (hatchling raises `TypeError`).
pub(crate) fn type_error<T>(field: &str, expected: &str) -> NResult<T> {
    skip(format!("`{field}` is not {expected}"))
}

/// `value` as a table.
pub(crate) fn as_table<'a>(value: &'a Value, field: &str) -> NResult<&'a Table> {
    value
        .as_table()
        .map_or_else(|| type_error(field, "a table"), Ok)
}

/// `value` as a string.
pub(crate) fn as_str<'a>(value: &'a Value, field: &str) -> NResult<&'a str> {
    value
        .as_str()
        .map_or_else(|| type_error(field, "a string"), Ok)
}

/// The sub-table `key` of `table`, if present.
pub(crate) fn table_at<'a>(table: &'a Table, key: &str, field: &str) -> NResult<Option<&'a Table>> {
    table.get(key).map(|v| as_table(v, field)).transpose()
}

/// `value` as an array of strings.
pub(crate) fn str_list(value: &Value, field: &str) -> NResult<Vec<String>> {
    let Some(array) = value.as_array() else {
        return type_error(field, "an array");
    };
    array
        .iter()
        .map(|item| as_str(item, field).map(str::to_string))
        .collect()
}

/// The boolean `key` of `table`, or `default`.
pub(crate) fn bool_at(table: &Table, key: &str, field: &str, default: bool) -> NResult<bool> {
    match table.get(key) {
        None => Ok(default),
        Some(value) => value
            .as_bool()
            .map_or_else(|| type_error(field, "a boolean"), Ok),
    }
}

/// `value` as a table of strings (sorted by key).
pub(crate) fn str_map(value: &Value, field: &str) -> NResult<BTreeMap<String, String>> {
    as_table(value, field)?
        .iter()
        .map(|(k, v)| Ok((k.clone(), as_str(v, field)?.to_string())))
        .collect()
}

/// The keys of the table at `path` in document order (`toml::Table` sorts them; Python's
/// `tomllib` keeps them in order, and `Project-URL` lines follow it).
pub(crate) fn key_order(text: &str, path: &[&str]) -> Option<Vec<String>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    for key in path {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *key)?;
        match value.get_ref() {
            toml::de::DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    let mut keys: Vec<(usize, String)> = table
        .iter()
        .map(|(k, _)| (k.span().start, k.get_ref().to_string()))
        .collect();
    keys.sort();
    Some(keys.into_iter().map(|(_, k)| k).collect())
}

/// hatchling's default version pattern,
/// `(?i)^(__version__|VERSION) *= *([\'"])v?(?P<version>.+?)\2` with `re.MULTILINE`; the
/// back-reference becomes one regex per quote.
static VERSION_PATTERNS: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    let make = |quote: &str| {
        Regex::new(&format!(
            r"(?im)^(?:__version__|VERSION) *= *{quote}v?(?P<version>[^\n]+?){quote}"
        ))
        .unwrap_or_else(|err| unreachable!("static regex: {err}"))
    };
    [make("'"), make("\"")]
});

/// The version the `regex` source finds in `contents`.
pub(crate) fn version_from_file(contents: &str) -> Option<String> {
    VERSION_PATTERNS
        .iter()
        .filter_map(|re| re.captures(contents))
        .filter_map(|c| Some((c.get(0)?.start(), c.name("version")?.as_str().to_string())))
        .min_by_key(|(start, _)| *start)
        .map(|(_, version)| version)
}

/// `str(packaging.version.Version(text))`.
pub(crate) fn normalize_version(text: &str) -> NResult<String> {
    match pep440_rs::Version::from_str(py_strip(text)) {
        Ok(version) => Ok(version.to_string()),
        Err(_) => skip(format!(
            "the version `{text}` is not a valid PEP 440 version"
        )),
    }
}

/// `str(SpecifierSet(text))` and the parsed specifiers.
fn specifier_set(text: &str) -> NResult<(String, Vec<pep440_rs::VersionSpecifier>)> {
    let mut items = BTreeSet::new();
    let mut parsed = Vec::new();
    for item in text.split(',') {
        let item = py_strip(item);
        if item.is_empty() {
            continue;
        }
        let probe = format!("a{item}");
        let Ok(req) = PyRequirement::parse(&probe) else {
            return skip(format!(
                "`requires-python` has an invalid specifier `{item}`"
            ));
        };
        let [spec] = req.specifiers.as_slice() else {
            return skip(format!(
                "`requires-python` has an invalid specifier `{item}`"
            ));
        };
        if spec.starts_with("===") {
            return skip("`requires-python` uses `===`");
        }
        let Ok(version_spec) = pep440_rs::VersionSpecifier::from_str(spec) else {
            return skip(format!(
                "`requires-python` has an invalid specifier `{item}`"
            ));
        };
        parsed.push(version_spec);
        items.insert(spec.clone());
    }
    Ok((items.into_iter().collect::<Vec<_>>().join(","), parsed))
}

/// `WheelBuilder.get_default_tag`: the Python major versions `requires-python` allows.
fn default_tag(specs: &[pep440_rs::VersionSpecifier]) -> NResult<String> {
    let contains = |text: String| {
        pep440_rs::Version::from_str(&text)
            .map(|v| specs.iter().all(|s| s.contains(&v)))
            .unwrap_or(false)
    };
    let mut majors = Vec::new();
    for major in [2, 3] {
        if (0..100).any(|minor| contains(format!("{major}.{minor}.100"))) {
            majors.push(format!("py{major}"));
        }
    }
    if majors.is_empty() {
        for major in [2, 3] {
            if (0..100)
                .any(|minor| (0..100).any(|patch| contains(format!("{major}.{minor}.{patch}"))))
            {
                majors.push(format!("py{major}"));
            }
        }
    }
    if majors.is_empty() {
        return skip("`requires-python` allows neither Python 2 nor Python 3");
    }
    Ok(format!("{}-none-any", majors.join(".")))
}

/// `str(email.headerregistry.Address(display_name=name, addr_spec=email))`.
fn format_address(name: Option<&str>, email: &str) -> NResult<String> {
    let atext = |part: &str| {
        !part.is_empty()
            && part.split('.').all(|atom| {
                !atom.is_empty()
                    && atom
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
            })
    };
    let Some((local, domain)) = email.split_once('@') else {
        return skip(format!(
            "the e-mail address `{email}` is not of the form `user@domain`"
        ));
    };
    if !atext(local) || !atext(domain) {
        return skip(format!(
            "the e-mail address `{email}` is not a plain address"
        ));
    }
    let Some(name) = name else {
        return Ok(email.to_string());
    };
    let specials = "()<>@,:;.\"[]";
    let display = if name.chars().any(|c| specials.contains(c)) {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_string()
    };
    Ok(format!("{display} <{email}>"))
}

/// `authors` / `maintainers` as hatchling's `(names, emails)`.
fn people(value: Option<&Value>, field: &str) -> NResult<(Vec<String>, Vec<String>)> {
    let mut names = Vec::new();
    let mut emails = Vec::new();
    let Some(value) = value else {
        return Ok((names, emails));
    };
    let Some(array) = value.as_array() else {
        return type_error(field, "an array");
    };
    for person in array {
        let person = as_table(person, field)?;
        let name = person.get("name").map(|v| as_str(v, field)).transpose()?;
        let email = person.get("email").map(|v| as_str(v, field)).transpose()?;
        match (
            name.filter(|n| !n.is_empty()),
            email.filter(|e| !e.is_empty()),
        ) {
            (Some(name), Some(email)) => emails.push(format_address(Some(name), email)?),
            (None, Some(email)) => emails.push(format_address(None, email)?),
            (Some(name), None) => names.push(name.to_string()),
            (None, None) => {
                return skip(format!("an entry of `{field}` has neither name nor email"));
            }
        }
    }
    Ok((names, emails))
}

/// A Python `glob.glob` over the project for `license-files` (one segment at a time, `*`,
/// `?` and simple `[...]` classes, hidden names only matched by patterns starting with `.`).
fn glob_files(tree: &Tree, pattern: &str) -> NResult<Vec<String>> {
    let Some(full) = tree.lexical(pattern) else {
        return skip(format!(
            "the license pattern `{pattern}` leaves the project"
        ));
    };
    let rel = full
        .strip_prefix(&tree.root_str)
        .unwrap_or("")
        .trim_start_matches('/');
    if rel.is_empty() {
        return Ok(Vec::new());
    }
    let mut current = vec![String::new()];
    let segments: Vec<&str> = rel.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let mut next = Vec::new();
        for dir in &current {
            let join = |name: &str| {
                if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                }
            };
            if !segment.contains(['*', '?', '[']) {
                let path = join(segment);
                match tree.kind(&path)? {
                    Kind::Missing => {}
                    Kind::Dir if last => next.push(path),
                    Kind::Dir => next.push(path),
                    Kind::File if last => next.push(path),
                    Kind::File => {}
                }
                continue;
            }
            if tree.kind(if dir.is_empty() { "." } else { dir })? != Kind::Dir {
                continue;
            }
            let regex = fnmatch_regex(segment)?;
            for entry in tree.list(if dir.is_empty() { "." } else { dir })? {
                if !last && !entry.is_dir {
                    continue;
                }
                if entry.name.starts_with('.') && !segment.starts_with('.') {
                    continue;
                }
                if regex.is_match(&entry.name) {
                    next.push(join(&entry.name));
                }
            }
        }
        current = next;
    }
    let mut files = Vec::new();
    for path in current {
        if tree.kind(&path)? == Kind::File {
            files.push(path);
        }
    }
    Ok(files)
}

/// `fnmatch.translate` for `*`, `?`, literals and simple `[...]` classes.
fn fnmatch_regex(pattern: &str) -> NResult<Regex> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let close = chars[i..].iter().position(|c| *c == ']');
                let Some(close) = close.filter(|n| *n > 0) else {
                    return skip(format!("the license pattern `{pattern}` is not supported"));
                };
                let content: String = chars[i..i + close].iter().collect();
                let (negate, body) = match content.strip_prefix('!') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, content.clone()),
                };
                if body.is_empty() || !body.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return skip(format!("the license pattern `{pattern}` is not supported"));
                }
                out.push('[');
                if negate {
                    out.push('^');
                }
                out.push_str(&body);
                out.push(']');
                i += close + 1;
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    Regex::new(&format!("(?s){out}"))
        .map_err(|_| Refusal::skip(format!("the license pattern `{pattern}` is not supported")))
}

/// `pyproject.toml`: its text and parsed document.
pub(crate) fn read_pyproject(tree: &Tree) -> NResult<(String, Table)> {
    let text = match tree.kind("pyproject.toml")? {
        Kind::File => tree.read_text("pyproject.toml")?,
        _ => return skip("the project has no `pyproject.toml`"),
    };
    match toml::from_str(&text) {
        Ok(doc) => Ok((text, doc)),
        Err(_) => skip("`pyproject.toml` is not valid TOML"),
    }
}

/// `build-system.build-backend`, empty when missing.
pub(crate) fn build_backend(doc: &Table) -> &str {
    doc.get("build-system")
        .and_then(Value::as_table)
        .and_then(|t| t.get("build-backend"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `build-system.requires` must name hatchling and allow the release plonk reproduces (a
/// project pinning an older hatchling gets older metadata from its real backend). Other
/// requirements (plugins) are harmless: plugins only act when configured, which is refused.
fn check_hatchling_requirement(build_system: Option<&Table>) -> NResult<()> {
    let requires = match build_system.and_then(|t| t.get("requires")) {
        Some(value) => str_list(value, "build-system.requires")?,
        None => Vec::new(),
    };
    let version = pep440_rs::Version::from_str(HATCHLING_VERSION)
        .map_err(|_| Refusal::skip("the reproduced hatchling version is invalid"))?;
    let mut found = false;
    for requirement in &requires {
        let Ok(req) = PyRequirement::parse(requirement) else {
            return skip(format!("`build-system.requires` has `{requirement}`"));
        };
        if normalize_project_name(&req.name) != "hatchling" {
            continue;
        }
        if req.url.is_some() || req.marker.is_some() {
            return skip(format!("`build-system.requires` has `{requirement}`"));
        }
        for item in &req.specifiers {
            let allowed = pep440_rs::VersionSpecifier::from_str(item)
                .map(|spec| spec.contains(&version))
                .unwrap_or(false);
            if !allowed {
                return skip(format!(
                    "`{requirement}` excludes hatchling {HATCHLING_VERSION}, the release plonk reproduces"
                ));
            }
        }
        found = true;
    }
    if !found {
        return skip("`build-system.requires` does not list hatchling");
    }
    Ok(())
}

/// Reads and checks everything hatchling reads to build the wheel target.
pub(crate) fn load(tree: Tree, text: &str, doc: &Table) -> NResult<HatchProject> {
    let build_system = table_at(doc, "build-system", "build-system")?;
    if build_system.is_some_and(|t| t.contains_key("backend-path")) {
        return skip("the build backend is loaded from the project (`backend-path`)");
    }
    check_hatchling_requirement(build_system)?;
    if tree.kind("hatch.toml")? != Kind::Missing {
        return skip("the project has a `hatch.toml`");
    }
    let Some(project) = table_at(doc, "project", "project")? else {
        return skip("`pyproject.toml` has no `[project]` table");
    };
    let empty = Table::new();
    let tool = table_at(doc, "tool", "tool")?.unwrap_or(&empty);
    let hatch = table_at(tool, "hatch", "tool.hatch")?.unwrap_or(&empty);
    let metadata_config = table_at(hatch, "metadata", "tool.hatch.metadata")?.unwrap_or(&empty);

    // PKG-INFO (building from an sdist): dynamic fields come from it.
    let mut project = project.clone();
    let mut pkg_fields: Option<CoreFields> = None;
    if tree.kind("PKG-INFO")? == Kind::File {
        let info = PkgInfo::parse(&universal_newlines(&tree.read_text("PKG-INFO")?));
        pkg_fields = Some(info.core_fields().map_err(Refusal::skip)?);
    }
    let mut dynamic = match project.get("dynamic") {
        None => Vec::new(),
        Some(value) => str_list(value, "project.dynamic")?,
    };
    let mut url_order = key_order(text, &["project", "urls"]);
    if let Some(fields) = &pkg_fields {
        let mut remaining = Vec::new();
        for field in dynamic {
            if substitute(&mut project, &mut url_order, fields, &field)? {
                continue;
            }
            remaining.push(field);
        }
        dynamic = remaining;
    }
    if dynamic.iter().any(|f| f == "name") {
        return skip("`name` is listed in `project.dynamic`");
    }

    // Metadata hooks only run while fields are still dynamic; loading a `custom` hook with
    // nothing to do has no effect on the wheel.
    let hooks = table_at(metadata_config, "hooks", "tool.hatch.metadata.hooks")?;
    if let Some(hooks) = hooks.filter(|h| !h.is_empty()) {
        for (name, config) in hooks {
            if name != "custom" {
                return skip(format!("the metadata hook `{name}` is a plugin"));
            }
            let config = as_table(config, "tool.hatch.metadata.hooks.custom")?;
            let path = match config.get("path") {
                None => "hatch_build.py",
                Some(value) => as_str(value, "tool.hatch.metadata.hooks.custom.path")?,
            };
            if path.is_empty() || tree.kind(path)? != Kind::File {
                return skip(format!("the metadata hook script `{path}` does not exist"));
            }
        }
        if !dynamic.is_empty() {
            return skip(format!(
                "a metadata hook computes `{}`",
                dynamic.join("`, `")
            ));
        }
    }
    if let Some(field) = dynamic.iter().find(|f| *f != "version") {
        return skip(format!("the field `{field}` is dynamic"));
    }
    let dynamic_version = dynamic.iter().any(|f| f == "version");

    let core = core_metadata(
        &tree,
        &project,
        hatch,
        metadata_config,
        dynamic_version,
        url_order,
    )?;
    let build = build_config(&tree, hatch, &core)?;
    Ok(HatchProject { tree, core, build })
}

/// Replaces a dynamic `field` by its `PKG-INFO` value like `core_raw_metadata` does; `false`
/// when `PKG-INFO` does not have it (the field stays dynamic).
fn substitute(
    project: &mut Table,
    url_order: &mut Option<Vec<String>>,
    fields: &CoreFields,
    field: &str,
) -> NResult<bool> {
    let strings = |list: &[String]| Value::Array(list.iter().cloned().map(Value::String).collect());
    let value = match field {
        "version" => Some(Value::String(fields.version.clone())),
        "description" => fields.description.clone().map(Value::String),
        "requires-python" => fields.requires_python.clone().map(Value::String),
        "keywords" => fields.keywords.as_deref().map(strings),
        "classifiers" => fields.classifiers.as_deref().map(strings),
        "dependencies" => fields.dependencies.as_deref().map(strings),
        "readme" => fields.readme.as_ref().map(|(content_type, text)| {
            let mut table = Table::new();
            table.insert("content-type".into(), Value::String(content_type.clone()));
            table.insert("text".into(), Value::String(text.clone()));
            Value::Table(table)
        }),
        "urls" => fields.urls.as_ref().map(|urls| {
            let mut order = Vec::new();
            let mut table = Table::new();
            for (label, url) in urls {
                if !order.contains(label) {
                    order.push(label.clone());
                }
                table.insert(label.clone(), Value::String(url.clone()));
            }
            *url_order = Some(order);
            Value::Table(table)
        }),
        "optional-dependencies" => fields.optional_dependencies.as_ref().map(|extras| {
            // A table cannot hold two spellings of one extra in order; hatchling's later
            // duplicate check is kept by refusing them here.
            let mut table = Table::new();
            for (extra, list) in extras {
                table.insert(extra.clone(), strings(list));
            }
            Value::Table(table)
        }),
        other => {
            if fields.unsupported.contains(&other) {
                return skip(format!(
                    "the dynamic field `{other}` would be taken from PKG-INFO"
                ));
            }
            None
        }
    };
    if field == "optional-dependencies"
        && let Some(extras) = &fields.optional_dependencies
    {
        let normalized: BTreeSet<String> = extras
            .iter()
            .map(|(e, _)| normalize_project_name(e))
            .collect();
        if normalized.len() != extras.len() {
            return skip("PKG-INFO declares one extra under several spellings");
        }
    }
    match value {
        Some(value) => {
            project.insert(field.to_string(), value);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Everything `construct_metadata_file_2_5` and the entry-points file need.
fn core_metadata(
    tree: &Tree,
    project: &Table,
    hatch: &Table,
    metadata_config: &Table,
    dynamic_version: bool,
    url_order: Option<Vec<String>>,
) -> NResult<Core> {
    let mut core = Core::default();
    let allow_direct = bool_at(
        metadata_config,
        "allow-direct-references",
        "tool.hatch.metadata.allow-direct-references",
        false,
    )?;
    let allow_ambiguous = bool_at(
        metadata_config,
        "allow-ambiguous-features",
        "tool.hatch.metadata.allow-ambiguous-features",
        false,
    )?;
    for key in ["import-names", "import-namespaces"] {
        if project.contains_key(key) {
            return skip(format!("`project.{key}` is not supported"));
        }
    }

    // Name.
    let raw_name = match project.get("name") {
        Some(value) => as_str(value, "project.name")?,
        None => return skip("`project.name` is missing"),
    };
    if !is_valid_project_name(raw_name) {
        return skip(format!("`project.name` `{raw_name}` is not a valid name"));
    }
    core.raw_name = raw_name.to_string();
    core.name = normalize_project_name(raw_name);

    // Version.
    let version_text = match (project.get("version"), dynamic_version) {
        (Some(_), true) => return skip("`version` is both static and dynamic"),
        (Some(value), false) => as_str(value, "project.version")?.to_string(),
        (None, false) => return skip("`project.version` is missing and not dynamic"),
        (None, true) => {
            let Some(config) = table_at(hatch, "version", "tool.hatch.version")? else {
                return skip("`version` is dynamic without `[tool.hatch.version]`");
            };
            let source = match config.get("source") {
                None => "regex",
                Some(value) => as_str(value, "tool.hatch.version.source")?,
            };
            if source != "regex" {
                return skip(format!("the version source `{source}` is not supported"));
            }
            if config
                .get("pattern")
                .is_some_and(|p| p.as_str() != Some(""))
            {
                return skip("a custom `tool.hatch.version.pattern` is not supported");
            }
            let path = match config.get("path") {
                Some(value) => as_str(value, "tool.hatch.version.path")?,
                None => return skip("`tool.hatch.version.path` is missing"),
            };
            if path.is_empty() {
                return skip("`tool.hatch.version.path` is empty");
            }
            let contents = universal_newlines(&tree.read_text(path)?);
            match version_from_file(&contents) {
                Some(version) => version,
                None => return skip(format!("no version found in `{path}`")),
            }
        }
    };
    core.version = normalize_version(&version_text)?;
    core.original_version = py_strip(&version_text).to_string();

    // Summary.
    if let Some(value) = project.get("description") {
        core.description = splitlines(as_str(value, "project.description")?).join(" ");
    }

    // Readme.
    readme(tree, project.get("readme"), &mut core)?;

    // Requires-Python and the wheel tag.
    let requires_python = match project.get("requires-python") {
        Some(value) => as_str(value, "project.requires-python")?,
        None => "",
    };
    let (requires_python, specs) = specifier_set(requires_python)?;
    core.requires_python = requires_python;
    core.tag = default_tag(&specs)?;

    // License.
    match project.get("license") {
        None => {}
        Some(Value::String(expression)) => {
            core.license_expression =
                canonicalize_license_expression(expression).map_err(Refusal::skip)?;
        }
        Some(Value::Table(table)) => {
            let contents = match (table.get("file"), table.get("text")) {
                (Some(_), Some(_)) => return skip("`project.license` has both `file` and `text`"),
                (Some(file), None) => {
                    let file = as_str(file, "project.license.file")?;
                    universal_newlines(&tree.read_text(file)?)
                }
                (None, Some(text)) => as_str(text, "project.license.text")?.to_string(),
                (None, None) => return skip("`project.license` has neither `file` nor `text`"),
            };
            core.license = contents;
        }
        Some(_) => return type_error("project.license", "a string or a table"),
    }
    let globs = match project.get("license-files") {
        None => vec![
            "LICEN[CS]E*".to_string(),
            "COPYING*".to_string(),
            "NOTICE*".to_string(),
            "AUTHORS*".to_string(),
        ],
        Some(value @ Value::Array(_)) => str_list(value, "project.license-files")?,
        Some(_) => return skip("`project.license-files` is not an array of globs"),
    };
    let mut license_files = Vec::new();
    for pattern in &globs {
        license_files.extend(glob_files(tree, pattern)?);
    }
    license_files.sort();
    if license_files.windows(2).any(|w| w[0] == w[1]) {
        return skip("a license file matches several `license-files` patterns");
    }
    core.license_files = license_files;

    core.authors = people(project.get("authors"), "project.authors")?;
    core.maintainers = people(project.get("maintainers"), "project.maintainers")?;

    if let Some(value) = project.get("keywords") {
        let keywords: BTreeSet<String> = str_list(value, "project.keywords")?.into_iter().collect();
        core.keywords = keywords.into_iter().collect();
    }
    if let Some(value) = project.get("classifiers") {
        core.classifiers =
            sort_classifiers(&str_list(value, "project.classifiers")?).map_err(Refusal::skip)?;
    }
    if let Some(value) = project.get("urls") {
        let urls = as_table(value, "project.urls")?;
        let order = url_order.unwrap_or_else(|| urls.keys().cloned().collect());
        if order.len() != urls.len() || !order.iter().all(|k| urls.contains_key(k)) {
            return skip("the order of `project.urls` cannot be determined");
        }
        for label in order {
            let Some(url) = urls.get(&label) else {
                return skip("the order of `project.urls` cannot be determined");
            };
            let url = as_str(url, "project.urls")?;
            core.urls.push((label, url.to_string()));
        }
    }

    // Entry points.
    if let Some(value) = project.get("scripts") {
        core.scripts = str_map(value, "project.scripts")?;
    }
    if let Some(value) = project.get("gui-scripts") {
        core.gui_scripts = str_map(value, "project.gui-scripts")?;
    }
    if let Some(value) = project.get("entry-points") {
        let groups = as_table(value, "project.entry-points")?;
        for forbidden in ["console_scripts", "gui-scripts"] {
            if groups.contains_key(forbidden) {
                return skip(format!("`project.entry-points.{forbidden}` is not allowed"));
            }
        }
        for (group, points) in groups {
            let points = str_map(points, "project.entry-points")?;
            if !points.is_empty() {
                core.entry_points.insert(group.clone(), points);
            }
        }
    }

    // Dependencies.
    let format_requirement = |entry: &str, field: &str| -> NResult<PyRequirement> {
        if entry.contains(['{', '}']) {
            return skip(format!("the requirement `{entry}` uses context formatting"));
        }
        let mut req = PyRequirement::parse(entry)
            .map_err(|why| Refusal::skip(format!("invalid requirement in `{field}`: {why}")))?;
        if req.url.is_some() && !allow_direct {
            return skip(format!("`{entry}` is a direct reference"));
        }
        req.normalize();
        Ok(req)
    };
    if let Some(value) = project.get("dependencies") {
        let mut unique = BTreeSet::new();
        for entry in str_list(value, "project.dependencies")? {
            let req = format_requirement(&entry, "project.dependencies")?;
            unique.insert(req.format_dependency().map_err(Refusal::skip)?);
        }
        core.dependencies = unique.into_iter().collect();
    }
    if let Some(value) = project.get("optional-dependencies") {
        core.optional_dependencies = optional_dependencies(
            as_table(value, "project.optional-dependencies")?,
            &core.name,
            allow_ambiguous,
            &format_requirement,
        )?;
    }
    Ok(core)
}

/// `CoreMetadata.optional_dependencies`, with extras that require the project itself
/// (`name[other]`) inheriting the other extras' requirements.
fn optional_dependencies(
    table: &Table,
    name: &str,
    allow_ambiguous: bool,
    format_requirement: &dyn Fn(&str, &str) -> NResult<PyRequirement>,
) -> NResult<Vec<(String, Vec<String>)>> {
    let mut entries: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inherited: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (option, list) in table {
        if !is_valid_project_name(option) {
            return skip(format!("the extra `{option}` is not a valid name"));
        }
        let normalized = if allow_ambiguous {
            option.clone()
        } else {
            normalize_project_name(option)
        };
        if entries.contains_key(&normalized) {
            return skip(format!("two extras normalize to `{normalized}`"));
        }
        let mut set = BTreeSet::new();
        for entry in str_list(list, "project.optional-dependencies")? {
            let req = format_requirement(&entry, "project.optional-dependencies")?;
            if req.name == name {
                inherited
                    .entry(normalized.clone())
                    .or_default()
                    .extend(req.extras.iter().cloned());
            } else {
                set.insert(req.format_dependency().map_err(Refusal::skip)?);
            }
        }
        entries.insert(normalized, set);
    }
    // Resolve inheritance depth-first, refusing cycles and unknown extras like hatchling.
    fn resolve(
        option: &str,
        entries: &mut BTreeMap<String, BTreeSet<String>>,
        inherited: &BTreeMap<String, BTreeSet<String>>,
        visiting: &mut BTreeSet<String>,
        done: &mut BTreeSet<String>,
    ) -> NResult<()> {
        if done.contains(option) {
            return Ok(());
        }
        if !visiting.insert(option.to_string()) {
            return skip(format!("the extra `{option}` requires itself"));
        }
        for selected in inherited.get(option).into_iter().flatten() {
            resolve(selected, entries, inherited, visiting, done)?;
            let Some(extra) = entries.get(selected).cloned() else {
                return skip(format!(
                    "the extra `{option}` requires an unknown extra `{selected}`"
                ));
            };
            entries.entry(option.to_string()).or_default().extend(extra);
        }
        visiting.remove(option);
        done.insert(option.to_string());
        Ok(())
    }
    let mut visiting = BTreeSet::new();
    let mut done = BTreeSet::new();
    for option in inherited.keys() {
        resolve(option, &mut entries, &inherited, &mut visiting, &mut done)?;
    }
    Ok(entries
        .into_iter()
        .map(|(option, set)| (option, set.into_iter().collect()))
        .collect())
}

/// `CoreMetadata.readme` and its content type.
fn readme(tree: &Tree, value: Option<&Value>, core: &mut Core) -> NResult<()> {
    core.readme_content_type = "text/markdown".to_string();
    let Some(value) = value else {
        return Ok(());
    };
    let read_inside = |path: &str| -> NResult<String> {
        if path.starts_with('/') || tree.lexical(path).is_none() {
            return skip(format!("the readme `{path}` is outside the project"));
        }
        if tree.kind(path)? != Kind::File {
            return skip(format!("the readme `{path}` does not exist"));
        }
        Ok(universal_newlines(&tree.read_text(path)?))
    };
    match value {
        Value::String(path) => {
            let lower = path.to_lowercase();
            let content_type = if lower.ends_with(".md") {
                "text/markdown"
            } else if lower.ends_with(".rst") {
                "text/x-rst"
            } else if lower.ends_with(".txt") {
                "text/plain"
            } else {
                return skip(format!("the readme `{path}` has an unknown extension"));
            };
            core.readme = read_inside(path)?;
            core.readme_content_type = content_type.to_string();
        }
        Value::Table(table) => {
            let content_type = match table.get("content-type") {
                Some(value) => as_str(value, "project.readme.content-type")?,
                None => return skip("`project.readme` has no `content-type`"),
            };
            if !["text/markdown", "text/x-rst", "text/plain"].contains(&content_type) {
                return skip(format!(
                    "the readme content type `{content_type}` is not allowed"
                ));
            }
            let contents = match (table.get("file"), table.get("text")) {
                (Some(_), Some(_)) => return skip("`project.readme` has both `file` and `text`"),
                (Some(file), None) => {
                    let file = as_str(file, "project.readme.file")?;
                    if let Some(charset) = table.get("charset") {
                        let charset = as_str(charset, "project.readme.charset")?;
                        let canonical = charset.to_lowercase().replace('_', "-");
                        if canonical != "utf-8" && canonical != "utf8" {
                            return skip(format!(
                                "the readme charset `{charset}` is not supported"
                            ));
                        }
                    }
                    read_inside(file)?
                }
                (None, Some(text)) => as_str(text, "project.readme.text")?.to_string(),
                (None, None) => return skip("`project.readme` has neither `file` nor `text`"),
            };
            core.readme = contents;
            core.readme_content_type = content_type.to_string();
        }
        _ => return type_error("project.readme", "a string or a table"),
    }
    Ok(())
}

/// The wheel target's options, hatchling's default file selection included.
fn build_config(tree: &Tree, hatch: &Table, core: &Core) -> NResult<BuildConfig> {
    let empty = Table::new();
    let global = table_at(hatch, "build", "tool.hatch.build")?.unwrap_or(&empty);
    let targets = table_at(global, "targets", "tool.hatch.build.targets")?.unwrap_or(&empty);
    let target = table_at(targets, "wheel", "tool.hatch.build.targets.wheel")?.unwrap_or(&empty);

    for (table, prefix) in [
        (global, "tool.hatch.build"),
        (target, "tool.hatch.build.targets.wheel"),
    ] {
        if let Some(hooks) = table.get("hooks")
            && !as_table(hooks, &format!("{prefix}.hooks"))?.is_empty()
        {
            return skip(format!("`{prefix}.hooks` configures build hooks"));
        }
    }
    for key in ["shared-data", "shared-scripts", "extra-metadata"] {
        if let Some(value) = target.get(key)
            && !as_table(value, key)?.is_empty()
        {
            return skip(format!(
                "`tool.hatch.build.targets.wheel.{key}` is not supported"
            ));
        }
    }
    if let Some(value) = target.get("sbom-files")
        && !str_list(value, "sbom-files")?.is_empty()
    {
        return skip("`tool.hatch.build.targets.wheel.sbom-files` is not supported");
    }
    if let Some(value) = target.get("core-metadata-version") {
        let version = as_str(value, "core-metadata-version")?;
        if version != "2.5" {
            return skip(format!("core metadata version {version} is not supported"));
        }
    }

    // Target value if the target has the key, else the global one.
    let pick = |key: &str| target.get(key).or_else(|| global.get(key));
    let pick_list = |key: &str| -> NResult<Option<Vec<String>>> {
        pick(key).map(|v| str_list(v, key)).transpose()
    };
    let pick_bool = |key: &str, default: bool| -> NResult<bool> {
        match pick(key) {
            None => Ok(default),
            Some(v) => v.as_bool().map_or_else(|| type_error(key, "a boolean"), Ok),
        }
    };

    let mut config = BuildConfig {
        only_packages: pick_bool("only-packages", false)?,
        skip_excluded_dirs: pick_bool("skip-excluded-dirs", false)?,
        ignore_vcs: pick_bool("ignore-vcs", false)?,
        strict_naming: pick_bool("strict-naming", true)?,
        reproducible: pick_bool("reproducible", true)?,
        ..BuildConfig::default()
    };
    let bypass_selection = bool_at(target, "bypass-selection", "bypass-selection", false)?;

    for (key, list) in [
        ("include", pick_list("include")?),
        ("exclude", pick_list("exclude")?),
        ("artifacts", pick_list("artifacts")?),
    ] {
        if list
            .as_ref()
            .is_some_and(|l| l.iter().any(String::is_empty))
        {
            return skip(format!("`{key}` has an empty pattern"));
        }
    }
    let include = pick_list("include")?;
    let packages = pick_list("packages")?;
    let only_include = pick_list("only-include")?;
    config.exclude = pick_list("exclude")?.unwrap_or_default();
    config.artifacts = pick_list("artifacts")?.unwrap_or_default();

    // force-include: `normalize_inclusion_map`, refusing anything outside the project.
    let mut force = Vec::new();
    if let Some(value) = pick("force-include") {
        for (source, target_path) in as_table(value, "force-include")? {
            let target_path = as_str(target_path, "force-include")?;
            if source.is_empty() || target_path.is_empty() {
                return skip("`force-include` has an empty path");
            }
            if source.starts_with('~') {
                return skip(format!(
                    "the forced inclusion `{source}` is outside the project"
                ));
            }
            let Some(absolute) = tree.lexical(source) else {
                return skip(format!(
                    "the forced inclusion `{source}` is outside the project"
                ));
            };
            let relative = absolute
                .strip_prefix(&tree.root_str)
                .unwrap_or("")
                .trim_start_matches('/')
                .to_string();
            if relative.is_empty() {
                return skip("`force-include` includes the whole project");
            }
            let normalized_target = super::pyutil::normalize_relative_path(target_path);
            force.push((relative, normalized_target));
        }
    }
    // A source given twice (`a` and `./a`) keeps the last target, like hatchling's dict.
    let mut unique: Vec<(String, String)> = Vec::new();
    for (source, target) in force {
        unique.retain(|(s, _)| *s != source);
        unique.push((source, target));
    }
    let mut force = unique;
    force.sort_by(|(sa, ta), (sb, tb)| {
        (ta.matches('/').count(), ta, sa).cmp(&(tb.matches('/').count(), tb, sb))
    });
    config.force_include = force;

    // Default file selection when nothing is configured.
    let configured = include.as_ref().is_some_and(|l| !l.is_empty())
        || packages.as_ref().is_some_and(|l| !l.is_empty())
        || only_include.as_ref().is_some_and(|l| !l.is_empty());
    let (default_packages, default_only_include) = if configured {
        (Vec::new(), Vec::new())
    } else {
        default_selection(tree, core, bypass_selection, &config)?.unwrap_or_else(|| {
            config.exclude_all = true;
            (Vec::new(), Vec::new())
        })
    };
    config.include = include.unwrap_or_default();
    let packages = packages.unwrap_or(default_packages);
    if packages.iter().any(String::is_empty) {
        return skip("`packages` has an empty entry");
    }
    let mut packages: Vec<String> = packages
        .iter()
        .map(|p| super::pyutil::normalize_relative_path(p))
        .collect();
    packages.sort();
    config.packages = packages;

    let only = only_include.unwrap_or(default_only_include);
    let only = if only.is_empty() {
        config.packages.clone()
    } else {
        only
    };
    let mut seen = BTreeSet::new();
    let mut only_include = Vec::new();
    for entry in only {
        let normalized = super::pyutil::normalize_relative_path(&entry);
        if normalized.is_empty()
            || normalized == "."
            || normalized.starts_with('~')
            || normalized.starts_with("..")
            || normalized.starts_with('/')
        {
            return skip(format!("the `only-include` path `{entry}` is not relative"));
        }
        if !seen.insert(normalized.clone()) {
            return skip(format!("`only-include` lists `{normalized}` twice"));
        }
        only_include.push(normalized);
    }
    only_include.sort_by(|a, b| (a.matches('/').count(), a).cmp(&(b.matches('/').count(), b)));
    config.only_include = only_include;

    // sources.
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    match pick("sources") {
        None => {}
        Some(Value::Array(list)) => {
            for source in list {
                let source = as_str(source, "sources")?;
                if source.is_empty() {
                    return skip("`sources` has an empty entry");
                }
                sources.insert(
                    super::pyutil::normalize_relative_directory(source),
                    String::new(),
                );
            }
        }
        Some(Value::Table(map)) => {
            for (source, path) in map {
                let path = as_str(path, "sources")?;
                let normalized = super::pyutil::normalize_relative_path(path);
                let replacement = if normalized == "." {
                    String::new()
                } else {
                    format!("{normalized}/")
                };
                let key = if source.is_empty() {
                    String::new()
                } else {
                    super::pyutil::normalize_relative_directory(source)
                };
                sources.insert(key, replacement);
            }
        }
        Some(_) => return type_error("sources", "an array or a table"),
    }
    for package in &config.packages {
        if let Some((source, _)) = package.rsplit_once('/')
            && !source.is_empty()
            && !sources.contains_key(&super::pyutil::normalize_relative_directory(package))
        {
            sources.insert(
                super::pyutil::normalize_relative_directory(source),
                String::new(),
            );
        }
    }
    config.sources = sources.into_iter().collect();
    Ok(config)
}

/// `WheelBuilderConfig.default_file_selection_options` when nothing is configured:
/// `Some((packages, only_include))`, or `None` when only forced inclusions are shipped.
fn default_selection(
    tree: &Tree,
    core: &Core,
    bypass_selection: bool,
    config: &BuildConfig,
) -> NResult<Option<(Vec<String>, Vec<String>)>> {
    use super::pyutil::file_name_component;
    for name in [
        file_name_component(&core.raw_name),
        file_name_component(&core.name),
    ] {
        if tree.kind(&format!("{name}/__init__.py"))? == Kind::File {
            return Ok(Some((vec![name], Vec::new())));
        }
        if tree.kind(&format!("src/{name}/__init__.py"))? == Kind::File {
            return Ok(Some((vec![format!("src/{name}")], Vec::new())));
        }
        if tree.kind(&format!("{name}.py"))? == Kind::File {
            return Ok(Some((Vec::new(), vec![format!("{name}.py")])));
        }
        let mut namespaces = Vec::new();
        for entry in tree.list(".")? {
            if entry.is_dir
                && !entry.name.starts_with('.')
                && tree.kind(&format!("{}/{name}/__init__.py", entry.name))? == Kind::File
            {
                namespaces.push(entry.name);
            }
        }
        if let [namespace] = namespaces.as_slice() {
            return Ok(Some((vec![namespace.clone()], Vec::new())));
        }
    }
    if bypass_selection || !config.force_include.is_empty() {
        return Ok(None);
    }
    skip("hatchling cannot tell which files to ship (no package named after the project)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_file_rows() {
        let rows = [
            ("__version__ = \"22.0.3\"\n", Some("22.0.3")),
            ("__version__ = '1.0'\n", Some("1.0")),
            ("VERSION='v2.0'", Some("2.0")),
            ("version = \"3\"", Some("3")),
            ("x = 1\n__version__ = \"4.0\" # c\n", Some("4.0")),
            ("  __version__ = \"5\"", None),
            ("__version__ = \"mixed'", None),
            ("__version__ = 1.0", None),
            ("__version__ = \"a\"\nVERSION = 'b'", Some("a")),
            ("VERSION = 'b'\n__version__ = \"a\"", Some("b")),
            ("", None),
        ];
        for (text, expected) in rows {
            assert_eq!(version_from_file(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(
            format_address(None, "hello@edly.io").unwrap(),
            "hello@edly.io"
        );
        assert_eq!(
            format_address(Some("Edly"), "hello@edly.io").unwrap(),
            "Edly <hello@edly.io>"
        );
        assert_eq!(
            format_address(Some("J. Doe"), "j@x.org").unwrap(),
            "\"J. Doe\" <j@x.org>"
        );
        assert!(format_address(None, "not an address").is_err());
        assert!(format_address(None, "a@b@c").is_err());
    }

    #[test]
    fn tags_and_specifiers() {
        let (text, specs) = specifier_set(">= 3.10").unwrap();
        assert_eq!(text, ">=3.10");
        assert_eq!(default_tag(&specs).unwrap(), "py3-none-any");
        let (text, specs) = specifier_set("").unwrap();
        assert_eq!(text, "");
        assert_eq!(default_tag(&specs).unwrap(), "py2.py3-none-any");
        let (text, specs) = specifier_set(">=2.7,!=3.0.*,<4").unwrap();
        assert_eq!(text, "!=3.0.*,<4,>=2.7");
        assert_eq!(default_tag(&specs).unwrap(), "py2.py3-none-any");
        let (_, specs) = specifier_set("==3.11.4").unwrap();
        assert_eq!(default_tag(&specs).unwrap(), "py3-none-any");
        assert!(specifier_set(">=three").is_err());
        let (_, specs) = specifier_set(">=4").unwrap();
        assert!(default_tag(&specs).is_err());
        assert_eq!(normalize_version(" 1.0-RC1 ").unwrap(), "1.0rc1");
        assert_eq!(normalize_version("v22.0.3").unwrap(), "22.0.3");
    }
}
