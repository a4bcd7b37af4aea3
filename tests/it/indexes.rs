//! Issue "indexes": `plonk index add|remove|list`, `update`, `search`, `show`, `list`, driven
//! through the built binary with a temp HOME and Tutor root, index files served on loopback.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::packages::WheelBuilder;
use crate::support::plonk::Plonk;
use crate::support::server::FakeIndex;
use crate::support::venv::site_packages;

/// `fixtures/tpi`: the real official and contrib index files.
fn tpi() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tpi")
}

/// A loopback server of `dir` (index files) with no packages.
fn serve(plonk: &Plonk, dir: &Path) -> FakeIndex {
    FakeIndex::start(&plonk.mkdir("no-packages")).with_index_dir(dir)
}

/// An http URL on which nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/index")
}

/// Writes `config.yml` of the Tutor project with these indexes and extra lines.
fn tutor_config(plonk: &Plonk, indexes: &[&str], extra: &str) -> PathBuf {
    let mut text = String::from(extra);
    text.push_str("PLUGIN_INDEXES:\n");
    for index in indexes {
        text.push_str(&format!("- {index}\n"));
    }
    let path = plonk.tutor_root.join("config.yml");
    fs::write(&path, text).unwrap();
    path
}

/// plonk's own settings file with these indexes (no Tutor project).
fn plonk_config(plonk: &Plonk, indexes: &[&str]) -> PathBuf {
    let dir = plonk.home.join(".config/plonk");
    fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("PLUGIN_INDEXES:\n");
    for index in indexes {
        text.push_str(&format!("- \"{index}\"\n"));
    }
    if indexes.is_empty() {
        text = "PLUGIN_INDEXES: []\n".to_string();
    }
    fs::write(dir.join("config.yml"), text).unwrap();
    dir.join("config.yml")
}

fn tutor_cache(plonk: &Plonk) -> PathBuf {
    plonk.tutor_root.join("env/plugins/index/cache.yml")
}

/// The names in a cache file, read by PyYAML when python3 has it (as Tutor reads it), else by
/// plonk's own parser.
fn cache_names(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf8'))))",
        ])
        .arg(path)
        .output();
    let value: Value = match out {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).unwrap(),
        _ => {
            let parsed = plonk::index::parse_cache(&text, "cache").unwrap();
            Value::Array(
                parsed
                    .entries
                    .iter()
                    .map(|e| Value::Object(e.to_map()))
                    .collect(),
            )
        }
    };
    let items = value
        .as_array()
        .unwrap_or_else(|| panic!("not a list:\n{text}"));
    for item in items {
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(item["index"].is_string(), "{item}");
    }
    items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

/// Unique lower-cased names of index files, sorted (what a merged cache holds).
fn names_in(files: &[PathBuf]) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for file in files {
        let parsed = plonk::index::parse_index(&fs::read_to_string(file).unwrap(), "f").unwrap();
        names.extend(parsed.entries.into_iter().map(|e| e.name));
    }
    names.into_iter().collect()
}

/// Plants a distribution (METADATA and entry points) in a venv's site-packages.
fn plant_dist(venv: &Path, name: &str, version: &str, plugin: Option<&str>) {
    let site = site_packages(venv);
    let dist_info = site.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
    fs::create_dir_all(&dist_info).unwrap();
    fs::write(
        dist_info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
    )
    .unwrap();
    fs::write(dist_info.join("INSTALLER"), "pip\n").unwrap();
    fs::write(dist_info.join("RECORD"), "").unwrap();
    if let Some(plugin) = plugin {
        fs::write(
            dist_info.join("entry_points.txt"),
            format!(
                "[tutor.plugin.v1]\n{plugin} = {}.plugin\n",
                plugin.replace('-', "_")
            ),
        )
        .unwrap();
    }
}

