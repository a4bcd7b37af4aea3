//! Checks of the test support itself: the wheels it builds are accepted by pip, its sdists build
//! with the real backends from `fixtures/wheels` and no index, the backbone set is complete, and
//! tree snapshots notice what they must.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::packages::{self, SdistBuilder, WheelBuilder, verify_wheel};
use crate::support::plonk::Plonk;
use crate::support::scenarios::{self, backbone_packages, fixture_wheels_dir};
use crate::support::tree::{self, Snapshot, assert_same_tree, snapshot};
use crate::support::venv;

/// The system pip, isolated from the caller's configuration and PIP_* variables.
fn pip(args: &[&str]) -> Output {
    let mut cmd = venv::clean_command("python3");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PIP_") {
            cmd.env_remove(&key);
        }
    }
    cmd.args([
        "-m",
        "pip",
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(args)
    .output()
    .unwrap()
}

#[track_caller]
fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of member `suffix` (matched at the end of the name) of a wheel.
fn wheel_member(wheel: &Path, suffix: &str) -> String {
    let mut archive = zip::ZipArchive::new(fs::File::open(wheel).unwrap()).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().to_string())
        .collect();
    let name = names
        .iter()
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("{} has no {suffix}: {names:?}", wheel.display()));
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn wheel_names(wheel: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(fs::File::open(wheel).unwrap()).unwrap();
    archive
        .file_names()
        .map(|n| n.unwrap().to_string())
        .collect()
}

/// Builds `sdist` with `pip wheel` offline and returns the one wheel produced.
fn pip_build_offline(sdist: &Path, out: &Path) -> PathBuf {
    let find_links = fixture_wheels_dir();
    let result = pip(&[
        "wheel",
        "--no-index",
        "--no-cache-dir",
        "--find-links",
        find_links.to_str().unwrap(),
        "--no-deps",
        "--wheel-dir",
        out.to_str().unwrap(),
        sdist.to_str().unwrap(),
    ]);
    assert_ok(&result, &format!("pip wheel {}", sdist.display()));
    let wheels: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    wheels[0].clone()
}

#[test]
fn names_are_normalised_in_filenames() {
    let rows = [
        ("tutor-indigo", "tutor-indigo", "tutor_indigo"),
        ("Tutor_Indigo", "tutor-indigo", "tutor_indigo"),
        ("a.b--c__d", "a-b-c-d", "a_b_c_d"),
        ("x", "x", "x"),
    ];
    for (name, normal, file) in rows {
        assert_eq!(packages::normalize(name), normal);
        assert_eq!(packages::filename_name(name), file);
    }
    assert_eq!(
        WheelBuilder::new("Chain.B", "1.0").filename(),
        "chain_b-1.0-py3-none-any.whl"
    );
    assert_eq!(
        WheelBuilder::new("x", "1.0").build_tag("1").filename(),
        "x-1.0-1-py3-none-any.whl"
    );
    assert_eq!(
        SdistBuilder::hatchling("tutor-foo", "1.0").filename(),
        "tutor_foo-1.0.tar.gz"
    );
}

#[test]
fn record_checker_catches_a_bad_wheel() {
    let tmp = tempfile::tempdir().unwrap();
    let good = WheelBuilder::new("good", "1.0")
        .file("good.py", "X = 1\n")
        .build(tmp.path());
    assert_eq!(verify_wheel(&good), Vec::<String>::new());
    let unlisted = WheelBuilder::new("unlisted", "1.0")
        .raw_entry("../evil.py", "boom", false)
        .build(tmp.path());
    assert_eq!(verify_wheel(&unlisted), vec!["../evil.py is not in RECORD"]);
}

