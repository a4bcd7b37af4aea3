//! Issue "speed", live: Tutor 22 and every plugin of the verawood main index, downloaded as
//! sdists from PyPI, built natively by plonk and by real hatchling (PEP 517 `build_wheel` in a
//! venv with hatchling from PyPI). The wheels must hold the same files with the same bytes, the
//! same METADATA fields and the same entry points; only `WHEEL`'s `Generator` line and the
//! order of RECORD may differ. Prints which projects were eligible and the build times.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use plonk::build::native::{Eligibility, eligible, try_build_wheel};
use plonk::build::unpack_sdist;
use plonk::dist::EntryPoints;

use crate::{Live, assert_ok, pypi_reachable};

/// The verawood main index (the copy of the real file kept in fixtures/).
const PLUGINS_YML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/tpi/main/verawood/plugins.yml"
);

/// The `src:` requirement of every plugin in the index.
fn plugin_requirements() -> Vec<String> {
    let text = std::fs::read_to_string(PLUGINS_YML).expect("read the verawood plugins.yml");
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("src:"))
        .map(|src| src.trim().to_string())
        .collect()
}

fn read_wheel(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(path).expect("open wheel");
    let mut zip = zip::ZipArchive::new(file).expect("read wheel");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("wheel entry");
        let name = entry.name().expect("entry name").to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        out.insert(name, data);
    }
    out
}

/// `METADATA` as `(field, value)` pairs in order, plus the body.
fn metadata_fields(data: &[u8]) -> (Vec<(String, String)>, String) {
    let text = String::from_utf8(data.to_vec()).expect("METADATA is UTF-8");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().expect("continuation after a field");
            last.1.push('\n');
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').expect("a `Name: value` line");
            fields.push((name.to_string(), value.trim_start().to_string()));
        }
    }
    (fields, body.to_string())
}

