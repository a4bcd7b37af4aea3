//! Issue "airgap", live: `plonk mirror` of `mfe indigo` for verawood from real PyPI, then an
//! install from that mirror served by nginx, with PyPI unreachable for the command (a dead
//! proxy, `--index-url` only at the mirror), seen by real `tutor plugins list`.

use std::process::Command;

use crate::{Live, assert_ok, pypi_reachable};

#[path = "../it/support/servers.rs"]
mod servers;

#[test]
fn mirror_from_pypi_then_install_from_nginx() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let mirror = live.path("mirror");
    let m = mirror.to_str().expect("utf-8 path");
    assert_ok(
        &live.plonk(&[
            "--release",
            "verawood",
            "--no-progress",
            "mirror",
            m,
            "mfe",
            "indigo",
            "--index",
            "main",
        ]),
        "plonk mirror mfe indigo",
    );
    let wheels: Vec<String> = std::fs::read_dir(mirror.join("wheels"))
        .expect("wheels folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    for prefix in ["tutor-22.", "tutor_mfe-22.", "tutor_indigo-22."] {
        assert!(
            wheels
                .iter()
                .any(|w| w.starts_with(prefix) && w.ends_with(".whl")),
            "no {prefix}* wheel in the mirror: {wheels:?}"
        );
    }
    let Some(nginx) = servers::nginx(&mirror, None) else {
        return;
    };

    let venv = live.path("venv");
    let v = venv.to_str().expect("utf-8 path");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip", v])
        .output()
        .expect("python3 -m venv");
    assert_ok(&made, "python3 -m venv");
    let simple = format!("{}/simple/", nginx.url);
    // An air-gapped host has no plugin index but the mirror.
    let config = live.path("home").join(".config/plonk");
    std::fs::create_dir_all(&config).expect("config folder");
    std::fs::write(config.join("config.yml"), "PLUGIN_INDEXES: []\n").expect("config.yml");
    for args in [
        vec!["--release", "verawood", "index", "add", nginx.url.as_str()],
        vec![
            "--python",
            v,
            "--index-url",
            simple.as_str(),
            "--no-progress",
            "install",
            "mfe",
            "indigo",
        ],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plonk"));
        cmd.args(&args);
        live.env(&mut cmd);
        // Nothing but loopback answers: PyPI is out of reach for these commands.
        for var in [
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "ALL_PROXY",
            "https_proxy",
            "http_proxy",
            "all_proxy",
        ] {
            cmd.env(var, "http://127.0.0.1:9");
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        let out = cmd.output().expect("run plonk");
        eprintln!(
            "$ plonk {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ok(&out, &format!("plonk {}", args.join(" ")));
    }

    let list = live.venv_bin(&venv, "tutor", &["plugins", "list"]);
    assert_ok(&list, "tutor plugins list");
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    for plugin in ["mfe", "indigo"] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(plugin)),
            "`{plugin}` missing from tutor plugins list:\n{text}"
        );
    }
    assert!(
        nginx.log().contains("GET /simple/tutor/"),
        "{}",
        nginx.log()
    );
}