/// A venv with a fake Tutor of `version` (and `__version_suffix__` when given).
fn tutor_venv(plonk: &mut Plonk, version: &str, suffix: &str) -> PathBuf {
    let venv = plonk.make_venv("venv");
    plant_dist(&venv, "tutor", version, None);
    let pkg = site_packages(&venv).join("tutor");
    fs::create_dir_all(&pkg).unwrap();
    fs::write(
        pkg.join("__about__.py"),
        format!("__version__ = \"{version}\"\n__version_suffix__ = \"{suffix}\"\n"),
    )
    .unwrap();
    venv
}

#[test]
fn index_add_list_remove_in_plonk_config() {
    let plonk = Plonk::new();
    // Defaults, as in Tutor, when nothing is configured.
    let out = plonk.run(["index", "list"]);
    out.assert_success();
    assert_eq!(
        out.stdout(),
        "https://overhang.io/tutor/main\nhttps://overhang.io/tutor/contrib\n"
    );
    assert!(
        out.stderr_redacted()
            .contains("[HOME]/.config/plonk/config.yml"),
        "{}",
        out.stderr()
    );

    let file = plonk_config(&plonk, &[]);
    let folder = plonk.mkdir("my-index");
    fs::create_dir_all(folder.join("redwood")).unwrap();
    fs::write(
        folder.join("redwood/plugins.yml"),
        "- name: Local\n  src: tutor-local\n",
    )
    .unwrap();
    // A relative folder is stored absolute; the cache is updated.
    let out = plonk.run(["--release", "redwood", "index", "add", "my-index/"]);
    out.assert_success();
    let list = plonk.run(["index", "list"]);
    assert_eq!(list.stdout(), format!("{}\n", folder.display()));
    assert_eq!(
        cache_names(&plonk.cache_dir.join("plugin-index-v1/cache.yml")),
        vec!["local"]
    );
    // Adding it again changes nothing.
    let again = plonk.run(["--release", "redwood", "index", "add", "my-index"]);
    again
        .assert_success()
        .assert_stderr_contains("was already added");
    // Aliases expand; remove by the relative name.
    let out = plonk.run(["--release", "redwood", "index", "remove", "my-index"]);
    out.assert_success();
    assert_eq!(fs::read_to_string(&file).unwrap(), "PLUGIN_INDEXES: []\n");
    assert_eq!(
        fs::read_to_string(plonk.cache_dir.join("plugin-index-v1/cache.yml")).unwrap(),
        "[]\n"
    );
    let json = plonk.run(["--json", "index", "list"]);
    assert_eq!(json.json()["indexes"], serde_json::json!([]));
    assert_eq!(json.json()["tutor"], serde_json::json!(false));
}

#[test]
fn index_add_keeps_every_other_key_of_config_yml() {
    let plonk = Plonk::new();
    let original = "# Tutor config\nCMS_HOST: studio.local.openedx.io\nID: abc123\nLMS_HOST: local.openedx.io\nMYSQL_ROOT_PASSWORD: \"p: #1\"\nPLUGINS:\n- mfe\nPLUGIN_INDEXES: []\nRUN_CMS: true\nZ_LIST:\n  - a\n";
    fs::write(plonk.tutor_root.join("config.yml"), original).unwrap();
    let server = serve(&plonk, &tpi());
    let base = format!("{}/main/", server.url());
    let out = plonk.run(["--release", "redwood", "index", "add", &base]);
    out.assert_success();
    let text = fs::read_to_string(plonk.tutor_root.join("config.yml")).unwrap();
    assert_eq!(
        text,
        original.replace(
            "PLUGIN_INDEXES: []\n",
            &format!("PLUGIN_INDEXES:\n- {base}\n")
        )
    );
    let names = cache_names(&tutor_cache(&plonk));
    assert_eq!(names, names_in(&[tpi().join("main/redwood/plugins.yml")]));
    let list = plonk.run(["index", "list"]);
    assert_eq!(list.stdout(), format!("{base}\n"));
    assert!(list.stderr().contains("Tutor project"), "{}", list.stderr());
}

