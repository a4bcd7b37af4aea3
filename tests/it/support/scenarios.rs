//! The package set of the backbone acceptance tests, written into one folder that the fake
//! index serves: wheels with scripts and `.data`, a shared namespace package, dependency chains,
//! markers, an extra, a yanked version, a Requires-Python exclusion, an unsatisfiable pair,
//! fake Tutor releases with hatchling-sdist plugins, a setuptools sdist, and the real build
//! backend wheels from `fixtures/wheels` so PEP 517 builds work with no internet.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use super::packages::{SdistBuilder, WheelBuilder};

/// The committed backend wheels (hatchling, setuptools and their dependencies).
pub fn fixture_wheels_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wheels")
}

/// Copies every `fixtures/wheels/*.whl` into `dir` and returns their filenames.
pub fn copy_backend_wheels(dir: &Path) -> Vec<String> {
    fs::create_dir_all(dir).unwrap();
    let mut names = Vec::new();
    for entry in fs::read_dir(fixture_wheels_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "whl") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            fs::copy(&path, dir.join(&name)).unwrap();
            names.push(name);
        }
    }
    names.sort();
    names
}

/// Filenames of the backbone set that tests refer to.
#[derive(Clone, Debug)]
pub struct Backbone {
    /// `alpha-1.0-py3-none-any.whl`.
    pub alpha: String,
    /// `yanky-2.0-py3-none-any.whl`: pass to the fake index's `set_yanked`.
    pub yanked: String,
    /// `futurepy-2.0-py3-none-any.whl` (Requires-Python >=3.99).
    pub futurepy_excluded: String,
    /// `tutor-21.0.0-…whl` and `tutor-22.0.0-…whl`.
    pub tutor21: String,
    pub tutor22: String,
    /// `tutor_indigo-22.0.0.tar.gz` (hatchling, dynamic version from `__about__.py`).
    pub indigo_sdist: String,
    /// `tutor_mfe-22.0.0.tar.gz` (hatchling, static version).
    pub mfe_sdist: String,
    /// `setupy-1.0.tar.gz` (setuptools; dependency only in setup.py).
    pub setupy_sdist: String,
    /// The copied `fixtures/wheels` filenames.
    pub backend_wheels: Vec<String>,
    /// Every file written, sorted.
    pub files: Vec<String>,
}

/// A tiny package `module` with an `__init__.py` recording the distribution and version.
fn module_init(dist: &str, version: &str) -> String {
    format!("DIST = {dist:?}\n__version__ = {version:?}\n")
}

/// A wheel holding one package named like the distribution (`chain-b` -> `chain_b/`).
fn simple(name: &str, version: &str) -> WheelBuilder {
    let module = name.replace('-', "_");
    WheelBuilder::new(name, version)
        .summary(&format!("{name} fixture"))
        .file(&format!("{module}/__init__.py"), module_init(name, version))
}

/// A fake Tutor release: `tutor/__about__.py` with `__version__` and a `tutor` console script
/// that answers `--version` the way Tutor does.
pub fn tutor_wheel(version: &str) -> WheelBuilder {
    WheelBuilder::new("tutor", version)
        .summary("The Docker-based Open edX distribution designed for peace of mind (fake)")
        .requires_python(">=3.9")
        .file("tutor/__init__.py", "")
        .file("tutor/__about__.py", format!("__version__ = {version:?}\n"))
        .file("tutor/commands/__init__.py", "")
        .file(
            "tutor/commands/cli.py",
            "import sys\n\nfrom tutor.__about__ import __version__\n\n\n\
             def main():\n    if \"--version\" in sys.argv[1:]:\n        \
             print(f\"tutor, version {__version__}\")\n    return 0\n",
        )
        .console_script("tutor", "tutor.commands.cli:main")
}

/// A hatchling-sdist Tutor plugin shaped like the official ones: package `tutor<short>`,
/// `plugin.py`, a template file, entry point in `tutor.plugin.v1`.
pub fn tutor_plugin_sdist(short: &str, version: &str, tutor_spec: &str) -> SdistBuilder {
    let package = format!("tutor{}", short.replace('-', ""));
    SdistBuilder::hatchling(&format!("tutor-{short}"), version)
        .summary(&format!("{short} plugin for Tutor (fake)"))
        .requires_python(">=3.9")
        .requires(tutor_spec)
        .package(&package)
        .file(&format!("{package}/__init__.py"), "")
        .file(
            &format!("{package}/__about__.py"),
            format!("__version__ = {version:?}\n"),
        )
        .file(
            &format!("{package}/plugin.py"),
            format!("# Tutor plugin {short}\nNAME = {short:?}\n"),
        )
        .file(
            &format!("{package}/templates/{short}/apps/settings.yml"),
            format!("{short}: true\n"),
        )
        .entry_point("tutor.plugin.v1", short, &format!("{package}.plugin"))
}

