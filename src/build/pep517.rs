//! PEP 517 builds: an isolated build environment created by plonk (no pip inside), filled
//! through the [`BuildEnv`] seam, and the backend's hooks run by a small Python driver that
//! plonk ships (`driver.py`).
//!
//! The driver writes each hook's result to a JSON file, because backends print freely on
//! stdout; their stdout and stderr go to a log per hook whose tail is put in the error on
//! failure.
//!
//! Consecutive hooks of one build share one driver process (a session: request file names on
//! its stdin, one line back on its stdout per finished hook), so the interpreter starts and
//! the backend is imported once rather than once per hook. A session ends when build
//! requirements are installed between hooks, when a hook fails or times out, and when the
//! [`Pep517Build`] is dropped.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::sdist::{BuildSystem, Project, read_pyproject};
use super::{BoxError, BuildError};
use crate::cache::Cache;
use crate::dist::{Metadata, PackageName, Requirement, WheelFilename};
use crate::environment::{Interpreter, PythonEnvironment, create_venv, create_venv_for};

/// The hook driver, run as `python -I -u driver.py --session WORKDIR`.
const DRIVER: &str = include_str!("driver.py");
/// How long a driver told to stop (stdin closed) may take to exit before it is killed.
const SESSION_GRACE: Duration = Duration::from_secs(2);
/// How often a waiting hook checks that its driver is still alive.
const SESSION_POLL: Duration = Duration::from_millis(20);
/// How long one hook may run by default.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(600);
/// The backend used when `pyproject.toml` names none (PEP 517's legacy fallback).
pub const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
/// The build requirement used when `pyproject.toml` has no `[build-system]` (as pip does).
pub const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";
/// Lines of backend output kept in errors.
const OUTPUT_TAIL_LINES: usize = 50;
/// Bytes read from the end of the log to find those lines.
const OUTPUT_TAIL_BYTES: u64 = 64 * 1024;
/// The biggest METADATA read from a built wheel.
const MAX_METADATA: u64 = 16 << 20;

/// Installs requirements into a build environment. ops implements it with plonk's own
/// resolver and installer, so pip is never needed.
pub trait BuildEnv {
    /// Installs `requirements` (and their dependencies) into `env`.
    fn install(
        &self,
        env: &PythonEnvironment,
        requirements: &[Requirement],
    ) -> Result<(), BoxError>;
}

/// Knobs of a PEP 517 build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The longest one hook may run before it is killed.
    pub timeout: Duration,
    /// PEP 517 `config_settings` passed to every hook.
    pub config_settings: BTreeMap<String, String>,
    /// The distribution name the result must have (e.g. from the sdist filename or the
    /// requirement); the project's static `[project] name` is always checked too.
    pub expected_name: Option<PackageName>,
    /// The base interpreter, already described (plonk's target interpreter): the build
    /// environment is made from it without querying `base_python` again.
    pub interpreter: Option<Interpreter>,
    /// Set by the caller once the build's result is no longer wanted (a build started on a
    /// guess, and the command is done): a running hook's driver is killed at once and the
    /// build fails with [`BuildError::Cancelled`], so the process need not wait for it.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_HOOK_TIMEOUT,
            config_settings: BTreeMap::new(),
            expected_name: None,
            interpreter: None,
            cancel: None,
        }
    }
}

/// Builds a wheel of the project in `project_dir` into `out_dir` and returns its path, in a
/// fresh isolated build environment made from `base_python`.
pub fn build_wheel(
    project_dir: &Path,
    out_dir: &Path,
    base_python: &Path,
    env: &dyn BuildEnv,
    cache: Option<&Cache>,
) -> Result<PathBuf, BuildError> {
    Pep517Build::new(
        project_dir,
        base_python,
        env,
        cache,
        BuildOptions::default(),
    )?
    .build_wheel(out_dir)
}

/// The metadata of the project in `project_dir`, from `prepare_metadata_for_build_wheel`, or
/// from a built wheel when the backend lacks that hook.
pub fn prepare_metadata(
    project_dir: &Path,
    base_python: &Path,
    env: &dyn BuildEnv,
    cache: Option<&Cache>,
) -> Result<Metadata, BuildError> {
    Pep517Build::new(
        project_dir,
        base_python,
        env,
        cache,
        BuildOptions::default(),
    )?
    .prepare_metadata()
}

/// The build system of a project, with PEP 517's defaults for legacy projects.
pub fn effective_build_system(build_system: Option<BuildSystem>) -> BuildSystem {
    match build_system {
        Some(system) => BuildSystem {
            build_backend: Some(
                system
                    .build_backend
                    .unwrap_or_else(|| LEGACY_BACKEND.to_string()),
            ),
            ..system
        },
        None => BuildSystem {
            // A constant that parses; an empty list would only mean a broken build later.
            requires: Requirement::from_str(LEGACY_REQUIRES).into_iter().collect(),
            build_backend: Some(LEGACY_BACKEND.to_string()),
            backend_path: Vec::new(),
        },
    }
}

/// One project prepared for PEP 517 hooks: its build environment exists and holds both the
/// static (`build-system.requires`) and dynamic (`get_requires_for_build_wheel`) build
/// requirements. Asking for metadata then for the wheel reuses the environment, and a wheel
/// built only to read its metadata is not built twice.
pub struct Pep517Build {
    project_dir: PathBuf,
    backend: String,
    backend_path: Vec<PathBuf>,
    project: Option<Project>,
    options: BuildOptions,
    venv: PythonEnvironment,
    /// The running driver, if any. Declared before `work`: fields drop in order, so the
    /// driver is stopped (see `Session`'s `Drop`) before its folder is deleted.
    session: RefCell<Option<Session>>,
    /// Holds the driver, the build environment, requests, results and logs.
    work: tempfile::TempDir,
    driver: PathBuf,
    hook_runs: Cell<u32>,
    /// A wheel built by the metadata fallback, moved out by [`Pep517Build::build_wheel`].
    built: RefCell<Option<PathBuf>>,
}

/// A driver process running hooks one request at a time (see `driver.py`).
struct Session {
    child: Child,
    /// The driver's stdin; closing it (`None`) asks the driver to exit.
    requests: Option<ChildStdin>,
    /// The driver's control lines: the request name of each hook whose result is written.
    done: mpsc::Receiver<String>,
}

