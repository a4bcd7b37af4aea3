//! Confined access to the project folder: every path the native build reads is resolved
//! (links followed) and must stay inside the project, so a hostile checkout cannot make plonk
//! read `/etc/passwd` into a wheel. Where hatchling would follow a link out of the project,
//! the project is declared ineligible instead.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::pyutil::normpath;
use super::{NResult, Refusal};
use crate::build::BuildError;

/// What a path inside the project is, after following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// Nothing there.
    Missing,
}

/// One entry of a folder listing.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The file name.
    pub name: String,
    /// Folder or file, links followed.
    pub is_dir: bool,
}

/// The project folder.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    /// The canonical project folder (what `os.getcwd()` gives hatchling).
    pub root: PathBuf,
    /// The same as a `/`-separated string.
    pub root_str: String,
}

impl Tree {
    /// Opens `project_dir`, resolving it to its canonical path.
    pub(crate) fn open(project_dir: &Path) -> NResult<Self> {
        let root = fs::canonicalize(project_dir)
            .map_err(|err| Refusal::Failed(BuildError::io("open", project_dir, err)))?;
        let Some(root_str) = root.to_str().map(str::to_string) else {
            return Err(Refusal::skip("the project path is not valid UTF-8"));
        };
        Ok(Self { root, root_str })
    }

    /// The absolute, lexically normalized path of `rel` (hatchling's
    /// `os.path.normpath(os.path.join(root, rel))`); `None` when it leaves the project.
    pub(crate) fn lexical(&self, rel: &str) -> Option<String> {
        let joined = if rel.starts_with('/') {
            normpath(rel)
        } else {
            normpath(&format!("{}/{rel}", self.root_str))
        };
        let inside = joined == self.root_str
            || joined
                .strip_prefix(&self.root_str)
                .is_some_and(|rest| rest.starts_with('/'));
        inside.then_some(joined)
    }

    /// Resolves an absolute path inside the project, following links; `Err` when a link leads
    /// outside.
    fn confine(&self, path: &Path, shown: &str) -> NResult<Kind> {
        match fs::canonicalize(path) {
            Ok(real) => {
                if !real.starts_with(&self.root) {
                    return Err(Refusal::skip(format!(
                        "`{shown}` is a link that leaves the project"
                    )));
                }
                let meta = fs::metadata(&real)
                    .map_err(|err| Refusal::Failed(BuildError::io("inspect", &real, err)))?;
                if meta.is_dir() {
                    Ok(Kind::Dir)
                } else if meta.is_file() {
                    Ok(Kind::File)
                } else {
                    Err(Refusal::skip(format!(
                        "`{shown}` is neither a file nor a folder"
                    )))
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                // A dangling link is an error for hatchling as soon as it opens it.
                if fs::symlink_metadata(path).is_ok() {
                    return Err(Refusal::skip(format!("`{shown}` is a dangling link")));
                }
                Ok(Kind::Missing)
            }
            Err(err) => Err(Refusal::Failed(BuildError::io("inspect", path, err))),
        }
    }

    /// What `rel` (relative to the project, or absolute inside it) is.
    pub(crate) fn kind(&self, rel: &str) -> NResult<Kind> {
        let Some(path) = self.lexical(rel) else {
            return Err(Refusal::skip(format!("`{rel}` is outside the project")));
        };
        self.confine(Path::new(&path), rel)
    }

    /// The bytes of the file at `rel`.
    pub(crate) fn read(&self, rel: &str) -> NResult<Vec<u8>> {
        match self.kind(rel)? {
            Kind::File => {}
            Kind::Dir => return Err(Refusal::skip(format!("`{rel}` is a folder"))),
            Kind::Missing => return Err(Refusal::skip(format!("`{rel}` does not exist"))),
        }
        let path = self.absolute(rel);
        fs::read(&path).map_err(|err| Refusal::Failed(BuildError::io("read", &path, err)))
    }

    /// The UTF-8 text of the file at `rel` (hatchling fails on anything else).
    pub(crate) fn read_text(&self, rel: &str) -> NResult<String> {
        String::from_utf8(self.read(rel)?)
            .map_err(|_| Refusal::skip(format!("`{rel}` is not valid UTF-8")))
    }

    /// The absolute path of `rel` (which must be inside; see [`Tree::lexical`]).
    pub(crate) fn absolute(&self, rel: &str) -> PathBuf {
        PathBuf::from(self.lexical(rel).unwrap_or_else(|| self.root_str.clone()))
    }

    /// The entries of the folder `rel`, sorted by name, links followed and confined.
    pub(crate) fn list(&self, rel: &str) -> NResult<Vec<Entry>> {
        let dir = self.absolute(rel);
        let reader =
            fs::read_dir(&dir).map_err(|err| Refusal::Failed(BuildError::io("list", &dir, err)))?;
        let mut entries = Vec::new();
        for entry in reader {
            let entry = entry.map_err(|err| Refusal::Failed(BuildError::io("list", &dir, err)))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                return Err(Refusal::skip(format!(
                    "a file name in `{}` is not valid UTF-8",
                    dir.display()
                )));
            };
            if name.contains(['\n', '\r']) {
                return Err(Refusal::skip(format!(
                    "the file name {name:?} has a line break"
                )));
            }
            let path = entry.path();
            let shown = path.display().to_string();
            let file_type = entry
                .file_type()
                .map_err(|err| Refusal::Failed(BuildError::io("inspect", &path, err)))?;
            let kind = self.confine(&path, &shown)?;
            if file_type.is_symlink() && kind == Kind::Dir {
                // hatchling walks linked folders (skipping repeats); not reproduced.
                return Err(Refusal::skip(format!("`{shown}` is a link to a folder")));
            }
            entries.push(Entry {
                name,
                is_dir: kind == Kind::Dir,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn confinement() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("p");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("pkg/a.py"), "a").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("pkg/leak")).unwrap();
        std::os::unix::fs::symlink("a.py", root.join("pkg/inner")).unwrap();
        let tree = Tree::open(&root).unwrap();
        assert_eq!(tree.kind("pkg").unwrap(), Kind::Dir);
        assert_eq!(tree.kind("pkg/a.py").unwrap(), Kind::File);
        assert_eq!(tree.kind("nope").unwrap(), Kind::Missing);
        assert_eq!(tree.read("pkg/inner").unwrap(), b"a");
        assert!(matches!(
            tree.read("pkg/leak"),
            Err(Refusal::NotEligible(_))
        ));
        assert!(matches!(tree.read("../x"), Err(Refusal::NotEligible(_))));
        assert!(matches!(
            tree.read("/etc/passwd"),
            Err(Refusal::NotEligible(_))
        ));
        assert!(matches!(tree.list("pkg"), Err(Refusal::NotEligible(_))));
    }
}
