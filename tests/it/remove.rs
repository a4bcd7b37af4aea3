//! `plonk remove` acceptance tests of the backbone issue: installing then removing any fixture
//! leaves the venv's file tree (paths and contents) as it was, plonk's own record aside; a
//! shared namespace package keeps the other distribution's files; dependencies go with the
//! plugin unless `--keep-deps` or something else needs them; a plugin enabled in the Tutor
//! project is refused unless `--force`.

use std::fs;

use crate::install::{Case, assert_clean_failure, assert_installed, each_api};
use crate::support::packages::WheelBuilder;
use crate::support::tree::assert_same_tree;
use crate::support::venv;

/// Installs `install`, removes `remove`, and asserts the venv is back to where it started.
#[track_caller]
fn round_trip(case: &Case, install: &[&str], remove: &[&str]) {
    let before = case.tree();
    let installed_before = case.installed();
    case.install(install).assert_success();
    assert_ne!(
        before,
        case.tree(),
        "installing {install:?} changed nothing"
    );
    case.remove(remove).assert_success();
    assert_same_tree(&before, &case.tree());
    assert_eq!(
        case.installed(),
        installed_before,
        "after removing {remove:?}"
    );
}

#[test]
fn install_then_remove_leaves_an_identical_tree() {
    each_api(|case| {
        // Scripts, `.data` of every kind, and a dependency chain that goes with it.
        round_trip(case, &["alpha"], &["alpha"]);
        // Byte-compiled files (`__pycache__`) go too.
        let before = case.tree();
        case.install(&["--compile", "alpha"]).assert_success();
        let site = venv::site_packages(&case.venv);
        assert!(
            site.join("alpha/__pycache__").is_dir(),
            "--compile wrote no bytecode"
        );
        case.remove(&["alpha"]).assert_success();
        assert_same_tree(&before, &case.tree());
        round_trip(case, &["markered"], &["markered"]);
        round_trip(case, &["withextra[fancy]"], &["withextra"]);
        // An extra added to an installed package: its dependency goes with the package.
        let before = case.tree();
        case.install(&["withextra"]).assert_success();
        case.install(&["withextra[fancy]"]).assert_success();
        case.remove(&["withextra"]).assert_success();
        assert_same_tree(&before, &case.tree());
        // An upgraded package: the new version's files go, none of the old one's remain.
        case.install(&["yanky==1.0"]).assert_success();
        case.install(&["yanky==2.0"]).assert_success();
        case.remove(&["yanky"]).assert_success();
        assert_same_tree(&before, &case.tree());
        // A reinstall.
        case.install(&["alpha"]).assert_success();
        case.install(&["--reinstall", "alpha"]).assert_success();
        case.remove(&["alpha"]).assert_success();
        assert_same_tree(&before, &case.tree());
        round_trip(case, &["yanky==2.0"], &["yanky"]);
        round_trip(case, &["futurepy"], &["futurepy"]);
        // Several at once.
        round_trip(case, &["alpha", "markered"], &["markered", "alpha"]);
    });
}

#[test]
fn install_then_remove_built_sdists_leaves_an_identical_tree() {
    each_api(|case| {
        // setuptools (PEP 517) with its setup.py-only dependency.
        round_trip(case, &["setupy"], &["setupy"]);
        // A hatchling Tutor plugin: Tutor itself stays, it was asked for on its own.
        case.install(&["tutor==22.0.0"]).assert_success();
        round_trip(case, &["tutor-indigo"], &["indigo"]);
        // By plugin name, through the (local) plugin index.
        round_trip(case, &["indigo"], &["indigo"]);
        round_trip(case, &["indigo"], &["tutor-indigo"]);
        round_trip(case, &["tutor-indigo"], &["tutor-indigo"]);
        assert_installed(case, &[("tutor", "22.0.0")]);
    });
}

