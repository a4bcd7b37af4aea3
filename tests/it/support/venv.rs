//! Real virtualenvs for the integration tests, made by the system `python3 -m venv
//! --without-pip` (about 0.1 s, so no template caching), and ways to run Python inside them.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Environment variables that would make a test Python look outside its venv.
const PYTHON_ENV_LEAKS: &[&str] = &[
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
];

/// The base interpreter: `$PLONK_TEST_PYTHON` when set, else `python3`.
pub fn base_python() -> PathBuf {
    std::env::var_os("PLONK_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Creates a venv (no pip inside) at `dir` with the base interpreter and returns `dir`.
pub fn make_venv(dir: &Path) -> PathBuf {
    make_venv_with(&base_python(), dir)
}

/// Creates a venv at `dir` with the interpreter `python` (e.g. one of `~/.pyenv/versions/*`).
pub fn make_venv_with(python: &Path, dir: &Path) -> PathBuf {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    let out = clean_command(python)
        .args(["-m", "venv", "--without-pip"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "venv creation at {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    dir.to_path_buf()
}

/// The venv's interpreter, `<venv>/bin/python`.
pub fn python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// The venv's scripts folder, `<venv>/bin`.
pub fn bin_dir(venv: &Path) -> PathBuf {
    venv.join("bin")
}

/// The venv's `lib/pythonX.Y/site-packages` (the only one there is).
pub fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let mut found: Vec<PathBuf> = fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", lib.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(|n| n.starts_with("python"))
        })
        .map(|p| p.join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one site-packages under {}",
        lib.display()
    );
    found.remove(0)
}

/// A command for `program` with the variables that leak other Pythons removed and bytecode
/// writing off (so running code does not add `__pycache__` to a snapshot).
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for var in PYTHON_ENV_LEAKS {
        cmd.env_remove(var);
    }
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// Runs `python -c code` inside the venv.
pub fn run_python(venv: &Path, code: &str) -> Output {
    clean_command(python(venv))
        .args(["-c", code])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python in {}: {e}", venv.display()))
}

/// Runs `code` in the venv, asserts it succeeded and returns its trimmed stdout.
#[track_caller]
pub fn python_stdout(venv: &Path, code: &str) -> String {
    let out = run_python(venv, code);
    assert!(
        out.status.success(),
        "python -c {code:?} failed in {}:\n{}",
        venv.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs an installed script of the venv (`<venv>/bin/<name>`) with `args`.
pub fn run_script(venv: &Path, name: &str, args: &[&str]) -> Output {
    let script = bin_dir(venv).join(name);
    clean_command(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}