#[test]
fn update_merges_indexes_in_tutor_format() {
    let plonk = Plonk::new();
    let server = serve(&plonk, &tpi());
    let local = tpi().join("contrib");
    let main = format!("{}/main", server.url());
    let config = tutor_config(&plonk, &[&main, local.to_str().unwrap()], "LMS_HOST: x\n");
    let before = fs::read_to_string(&config).unwrap();
    let out = plonk.run(["--release", "sumac", "update"]);
    out.assert_success();
    assert_eq!(fs::read_to_string(&config).unwrap(), before);
    let cache = tutor_cache(&plonk);
    let names = cache_names(&cache);
    assert_eq!(
        names,
        names_in(&[
            tpi().join("main/sumac/plugins.yml"),
            tpi().join("contrib/sumac/plugins.yml"),
        ])
    );
    let text = fs::read_to_string(&cache).unwrap();
    assert!(
        text.contains(&format!("index: {main}/sumac/plugins.yml")),
        "{text}"
    );
    assert!(
        text.contains(&format!("index: {}/sumac/plugins.yml", local.display())),
        "{text}"
    );
    // A second update revalidates with the ETag and is told "not modified".
    let again = plonk.run(["-v", "--release", "sumac", "update"]);
    again
        .assert_success()
        .assert_stderr_contains("(not modified)");
    assert_eq!(fs::read_to_string(&cache).unwrap(), text);
}

#[test]
fn later_index_wins_and_names_are_lower_cased() {
    let plonk = Plonk::new();
    let a = plonk.mkdir("a/main");
    let b = plonk.mkdir("b/main");
    fs::write(
        a.join("plugins.yml"),
        "- name: Shared\n  src: from-a\n- name: only-a\n  src: a\n",
    )
    .unwrap();
    fs::write(
        b.join("plugins.yml"),
        "- name: SHARED\n  src: from-b\n  description: B\n",
    )
    .unwrap();
    plonk_config(
        &plonk,
        &[
            plonk.tmp().join("a").to_str().unwrap(),
            plonk.tmp().join("b").to_str().unwrap(),
        ],
    );
    plonk.run(["--release", "main", "update"]).assert_success();
    let out = plonk.run(["--json", "show", "shared"]);
    out.assert_success();
    assert_eq!(out.json()["src"], "from-b");
    assert_eq!(out.json()["name"], "shared");
}

