//! Git and single-file plugin sources (issue "sources"): a hatchling plugin in a git repository
//! built at test time installs from a tag, follows its branch on `upgrade` (with
//! `direct_url.json` naming the commit), installs editable into `<venv>/src/<name>`; a
//! single-file plugin served over loopback HTTP is wrapped into a wheel, follows the served
//! content on `upgrade` and leaves the tree as it was on `remove`; bad repositories, refs and
//! downloads fail with one sentence, exit 1 and an unchanged environment.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature};

use crate::install::{Api, Case, assert_clean_failure};
use crate::support::server::FakeIndex;
use crate::support::tree::{assert_same_tree, snapshot_ignoring};
use crate::support::venv;

/// A git repository holding a hatchling Tutor plugin `tutor-gitplug` (package
/// `tutorgitplug`, entry point `gitplug`), written and committed with libgit2.
pub struct GitPlugin {
    /// The working tree (also the repository).
    pub dir: PathBuf,
    repo: Repository,
}

impl GitPlugin {
    /// A new repository at `dir` with one commit of version `version` on `main`.
    pub fn new(dir: &Path, version: &str) -> GitPlugin {
        let repo = Repository::init(dir).unwrap();
        repo.set_head("refs/heads/main").unwrap();
        let plugin = GitPlugin {
            dir: dir.to_path_buf(),
            repo,
        };
        plugin.write_project(version, "first");
        plugin.commit(&format!("version {version}"));
        plugin
    }

    /// Writes the project files for `version`, with `marker` in the plugin module.
    pub fn write_project(&self, version: &str, marker: &str) {
        let pyproject = format!(
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
             [project]\nname = \"tutor-gitplug\"\nversion = \"{version}\"\n\
             description = \"git plugin for Tutor (fake)\"\nrequires-python = \">=3.8\"\n\n\
             [project.entry-points.\"tutor.plugin.v1\"]\ngitplug = \"tutorgitplug.plugin\"\n\n\
             [tool.hatch.build.targets.wheel]\npackages = [\"tutorgitplug\"]\n"
        );
        fs::create_dir_all(self.dir.join("tutorgitplug")).unwrap();
        fs::write(self.dir.join("pyproject.toml"), pyproject).unwrap();
        fs::write(self.dir.join("tutorgitplug/__init__.py"), "").unwrap();
        fs::write(
            self.dir.join("tutorgitplug/plugin.py"),
            format!("MARKER = {marker:?}\n"),
        )
        .unwrap();
    }