/// How waiting for one hook ended.
enum Exchange {
    /// The driver wrote the result file.
    Done,
    /// The hook outlived the timeout; the driver is still running.
    TimedOut,
    /// The driver exited before finishing the hook.
    Exited(ExitStatus),
    /// The driver's state could not be queried.
    WaitFailed(std::io::Error),
    /// The caller no longer wants the result.
    Cancelled,
}

impl Session {
    /// Sends one request and waits for its answer, the driver's death, `timeout` or `cancel`.
    fn exchange(
        &mut self,
        request_name: &str,
        timeout: Duration,
        cancel: Option<&AtomicBool>,
    ) -> Exchange {
        let deadline = Instant::now() + timeout;
        let sent = self.requests.as_mut().is_some_and(|stdin| {
            writeln!(stdin, "{request_name}")
                .and_then(|()| stdin.flush())
                .is_ok()
        });
        if !sent {
            // The driver closed its stdin, so it is exiting: report how it ended.
            self.requests = None;
        }
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Exchange::TimedOut;
            }
            if cancel.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
                return Exchange::Cancelled;
            }
            let slice = (deadline - now).min(SESSION_POLL);
            match self.done.recv_timeout(slice) {
                Ok(name) if name == request_name => return Exchange::Done,
                // Not an answer to this request: keep waiting.
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                // The control pipe is closed: the driver is gone or going.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(slice),
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    // An answer sent just before exiting still counts.
                    if self.done.try_iter().any(|name| name == request_name) {
                        return Exchange::Done;
                    }
                    return Exchange::Exited(status);
                }
                Ok(None) => {}
                Err(err) => return Exchange::WaitFailed(err),
            }
        }
    }

    /// Stops the driver now. Only the driver is killed; a backend's subprocess still running
    /// holds nothing of ours but its hook's log.
    fn kill(&mut self) {
        self.requests = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Session {
    /// Closes the driver's stdin (its signal to exit) and waits a little, then kills it: no
    /// driver outlives its build.
    fn drop(&mut self) {
        self.requests = None;
        let deadline = Instant::now() + SESSION_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    self.kill();
                    return;
                }
            }
        }
    }
}

/// What a hook call gave.
enum HookOutcome {
    Value(Value),
    /// The backend does not define this (optional) hook.
    Missing,
}

impl Pep517Build {
    /// Reads the project's build system, creates the build environment from `base_python`
    /// and installs the build requirements through `env`.
    pub fn new(
        project_dir: &Path,
        base_python: &Path,
        env: &dyn BuildEnv,
        cache: Option<&Cache>,
        options: BuildOptions,
    ) -> Result<Self, BuildError> {
        let project_dir = project_dir
            .canonicalize()
            .map_err(|err| BuildError::io("find the project folder", project_dir, err))?;
        let pyproject = read_pyproject(&project_dir)?;
        let system = effective_build_system(pyproject.build_system);
        let backend = system
            .build_backend
            .clone()
            .unwrap_or_else(|| LEGACY_BACKEND.to_string());
        if !is_valid_backend(&backend) {
            return Err(BuildError::InvalidBackend {
                project: project_dir,
                backend,
            });
        }
        let backend_path = system
            .backend_path
            .iter()
            .map(|entry| resolve_backend_path(&project_dir, entry))
            .collect::<Result<Vec<_>, _>>()?;

        let work = tempfile::Builder::new()
            .prefix("plonk-build-")
            .tempdir()
            .map_err(|err| {
                BuildError::io("create a temporary folder in", std::env::temp_dir(), err)
            })?;
        let driver = work.path().join("plonk_pep517_driver.py");
        fs::write(&driver, DRIVER).map_err(|err| BuildError::io("write", &driver, err))?;
        let venv_dir = work.path().join("env");
        let venv = match &options.interpreter {
            Some(base) => create_venv_for(&venv_dir, base),
            None => create_venv(&venv_dir, base_python, cache),
        }
        .map_err(|err| BuildError::CreateEnv {
            project: project_dir.clone(),
            source: Box::new(err),
        })?;

        let build = Self {
            project_dir,
            backend,
            backend_path,
            project: pyproject.project,
            options,
            venv,
            session: RefCell::new(None),
            work,
            driver,
            hook_runs: Cell::new(0),
            built: RefCell::new(None),
        };
        build.install(env, &system.requires, "build-system.requires")?;

        let dynamic =
            match build.run_hook("get_requires_for_build_wheel", json!([build.config()]))? {
                HookOutcome::Missing => Vec::new(),
                HookOutcome::Value(value) => build.parse_requires(value)?,
            };
        if !dynamic.is_empty() {
            // The running interpreter would not see what is installed now: site.py reads the
            // `.pth` files of site-packages only at start-up (setuptools' distutils shim,
            // namespace packages, editable paths), so later hooks need a fresh process.
            build.end_session();
        }
        build.install(env, &dynamic, "get_requires_for_build_wheel")?;
        Ok(build)
    }

    /// The project folder (canonical).
    pub fn project_dir(&self) -> &Path {
        &self.project_dir
    }

    /// The build environment.
    pub fn environment(&self) -> &PythonEnvironment {
        &self.venv
    }

    /// Builds the wheel into `out_dir` (created if missing) and returns its path. The wheel is
    /// staged in a temporary folder inside `out_dir` and renamed into place once validated.
    pub fn build_wheel(&self, out_dir: &Path) -> Result<PathBuf, BuildError> {
        fs::create_dir_all(out_dir)
            .map_err(|err| BuildError::io("create the folder", out_dir, err))?;
        let staged = self.built.borrow_mut().take();
        let (wheel, filename, _stage) = match staged {
            Some(wheel) => {
                let filename = file_name_of(&wheel);
                (wheel, filename, None)
            }
            None => {
                let stage = tempfile::Builder::new()
                    .prefix(".plonk-build-")
                    .tempdir_in(out_dir)
                    .map_err(|err| BuildError::io("create a temporary folder in", out_dir, err))?;
                let (wheel, _) = self.run_build_wheel(stage.path())?;
                let filename = file_name_of(&wheel);
                (wheel, filename, Some(stage))
            }
        };
        let dest = out_dir.join(&filename);
        if fs::rename(&wheel, &dest).is_err() {
            // Across filesystems (the metadata fallback builds in the temp folder): copy to a
            // temporary name beside the destination, then rename.
            let partial = out_dir.join(format!(".{filename}.part"));
            fs::copy(&wheel, &partial).map_err(|err| BuildError::io("copy", &wheel, err))?;
            fs::rename(&partial, &dest).map_err(|err| BuildError::io("move", &partial, err))?;
        }
        Ok(dest)
    }

