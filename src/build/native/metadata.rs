//! The `.dist-info` texts of a hatchling wheel: `METADATA` exactly as
//! `construct_metadata_file_2_5` writes it, `entry_points.txt` as
//! `construct_entry_points_file` does, and `WHEEL` (with plonk as the generator).

use super::config::Core;
use super::pyutil::{py_repr, py_strip, splitlines};

/// The `METADATA` file (core metadata 2.5).
pub(crate) fn metadata_file(core: &Core) -> String {
    let mut out = String::from("Metadata-Version: 2.5\n");
    out.push_str(&format!("Name: {}\n", core.raw_name));
    out.push_str(&format!("Version: {}\n", core.original_version));
    if !core.description.is_empty() {
        out.push_str(&format!("Summary: {}\n", core.description));
    }
    for (label, url) in &core.urls {
        out.push_str(&format!("Project-URL: {label}, {url}\n"));
    }
    let (names, emails) = &core.authors;
    if !names.is_empty() {
        out.push_str(&format!("Author: {}\n", names.join(", ")));
    }
    if !emails.is_empty() {
        out.push_str(&format!("Author-email: {}\n", emails.join(", ")));
    }
    let (names, emails) = &core.maintainers;
    if !names.is_empty() {
        out.push_str(&format!("Maintainer: {}\n", names.join(", ")));
    }
    if !emails.is_empty() {
        out.push_str(&format!("Maintainer-email: {}\n", emails.join(", ")));
    }
    if !core.license.is_empty() {
        // Continuation lines are indented to line up after `License:`.
        out.push_str("License: ");
        for (i, line) in splitlines(&core.license).into_iter().enumerate() {
            if i > 0 {
                out.push_str("        ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    if !core.license_expression.is_empty() {
        out.push_str(&format!(
            "License-Expression: {}\n",
            core.license_expression
        ));
    }
    for file in &core.license_files {
        out.push_str(&format!("License-File: {file}\n"));
    }
    if !core.keywords.is_empty() {
        out.push_str(&format!("Keywords: {}\n", core.keywords.join(",")));
    }
    for classifier in &core.classifiers {
        out.push_str(&format!("Classifier: {classifier}\n"));
    }
    if !core.requires_python.is_empty() {
        out.push_str(&format!("Requires-Python: {}\n", core.requires_python));
    }
    for dependency in &core.dependencies {
        out.push_str(&format!("Requires-Dist: {dependency}\n"));
    }
    for (option, dependencies) in &core.optional_dependencies {
        let extra = py_repr(option);
        out.push_str(&format!("Provides-Extra: {option}\n"));
        for dependency in dependencies {
            if let Some((name, marker)) = dependency.split_once(';') {
                out.push_str(&format!(
                    "Requires-Dist: {name}; ({}) and extra == {extra}\n",
                    py_strip(marker)
                ));
            } else if dependency.contains("@ ") {
                out.push_str(&format!("Requires-Dist: {dependency} ; extra == {extra}\n"));
            } else {
                out.push_str(&format!("Requires-Dist: {dependency}; extra == {extra}\n"));
            }
        }
    }
    if !core.readme.is_empty() {
        out.push_str(&format!(
            "Description-Content-Type: {}\n",
            core.readme_content_type
        ));
        out.push('\n');
        out.push_str(&core.readme);
    }
    out
}

/// `entry_points.txt`, or `None` when the project declares no entry point.
pub(crate) fn entry_points_file(core: &Core) -> Option<String> {
    let mut out = String::new();
    let mut group = |name: &str, points: &std::collections::BTreeMap<String, String>| {
        if points.is_empty() {
            return;
        }
        out.push_str(&format!("\n[{name}]\n"));
        for (point, object_ref) in points {
            out.push_str(&format!("{point} = {object_ref}\n"));
        }
    };
    group("console_scripts", &core.scripts);
    group("gui_scripts", &core.gui_scripts);
    for (name, points) in &core.entry_points {
        group(name, points);
    }
    let text = out.trim_start().to_string();
    (!text.is_empty()).then_some(text)
}

/// The `WHEEL` file. hatchling writes `Generator: hatchling <version>`; plonk names itself.
pub(crate) fn wheel_file(tag: &str) -> String {
    let mut tags: Vec<String> = Vec::new();
    if let Some((pythons, rest)) = tag.split_once('-') {
        for python in pythons.split('.') {
            tags.push(format!("{python}-{rest}"));
        }
    }
    tags.sort();
    let mut out = format!(
        "Wheel-Version: 1.0\nGenerator: plonk {} (hatchling-compatible)\nRoot-Is-Purelib: true\n",
        env!("CARGO_PKG_VERSION")
    );
    for tag in tags {
        out.push_str(&format!("Tag: {tag}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn mfe() -> Core {
        let mut entry_points = BTreeMap::new();
        entry_points.insert(
            "tutor.plugin.v1".to_string(),
            BTreeMap::from([("mfe".to_string(), "tutormfe.plugin".to_string())]),
        );
        Core {
            raw_name: "tutor-mfe".into(),
            name: "tutor-mfe".into(),
            version: "22.1.0".into(),
            original_version: "22.1.0".into(),
            description: "mfe plugin for Tutor".into(),
            readme: "Hello\n".into(),
            readme_content_type: "text/x-rst".into(),
            requires_python: ">=3.10".into(),
            tag: "py3-none-any".into(),
            license: "AGPL-3.0-only".into(),
            license_files: vec!["LICENSE.txt".into()],
            authors: (vec!["Edly".into()], vec!["hello@edly.io".into()]),
            urls: vec![("Homepage".into(), "https://docs.tutor.edly.io/".into())],
            classifiers: vec!["Programming Language :: Python".into()],
            dependencies: vec!["tutor<23.0.0,>=22.0.0".into()],
            optional_dependencies: vec![(
                "dev".into(),
                vec![
                    "ruff".into(),
                    "x; python_version < '3.11'".into(),
                    "y @ https://e/y.whl".into(),
                ],
            )],
            entry_points,
            ..Core::default()
        }
    }

    #[test]
    fn metadata_layout() {
        let text = metadata_file(&mfe());
        assert_eq!(
            text,
            "Metadata-Version: 2.5\nName: tutor-mfe\nVersion: 22.1.0\nSummary: mfe plugin for Tutor\n\
Project-URL: Homepage, https://docs.tutor.edly.io/\nAuthor: Edly\nAuthor-email: hello@edly.io\n\
License: AGPL-3.0-only\nLicense-File: LICENSE.txt\nClassifier: Programming Language :: Python\n\
Requires-Python: >=3.10\nRequires-Dist: tutor<23.0.0,>=22.0.0\nProvides-Extra: dev\n\
Requires-Dist: ruff; extra == 'dev'\nRequires-Dist: x; (python_version < '3.11') and extra == 'dev'\n\
Requires-Dist: y @ https://e/y.whl ; extra == 'dev'\nDescription-Content-Type: text/x-rst\n\nHello\n"
        );
        let mut multi = mfe();
        multi.license = "Line one\n\nLine three".into();
        assert!(
            metadata_file(&multi).contains("License: Line one\n        \n        Line three\n")
        );
    }

    #[test]
    fn entry_points_and_wheel() {
        let mut core = mfe();
        assert_eq!(
            entry_points_file(&core).unwrap(),
            "[tutor.plugin.v1]\nmfe = tutormfe.plugin\n"
        );
        core.scripts
            .insert("tutor".into(), "tutor.commands.cli:main".into());
        assert_eq!(
            entry_points_file(&core).unwrap(),
            "[console_scripts]\ntutor = tutor.commands.cli:main\n\n[tutor.plugin.v1]\nmfe = tutormfe.plugin\n"
        );
        assert!(entry_points_file(&Core::default()).is_none());
        let wheel = wheel_file("py2.py3-none-any");
        assert!(wheel.ends_with("Root-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n"));
    }
}
