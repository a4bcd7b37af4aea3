//! Creating a virtualenv natively, as `python -m venv --without-pip` would: `pyvenv.cfg`,
//! `bin/python*` symlinks to the base interpreter, site-packages, `lib64`, activation scripts.
//! No Python process runs beyond the (cached) query of the base interpreter.

use std::path::Path;

use super::error::EnvError;
use super::interpreter::Interpreter;
use super::python_env::PythonEnvironment;
use crate::cache::Cache;

/// Creates (or refreshes) a virtualenv at `path` for `base_python`, which may be any python
/// that runs: a system one, a pyenv shim, or another venv's (the venv links to the real
/// interpreter behind it). An existing venv is updated in place and keeps its packages; a
/// non-empty folder that is not a venv is refused.
pub fn create_venv(
    path: &Path,
    base_python: &Path,
    cache: Option<&Cache>,
) -> Result<PythonEnvironment, EnvError> {
    let root = std::path::absolute(path).map_err(|err| EnvError::io("read", path, err))?;
    check_target(&root)?;
    let base = Interpreter::query(base_python, cache)?;
    create_with(&root, &base)
}

/// [`create_venv`] from an interpreter plonk already described (no query): any view of it
/// serves, a venv's too, since the new venv links to its base executable.
pub fn create_venv_for(path: &Path, base: &Interpreter) -> Result<PythonEnvironment, EnvError> {
    let root = std::path::absolute(path).map_err(|err| EnvError::io("read", path, err))?;
    check_target(&root)?;
    create_with(&root, base)
}

/// Refuses a file, or a non-empty folder without `pyvenv.cfg`.
fn check_target(root: &Path) -> Result<(), EnvError> {
    let meta = match std::fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(EnvError::io("read", root, err)),
    };
    let not_empty = || EnvError::VenvTargetNotEmpty {
        path: root.to_path_buf(),
    };
    if !meta.is_dir() && !root.is_dir() {
        return Err(not_empty());
    }
    if root.join("pyvenv.cfg").is_file() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(root).map_err(|err| EnvError::io("list", root, err))?;
    if entries.next().is_some() {
        return Err(not_empty());
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_with(root: &Path, _base: &Interpreter) -> Result<PythonEnvironment, EnvError> {
    Err(EnvError::VenvUnsupported {
        path: root.to_path_buf(),
    })
}

#[cfg(unix)]
fn create_with(root: &Path, base: &Interpreter) -> Result<PythonEnvironment, EnvError> {
    let fresh = !root.join("pyvenv.cfg").exists();
    let (major, minor) = base.python_version();
    let base_executable = &base.base_executable;
    let venv = base.for_venv(root, root.join("bin").join("python"));
    let scheme = venv.scheme.clone();

    create_dir(root)?;
    // pyvenv.cfg first, as venv does: an interrupted creation is still recognised as a venv
    // and a second run completes it.
    write_file(&root.join("pyvenv.cfg"), &pyvenv_cfg(root, base))?;
    for dir in [&scheme.scripts, &scheme.purelib, &scheme.platlib] {
        create_dir(dir)?;
    }
    create_dir(&root.join("include"))?;
    let markers = &base.markers;
    if base.is_64bit() && markers.os_name() == "posix" && markers.sys_platform() != "darwin" {
        let lib64 = root.join("lib64");
        if std::fs::symlink_metadata(&lib64).is_err() {
            symlink(Path::new("lib"), &lib64)?;
        }
    }

    let bin = &scheme.scripts;
    replace_symlink(base_executable, &bin.join("python"))?;
    let mut aliases = vec![format!("python{major}"), format!("python{major}.{minor}")];
    if base.gil_disabled() {
        aliases.push(format!("python{major}.{minor}t"));
    }
    for alias in aliases {
        replace_symlink(Path::new("python"), &bin.join(alias))?;
    }

    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "venv".to_string());
    let root_text = root.to_string_lossy();
    write_file(&bin.join("activate"), &activate_sh(&root_text, &name))?;
    write_file(
        &bin.join("activate.fish"),
        &activate_fish(&root_text, &name),
    )?;
    write_file(&bin.join("activate.csh"), &activate_csh(&root_text, &name))?;
    if fresh {
        // Keeps the venv out of git when it is created inside a checkout (as venv 3.13 does).
        write_file(
            &root.join(".gitignore"),
            "# Created by plonk automatically.\n*\n",
        )?;
    }

    Ok(PythonEnvironment {
        root: root.to_path_buf(),
        interpreter: venv,
    })
}

