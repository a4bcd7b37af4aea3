//! Issue "sources", live: a single-file plugin served over loopback HTTP is installed into a
//! venv with real Tutor from PyPI, listed by `tutor plugins list`, enabled by
//! `tutor plugins enable`, upgraded when the served file changes, and removed leaving the
//! venv's tree as it was.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::{Live, assert_ok, pypi_reachable};

/// Serves `content` at every path on a loopback port; returns the base URL.
fn serve(content: Arc<Mutex<String>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
            }
            let body = content.lock().map(|c| c.clone()).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/x-python\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    format!("http://{addr}")
}

/// Relative path → content hash of every file under `root`, without bytecode caches and
/// plonk's own record.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name == "__pycache__" || name == ".plonk" {
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                out.insert(rel, "dir".to_string());
                walk(&path, root, out);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(
                    rel,
                    format!("{} bytes {:x}", bytes.len(), simple_hash(&bytes)),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn simple_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

const V1: &str = "from tutor import hooks\n\nhooks.Filters.ENV_PATCHES.add_item(\n    (\"openedx-lms-common-settings\", \"# myplugin one\")\n)\n";
const V2: &str = "from tutor import hooks\n\nhooks.Filters.ENV_PATCHES.add_item(\n    (\"openedx-lms-common-settings\", \"# myplugin two\")\n)\n";

#[test]
fn a_single_file_plugin_is_seen_by_real_tutor() {
    if !pypi_reachable() {
        return;
    }
    let live = Live::new();
    let venv = live.path("venv");
    let v = venv.to_str().expect("utf-8 path");
    assert_ok(
        &live.plonk(&["venv", v, "--tutor", ">=22,<23"]),
        "plonk venv --tutor",
    );
    // Tutor writes bytecode the first time it runs: run it once before the snapshot.
    assert_ok(
        &live.venv_bin(&venv, "tutor", &["plugins", "list"]),
        "tutor plugins list",
    );
    let before = tree(&venv);

    let content = Arc::new(Mutex::new(V1.to_string()));
    let base = serve(Arc::clone(&content));
    let url = format!("{base}/myplugin.py");
    assert_ok(
        &live.plonk(&["--python", v, "install", &url]),
        "plonk install <single file>",
    );
    let list = live.venv_bin(&venv, "tutor", &["plugins", "list"]);
    assert_ok(&list, "tutor plugins list");
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().next() == Some("myplugin")),
        "myplugin missing from tutor plugins list:\n{text}"
    );
    assert_ok(
        &live.venv_bin(&venv, "tutor", &["plugins", "enable", "myplugin"]),
        "tutor plugins enable myplugin",
    );
    let config =
        std::fs::read_to_string(live.path("tutor-root").join("config.yml")).expect("config.yml");
    assert!(config.contains("myplugin"), "{config}");

    // The served file changes: upgrade installs the new content.
    if let Ok(mut c) = content.lock() {
        *c = V2.to_string();
    }
    assert_ok(
        &live.plonk(&["--python", v, "upgrade", "myplugin"]),
        "plonk upgrade myplugin",
    );
    let installed = std::fs::read_dir(venv.join("lib"))
        .expect("lib")
        .flatten()
        .map(|e| e.path().join("site-packages/_plonk_plugins/myplugin.py"))
        .find(|p| p.is_file())
        .expect("the wrapped module");
    assert_eq!(std::fs::read_to_string(installed).expect("read"), V2);

    assert_ok(
        &live.venv_bin(&venv, "tutor", &["plugins", "disable", "myplugin"]),
        "tutor plugins disable myplugin",
    );
    assert_ok(
        &live.plonk(&["--python", v, "remove", "myplugin"]),
        "plonk remove myplugin",
    );
    let after = tree(&venv);
    let added: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let removed: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        added.is_empty() && removed.is_empty() && changed.is_empty(),
        "the venv differs after remove: added {added:?}, removed {removed:?}, changed {changed:?}"
    );
}
