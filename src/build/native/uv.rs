//! The `uv_build` backend (uv 0.13.6), for the configurations plonk reproduces exactly: one
//! module found from `module-root` / `module-name`, the default excludes, static metadata,
//! requirements without markers or URLs. The wheel holds the module's files with uv's
//! directory entries, then `WHEEL`, `entry_points.txt` and `METADATA` as uv writes them
//! (`Metadata23::core_metadata_format`), then `RECORD`.
//!
//! Anything else (`license-files` globs, `data`, extra excludes, namespaces, stubs, markers,
//! a `uv_build` requirement that cannot select 0.13.6) is not eligible.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier};
use toml::{Table, Value};

use super::config::{
    as_str, as_table, bool_at, key_order, skip, str_list, str_map, table_at, type_error,
};
use super::lists::canonicalize_license_expression;
use super::pyutil::{file_name_component, is_valid_project_name, normalize_project_name};
use super::requirement::PyRequirement;
use super::tree::{Kind, Tree};
use super::wheel::{ModeRule, Planned, WheelPlan};
use super::{NResult, Refusal};

/// The backend module `uv_build` projects name.
pub(crate) const UV_BACKEND: &str = "uv_build";
/// The `uv_build` release whose behaviour is reproduced.
pub(crate) const UV_VERSION: &str = "0.13.6";

/// uv's `Operator` order, which breaks ties when specifiers are sorted by version.
fn operator_rank(op: Operator) -> u8 {
    match op {
        Operator::Equal => 0,
        Operator::EqualStar => 1,
        Operator::ExactEqual => 2,
        Operator::NotEqual => 3,
        Operator::NotEqualStar => 4,
        Operator::TildeEqual => 5,
        Operator::LessThan => 6,
        Operator::LessThanEqual => 7,
        Operator::GreaterThan => 8,
        Operator::GreaterThanEqual => 9,
    }
}

/// uv's `VersionSpecifier` display.
fn format_specifier(spec: &VersionSpecifier) -> String {
    let op = match spec.operator() {
        Operator::Equal | Operator::EqualStar => "==",
        Operator::ExactEqual => "===",
        Operator::NotEqual | Operator::NotEqualStar => "!=",
        Operator::TildeEqual => "~=",
        Operator::LessThan => "<",
        Operator::LessThanEqual => "<=",
        Operator::GreaterThan => ">",
        Operator::GreaterThanEqual => ">=",
    };
    let star = matches!(
        spec.operator(),
        Operator::EqualStar | Operator::NotEqualStar
    );
    format!("{op}{}{}", spec.version(), if star { ".*" } else { "" })
}

/// Parses specifier items and sorts them like uv's `VersionSpecifiers::from_unsorted`.
fn sorted_specifiers(items: &[String]) -> NResult<Vec<VersionSpecifier>> {
    let mut specs = Vec::new();
    for item in items {
        let Ok(spec) = VersionSpecifier::from_str(item) else {
            return skip(format!("the version specifier `{item}` is not supported"));
        };
        if *spec.operator() == Operator::ExactEqual || !spec.version().local().is_empty() {
            return skip(format!("the version specifier `{item}` is not supported"));
        }
        specs.push(spec);
    }
    specs.sort_by(|a, b| {
        a.version()
            .cmp(b.version())
            .then_with(|| operator_rank(*a.operator()).cmp(&operator_rank(*b.operator())))
    });
    Ok(specs)
}

/// A requirement as uv's `Requires-Dist` shows it; `extra` appends uv's marker.
fn format_requirement(text: &str, extra: Option<&str>) -> NResult<String> {
    let req = PyRequirement::parse(text).map_err(Refusal::skip)?;
    if req.url.is_some() || req.marker.is_some() {
        return skip(format!(
            "the requirement `{text}` has a URL or a marker (uv rewrites those)"
        ));
    }
    let mut out = normalize_project_name(&req.name);
    if !req.extras.is_empty() {
        let extras: Vec<String> = req
            .extras
            .iter()
            .map(|e| normalize_project_name(e))
            .collect();
        out.push_str(&format!("[{}]", extras.join(",")));
    }
    let specs = sorted_specifiers(&req.specifiers)?;
    out.push_str(
        &specs
            .iter()
            .map(format_specifier)
            .collect::<Vec<_>>()
            .join(","),
    );
    if let Some(extra) = extra {
        out.push_str(&format!(" ; extra == '{extra}'"));
    }
    Ok(out)
}

