//! Runs the built `plonk` binary hermetically: a temp HOME, cache, Tutor root and plugins root,
//! and none of the caller's VIRTUAL_ENV / PIP_* / PLONK_* settings. Output helpers assert exit
//! codes with the full output in the failure message, and redact paths and timings.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Variables removed from the inherited environment one by one.
const CLEARED: &[&str] = &[
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "TUTOR_ROOT",
    "TUTOR_PLUGINS_ROOT",
    "NETRC",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
];

/// Prefixes of inherited variables that are removed.
const CLEARED_PREFIXES: &[&str] = &["PIP_", "PLONK_", "UV_"];

/// A sandbox for running plonk: every folder it may write to is inside one temp dir.
pub struct Plonk {
    tmp: TempDir,
    /// `$HOME` (also where `~/.netrc` would be).
    pub home: PathBuf,
    /// `$PLONK_CACHE_DIR`.
    pub cache_dir: PathBuf,
    /// `$XDG_CACHE_HOME`.
    pub xdg_cache: PathBuf,
    /// `$TUTOR_ROOT`.
    pub tutor_root: PathBuf,
    /// `$TUTOR_PLUGINS_ROOT`.
    pub plugins_root: PathBuf,
    env: Vec<(OsString, OsString)>,
    redactions: Vec<(String, String)>,
}

impl Default for Plonk {
    fn default() -> Self {
        Self::new()
    }
}

impl Plonk {
    /// A fresh sandbox with empty HOME, caches, Tutor root and plugins root.
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("plonk-it-")
            .tempdir()
            .unwrap();
        let root = tmp.path().to_path_buf();
        let dir = |name: &str| {
            let path = root.join(name);
            fs::create_dir_all(&path).unwrap();
            path
        };
        let home = dir("home");
        let cache_dir = dir("cache");
        let xdg_cache = dir("xdg-cache");
        let tutor_root = dir("tutor-root");
        let plugins_root = dir("tutor-plugins");
        let mut plonk = Self {
            tmp,
            home,
            cache_dir,
            xdg_cache,
            tutor_root,
            plugins_root,
            env: Vec::new(),
            redactions: Vec::new(),
        };
        // Most specific first, so `[CACHE]` wins over `[TMP]`.
        for (path, label) in [
            (plonk.home.clone(), "[HOME]"),
            (plonk.cache_dir.clone(), "[CACHE]"),
            (plonk.xdg_cache.clone(), "[XDG_CACHE]"),
            (plonk.tutor_root.clone(), "[ROOT]"),
            (plonk.plugins_root.clone(), "[PLUGINS]"),
            (root, "[TMP]"),
        ] {
            plonk.add_redaction(&path, label);
        }
        plonk
    }

    /// The sandbox folder; put venvs and package folders here so they are cleaned up too.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// A new folder `name` inside the sandbox.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let path = self.tmp.path().join(name);
        fs::create_dir_all(&path).unwrap();
        path
    }

    /// A real venv (no pip) at `<sandbox>/<name>`, redacted as `[VENV]` in output.
    pub fn make_venv(&mut self, name: &str) -> PathBuf {
        let venv = super::venv::make_venv(&self.tmp.path().join(name));
        self.add_redaction(&venv, "[VENV]");
        venv
    }

    /// Sets an extra variable on every command (e.g. `PLONK_INDEX_URL`).
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Replaces `path` by `label` in [`Plonk::redact`]; later, longer paths should be added
    /// before shorter ones they contain.
    pub fn add_redaction(&mut self, path: &Path, label: &str) -> &mut Self {
        let raw = path.to_string_lossy().to_string();
        if let Ok(canonical) = path.canonicalize() {
            let canonical = canonical.to_string_lossy().to_string();
            if canonical != raw {
                self.redactions.insert(0, (canonical, label.to_string()));
            }
        }
        self.redactions.insert(0, (raw, label.to_string()));
        // Keep longest paths first so a label never replaces part of a longer one.
        self.redactions
            .sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        self
    }

    /// A command for the built binary with the sandbox's environment and `args`.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plonk"));
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if CLEARED.contains(&name.as_ref())
                || CLEARED_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                cmd.env_remove(&key);
            }
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CACHE_HOME", &self.xdg_cache)
            .env("PLONK_CACHE_DIR", &self.cache_dir)
            .env("TUTOR_ROOT", &self.tutor_root)
            .env("TUTOR_PLUGINS_ROOT", &self.plugins_root)
            .env("NO_COLOR", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(self.tmp.path());
        // The fake index listens on loopback: never send that through a proxy.
        for var in ["NO_PROXY", "no_proxy"] {
            let mut value = std::env::var(var).unwrap_or_default();
            if !value.is_empty() {
                value.push(',');
            }
            value.push_str("127.0.0.1,localhost,::1");
            cmd.env(var, value);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd.args(args);
        cmd
    }

    /// Runs plonk with `args` and captures its output.
    pub fn run<I, S>(&self, args: I) -> RunOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.cmd(args);
        self.run_cmd(&mut cmd)
    }

    /// Runs a command made by [`Plonk::cmd`] (after the caller adjusted it).
    pub fn run_cmd(&self, cmd: &mut Command) -> RunOutput {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().to_string())
            .collect();
        let output = cmd.output().expect("the plonk binary runs");
        RunOutput {
            command: format!("plonk {}", args.join(" ")),
            output,
            redactions: self.redactions.clone(),
        }
    }

    /// `text` with the sandbox paths replaced by labels and durations by `[TIME]`.
    pub fn redact(&self, text: &str) -> String {
        redact_with(&self.redactions, text)
    }
}

