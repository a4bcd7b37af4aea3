//! `plonk install` acceptance tests of the backbone issue: the fixture package set installs as
//! pip would (scripts, `.data`, namespace packages, chains, markers, extras, yanked files,
//! Requires-Python, conflicts, Tutor pins, hatchling and setuptools sdists), through both the
//! JSON API and the simple API of the loopback fake index; and every download or archive fault
//! fails with one readable sentence, exit code 1 and an unchanged environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::support::packages::{WheelBuilder, record_hash};
use crate::support::plonk::{Plonk, RunOutput};
use crate::support::scenarios::{Backbone, backbone_packages};
use crate::support::server::FakeIndex;
use crate::support::tree::{Snapshot, assert_same_tree, snapshot};
use crate::support::venv;

/// Which package API of the fake index plonk is pointed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `--index-url http://127.0.0.1:<port>/pypi/` (PyPI JSON API).
    Json,
    /// `--index-url http://127.0.0.1:<port>/simple/` (PEP 691 / PEP 503).
    Simple,
}

/// Every release folder of the local plugin index (Tutor 15 olive ... 22 verawood, and main).
const RELEASES: &[&str] = &[
    "olive", "palm", "quince", "redwood", "sumac", "teak", "ulmo", "verawood", "main",
];

/// The local plugin index of the tests: the two Tutor plugins of the backbone set.
const PLUGINS_YML: &str = "- name: indigo\n  src: tutor-indigo\n  description: Indigo theme (fake)\n\
                           - name: legacy\n  src: tutor-legacy\n  description: Legacy plugin (fake)\n";

/// One scenario run: a sandbox (own HOME, cache, Tutor root), the backbone package set served
/// by its own fake index, and an empty venv. The Tutor project's `PLUGIN_INDEXES` names a
/// local folder, so plugin-name lookups never leave the machine.
pub struct Case {
    /// The API this run talks to.
    pub api: Api,
    /// The sandbox.
    pub plonk: Plonk,
    /// The fake index serving [`Case::dists`].
    pub index: FakeIndex,
    /// Filenames of the backbone set.
    pub backbone: Backbone,
    /// The folder of package files the index serves (tests may add files).
    pub dists: PathBuf,
    /// The target venv.
    pub venv: PathBuf,
}

impl Case {
    /// A fresh sandbox, package set, fake index and venv for `api`.
    pub fn new(api: Api) -> Case {
        let mut plonk = Plonk::new();
        let dists = plonk.mkdir("dists");
        let backbone = backbone_packages(&dists);
        let index = FakeIndex::start(&dists);
        let venv = plonk.make_venv("venv");
        let plugin_index = plonk.mkdir("plugin-index");
        for release in RELEASES {
            fs::create_dir_all(plugin_index.join(release)).unwrap();
            fs::write(plugin_index.join(release).join("plugins.yml"), PLUGINS_YML).unwrap();
        }
        let case = Case {
            api,
            plonk,
            index,
            backbone,
            dists,
            venv,
        };
        case.write_tutor_config("");
        // Fill the index cache now, so the runs under test print only their own messages.
        // `update` wants a release when the venv has no Tutor; `install` then uses the newest.
        case.run(&["--release", "verawood", "update"])
            .assert_success();
        case
    }

    /// Writes `$TUTOR_ROOT/config.yml`: `PLUGIN_INDEXES` naming the local plugin index,
    /// followed by `more` (e.g. `"PLUGINS:\n- legacy\n"`).
    pub fn write_tutor_config(&self, more: &str) {
        let index = self.plonk.tmp().join("plugin-index");
        fs::write(
            self.tutor_config(),
            format!("PLUGIN_INDEXES:\n- {}\n{more}", index.display()),
        )
        .unwrap();
    }

    /// `$TUTOR_ROOT/config.yml`.
    pub fn tutor_config(&self) -> PathBuf {
        self.plonk.tutor_root.join("config.yml")
    }