#[test]
fn built_wheels_install_with_pip() {
    let tmp = tempfile::tempdir().unwrap();
    let dists = tmp.path().join("dists");
    let target = tmp.path().join("target");
    let backbone = backbone_packages(&dists);
    let alpha = dists.join(&backbone.alpha);
    assert_eq!(verify_wheel(&alpha), Vec::<String>::new());
    let nsa = dists.join("nsa-1.0-py3-none-any.whl");
    let nsb = dists.join("nsb-1.0-py3-none-any.whl");
    // One pip call: with --target, a second call would not merge the `nsshared` folders.
    let out = pip(&[
        "install",
        "--no-deps",
        "--no-index",
        "--no-compile",
        "--target",
        target.to_str().unwrap(),
        alpha.to_str().unwrap(),
        nsa.to_str().unwrap(),
        nsb.to_str().unwrap(),
    ]);
    assert_ok(&out, "pip install of alpha, nsa, nsb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("RECORD"), "pip complained:\n{stderr}");
    let run = venv::clean_command("python3")
        .env("PYTHONPATH", &target)
        .args([
            "-c",
            "import alpha, alpha.cli, nsshared.a, nsshared.b; \
             print(alpha.__version__, nsshared.a.NAME, nsshared.b.NAME)",
        ])
        .output()
        .unwrap();
    assert_ok(&run, "import of the installed wheels");
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "1.0 a b");
    // Scripts: the console script launcher and the `#!python` script, made executable.
    for script in ["alpha-cli", "alpha-gui", "alpha-tool"] {
        let path = target.join("bin").join(script);
        let mode = fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode();
        assert!(mode & 0o100 != 0, "{script} is not executable");
    }
    let tool = fs::read_to_string(target.join("bin/alpha-tool")).unwrap();
    assert!(
        !tool.starts_with("#!python\n"),
        "shebang not rewritten:\n{tool}"
    );
    assert!(!target.join("nsshared/__init__.py").exists());
    let dist_info = target.join("alpha-1.0.dist-info");
    let eps = fs::read_to_string(dist_info.join("entry_points.txt")).unwrap();
    assert!(
        eps.contains("[console_scripts]\nalpha-cli = alpha.cli:main"),
        "{eps}"
    );
    assert!(
        eps.contains("[gui_scripts]\nalpha-gui = alpha.gui:main"),
        "{eps}"
    );
}

#[test]
fn backbone_set_is_complete_and_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let backbone = backbone_packages(tmp.path());
    let expected = [
        "alpha-1.0-py3-none-any.whl",
        "chain_b-1.0-py3-none-any.whl",
        "chain_c-1.0-py3-none-any.whl",
        "chain_c-1.1-py3-none-any.whl",
        "nsa-1.0-py3-none-any.whl",
        "nsb-1.0-py3-none-any.whl",
        "markered-1.0-py3-none-any.whl",
        "linuxdep-1.0-py3-none-any.whl",
        "withextra-1.0-py3-none-any.whl",
        "fancydep-1.0-py3-none-any.whl",
        "yanky-1.0-py3-none-any.whl",
        "yanky-2.0-py3-none-any.whl",
        "futurepy-1.0-py3-none-any.whl",
        "futurepy-2.0-py3-none-any.whl",
        "conflict_a-1.0-py3-none-any.whl",
        "conflict_b-1.0-py3-none-any.whl",
        "shared-0.5-py3-none-any.whl",
        "shared-2.0-py3-none-any.whl",
        "tutor-21.0.0-py3-none-any.whl",
        "tutor-22.0.0-py3-none-any.whl",
        "tutor_legacy-21.0.0-py3-none-any.whl",
        "tutor_indigo-22.0.0.tar.gz",
        "tutor_mfe-22.0.0.tar.gz",
        "setupy-1.0.tar.gz",
    ];
    for name in expected {
        assert!(backbone.files.iter().any(|f| f == name), "{name} missing");
        assert!(tmp.path().join(name).is_file(), "{name} not written");
    }
    assert_eq!(backbone.yanked, "yanky-2.0-py3-none-any.whl");
    assert!(!backbone.files.iter().any(|f| f.starts_with("onlyold")));
    for backend in [
        "hatchling-",
        "setuptools-",
        "packaging-",
        "pluggy-",
        "pathspec-",
    ] {
        assert!(
            backbone
                .backend_wheels
                .iter()
                .any(|w| w.starts_with(backend)),
            "{backend} wheel not copied"
        );
    }
    for file in &backbone.files {
        if file.ends_with(".whl") {
            assert_eq!(
                verify_wheel(&tmp.path().join(file)),
                Vec::<String>::new(),
                "{file}"
            );
        }
    }
    let meta = wheel_member(
        &tmp.path().join("markered-1.0-py3-none-any.whl"),
        "/METADATA",
    );
    assert!(
        meta.contains("Requires-Dist: onlyold; python_version < \"3.0\"\n"),
        "{meta}"
    );
    let meta = wheel_member(
        &tmp.path().join("withextra-1.0-py3-none-any.whl"),
        "/METADATA",
    );
    assert!(meta.contains("Provides-Extra: fancy\n"), "{meta}");
    let meta = wheel_member(&tmp.path().join(&backbone.futurepy_excluded), "/METADATA");
    assert!(meta.contains("Requires-Python: >=3.99\n"), "{meta}");
}