#[test]
fn a_shared_namespace_package_keeps_the_other_distributions_files() {
    each_api(|case| {
        let before = case.tree();
        case.install(&["nsa", "nsb"]).assert_success();
        case.remove(&["nsa"]).assert_success();
        let site = venv::site_packages(&case.venv);
        assert!(!site.join("nsshared/a.py").exists());
        assert!(site.join("nsshared/b.py").is_file());
        assert_eq!(
            venv::python_stdout(&case.venv, "import nsshared.b; print(nsshared.b.NAME)"),
            "b"
        );
        assert_installed(case, &[("nsb", "1.0")]);
        case.remove(&["nsb"]).assert_success();
        assert_same_tree(&before, &case.tree());

        // The other order, and both in one command.
        case.install(&["nsb", "nsa"]).assert_success();
        case.remove(&["nsb", "nsa"]).assert_success();
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn dependencies_go_with_the_package_unless_keep_deps() {
    each_api(|case| {
        let before = case.tree();
        case.install(&["alpha"]).assert_success();
        let out = case.remove(&["alpha"]);
        out.assert_success();
        for gone in ["alpha", "chain-b", "chain-c"] {
            out.assert_stdout_contains(&format!("- {gone}=="));
        }
        assert_installed(case, &[]);
        assert_same_tree(&before, &case.tree());

        case.install(&["alpha"]).assert_success();
        case.remove(&["--keep-deps", "alpha"]).assert_success();
        assert_installed(case, &[("chain-b", "1.0"), ("chain-c", "1.1")]);
        // What was kept stays, also through later removals of unrelated packages.
        case.install(&["nsa"]).assert_success();
        case.remove(&["nsa"]).assert_success();
        assert_installed(case, &[("chain-b", "1.0"), ("chain-c", "1.1")]);
        // And it can be removed by name.
        case.remove(&["chain-b", "chain-c"]).assert_success();
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn a_dependency_something_else_needs_is_kept() {
    each_api(|case| {
        WheelBuilder::new("gamma", "1.0")
            .summary("gamma fixture")
            .file("gamma/__init__.py", "")
            .requires("chain-c")
            .build(&case.dists);
        let before = case.tree();

        // Needed by another package plonk installed.
        case.install(&["alpha"]).assert_success();
        case.install(&["gamma"]).assert_success();
        case.remove(&["alpha"]).assert_success();
        assert_installed(case, &[("chain-c", "1.1"), ("gamma", "1.0")]);
        case.remove(&["gamma"]).assert_success();
        assert_installed(case, &[]);
        assert_same_tree(&before, &case.tree());

        // Asked for by the user before it became a dependency.
        case.install(&["chain-c"]).assert_success();
        case.install(&["alpha"]).assert_success();
        case.remove(&["alpha"]).assert_success();
        assert_installed(case, &[("chain-c", "1.1")]);
        case.remove(&["chain-c"]).assert_success();
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn an_enabled_plugin_is_refused_unless_forced() {
    each_api(|case| {
        case.install(&["tutor==21.0.0"]).assert_success();
        let before = case.tree();
        case.install(&["tutor-legacy"]).assert_success();
        case.write_tutor_config("PLUGINS:\n- legacy\nOTHER_KEY: kept\n");
        let config = fs::read_to_string(case.tutor_config()).unwrap();
        let installed = case.tree();
        for name in ["legacy", "tutor-legacy"] {
            let out = case.remove(&[name]);
            assert_clean_failure(&out, &["legacy"]);
            out.assert_stderr_contains("tutor plugins disable legacy");
            assert_same_tree(&installed, &case.tree());
        }
        let out = case.remove(&["--force", "legacy"]);
        out.assert_success();
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[("tutor", "21.0.0")]);
        // The Tutor project's config is not plonk's to edit.
        assert_eq!(fs::read_to_string(case.tutor_config()).unwrap(), config);
    });
}

#[test]
fn removing_what_is_not_installed_fails_clearly() {
    each_api(|case| {
        case.install(&["nsa"]).assert_success();
        let before = case.tree();
        let out = case.remove(&["nosuchplugin"]);
        assert_clean_failure(&out, &["nosuchplugin"]);
        // A bad name among good ones removes nothing.
        let out = case.remove(&["nsa", "nosuchplugin"]);
        assert_clean_failure(&out, &["nosuchplugin"]);
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn a_plugin_that_brought_tutor_takes_it_away_again() {
    each_api(|case| {
        // tutor-legacy needs tutor<22: in an empty venv plonk installs tutor 21 for it.
        round_trip(case, &["legacy"], &["legacy"]);
    });
}
