//! Native wheel builds of pure-Python hatchling projects, without starting Python.
//!
//! The official Tutor plugins and Tutor itself ship hatchling sdists whose build configuration
//! is static; plonk reproduces what `hatchling.build.build_wheel` (hatchling 1.33, packaging
//! 26.4, pathspec 1.1) puts in the wheel: the same files under the same names, the same
//! `METADATA`, `entry_points.txt` and licenses. Only `WHEEL`'s `Generator` line differs
//! (`plonk <version> (hatchling-compatible)`), and timestamps.
//!
//! Anything plonk does not reproduce exactly (build hooks, metadata hooks with work left,
//! version sources other than a file, plugins, unknown classifiers, links leaving the project,
//! ...) makes the project *not eligible*: [`try_build_wheel`] returns `Ok(None)` and the
//! caller falls back to PEP 517, which reports hatchling's own verdict. Projects using other
//! backends (including `uv_build`) are not eligible either.
//!
//! - [`tree`]: confined reads of the project folder.
//! - [`config`]: `pyproject.toml` / `PKG-INFO` → core metadata and build options.
//! - [`select`]: file selection; [`gitignore`]: pathspec's pattern matching.
//! - [`requirement`]: packaging-compatible dependency strings; [`lists`]: classifiers, SPDX.
//! - [`metadata`] and [`wheel`]: the `.dist-info` texts and the archive.

mod config;
mod gitignore;
mod lists;
mod metadata;
mod pkg_info;
mod pyutil;
mod requirement;
mod select;
mod tree;
mod uv;
mod wheel;

use std::path::{Path, PathBuf};

use super::BuildError;

/// Whether plonk can build a project natively, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    /// plonk builds it itself; `wheel` is the file name it will produce.
    Eligible {
        /// The build backend plonk stands in for (`hatchling.build` or `uv_build`).
        backend: &'static str,
        /// The wheel file name.
        wheel: String,
    },
    /// It needs the PEP 517 path.
    NotEligible {
        /// One sentence for `-v` output, e.g. "the build backend is `setuptools.build_meta`".
        reason: String,
    },
}

impl Eligibility {
    /// Whether the project is eligible.
    pub fn is_eligible(&self) -> bool {
        matches!(self, Self::Eligible { .. })
    }
}

/// Why an internal step stopped: the project is not eligible, or building really failed.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Not something plonk reproduces exactly; the reason is for `-v` output.
    NotEligible(String),
    /// An I/O failure on an eligible project.
    Failed(BuildError),
}

impl Refusal {
    pub(crate) fn skip(reason: impl Into<String>) -> Self {
        Self::NotEligible(reason.into())
    }
}

pub(crate) type NResult<T> = Result<T, Refusal>;

/// Reads the project and computes the wheel's contents without writing anything.
fn plan(project_dir: &Path) -> NResult<wheel::WheelPlan> {
    let tree = tree::Tree::open(project_dir)?;
    let (text, doc) = config::read_pyproject(&tree)?;
    match config::build_backend(&doc) {
        config::HATCHLING_BACKEND => {
            let project = config::load(tree, &text, &doc)?;
            let files = select::select(&project)?;
            wheel::hatchling_plan(project, files)
        }
        uv::UV_BACKEND => uv::plan(tree, &text, &doc),
        "" => Err(Refusal::skip("the project does not name a build backend")),
        other => Err(Refusal::skip(format!(
            "the build backend is `{other}`, not `{}` or `{}`",
            config::HATCHLING_BACKEND,
            uv::UV_BACKEND
        ))),
    }
}

/// Whether a project with this build system may be built natively: its backend is one plonk
/// reproduces. Only a hint (the whole tree decides, see [`eligible`]), for fetching a PEP 517
/// build's requirements ahead of time.
pub fn may_build(system: &crate::build::BuildSystem) -> bool {
    matches!(
        system.build_backend.as_deref().map(str::trim),
        Some(config::HATCHLING_BACKEND | uv::UV_BACKEND)
    )
}

/// Whether the project in `project_dir` (an unpacked sdist or a checkout) can be built
/// natively, with the reason when not. Reads the project; writes nothing.
pub fn eligible(project_dir: &Path) -> Result<Eligibility, BuildError> {
    match plan(project_dir) {
        Ok(plan) => Ok(Eligibility::Eligible {
            backend: plan.backend,
            wheel: plan.name,
        }),
        Err(Refusal::NotEligible(reason)) => Ok(Eligibility::NotEligible { reason }),
        Err(Refusal::Failed(err)) => Err(err),
    }
}

