//! `plonk mirror`: the layout of a mirror built from a fixture plugin index (an sdist plugin,
//! a dynamic-version sdist plugin, a git plugin) and the loopback fake package index; re-runs
//! that fetch only what changed; `--prune`; the default "every plugin" run that skips what
//! cannot be resolved; foreign targets; errors.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::packages::{WheelBuilder, sha256_hex};
use crate::support::plonk::{Plonk, RunOutput};
use crate::support::scenarios::{backbone_packages, tutor_plugin_sdist, tutor_wheel};
use crate::support::server::FakeIndex;

/// The release the fixture plugin index describes.
pub const RELEASE: &str = "verawood";

/// A connected host: the backbone package set behind the fake index, a plugin index folder
/// with `indigo` (sdist, dynamic version), `mfe` (sdist), `notes` (a local git repository)
/// and `legacy` (a wheel that needs Tutor 21), and an empty folder for the mirror.
pub struct Fixture {
    /// The sandbox of the connected host.
    pub plonk: Plonk,
    /// The package files the fake index serves.
    pub dists: PathBuf,
    /// The fake package index.
    pub index: FakeIndex,
    /// The plugin index folder (`<it>/verawood/plugins.yml`).
    pub plugin_index: PathBuf,
    /// The git repository of `tutor-notes`.
    pub repo: PathBuf,
    /// Where the mirror goes.
    pub mirror: PathBuf,
}

/// Runs git in `dir` with a fixed identity.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=plonk",
            "-c",
            "user.email=plonk@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository holding the hatchling project `tutor-notes` (the files of its sdist).
fn notes_repository(dir: &Path) -> PathBuf {
    let work = dir.join("notes-sdist");
    fs::create_dir_all(&work).unwrap();
    let builder = tutor_plugin_sdist("notes", "22.0.0", "tutor>=22.0.0,<23.0.0");
    let sdist = builder.build(&work);
    let file = fs::File::open(&sdist).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive.unpack(&work).unwrap();
    let unpacked = work.join(builder.base_name());
    let repo = dir.join("notes-repo");
    fs::rename(&unpacked, &repo).unwrap();
    // PKG-INFO belongs to the sdist, not to the project.
    let _ = fs::remove_file(repo.join("PKG-INFO"));
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "notes 22.0.0"]);
    repo
}

impl Fixture {
    /// A fresh connected host.
    pub fn new() -> Fixture {
        let plonk = Plonk::new();
        let dists = plonk.mkdir("dists");
        backbone_packages(&dists);
        let index = FakeIndex::start(&dists);
        let repo = notes_repository(plonk.tmp());
        let plugin_index = plonk.mkdir("plugin-index");
        fs::create_dir_all(plugin_index.join(RELEASE)).unwrap();
        fs::write(
            plugin_index.join(RELEASE).join("plugins.yml"),
            format!(
                "- name: indigo\n  src: tutor-indigo\n  description: Indigo theme (fake)\n\
                 - name: mfe\n  src: tutor-mfe>=22.0.0,<23.0.0\n  description: Micro-frontends (fake)\n  author: Edly\n\
                 - name: notes\n  src: -e git+file://{}@main#egg=tutor-notes\n  description: Notes (fake, from git)\n\
                 - name: legacy\n  src: tutor-legacy\n  description: Needs Tutor 21 (fake)\n",
                repo.display()
            ),
        )
        .unwrap();
        let mirror = plonk.tmp().join("mirror");
        Fixture {
            plonk,
            dists,
            index,
            plugin_index,
            repo,
            mirror,
        }
    }

    /// `plonk --release verawood --index-url <fake>/simple/ mirror <mirror> --index <plugin
    /// index> <args…>`.
    pub fn mirror(&self, args: &[&str]) -> RunOutput {
        let url = self.index.simple_url();
        let mirror = self.mirror.to_string_lossy().to_string();
        let plugin_index = self.plugin_index.to_string_lossy().to_string();
        let mut all: Vec<&str> = vec![
            "--release",
            RELEASE,
            "--index-url",
            &url,
            "--no-progress",
            "mirror",
            &mirror,
            "--index",
            &plugin_index,
        ];
        all.extend_from_slice(args);
        self.plonk.run(all)
    }

    /// The wheel file names in the mirror.
    pub fn wheels(&self) -> BTreeSet<String> {
        fs::read_dir(self.mirror.join("wheels"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".whl"))
            .collect()
    }
}

/// Every line of `SHA256SUMS` matches its file, and every file but the list is listed.
#[track_caller]
pub fn assert_checksums(mirror: &Path) {
    let text = fs::read_to_string(mirror.join("SHA256SUMS")).unwrap();
    let mut listed = BTreeSet::new();
    for line in text.lines() {
        let (sha, path) = line.split_once("  ").expect("sha256sum format");
        let bytes = fs::read(mirror.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(sha256_hex(&bytes), sha, "checksum of {path}");
        listed.insert(path.to_string());
    }
    for entry in walkdir::WalkDir::new(mirror) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let relative = entry
                .path()
                .strip_prefix(mirror)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if relative != "SHA256SUMS" {
                assert!(
                    listed.contains(&relative),
                    "{relative} is not in SHA256SUMS"
                );
            }
        }
    }
}

