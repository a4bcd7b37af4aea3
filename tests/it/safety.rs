//! Crash safety: `PLONK_FAULT=<step>[:n]` makes plonk abort (no unwinding, like a kill) at a
//! named step of an install, an upgrade (replacement) and a remove. The next plonk command on
//! the environment must then finish or undo the change and say so, leaving the file tree equal
//! to the tree before the change (or after it, once the commit point is passed), with every
//! listed distribution importable.

use std::collections::BTreeMap;

use crate::install::{Api, Case};
use crate::support::plonk::RunOutput;
use crate::support::tree::{Snapshot, assert_same_tree};
use crate::support::venv;

/// Runs `plonk <args>` on the case's venv and index with `PLONK_FAULT=fault`.
fn run_with_fault(case: &Case, fault: &str, args: &[&str]) -> RunOutput {
    let mut cmd = case.cmd(args);
    cmd.env("PLONK_FAULT", fault);
    case.plonk.run_cmd(&mut cmd)
}

/// The next command (`plonk list`) recovers and says so.
fn recover(case: &Case) -> RunOutput {
    let out = case.run(&["list"]);
    assert!(
        out.stderr().contains("Recovered"),
        "the next command must say it recovered:\n{}",
        out.stderr()
    );
    out
}

fn assert_killed(out: &RunOutput, fault: &str) {
    assert_eq!(
        out.code(),
        None,
        "PLONK_FAULT={fault} must kill plonk:\n{}\n{}",
        out.stdout(),
        out.stderr()
    );
}

/// Every distribution the venv lists imports its top-level modules.
fn assert_importable(case: &Case) {
    let code = "import importlib.metadata as m, importlib\n\
                for d in m.distributions():\n    \
                  for name in (d.read_text('top_level.txt') or '').split():\n        \
                    importlib.import_module(name)\n\
                print('ok')";
    let out = venv::python_stdout(&case.venv, code);
    assert_eq!(out.trim(), "ok");
}

fn tree(case: &Case) -> BTreeMap<String, Snapshot> {
    case.tree()
}

#[test]
fn install_killed_at_every_step_is_rolled_back() {
    for fault in ["install:1", "install:2", "install:3", "receipt", "commit"] {
        let case = Case::new(Api::Json);
        let before = tree(&case);
        let out = run_with_fault(&case, fault, &["install", "alpha"]);
        assert_killed(&out, fault);
        recover(&case);
        assert_same_tree(&before, &tree(&case));
        assert_importable(&case);
        // And the same install then works.
        case.install(&["alpha"]).assert_success();
    }
}

#[test]
fn install_killed_after_commit_is_completed() {
    let case = Case::new(Api::Json);
    let out = run_with_fault(&case, "committed", &["install", "alpha"]);
    assert_killed(&out, "committed");
    recover(&case);
    let after = tree(&case);
    assert!(case.installed().contains_key("alpha"));
    assert_importable(&case);
    // Nothing left to do: a second recovery trigger is silent and the tree stays.
    let again = case.run(&["list"]);
    assert!(!again.stderr().contains("Recovered"));
    assert_same_tree(&after, &tree(&case));
}

#[test]
fn upgrade_killed_mid_replacement_keeps_the_old_version() {
    for fault in ["uninstall:1", "uninstalled:1", "install:1", "receipt"] {
        let case = Case::new(Api::Json);
        case.install(&["chain-c==1.0"]).assert_success();
        let before = tree(&case);
        let out = run_with_fault(&case, fault, &["install", "chain-c==1.1"]);
        assert_killed(&out, fault);
        recover(&case);
        assert_same_tree(&before, &tree(&case));
        assert_eq!(
            case.installed().get("chain-c").map(String::as_str),
            Some("1.0")
        );
        assert_importable(&case);
    }
}