    /// The project's metadata: `prepare_metadata_for_build_wheel`, else (hook missing) the
    /// METADATA of a wheel built for the purpose and kept for [`Pep517Build::build_wheel`].
    pub fn prepare_metadata(&self) -> Result<Metadata, BuildError> {
        let run = self.hook_runs.get();
        let metadata_dir = self.work.path().join(format!("metadata-{run}"));
        fs::create_dir_all(&metadata_dir)
            .map_err(|err| BuildError::io("create the folder", &metadata_dir, err))?;
        let hook = "prepare_metadata_for_build_wheel";
        let metadata_arg = self.path_arg(&metadata_dir)?;
        let metadata = match self.run_hook(hook, json!([metadata_arg, self.config()]))? {
            HookOutcome::Value(value) => {
                let name = self.single_file_name(hook, &value, ".dist-info")?;
                let path = metadata_dir.join(name).join("METADATA");
                let bytes = fs::read(&path).map_err(|err| BuildError::io("read", &path, err))?;
                Metadata::parse(&bytes).map_err(|source| BuildError::Metadata {
                    subject: self.project_dir.clone(),
                    source,
                })?
            }
            HookOutcome::Missing => {
                let wheel_dir = self.work.path().join(format!("wheel-{run}"));
                fs::create_dir_all(&wheel_dir)
                    .map_err(|err| BuildError::io("create the folder", &wheel_dir, err))?;
                let (wheel, _) = self.run_build_wheel(&wheel_dir)?;
                let metadata = read_wheel_metadata(&wheel)?;
                *self.built.borrow_mut() = Some(wheel);
                metadata
            }
        };
        self.check_identity(metadata.name.as_ref(), &metadata.name, &metadata.version)?;
        Ok(metadata)
    }