    /// The `--index-url` of this run's API.
    pub fn index_url(&self) -> String {
        match self.api {
            Api::Json => self.index.json_api_url(),
            Api::Simple => self.index.simple_url(),
        }
    }

    /// `plonk --python <venv> --index-url <url> --no-progress <args…>`.
    pub fn run(&self, args: &[&str]) -> RunOutput {
        self.plonk.run_cmd(&mut self.cmd(args))
    }

    /// The command [`Case::run`] runs, for callers that adjust it (environment, spawning).
    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let url = self.index_url();
        let venv = self.venv.to_string_lossy().to_string();
        let mut all: Vec<&str> = vec![
            "--python",
            venv.as_str(),
            "--index-url",
            url.as_str(),
            "--no-progress",
        ];
        all.extend_from_slice(args);
        self.plonk.cmd(all)
    }

    /// `plonk install <args…>` against this run's index and venv.
    pub fn install(&self, args: &[&str]) -> RunOutput {
        let mut all = vec!["install"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// `plonk remove <args…>` on this run's venv.
    pub fn remove(&self, args: &[&str]) -> RunOutput {
        let mut all = vec!["remove"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// The venv's file tree, plonk's record aside.
    pub fn tree(&self) -> BTreeMap<String, Snapshot> {
        snapshot(&self.venv)
    }

    /// Installed distributions as `name -> version` (normalised names), read by the venv's
    /// own `importlib.metadata`.
    pub fn installed(&self) -> BTreeMap<String, String> {
        let out = venv::python_stdout(
            &self.venv,
            "import importlib.metadata as m, re\n\
             for d in m.distributions():\n    \
             print(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(), d.version)",
        );
        out.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The `.dist-info` folder of `name` (normalised or not) in site-packages.
    #[track_caller]
    pub fn dist_info(&self, name: &str) -> PathBuf {
        let prefix = format!("{}-", name.to_lowercase().replace(['-', '.'], "_"));
        let site = venv::site_packages(&self.venv);
        let found: Vec<PathBuf> = fs::read_dir(&site)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_lowercase();
                n.starts_with(&prefix) && n.ends_with(".dist-info")
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {prefix}*.dist-info in {}",
            site.display()
        );
        found[0].clone()
    }
}

/// Runs `scenario` once through the JSON API and once through the simple API, each in a
/// fresh sandbox, so both APIs must give the same result.
pub fn each_api(scenario: impl Fn(&Case)) {
    for api in [Api::Json, Api::Simple] {
        let case = Case::new(api);
        eprintln!("--- scenario through the {api:?} API ---");
        scenario(&case);
    }
}

/// `path` with `.` and `..` folded lexically (RECORD paths such as `../../../bin/x`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The RECORD of a `.dist-info` as absolute paths with their hash field.
pub fn record_entries(dist_info: &Path) -> Vec<(PathBuf, String)> {
    let site = dist_info.parent().unwrap();
    let text = fs::read_to_string(dist_info.join("RECORD")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.rsplitn(3, ',').collect();
            assert_eq!(fields.len(), 3, "bad RECORD line {line:?}");
            let path = fields[2].trim_matches('"');
            (normalize(&site.join(path)), fields[1].to_string())
        })
        .collect()
}

/// Every file RECORD lists exists with the recorded hash, and nothing in RECORD points outside
/// the venv. Unhashed lines are allowed where the spec allows them: RECORD itself, `.pyc`
/// files, and the installer-written `INSTALLER` / `REQUESTED` / `direct_url.json` (plonk, like
/// uv, records those without a hash; pip hashes them).
#[track_caller]
pub fn assert_record_valid(venv: &Path, dist_info: &Path) {
    let root = normalize(venv);
    for (path, hash) in record_entries(dist_info) {
        assert!(
            path.starts_with(&root),
            "RECORD of {} points outside the venv: {}",
            dist_info.display(),
            path.display()
        );
        assert!(path.is_file(), "RECORD lists missing {}", path.display());
        if hash.is_empty() {
            let name = path.file_name().unwrap().to_string_lossy();
            assert!(
                matches!(
                    name.as_ref(),
                    "RECORD" | "INSTALLER" | "REQUESTED" | "direct_url.json"
                ) || name.ends_with(".pyc"),
                "{} has no hash in RECORD",
                path.display()
            );
            continue;
        }
        assert_eq!(
            hash,
            record_hash(&fs::read(&path).unwrap()),
            "hash of {} differs from RECORD",
            path.display()
        );
    }
}

/// Every file added to the venv between `before` and now belongs to the RECORD of one of the
/// installed distributions, and every RECORD is valid.
#[track_caller]
pub fn assert_records_cover(case: &Case, before: &BTreeMap<String, Snapshot>) {
    let site = venv::site_packages(&case.venv);
    let root = normalize(&case.venv);
    let mut listed: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in fs::read_dir(&site).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dist-info") {
            assert_record_valid(&case.venv, &path);
            listed.extend(record_entries(&path).into_iter().map(|(p, _)| p));
        }
    }
    for (rel, kind) in case.tree() {
        if matches!(kind, Snapshot::Dir) || before.contains_key(&rel) {
            continue;
        }
        assert!(
            listed.contains(&root.join(&rel)),
            "{rel} was installed but no RECORD lists it"
        );
    }
}