/// `link:n` stops plonk just before the n-th file of this run's installs is put in place:
/// a package half linked, its `.dist-info` incomplete, a wheel done and the next begun. The
/// journal only names what the run creates (not the whole environment), and that must be
/// enough to take every such file out again, and to put replaced ones back.
#[test]
fn install_killed_mid_link_is_rolled_back() {
    // Into alpha's package, scripts and data, its .dist-info, then the next wheel (chain-b).
    for fault in ["link:1", "link:5", "link:13", "link:16"] {
        let case = Case::new(Api::Json);
        let before = tree(&case);
        let out = run_with_fault(&case, fault, &["install", "alpha"]);
        assert_killed(&out, fault);
        recover(&case);
        assert_same_tree(&before, &tree(&case));
        assert_importable(&case);
        case.install(&["alpha"]).assert_success();
    }
    // A file added to a folder another distribution owns (a namespace package).
    let case = Case::new(Api::Json);
    case.install(&["nsa"]).assert_success();
    let before = tree(&case);
    let out = run_with_fault(&case, "link:2", &["install", "nsb"]);
    assert_killed(&out, "link:2");
    recover(&case);
    assert_same_tree(&before, &tree(&case));
    assert_importable(&case);
    // A replacement: the old version's files come back over the new ones.
    for fault in ["link:1", "link:2", "link:4"] {
        let case = Case::new(Api::Json);
        case.install(&["chain-c==1.0"]).assert_success();
        let before = tree(&case);
        let out = run_with_fault(&case, fault, &["install", "chain-c==1.1"]);
        assert_killed(&out, fault);
        recover(&case);
        assert_same_tree(&before, &tree(&case));
        assert_eq!(
            case.installed().get("chain-c").map(String::as_str),
            Some("1.0")
        );
        assert_importable(&case);
    }
}

#[test]
fn remove_killed_at_every_step_is_rolled_back() {
    for fault in [
        "uninstall:1",
        "uninstall:2",
        "uninstalled:3",
        "receipt",
        "commit",
    ] {
        let case = Case::new(Api::Json);
        case.install(&["alpha"]).assert_success();
        let before = tree(&case);
        let out = run_with_fault(&case, fault, &["remove", "alpha"]);
        assert_killed(&out, fault);
        recover(&case);
        assert_same_tree(&before, &tree(&case));
        assert_importable(&case);
        case.remove(&["alpha"]).assert_success();
    }
}

/// Runs `plonk install <args>` for `venv` in the background.
fn spawn_install(case: &Case, venv: &std::path::Path, args: &[&str]) -> std::process::Child {
    let url = case.index_url();
    let venv = venv.to_string_lossy().to_string();
    let mut all: Vec<&str> = vec![
        "--python",
        &venv,
        "--index-url",
        &url,
        "--no-progress",
        "install",
    ];
    all.extend_from_slice(args);
    case.plonk
        .cmd(all)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn plonk")
}

fn wait_ok(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().expect("wait for plonk");
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_concurrent_installs_into_one_env_both_land() {
    let case = Case::new(Api::Json);
    let a = spawn_install(&case, &case.venv, &["alpha"]);
    let b = spawn_install(&case, &case.venv, &["withextra[fancy]"]);
    wait_ok(a, "install alpha");
    wait_ok(b, "install withextra[fancy]");
    let installed = case.installed();
    for name in ["alpha", "chain-b", "chain-c", "withextra", "fancydep"] {
        assert!(
            installed.contains_key(name),
            "{name} missing: {installed:?}"
        );
    }
    for name in ["alpha", "chain-b", "chain-c", "withextra", "fancydep"] {
        crate::install::assert_record_valid(&case.venv, &case.dist_info(name));
    }
    assert_importable(&case);
}

#[test]
fn two_concurrent_installs_into_two_envs_share_one_cache() {
    let mut case = Case::new(Api::Json);
    let other = case.plonk.make_venv("other");
    // Tutor 22 first (sequentially), so the plugin sdist build is what runs concurrently.
    case.install(&["tutor==22.0.0"]).assert_success();
    wait_ok(
        spawn_install(&case, &other, &["tutor==22.0.0"]),
        "install tutor (second env)",
    );
    let a = spawn_install(&case, &case.venv, &["tutor-indigo"]);
    let b = spawn_install(&case, &other, &["tutor-indigo"]);
    wait_ok(a, "install tutor-indigo (first env)");
    wait_ok(b, "install tutor-indigo (second env)");
    for venv in [&case.venv, &other] {
        let out = venv::python_stdout(
            venv,
            "import importlib.metadata as m; print(m.version('tutor-indigo'))",
        );
        assert_eq!(out.trim(), "22.0.0");
    }
}