/// `write_str` of `core_metadata_format`: continuation lines indented past the key.
fn field(out: &mut String, key: &str, value: &str) {
    let mut lines = value.lines();
    out.push_str(&format!("{key}: {}\n", lines.next().unwrap_or("")));
    for line in lines {
        out.push_str(&format!("{}{line}\n", " ".repeat(key.len() + 2)));
    }
}

/// `Author` / `Author-email` (or the maintainer pair) from `project.authors`.
fn contacts(value: Option<&Value>, field_name: &str) -> NResult<(Option<String>, Option<String>)> {
    let Some(value) = value else {
        return Ok((None, None));
    };
    let Some(list) = value.as_array() else {
        return type_error(field_name, "an array");
    };
    let mut names = Vec::new();
    let mut emails = Vec::new();
    for contact in list {
        let table = as_table(contact, field_name)?;
        if table.keys().any(|k| k != "name" && k != "email") {
            return skip(format!("an entry of `{field_name}` has unknown keys"));
        }
        let name = table
            .get("name")
            .map(|v| as_str(v, field_name))
            .transpose()?;
        let email = table
            .get("email")
            .map(|v| as_str(v, field_name))
            .transpose()?;
        match (name, email) {
            (Some(name), Some(email)) => {
                names.push(name.to_string());
                emails.push(format!("{name} <{email}>"));
            }
            (Some(name), None) => names.push(name.to_string()),
            (None, Some(email)) => emails.push(email.to_string()),
            (None, None) => return skip(format!("an entry of `{field_name}` is empty")),
        }
    }
    let join = |list: Vec<String>| Some(list.join(", ")).filter(|s| !s.is_empty());
    Ok((join(names), join(emails)))
}

/// `to_entry_points`: every declared group with a blank line after it.
fn entry_points(project: &Table) -> NResult<Option<String>> {
    let scripts = project.get("scripts");
    let gui = project.get("gui-scripts");
    let groups = project.get("entry-points");
    if scripts.is_none() && gui.is_none() && groups.is_none() {
        return Ok(None);
    }
    let mut out = String::new();
    let mut group = |name: &str, points: BTreeMap<String, String>| -> NResult<()> {
        let valid_group = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '_');
        if !valid_group {
            return skip(format!("the entry-point group `{name}` is invalid"));
        }
        out.push_str(&format!("[{name}]\n"));
        for (point, object_ref) in points {
            let compliant = point
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
            let scripts = matches!(name, "console_scripts" | "gui_scripts");
            if scripts && (point.is_empty() || point.chars().all(|c| c == '.') || !compliant) {
                return skip(format!("the script name `{point}` is invalid"));
            }
            out.push_str(&format!("{point} = {object_ref}\n"));
        }
        out.push('\n');
        Ok(())
    };
    if let Some(value) = scripts {
        group("console_scripts", str_map(value, "project.scripts")?)?;
    }
    if let Some(value) = gui {
        group("gui_scripts", str_map(value, "project.gui-scripts")?)?;
    }
    if let Some(value) = groups {
        for (name, points) in as_table(value, "project.entry-points")? {
            if name == "console_scripts" || name == "gui_scripts" {
                return skip(format!("`project.entry-points.{name}` is reserved"));
            }
            group(name, str_map(points, "project.entry-points")?)?;
        }
    }
    Ok(Some(out))
}