fn redact_with(redactions: &[(String, String)], text: &str) -> String {
    let mut text = text.to_string();
    for (path, label) in redactions {
        if !path.is_empty() {
            text = text.replace(path.as_str(), label);
        }
    }
    redact_timings(&text)
}

/// Replaces durations such as `0.21s`, `4ms`, `12µs`, `1.5 s` by `[TIME]`.
pub fn redact_timings(text: &str) -> String {
    const UNITS: &[&str] = &["ms", "µs", "us", "ns", "s"];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
        if starts_number {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            let mut k = j;
            if k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            let rest: String = chars[k..chars.len().min(k + 2)].iter().collect();
            let unit = UNITS.iter().find(|u| rest.starts_with(**u));
            if let Some(unit) = unit {
                let end = k + unit.chars().count();
                let boundary = end >= chars.len() || !chars[end].is_alphanumeric();
                if boundary {
                    out.push_str("[TIME]");
                    i = end;
                    continue;
                }
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The result of one plonk run.
pub struct RunOutput {
    /// The command line, for failure messages.
    pub command: String,
    /// The raw process output.
    pub output: Output,
    redactions: Vec<(String, String)>,
}

impl RunOutput {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).to_string()
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).to_string()
    }

    /// Standard output with paths and timings redacted.
    pub fn stdout_redacted(&self) -> String {
        redact_with(&self.redactions, &self.stdout())
    }

    /// Standard error with paths and timings redacted.
    pub fn stderr_redacted(&self) -> String {
        redact_with(&self.redactions, &self.stderr())
    }

    /// Standard output parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|e| {
            panic!(
                "{} printed no JSON ({e}):\n{}",
                self.command,
                self.describe()
            )
        })
    }

    /// The exit code (`None` when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn describe(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.output.status.code(),
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.output.status.success(),
            "`{}` failed:\n{}",
            self.command,
            self.describe()
        );
        self
    }

    /// Asserts the given non-zero exit code and that no panic or backtrace reached the user.
    #[track_caller]
    pub fn assert_failure(&self, code: i32) -> &Self {
        assert_eq!(
            self.output.status.code(),
            Some(code),
            "`{}` should exit with {code}:\n{}",
            self.command,
            self.describe()
        );
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
            "`{}` panicked:\n{}",
            self.command,
            self.describe()
        );
        self
    }

    /// Asserts that stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout().contains(needle),
            "`{}` stdout lacks {needle:?}:\n{}",
            self.command,
            self.describe()
        );
        self
    }

    /// Asserts that stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr().contains(needle),
            "`{}` stderr lacks {needle:?}:\n{}",
            self.command,
            self.describe()
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_are_redacted_and_versions_kept() {
        let rows = [
            (
                "Resolved 44 packages in 0.21s · Downloaded 2 in 0.30s · Installed 2 in 4ms",
                "Resolved 44 packages in [TIME] · Downloaded 2 in [TIME] · Installed 2 in [TIME]",
            ),
            (" + tutor-mfe==22.1.0", " + tutor-mfe==22.1.0"),
            ("took 12µs and 1.5 s", "took [TIME] and [TIME]"),
            ("python3.11 sumac 2 sources", "python3.11 sumac 2 sources"),
            ("v1.2s", "v1.2s"),
            ("", ""),
        ];
        for (input, expected) in rows {
            assert_eq!(redact_timings(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn sandbox_paths_are_redacted() {
        let plonk = Plonk::new();
        let text = format!(
            "{}/x {}/wheels {}",
            plonk.home.display(),
            plonk.cache_dir.display(),
            plonk.tmp().join("venv").display()
        );
        assert_eq!(plonk.redact(&text), "[HOME]/x [CACHE]/wheels [TMP]/venv");
    }
}