#[test]
fn hatchling_sdists_build_offline_with_the_committed_backend() {
    let tmp = tempfile::tempdir().unwrap();
    // indigo takes its version from `__about__.py` like the real plugin; mfe is fully static.
    let indigo = scenarios::tutor_plugin_sdist("indigo", "22.0.0", "tutor>=22.0.0,<23.0.0")
        .dynamic_version("tutorindigo/__about__.py");
    let mfe = scenarios::tutor_plugin_sdist("mfe", "22.0.0", "tutor>=22.0.0,<23.0.0");
    for (builder, short) in [(indigo, "indigo"), (mfe, "mfe")] {
        let pkg_info = builder.pkg_info();
        assert!(
            pkg_info.starts_with("Metadata-Version: 2.4\n"),
            "{pkg_info}"
        );
        assert!(
            pkg_info.contains("Requires-Dist: tutor>=22.0.0,<23.0.0\n"),
            "{pkg_info}"
        );
        let sdist = builder.build(&tmp.path().join("dists"));
        assert!(sdist.ends_with(format!("tutor_{short}-22.0.0.tar.gz")));
        let wheel = pip_build_offline(&sdist, &tmp.path().join(format!("out-{short}")));
        assert_eq!(
            wheel.file_name().unwrap().to_string_lossy(),
            format!("tutor_{short}-22.0.0-py3-none-any.whl")
        );
        assert_eq!(verify_wheel(&wheel), Vec::<String>::new());
        let meta = wheel_member(&wheel, ".dist-info/METADATA");
        assert!(meta.contains(&format!("Name: tutor-{short}\n")), "{meta}");
        assert!(meta.contains("Version: 22.0.0\n"), "{meta}");
        assert!(
            meta.contains("Requires-Dist: tutor<23.0.0,>=22.0.0\n"),
            "{meta}"
        );
        let eps = wheel_member(&wheel, ".dist-info/entry_points.txt");
        let ep = format!("[tutor.plugin.v1]\n{short} = tutor{short}.plugin");
        assert!(eps.contains(&ep), "{eps}");
        let names = wheel_names(&wheel);
        for member in [
            format!("tutor{short}/__init__.py"),
            format!("tutor{short}/plugin.py"),
            format!("tutor{short}/templates/{short}/apps/settings.yml"),
        ] {
            assert!(names.contains(&member), "{member} not in {names:?}");
        }
    }
}

