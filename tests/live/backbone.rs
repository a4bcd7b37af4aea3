//! Issue "backbone", live: a venv with real Tutor from PyPI, then `install mfe indigo` from
//! the embedded official index, seen by real `tutor plugins list`.

use crate::{Live, assert_ok, pypi_reachable};

#[test]
fn venv_with_tutor_then_install_mfe_and_indigo() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let venv = live.path("venv");
    let v = venv.to_str().expect("utf-8 path");
    assert_ok(
        &live.plonk(&["venv", v, "--tutor", ">=22,<23"]),
        "plonk venv --tutor",
    );
    assert_ok(
        &live.plonk(&["--python", v, "install", "mfe", "indigo"]),
        "plonk install mfe indigo",
    );

    let list = live.venv_bin(&venv, "tutor", &["plugins", "list"]);
    assert_ok(&list, "tutor plugins list");
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    for plugin in ["mfe", "indigo"] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(plugin))
            .unwrap_or_else(|| panic!("`{plugin}` missing from tutor plugins list:\n{text}"));
        assert!(line.contains("22."), "{plugin} is not at 22.x: {line}");
    }
    assert_ok(
        &live.venv_bin(&venv, "tutor", &["plugins", "enable", "indigo"]),
        "tutor plugins enable indigo",
    );
    let pip = live.venv_bin(&venv, "python", &["-c", "import pip"]);
    assert!(!pip.status.success(), "pip must not be in a plonk venv");
}