#[test]
fn one_index_down_is_skipped() {
    let plonk = Plonk::new();
    let local = tpi().join("main");
    let dead = dead_url();
    tutor_config(&plonk, &[&dead, local.to_str().unwrap()], "");
    let out = plonk.run(["--release", "ulmo", "update"]);
    out.assert_success();
    let stderr = out.stderr();
    assert!(
        stderr.contains(&format!(
            "could not fetch the plugin index `{dead}/ulmo/plugins.yml`"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("1 failed"), "{stderr}");
    assert_eq!(
        cache_names(&tutor_cache(&plonk)),
        names_in(&[tpi().join("main/ulmo/plugins.yml")])
    );
}

#[test]
fn all_indexes_down_keep_the_old_cache() {
    let plonk = Plonk::new();
    tutor_config(&plonk, &[&dead_url(), "/nonexistent/plonk/index"], "");
    let cache = tutor_cache(&plonk);
    fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let old = "- index: https://h/i/ulmo/plugins.yml\n  name: old\n  src: tutor-old\n";
    fs::write(&cache, old).unwrap();
    let out = plonk.run(["--release", "ulmo", "update"]);
    out.assert_failure(1);
    let stderr = out.stderr();
    assert!(
        stderr.contains("error: none of the 2 plugin indexes could be fetched"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/nonexistent/plonk/index/ulmo/plugins.yml"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&cache).unwrap(), old);
}

#[test]
fn bad_index_files_are_one_sentence_each() {
    let plonk = Plonk::new();
    let root = plonk.mkdir("bad");
    let files: &[(&str, &[u8])] = &[
        ("garbage", b"- name: [unclosed\n"),
        ("mapping", b"name: x\nsrc: y\n"),
        ("truncated", b"["),
        ("binary", b"\xff\xfe\x00- name: x"),
        ("html", b"<!DOCTYPE html><html><body>Not here</body></html>"),
    ];
    for (name, body) in files {
        let dir = root.join(name).join("main");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plugins.yml"), body).unwrap();
    }
    let entries = root.join("entries/main");
    fs::create_dir_all(&entries).unwrap();
    fs::write(
        entries.join("plugins.yml"),
        "- src: no-name\n- name: 12\n  src: numeric\n- name: nosrc\n- name: good\n  src: tutor-good\n",
    )
    .unwrap();
    let server = serve(&plonk, &root);
    server.status("/status/main/plugins.yml", 500);
    server.hang("/slow/main/plugins.yml");
    let mut indexes: Vec<String> = files
        .iter()
        .map(|(name, _)| format!("{}/{name}", server.url()))
        .collect();
    indexes.push(format!("{}/status", server.url()));
    indexes.push(format!("{}/slow", server.url()));
    indexes.push(format!("{}/missing", server.url()));
    indexes.push(format!("{}/entries", server.url()));
    let refs: Vec<&str> = indexes.iter().map(String::as_str).collect();
    plonk_config(&plonk, &refs);
    let mut plonk = plonk;
    plonk.set_env("PLONK_HTTP_TIMEOUT", "1");
    let out = plonk.run(["--release", "main", "update"]);
    out.assert_success();
    let stderr = out.stderr();
    let url = server.url();
    let expected = [
        format!("the plugin index `{url}/garbage/main/plugins.yml` is not valid YAML"),
        format!(
            "the plugin index `{url}/mapping/main/plugins.yml` must be a YAML list of plugins, not a mapping"
        ),
        format!("the plugin index `{url}/truncated/main/plugins.yml` is not valid YAML"),
        format!("the plugin index `{url}/binary/main/plugins.yml` is not UTF-8 text"),
        format!(
            "`{url}/html/main/plugins.yml` returned an HTML page instead of a YAML plugin index"
        ),
        format!("could not fetch the plugin index `{url}/status/main/plugins.yml`"),
        format!("could not fetch the plugin index `{url}/slow/main/plugins.yml`"),
        format!("could not fetch the plugin index `{url}/missing/main/plugins.yml`"),
        format!(
            "skipped entry 1 of the plugin index `{url}/entries/main/plugins.yml`: it has no `name`"
        ),
        format!(
            "skipped entry 2 of the plugin index `{url}/entries/main/plugins.yml`: its `name` is a number, not a string"
        ),
        format!(
            "skipped plugin `nosrc` (entry 3) of the plugin index `{url}/entries/main/plugins.yml`: it has no `src`"
        ),
    ];
    for line in expected {
        assert!(stderr.contains(&line), "missing {line:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    for line in stderr.lines().filter(|l| l.starts_with("warning:")) {
        assert!(
            !line.contains("Error {") && !line.contains("Some("),
            "Debug output: {line}"
        );
    }
    let cache = plonk.cache_dir.join("plugin-index-v1/cache.yml");
    assert_eq!(cache_names(&cache), vec!["good"]);
}

#[test]
fn search_and_show_over_every_real_index() {
    let plonk = Plonk::new();
    plonk_config(
        &plonk,
        &[
            tpi().join("main").to_str().unwrap(),
            tpi().join("contrib").to_str().unwrap(),
        ],
    );
    for release in [
        "olive", "palm", "quince", "redwood", "sumac", "teak", "ulmo", "main",
    ] {
        plonk.run(["--release", release, "update"]).assert_success();
        let files = [
            tpi().join(format!("main/{release}/plugins.yml")),
            tpi().join(format!("contrib/{release}/plugins.yml")),
        ];
        let out = plonk.run(["--release", release, "--json", "search"]);
        out.assert_success();
        let names: Vec<String> = out
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, names_in(&files), "{release}");
        // Every row is "not installed" without an environment.
        assert!(
            out.json()
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "not installed")
        );
    }
    // verawood has no contrib file: that index fails, the official one is used.
    let out = plonk.run(["--release", "verawood", "update"]);
    out.assert_success()
        .assert_stderr_contains("contrib/verawood/plugins.yml");

    plonk
        .run(["--release", "redwood", "update"])
        .assert_success();
    let out = plonk.run(["--release", "redwood", "search", "ASPECTS"]);
    out.assert_success();
    assert_eq!(
        out.stdout(),
        "NAME   \tSTATUS       \tDESCRIPTION\naspects\tnot installed\tTutor plugin to install Aspects, the Open edX Learner Analytics System.\n"
    );
    let out = plonk.run(["--release", "redwood", "--offline", "show", "MFE"]);
    out.assert_success();
    let stdout = out.stdout();
    let expected_head = format!(
        "Name: mfe\nSource: tutor-mfe>=18.0.0,<19.0.0\nStatus: not installed\nAuthor: Edly <regis.behmo@edly.io>\nMaintainer: Edly <regis.behmo@edly.io>\nHomepage: https://github.com/overhangio/tutor-mfe\nIndex: {}/redwood/plugins.yml\nVersion: ",
        tpi().join("main").display()
    );
    assert!(stdout.starts_with(&expected_head), "{stdout}");
    assert!(stdout.contains("\nDescription: "), "{stdout}");
    let out = plonk.run(["--release", "redwood", "show", "nope"]);
    out.assert_failure(1)
        .assert_stderr_contains("plugin `nope` could not be found");
}

#[test]
fn embedded_index_when_nothing_can_be_fetched() {
    let plonk = Plonk::new();
    plonk_config(&plonk, &[&dead_url()]);
    let out = plonk.run(["--release", "ulmo", "search", "mfe"]);
    out.assert_success();
    out.assert_stderr_contains("built into plonk");
    out.assert_stdout_contains("mfe");
    // A release without a built-in copy is a clear error.
    let out = plonk.run(["--release", "nutmeg", "search"]);
    out.assert_failure(1)
        .assert_stderr_contains("plonk has no built-in index for release `nutmeg`");
    // A hostile release name never becomes a path.
    let out = plonk.run(["--release", "../../etc", "update"]);
    out.assert_failure(1)
        .assert_stderr_contains("is not a valid Open edX release name");
}

#[test]
fn statuses_and_release_from_the_environment() {
    let mut plonk = Plonk::new();
    let venv = tutor_venv(&mut plonk, "21.0.0", "");
    plant_dist(&venv, "tutor-mfe", "21.0.2", Some("mfe"));
    plant_dist(
        &venv,
        "tutor-contrib-mfe-extensions",
        "21.0.3",
        Some("mfe_extensions"),
    );
    plant_dist(&venv, "tutor-notes", "21.0.0", Some("notes"));
    fs::write(plonk.plugins_root.join("myplugin.py"), "").unwrap();
    let index = plonk.mkdir("idx/ulmo");
    fs::write(
        index.join("plugins.yml"),
        "- name: mfe\n  src: tutor-mfe>=21,<22\n  description: Micro frontends\n- name: mfe-extensions\n  src: tutor-contrib-mfe-extensions>=21,<22\n- name: notes\n  src: tutor-notes\n- name: forum\n  src: tutor-forum\n",
    )
    .unwrap();
    tutor_config(
        &plonk,
        &[plonk.tmp().join("idx").to_str().unwrap()],
        "PLUGINS:\n- mfe\n- mfe_extensions\n- forum\n",
    );
    let v = venv.to_str().unwrap();
    // The release comes from the Tutor in the environment (21 = ulmo).
    plonk.run(["--python", v, "update"]).assert_success();
    assert!(
        fs::read_to_string(tutor_cache(&plonk))
            .unwrap()
            .contains("/ulmo/plugins.yml")
    );
    let out = plonk.run(["--python", v, "search"]);
    out.assert_success();
    assert_eq!(
        out.stdout(),
        "NAME          \tSTATUS       \tDESCRIPTION\nforum         \tnot installed\t\nmfe           \t✅ enabled    \tMicro frontends\nmfe-extensions\t✅ enabled    \t\nnotes         \tinstalled    \t\n"
    );
    let out = plonk.run(["--python", v, "list"]);
    out.assert_success();
    let stdout = out.stdout_redacted();
    assert_eq!(
        stdout,
        "NAME          \tSTATUS   \tVERSION\nmfe           \t✅ enabled\t21.0.2\nmfe_extensions\t✅ enabled\t21.0.3\nmyplugin      \tinstalled\t[PLUGINS]/myplugin.py\nnotes         \tinstalled\t21.0.0\n"
    );
    let out = plonk.run(["--python", v, "list", "--enabled", "--json"]);
    let json = out.json();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mfe", "mfe_extensions"]);
    let out = plonk.run(["--python", v, "-v", "list"]);
    out.assert_stdout_contains("tutor-notes==21.0.0");
    // `show` prints what install would keep.
    let out = plonk.run(["--python", v, "--offline", "show", "mfe"]);
    out.assert_success()
        .assert_stdout_contains("Version: tutor-mfe==21.0.2 (installed)");
    // Without an environment, `list` fails with the environment error.
    let out = plonk.run(["--python", "/nonexistent/venv", "list"]);
    out.assert_failure(1);
}

#[test]
fn tutor_main_release_comes_from_the_version_suffix() {
    let mut plonk = Plonk::new();
    let venv = tutor_venv(&mut plonk, "22.0.0", "main");
    plonk_config(&plonk, &[tpi().join("main").to_str().unwrap()]);
    let v = venv.to_str().unwrap();
    plonk.run(["--python", v, "update"]).assert_success();
    let text = fs::read_to_string(plonk.cache_dir.join("plugin-index-v1/cache.yml")).unwrap();
    assert!(text.contains("/main/main/plugins.yml"), "{text}");
}

#[test]
fn show_picks_the_version_install_would() {
    let plonk = Plonk::new();
    let packages = plonk.mkdir("packages");
    for version in ["1.0.0", "1.5.0", "2.0.0", "1.9.0rc1"] {
        WheelBuilder::new("tutor-x", version)
            .entry_point("tutor.plugin.v1", "x", "tutorx.plugin")
            .file("tutorx/__init__.py", "")
            .build(&packages);
    }
    let server = FakeIndex::start(&packages);
    let index = plonk.mkdir("idx/redwood");
    fs::write(
        index.join("plugins.yml"),
        format!(
            "- name: x\n  src: tutor-x>=1,<2\n- name: own\n  src: |\n    --index-url {}\n    tutor-x<1.2\n",
            server.simple_url()
        ),
    )
    .unwrap();
    plonk_config(&plonk, &[plonk.tmp().join("idx").to_str().unwrap()]);
    plonk
        .run(["--release", "redwood", "update"])
        .assert_success();
    let out = plonk.run([
        "--release",
        "redwood",
        "--index-url",
        &server.simple_url(),
        "show",
        "x",
    ]);
    out.assert_success()
        .assert_stdout_contains("Version: tutor-x==1.5.0\n");
    // The entry's own --index-url applies to that entry.
    let out = plonk.run(["--release", "redwood", "--json", "show", "own"]);
    out.assert_success();
    assert_eq!(out.json()["install"], "tutor-x==1.0.0");
}