/// Writes the whole backbone set into `dir` (created if missing).
pub fn backbone_packages(dir: &Path) -> Backbone {
    fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let mut wheel = |builder: WheelBuilder| -> String {
        builder.build(dir);
        let name = builder.filename();
        files.push(name.clone());
        name
    };

    // Scripts and every `.data` kind; a dependency chain below it.
    let alpha = wheel(
        simple("alpha", "1.0")
            .file(
                "alpha/cli.py",
                "def main():\n    print(\"alpha-cli ok\")\n    return 0\n",
            )
            .file(
                "alpha/gui.py",
                "def main():\n    print(\"alpha-gui ok\")\n    return 0\n",
            )
            .console_script("alpha-cli", "alpha.cli:main")
            .gui_script("alpha-gui", "alpha.gui:main")
            .data(
                "scripts",
                "alpha-tool",
                "#!python\nprint(\"alpha-tool ok\")\n",
            )
            .data("data", "share/alpha/readme.txt", "alpha data file\n")
            .data("headers", "alpha.h", "#define ALPHA 1\n")
            .requires("chain-b"),
    );
    wheel(simple("chain-b", "1.0").requires("chain-c>=1"));
    wheel(simple("chain-c", "1.0"));
    wheel(simple("chain-c", "1.1"));

    // PEP 420 namespace package shared by two distributions (no `__init__.py`).
    wheel(
        WheelBuilder::new("nsa", "1.0")
            .summary("nsa fixture")
            .file("nsshared/a.py", "NAME = \"a\"\n"),
    );
    wheel(
        WheelBuilder::new("nsb", "1.0")
            .summary("nsb fixture")
            .file("nsshared/b.py", "NAME = \"b\"\n"),
    );

    // Markers: `onlyold` does not exist, so a resolver that ignores markers fails.
    wheel(
        simple("markered", "1.0")
            .requires("onlyold; python_version < \"3.0\"")
            .requires("linuxdep; sys_platform == \"linux\""),
    );
    wheel(simple("linuxdep", "1.0"));

    // An extra.
    wheel(
        simple("withextra", "1.0")
            .extra("fancy")
            .requires("fancydep; extra == \"fancy\""),
    );
    wheel(simple("fancydep", "1.0"));

    // A yanked newest version (the index marks it).
    wheel(simple("yanky", "1.0"));
    let yanked = wheel(simple("yanky", "2.0"));

    // A newest version excluded by Requires-Python.
    wheel(simple("futurepy", "1.0"));
    let futurepy_excluded = wheel(simple("futurepy", "2.0").requires_python(">=3.99"));

    // An unsatisfiable pair.
    wheel(simple("conflict-a", "1.0").requires("shared<1"));
    wheel(simple("conflict-b", "1.0").requires("shared>=2"));
    wheel(simple("shared", "0.5"));
    wheel(simple("shared", "2.0"));

    // Fake Tutor releases and plugins.
    let tutor21 = wheel(tutor_wheel("21.0.0"));
    let tutor22 = wheel(tutor_wheel("22.0.0"));
    wheel(
        WheelBuilder::new("tutor-legacy", "21.0.0")
            .summary("legacy plugin for Tutor (fake)")
            .requires("tutor<22")
            .file("tutorlegacy/__init__.py", "")
            .file("tutorlegacy/plugin.py", "NAME = \"legacy\"\n")
            .entry_point("tutor.plugin.v1", "legacy", "tutorlegacy.plugin"),
    );

    let mut sdist = |builder: SdistBuilder| -> String {
        builder.build(dir);
        let name = builder.filename();
        files.push(name.clone());
        name
    };
    let indigo_sdist = sdist(
        tutor_plugin_sdist("indigo", "22.0.0", "tutor>=22.0.0,<23.0.0")
            .dynamic_version("tutorindigo/__about__.py"),
    );
    let mfe_sdist = sdist(tutor_plugin_sdist("mfe", "22.0.0", "tutor>=22.0.0,<23.0.0"));
    let setupy_sdist = sdist(
        SdistBuilder::setuptools("setupy", "1.0")
            .py_module("setupy")
            .requires("chain-c")
            .console_script("setupy", "setupy:main")
            .file(
                "setupy.py",
                "def main():\n    print(\"setupy ok\")\n    return 0\n",
            ),
    );

    let backend_wheels = copy_backend_wheels(dir);
    files.extend(backend_wheels.iter().cloned());
    files.sort();
    Backbone {
        alpha,
        yanked,
        futurepy_excluded,
        tutor21,
        tutor22,
        indigo_sdist,
        mfe_sdist,
        setupy_sdist,
        backend_wheels,
        files,
    }
}
