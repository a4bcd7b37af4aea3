//! Issue "indexes", live: real Tutor from PyPI in a venv and a real Tutor project root. plonk
//! and Tutor share `PLUGIN_INDEXES` of `config.yml` and the index cache: what one writes, the
//! other reads.

use std::path::Path;

use crate::{Live, assert_ok, pypi_reachable};

/// Copies `from` (a folder of `<release>/plugins.yml`) to `to`.
fn copy_index(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixtures");
        let relative = entry.path().strip_prefix(from).expect("inside");
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `config.yml` read by the venv's PyYAML, as JSON, without `PLUGIN_INDEXES`.
fn other_keys(live: &Live, venv: &Path, config: &Path) -> serde_json::Value {
    let script = "import sys, json, yaml\nc = yaml.safe_load(open(sys.argv[1]))\nc.pop('PLUGIN_INDEXES', None)\nprint(json.dumps(c, sort_keys=True))";
    let out = live.venv_bin(
        venv,
        "python",
        &["-c", script, config.to_str().expect("utf-8")],
    );
    assert_ok(&out, "read config.yml with PyYAML");
    serde_json::from_slice(&out.stdout).expect("json")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn plonk_and_tutor_share_indexes_and_cache() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let venv = live.path("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 -m venv");
    assert_ok(&made, "python3 -m venv");
    assert_ok(
        &live.venv_bin(&venv, "pip", &["install", "-q", "tutor>=21,<22"]),
        "pip install tutor",
    );
    assert_ok(
        &live.venv_bin(&venv, "tutor", &["config", "save"]),
        "tutor config save",
    );
    let config = live.path("tutor-root").join("config.yml");
    let before = other_keys(&live, &venv, &config);

    // plonk adds a local index (the real official index files) and updates the cache.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tpi");
    let index_a = live.path("index-a");
    copy_index(&fixtures.join("main"), &index_a);
    let v = venv.to_str().expect("utf-8");
    let a = index_a.to_str().expect("utf-8");
    let out = live.plonk(&["--python", v, "index", "add", a]);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "index add crashed"
    );
    // The default network indexes may be unreachable here; the local one must be in the cache.
    assert_ok(&live.plonk(&["--python", v, "update"]), "plonk update");
    assert_eq!(
        before,
        other_keys(&live, &venv, &config),
        "config.yml changed"
    );

    let plonk_search = live.plonk(&["--python", v, "search"]);
    assert_ok(&plonk_search, "plonk search");
    let tutor_search = live.venv_bin(&venv, "tutor", &["plugins", "search"]);
    assert_ok(&tutor_search, "tutor plugins search");
    assert_eq!(
        stdout(&plonk_search).trim_end(),
        stdout(&tutor_search).trim_end()
    );
    assert!(
        stdout(&plonk_search).contains("\nmfe "),
        "{}",
        stdout(&plonk_search)
    );

    let plonk_list = live.plonk(&["--python", v, "index", "list"]);
    assert_ok(&plonk_list, "plonk index list");
    let tutor_list = live.venv_bin(&venv, "tutor", &["plugins", "index", "list"]);
    assert_ok(&tutor_list, "tutor plugins index list");
    assert_eq!(stdout(&plonk_list), stdout(&tutor_list));
    assert!(stdout(&plonk_list).contains(a));

    let plonk_show = live.plonk(&["--python", v, "--offline", "show", "mfe"]);
    let tutor_show = live.venv_bin(&venv, "tutor", &["plugins", "show", "mfe"]);
    assert_ok(&tutor_show, "tutor plugins show");
    let without_version: Vec<String> = stdout(&plonk_show)
        .lines()
        .filter(|l| !l.starts_with("Version: "))
        .map(str::to_string)
        .collect();
    assert_eq!(without_version.join("\n"), stdout(&tutor_show).trim_end());

    // Tutor adds another folder: plonk sees it.
    let index_b = live.path("index-b");
    std::fs::create_dir_all(index_b.join("ulmo")).expect("mkdir");
    std::fs::write(
        index_b.join("ulmo/plugins.yml"),
        "- name: Zebra\n  src: tutor-contrib-zebra\n  description: From Tutor's index\n",
    )
    .expect("write index");
    let b = index_b.to_str().expect("utf-8");
    let _ = live.venv_bin(&venv, "tutor", &["plugins", "index", "add", b]);
    let plonk_list = live.plonk(&["--python", v, "index", "list"]);
    assert_ok(&plonk_list, "plonk index list");
    assert!(
        stdout(&plonk_list).lines().any(|l| l == b),
        "{}",
        stdout(&plonk_list)
    );
    let search = live.plonk(&["--python", v, "search", "zebra"]);
    assert_ok(&search, "plonk search zebra");
    assert!(stdout(&search).contains("zebra"), "{}", stdout(&search));

    // plonk removes it again, and every other key of config.yml is still there.
    let after_tutor = other_keys(&live, &venv, &config);
    let _ = live.plonk(&["--python", v, "index", "remove", b]);
    assert_eq!(after_tutor, other_keys(&live, &venv, &config));
    let tutor_list = live.venv_bin(&venv, "tutor", &["plugins", "index", "list"]);
    assert!(!stdout(&tutor_list).contains(b), "{}", stdout(&tutor_list));
}