/// The differences between hatchling's wheel and plonk's, empty when they match.
fn compare(reference: &Path, native: &Path) -> Vec<String> {
    let mut diffs = Vec::new();
    let expected = read_wheel(reference);
    let actual = read_wheel(native);
    let names = |w: &BTreeMap<String, Vec<u8>>| w.keys().cloned().collect::<BTreeSet<_>>();
    if names(&expected) != names(&actual) {
        diffs.push(format!(
            "file lists differ: only in hatchling's {:?}, only in plonk's {:?}",
            names(&expected)
                .difference(&names(&actual))
                .collect::<Vec<_>>(),
            names(&actual)
                .difference(&names(&expected))
                .collect::<Vec<_>>()
        ));
    }
    for (name, data) in &expected {
        let Some(ours) = actual.get(name) else {
            continue;
        };
        if name.ends_with(".dist-info/RECORD") {
            let lines = |d: &[u8]| {
                String::from_utf8_lossy(d)
                    .lines()
                    .filter(|l| !l.contains(".dist-info/WHEEL,"))
                    .map(str::to_string)
                    .collect::<BTreeSet<_>>()
            };
            if lines(data) != lines(ours) {
                diffs.push(format!(
                    "RECORD differs: {:?}",
                    lines(data)
                        .symmetric_difference(&lines(ours))
                        .collect::<Vec<_>>()
                ));
            }
        } else if name.ends_with(".dist-info/WHEEL") {
            let lines = |d: &[u8]| {
                String::from_utf8_lossy(d)
                    .lines()
                    .filter(|l| !l.starts_with("Generator:"))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            if lines(data) != lines(ours) {
                diffs.push(format!(
                    "WHEEL differs: {:?} vs {:?}",
                    lines(data),
                    lines(ours)
                ));
            }
        } else if name.ends_with(".dist-info/METADATA") {
            let (fields, body) = metadata_fields(data);
            let (our_fields, our_body) = metadata_fields(ours);
            if fields != our_fields {
                diffs.push(format!(
                    "METADATA fields differ:\n  hatchling {fields:?}\n  plonk     {our_fields:?}"
                ));
            }
            if body != our_body {
                diffs.push("METADATA description differs".to_string());
            }
        } else if name.ends_with(".dist-info/entry_points.txt") {
            let parse = |d: &[u8]| {
                EntryPoints::parse(d)
                    .expect("entry_points.txt parses")
                    .groups
            };
            if parse(data) != parse(ours) || data != ours {
                diffs.push("entry_points.txt differs".to_string());
            }
        } else if data != ours {
            diffs.push(format!("contents of `{name}` differ"));
        }
    }
    diffs
}

/// A venv with a build backend from PyPI and a way to call its PEP 517 `build_wheel` hook.
struct Backend {
    venv: PathBuf,
    module: &'static str,
}

impl Backend {
    /// Creates `name` (a venv) and installs `requirement` into it with pip.
    fn install(
        live: &Live,
        name: &str,
        requirement: &str,
        module: &'static str,
    ) -> (Self, Duration) {
        let venv = live.path(name);
        let started = Instant::now();
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .expect("run python3 -m venv");
        assert_ok(&out, "python3 -m venv");
        let out = Command::new(venv.join("bin").join("python"))
            .args(["-m", "pip", "install", "--quiet", requirement])
            .output()
            .expect("run pip install");
        assert_ok(&out, &format!("pip install {requirement}"));
        (Self { venv, module }, started.elapsed())
    }

    /// Runs the backend's `build_wheel` hook in `project`, like a PEP 517 frontend.
    fn build_wheel(&self, project: &Path, out_dir: &Path) -> (PathBuf, Duration) {
        std::fs::create_dir_all(out_dir).expect("create output folder");
        let bin = self.venv.join("bin");
        // uv_build's shim finds its executable on PATH, as in a build environment.
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let started = Instant::now();
        let out = Command::new(bin.join("python"))
            .args([
                "-c",
                &format!(
                    "import sys\nfrom {} import build_wheel\nprint(build_wheel(sys.argv[1]))",
                    self.module
                ),
            ])
            .arg(out_dir)
            .current_dir(project)
            .env("PATH", path)
            .output()
            .expect("run the backend");
        let elapsed = started.elapsed();
        assert_ok(
            &out,
            &format!("{} build_wheel in {}", self.module, project.display()),
        );
        let name = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string();
        (out_dir.join(name), elapsed)
    }
}

#[test]
fn tutor_and_verawood_plugins_build_natively_like_hatchling() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let sdists = live.path("sdists");
    let mut requirements = vec!["tutor>=22,<23".to_string()];
    requirements.extend(plugin_requirements());
    assert!(
        requirements.len() > 10,
        "the index lists the official plugins"
    );
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
        ])
        .arg(&sdists)
        .args(&requirements)
        .output()
        .expect("run pip download");
    assert_ok(&out, "pip download the sdists");
    let (hatchling, setup_time) =
        Backend::install(&live, "hatchling-venv", "hatchling", "hatchling.build");

    let mut archives: Vec<PathBuf> = std::fs::read_dir(&sdists)
        .expect("list sdists")
        .map(|e| e.expect("sdist entry").path())
        .collect();
    archives.sort();
    assert_eq!(
        archives.len(),
        requirements.len(),
        "one sdist per requirement"
    );

    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut tutor_times = None;
    for archive in &archives {
        let label = archive
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        let unpacked = live.path(&format!("src/{label}"));
        let project = unpack_sdist(archive, &unpacked).expect("unpack sdist");

        match eligible(&project).expect("eligibility check") {
            Eligibility::Eligible { .. } => {}
            Eligibility::NotEligible { reason } => {
                failures.push(format!("{label}: not eligible: {reason}"));
                report.push(format!("{label:45} not eligible ({reason})"));
                continue;
            }
        }
        let native_dir = live.path(&format!("native/{label}"));
        let started = Instant::now();
        let native = try_build_wheel(&project, &native_dir)
            .expect("native build")
            .expect("eligible project builds natively");
        let native_time = started.elapsed();
        let (reference, hatchling_time) =
            hatchling.build_wheel(&project, &live.path(&format!("hatchling/{label}")));
        assert_eq!(
            native.file_name(),
            reference.file_name(),
            "{label}: wheel names differ"
        );
        let diffs = compare(&reference, &native);
        let files = read_wheel(&native).len();
        report.push(format!(
            "{label:45} eligible, {} ({files} files), native {:>7.1} ms, hatchling {:>7.1} ms",
            if diffs.is_empty() {
                "identical"
            } else {
                "DIFFERENT"
            },
            native_time.as_secs_f64() * 1000.0,
            hatchling_time.as_secs_f64() * 1000.0,
        ));
        if label.starts_with("tutor-22") {
            tutor_times = Some((native_time, hatchling_time));
        }
        for diff in diffs {
            failures.push(format!("{label}: {diff}"));
        }
    }

    eprintln!("\nnative builds vs hatchling (PEP 517 build_wheel hook):");
    for line in &report {
        eprintln!("  {line}");
    }
    if let Some((native, reference)) = tutor_times {
        eprintln!(
            "  tutor: native {:.1} ms vs hatchling {:.1} ms (x{:.0}); creating the hatchling \
             venv took {:.1} s more",
            native.as_secs_f64() * 1000.0,
            reference.as_secs_f64() * 1000.0,
            reference.as_secs_f64() / native.as_secs_f64().max(1e-6),
            setup_time.as_secs_f64()
        );
    }
    assert!(
        failures.is_empty(),
        "native builds differ:\n{}",
        failures.join("\n")
    );
}