/// `INSTALLER` is `plonk`; `REQUESTED` exists exactly when `requested`.
#[track_caller]
pub fn assert_installer(case: &Case, name: &str, requested: bool) {
    let dist_info = case.dist_info(name);
    assert_eq!(
        fs::read_to_string(dist_info.join("INSTALLER"))
            .unwrap()
            .trim(),
        "plonk",
        "INSTALLER of {name}"
    );
    assert_eq!(
        dist_info.join("REQUESTED").exists(),
        requested,
        "REQUESTED of {name} should exist: {requested}"
    );
}

/// Asserts the installed distributions are exactly `expected` plus nothing else.
#[track_caller]
pub fn assert_installed(case: &Case, expected: &[(&str, &str)]) {
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(case.installed(), expected, "through the {:?} API", case.api);
}

/// A failed run as the spec wants it: exit 1, stderr starting with `error: ` and one sentence
/// that mentions every `needles` entry, no panic, backtrace or `Debug` dump anywhere.
#[track_caller]
pub fn assert_clean_failure(out: &RunOutput, needles: &[&str]) {
    out.assert_failure(1);
    let stderr = out.stderr();
    // Shown with `--nocapture`, to read the messages users get.
    eprintln!("`{}` said:\n{}", out.command, out.stderr_redacted());
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: "),
        "`{}`: the first stderr line is not an error sentence:\n{stderr}",
        out.command
    );
    for needle in needles {
        assert!(
            first.contains(needle),
            "`{}`: the error sentence does not name {needle:?}:\n{stderr}",
            out.command
        );
    }
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "Os {",
        "Error {",
        "kind: ",
        "Some(",
    ] {
        assert!(
            !stderr.contains(bad),
            "`{}`: stderr shows {bad:?} (a panic or Debug dump):\n{stderr}",
            out.command
        );
    }
    assert!(
        !first.contains('{') && !first.contains('}'),
        "`{}`: the error sentence looks like a Debug dump:\n{stderr}",
        out.command
    );
}