    /// Runs `build_wheel` into `wheel_dir` and validates what the backend says it built.
    fn run_build_wheel(&self, wheel_dir: &Path) -> Result<(PathBuf, WheelFilename), BuildError> {
        let hook = "build_wheel";
        let wheel_arg = self.path_arg(wheel_dir)?;
        let value = match self.run_hook(hook, json!([wheel_arg, self.config(), Value::Null]))? {
            HookOutcome::Value(value) => value,
            HookOutcome::Missing => {
                return Err(BuildError::HookResult {
                    project: self.project_dir.clone(),
                    hook,
                    reason: "the backend has no `build_wheel` hook".to_string(),
                });
            }
        };
        let name = self.single_file_name(hook, &value, ".whl")?;
        let invalid = |reason: String| BuildError::InvalidWheel {
            project: self.project_dir.clone(),
            filename: name.clone(),
            reason,
        };
        let filename = WheelFilename::from_str(&name).map_err(|err| invalid(err.to_string()))?;
        let path = wheel_dir.join(&name);
        if !fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
            return Err(invalid(format!(
                "the backend did not write it to `{}`",
                wheel_dir.display()
            )));
        }
        self.check_identity(&name, &filename.name, &filename.version)?;
        Ok((path, filename))
    }

    /// The result must be the project asked for: its static name and version, and the
    /// caller's expected name.
    fn check_identity(
        &self,
        subject: &str,
        name: &PackageName,
        version: &crate::dist::Version,
    ) -> Result<(), BuildError> {
        let invalid = |reason: String| BuildError::InvalidWheel {
            project: self.project_dir.clone(),
            filename: subject.to_string(),
            reason,
        };
        let expected_names = self
            .project
            .as_ref()
            .map(|project| &project.name)
            .into_iter()
            .chain(self.options.expected_name.as_ref());
        for expected in expected_names {
            if expected != name {
                return Err(invalid(format!("it is `{name}`, not `{expected}`")));
            }
        }
        if let Some(expected) = self.project.as_ref().and_then(|p| p.version.as_ref())
            && expected != version
        {
            return Err(invalid(format!(
                "its version is {version}, but pyproject.toml says {expected}"
            )));
        }
        Ok(())
    }

    /// A hook result that must be the bare name of something it created (`x.whl`,
    /// `x.dist-info`): a string, one path component, with the given suffix.
    fn single_file_name(
        &self,
        hook: &'static str,
        value: &Value,
        suffix: &str,
    ) -> Result<String, BuildError> {
        let invalid = |reason: String| BuildError::HookResult {
            project: self.project_dir.clone(),
            hook,
            reason,
        };
        let Some(name) = value.as_str() else {
            return Err(invalid(format!("expected a file name, got `{value}`")));
        };
        let mut components = Path::new(name).components();
        let single = matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        );
        if !single || name.contains('/') || name.contains('\\') {
            return Err(invalid(format!("`{name}` is not a plain file name")));
        }
        if !name.ends_with(suffix) {
            return Err(invalid(format!("`{name}` does not end with `{suffix}`")));
        }
        Ok(name.to_string())
    }

    fn parse_requires(&self, value: Value) -> Result<Vec<Requirement>, BuildError> {
        let invalid = |reason: String| BuildError::HookResult {
            project: self.project_dir.clone(),
            hook: "get_requires_for_build_wheel",
            reason,
        };
        let Value::Array(items) = value else {
            return Err(invalid(format!(
                "expected a list of requirements, got `{value}`"
            )));
        };
        items
            .iter()
            .map(|item| {
                let text = item
                    .as_str()
                    .ok_or_else(|| invalid(format!("`{item}` is not a string")))?;
                crate::dist::parse_requirement(text).map_err(|err| invalid(err.to_string()))
            })
            .collect()
    }

    fn install(
        &self,
        env: &dyn BuildEnv,
        requirements: &[Requirement],
        stage: &'static str,
    ) -> Result<(), BuildError> {
        if requirements.is_empty() {
            return Ok(());
        }
        env.install(&self.venv, requirements)
            .map_err(|source| BuildError::InstallRequirements {
                project: self.project_dir.clone(),
                stage,
                requirements: requirements
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                source,
            })
    }

    /// Whether the caller no longer wants this build (see [`BuildOptions::cancel`]).
    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// A path as a hook argument: a JSON string, so it must be valid UTF-8 (serializing a
    /// `Path` that is not would panic).
    fn path_arg(&self, path: &Path) -> Result<Value, BuildError> {
        path.to_str()
            .map(|text| Value::String(text.to_string()))
            .ok_or_else(|| BuildError::NonUtf8Path {
                project: self.project_dir.clone(),
                path: path.to_path_buf(),
            })
    }

    /// `config_settings` as PEP 517 hooks receive it: `None` when empty, as pip does.
    fn config(&self) -> Value {
        if self.options.config_settings.is_empty() {
            Value::Null
        } else {
            json!(self.options.config_settings)
        }
    }

    /// Runs one hook through the driver in the build environment, in the current session
    /// (started if there is none). Any failure ends the session, so the next hook starts
    /// from a fresh interpreter.
    fn run_hook(&self, hook: &'static str, args: Value) -> Result<HookOutcome, BuildError> {
        if self.cancelled() {
            self.end_session();
            return Err(BuildError::Cancelled {
                project: self.project_dir.clone(),
            });
        }
        let outcome = self.run_hook_in_session(hook, args);
        if !matches!(outcome, Ok(HookOutcome::Value(_) | HookOutcome::Missing)) {
            self.end_session();
        }
        outcome
    }

    fn run_hook_in_session(
        &self,
        hook: &'static str,
        args: Value,
    ) -> Result<HookOutcome, BuildError> {
        let run = self.hook_runs.get() + 1;
        self.hook_runs.set(run);
        let request_name = format!("hook-{run}.json");
        let result_name = format!("hook-{run}-result.json");
        let log_name = format!("hook-{run}.log");
        let request_path = self.work.path().join(&request_name);
        let result_path = self.work.path().join(&result_name);
        let log_path = self.work.path().join(&log_name);
        // File names, not paths: the driver finds them in the folder named on its command
        // line, so the temporary folder's path need not be valid UTF-8 for JSON.
        let backend_path = self
            .backend_path
            .iter()
            .map(|path| self.path_arg(path))
            .collect::<Result<Vec<_>, _>>()?;
        let request = json!({
            "backend": self.backend,
            "backend_path": backend_path,
            "hook": hook,
            "args": args,
            "result": result_name,
            "log": log_name,
        });
        fs::write(&request_path, request.to_string())
            .map_err(|err| BuildError::io("write", &request_path, err))?;
        // Created here so that it exists even when the driver dies before opening it; a new
        // driver's own start-up errors land in it too.
        let log =
            File::create(&log_path).map_err(|err| BuildError::io("create", &log_path, err))?;

        let mut slot = self.session.borrow_mut();
        let session = match slot.take() {
            Some(session) => slot.insert(session),
            None => slot.insert(self.start_session(hook, log)?),
        };
        let failed = |extra: Option<String>| {
            let mut output = output_tail(&log_path);
            if let Some(extra) = extra {
                if !output.is_empty() && !output.ends_with('\n') {
                    output.push('\n');
                }
                output.push_str(&extra);
            }
            BuildError::HookFailed {
                project: self.project_dir.clone(),
                hook,
                output,
            }
        };
        let cancel = self.options.cancel.as_deref();
        match session.exchange(&request_name, self.options.timeout, cancel) {
            Exchange::Done => {}
            Exchange::Cancelled => {
                session.kill();
                return Err(BuildError::Cancelled {
                    project: self.project_dir.clone(),
                });
            }
            Exchange::TimedOut => {
                session.kill();
                return Err(BuildError::HookTimeout {
                    project: self.project_dir.clone(),
                    hook,
                    timeout: self.options.timeout,
                    output: output_tail(&log_path),
                });
            }
            Exchange::Exited(status) => {
                return Err(failed(Some(format!(
                    "(the hook driver exited with {status})"
                ))));
            }
            Exchange::WaitFailed(source) => {
                session.kill();
                return Err(BuildError::Spawn {
                    project: self.project_dir.clone(),
                    hook,
                    python: self.venv.interpreter.executable.clone(),
                    source,
                });
            }
        }
        drop(slot);

        let result = fs::read(&result_path)
            .map_err(|err| failed(Some(format!("(the hook driver wrote no result: {err})"))))?;
        let result: Value =
            serde_json::from_slice(&result).map_err(|err| BuildError::HookResult {
                project: self.project_dir.clone(),
                hook,
                reason: format!("the driver's answer is not JSON ({err})"),
            })?;
        let message = result
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string);
        match result.get("status").and_then(Value::as_str) {
            Some("ok") => Ok(HookOutcome::Value(
                result.get("result").cloned().unwrap_or(Value::Null),
            )),
            Some("hook-missing") => Ok(HookOutcome::Missing),
            Some("backend-invalid") => Err(BuildError::HookResult {
                project: self.project_dir.clone(),
                hook,
                reason: message.unwrap_or_else(|| "the backend is not in backend-path".into()),
            }),
            _ => Err(failed(message)),
        }
    }

    /// Starts a driver session in the build environment; `log` receives what the
    /// interpreter prints before the driver takes over (`hook` is only for errors).
    fn start_session(&self, hook: &'static str, log: File) -> Result<Session, BuildError> {
        let python = &self.venv.interpreter.executable;
        let spawn_error = |source| BuildError::Spawn {
            project: self.project_dir.clone(),
            hook,
            python: python.clone(),
            source,
        };
        let mut command = Command::new(python);
        // `-I`: neither the driver's folder nor the project lands on sys.path (PEP 517), and
        // no PYTHON* variable or user site-packages leaks in. `-u` as `-I` ignores
        // PYTHONUNBUFFERED (set below for the backend's own subprocesses).
        command
            .arg("-I")
            .arg("-u")
            .arg(&self.driver)
            .arg("--session")
            .arg(self.work.path())
            .current_dir(&self.project_dir)
            // Requests in; the driver moves this pipe off fd 0 and gives the backend
            // /dev/null.
            .stdin(Stdio::piped())
            // The control pipe: one line per finished hook. The driver moves it off fd 1 and
            // points fds 1 and 2 at each hook's own log.
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            // Backends start subprocesses (compilers, `sys.executable -m ...`) that are not
            // isolated by `-I`.
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .env_remove("PYTHONSTARTUP")
            .env_remove("PYTHONUSERBASE")
            .env_remove("__PYVENV_LAUNCHER__")
            .env("VIRTUAL_ENV", &self.venv.root)
            .env("PYTHONNOUSERSITE", "1")
            // Unbuffered, so stdout and stderr interleave in the log and a killed hook's last
            // words are kept.
            .env("PYTHONUNBUFFERED", "1");
        if let Some(path) = self.search_path() {
            command.env("PATH", path);
        }
        let mut child = command.spawn().map_err(spawn_error)?;
        let (requests, control) = (child.stdin.take(), child.stdout.take());
        let (sender, done) = mpsc::channel();
        // The reader ends at EOF of the control pipe, i.e. when the driver is gone (or, for a
        // backend that forked without exec, when that fork is gone too); it is never joined,
        // so such a straggler cannot block plonk.
        let reader = control.map(|control| {
            std::thread::Builder::new()
                .name("plonk-pep517-driver".into())
                .spawn(move || {
                    for line in BufReader::new(control).lines() {
                        let Ok(line) = line else { break };
                        if sender.send(line).is_err() {
                            break;
                        }
                    }
                })
        });
        let mut session = Session {
            child,
            requests,
            done,
        };
        match reader {
            Some(Ok(_)) => Ok(session),
            Some(Err(source)) => {
                session.kill();
                Err(spawn_error(source))
            }
            None => {
                session.kill();
                Err(spawn_error(std::io::Error::other(
                    "the driver has no control pipe",
                )))
            }
        }
    }

    /// Ends the driver session, if any: the next hook runs in a new interpreter.
    fn end_session(&self) {
        // Dropping the session closes the driver's stdin and waits for it to exit.
        drop(self.session.borrow_mut().take());
    }

    /// `PATH` with the build environment's scripts first, so that backends calling tools
    /// by name (`cmake`, `ninja`) find the ones installed as build requirements.
    fn search_path(&self) -> Option<std::ffi::OsString> {
        let scripts = self.venv.interpreter.scheme.scripts.clone();
        let current = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(std::iter::once(scripts).chain(std::env::split_paths(&current))).ok()
    }
}

