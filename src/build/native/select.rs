//! Which project files go into the wheel and under which name: hatchling's
//! `recurse_included_files` (explicit `only-include` / `packages` walks or the whole-project
//! walk, then `force-include`), its `include` / `exclude` / `artifacts` / `.gitignore`
//! matching, `only-packages`, reserved paths and the `sources` rewrite.

use std::collections::BTreeSet;
use std::path::Path;

use super::config::HatchProject;
use super::gitignore::GitIgnoreSpec;
use super::pyutil::readlines;
use super::tree::Kind;
use super::{NResult, Refusal};

/// Folders hatchling never descends into.
const EXCLUDED_DIRECTORIES: &[&str] = &[
    "__pycache__",
    ".venv",
    ".git",
    ".hg",
    ".hatch",
    ".tox",
    ".nox",
    ".ruff_cache",
    ".pytest_cache",
    ".mypy_cache",
    ".pixi",
];

/// Files hatchling never ships.
const EXCLUDED_FILES: &[&str] = &[".DS_Store", ".git"];

/// A project file selected for the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Included {
    /// The path relative to the project.
    pub rel: String,
    /// The path inside the wheel.
    pub dist: String,
}

struct Selector<'a> {
    project: &'a HatchProject,
    include: Option<GitIgnoreSpec>,
    exclude: GitIgnoreSpec,
    artifacts: Option<GitIgnoreSpec>,
    reserved: BTreeSet<String>,
    out: Vec<Included>,
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

fn spec<S: AsRef<str>>(lines: &[S], what: &str) -> NResult<GitIgnoreSpec> {
    GitIgnoreSpec::from_lines(lines)
        .map_err(|err| Refusal::skip(format!("the {what} patterns are invalid: {}", err.0)))
}

/// The `.gitignore` / `.hgignore` patterns hatchling adds to `exclude`.
fn vcs_patterns(project: &HatchProject) -> NResult<Vec<String>> {
    let tree = &project.tree;
    let mut patterns = Vec::new();
    for (file, boundary, hg) in [(".gitignore", ".git", false), (".hgignore", ".hg", true)] {
        if tree.kind(file)? == Kind::File {
            let lines = readlines(&tree.read_text(file)?);
            if hg {
                let mut glob_mode = false;
                for line in lines {
                    let exact = super::pyutil::py_strip(&line);
                    if exact == "syntax: glob" {
                        glob_mode = true;
                    } else if exact.starts_with("syntax: ") {
                        glob_mode = false;
                    } else if glob_mode {
                        patterns.push(line);
                    }
                }
            } else {
                patterns.extend(lines);
            }
            continue;
        }
        if tree.kind(boundary)? != Kind::Missing {
            continue;
        }
        // hatchling keeps looking in the parent folders; plonk never reads outside the
        // project, so a file there means the result could differ.
        let mut dir: Option<&Path> = tree.root.parent();
        while let Some(current) = dir {
            if current.join(file).is_file() {
                return Err(Refusal::skip(format!(
                    "`{}` outside the project would apply",
                    current.join(file).display()
                )));
            }
            if current.join(boundary).exists() {
                break;
            }
            dir = current.parent();
        }
    }
    // Patterns that exclude the project folder itself are ignored as a whole.
    if spec(&patterns, "VCS ignore")?.match_file(&project.tree.root_str) {
        return Ok(Vec::new());
    }
    Ok(patterns)
}