/// Builds the wheel of the project in `project_dir` into `out_dir` natively and returns its
/// path; `Ok(None)` when the project is not eligible (see [`eligible`] for the reason), so
/// the caller uses PEP 517 instead. The wheel has the same files, `METADATA` and entry points
/// as the backend's.
pub fn try_build_wheel(project_dir: &Path, out_dir: &Path) -> Result<Option<PathBuf>, BuildError> {
    match plan(project_dir).and_then(|plan| wheel::write(&plan, out_dir)) {
        Ok(wheel) => Ok(Some(wheel)),
        Err(Refusal::NotEligible(_)) => Ok(None),
        Err(Refusal::Failed(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    //! Whole builds of small projects. The expected file lists and texts are what hatchling
    //! 1.33 produced for the same projects.

    use std::collections::BTreeMap;
    use std::io::Read;

    use super::*;
    use crate::dist::{Record, record_hash};

    const BACKEND: &str =
        "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n";

    #[test]
    fn may_build_names_the_backends_plonk_reproduces() {
        let system = |backend: Option<&str>| crate::build::BuildSystem {
            requires: Vec::new(),
            build_backend: backend.map(str::to_string),
            backend_path: Vec::new(),
        };
        assert!(may_build(&system(Some("hatchling.build"))));
        assert!(may_build(&system(Some(" uv_build "))));
        assert!(!may_build(&system(Some("setuptools.build_meta"))));
        assert!(!may_build(&system(Some("hatchling.ouroboros"))));
        assert!(!may_build(&system(Some(
            "setuptools.build_meta:__legacy__"
        ))));
        assert!(!may_build(&system(None)));
    }

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// Builds natively; returns the wheel name and its entries (RECORD checked).
    fn build(dir: &Path) -> (String, BTreeMap<String, Vec<u8>>) {
        let out = tempfile::tempdir().unwrap();
        let wheel = try_build_wheel(dir, out.path())
            .unwrap()
            .unwrap_or_else(|| panic!("not eligible: {:?}", eligible(dir)));
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
        let mut entries = BTreeMap::new();
        let mut order = Vec::new();
        for i in 0..zip.len() {
            let mut file = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            order.push(file.name().unwrap().to_string());
            entries.insert(file.name().unwrap().to_string(), data);
        }
        let record_name = order.last().unwrap().clone();
        assert!(record_name.ends_with(".dist-info/RECORD"));
        let record = Record::parse(&entries[&record_name]).unwrap();
        let listed: Vec<&str> = record.entries.iter().map(|e| e.path.as_str()).collect();
        // Directory entries (uv_build writes them) are not files and not in RECORD.
        let files: Vec<&str> = order
            .iter()
            .map(String::as_str)
            .filter(|n| !n.ends_with('/'))
            .collect();
        assert_eq!(listed, files, "RECORD lists the archive's files in order");
        for entry in &record.entries[..record.entries.len() - 1] {
            let data = &entries[&entry.path];
            assert_eq!(entry.hash.as_deref(), Some(record_hash(data).as_str()));
            assert_eq!(entry.size, Some(data.len() as u64));
        }
        let name = wheel.file_name().unwrap().to_str().unwrap().to_string();
        (name, entries)
    }

    fn payload(entries: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
        entries
            .keys()
            .filter(|k| !k.contains(".dist-info/"))
            .map(String::as_str)
            .collect()
    }

    fn text<'a>(entries: &'a BTreeMap<String, Vec<u8>>, suffix: &str) -> &'a str {
        let (_, data) = entries.iter().find(|(k, _)| k.ends_with(suffix)).unwrap();
        std::str::from_utf8(data).unwrap()
    }

    fn reason(dir: &Path) -> String {
        match eligible(dir).unwrap() {
            Eligibility::NotEligible { reason } => reason,
            other => panic!("expected not eligible, got {other:?}"),
        }
    }

    #[test]
    fn src_layout_rich_metadata() {
        let pyproject = format!(
            "{BACKEND}{}",
            r#"
[project]
name = "My.Pkg"
dynamic = ["version"]
description = """A multi
line summary"""
readme = "README.md"
requires-python = ">=3.8, <4"
license = "mit OR apache-2.0"
keywords = ["zeta", "alpha", "zeta"]
authors = [{name = "J. Doe", email = "j@example.org"}, {name = "Solo"}, {email = "only@example.org"}]
maintainers = [{name = "Mae"}]
classifiers = ["Programming Language :: Python :: 3.10", "Development Status :: 4 - Beta", "Programming Language :: Python :: 3.9", "Private :: X"]
dependencies = ["Requests[Security,socks] >= 2.0, <3", "click_repl", "importlib-metadata; python_version<'3.10'", "zed"]
[project.optional-dependencies]
Dev_Tools = ["pytest>=7", "my.pkg[docs]", "black; (os_name == 'nt' or os_name == 'posix') and python_version >= '3.9'"]
docs = ["sphinx", "furo @ https://example.com/furo.whl"]
[project.urls]
Zebra = "https://z.example"
Apple = "https://a.example"
"Bug Tracker" = "https://b.example"
[project.scripts]
zcli = "my_pkg.cli:main"
acli = "my_pkg.cli:alt"
[project.gui-scripts]
gui = "my_pkg.gui:run"
[project.entry-points."b.group"]
x = "my_pkg:x"
[project.entry-points."a.group"]
z = "my_pkg:z"
y = "my_pkg:y"
[tool.hatch.version]
path = "src/my_pkg/__init__.py"
[tool.hatch.metadata]
allow-direct-references = true
"#
        );
        let dir = project(&[
            ("pyproject.toml", &pyproject),
            ("README.md", "# Title\r\nWindows line\r\nold mac\rend\n"),
            ("LICENSE", "MIT\n"),
            ("NOTICE.txt", "notice\n"),
            ("AUTHORS", "me\n"),
            (".hidden_LICENSE", "x"),
            ("src/my_pkg/__init__.py", "__version__ = 'v1.2.0-RC1'\n"),
            ("src/my_pkg/cli.py", "#!/usr/bin/env python\n"),
            ("src/my_pkg/data/x.json", "{}"),
            ("src/my_pkg/__pycache__/c.pyc", "x"),
            ("src/my_pkg/mod.pyc", "x"),
            ("src/my_pkg/.DS_Store", "x"),
            ("tests/test_a.py", ""),
        ]);
        let (name, entries) = build(dir.path());
        assert_eq!(name, "my_pkg-1.2.0rc1-py3-none-any.whl");
        assert_eq!(
            payload(&entries),
            vec!["my_pkg/__init__.py", "my_pkg/cli.py", "my_pkg/data/x.json"]
        );
        assert_eq!(
            text(&entries, "/METADATA"),
            "Metadata-Version: 2.5\nName: My.Pkg\nVersion: 1.2.0-RC1\nSummary: A multi line summary\n\
Project-URL: Zebra, https://z.example\nProject-URL: Apple, https://a.example\n\
Project-URL: Bug Tracker, https://b.example\nAuthor: Solo\n\
Author-email: \"J. Doe\" <j@example.org>, only@example.org\nMaintainer: Mae\n\
License-Expression: MIT OR Apache-2.0\nLicense-File: AUTHORS\nLicense-File: LICENSE\n\
License-File: NOTICE.txt\nKeywords: alpha,zeta\nClassifier: Private :: X\n\
Classifier: Development Status :: 4 - Beta\nClassifier: Programming Language :: Python :: 3.9\n\
Classifier: Programming Language :: Python :: 3.10\nRequires-Python: <4,>=3.8\n\
Requires-Dist: click-repl\nRequires-Dist: importlib-metadata; python_version < '3.10'\n\
Requires-Dist: requests[security,socks]<3,>=2.0\nRequires-Dist: zed\nProvides-Extra: dev-tools\n\
Requires-Dist: black; ((os_name == 'nt' or os_name == 'posix') and python_version >= '3.9') and extra == 'dev-tools'\n\
Requires-Dist: furo @ https://example.com/furo.whl ; extra == 'dev-tools'\n\
Requires-Dist: pytest>=7; extra == 'dev-tools'\nRequires-Dist: sphinx; extra == 'dev-tools'\n\
Provides-Extra: docs\nRequires-Dist: furo @ https://example.com/furo.whl ; extra == 'docs'\n\
Requires-Dist: sphinx; extra == 'docs'\nDescription-Content-Type: text/markdown\n\n\
# Title\nWindows line\nold mac\nend\n"
        );
        assert_eq!(
            text(&entries, "/entry_points.txt"),
            "[console_scripts]\nacli = my_pkg.cli:alt\nzcli = my_pkg.cli:main\n\n[gui_scripts]\n\
gui = my_pkg.gui:run\n\n[a.group]\ny = my_pkg:y\nz = my_pkg:z\n\n[b.group]\nx = my_pkg:x\n"
        );
        assert!(entries.contains_key("my_pkg-1.2.0rc1.dist-info/licenses/NOTICE.txt"));
        assert!(text(&entries, "/WHEEL").contains("Tag: py3-none-any\n"));
    }

    #[test]
    fn layouts_and_selection_options() {
        // (files, expected wheel name, expected payload files)
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            // Flat single module, no requires-python: py2.py3.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"solo\"\nversion = \"0.1\"\n",
                    ),
                    ("solo.py", "x=1\n"),
                    ("other.py", ""),
                ],
                "solo-0.1-py2.py3-none-any.whl",
                vec!["solo.py"],
            ),
            // packages in src/ win over a user `sources` rewrite of the same folder.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"c\"\nversion = \"1.0\"\n\