    /// Commits every file of the working tree on the current branch.
    pub fn commit(&self, message: &str) -> Oid {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("plonk tests", "tests@example.org").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    /// A lightweight tag at HEAD.
    pub fn tag(&self, name: &str) {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo
            .tag_lightweight(name, head.as_object(), false)
            .unwrap();
    }

    /// `git+file:///…@REF#egg=tutor-gitplug`.
    pub fn url(&self, reference: &str) -> String {
        format!(
            "git+file://{}@{reference}#egg=tutor-gitplug",
            self.dir.display()
        )
    }
}

/// The parsed `direct_url.json` of `tutor-gitplug`.
fn direct_url(case: &Case, name: &str) -> serde_json::Value {
    let text = fs::read_to_string(case.dist_info(name).join("direct_url.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The value of `tutorgitplug.plugin.MARKER` in the venv.
fn marker(case: &Case) -> String {
    venv::python_stdout(
        &case.venv,
        "import tutorgitplug.plugin as p; print(p.MARKER)",
    )
}

/// The Tutor plugin entry points of the venv as `name value dist` lines.
fn plugin_entry_points(case: &Case) -> String {
    venv::python_stdout(
        &case.venv,
        "import importlib.metadata as m\n\
         for ep in sorted(m.entry_points(group='tutor.plugin.v1'), key=lambda e: e.name):\n    \
         print(ep.name, ep.value, ep.dist.name)",
    )
}

/// The venv's tree without the bytecode Python writes when a test imports something.
fn tree(case: &Case) -> std::collections::BTreeMap<String, crate::support::tree::Snapshot> {
    let site = venv::site_packages(&case.venv);
    let rel = site
        .strip_prefix(&case.venv)
        .unwrap()
        .to_string_lossy()
        .to_string();
    let pycache = format!("{rel}/__pycache__");
    snapshot_ignoring(&case.venv, &[".plonk", pycache.as_str()])
}

#[test]
fn a_git_plugin_installs_from_a_tag_and_upgrade_follows_its_branch() {
    let case = Case::new(Api::Simple);
    let plugin = GitPlugin::new(&case.plonk.mkdir("gitplug"), "1.0.0");
    plugin.tag("v1.0.0");
    let first = plugin.repo.head().unwrap().target().unwrap();

    case.install(&[&plugin.url("v1.0.0")]).assert_success();
    let direct = direct_url(&case, "tutor-gitplug");
    assert_eq!(direct["vcs_info"]["commit_id"], first.to_string());
    assert_eq!(direct["vcs_info"]["requested_revision"], "v1.0.0");
    assert_eq!(direct["vcs_info"]["vcs"], "git");
    assert!(direct["url"].as_str().unwrap().starts_with("file://"));
    assert_eq!(
        plugin_entry_points(&case),
        "gitplug tutorgitplug.plugin tutor-gitplug"
    );
    assert_eq!(marker(&case), "first");

    // A new commit on main: the tag does not move, so neither does the plugin.
    plugin.write_project("1.0.0", "second");
    plugin.commit("second");
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(out.stdout().contains("already newest"), "{}", out.stdout());
    assert_eq!(marker(&case), "first");

    // Tracking the branch, then a commit on it: upgrade moves to the new commit.
    let out = case.install(&[&plugin.url("main")]);
    out.assert_success();
    assert_eq!(marker(&case), "second", "{}", out.stdout());
    plugin.write_project("1.0.1", "third");
    let third = plugin.commit("third");
    let out = case.run(&["upgrade", "gitplug"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(stdout.contains("upgraded"), "{stdout}");
    assert_eq!(marker(&case), "third");
    let direct = direct_url(&case, "tutor-gitplug");
    assert_eq!(direct["vcs_info"]["commit_id"], third.to_string());
    assert_eq!(direct["vcs_info"]["requested_revision"], "main");
    assert_eq!(case.installed()["tutor-gitplug"], "1.0.1");

    // A local folder that is a git repository installs from its current branch.
    case.install(&[plugin.dir.to_str().unwrap()])
        .assert_success();
    let direct = direct_url(&case, "tutor-gitplug");
    assert_eq!(direct["vcs_info"]["commit_id"], third.to_string());
    assert!(
        direct["vcs_info"].get("requested_revision").is_none(),
        "{direct}"
    );

    // The cache had everything: nothing new means nothing moves.
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(out.stdout().contains("already newest"), "{}", out.stdout());
    // The git cache holds one bare repository for the URL.
    let repos: Vec<_> = fs::read_dir(case.plonk.cache_dir.join("git-v1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("HEAD").is_file())
        .collect();
    assert_eq!(repos.len(), 1, "{repos:?}");
}

#[test]
fn an_editable_git_plugin_lives_in_venv_src_and_sees_changes() {
    let case = Case::new(Api::Json);
    let plugin = GitPlugin::new(&case.plonk.mkdir("gitplug"), "1.0.0");
    // As an index entry's `src` or a requirements-file line would write it.
    let editable = format!("-e {}", plugin.url("main"));
    case.install(&["--", editable.as_str()]).assert_success();

    let checkout = case.venv.join("src/tutor-gitplug");
    assert!(checkout.join("tutorgitplug/plugin.py").is_file());
    assert!(checkout.join(".git").is_dir(), "a real git working copy");
    let direct = direct_url(&case, "tutor-gitplug");
    assert_eq!(direct["dir_info"]["editable"], true);
    assert!(
        direct["url"]
            .as_str()
            .unwrap()
            .ends_with("/src/tutor-gitplug"),
        "{direct}"
    );
    assert_eq!(
        plugin_entry_points(&case),
        "gitplug tutorgitplug.plugin tutor-gitplug"
    );
    let file = venv::python_stdout(
        &case.venv,
        "import tutorgitplug.plugin as p; print(p.__file__)",
    );
    assert!(
        Path::new(&file).starts_with(fs::canonicalize(&checkout).unwrap())
            || Path::new(&file).starts_with(&checkout),
        "{file}"
    );
    assert_eq!(marker(&case), "first");
    // No package files were copied into site-packages.
    assert!(
        !venv::site_packages(&case.venv)
            .join("tutorgitplug")
            .exists()
    );

    // A change to the checkout is seen without reinstalling.
    fs::write(
        checkout.join("tutorgitplug/plugin.py"),
        "MARKER = 'edited'\n",
    )
    .unwrap();
    assert_eq!(marker(&case), "edited");

    // Upgrading a checkout with local changes is refused, and changes nothing.
    fs::write(
        checkout.join("tutorgitplug/plugin.py"),
        "MARKER = \"first\"\n",
    )
    .unwrap();
    plugin.write_project("1.0.0", "upstream");
    plugin.commit("upstream");
    fs::write(
        checkout.join("tutorgitplug/plugin.py"),
        "MARKER = 'local'\n",
    )
    .unwrap();
    let out = case.run(&["upgrade", "--strict", "gitplug"]);
    out.assert_failure(1);
    assert!(out.stderr().contains("local changes"), "{}", out.stderr());
    assert_eq!(marker(&case), "local");

    // Clean again: upgrade moves the checkout to the new commit.
    fs::write(
        checkout.join("tutorgitplug/plugin.py"),
        "MARKER = \"first\"\n",
    )
    .unwrap();
    case.run(&["upgrade", "gitplug"]).assert_success();
    assert_eq!(marker(&case), "upstream");
}

/// A folder served over loopback HTTP (as `/<file>`) for single-file plugins.
fn file_server(case: &Case) -> (FakeIndex, PathBuf) {
    let files = case.plonk.mkdir("served");
    let empty = case.plonk.mkdir("no-packages");
    let server = FakeIndex::start(&empty).with_index_dir(&files);
    (server, files)
}

const PLUGIN_V1: &str = "from tutor import hooks  # noqa\nVERSION = 'one'\n";
const PLUGIN_V2: &str = "from tutor import hooks  # noqa\nVERSION = 'two'\n";

#[test]
fn a_single_file_plugin_installs_upgrades_and_removes_cleanly() {
    let case = Case::new(Api::Simple);
    let (server, files) = file_server(&case);
    fs::write(files.join("myplugin.py"), PLUGIN_V1).unwrap();
    let url = format!("{}/myplugin.py", server.url());
    let before = tree(&case);

    let out = case.install(&[&url]);
    out.assert_success();
    assert_eq!(
        plugin_entry_points(&case),
        "myplugin _plonk_plugins.myplugin plonk-file-myplugin"
    );
    // The wrapped module is the served file, byte for byte.
    let site = venv::site_packages(&case.venv);
    assert_eq!(
        fs::read_to_string(site.join("_plonk_plugins/myplugin.py")).unwrap(),
        PLUGIN_V1
    );
    let direct = direct_url(&case, "plonk-file-myplugin");
    assert_eq!(direct["url"], url);
    let sha1 = crate::support::packages::sha256_hex(PLUGIN_V1.as_bytes());
    assert_eq!(direct["archive_info"]["hashes"]["sha256"], sha1);
    let receipt: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(case.venv.join(".plonk/receipt.json")).unwrap())
            .unwrap();
    assert_eq!(receipt["plugins"]["myplugin"]["sha256"], sha1);
    assert_eq!(receipt["plugins"]["myplugin"]["src"], url);

    // Unchanged content: nothing to upgrade.
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(out.stdout().contains("already newest"), "{}", out.stdout());

    // New content on the server: upgrade installs it.
    fs::write(files.join("myplugin.py"), PLUGIN_V2).unwrap();
    let out = case.run(&["upgrade", "myplugin"]);
    out.assert_success();
    assert!(out.stdout().contains("upgraded"), "{}", out.stdout());
    assert_eq!(
        fs::read_to_string(site.join("_plonk_plugins/myplugin.py")).unwrap(),
        PLUGIN_V2
    );

    // Installing it again under the same name is not shadowing; another file with that
    // name is, unless --reinstall.
    let local = case.plonk.mkdir("elsewhere").join("myplugin.py");
    fs::write(&local, PLUGIN_V1).unwrap();
    let out = case.install(&[local.to_str().unwrap()]);
    assert_clean_failure(&out, &["shadow", "myplugin"]);

    case.remove(&["myplugin"]).assert_success();
    assert_same_tree(&before, &tree(&case));
}

#[test]
fn a_yaml_plugin_goes_to_the_plugins_root() {
    let case = Case::new(Api::Json);
    let (server, files) = file_server(&case);
    fs::write(
        files.join("theme.yml"),
        "name: mytheme\nversion: 0.2.0\npatches: {}\n",
    )
    .unwrap();
    let url = format!("{}/theme.yml", server.url());
    let before = tree(&case);
    case.install(&[&url]).assert_success();
    assert_same_tree(&before, &tree(&case));
    let placed = case.plonk.plugins_root.join("theme.yml");
    assert!(fs::read_to_string(&placed).unwrap().contains("mytheme"));
    let listed = case.run(&["list"]);
    listed.assert_success();
    assert!(listed.stdout().contains("mytheme"), "{}", listed.stdout());
    let receipt = fs::read_to_string(case.venv.join(".plonk/receipt.json")).unwrap();
    assert!(receipt.contains("theme.yml"), "{receipt}");

    fs::write(files.join("theme.yml"), "name: mytheme\nversion: 0.3.0\n").unwrap();
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(fs::read_to_string(&placed).unwrap().contains("0.3.0"));
}

#[test]
fn bad_git_sources_and_bad_downloads_fail_cleanly() {
    let case = Case::new(Api::Simple);
    let (server, files) = file_server(&case);
    let plugin = GitPlugin::new(&case.plonk.mkdir("gitplug"), "1.0.0");
    let no_project = case.plonk.mkdir("not-python");
    {
        let repo = Repository::init(&no_project).unwrap();
        fs::write(no_project.join("README.md"), "hello\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("README.md")).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("t", "t@example.org").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "readme", &tree, &[])
            .unwrap();
    }
    fs::write(
        files.join("page.py"),
        "<!DOCTYPE html>\n<html><body>Sign in to GitHub</body></html>\n",
    )
    .unwrap();
    fs::write(files.join("empty.py"), "\n").unwrap();
    fs::write(files.join("binary.py"), b"\x89PNG\r\n\x1a\n\x00\x00").unwrap();
    fs::write(files.join("broken.py"), "def broken(:\n").unwrap();
    fs::write(files.join("bad.yml"), "- just\n- a list\n").unwrap();

    let missing_repo = format!("git+file://{}/nope#egg=x", case.plonk.tmp().display());
    let rows: Vec<(String, &str)> = vec![
        (missing_repo, "does not exist"),
        (
            plugin.url("no-such-ref"),
            "`no-such-ref` is not a branch, tag or commit",
        ),
        (
            format!("git+file://{}#egg=x", no_project.display()),
            "has no pyproject.toml or setup.py",
        ),
        (format!("{}/page.py", server.url()), "is an HTML page"),
        (format!("{}/missing.py", server.url()), "was not found"),
        (format!("{}/empty.py", server.url()), "is empty"),
        (
            format!("{}/binary.py", server.url()),
            "not a UTF-8 text file",
        ),
        (format!("{}/broken.py", server.url()), "is not valid Python"),
        (
            format!("{}/bad.yml", server.url()),
            "not a Tutor YAML plugin",
        ),
    ];
    let before = tree(&case);
    let plugins_before = snapshot_ignoring(&case.plonk.plugins_root, &[]);
    for (target, expected) in rows {
        let out = case.install(&[&target]);
        assert_clean_failure(&out, &[]);
        let stderr = out.stderr();
        assert!(stderr.contains(expected), "{target}: {stderr}");
        assert_same_tree(&before, &tree(&case));
        assert_same_tree(
            &plugins_before,
            &snapshot_ignoring(&case.plonk.plugins_root, &[]),
        );
    }

    // Credentials typed in a URL never reach the output.
    let secret = format!(
        "{}/missing.py",
        server.url().replace("http://", "http://token:hunter22@")
    );
    let out = case.install(&[&secret]);
    out.assert_failure(1);
    assert!(!out.stderr().contains("hunter22"), "{}", out.stderr());
}

#[test]
fn editable_flag_install_then_remove_leaves_an_identical_tree() {
    let case = Case::new(Api::Json);
    let plugin = GitPlugin::new(&case.plonk.mkdir("gitplug"), "1.0.0");
    let before = tree(&case);
    let url = plugin.url("main");
    case.install(&["-e", url.as_str()]).assert_success();
    assert!(case.venv.join("src/tutor-gitplug/.git").is_dir());
    assert_eq!(marker(&case), "first");
    case.remove(&["gitplug"]).assert_success();
    assert!(!case.venv.join("src/tutor-gitplug").exists());
    assert_same_tree(&before, &tree(&case));
}

#[test]
fn a_yaml_plugin_is_removed_from_the_plugins_root() {
    let case = Case::new(Api::Json);
    let (server, files) = file_server(&case);
    fs::write(files.join("theme.yml"), "name: mytheme\nversion: 0.2.0\n").unwrap();
    let url = format!("{}/theme.yml", server.url());
    let before = tree(&case);
    let root_before = crate::support::tree::snapshot(&case.plonk.plugins_root);
    case.install(&[&url]).assert_success();
    let placed = case.plonk.plugins_root.join("theme.yml");
    assert!(placed.is_file());
    case.remove(&["mytheme"]).assert_success();
    assert!(!placed.exists());
    assert_same_tree(&before, &tree(&case));
    assert_same_tree(
        &root_before,
        &crate::support::tree::snapshot(&case.plonk.plugins_root),
    );
}