/// The interpreter line of a script (`#!…`).
fn shebang(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    text.lines().next().unwrap_or_default().to_string()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

fn script_stdout(case: &Case, name: &str) -> String {
    let out = venv::run_script(&case.venv, name, &[]);
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn scripts_data_and_a_dependency_chain_install_like_pip() {
    each_api(|case| {
        let before = case.tree();
        case.install(&["alpha"]).assert_success();
        assert_installed(
            case,
            &[("alpha", "1.0"), ("chain-b", "1.0"), ("chain-c", "1.1")],
        );

        // Console and GUI launchers, and the `.data/scripts` file with `#!python` rewritten.
        let bin = venv::bin_dir(&case.venv);
        for script in ["alpha-cli", "alpha-gui", "alpha-tool"] {
            let path = bin.join(script);
            assert!(path.is_file(), "{} missing", path.display());
            assert!(is_executable(&path), "{} is not executable", path.display());
            let line = shebang(&path);
            let interpreter = PathBuf::from(line.trim_start_matches("#!").trim());
            assert!(
                line.starts_with("#!")
                    && normalize(&interpreter).starts_with(normalize(&case.venv)),
                "{script} should run the venv's python, not {line:?}"
            );
        }
        assert_eq!(script_stdout(case, "alpha-cli"), "alpha-cli ok");
        assert_eq!(script_stdout(case, "alpha-gui"), "alpha-gui ok");
        assert_eq!(script_stdout(case, "alpha-tool"), "alpha-tool ok");

        // `.data/data` under the venv root, `.data/headers` under include/.
        assert_eq!(
            fs::read_to_string(case.venv.join("share/alpha/readme.txt")).unwrap(),
            "alpha data file\n"
        );
        let headers: Vec<String> = case
            .tree()
            .into_keys()
            .filter(|p| p.starts_with("include/") && p.ends_with("/alpha.h"))
            .collect();
        assert_eq!(headers.len(), 1, "one alpha.h under include/: {headers:?}");

        // The chain imports; INSTALLER / REQUESTED; RECORD complete and exact.
        assert_eq!(
            venv::python_stdout(
                &case.venv,
                "import alpha, chain_b, chain_c; print(chain_c.__version__)"
            ),
            "1.1"
        );
        assert_installer(case, "alpha", true);
        assert_installer(case, "chain-b", false);
        assert_installer(case, "chain-c", false);
        assert_records_cover(case, &before);
    });
}

#[test]
fn a_namespace_package_shared_by_two_distributions() {
    each_api(|case| {
        let before = case.tree();
        case.install(&["nsa", "nsb"]).assert_success();
        assert_installed(case, &[("nsa", "1.0"), ("nsb", "1.0")]);
        assert_eq!(
            venv::python_stdout(
                &case.venv,
                "import nsshared.a, nsshared.b; print(nsshared.a.NAME + nsshared.b.NAME)"
            ),
            "ab"
        );
        // PEP 420: no `__init__.py` appears in the shared folder.
        let site = venv::site_packages(&case.venv);
        assert!(!site.join("nsshared/__init__.py").exists());
        assert_installer(case, "nsa", true);
        assert_installer(case, "nsb", true);
        assert_records_cover(case, &before);
    });
}

#[test]
fn markers_are_evaluated_for_the_target_interpreter() {
    each_api(|case| {
        case.install(&["markered"]).assert_success();
        // `linuxdep; sys_platform == "linux"` applies, `onlyold; python_version < "3.0"` does
        // not (and `onlyold` does not even exist on the index).
        assert_installed(case, &[("linuxdep", "1.0"), ("markered", "1.0")]);
        assert_installer(case, "linuxdep", false);
        assert!(
            !case.index.requests().iter().any(|r| r.contains("onlyold")),
            "a dependency whose marker is false was looked up: {:?}",
            case.index.requests()
        );
    });
}

#[test]
fn an_extra_pulls_its_dependencies_only_when_asked() {
    each_api(|case| {
        case.install(&["withextra"]).assert_success();
        assert_installed(case, &[("withextra", "1.0")]);
        case.install(&["withextra[fancy]"]).assert_success();
        assert_installed(case, &[("fancydep", "1.0"), ("withextra", "1.0")]);
        assert_installer(case, "fancydep", false);
        assert_installer(case, "withextra", true);
    });
}

#[test]
fn a_yanked_version_is_skipped_unless_pinned() {
    each_api(|case| {
        case.index.set_yanked(&case.backbone.yanked);
        case.install(&["yanky"]).assert_success();
        assert_installed(case, &[("yanky", "1.0")]);
        // Pinned with `==`, the yanked file is what the user asked for (PEP 592).
        case.install(&["yanky==2.0"]).assert_success();
        assert_installed(case, &[("yanky", "2.0")]);
        let before = case.tree();
        case.install(&["yanky==2.0"]).assert_success();
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn requires_python_excludes_a_newer_version() {
    each_api(|case| {
        case.install(&["futurepy"]).assert_success();
        assert_installed(case, &[("futurepy", "1.0")]);
        // Asking for the excluded version fails and says so.
        let before = case.tree();
        let out = case.install(&["futurepy==2.0"]);
        assert_clean_failure(&out, &["futurepy"]);
        assert!(
            out.stderr().contains("3.99"),
            "the error should name the Requires-Python that excludes 2.0:\n{}",
            out.stderr()
        );
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn an_unsatisfiable_pair_fails_and_names_the_conflict() {
    each_api(|case| {
        let before = case.tree();
        let out = case.install(&["conflict-a", "conflict-b"]);
        assert_clean_failure(&out, &[]);
        let stderr = out.stderr();
        for needle in ["shared", "conflict-a", "conflict-b", "<1", ">=2"] {
            assert!(
                stderr.contains(needle),
                "the conflict explanation should name {needle:?}:\n{stderr}"
            );
        }
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[]);
    });
}

#[test]
fn an_unknown_package_fails_clearly() {
    each_api(|case| {
        let before = case.tree();
        let out = case.install(&["nosuchpackage"]);
        assert_clean_failure(&out, &["nosuchpackage"]);
        assert_same_tree(&before, &case.tree());
    });
}

#[test]
fn a_plugin_needing_another_tutor_fails_and_tutor_is_kept() {
    each_api(|case| {
        case.install(&["tutor==21.0.0"]).assert_success();
        assert_installer(case, "tutor", true);
        let before = case.tree();
        let out = case.install(&["tutor-indigo"]);
        assert_clean_failure(&out, &["tutor-indigo"]);
        let stderr = out.stderr();
        // One sentence names the installed Tutor and the one the plugin needs.
        let sentence = stderr
            .lines()
            .find(|l| l.contains("21.0.0") && l.contains("22"))
            .unwrap_or_else(|| panic!("no line names both Tutor versions:\n{stderr}"));
        assert!(sentence.to_lowercase().contains("tutor"), "{sentence}");
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[("tutor", "21.0.0")]);
    });
}

#[test]
fn a_hatchling_sdist_plugin_builds_and_installs() {
    each_api(|case| {
        case.install(&["tutor==22.0.0"]).assert_success();
        let before = case.tree();
        case.install(&["tutor-indigo"]).assert_success();
        assert_installed(case, &[("tutor", "22.0.0"), ("tutor-indigo", "22.0.0")]);
        let eps = venv::python_stdout(
            &case.venv,
            "import importlib.metadata as m\n\
             for ep in m.entry_points(group='tutor.plugin.v1'):\n    \
             print(ep.name, ep.value, ep.dist.name)",
        );
        assert_eq!(eps, "indigo tutorindigo.plugin tutor-indigo");
        assert_eq!(
            venv::python_stdout(
                &case.venv,
                "import tutorindigo.plugin as p, tutorindigo.__about__ as a; print(p.NAME, a.__version__)"
            ),
            "indigo 22.0.0"
        );
        let site = venv::site_packages(&case.venv);
        assert!(
            site.join("tutorindigo/templates/indigo/apps/settings.yml")
                .is_file()
        );
        assert_installer(case, "tutor-indigo", true);
        assert_installer(case, "tutor", true);
        assert_records_cover(case, &before);
        // Build requirements went into an isolated build env, not into the venv.
        assert!(!case.installed().contains_key("hatchling"));
    });
}

#[test]
fn a_setuptools_sdist_builds_and_brings_its_setup_py_dependency() {
    each_api(|case| {
        let before = case.tree();
        case.install(&["setupy"]).assert_success();
        assert_installed(case, &[("chain-c", "1.1"), ("setupy", "1.0")]);
        assert_eq!(script_stdout(case, "setupy"), "setupy ok");
        assert_installer(case, "setupy", true);
        assert_installer(case, "chain-c", false);
        assert_records_cover(case, &before);
        assert!(!case.installed().contains_key("setuptools"));
    });
}

#[test]
fn dry_run_changes_nothing_and_json_prints_the_plan() {
    each_api(|case| {
        let before = case.tree();
        let out = case.install(&["--dry-run", "alpha"]);
        out.assert_success();
        out.assert_stdout_contains("alpha==1.0");
        out.assert_stdout_contains("chain-c==1.1");
        assert_same_tree(&before, &case.tree());

        let out = case.run(&["--json", "install", "--dry-run", "alpha"]);
        out.assert_success();
        let json = out.json();
        assert_eq!(json["dry_run"], serde_json::json!(true), "{json}");
        let mut planned: Vec<(String, String, String)> = json["changes"]
            .as_array()
            .unwrap_or_else(|| panic!("no `changes` list: {json}"))
            .iter()
            .map(|c| {
                (
                    c["action"].as_str().unwrap_or_default().to_string(),
                    c["name"].as_str().unwrap_or_default().to_string(),
                    c["version"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        planned.sort();
        let expected: Vec<(String, String, String)> = [
            ("add", "alpha", "1.0"),
            ("add", "chain-b", "1.0"),
            ("add", "chain-c", "1.1"),
        ]
        .iter()
        .map(|(a, n, v)| (a.to_string(), n.to_string(), v.to_string()))
        .collect();
        assert_eq!(planned, expected, "{json}");
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[]);
    });
}

#[test]
fn a_requirements_file_installs_its_lines() {
    each_api(|case| {
        let file = case.plonk.tmp().join("requirements.txt");
        fs::write(
            &file,
            "# plugins and friends\n\
             \n\
             nsa\n\
             withextra[fancy]   # with its extra\n\
             yanky==1.0\n\
             markered ; python_version >= \"3\"\n",
        )
        .unwrap();
        let path = file.to_string_lossy().to_string();
        case.install(&["-r", &path]).assert_success();
        assert_installed(
            case,
            &[
                ("fancydep", "1.0"),
                ("linuxdep", "1.0"),
                ("markered", "1.0"),
                ("nsa", "1.0"),
                ("withextra", "1.0"),
                ("yanky", "1.0"),
            ],
        );
        for requested in ["nsa", "withextra", "yanky", "markered"] {
            assert_installer(case, requested, true);
        }
        assert_installer(case, "fancydep", false);
    });
}

// Faults: every one fails with one readable sentence, exit 1, and the venv as it was.

/// Installs `args` expecting a clean failure that names `needles`, and checks that the venv
/// did not change.
#[track_caller]
fn assert_install_fails_cleanly(case: &Case, args: &[&str], needles: &[&str]) -> RunOutput {
    let before = case.tree();
    let out = case.install(args);
    assert_clean_failure(&out, needles);
    assert_same_tree(&before, &case.tree());
    assert_installed(case, &[]);
    out
}

#[test]
fn a_sha256_mismatch_installs_nothing() {
    each_api(|case| {
        let file = case.backbone.alpha.clone();
        case.index.bad_sha256(&file);
        let out = assert_install_fails_cleanly(case, &["alpha"], &["alpha"]);
        // The details name the file and both digests.
        let stderr = out.stderr();
        let actual =
            crate::support::packages::sha256_hex(&fs::read(case.dists.join(&file)).unwrap());
        for needle in [file.as_str(), &"0".repeat(64), actual.as_str()] {
            assert!(stderr.contains(needle), "stderr lacks {needle}:\n{stderr}");
        }
        // Nothing unverified stays in the cache under the advertised digest.
        let leftovers: Vec<String> = walkdir::WalkDir::new(&case.plonk.cache_dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy() == file)
            .map(|e| e.path().display().to_string())
            .collect();
        assert_eq!(
            leftovers,
            Vec::<String>::new(),
            "unverified file kept in the cache"
        );
    });
}

#[test]
fn a_truncated_download_installs_nothing() {
    each_api(|case| {
        case.index.truncate(&case.backbone.alpha);
        assert_install_fails_cleanly(case, &["alpha"], &["alpha"]);
    });
}

#[test]
fn a_404_download_installs_nothing() {
    each_api(|case| {
        case.index
            .status(&format!("/packages/{}", case.backbone.alpha), 404);
        let out = assert_install_fails_cleanly(case, &["alpha"], &["alpha"]);
        let stderr = out.stderr();
        assert!(
            stderr.contains("404") || stderr.contains("not found"),
            "the error should say the file is missing:\n{stderr}"
        );
    });
}

/// Installs `alpha` with a 2 s HTTP timeout while the fake index hangs on `path`: a clean
/// failure (after plonk's bounded retries) and an unchanged venv.
fn assert_hang_fails_cleanly(case: &Case, path: &str) {
    case.index.hang(path);
    let started = std::time::Instant::now();
    let before = case.tree();
    let mut cmd = case.cmd(&["install", "alpha"]);
    cmd.env("PLONK_HTTP_TIMEOUT", "2");
    let out = case.plonk.run_cmd(&mut cmd);
    assert_clean_failure(&out, &["alpha"]);
    out.assert_stderr_contains("timed out");
    assert_same_tree(&before, &case.tree());
    assert_installed(case, &[]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "a 2 s timeout took {:?}",
        started.elapsed()
    );
}

// A hang costs a timeout per retry (about 11 s), so each API gets its own test (they run in
// parallel) and hangs somewhere else.

#[test]
fn a_download_that_stops_answering_times_out() {
    let case = Case::new(Api::Json);
    let path = format!("/packages/{}", case.backbone.alpha);
    assert_hang_fails_cleanly(&case, &path);
}

#[test]
fn an_index_page_that_stops_answering_times_out() {
    let case = Case::new(Api::Simple);
    assert_hang_fails_cleanly(&case, "/simple/alpha/");
}

/// A valid wheel whose one big member has its compressed bytes damaged: the index lists it
/// with the right sha256 (so the download verifies) but it cannot be extracted.
fn damaged_wheel(dir: &Path) -> String {
    let member = "damaged/data.py";
    let body: String = (0..4000)
        .map(|i| format!("X{i} = {}\n", i * 7919 % 10007))
        .collect();
    let builder = WheelBuilder::new("damaged", "1.0")
        .file("damaged/__init__.py", "")
        .file(member, &body);
    let mut bytes = builder.build_bytes();
    // The first occurrence of the name is the local file header; its data follows the
    // 30-byte header, the name and the extra field.
    let at = bytes
        .windows(member.len())
        .position(|w| w == member.as_bytes())
        .unwrap();
    let header = at - 30;
    let extra = u16::from_le_bytes([bytes[header + 28], bytes[header + 29]]) as usize;
    let data = at + member.len() + extra;
    for b in &mut bytes[data + 40..data + 200] {
        *b ^= 0x5a;
    }
    let name = builder.filename();
    fs::write(dir.join(&name), bytes).unwrap();
    name
}

#[test]
fn a_corrupt_wheel_installs_nothing() {
    each_api(|case| {
        // Garbage that is not a zip at all.
        let mut garbage =
            fs::File::create(case.dists.join("garbage-1.0-py3-none-any.whl")).unwrap();
        garbage.write_all(b"this is not a zip archive\n").unwrap();
        drop(garbage);
        assert_install_fails_cleanly(case, &["garbage"], &["garbage"]);
        // A real zip with one damaged member, installed together with good packages that
        // sort (and so install) before it: they must not stay behind either.
        damaged_wheel(&case.dists);
        assert_install_fails_cleanly(case, &["alpha", "damaged"], &["damaged"]);
    });
}

#[test]
fn a_wheel_with_a_parent_path_is_refused() {
    each_api(|case| {
        WheelBuilder::new("evil", "1.0")
            .file("evil/__init__.py", "")
            .raw_entry("../evil.py", "print('escaped')\n", true)
            .raw_entry("../../../../../evil2.py", "print('escaped')\n", true)
            .build(&case.dists);
        let outside_before = snapshot(case.plonk.tmp());
        let out = assert_install_fails_cleanly(case, &["evil"], &["evil"]);
        assert!(out.stderr().contains("../"), "{}", out.stderr());
        // Nothing was written anywhere in the sandbox either (bar plonk's cache).
        let outside_after = snapshot(case.plonk.tmp());
        let changed: Vec<String> = crate::support::tree::diff(&outside_before, &outside_after)
            .into_iter()
            .filter(|l| !l[2..].starts_with("cache") && !l[2..].starts_with("venv/.plonk"))
            .collect();
        assert_eq!(changed, Vec::<String>::new());
        let far = normalize(&venv::site_packages(&case.venv).join("../../../../../evil2.py"));
        assert!(
            !far.exists() || fs::read_to_string(&far).is_ok_and(|t| !t.contains("escaped")),
            "{} was written",
            far.display()
        );
    });
}

#[test]
fn a_corrupt_wheel_is_called_a_wheel() {
    let case = Case::new(Api::Simple);
    fs::write(
        case.dists.join("garbage-1.0-py3-none-any.whl"),
        b"this is not a zip archive\n",
    )
    .unwrap();
    let out = assert_install_fails_cleanly(&case, &["garbage"], &["garbage"]);
    assert!(
        !out.stderr().contains("source distribution"),
        "a wheel is not a source distribution:\n{}",
        out.stderr()
    );
}

#[test]
fn a_failed_upgrade_keeps_the_installed_version() {
    each_api(|case| {
        case.install(&["yanky==1.0"]).assert_success();
        let before = case.tree();
        // yanky 2.0 is replaced on the index by a wheel that fails to install.
        WheelBuilder::new("yanky", "2.0")
            .file("yanky/__init__.py", "DIST = 'yanky'\n__version__ = '2.0'\n")
            .raw_entry("../evil.py", "print('escaped')\n", true)
            .build(&case.dists);
        let out = case.install(&["yanky==2.0"]);
        assert_clean_failure(&out, &["yanky"]);
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[("yanky", "1.0")]);
    });
}

#[test]
fn asking_for_an_installed_dependency_makes_it_requested() {
    each_api(|case| {
        case.install(&["alpha"]).assert_success();
        assert_installer(case, "chain-c", false);
        // The user now asks for chain-c by name: pip would leave it alone, but plonk must
        // remember the request, or `remove alpha` would take chain-c away.
        case.install(&["chain-c"]).assert_success();
        case.remove(&["alpha"]).assert_success();
        assert_installed(case, &[("chain-c", "1.1")]);
    });
}

#[test]
fn a_failure_after_an_upgrade_undoes_the_upgrade() {
    each_api(|case| {
        damaged_wheel(&case.dists);
        case.install(&["chain-c==1.0"]).assert_success();
        let before = case.tree();
        // chain-c is upgraded first (names install in order), then `damaged` fails: the whole
        // change is undone, the upgrade included.
        let out = case.install(&["chain-c==1.1", "damaged", "nsa"]);
        assert_clean_failure(&out, &["damaged"]);
        assert_same_tree(&before, &case.tree());
        assert_installed(case, &[("chain-c", "1.0")]);
        assert_installer(case, "chain-c", true);
        // plonk's record follows: removing chain-c leaves an empty venv.
        case.remove(&["chain-c"]).assert_success();
        assert_installed(case, &[]);
    });
}