[tool.hatch.build.targets.wheel]\npackages = [\"src/foo\", \"bar\"]\n\
[tool.hatch.build.targets.wheel.sources]\n\"src\" = \"lib\"\n",
                    ),
                    ("src/foo/__init__.py", ""),
                    ("src/foo/sub/m.py", ""),
                    ("bar/__init__.py", ""),
                    ("bar/b.txt", ""),
                ],
                "c-1.0-py2.py3-none-any.whl",
                vec![
                    "bar/__init__.py",
                    "bar/b.txt",
                    "foo/__init__.py",
                    "foo/sub/m.py",
                ],
            ),
            // only-include, exclude, artifacts and .gitignore together.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"d\"\nversion = \"1.0\"\n[tool.hatch.build]\n\
exclude = [\"*.log\", \"pkg/secret/\"]\nartifacts = [\"*.so\"]\n\
[tool.hatch.build.targets.wheel]\nonly-include = [\"pkg\", \"data/file.txt\", \"missing\"]\n",
                    ),
                    (".gitignore", "*.so\nbuild/\n!keep.so\nTODO\n# c\n\n*.tmp\n"),
                    ("pkg/__init__.py", ""),
                    ("pkg/a.log", ""),
                    ("pkg/ext.so", ""),
                    ("pkg/keep.so", ""),
                    ("pkg/secret/s.py", ""),
                    ("pkg/x.tmp", ""),
                    ("pkg/TODO", ""),
                    ("pkg/build/b.py", ""),
                    ("data/file.txt", "d"),
                    ("data/other.txt", ""),
                ],
                "d-1.0-py2.py3-none-any.whl",
                vec![
                    "data/file.txt",
                    "pkg/__init__.py",
                    "pkg/ext.so",
                    "pkg/keep.so",
                ],
            ),
            // force-include of a file, a folder, and a renamed package file.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"e\"\nversion = \"1.0\"\n\