#[test]
fn mirror_layout_rerun_and_prune() {
    let fx = Fixture::new();
    let out = fx.mirror(&["indigo", "mfe", "notes"]);
    out.assert_success();
    assert!(
        out.stderr().contains("Mirrored 3 plugins"),
        "{}",
        out.stderr()
    );

    // Every wheel of the closures, sdists and the git source built; nothing else.
    let wheels = fx.wheels();
    for expected in [
        "tutor_indigo-22.0.0-py3-none-any.whl",
        "tutor_mfe-22.0.0-py3-none-any.whl",
        "tutor_notes-22.0.0-py3-none-any.whl",
        "tutor-22.0.0-py3-none-any.whl",
    ] {
        assert!(wheels.contains(expected), "{expected} missing: {wheels:?}");
    }
    assert!(
        !wheels.iter().any(|w| w.starts_with("tutor-21")),
        "{wheels:?}"
    );
    for entry in walkdir::WalkDir::new(&fx.mirror) {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            !name.ends_with(".tar.gz"),
            "an sdist reached the mirror: {name}"
        );
    }
    // PEP 658 files and a PEP 503 index with hashes.
    for wheel in &wheels {
        let metadata = fx.mirror.join("wheels").join(format!("{wheel}.metadata"));
        let text = fs::read_to_string(&metadata).unwrap();
        assert!(text.contains("Metadata-Version"), "{}", metadata.display());
    }
    let page = fs::read_to_string(fx.mirror.join("simple/tutor-mfe/index.html")).unwrap();
    let wheel_bytes = fs::read(fx.mirror.join("wheels/tutor_mfe-22.0.0-py3-none-any.whl")).unwrap();
    assert!(
        page.contains(&format!(
            "href=\"../../wheels/tutor_mfe-22.0.0-py3-none-any.whl#sha256={}\"",
            sha256_hex(&wheel_bytes)
        )),
        "{page}"
    );
    assert!(page.contains("data-core-metadata=\"sha256="), "{page}");
    let root = fs::read_to_string(fx.mirror.join("simple/index.html")).unwrap();
    assert!(root.contains("<a href=\"tutor-notes/\">"), "{root}");

    // Plugin index files: the index's own folder and the merged root, with the marker key;
    // the git plugin is pinned to its built wheel.
    let own = fs::read_to_string(fx.mirror.join("plugin-index/verawood/plugins.yml")).unwrap();
    let merged = fs::read_to_string(fx.mirror.join("verawood/plugins.yml")).unwrap();
    assert!(own.contains("plonk_mirror: \"../../\""), "{own}");
    assert!(merged.contains("plonk_mirror: \"../\""), "{merged}");
    assert!(own.contains("src: tutor-notes==22.0.0"), "{own}");
    assert!(own.contains("src: tutor-mfe"), "{own}");
    assert!(!own.contains("legacy"), "{own}");
    assert!(!own.contains("git+"), "{own}");
    let marker: serde_json::Value =
        serde_json::from_slice(&fs::read(fx.mirror.join("plonk-mirror.json")).unwrap()).unwrap();
    assert_eq!(marker["plonk_mirror"], 1);
    assert_eq!(marker["releases"][0], RELEASE);
    assert_eq!(marker["indexes"][0]["name"], "plugin-index");
    assert_checksums(&fx.mirror);

    // A second run changes nothing and fetches nothing.
    fx.index.clear_requests();
    let out = fx.mirror(&["indigo", "mfe", "notes", "--json"]);
    out.assert_success();
    let report = out.json();
    assert_eq!(report["downloaded"], 0, "{report}");
    assert_eq!(report["built"], 0, "{report}");
    assert_eq!(report["added"], serde_json::json!([]), "{report}");

    // One package gains a version: only that version is downloaded.
    tutor_wheel("22.1.0").build(&fx.dists);
    fx.index.clear_requests();
    let out = fx.mirror(&["indigo", "mfe", "notes", "--json"]);
    out.assert_success();
    let report = out.json();
    assert_eq!(
        report["added"],
        serde_json::json!(["tutor-22.1.0-py3-none-any.whl"]),
        "{report}"
    );
    assert_eq!(report["downloaded"], 1, "{report}");
    assert_eq!(report["built"], 0, "{report}");
    let downloads: Vec<String> = fx
        .index
        .request_log()
        .into_iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.starts_with("/packages/")
                && !r.path.ends_with(".metadata")
                && r.range.is_none()
        })
        .map(|r| r.path)
        .collect();
    assert_eq!(
        downloads,
        vec!["/packages/tutor-22.1.0-py3-none-any.whl".to_string()],
        "{:?}",
        fx.index.requests()
    );
    // Without --prune the old version stays.
    assert!(fx.wheels().contains("tutor-22.0.0-py3-none-any.whl"));
    assert_checksums(&fx.mirror);

    // --prune drops what no longer belongs, its metadata and index links included.
    let out = fx.mirror(&["indigo", "mfe", "notes", "--prune", "--json"]);
    out.assert_success();
    let report = out.json();
    let removed: Vec<String> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        removed.contains(&"wheels/tutor-22.0.0-py3-none-any.whl".to_string())
            && removed.contains(&"wheels/tutor-22.0.0-py3-none-any.whl.metadata".to_string()),
        "{report}"
    );
    let page = fs::read_to_string(fx.mirror.join("simple/tutor/index.html")).unwrap();
    assert!(!page.contains("22.0.0"), "{page}");
    assert!(page.contains("tutor-22.1.0-py3-none-any.whl"), "{page}");
    assert_checksums(&fx.mirror);
}