/// `module.path` or `module.path:object.path`, dotted Python identifiers.
fn is_valid_backend(backend: &str) -> bool {
    let dotted = |text: &str| {
        !text.is_empty()
            && text.split('.').all(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .is_some_and(|first| first.is_alphabetic() || first == '_')
                    && chars.all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    match backend.split_once(':') {
        Some((module, object)) => dotted(module.trim()) && dotted(object.trim()),
        None => dotted(backend.trim()),
    }
}

/// A `backend-path` entry as an absolute folder, refused unless it is relative and resolves
/// (links included) inside the project.
fn resolve_backend_path(project_dir: &Path, entry: &str) -> Result<PathBuf, BuildError> {
    let refuse = || BuildError::BackendPath {
        project: project_dir.to_path_buf(),
        entry: entry.to_string(),
    };
    let relative = Path::new(entry);
    if relative.is_absolute() || relative.has_root() {
        return Err(refuse());
    }
    let resolved = project_dir
        .join(relative)
        .canonicalize()
        .map_err(|_| refuse())?;
    if !resolved.starts_with(project_dir) || !resolved.is_dir() {
        return Err(refuse());
    }
    Ok(resolved)
}

/// The file name of a path this module created (always has one).
fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The last lines the backend printed.
fn output_tail(log_path: &Path) -> String {
    let Ok(mut file) = File::open(log_path) else {
        return String::new();
    };
    let len = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let start = len.saturating_sub(OUTPUT_TAIL_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(OUTPUT_TAIL_LINES);
    lines[from..].join("\n")
}

/// The METADATA of a wheel: the single top-level `*.dist-info/METADATA`.
pub fn read_wheel_metadata(wheel: &Path) -> Result<Metadata, BuildError> {
    let invalid = |reason: String| BuildError::InvalidWheel {
        project: wheel.to_path_buf(),
        filename: file_name_of(wheel),
        reason,
    };
    let file = File::open(wheel).map_err(|err| BuildError::io("open", wheel, err))?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|source| BuildError::Zip {
            archive: wheel.to_path_buf(),
            source,
        })?;
    let candidates: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| {
            name.split_once('/')
                .is_some_and(|(dir, rest)| dir.ends_with(".dist-info") && rest == "METADATA")
        })
        .map(|name| name.into_owned())
        .collect();
    let [name] = candidates.as_slice() else {
        return Err(invalid(format!(
            "expected one `.dist-info/METADATA`, found {}",
            candidates.len()
        )));
    };
    let entry = zip.by_name(name).map_err(|source| BuildError::Zip {
        archive: wheel.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_METADATA + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| invalid(format!("its {name} cannot be read ({err})")))?;
    if bytes.len() as u64 > MAX_METADATA {
        return Err(invalid(format!(
            "{name} is larger than {MAX_METADATA} bytes"
        )));
    }
    Metadata::parse(&bytes).map_err(|source| BuildError::Metadata {
        subject: wheel.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records what would be installed and installs nothing: the test backends need nothing.
    #[derive(Default)]
    struct RecordingEnv {
        calls: Mutex<Vec<Vec<String>>>,
    }

    impl BuildEnv for RecordingEnv {
        fn install(
            &self,
            env: &PythonEnvironment,
            requirements: &[Requirement],
        ) -> Result<(), BoxError> {
            assert!(env.root.join("pyvenv.cfg").is_file());
            let mut calls = self.calls.lock().unwrap();
            calls.push(requirements.iter().map(ToString::to_string).collect());
            Ok(())
        }
    }

    /// An in-tree backend: behaviour comes from `backend.json` in the project folder.
    const BACKEND: &str = r#"
import base64, hashlib, json, os, sys, time, zipfile

with open("backend.json") as handle:
    CFG = json.load(handle)

def _pid(hook):
    if CFG.get("pids"):
        with open("pids.txt", "a") as handle:
            handle.write("{} {}\n".format(hook, os.getpid()))

def get_requires_for_build_wheel(config_settings=None):
    _pid("get_requires_for_build_wheel")
    print("chatter on stdout from get_requires")
    return CFG.get("requires", [])

def _files():
    name, version = CFG["name"], CFG["version"]
    info = "{}-{}.dist-info".format(name.replace("-", "_"), version)
    meta = "Metadata-Version: 2.1\nName: {}\nVersion: {}\nRequires-Dist: tutor>=20\n".format(name, version)
    files = {
        "demo/__init__.py": b"VALUE = 1\n",
        info + "/METADATA": meta.encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: tiny\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("{},sha256={},{}".format(path, digest, len(data)))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = ("\n".join(record) + "\n").encode()
    return info, files

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _pid("build_wheel")
    print("building", config_settings)
    sys.stderr.write("stderr chatter\n")
    if CFG.get("import"):
        __import__(CFG["import"])
    if CFG.get("exit"):
        print("about to exit")
        os._exit(CFG["exit"])
    if CFG.get("fail"):
        print("boom marker")
        raise RuntimeError("backend exploded")
    if CFG.get("sleep"):
        time.sleep(CFG["sleep"])
    with open("builds.txt", "a") as counter:
        counter.write("x")
    filename = "{}-{}-py3-none-any.whl".format(CFG.get("wheel_name", CFG["name"]).replace("-", "_"), CFG["version"])
    _, files = _files()
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return CFG.get("return", filename)

if CFG.get("prepare"):
    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        info, files = _files()
        os.makedirs(os.path.join(metadata_directory, info))
        with open(os.path.join(metadata_directory, info, "METADATA"), "wb") as handle:
            handle.write(files[info + "/METADATA"].replace(b"tutor>=20", b"tutor>=20,<99"))
        return info
"#;

    /// "Installs" the requirement `fakedep` by dropping a `.pth` file that puts a folder
    /// holding `fakedep.py` on sys.path: only an interpreter started afterwards can import it.
    struct PthEnv {
        modules: tempfile::TempDir,
    }

    impl PthEnv {
        fn new() -> Self {
            let modules = tempfile::tempdir().unwrap();
            fs::write(modules.path().join("fakedep.py"), "VALUE = 1\n").unwrap();
            Self { modules }
        }
    }

    impl BuildEnv for PthEnv {
        fn install(
            &self,
            env: &PythonEnvironment,
            requirements: &[Requirement],
        ) -> Result<(), BoxError> {
            if !requirements
                .iter()
                .any(|req| req.name.as_ref() == "fakedep")
            {
                return Ok(());
            }
            let purelib = &env.interpreter.scheme.purelib;
            fs::create_dir_all(purelib)?;
            let line = format!("{}\n", self.modules.path().display());
            fs::write(purelib.join("fakedep.pth"), line)?;
            Ok(())
        }
    }

    /// `hook -> pid` lines the backend wrote to `pids.txt`.
    fn pids(tmp: &tempfile::TempDir) -> Vec<(String, u32)> {
        fs::read_to_string(dir(tmp).join("pids.txt"))
            .unwrap()
            .lines()
            .map(|line| {
                let (hook, pid) = line.split_once(' ').unwrap();
                (hook.to_string(), pid.parse().unwrap())
            })
            .collect()
    }

    /// Whether a process with this id exists (Linux; elsewhere assumed gone).
    fn alive(pid: u32) -> bool {
        cfg!(target_os = "linux") && Path::new(&format!("/proc/{pid}")).exists()
    }

    fn base_python() -> PathBuf {
        let path = std::env::var_os("PATH").unwrap();
        std::env::split_paths(&path)
            .map(|dir| dir.join("python3"))
            .find(|candidate| candidate.is_file())
            .expect("python3 on PATH")
    }

    /// A project using the in-tree backend; `pyproject` is the `[build-system]` and
    /// `[project]` text, `cfg` the backend's behaviour.
    fn project(pyproject: &str, cfg: Value) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo-1.0");
        fs::create_dir_all(dir.join("_backend")).unwrap();
        fs::write(dir.join("_backend/tinybackend.py"), BACKEND).unwrap();
        fs::write(dir.join("pyproject.toml"), pyproject).unwrap();
        fs::write(dir.join("backend.json"), cfg.to_string()).unwrap();
        tmp
    }

    const IN_TREE: &str = r#"
[build-system]
requires = ["static-req>=1"]
build-backend = "tinybackend"
backend-path = ["_backend"]

[project]
name = "demo"
version = "1.0"
"#;

    fn dir(tmp: &tempfile::TempDir) -> PathBuf {
        tmp.path().join("demo-1.0")
    }

    #[test]
    fn a_described_interpreter_makes_the_environment_without_a_query() {
        let tmp = project(IN_TREE, json!({"name": "demo", "version": "1.0"}));
        let base = Interpreter::query(&base_python(), None).unwrap();
        // A python that does not exist: querying it would fail the build.
        let missing = tmp.path().join("no-such-python");
        let options = BuildOptions {
            interpreter: Some(base.clone()),
            ..BuildOptions::default()
        };
        let build = Pep517Build::new(
            &dir(&tmp),
            &missing,
            &RecordingEnv::default(),
            None,
            options,
        )
        .unwrap();
        let cfg = fs::read_to_string(build.environment().root.join("pyvenv.cfg")).unwrap();
        assert!(
            cfg.contains(&format!("version = {}", base.python_full_version)),
            "{cfg}"
        );
        let wheel = build.build_wheel(&tmp.path().join("out")).unwrap();
        assert!(wheel.is_file());
        // Without it, the path is queried (and here fails).
        let err = build_wheel(
            &dir(&tmp),
            &tmp.path().join("out2"),
            &missing,
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::CreateEnv { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_wheel_folder_that_is_not_utf8_is_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStrExt;
        let tmp = project(IN_TREE, json!({"name": "demo", "version": "1.0"}));
        let out = tmp.path().join(std::ffi::OsStr::from_bytes(b"out-\xff"));
        let err = build_wheel(
            &dir(&tmp),
            &out,
            &base_python(),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::NonUtf8Path { .. }), "{err}");
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn builds_a_wheel_with_an_in_tree_backend() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "requires": ["dyn-req; python_version >= '3'"]}),
        );
        let env = RecordingEnv::default();
        let out = tmp.path().join("out");
        let wheel = build_wheel(&dir(&tmp), &out, &base_python(), &env, None).unwrap();
        assert_eq!(wheel, out.join("demo-1.0-py3-none-any.whl"));
        assert!(wheel.is_file());
        // Only the wheel is left in the output folder (the staging folder is gone).
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
        let calls = env.calls.lock().unwrap().clone();
        assert_eq!(
            calls,
            vec![
                vec!["static-req>=1".to_string()],
                vec!["dyn-req ; python_full_version >= '3'".to_string()]
            ]
        );
        let metadata = read_wheel_metadata(&wheel).unwrap();
        assert_eq!(metadata.name.as_ref(), "demo");
    }

    #[test]
    fn hooks_share_one_driver_unless_requirements_were_installed() {
        // No dynamic requirements: get_requires, the missing prepare_metadata hook and
        // build_wheel all run in one interpreter, which is gone once the build is dropped.
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "pids": true}),
        );
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &RecordingEnv::default(),
            None,
            BuildOptions::default(),
        )
        .unwrap();
        build.prepare_metadata().unwrap();
        build.build_wheel(&tmp.path().join("o")).unwrap();
        let seen = pids(&tmp);
        let hooks: Vec<&str> = seen.iter().map(|(hook, _)| hook.as_str()).collect();
        assert_eq!(hooks, ["get_requires_for_build_wheel", "build_wheel"]);
        assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
        assert!(alive(seen[0].1) || !cfg!(target_os = "linux"));
        drop(build);
        assert!(!alive(seen[0].1), "the driver outlived its build");

        // Dynamic requirements: build_wheel runs in a new interpreter, which sees what was
        // installed (the `.pth` file is read at start-up).
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "pids": true,
                   "requires": ["fakedep"], "import": "fakedep"}),
        );
        let env = PthEnv::new();
        build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            &base_python(),
            &env,
            None,
        )
        .unwrap();
        let seen = pids(&tmp);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_ne!(seen[0].1, seen[1].1, "{seen:?}");
        assert!(!alive(seen[0].1) && !alive(seen[1].1));
    }

    #[test]
    fn a_driver_dying_mid_session_fails_the_hook_with_its_output() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "pids": true, "exit": 3}),
        );
        let err = build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            &base_python(),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                BuildError::HookFailed {
                    hook: "build_wheel",
                    ..
                }
            ),
            "{err}"
        );
        let text = err.to_string();
        for needle in ["about to exit", "stderr chatter", "exit status: 3"] {
            assert!(text.contains(needle), "{needle} missing in: {text}");
        }
        // Only this hook's output: get_requires printed into its own log.
        assert!(
            !text.contains("chatter on stdout from get_requires"),
            "{text}"
        );
        let seen = pids(&tmp);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].1, seen[1].1, "it died mid-session: {seen:?}");
    }

    #[test]
    fn a_slow_hook_in_a_session_is_killed_at_the_timeout() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "pids": true, "sleep": 60}),
        );
        let options = BuildOptions {
            timeout: Duration::from_secs(2),
            ..BuildOptions::default()
        };
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &RecordingEnv::default(),
            None,
            options,
        )
        .unwrap();
        let started = Instant::now();
        let err = build.build_wheel(&tmp.path().join("o")).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(
            matches!(
                err,
                BuildError::HookTimeout {
                    hook: "build_wheel",
                    ..
                }
            ),
            "{err}"
        );
        let seen = pids(&tmp);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].1, seen[1].1, "{seen:?}");
        // Killed at the timeout, not at drop.
        assert!(!alive(seen[1].1), "the timed-out driver is still running");
        drop(build);
    }

    #[test]
    fn prepare_metadata_uses_the_hook() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "prepare": true}),
        );
        let env = RecordingEnv::default();
        let metadata = prepare_metadata(&dir(&tmp), &base_python(), &env, None).unwrap();
        assert_eq!(metadata.name.as_ref(), "demo");
        assert_eq!(metadata.version.to_string(), "1.0");
        // The hook's METADATA, not a built wheel's.
        assert_eq!(metadata.requires_dist[0].to_string(), "tutor>=20,<99");
        assert!(!dir(&tmp).join("builds.txt").exists());
    }

    #[test]
    fn prepare_metadata_falls_back_to_a_wheel_that_is_then_reused() {
        let tmp = project(IN_TREE, json!({"name": "demo", "version": "1.0"}));
        let env = RecordingEnv::default();
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &env,
            None,
            BuildOptions::default(),
        )
        .unwrap();
        let metadata = build.prepare_metadata().unwrap();
        assert_eq!(metadata.requires_dist[0].to_string(), "tutor>=20");
        let out = tmp.path().join("out");
        let wheel = build.build_wheel(&out).unwrap();
        assert!(wheel.is_file());
        // One build served both.
        let counter = dir(&tmp).join("builds.txt");
        assert_eq!(fs::read_to_string(counter).unwrap(), "x");
    }

    #[test]
    fn a_failing_backend_shows_its_output() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "fail": true}),
        );
        let out = tmp.path().join("out");
        let err = build_wheel(
            &dir(&tmp),
            &out,
            &base_python(),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                BuildError::HookFailed {
                    hook: "build_wheel",
                    ..
                }
            ),
            "{err}"
        );
        let text = err.to_string();
        for needle in [
            "build_wheel",
            "demo-1.0",
            "boom marker",
            "backend exploded",
            "stderr chatter",
        ] {
            assert!(text.contains(needle), "{needle} missing in: {text}");
        }
        // Nothing half-built is left in the output folder.
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn backend_path_must_stay_inside_the_project() {
        for entry in ["..", "/tmp", "_backend/../..", "missing", "outside-link"] {
            let pyproject = IN_TREE.replace("[\"_backend\"]", &format!("[\"{entry}\"]"));
            let tmp = project(&pyproject, json!({"name": "demo", "version": "1.0"}));
            #[cfg(unix)]
            std::os::unix::fs::symlink(tmp.path(), dir(&tmp).join("outside-link")).unwrap();
            let env = RecordingEnv::default();
            let err = build_wheel(
                &dir(&tmp),
                &tmp.path().join("o"),
                &base_python(),
                &env,
                None,
            )
            .unwrap_err();
            assert!(
                matches!(err, BuildError::BackendPath { .. }),
                "{entry}: {err}"
            );
            assert!(err.to_string().contains(entry), "{err}");
            // Refused before anything was installed.
            assert!(env.calls.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn a_backend_outside_backend_path_is_refused() {
        // `json` imports fine, but from the standard library, not from backend-path.
        let pyproject = IN_TREE.replace("\"tinybackend\"", "\"json\"");
        let tmp = project(&pyproject, json!({"name": "demo", "version": "1.0"}));
        let err = build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            &base_python(),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("outside backend-path"), "{err}");
    }

    #[test]
    fn a_missing_backend_module_fails_with_the_import_error() {
        let pyproject = IN_TREE.replace("\"tinybackend\"", "\"nosuchbackend:thing\"");
        let tmp = project(&pyproject, json!({"name": "demo", "version": "1.0"}));
        let err = build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            &base_python(),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                BuildError::HookFailed {
                    hook: "get_requires_for_build_wheel",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("nosuchbackend"), "{err}");
    }

    #[test]
    fn the_wheel_must_be_the_project_and_a_plain_file_name() {
        let rows = [
            (
                json!({"name": "demo", "version": "1.0", "wheel_name": "other"}),
                "not `demo`",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": "../evil.whl"}),
                "not a plain file name",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": "/etc/passwd"}),
                "not a plain file name",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": 42}),
                "expected a file name",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": "demo.tar.gz"}),
                "does not end with `.whl`",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": "not-a-wheel.whl"}),
                "not a valid wheel filename",
            ),
            (
                json!({"name": "demo", "version": "1.0", "return": "demo-2.0-py3-none-any.whl"}),
                "did not write it",
            ),
            (
                json!({"name": "demo", "version": "2.0"}),
                "pyproject.toml says 1.0",
            ),
            (
                json!({"name": "demo", "version": "1.0", "requires": "x"}),
                "expected a list",
            ),
            (
                json!({"name": "demo", "version": "1.0", "requires": ["!!"]}),
                "not a valid requirement",
            ),
        ];
        for (cfg, expected) in rows {
            let tmp = project(IN_TREE, cfg.clone());
            let err = build_wheel(
                &dir(&tmp),
                &tmp.path().join("o"),
                &base_python(),
                &RecordingEnv::default(),
                None,
            )
            .unwrap_err();
            assert!(err.to_string().contains(expected), "{cfg}: {err}");
        }
    }

    #[test]
    fn expected_name_is_checked_when_pyproject_has_no_project_table() {
        let pyproject = IN_TREE.split("[project]").next().unwrap().to_string();
        let tmp = project(&pyproject, json!({"name": "demo", "version": "1.0"}));
        let options = BuildOptions {
            expected_name: Some(PackageName::from_str("tutor-mfe").unwrap()),
            ..BuildOptions::default()
        };
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &RecordingEnv::default(),
            None,
            options,
        )
        .unwrap();
        let err = build.build_wheel(&tmp.path().join("o")).unwrap_err();
        assert!(err.to_string().contains("not `tutor-mfe`"), "{err}");
    }

    #[test]
    fn a_slow_hook_is_stopped_at_the_timeout() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "sleep": 60}),
        );
        let options = BuildOptions {
            timeout: Duration::from_secs(2),
            ..BuildOptions::default()
        };
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &RecordingEnv::default(),
            None,
            options,
        )
        .unwrap();
        let started = Instant::now();
        let err = build.build_wheel(&tmp.path().join("o")).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(
            matches!(
                err,
                BuildError::HookTimeout {
                    hook: "build_wheel",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("building"), "{err}");
    }

    #[test]
    fn config_settings_reach_the_backend() {
        let tmp = project(
            IN_TREE,
            json!({"name": "demo", "version": "1.0", "fail": true}),
        );
        let options = BuildOptions {
            config_settings: BTreeMap::from([("--build-option".to_string(), "x".to_string())]),
            ..BuildOptions::default()
        };
        let build = Pep517Build::new(
            &dir(&tmp),
            &base_python(),
            &RecordingEnv::default(),
            None,
            options,
        )
        .unwrap();
        let err = build.build_wheel(&tmp.path().join("o")).unwrap_err();
        assert!(err.to_string().contains("{'--build-option': 'x'}"), "{err}");
    }

    #[test]
    fn the_driver_runs_on_python_3_8() {
        let Some(python) = std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".pyenv/versions/3.8.18/bin/python3.8"))
            .filter(|path| path.is_file())
        else {
            return;
        };
        let tmp = project(IN_TREE, json!({"name": "demo", "version": "1.0"}));
        let wheel = build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            &python,
            &RecordingEnv::default(),
            None,
        )
        .unwrap();
        assert!(wheel.is_file());
    }

    #[test]
    fn legacy_defaults_and_backend_names() {
        let legacy = effective_build_system(None);
        assert_eq!(legacy.build_backend.as_deref(), Some(LEGACY_BACKEND));
        assert_eq!(legacy.requires.len(), 1);
        assert_eq!(legacy.requires[0].to_string(), "setuptools>=40.8.0");
        let no_backend = effective_build_system(Some(BuildSystem {
            requires: vec![],
            build_backend: None,
            backend_path: vec![],
        }));
        assert_eq!(no_backend.build_backend.as_deref(), Some(LEGACY_BACKEND));
        assert!(no_backend.requires.is_empty());

        for good in [
            "hatchling.build",
            "setuptools.build_meta:__legacy__",
            "a:b.c",
            " flit_core.buildapi ",
        ] {
            assert!(is_valid_backend(good), "{good}");
        }
        for bad in [
            "",
            ":",
            "a:",
            ":b",
            "a b",
            "a..b",
            "1abc",
            "os; import x",
            "a:b:c",
            "../x",
        ] {
            assert!(!is_valid_backend(bad), "{bad}");
        }
    }

    #[test]
    fn invalid_backend_is_refused_before_any_environment() {
        let pyproject = IN_TREE.replace("\"tinybackend\"", "\"import os\"");
        let tmp = project(&pyproject, json!({"name": "demo", "version": "1.0"}));
        let err = build_wheel(
            &dir(&tmp),
            &tmp.path().join("o"),
            Path::new("/nonexistent/python"),
            &RecordingEnv::default(),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::InvalidBackend { .. }), "{err}");
    }
}