[tool.hatch.build.targets.wheel]\npackages = [\"e\"]\n\
[tool.hatch.build.targets.wheel.force-include]\n\"extra/config.json\" = \"e/config.json\"\n\
\"assets\" = \"e/assets\"\n\"e/dup.txt\" = \"e/renamed.txt\"\n",
                    ),
                    ("e/__init__.py", ""),
                    ("e/dup.txt", "dup"),
                    ("extra/config.json", "{}"),
                    ("assets/a/b.css", "css"),
                    ("assets/x.pyc", "x"),
                ],
                "e-1.0-py2.py3-none-any.whl",
                vec![
                    "e/__init__.py",
                    "e/assets/a/b.css",
                    "e/assets/x.pyc",
                    "e/config.json",
                    "e/renamed.txt",
                ],
            ),
            // A namespace folder holding the package.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"nsname\"\nversion = \"1.0\"\n",
                    ),
                    ("ns/nsname/__init__.py", ""),
                    ("ns/nsname/m.py", ""),
                    ("ns/other.py", ""),
                ],
                "nsname-1.0-py2.py3-none-any.whl",
                vec!["ns/nsname/__init__.py", "ns/nsname/m.py", "ns/other.py"],
            ),
            // include patterns walk the whole project; only-packages drops data files.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"h\"\nversion = \"2.0.0.post1\"\n\
[tool.hatch.build.targets.wheel]\ninclude = [\"/pkg\", \"*.md\", \"!/pkg/skip.md\"]\n\
only-packages = true\n",
                    ),
                    ("pkg/__init__.py", ""),
                    ("pkg/a.md", ""),
                    ("pkg/skip.md", ""),
                    ("pkg/data/d.md", ""),
                    ("top.md", ""),
                    ("dist/x.md", ""),
                ],
                "h-2.0.0.post1-py2.py3-none-any.whl",
                vec!["pkg/__init__.py", "pkg/a.md"],
            ),
            // skip-excluded-dirs prunes excluded folders; strict-naming off keeps the name.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"Jay_Pkg\"\nversion = \"1\"\n\