/// The `uv_build` requirement must be able to select the release plonk reproduces.
fn check_build_system(doc: &Table) -> NResult<()> {
    let build_system = table_at(doc, "build-system", "build-system")?
        .ok_or_else(|| Refusal::skip("`[build-system]` is missing"))?;
    if build_system.contains_key("backend-path") {
        return skip("the build backend is loaded from the project (`backend-path`)");
    }
    let requires = match build_system.get("requires") {
        Some(value) => str_list(value, "build-system.requires")?,
        None => Vec::new(),
    };
    let [requirement] = requires.as_slice() else {
        return skip("`build-system.requires` is not exactly `uv_build`");
    };
    let req = PyRequirement::parse(requirement).map_err(Refusal::skip)?;
    if normalize_project_name(&req.name) != "uv-build" || req.url.is_some() || req.marker.is_some()
    {
        return skip(format!("`build-system.requires` is `{requirement}`"));
    }
    let version = Version::from_str(UV_VERSION)
        .map_err(|_| Refusal::skip("the reproduced uv_build version is invalid"))?;
    for item in &req.specifiers {
        let Ok(spec) = VersionSpecifier::from_str(item) else {
            return skip(format!("`{requirement}` cannot be read"));
        };
        if !spec.contains(&version) {
            return skip(format!(
                "`{requirement}` excludes uv_build {UV_VERSION}, the release plonk reproduces"
            ));
        }
    }
    Ok(())
}

/// The `[tool.uv.build-backend]` options plonk supports: `(module_root, module_name, default_excludes)`.
fn settings(doc: &Table) -> NResult<(String, Option<String>, bool)> {
    let empty = Table::new();
    let tool = table_at(doc, "tool", "tool")?.unwrap_or(&empty);
    let uv = table_at(tool, "uv", "tool.uv")?.unwrap_or(&empty);
    let backend = table_at(uv, "build-backend", "tool.uv.build-backend")?.unwrap_or(&empty);
    for (key, value) in backend {
        let supported = match key.as_str() {
            "module-root" | "module-name" | "default-excludes" => true,
            "source-include" => str_list(value, key).is_ok(),
            "source-exclude" | "wheel-exclude" => {
                str_list(value, key).is_ok_and(|list| list.is_empty())
            }
            "namespace" => value.as_bool() == Some(false),
            "data" => value.as_table().is_some_and(Table::is_empty),
            _ => false,
        };
        if !supported {
            return skip(format!("`tool.uv.build-backend.{key}` is not supported"));
        }
    }
    let module_root = match backend.get("module-root") {
        Some(value) => as_str(value, "tool.uv.build-backend.module-root")?.to_string(),
        None => "src".to_string(),
    };
    let module_name = match backend.get("module-name") {
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return skip("`tool.uv.build-backend.module-name` lists several modules"),
        None => None,
    };
    let default_excludes = bool_at(
        backend,
        "default-excludes",
        "tool.uv.build-backend.default-excludes",
        true,
    )?;
    Ok((module_root, module_name, default_excludes))
}