/// Small `uv_build` projects covering what plonk reproduces: src and flat layouts, default
/// excludes on and off, directory entries, executable files, metadata of every kind.
const UV_PROJECTS: &[(&str, &[(&str, &str)])] = &[
    (
        "src-layout",
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"uv_build>=0.9.0,<0.14\"]\nbuild-backend = \"uv_build\"\n\
[project]\nname = \"Uv.Pkg\"\nversion = \"1.0.0-RC1\"\ndescription = \"A summary\"\n\
readme = \"README.md\"\nrequires-python = \">=3.9, <4\"\nlicense = \"MIT\"\n\
keywords = [\"zeta\", \"alpha\"]\nauthors = [{name = \"J. Doe\", email = \"j@example.org\"}, {name = \"Solo\"}]\n\
maintainers = [{email = \"m@example.org\"}]\nclassifiers = [\"Development Status :: 4 - Beta\"]\n\
dependencies = [\"Requests[Security,socks] >= 2.0, <3\", \"click_repl\", \"zed!=1.5,>=1\"]\n\
[project.optional-dependencies]\nDev_Tools = [\"pytest>=7\", \"uv.pkg[docs]\"]\ndocs = [\"sphinx\"]\n\
[project.urls]\nZebra = \"https://z.example\"\nApple = \"https://a.example\"\n\
[project.scripts]\nzcli = \"uv_pkg.cli:main\"\nacli = \"uv_pkg.cli:alt\"\n\
[project.gui-scripts]\ngui = \"uv_pkg.gui:run\"\n[project.entry-points.\"b.group\"]\nx = \"uv_pkg:x\"\n",
            ),
            ("README.md", "# Title\r\nWindows line ends\n"),
            ("src/uv_pkg/__init__.py", ""),
            ("src/uv_pkg/cli.py", "#!/usr/bin/env python\n"),
            ("src/uv_pkg/data/x.json", "{}"),
            ("src/uv_pkg/__pycache__/c.pyc", "x"),
            ("src/uv_pkg/mod.pyc", "x"),
            ("src/uv_pkg/b/z.py", ""),
            ("src/uv_pkg/.hidden", "h"),
            ("tests/t.py", ""),
        ],
    ),
    (
        "flat-layout",
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"uv_build>=0.13,<0.14\"]\nbuild-backend = \"uv_build\"\n\
[project]\nname = \"flat\"\nversion = \"2\"\n\
readme = {text = \"inline text\", content-type = \"text/plain\"}\n\
license = {text = \"Line one\\nLine two\"}\nrequires-python = \">=3.8\"\n\
[tool.uv.build-backend]\nmodule-root = \"\"\nmodule-name = \"mymod\"\n",
            ),
            ("mymod/__init__.py", "x = 1\n"),
            ("mymod/sub/deep/f.txt", "f"),
            ("other.py", ""),
        ],
    ),
    (
        "no-default-excludes",
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"uv_build\"]\nbuild-backend = \"uv_build\"\n\
[project]\nname = \"noexcl\"\nversion = \"0.1.dev3\"\ndependencies = []\n[project.scripts]\n\
[tool.uv.build-backend]\ndefault-excludes = false\nsource-include = [\"tests/**\"]\n",
            ),
            ("src/noexcl/__init__.py", ""),
            ("src/noexcl/__pycache__/c.pyc", "x"),
        ],
    ),
];

#[test]
fn uv_build_projects_build_natively_like_uv_build() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let (uv_build, _) = Backend::install(
        &live,
        "uv-build-venv",
        &format!("uv_build=={}", "0.13.6"),
        "uv_build",
    );
    let mut failures = Vec::new();
    for (label, files) in UV_PROJECTS {
        let project = live.path(&format!("uv/{label}"));
        for (path, text) in *files {
            let path = project.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
            std::fs::write(&path, text).expect("write project file");
        }
        #[cfg(unix)]
        if label == &"src-layout" {
            use std::os::unix::fs::PermissionsExt;
            let cli = project.join("src/uv_pkg/cli.py");
            std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        match eligible(&project).expect("eligibility check") {
            Eligibility::Eligible { backend, .. } => assert_eq!(backend, "uv_build"),
            Eligibility::NotEligible { reason } => {
                failures.push(format!("{label}: not eligible: {reason}"));
                continue;
            }
        }
        let native = try_build_wheel(&project, &live.path(&format!("native/{label}")))
            .expect("native build")
            .expect("eligible project builds natively");
        let (reference, _) = uv_build.build_wheel(&project, &live.path(&format!("uv-out/{label}")));
        assert_eq!(
            native.file_name(),
            reference.file_name(),
            "{label}: wheel names differ"
        );
        let diffs = compare(&reference, &native);
        eprintln!(
            "  uv_build {label:20} {}",
            if diffs.is_empty() {
                "identical"
            } else {
                "DIFFERENT"
            }
        );
        failures.extend(diffs.into_iter().map(|d| format!("{label}: {d}")));
    }
    assert!(
        failures.is_empty(),
        "native uv_build builds differ:\n{}",
        failures.join("\n")
    );
}