[tool.hatch.build.targets.wheel]\ninclude = [\"pkg\"]\nexclude = [\"pkg/big/\"]\n\
skip-excluded-dirs = true\nstrict-naming = false\n",
                    ),
                    ("pkg/__init__.py", ""),
                    ("pkg/big/x.py", ""),
                    ("pkg/ok/y.py", ""),
                ],
                "Jay_Pkg-1-py2.py3-none-any.whl",
                vec!["pkg/__init__.py", "pkg/ok/y.py"],
            ),
            // sources as a list.
            (
                vec![
                    (
                        "pyproject.toml",
                        "[project]\nname = \"s\"\nversion = \"1\"\n[tool.hatch.build]\n\
sources = [\"lib\"]\ninclude = [\"lib/s\"]\n",
                    ),
                    ("lib/s/__init__.py", ""),
                    ("lib/other.py", ""),
                ],
                "s-1-py2.py3-none-any.whl",
                vec!["s/__init__.py"],
            ),
        ];
        for (files, wheel, expected) in cases {
            let pyproject = format!("{BACKEND}{}", files[0].1);
            let mut files = files.clone();
            files[0].1 = &pyproject;
            let dir = project(&files);
            let (name, entries) = build(dir.path());
            assert_eq!(name, wheel);
            assert_eq!(payload(&entries), expected, "{wheel}");
        }
    }

    #[test]
    fn sdist_pkg_info_supplies_dynamic_fields_without_running_the_hook() {
        let dir = project(&[
            (
                "pyproject.toml",
                &format!(
                    "{BACKEND}[project]\nname = \"kay\"\ndynamic = [\"version\", \"dependencies\", \
\"optional-dependencies\", \"readme\", \"classifiers\", \"urls\", \"description\", \"keywords\", \
\"requires-python\"]\n[tool.hatch.metadata.hooks.custom]\n"
                ),
            ),
            ("hatch_build.py", "raise RuntimeError('must not run')\n"),
            (
                "PKG-INFO",
                "Metadata-Version: 2.4\nName: kay\nVersion: 3.0.0\nSummary: from pkg info\n\
Keywords: b,a\nProject-URL: Z, https://z\nProject-URL: A, https://a\n\
Classifier: Programming Language :: Python :: 3\nRequires-Python: >=3.9\n\
Requires-Dist: Foo>=1; python_version < \"3.11\"\nRequires-Dist: bar\nProvides-Extra: test\n\
Requires-Dist: pytest; extra == \"test\"\nRequires-Dist: cov; (os_name == \"nt\") and extra == \"test\"\n\
Description-Content-Type: text/markdown\n\n# Kay\nbody\n",
            ),
            ("kay/__init__.py", ""),
        ]);
        let (name, entries) = build(dir.path());
        assert_eq!(name, "kay-3.0.0-py3-none-any.whl");
        assert_eq!(
            text(&entries, "/METADATA"),
            "Metadata-Version: 2.5\nName: kay\nVersion: 3.0.0\nSummary: from pkg info\n\
Project-URL: Z, https://z\nProject-URL: A, https://a\nKeywords: a,b\n\
Classifier: Programming Language :: Python :: 3\nRequires-Python: >=3.9\nRequires-Dist: bar\n\
Requires-Dist: foo>=1; python_version < '3.11'\nProvides-Extra: test\n\
Requires-Dist: cov; (os_name == 'nt') and extra == 'test'\nRequires-Dist: pytest; extra == 'test'\n\
Description-Content-Type: text/markdown\n\n# Kay\nbody\n"
        );
    }

    #[test]
    fn license_table_and_custom_globs() {
        let dir = project(&[
            (
                "pyproject.toml",
                &format!(
                    "{BACKEND}[project]\nname = \"c\"\nversion = \"1.0\"\n\
readme = {{text = \"inline readme\", content-type = \"text/plain\"}}\n\
license = {{text = \"Line one\\n\\nLine three\"}}\n\
license-files = [\"licenses/*.txt\", \"COPYING\"]\n"
                ),
            ),
            ("licenses/A.txt", "a"),
            ("licenses/B.txt", "b"),
            ("COPYING", "c"),
            ("c/__init__.py", ""),
        ]);
        let (_, entries) = build(dir.path());
        assert_eq!(
            text(&entries, "/METADATA"),
            "Metadata-Version: 2.5\nName: c\nVersion: 1.0\nLicense: Line one\n        \n        \
Line three\nLicense-File: COPYING\nLicense-File: licenses/A.txt\nLicense-File: licenses/B.txt\n\
Description-Content-Type: text/plain\n\ninline readme"
        );
        assert!(entries.contains_key("c-1.0.dist-info/licenses/licenses/B.txt"));
    }

    #[test]
    fn not_eligible_rows() {
        let rows: &[(&str, &str)] = &[
            (
                "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\
[project]\nname = \"a\"\nversion = \"1\"\n",
                "setuptools.build_meta",
            ),
            (
                "[project]\nname = \"a\"\nversion = \"1\"\n",
                "does not name a build backend",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\n[tool.hatch.build.hooks.custom]\n",
                "build hooks",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\n[tool.hatch.build.targets.wheel.hooks.vcs]\n",
                "build hooks",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\ndynamic = [\"dependencies\"]\n",
                "`dependencies` is dynamic",
            ),
            (
                "{B}[project]\nname = \"a\"\ndynamic = [\"version\", \"dependencies\"]\n\
[tool.hatch.version]\npath = \"a/__init__.py\"\n[tool.hatch.metadata.hooks.custom]\n",
                "metadata hook computes",
            ),
            (
                "{B}[project]\nname = \"a\"\ndynamic = [\"version\"]\n[tool.hatch.version]\nsource = \"vcs\"\n",
                "version source `vcs`",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\ndynamic = [\"version\"]\n",
                "both static and dynamic",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\nclassifiers = [\"Made Up :: Thing\"]\n",
                "unknown classifier",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"b @ https://x/b.whl\"]\n",
                "direct reference",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\nlicense = \"Not-A-License\"\n",
                "unknown license",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"1\"\nreadme = \"README.weird\"\n",
                "unknown extension",
            ),
            (
                "{B}[project]\nname = \"a\"\nversion = \"one\"\n",
                "not a valid PEP 440",
            ),
            ("{B}[project\nname = ", "not valid TOML"),
            (
                "[build-system]\nrequires = [\"hatchling<1.27\"]\nbuild-backend = \"hatchling.build\"\n\
[project]\nname = \"a\"\nversion = \"1\"\n",
                "excludes hatchling 1.33.0",
            ),
            (
                "[build-system]\nrequires = []\nbuild-backend = \"hatchling.build\"\n\
[project]\nname = \"a\"\nversion = \"1\"\n",
                "does not list hatchling",
            ),
            ("{B}", "no `[project]` table"),
            (
                "{B}[project]\nname = \"zzz\"\nversion = \"1\"\n",
                "cannot tell which files to ship",
            ),
        ];
        for (pyproject, expected) in rows {
            let pyproject = pyproject.replace("{B}", BACKEND);
            let dir = project(&[
                ("pyproject.toml", &pyproject),
                ("a/__init__.py", "__version__ = '1'\n"),
                ("README.weird", ""),
                ("hatch_build.py", ""),
            ]);
            let why = reason(dir.path());
            assert!(why.contains(expected), "{pyproject}: {why}");
            let out = tempfile::tempdir().unwrap();
            assert_eq!(try_build_wheel(dir.path(), out.path()).unwrap(), None);
            assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
        }
        // No pyproject.toml at all, and a `hatch.toml` next to it.
        let dir = project(&[("a/__init__.py", "")]);
        assert!(reason(dir.path()).contains("no `pyproject.toml`"));
        let dir = project(&[
            (
                "pyproject.toml",
                &format!("{BACKEND}[project]\nname = \"a\"\nversion = \"1\"\n"),
            ),
            ("hatch.toml", ""),
            ("a/__init__.py", ""),
        ]);
        assert!(reason(dir.path()).contains("hatch.toml"));
    }

    #[test]
    #[cfg(unix)]
    fn hostile_projects_are_refused_without_reading_outside() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.txt");
        std::fs::write(&secret, "top secret").unwrap();
        let secret = secret.to_str().unwrap().to_string();
        let base =
            |extra: &str| format!("{BACKEND}[project]\nname = \"a\"\nversion = \"1\"\n{extra}");
        let rows: Vec<(String, &str)> = vec![
            (
                base(
                    "[tool.hatch.build.targets.wheel.force-include]\n\"../secret.txt\" = \"a/s.txt\"\n",
                ),
                "outside the project",
            ),
            (
                base(&format!(
                    "[tool.hatch.build.targets.wheel.force-include]\n\"{secret}\" = \"a/s.txt\"\n"
                )),
                "outside the project",
            ),
            (
                base(
                    "[tool.hatch.build.targets.wheel.force-include]\n\"~/.ssh/id_rsa\" = \"a/k\"\n",
                ),
                "outside the project",
            ),
            (base("readme = \"../README.md\"\n"), "outside the project"),
            (
                base("[tool.hatch.build.targets.wheel]\nonly-include = [\"../x\"]\n"),
                "not relative",
            ),
            (
                base(
                    "[tool.hatch.build.targets.wheel.force-include]\n\"a/__init__.py\" = \"../../evil.py\"\n",
                ),
                "unsafe path",
            ),
            (
                base("license = {file = \"../secret.txt\"}\n"),
                "outside the project",
            ),
        ];
        for (pyproject, expected) in rows {
            let dir = project(&[("pyproject.toml", &pyproject), ("a/__init__.py", "")]);
            let why = reason(dir.path());
            assert!(why.contains(expected), "{pyproject}: {why}");
        }

        // A link inside the package that points outside the project.
        let dir = project(&[("pyproject.toml", &base("")), ("a/__init__.py", "")]);
        std::os::unix::fs::symlink(&secret, dir.path().join("a/leak.txt")).unwrap();
        assert!(reason(dir.path()).contains("leaves the project"));
        let out = tempfile::tempdir().unwrap();
        assert_eq!(try_build_wheel(dir.path(), out.path()).unwrap(), None);

        // A version file that is a link to outside, and a linked license file.
        let dir = project(&[
            (
                "pyproject.toml",
                &format!(
                    "{BACKEND}[project]\nname = \"a\"\ndynamic = [\"version\"]\n\
[tool.hatch.version]\npath = \"a/v.py\"\n"
                ),
            ),
            ("a/__init__.py", ""),
        ]);
        std::os::unix::fs::symlink(&secret, dir.path().join("a/v.py")).unwrap();
        assert!(reason(dir.path()).contains("leaves the project"));
        let dir = project(&[("pyproject.toml", &base("")), ("a/__init__.py", "")]);
        std::os::unix::fs::symlink(&secret, dir.path().join("LICENSE")).unwrap();
        assert!(reason(dir.path()).contains("leaves the project"));

        // A link inside the project to a file inside it is followed like hatchling does.
        let dir = project(&[("pyproject.toml", &base("")), ("a/__init__.py", "real")]);
        std::os::unix::fs::symlink("__init__.py", dir.path().join("a/alias.py")).unwrap();
        let (_, entries) = build(dir.path());
        assert_eq!(entries["a/alias.py"], b"real");
    }

    #[test]
    fn garbage_pkg_info_is_not_eligible() {
        for pkg_info in [
            "",
            "\u{0}\u{1}garbage",
            "Name: a\n",
            "Name: a\nVersion: 1\nRequires-Dist: ../x\n",
        ] {
            let dir = project(&[
                (
                    "pyproject.toml",
                    &format!("{BACKEND}[project]\nname = \"a\"\ndynamic = [\"version\"]\n"),
                ),
                ("PKG-INFO", pkg_info),
                ("a/__init__.py", ""),
            ]);
            assert!(!eligible(dir.path()).unwrap().is_eligible(), "{pkg_info:?}");
        }
    }

    const UV_BACKEND: &str =
        "[build-system]\nrequires = [\"uv_build>=0.9.0,<0.14\"]\nbuild-backend = \"uv_build\"\n";

    #[test]
    fn uv_build_src_layout_matches_uv() {
        let pyproject = format!(
            "{UV_BACKEND}{}",
            r#"
[project]
name = "Uv.Pkg"
version = "1.0.0-RC1"
description = "A summary"
readme = "README.md"
requires-python = ">=3.9, <4"
license = "MIT"
keywords = ["zeta", "alpha", "zeta"]
authors = [{name = "J. Doe", email = "j@example.org"}, {name = "Solo"}, {email = "only@example.org"}]
maintainers = [{name = "Mae"}]
classifiers = ["Programming Language :: Python :: 3.10", "Development Status :: 4 - Beta"]
dependencies = ["Requests[Security,socks] >= 2.0, <3", "click_repl", "zed!=1.5,>=1"]
[project.optional-dependencies]
Dev_Tools = ["pytest>=7", "uv.pkg[docs]"]
docs = ["sphinx"]
[project.urls]
Zebra = "https://z.example"
Apple = "https://a.example"
[project.scripts]
zcli = "uv_pkg.cli:main"
acli = "uv_pkg.cli:alt"
[project.entry-points."b.group"]
x = "uv_pkg:x"
"#
        );
        let dir = project(&[
            ("pyproject.toml", &pyproject),
            ("README.md", "# Title\r\nWindows\n"),
            ("src/uv_pkg/__init__.py", ""),
            ("src/uv_pkg/cli.py", ""),
            ("src/uv_pkg/data/x.json", "{}"),
            ("src/uv_pkg/__pycache__/c.pyc", "x"),
            ("src/uv_pkg/mod.pyc", "x"),
            ("src/uv_pkg/b/z.py", ""),
            ("src/uv_pkg/a.py", ""),
            ("src/uv_pkg/.hidden", "h"),
            ("tests/t.py", ""),
        ]);
        let (name, entries) = build(dir.path());
        assert_eq!(name, "uv_pkg-1.0.0rc1-py3-none-any.whl");
        let names: Vec<&str> = entries.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec![
                "uv_pkg-1.0.0rc1.dist-info/",
                "uv_pkg-1.0.0rc1.dist-info/METADATA",
                "uv_pkg-1.0.0rc1.dist-info/RECORD",
                "uv_pkg-1.0.0rc1.dist-info/WHEEL",
                "uv_pkg-1.0.0rc1.dist-info/entry_points.txt",
                "uv_pkg/",
                "uv_pkg/.hidden",
                "uv_pkg/__init__.py",
                "uv_pkg/a.py",
                "uv_pkg/b/",
                "uv_pkg/b/z.py",
                "uv_pkg/cli.py",
                "uv_pkg/data/",
                "uv_pkg/data/x.json",
            ]
        );
        assert_eq!(
            text(&entries, "/METADATA"),
            "Metadata-Version: 2.4\nName: Uv.Pkg\nVersion: 1.0.0rc1\nSummary: A summary\n\
Keywords: zeta,alpha,zeta\nAuthor: J. Doe, Solo\nAuthor-email: J. Doe <j@example.org>, only@example.org\n\
License-Expression: MIT\nClassifier: Programming Language :: Python :: 3.10\n\
Classifier: Development Status :: 4 - Beta\nRequires-Dist: requests[security,socks]>=2.0,<3\n\
Requires-Dist: click-repl\nRequires-Dist: zed>=1,!=1.5\nRequires-Dist: pytest>=7 ; extra == 'dev-tools'\n\
Requires-Dist: uv-pkg[docs] ; extra == 'dev-tools'\nRequires-Dist: sphinx ; extra == 'docs'\n\
Maintainer: Mae\nRequires-Python: >=3.9, <4\nProject-URL: Zebra, https://z.example\n\
Project-URL: Apple, https://a.example\nProvides-Extra: dev-tools\nProvides-Extra: docs\n\
Description-Content-Type: text/markdown\n\n# Title\r\nWindows\n"
        );
        assert_eq!(
            text(&entries, "/entry_points.txt"),
            "[console_scripts]\nacli = uv_pkg.cli:alt\nzcli = uv_pkg.cli:main\n\n[b.group]\nx = uv_pkg:x\n\n"
        );
        assert_eq!(
            eligible(dir.path()).unwrap(),
            Eligibility::Eligible {
                backend: "uv_build",
                wheel: "uv_pkg-1.0.0rc1-py3-none-any.whl".to_string()
            }
        );
    }

    #[test]
    fn uv_build_flat_layout_and_license_text() {
        let dir = project(&[
            (
                "pyproject.toml",
                &format!(
                    "{UV_BACKEND}[project]\nname = \"flat\"\nversion = \"2\"\n\
readme = {{text = \"inline text\", content-type = \"text/plain\"}}\n\
license = {{text = \"Line one\\nLine two\"}}\nrequires-python = \">=3.8\"\n\
[tool.uv.build-backend]\nmodule-root = \"\"\nmodule-name = \"mymod\"\n"
                ),
            ),
            ("mymod/__init__.py", "x = 1\n"),
            ("mymod/sub/deep/f.txt", "f"),
            ("other.py", ""),
        ]);
        let (name, entries) = build(dir.path());
        assert_eq!(name, "flat-2-py3-none-any.whl");
        assert!(entries.contains_key("mymod/sub/"));
        assert!(entries.contains_key("mymod/sub/deep/f.txt"));
        assert!(!entries.contains_key("other.py"));
        assert_eq!(
            text(&entries, "/METADATA"),
            "Metadata-Version: 2.3\nName: flat\nVersion: 2\nLicense: Line one\n         Line two\n\
Requires-Python: >=3.8\nDescription-Content-Type: text/plain\n\ninline text"
        );
    }

    #[test]
    fn uv_build_not_eligible_rows() {
        let rows: &[(&str, &str)] = &[
            ("requires = [\"uv_build>=0.8,<0.9\"]", "excludes uv_build"),
            (
                "requires = [\"uv_build\", \"other\"]",
                "not exactly `uv_build`",
            ),
            ("dependencies = [\"a; python_version < '3.11'\"]", "marker"),
            ("dependencies = [\"a @ https://x/a.whl\"]", "URL"),
            ("license-files = [\"LICENSE*\"]", "license-files"),
            ("dynamic = [\"version\"]", "dynamic metadata"),
            (
                "[tool.uv.build-backend]\nwheel-exclude = [\"*.txt\"]",
                "wheel-exclude",
            ),
            (
                "[tool.uv.build-backend]\ndata = {scripts = \"bin\"}",
                "data",
            ),
            ("[tool.uv.build-backend]\nnamespace = true", "namespace"),
            (
                "[tool.uv.build-backend]\nmodule-root = \"../elsewhere\"",
                "outside the project",
            ),
            (
                "[tool.uv.build-backend]\nmodule-name = \"missing\"",
                "does not exist",
            ),
            ("license = \"mit\"", "not canonical"),
            ("description = \"two\\nlines\"", "several lines"),
        ];
        for (extra, expected) in rows {
            let (requires, project_extra) = if extra.starts_with("requires") {
                (*extra, "")
            } else {
                ("requires = [\"uv_build>=0.9.0,<0.14\"]", *extra)
            };
            let (project_extra, tool) = match project_extra.split_once("[tool") {
                Some((before, after)) => (before, format!("[tool{after}\n")),
                None => (project_extra, String::new()),
            };
            let pyproject = format!(
                "[build-system]\n{requires}\nbuild-backend = \"uv_build\"\n[project]\nname = \"a\"\n\
version = \"1\"\n{project_extra}\n{tool}"
            );
            let dir = project(&[("pyproject.toml", &pyproject), ("src/a/__init__.py", "")]);
            let why = reason(dir.path());
            assert!(why.contains(expected), "{pyproject}: {why}");
        }
    }
}