#[test]
fn mirror_of_every_plugin_skips_what_cannot_be_resolved() {
    let fx = Fixture::new();
    let index = fx.plugin_index.join(RELEASE).join("plugins.yml");
    let mut text = fs::read_to_string(&index).unwrap();
    text.push_str("- name: broken\n  src: no-such-package>=1\n");
    fs::write(&index, text).unwrap();
    let out = fx.mirror(&[]);
    out.assert_success();
    let stderr = out.stderr();
    assert!(stderr.contains("`broken`"), "{stderr}");
    assert!(stderr.contains("no-such-package"), "{stderr}");
    assert!(stderr.contains("Mirrored 4 plugins"), "{stderr}");
    let own = fs::read_to_string(fx.mirror.join("plugin-index/verawood/plugins.yml")).unwrap();
    assert!(!own.contains("broken"), "{own}");
    // Each plugin is resolved alone: `legacy` brings Tutor 21 next to the others' Tutor 22.
    let wheels = fx.wheels();
    assert!(
        wheels.contains("tutor-21.0.0-py3-none-any.whl"),
        "{wheels:?}"
    );
    assert!(
        wheels.contains("tutor-22.0.0-py3-none-any.whl"),
        "{wheels:?}"
    );
    assert!(
        wheels.contains("tutor_legacy-21.0.0-py3-none-any.whl"),
        "{wheels:?}"
    );
}

#[test]
fn mirror_for_a_foreign_target_picks_its_wheels() {
    let fx = Fixture::new();
    for tag in ["cp312-cp312-win_amd64", "cp39-cp39-manylinux_2_17_x86_64"] {
        WheelBuilder::new("natdep", "1.0")
            .tag(tag)
            .root_is_purelib(false)
            .file("natdep/__init__.py", "")
            .build(&fx.dists);
    }
    WheelBuilder::new("tutor-native", "22.0.0")
        .requires("natdep")
        .requires("tutor>=22,<23")
        .file("tutornative/__init__.py", "")
        .entry_point("tutor.plugin.v1", "native", "tutornative")
        .build(&fx.dists);
    let index = fx.plugin_index.join(RELEASE).join("plugins.yml");
    let mut text = fs::read_to_string(&index).unwrap();
    text.push_str("- name: native\n  src: tutor-native\n");
    fs::write(&index, text).unwrap();

    let out = fx.mirror(&[
        "native",
        "--python-version",
        "3.12",
        "--platform",
        "win_amd64",
    ]);
    out.assert_success();
    let wheels = fx.wheels();
    assert!(
        wheels.contains("natdep-1.0-cp312-cp312-win_amd64.whl"),
        "{wheels:?}"
    );
    assert!(
        !wheels.iter().any(|w| w.contains("manylinux")),
        "{wheels:?}"
    );
    let marker = fs::read_to_string(fx.mirror.join("plonk-mirror.json")).unwrap();
    assert!(marker.contains("cp312-win_amd64"), "{marker}");

    // A target no file fits fails with a sentence naming the plugin and the target.
    let out = fx.mirror(&[
        "native",
        "--python-version",
        "3.10",
        "--platform",
        "macosx_11_0_arm64",
    ]);
    out.assert_failure(1);
    let stderr = out.stderr();
    assert!(
        stderr.contains("`native`") && stderr.contains("macosx_11_0_arm64"),
        "{stderr}"
    );
}

#[test]
fn mirror_errors_are_one_sentence() {
    let fx = Fixture::new();
    let out = fx.mirror(&["nope"]);
    out.assert_failure(1);
    assert!(
        out.stderr()
            .contains("`nope` is not a plugin of the plugin indexes for verawood"),
        "{}",
        out.stderr()
    );
    let out = fx.mirror(&["mfe", "--platform", "solaris_sparc"]);
    out.assert_failure(1);
    assert!(out.stderr().contains("`solaris_sparc`"), "{}", out.stderr());
    let out = fx.mirror(&["mfe", "--python-version", "three"]);
    out.assert_failure(1);
    assert!(
        out.stderr().contains("`three` is not a Python version"),
        "{}",
        out.stderr()
    );

    fs::create_dir_all(&fx.mirror).unwrap();
    fs::write(fx.mirror.join("precious.txt"), "keep me").unwrap();
    let out = fx.mirror(&["mfe"]);
    out.assert_failure(1);
    assert!(
        out.stderr().contains("is not a plonk mirror"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        fs::read_to_string(fx.mirror.join("precious.txt")).unwrap(),
        "keep me"
    );
}
