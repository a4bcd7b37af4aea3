//! The air-gapped host: a mirror built on a connected host is installed from with nothing else
//! reachable — served by nginx (`plonk index add URL`, then `plonk install` with no other
//! flag), by pypiserver (its wheels), and as a plain path with `--offline`. A private mirror
//! behind nginx `auth_basic` works with URL credentials, netrc and `PLONK_INDEX_URL`, refuses
//! wrong ones with a sentence naming the index, and never prints the password.

use std::fs;
use std::path::{Path, PathBuf};

use crate::mirror::{Fixture, RELEASE};
use crate::support::plonk::{Plonk, RunOutput};
use crate::support::servers;
use crate::support::venv;

/// An address where nothing listens: used as the proxy, so no host but loopback answers.
const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// A connected host that built a mirror of `names`, then stopped its package index.
fn built_mirror(names: &[&str]) -> Fixture {
    let fx = Fixture::new();
    fx.mirror(names).assert_success();
    fx
}

/// An air-gapped host: its own sandbox, no route to anything but loopback, no plugin index
/// configured (`main` and `contrib` removed, as they cannot be reached anyway).
fn offline_host() -> (Plonk, PathBuf) {
    let mut plonk = Plonk::new();
    for var in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "https_proxy",
        "http_proxy",
        "all_proxy",
    ] {
        plonk.set_env(var, DEAD_PROXY);
    }
    let venv = plonk.make_venv("venv");
    let config = plonk.home.join(".config/plonk");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("config.yml"), "PLUGIN_INDEXES: []\n").unwrap();
    (plonk, venv)
}

/// The distributions of a venv as `name==version` lines (normalised names).
fn installed(venv: &Path) -> Vec<String> {
    let out = venv::python_stdout(
        venv,
        "import importlib.metadata as m, re\n\
         for d in sorted(m.distributions(), key=lambda d: d.metadata['Name'].lower()):\n    \
         print(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower() + '==' + d.version)",
    );
    out.lines().map(str::to_string).collect()
}

/// The Tutor plugins a venv's entry points declare.
fn plugins(venv: &Path) -> Vec<String> {
    let out = venv::python_stdout(
        venv,
        "import importlib.metadata as m\n\
         print(' '.join(sorted(e.name for e in m.entry_points(group='tutor.plugin.v1'))))",
    );
    out.split_whitespace().map(str::to_string).collect()
}

#[track_caller]
fn assert_plugins_installed(venv: &Path) {
    let dists = installed(venv);
    for expected in [
        "tutor==22.0.0",
        "tutor-indigo==22.0.0",
        "tutor-mfe==22.0.0",
        "tutor-notes==22.0.0",
    ] {
        assert!(
            dists.contains(&expected.to_string()),
            "{expected} not in {dists:?}"
        );
    }
    assert_eq!(plugins(venv), vec!["indigo", "mfe", "notes"]);
}

#[test]
fn mirror_served_by_nginx_installs_with_no_other_flag() {
    let fx = built_mirror(&["indigo", "mfe", "notes"]);
    let mirror = fx.mirror.clone();
    drop(fx.index);
    fs::remove_dir_all(&fx.repo).unwrap();
    let Some(nginx) = servers::nginx(&mirror, None) else {
        return;
    };
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    host.run([
        "--release",
        RELEASE,
        "index",
        "add",
        &format!("{}/", nginx.url),
    ])
    .assert_success();
    let out = host.run([
        "--python",
        &v,
        "--no-progress",
        "install",
        "mfe",
        "indigo",
        "notes",
    ]);
    out.assert_success();
    assert_plugins_installed(&venv);
    // The packages came from the mirror's simple index.
    let log = nginx.log();
    assert!(log.contains("GET /simple/tutor-mfe/"), "{log}");
    assert!(log.contains("GET /simple/tutor/"), "{log}");
    // `show` names the routed source.
    let out = host.run(["--python", &v, "show", "mfe"]);
    out.assert_success()
        .assert_stdout_contains(&format!("--index-url {}/simple/", nginx.url));
}

#[test]
fn mirror_wheels_served_by_pypiserver() {
    let fx = built_mirror(&["indigo", "mfe", "notes"]);
    let wheels = fx.mirror.join("wheels");
    drop(fx.index);
    let Some(server) = servers::pypiserver(&wheels) else {
        return;
    };
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    let index = format!("{}/simple/", server.url);
    let out = host.run([
        "--python",
        &v,
        "--index-url",
        &index,
        "--no-progress",
        "install",
        "tutor-mfe",
        "tutor-indigo",
        "tutor-notes",
    ]);
    out.assert_success();
    assert_plugins_installed(&venv);
}

#[test]
fn mirror_as_a_plain_path_with_offline() {
    let fx = built_mirror(&["indigo", "mfe", "notes"]);
    let mirror = fx.mirror.clone();
    drop(fx.index);
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    let path = mirror.to_string_lossy().to_string();
    host.run(["--offline", "--release", RELEASE, "index", "add", &path])
        .assert_success();
    let out = host.run([
        "--offline",
        "--python",
        &v,
        "--no-progress",
        "install",
        "mfe",
        "indigo",
        "notes",
    ]);
    out.assert_success();
    assert_plugins_installed(&venv);

    // `--find-links` at the wheels folder works as well.
    let mut host2 = Plonk::new();
    let venv2 = host2.make_venv("venv");
    let v2 = venv2.to_string_lossy().to_string();
    let wheels = mirror.join("wheels").to_string_lossy().to_string();
    let out = host2.run([
        "--offline",
        "--no-index",
        "--find-links",
        &wheels,
        "--python",
        &v2,
        "install",
        "tutor-mfe",
    ]);
    out.assert_success();
    assert!(installed(&venv2).contains(&"tutor-mfe==22.0.0".to_string()));
}