/// The `core_metadata_format` text of the project.
fn metadata(tree: &Tree, text: &str, project: &Table) -> NResult<String> {
    let get_str = |key: &str| -> NResult<Option<&str>> {
        project
            .get(key)
            .map(|v| as_str(v, &format!("project.{key}")))
            .transpose()
    };
    if project
        .get("dynamic")
        .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
    {
        return skip("uv_build does not support dynamic metadata");
    }
    for key in ["import-names", "import-namespaces", "license-files"] {
        if project.contains_key(key) {
            return skip(format!("`project.{key}` is not supported"));
        }
    }
    let Some(name) = get_str("name")? else {
        return skip("`project.name` is missing");
    };
    if !is_valid_project_name(name) {
        return skip(format!("`project.name` `{name}` is not a valid name"));
    }
    let Some(version) = get_str("version")? else {
        return skip("uv_build needs a static `project.version`");
    };
    let Ok(version) = Version::from_str(version) else {
        return skip(format!(
            "the version `{version}` is not a valid PEP 440 version"
        ));
    };
    let summary = get_str("description")?;
    if summary.is_some_and(|s| s.contains('\n')) {
        return skip("`project.description` has several lines");
    }

    let read = |path: &str| -> NResult<String> {
        if path.starts_with('/') || tree.lexical(path).is_none() {
            return skip(format!("`{path}` is outside the project"));
        }
        tree.read_text(path)
    };
    let supported_types = ["text/plain", "text/x-rst", "text/markdown"];
    let (description, content_type) = match project.get("readme") {
        None => (None, None),
        Some(Value::String(path)) => {
            let extension = std::path::Path::new(path)
                .extension()
                .and_then(|e| e.to_str());
            let content_type = match extension {
                Some("txt") => "text/plain",
                Some("rst") => "text/x-rst",
                Some("md") => "text/markdown",
                _ => return skip(format!("the readme `{path}` has an unknown extension")),
            };
            (Some(read(path)?), Some(content_type.to_string()))
        }
        Some(Value::Table(table)) => {
            let content_type = match table.get("content-type") {
                Some(value) => as_str(value, "project.readme.content-type")?,
                None => return skip("`project.readme` has no `content-type`"),
            };
            if !supported_types.contains(&content_type) {
                return skip(format!(
                    "the readme content type `{content_type}` is not supported"
                ));
            }
            if let Some(charset) = table.get("charset")
                && as_str(charset, "project.readme.charset")? != "UTF-8"
            {
                return skip("the readme charset is not `UTF-8`");
            }
            let contents = match (table.get("file"), table.get("text")) {
                (Some(file), _) => read(as_str(file, "project.readme.file")?)?,
                (None, Some(text)) => as_str(text, "project.readme.text")?.to_string(),
                (None, None) => return skip("`project.readme` has neither `file` nor `text`"),
            };
            (Some(contents), Some(content_type.to_string()))
        }
        Some(_) => return type_error("project.readme", "a string or a table"),
    };

    let (license, license_expression) = match project.get("license") {
        None => (None, None),
        Some(Value::String(expression)) => {
            // uv keeps the expression as written; only canonical spellings are known to parse.
            match canonicalize_license_expression(expression) {
                Ok(canonical) if canonical == *expression => (None, Some(expression.clone())),
                _ => {
                    return skip(format!(
                        "the license expression `{expression}` is not canonical"
                    ));
                }
            }
        }
        Some(Value::Table(table)) => match (table.get("text"), table.get("file")) {
            (Some(text), _) => (
                Some(as_str(text, "project.license.text")?.to_string()),
                None,
            ),
            (None, Some(file)) => (Some(read(as_str(file, "project.license.file")?)?), None),
            (None, None) => return skip("`project.license` has neither `text` nor `file`"),
        },
        Some(_) => return type_error("project.license", "a string or a table"),
    };
    let (author, author_email) = contacts(project.get("authors"), "project.authors")?;
    let (maintainer, maintainer_email) =
        contacts(project.get("maintainers"), "project.maintainers")?;
    let keywords = project
        .get("keywords")
        .map(|v| str_list(v, "project.keywords"))
        .transpose()?;
    let classifiers = match project.get("classifiers") {
        Some(value) => str_list(value, "project.classifiers")?,
        None => Vec::new(),
    };
    for classifier in &classifiers {
        let mut parts = classifier.split(" :: ");
        let valid = parts.next().is_some_and(|p| !p.is_empty())
            && parts.next().is_some_and(|p| !p.is_empty())
            && parts.all(|p| !p.is_empty());
        if !valid {
            return skip(format!("the classifier `{classifier}` is invalid"));
        }
    }
    let requires_python = match get_str("requires-python")? {
        None => None,
        Some(text) => {
            let items: Vec<String> = if text.is_empty() {
                Vec::new()
            } else {
                text.split(',').map(|s| s.trim().to_string()).collect()
            };
            Some(
                sorted_specifiers(&items)?
                    .iter()
                    .map(format_specifier)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        }
    };
    let mut urls = Vec::new();
    if let Some(value) = project.get("urls") {
        let table = as_table(value, "project.urls")?;
        let order = key_order(text, &["project", "urls"])
            .filter(|order| order.len() == table.len())
            .ok_or_else(|| Refusal::skip("the order of `project.urls` cannot be determined"))?;
        for label in order {
            let Some(url) = table.get(&label) else {
                return skip("the order of `project.urls` cannot be determined");
            };
            urls.push(format!("{label}, {}", as_str(url, "project.urls")?));
        }
    }
    let mut requires_dist = Vec::new();
    if let Some(value) = project.get("dependencies") {
        for entry in str_list(value, "project.dependencies")? {
            requires_dist.push(format_requirement(&entry, None)?);
        }
    }
    let mut extras: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(value) = project.get("optional-dependencies") {
        for (extra, list) in as_table(value, "project.optional-dependencies")? {
            if !is_valid_project_name(extra) {
                return skip(format!("the extra `{extra}` is not a valid name"));
            }
            let normalized = normalize_project_name(extra);
            if extras
                .insert(normalized, str_list(list, "project.optional-dependencies")?)
                .is_some()
            {
                return skip(format!("two extras normalize like `{extra}`"));
            }
        }
    }
    for (extra, list) in &extras {
        for entry in list {
            requires_dist.push(format_requirement(entry, Some(extra))?);
        }
    }

    let metadata_version = if license_expression.is_some() {
        "2.4"
    } else {
        "2.3"
    };
    let mut out = String::new();
    field(&mut out, "Metadata-Version", metadata_version);
    field(&mut out, "Name", name);
    field(&mut out, "Version", &version.to_string());
    if let Some(summary) = summary {
        field(&mut out, "Summary", summary);
    }
    if let Some(keywords) = keywords {
        field(&mut out, "Keywords", &keywords.join(","));
    }
    let optional = [
        ("Author", author),
        ("Author-email", author_email),
        ("License", license),
        ("License-Expression", license_expression),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            field(&mut out, key, &value);
        }
    }
    for classifier in &classifiers {
        field(&mut out, "Classifier", classifier);
    }
    for requirement in &requires_dist {
        field(&mut out, "Requires-Dist", requirement);
    }
    for (key, value) in [
        ("Maintainer", maintainer),
        ("Maintainer-email", maintainer_email),
    ] {
        if let Some(value) = value {
            field(&mut out, key, &value);
        }
    }
    if let Some(requires_python) = requires_python {
        field(&mut out, "Requires-Python", &requires_python);
    }
    for url in &urls {
        field(&mut out, "Project-URL", url);
    }
    for extra in extras.keys() {
        field(&mut out, "Provides-Extra", extra);
    }
    if let Some(content_type) = content_type {
        field(&mut out, "Description-Content-Type", &content_type);
    }
    if let Some(description) = description {
        out.push('\n');
        out.push_str(&description);
    }
    Ok(out)
}

