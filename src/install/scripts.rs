//! Script files: shebangs for the env's interpreter, `#!python` rewriting of `.data/scripts`,
//! and console/GUI launchers generated from entry points (the same text pip and
//! pypa/installer write).

use std::path::Path;

use crate::dist::EntryPoint;

/// The shebang (without trailing newline) that runs `python`. Paths with a space or longer
/// than the kernel's 127-byte limit use pypa/installer's `/bin/sh` polyglot.
pub(crate) fn shebang(python: &Path) -> String {
    let exe = python.to_string_lossy();
    if !exe.contains(' ') && exe.len() + 3 <= 127 {
        format!("#!{exe}")
    } else {
        format!(
            "#!/bin/sh\n'''exec' {} \"$0\" \"$@\"\n' '''",
            shell_quote(&exe)
        )
    }
}

/// POSIX shell single-quoting.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Rewrite a `#!python` / `#!pythonw` first line to the env's interpreter, as the binary
/// distribution format asks; any other content is returned unchanged (`None`).
pub(crate) fn rewrite_python_shebang(content: &[u8], python: &Path) -> Option<Vec<u8>> {
    if !content.starts_with(b"#!python") {
        return None;
    }
    let rest = match content.iter().position(|b| *b == b'\n') {
        Some(i) => &content[i + 1..],
        None => &[][..],
    };
    let mut out = shebang(python).into_bytes();
    out.push(b'\n');
    out.extend_from_slice(rest);
    Some(out)
}

/// The launcher script for an entry point whose reference has already been validated
/// (`module:attr`, dotted identifiers).
pub(crate) fn launcher(python: &Path, entry_point: &EntryPoint) -> Option<String> {
    let module = entry_point.module();
    let attr = entry_point.attr()?;
    let import_name = attr.split('.').next().unwrap_or(attr);
    Some(format!(
        "{shebang}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {import_name}\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit({attr}())\n",
        shebang = shebang(python),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(shebang(Path::new("/v/bin/python")), "#!/v/bin/python");
        let spaced = shebang(Path::new("/my venv/bin/python"));
        assert!(spaced.starts_with("#!/bin/sh\n'''exec' '/my venv/bin/python' \"$0\""));
        let long = format!("/{}/bin/python", "x".repeat(130));
        assert!(shebang(Path::new(&long)).starts_with("#!/bin/sh\n"));
        assert_eq!(shell_quote("a'b"), "'a'\"'\"'b'");
    }

    #[test]
    fn rewrite() {
        let py = Path::new("/v/bin/python");
        assert_eq!(
            rewrite_python_shebang(b"#!python\nprint(1)\n", py).unwrap(),
            b"#!/v/bin/python\nprint(1)\n"
        );
        assert_eq!(
            rewrite_python_shebang(b"#!pythonw -u\nx\n", py).unwrap(),
            b"#!/v/bin/python\nx\n"
        );
        assert_eq!(
            rewrite_python_shebang(b"#!python", py).unwrap(),
            b"#!/v/bin/python\n"
        );
        assert!(rewrite_python_shebang(b"#!/bin/sh\necho\n", py).is_none());
        assert!(rewrite_python_shebang(b"", py).is_none());
    }

    #[test]
    fn launchers() {
        let ep = EntryPoint {
            name: "foo".into(),
            value: "foo.cli:main.run [x]".into(),
        };
        let s = launcher(Path::new("/v/bin/python"), &ep).unwrap();
        assert!(s.starts_with("#!/v/bin/python\n"));
        assert!(s.contains("from foo.cli import main\n"));
        assert!(s.contains("sys.exit(main.run())"));
        let no_attr = EntryPoint {
            name: "foo".into(),
            value: "foo.cli".into(),
        };
        assert!(launcher(Path::new("/p"), &no_attr).is_none());
    }
}
