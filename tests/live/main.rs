//! Live tier: real PyPI and real Tutor. Each test skips, printing why, when PyPI cannot be
//! reached; otherwise failures are real failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod backbone;
mod sources;

/// Whether PyPI answers; prints the reason when it does not.
pub fn pypi_reachable() -> bool {
    let out = Command::new("python3")
        .args([
            "-c",
            "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/tutor/', timeout=15).read(100)",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "SKIPPED: PyPI cannot be reached: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            false
        }
        Err(e) => {
            eprintln!("SKIPPED: cannot run python3 to probe PyPI: {e}");
            false
        }
    }
}

/// A sandbox for one live test: temp HOME, cache, Tutor root.
pub struct Live {
    pub dir: tempfile::TempDir,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Self {
        Live {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn env(&self, cmd: &mut Command) {
        let home = self.path("home");
        std::fs::create_dir_all(&home).expect("home");
        cmd.env("HOME", &home)
            .env("PLONK_CACHE_DIR", self.path("cache"))
            .env("TUTOR_ROOT", self.path("tutor-root"))
            .env("TUTOR_PLUGINS_ROOT", self.path("tutor-plugins"))
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONPATH")
            .env_remove("PIP_FIND_LINKS");
    }

    /// Runs plonk with these arguments.
    pub fn plonk(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plonk"));
        cmd.args(args);
        self.env(&mut cmd);
        let out = cmd.output().expect("run plonk");
        eprintln!(
            "$ plonk {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs a program from a venv's bin folder.
    pub fn venv_bin(&self, venv: &Path, program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(venv.join("bin").join(program));
        cmd.args(args);
        self.env(&mut cmd);
        let out = cmd.output().expect("run venv program");
        eprintln!(
            "$ {program} {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Panics with the output when a command failed.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
mod indexes;
mod mirror;
mod native_build;