/// A Python identifier as uv's `Identifier` accepts it (ASCII only here).
fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether uv's default excludes (`__pycache__`, `*.pyc`, `*.pyo`) drop this entry.
fn default_excluded(name: &str) -> bool {
    name == "__pycache__" || name.ends_with(".pyc") || name.ends_with(".pyo")
}

/// The depth-first walk of the module folder, sorted by name, with uv's directory entries.
fn walk(
    tree: &Tree,
    src_root: &str,
    rel: &str,
    excludes: bool,
    written: &mut Vec<String>,
    out: &mut Vec<Planned>,
) -> NResult<()> {
    let dir = if src_root.is_empty() {
        rel.to_string()
    } else {
        format!("{src_root}/{rel}")
    };
    for entry in tree.list(&dir)? {
        if entry.name == "pyvenv.cfg" || entry.name == "lib64" {
            return skip(format!(
                "`{dir}/{}` looks like a virtual environment",
                entry.name
            ));
        }
        if excludes && default_excluded(&entry.name) {
            continue;
        }
        let child = format!("{rel}/{}", entry.name);
        if entry.is_dir {
            walk(tree, src_root, &child, excludes, written, out)?;
            continue;
        }
        // Parent folders are written once, right before their first file.
        let mut prefix = String::new();
        for component in rel.split('/') {
            prefix.push_str(component);
            prefix.push('/');
            if !written.contains(&prefix) {
                written.push(prefix.clone());
                out.push(Planned::Dir {
                    dist: prefix.clone(),
                });
            }
        }
        out.push(Planned::File {
            rel: if src_root.is_empty() {
                child.clone()
            } else {
                format!("{src_root}/{child}")
            },
            dist: child,
        });
    }
    Ok(())
}