fn pyvenv_cfg(root: &Path, base: &Interpreter) -> String {
    let executable = &base.base_executable;
    let home = executable.parent().unwrap_or(Path::new("/"));
    // venv records the resolved interpreter; a failure to resolve keeps the path as is.
    let resolved = std::fs::canonicalize(executable).unwrap_or_else(|_| executable.clone());
    format!(
        "home = {}\n\
         include-system-site-packages = false\n\
         version = {}\n\
         executable = {}\n\
         command = plonk venv --interpreter {} {}\n\
         plonk = {}\n",
        home.display(),
        base.python_full_version,
        resolved.display(),
        executable.display(),
        root.display(),
        env!("CARGO_PKG_VERSION"),
    )
}

fn create_dir(path: &Path) -> Result<(), EnvError> {
    std::fs::create_dir_all(path).map_err(|err| EnvError::io("create the folder", path, err))
}

fn write_file(path: &Path, text: &str) -> Result<(), EnvError> {
    std::fs::write(path, text).map_err(|err| EnvError::io("write", path, err))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> Result<(), EnvError> {
    std::os::unix::fs::symlink(target, link)
        .map_err(|err| EnvError::io("create the symlink", link, err))
}

/// Points `link` at `target`, replacing whatever file or link was there.
#[cfg(unix)]
fn replace_symlink(target: &Path, link: &Path) -> Result<(), EnvError> {
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.is_dir() => {
            return Err(EnvError::io(
                "replace",
                link,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        Ok(_) => std::fs::remove_file(link).map_err(|err| EnvError::io("replace", link, err))?,
        Err(_) => {}
    }
    symlink(target, link)
}

/// `value` as one single-quoted POSIX shell word.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `value` as one single-quoted fish word.
fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

fn activate_sh(root: &str, name: &str) -> String {
    format!(
        r#"# This file must be used with "source bin/activate" *from bash or zsh*;
# it cannot be run directly.

deactivate () {{
    if [ -n "${{_OLD_VIRTUAL_PATH:-}}" ] ; then
        PATH="${{_OLD_VIRTUAL_PATH:-}}"
        export PATH
        unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "${{_OLD_VIRTUAL_PYTHONHOME:-}}" ] ; then
        PYTHONHOME="${{_OLD_VIRTUAL_PYTHONHOME:-}}"
        export PYTHONHOME
        unset _OLD_VIRTUAL_PYTHONHOME
    fi
    hash -r 2> /dev/null
    if [ -n "${{_OLD_VIRTUAL_PS1:-}}" ] ; then
        PS1="${{_OLD_VIRTUAL_PS1:-}}"
        export PS1
        unset _OLD_VIRTUAL_PS1
    fi
    unset VIRTUAL_ENV
    unset VIRTUAL_ENV_PROMPT
    if [ ! "${{1:-}}" = "nondestructive" ] ; then
        unset -f deactivate
    fi
}}

# Unset irrelevant variables.
deactivate nondestructive

VIRTUAL_ENV={root}
export VIRTUAL_ENV

_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH

if [ -n "${{PYTHONHOME:-}}" ] ; then
    _OLD_VIRTUAL_PYTHONHOME="${{PYTHONHOME:-}}"
    unset PYTHONHOME
fi

VIRTUAL_ENV_PROMPT={name}
export VIRTUAL_ENV_PROMPT
if [ -z "${{VIRTUAL_ENV_DISABLE_PROMPT:-}}" ] ; then
    _OLD_VIRTUAL_PS1="${{PS1:-}}"
    PS1="(${{VIRTUAL_ENV_PROMPT}}) ${{PS1:-}}"
    export PS1
fi

# Forget remembered command locations so the venv's programs are found.
hash -r 2> /dev/null
"#,
        root = sh_quote(root),
        name = sh_quote(name),
    )
}

fn activate_fish(root: &str, name: &str) -> String {
    format!(
        r#"# This file must be used with "source bin/activate.fish" *from fish*;
# it cannot be run directly.

function deactivate -d "Exit the virtual environment and return to the normal shell environment"
    if test -n "$_OLD_VIRTUAL_PATH"
        set -gx PATH $_OLD_VIRTUAL_PATH
        set -e _OLD_VIRTUAL_PATH
    end
    if test -n "$_OLD_VIRTUAL_PYTHONHOME"
        set -gx PYTHONHOME $_OLD_VIRTUAL_PYTHONHOME
        set -e _OLD_VIRTUAL_PYTHONHOME
    end
    if test -n "$_OLD_FISH_PROMPT_OVERRIDE"
        set -e _OLD_FISH_PROMPT_OVERRIDE
        if functions -q _old_fish_prompt
            functions -e fish_prompt
            functions -c _old_fish_prompt fish_prompt
            functions -e _old_fish_prompt
        end
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV {root}
set -gx _OLD_VIRTUAL_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/bin" $PATH

if set -q PYTHONHOME
    set -gx _OLD_VIRTUAL_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

set -gx VIRTUAL_ENV_PROMPT {name}
if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "%s(%s)%s " (set_color 4B8BBE) $VIRTUAL_ENV_PROMPT (set_color normal)
        echo "exit $old_status" | .
        _old_fish_prompt
    end
    set -gx _OLD_FISH_PROMPT_OVERRIDE "$VIRTUAL_ENV"
end
"#,
        root = fish_quote(root),
        name = fish_quote(name),
    )
}

fn activate_csh(root: &str, name: &str) -> String {
    // csh has no escape inside single quotes: a quote ends the word, `\'` adds one, and a
    // new quoted word continues.
    let csh_quote = |value: &str| format!("'{}'", value.replace('\'', r"'\''"));
    format!(
        r#"# This file must be used with "source bin/activate.csh" *from csh*;
# it cannot be run directly.

alias deactivate 'test $?_OLD_VIRTUAL_PATH != 0 && setenv PATH "$_OLD_VIRTUAL_PATH" && unset _OLD_VIRTUAL_PATH; rehash; test $?_OLD_VIRTUAL_PROMPT != 0 && set prompt="$_OLD_VIRTUAL_PROMPT" && unset _OLD_VIRTUAL_PROMPT; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; test "\!:*" != "nondestructive" && unalias deactivate'

# Unset irrelevant variables.
deactivate nondestructive

setenv VIRTUAL_ENV {root}

set _OLD_VIRTUAL_PATH="$PATH"
setenv PATH "$VIRTUAL_ENV/bin:$PATH"

setenv VIRTUAL_ENV_PROMPT {name}
set _OLD_VIRTUAL_PROMPT="$prompt"
if (! "$?VIRTUAL_ENV_DISABLE_PROMPT") then
    set prompt = "($VIRTUAL_ENV_PROMPT) $prompt"
endif

rehash
"#,
        root = csh_quote(root),
        name = csh_quote(name),
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    fn run_python(python: &Path, code: &str) -> std::process::Output {
        Command::new(python).args(["-c", code]).output().unwrap()
    }

    #[test]
    fn created_venv_runs_and_has_no_pip() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("my venv");
        let cache = Cache::new(tmp.path().join("cache"));
        // A pyenv shim (a bash script) as the base: the venv must link to the real binary.
        let home = std::env::var("HOME").unwrap();
        let shim = Path::new(&home).join(".pyenv/shims/python3");
        let base = if shim.exists() {
            shim
        } else {
            PathBuf::from("/usr/bin/python3")
        };
        let env = create_venv(&root, &base, Some(&cache)).unwrap();
        assert_eq!(env.root, root);
        let target = std::fs::read_link(root.join("bin/python")).unwrap();
        assert!(target.is_absolute());
        assert!(
            !std::fs::read(&target).unwrap().starts_with(b"#!"),
            "{target:?} is a script"
        );

        let python = root.join("bin/python");
        let out = run_python(&python, "import sys; print(sys.prefix)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            root.to_str().unwrap()
        );
        assert!(!run_python(&python, "import pip").status.success());
        let out = run_python(
            &python,
            "import site; print('\\n'.join(site.getsitepackages()))",
        );
        let site = String::from_utf8(out.stdout).unwrap();
        assert!(
            site.lines()
                .any(|l| Path::new(l) == env.interpreter.scheme.purelib),
            "{site}"
        );
        for alias in ["python3", "python3.11"] {
            if env.interpreter.python_version() == (3, 11) {
                assert!(
                    run_python(&root.join("bin").join(alias), "pass")
                        .status
                        .success()
                );
            }
        }
        assert!(root.join("lib64").exists());

        // The real interpreter agrees with the derived description.
        let queried = Interpreter::query(&python, None).unwrap();
        assert_eq!(queried.scheme, env.interpreter.scheme);
        assert_eq!(queried.sys_prefix, root);
        assert!(queried.is_virtualenv());
        let found = PythonEnvironment::from_root(&root, Some(&cache)).unwrap();
        assert_eq!(found.interpreter.scheme, env.interpreter.scheme);

        let cfg = std::fs::read_to_string(root.join("pyvenv.cfg")).unwrap();
        assert!(
            cfg.contains("include-system-site-packages = false\n"),
            "{cfg}"
        );
        assert!(cfg.contains(&format!(
            "version = {}\n",
            env.interpreter.python_full_version
        )));
        assert!(cfg.contains("plonk = "), "{cfg}");

        // Re-creating keeps installed packages.
        let marker = env.interpreter.scheme.purelib.join("keep.py");
        std::fs::write(&marker, "").unwrap();
        create_venv(&root, &base, Some(&cache)).unwrap();
        assert!(marker.exists());
    }

    #[test]
    fn activate_sets_and_restores_the_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("it's here");
        create_venv(&root, Path::new("python3"), None).unwrap();
        let script = format!(
            "PS1='$ '; old=\"$PATH\"; . {activate}; echo \"$VIRTUAL_ENV\"; command -v python; \
             echo \"$PS1\"; deactivate; [ \"$PATH\" = \"$old\" ] && echo restored; \
             echo \"${{VIRTUAL_ENV:-unset}}\"",
            activate = sh_quote(&root.join("bin/activate").to_string_lossy())
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], root.to_str().unwrap());
        assert_eq!(Path::new(lines[1]), root.join("bin/python"));
        assert_eq!(lines[2], "(it's here) $ ");
        assert_eq!(lines[3..], ["restored", "unset"]);
    }

    #[test]
    fn refuses_non_empty_folders_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let busy = tmp.path().join("busy");
        std::fs::create_dir_all(&busy).unwrap();
        std::fs::write(busy.join("notes.txt"), "hi").unwrap();
        let err = create_venv(&busy, Path::new("python3"), None).unwrap_err();
        assert!(matches!(err, EnvError::VenvTargetNotEmpty { .. }), "{err}");
        assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);

        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let err = create_venv(&file, Path::new("python3"), None).unwrap_err();
        assert!(matches!(err, EnvError::VenvTargetNotEmpty { .. }), "{err}");

        // An empty folder is fine.
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        create_venv(&empty, Path::new("python3"), None).unwrap();
        assert!(empty.join("pyvenv.cfg").is_file());
    }

    #[test]
    fn base_python_inside_another_venv_links_to_the_real_interpreter() {
        let tmp = tempfile::tempdir().unwrap();
        let first = create_venv(&tmp.path().join("a"), Path::new("python3"), None).unwrap();
        let second =
            create_venv(&tmp.path().join("b"), &first.interpreter.executable, None).unwrap();
        let target = std::fs::read_link(second.root.join("bin/python")).unwrap();
        assert!(!target.starts_with(&first.root), "{target:?}");
        assert_eq!(
            second.interpreter.sys_base_prefix,
            first.interpreter.sys_base_prefix
        );
    }

    #[test]
    fn quoting_rows() {
        assert_eq!(sh_quote("/a b"), "'/a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
    }
}