#[test]
fn offline_names_the_missing_piece_and_the_command() {
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    let out = host.run(["--offline", "--python", &v, "install", "tutor-mfe"]);
    out.assert_failure(1);
    let stderr = out.stderr();
    assert!(stderr.contains("`tutor-mfe`"), "{stderr}");
    assert!(stderr.contains("offline"), "{stderr}");
    assert!(stderr.contains("without `--offline`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A plugin index that was never fetched: the sentence names it and `plonk update`.
    let out = host.run([
        "--offline",
        "--release",
        RELEASE,
        "index",
        "add",
        "http://127.0.0.1:9/",
    ]);
    out.assert_failure(1);
    let stderr = out.stderr();
    assert!(
        stderr.contains("`http://127.0.0.1:9/verawood/plugins.yml` is not in the cache")
            && stderr.contains("run `plonk update` once without `--offline`"),
        "{stderr}"
    );
}

/// Asserts that `password` appears nowhere in a run's output.
#[track_caller]
fn assert_secret(out: &RunOutput, password: &str) {
    assert!(
        !out.stdout().contains(password) && !out.stderr().contains(password),
        "`{}` printed the password:\n{}\n{}",
        out.command,
        out.stdout(),
        out.stderr()
    );
}

#[test]
fn private_mirror_behind_basic_auth() {
    const USER: &str = "alice";
    const PASSWORD: &str = "s3cret-Pa55";
    const WRONG: &str = "wr0ng-Pa55";
    let fx = built_mirror(&["mfe"]);
    let mirror = fx.mirror.clone();
    drop(fx.index);
    let Some(nginx) = servers::nginx(&mirror, Some((USER, PASSWORD))) else {
        return;
    };

    // Credentials in the URL of the plugin index.
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    let url = nginx.url_with_credentials(USER, PASSWORD, "/");
    // `index add` echoes the index as configured (the CLI's to redact); what follows must not.
    host.run(["--release", RELEASE, "index", "add", &url])
        .assert_success();
    let out = host.run(["--release", RELEASE, "update"]);
    out.assert_success();
    assert_secret(&out, PASSWORD);
    let out = host.run(["--python", &v, "--json", "install", "--dry-run", "mfe"]);
    out.assert_success();
    assert_secret(&out, PASSWORD);
    let out = host.run(["--python", &v, "-v", "--no-progress", "install", "mfe"]);
    out.assert_success();
    assert_secret(&out, PASSWORD);
    assert!(installed(&venv).contains(&"tutor-mfe==22.0.0".to_string()));

    // Credentials in ~/.netrc for the host.
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    fs::write(
        host.home.join(".netrc"),
        format!("machine 127.0.0.1 login {USER} password {PASSWORD}\n"),
    )
    .unwrap();
    let out = host.run([
        "--release",
        RELEASE,
        "index",
        "add",
        &format!("{}/", nginx.url),
    ]);
    out.assert_success();
    let out = host.run(["--python", &v, "--no-progress", "install", "mfe"]);
    out.assert_success();
    assert_secret(&out, PASSWORD);
    assert!(installed(&venv).contains(&"tutor-mfe==22.0.0".to_string()));

    // Credentials in PLONK_INDEX_URL, for the package index.
    let (mut host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    host.set_env(
        "PLONK_INDEX_URL",
        nginx.url_with_credentials(USER, PASSWORD, "/simple/"),
    );
    let out = host.run([
        "--python",
        &v,
        "--json",
        "install",
        "--dry-run",
        "tutor-mfe",
    ]);
    out.assert_success();
    assert_secret(&out, PASSWORD);
    let out = host.run(["--python", &v, "--no-progress", "install", "tutor-mfe"]);
    out.assert_success();
    assert_secret(&out, PASSWORD);

    // Wrong credentials: a sentence naming the index host; neither password is printed.
    let (host, venv) = offline_host();
    let v = venv.to_string_lossy().to_string();
    let out = host.run([
        "--python",
        &v,
        "--index-url",
        &nginx.url_with_credentials(USER, WRONG, "/simple/"),
        "install",
        "tutor-mfe",
    ]);
    out.assert_failure(1);
    assert_secret(&out, WRONG);
    assert_secret(&out, PASSWORD);
    let stderr = out.stderr();
    assert!(
        stderr.contains("refused") && stderr.contains("127.0.0.1"),
        "{stderr}"
    );
    // No credentials at all: the same sentence.
    let out = host.run([
        "--python",
        &v,
        "--index-url",
        &format!("{}/simple/", nginx.url),
        "install",
        "tutor-mfe",
    ]);
    out.assert_failure(1);
    assert!(out.stderr().contains("refused"), "{}", out.stderr());
}