#[test]
fn setuptools_sdist_builds_offline_with_the_committed_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let builder = SdistBuilder::setuptools("setupy", "1.0")
        .py_module("setupy")
        .requires("chain-c")
        .console_script("setupy", "setupy:main")
        .file("setupy.py", "def main():\n    return 0\n");
    assert!(!builder.pkg_info().contains("Requires-Dist"));
    let sdist = builder.build(&tmp.path().join("dists"));
    let wheel = pip_build_offline(&sdist, &tmp.path().join("out"));
    assert_eq!(wheel.file_name().unwrap(), "setupy-1.0-py3-none-any.whl");
    let meta = wheel_member(&wheel, ".dist-info/METADATA");
    assert!(meta.contains("Requires-Dist: chain-c\n"), "{meta}");
    let eps = wheel_member(&wheel, ".dist-info/entry_points.txt");
    assert!(eps.contains("setupy = setupy:main"), "{eps}");
    assert!(wheel_names(&wheel).iter().any(|n| n == "setupy.py"));
}

#[test]
fn venv_runs_its_own_python() {
    let tmp = tempfile::tempdir().unwrap();
    let env = venv::make_venv(&tmp.path().join("venv"));
    let prefix = venv::python_stdout(&env, "import sys; print(sys.prefix)");
    assert_eq!(Path::new(&prefix), env.canonicalize().unwrap());
    assert!(venv::site_packages(&env).is_dir());
}

#[test]
fn tree_snapshot_sees_changes_and_ignores_plonk_record() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("lib/site")).unwrap();
    fs::write(root.join("lib/site/a.py"), "A = 1\n").unwrap();
    fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
    std::os::unix::fs::symlink("lib", root.join("lib64")).unwrap();
    let before = snapshot(root);
    assert_eq!(before.get("lib"), Some(&Snapshot::Dir));
    assert_eq!(before.get("lib64"), Some(&Snapshot::Symlink("lib".into())));
    assert!(
        !before.contains_key("lib64/site"),
        "symlinks must not be followed"
    );

    // plonk's own record does not count.
    fs::create_dir_all(root.join(".plonk")).unwrap();
    fs::write(root.join(".plonk/receipt.json"), "{}").unwrap();
    assert_same_tree(&before, &snapshot(root));

    fs::write(root.join("lib/site/a.py"), "A = 2\n").unwrap();
    fs::create_dir(root.join("lib/empty")).unwrap();
    fs::set_permissions(root.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
    let after = snapshot(root);
    let lines = tree::diff(&before, &after);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("+ lib/empty (dir)"), "{lines:?}");
    assert!(lines[1].starts_with("~ lib/site/a.py: file "), "{lines:?}");
    assert!(
        lines[2].starts_with("~ tool: file ") && lines[2].ends_with(" +x"),
        "{lines:?}"
    );
    let panic = std::panic::catch_unwind(|| assert_same_tree(&before, &after));
    assert!(panic.is_err());

    fs::remove_file(root.join("lib/site/a.py")).unwrap();
    let lines = tree::diff(&before, &snapshot(root));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("- lib/site/a.py (file ")),
        "{lines:?}"
    );
}

#[test]
fn fixture_wheels_are_small_and_offline_ready() {
    let mut total = 0;
    let mut names = Vec::new();
    for entry in fs::read_dir(fixture_wheels_dir()).unwrap() {
        let entry = entry.unwrap();
        total += entry.metadata().unwrap().len();
        names.push(entry.file_name().to_string_lossy().to_string());
    }
    assert!(total < 5 * 1024 * 1024, "fixtures/wheels is {total} bytes");
    for required in [
        "hatchling-",
        "setuptools-",
        "trove_classifiers-",
        "tomlkit-",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(required)),
            "{required} missing: {names:?}"
        );
    }
}

#[test]
fn sandboxed_binary_runs_and_reports_usage_errors() {
    let mut plonk = Plonk::new();
    let venv = plonk.make_venv("venv");
    plonk
        .run(["--help"])
        .assert_success()
        .assert_stdout_contains("Usage: plonk");
    let out = plonk.run(["--definitely-not-an-option"]);
    out.assert_failure(2);
    assert_eq!(
        plonk.redact(&format!("{}/bin/python took 0.30s", venv.display())),
        "[VENV]/bin/python took [TIME]"
    );
}