impl Selector<'_> {
    fn distribution_path(&self, rel: &str) -> String {
        for (source, replacement) in &self.project.build.sources {
            if source.is_empty() {
                return format!("{replacement}{rel}");
            }
            if let Some(rest) = rel.strip_prefix(source.as_str()) {
                return format!("{replacement}{rest}");
            }
        }
        rel.to_string()
    }

    fn is_excluded(&self, rel: &str) -> bool {
        self.project.build.exclude_all || self.exclude.match_file(rel)
    }

    fn include_path(&self, rel: &str, explicit: bool, is_package: bool) -> bool {
        if self.artifacts.as_ref().is_some_and(|a| a.match_file(rel)) {
            return true;
        }
        (is_package || !self.project.build.only_packages)
            && !self.is_excluded(rel)
            && (explicit || self.include.as_ref().is_none_or(|i| i.match_file(rel)))
    }

    fn directory_is_excluded(&self, name: &str, rel_dir: &str) -> bool {
        if EXCLUDED_DIRECTORIES.contains(&name) {
            return true;
        }
        let dir = join(rel_dir, name);
        self.reserved.contains(&dir)
            || (self.project.build.skip_excluded_dirs && self.is_excluded(&format!("{dir}/")))
    }

    fn push(&mut self, rel: String, dist: String) {
        self.out.push(Included { rel, dist });
    }

    /// `recurse_project_files`: the whole project, pruning excluded folders.
    fn walk_project(&mut self, rel_dir: &str) -> NResult<()> {
        let entries = self
            .project
            .tree
            .list(if rel_dir.is_empty() { "." } else { rel_dir })?;
        let is_package = entries.iter().any(|e| !e.is_dir && e.name == "__init__.py");
        for entry in entries.iter().filter(|e| !e.is_dir) {
            if EXCLUDED_FILES.contains(&entry.name.as_str()) {
                continue;
            }
            let rel = join(rel_dir, &entry.name);
            let dist = self.distribution_path(&rel);
            if self.reserved.contains(&dist) {
                continue;
            }
            if self.include_path(&rel, false, is_package) {
                self.push(rel, dist);
            }
        }
        for entry in entries.iter().filter(|e| e.is_dir) {
            if !self.directory_is_excluded(&entry.name, rel_dir) {
                self.walk_project(&join(rel_dir, &entry.name))?;
            }
        }
        Ok(())
    }

    /// The walk of `recurse_explicit_files` (`explicit`) or `recurse_forced_files` below
    /// `source`, naming files under `target`.
    fn walk_tree(&mut self, source: &str, target: &str, sub: &str, forced: bool) -> NResult<()> {
        let dir = join(source, sub);
        let entries = self.project.tree.list(&dir)?;
        let is_package = entries.iter().any(|e| !e.is_dir && e.name == "__init__.py");
        for entry in entries.iter().filter(|e| !e.is_dir) {
            if EXCLUDED_FILES.contains(&entry.name.as_str()) {
                continue;
            }
            let rel_name = join(&join(target, sub), &entry.name);
            let dist = self.distribution_path(&rel_name);
            if self.reserved.contains(&dist) {
                continue;
            }
            if forced || self.include_path(&rel_name, true, is_package) {
                self.push(join(&dir, &entry.name), dist);
            }
        }
        for entry in entries.iter().filter(|e| e.is_dir) {
            if !EXCLUDED_DIRECTORIES.contains(&entry.name.as_str()) {
                self.walk_tree(source, target, &join(sub, &entry.name), forced)?;
            }
        }
        Ok(())
    }
}

/// The files of the wheel in hatchling's order (project files, then forced inclusions).
pub(crate) fn select(project: &HatchProject) -> NResult<Vec<Included>> {
    let build = &project.build;
    let mut include_lines = build.include.clone();
    include_lines.extend(build.packages.iter().map(|p| format!("/{p}/")));
    let include = if include_lines.is_empty() {
        None
    } else {
        Some(spec(&include_lines, "include")?)
    };
    let mut exclude_lines = vec!["*.py[cdo]".to_string(), "/dist".to_string()];
    if !build.ignore_vcs {
        exclude_lines.extend(vcs_patterns(project)?);
    }
    exclude_lines.extend(build.exclude.iter().cloned());
    let exclude = spec(&exclude_lines, "exclude")?;
    let artifacts = if build.artifacts.is_empty() {
        None
    } else {
        Some(spec(&build.artifacts, "artifacts")?)
    };
    let mut selector = Selector {
        project,
        include,
        exclude,
        artifacts,
        reserved: BTreeSet::new(),
        out: Vec::new(),
    };
    for (source, _) in &build.force_include {
        let reserved = selector.distribution_path(source);
        selector.reserved.insert(reserved);
    }

    if build.only_include.is_empty() {
        selector.walk_project("")?;
    } else {
        for target in &build.only_include {
            match project.tree.kind(target)? {
                Kind::File => {
                    let dist = selector.distribution_path(target);
                    if !selector.reserved.contains(&dist) {
                        selector.push(target.clone(), dist);
                    }
                }
                Kind::Dir => selector.walk_tree(target, target, "", false)?,
                Kind::Missing => {}
            }
        }
    }
    for (source, target) in &build.force_include {
        match project.tree.kind(source)? {
            Kind::File => {
                let dist = selector.distribution_path(target);
                selector.push(source.clone(), dist);
            }
            Kind::Dir => selector.walk_tree(source, target, "", true)?,
            Kind::Missing => {
                return Err(Refusal::skip(format!(
                    "the forced inclusion `{source}` does not exist"
                )));
            }
        }
    }

    let files = selector.out;
    let mut seen = BTreeSet::new();
    for file in &files {
        let unsafe_path = file.dist.is_empty()
            || file.dist.starts_with('/')
            || file
                .dist
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..");
        if unsafe_path {
            return Err(Refusal::skip(format!(
                "`{}` would be shipped as the unsafe path `{}`",
                file.rel, file.dist
            )));
        }
        if !seen.insert(file.dist.as_str()) {
            return Err(Refusal::skip(format!(
                "two files would be shipped as `{}`",
                file.dist
            )));
        }
    }
    Ok(files)
}
