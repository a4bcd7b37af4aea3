//! Real servers for the air-gap tests: nginx (a static mirror, optionally behind HTTP basic
//! auth) and pypiserver (a folder of wheels), each started on 127.0.0.1 with a free port and
//! its own temp prefix, waited for until it answers, and stopped by its PID when dropped.
//!
//! Binaries: `$PLONK_NGINX`, else `/usr/sbin/nginx`, else `nginx` on PATH; `$PLONK_PYPISERVER`,
//! else `/opt/plonk-ci-tools/bin/pypi-server` (where `.ci/setup-servers.sh` installs it), else
//! `pypi-server` on PATH. A missing binary skips the test with a printed reason, except when
//! `CI=true`: CI installs both, so there a missing one is a failure.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(20);

/// A running server; stopped (SIGTERM, then SIGKILL) by PID when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub url: String,
    /// The port.
    pub port: u16,
    child: Child,
    prefix: TempDir,
    name: &'static str,
}

impl Server {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's request log (nginx's access log, pypiserver's stderr), as text.
    pub fn log(&self) -> String {
        let mut text = String::new();
        for file in ["access.log", "stderr.log", "stdout.log"] {
            text.push_str(&fs::read_to_string(self.prefix.path().join(file)).unwrap_or_default());
        }
        text
    }

    /// `http://user:pass@127.0.0.1:<port>` + `path`.
    pub fn url_with_credentials(&self, user: &str, pass: &str, path: &str) -> String {
        format!("http://{user}:{pass}@127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // `Child::kill` sends SIGKILL to this PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("{} (pid {pid}) needed SIGKILL", self.name);
    }
}

/// Whether the tests run in CI, where every server binary must exist.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn find_binary(variable: &str, fixed: &str, on_path: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    let fixed = PathBuf::from(fixed);
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(on_path))
        .find(|p| p.is_file())
}

/// The binary, or `None` after printing why the test is skipped; panics in CI.
fn require(binary: Option<PathBuf>, what: &str, variable: &str) -> Option<PathBuf> {
    match binary {
        Some(path) => Some(path),
        None if in_ci() => panic!(
            "{what} is not installed, and CI=true requires it: run `bash .ci/setup-servers.sh` (or set {variable})"
        ),
        None => {
            eprintln!(
                "SKIPPED: {what} is not installed (run `bash .ci/setup-servers.sh` or set {variable})"
            );
            None
        }
    }
}

/// The nginx binary, or `None` (skip) outside CI.
pub fn nginx_binary() -> Option<PathBuf> {
    require(
        find_binary("PLONK_NGINX", "/usr/sbin/nginx", "nginx"),
        "nginx",
        "PLONK_NGINX",
    )
}

/// The pypiserver binary, or `None` (skip) outside CI.
pub fn pypiserver_binary() -> Option<PathBuf> {
    require(
        find_binary(
            "PLONK_PYPISERVER",
            "/opt/plonk-ci-tools/bin/pypi-server",
            "pypi-server",
        ),
        "pypiserver",
        "PLONK_PYPISERVER",
    )
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Sends `GET path` and returns the status code, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Starts `command` and waits until `GET probe` answers; `None` when it exited first (the
/// port was taken between choosing and binding it), so the caller retries.
fn start(
    mut command: Command,
    prefix: TempDir,
    port: u16,
    probe: &str,
    name: &'static str,
) -> Option<Server> {
    let stdout = fs::File::create(prefix.path().join("stdout.log")).expect("stdout log");
    let stderr = fs::File::create(prefix.path().join("stderr.log")).expect("stderr log");
    let child = command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let mut server = Server {
        url: format!("http://127.0.0.1:{port}"),
        port,
        child,
        prefix,
        name,
    };
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = server.child.try_wait() {
            eprintln!("{name} exited with {status} at start:\n{}", server.log());
            return None;
        }
        if http_status(port, probe).is_some() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{name} did not answer on port {port} within {STARTUP:?}:\n{}",
        server.log()
    );
}

/// nginx serving the folder `root` (its `index.html` files for folders), optionally behind
/// HTTP basic auth with one user. `None` when nginx is missing (outside CI).
pub fn nginx(root: &Path, auth: Option<(&str, &str)>) -> Option<Server> {
    let binary = nginx_binary()?;
    for _ in 0..5 {
        let prefix = tempfile::Builder::new()
            .prefix("plonk-nginx-")
            .tempdir()
            .expect("nginx prefix");
        let p = prefix.path();
        fs::create_dir_all(p.join("tmp")).expect("nginx tmp");
        let port = free_port();
        let auth_lines = match auth {
            Some((user, pass)) => {
                // nginx reads `{PLAIN}` passwords: no htpasswd tool needed.
                fs::write(p.join("htpasswd"), format!("{user}:{{PLAIN}}{pass}\n"))
                    .expect("htpasswd");
                format!(
                    "auth_basic \"plonk test\";\n            auth_basic_user_file {};",
                    p.join("htpasswd").display()
                )
            }
            None => String::new(),
        };
        let config = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
error_log {p}/error.log;
pid {p}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;
    types {{
        text/html html;
        application/json json;
        text/plain txt metadata;
        application/x-yaml yml;
    }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            index index.html;
            {auth_lines}
        }}
    }}
}}
"#,
            p = p.display(),
            root = root.display(),
        );
        fs::write(p.join("nginx.conf"), config).expect("nginx.conf");
        let mut command = Command::new(&binary);
        command
            .arg("-p")
            .arg(p)
            .arg("-c")
            .arg(p.join("nginx.conf"))
            .arg("-e")
            .arg(p.join("error.log"));
        if let Some(server) = start(command, prefix, port, "/", "nginx") {
            return Some(server);
        }
    }
    panic!("nginx did not start after 5 attempts");
}

/// pypiserver serving the wheels of `packages` (no auth, no fallback to PyPI). `None` when
/// pypiserver is missing (outside CI).
pub fn pypiserver(packages: &Path) -> Option<Server> {
    let binary = pypiserver_binary()?;
    for _ in 0..5 {
        let prefix = tempfile::Builder::new()
            .prefix("plonk-pypiserver-")
            .tempdir()
            .expect("pypiserver prefix");
        let port = free_port();
        let mut command = Command::new(&binary);
        command
            .args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
            .args([
                "-a",
                ".",
                "-P",
                ".",
                "--disable-fallback",
                "--hash-algo",
                "sha256",
            ])
            .arg(packages)
            .env_remove("PYTHONPATH")
            .env_remove("VIRTUAL_ENV");
        if let Some(server) = start(command, prefix, port, "/simple/", "pypiserver") {
            return Some(server);
        }
    }
    panic!("pypiserver did not start after 5 attempts");
}