/// The wheel plan of a `uv_build` project.
pub(crate) fn plan(tree: Tree, text: &str, doc: &Table) -> NResult<WheelPlan> {
    check_build_system(doc)?;
    let (module_root, module_name, default_excludes) = settings(doc)?;
    let Some(project) = table_at(doc, "project", "project")? else {
        return skip("`pyproject.toml` has no `[project]` table");
    };
    let metadata = metadata(&tree, text, project)?;
    let entry_points = entry_points(project)?;
    let field = |key: &str| match project.get(key) {
        Some(value) => as_str(value, key),
        None => skip(format!("`project.{key}` is missing")),
    };
    let name = field("name")?;
    let dist_name = normalize_project_name(name).replace('-', "_");
    let version_text = field("version")?;
    let version = Version::from_str(version_text)
        .map_err(|_| Refusal::skip("the version is not a valid PEP 440 version"))?
        .to_string();

    // The module: `<module-root>/<module-name>/__init__.py`.
    let Some(root_abs) = tree.lexical(&module_root) else {
        return skip(format!(
            "the module root `{module_root}` is outside the project"
        ));
    };
    let src_root = root_abs
        .strip_prefix(&tree.root_str)
        .unwrap_or("")
        .trim_start_matches('/')
        .to_string();
    let module = match module_name {
        Some(name) if name.contains('.') || name.ends_with("-stubs") => {
            return skip("namespace and stubs modules are not supported");
        }
        Some(name) if !is_identifier(&name) => {
            return skip(format!("the module name `{name}` is not an identifier"));
        }
        Some(name) => name,
        None if name.ends_with("-stubs") || normalize_project_name(name).ends_with("-stubs") => {
            return skip("stubs packages are not supported");
        }
        None => dist_name.clone(),
    };
    let module_dir = if src_root.is_empty() {
        module.clone()
    } else {
        format!("{src_root}/{module}")
    };
    if tree.kind(&format!("{module_dir}/__init__.py"))? != Kind::File {
        return skip(format!("`{module_dir}/__init__.py` does not exist"));
    }
    if default_excludes && default_excluded(&module) {
        return skip("the module folder itself is excluded");
    }

    let mut entries = Vec::new();
    let mut written = Vec::new();
    walk(
        &tree,
        &src_root,
        &module,
        default_excludes,
        &mut written,
        &mut entries,
    )?;
    let dist_info = format!("{dist_name}-{version}.dist-info");
    entries.push(Planned::Dir {
        dist: format!("{dist_info}/"),
    });
    entries.push(Planned::Generated {
        dist: format!("{dist_info}/WHEEL"),
        data: format!(
            "Wheel-Version: 1.0\nGenerator: plonk {} (uv_build-compatible)\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes(),
    });
    if let Some(text) = entry_points {
        entries.push(Planned::Generated {
            dist: format!("{dist_info}/entry_points.txt"),
            data: text.into_bytes(),
        });
    }
    entries.push(Planned::Generated {
        dist: format!("{dist_info}/METADATA"),
        data: metadata.into_bytes(),
    });
    Ok(WheelPlan {
        name: format!(
            "{}-{version}-py3-none-any.whl",
            file_name_component(&dist_name)
        ),
        tree,
        backend: UV_BACKEND,
        entries,
        record: format!("{dist_info}/RECORD"),
        mode_rule: ModeRule::Uv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_rows() {
        let rows = [
            (
                "Requests[Security,SOCKS] >= 2.0, <3",
                None,
                "requests[security,socks]>=2.0,<3",
            ),
            ("foo<2,>=1.0rc1,!=1.5", None, "foo>=1.0rc1,!=1.5,<2"),
            ("foo==1.0.*", Some("dev"), "foo==1.0.* ; extra == 'dev'"),
            ("ruff", Some("dev"), "ruff ; extra == 'dev'"),
            ("a>=1,<=1", None, "a<=1,>=1"),
        ];
        for (input, extra, expected) in rows {
            assert_eq!(
                format_requirement(input, extra).ok().as_deref(),
                Some(expected),
                "{input}"
            );
        }
        for bad in [
            "foo; python_version < '3'",
            "foo @ https://x/y.whl",
            "foo===1",
            "foo==1+local",
        ] {
            assert!(format_requirement(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_continuation() {
        let mut out = String::new();
        field(&mut out, "License", "line one\r\nline two\n");
        field(&mut out, "Summary", "");
        assert_eq!(out, "License: line one\n         line two\nSummary: \n");
    }
}
