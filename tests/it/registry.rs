//! The registry and HTTP client against the loopback fake index: candidates through both APIs
//! and find-links pages, metadata through the JSON API, PEP 658 files and range requests,
//! verified downloads, and failure handling (hash mismatch, truncation, 404, 5xx, hangs, auth,
//! offline).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use plonk::dist::PackageName;
use plonk::http::{Conditional, HttpClient, HttpError, HttpOptions, Validators};
use plonk::registry::{Candidate, FindLinks, IndexLocations, RegistryClient, RegistryError};
use url::Url;

use crate::support::packages::{SdistBuilder, WheelBuilder, sha256_hex};
use crate::support::server::FakeIndex;

const DEMO_10_WHEEL: &str = "demo-1.0-py3-none-any.whl";
const DEMO_10_SDIST: &str = "demo-1.0.tar.gz";
const DEMO_20_WHEEL: &str = "demo-2.0-py3-none-any.whl";

/// A folder with demo 1.0 (wheel + hatchling sdist, needs `dep>=1`), demo 2.0 (wheel, no
/// dependencies) and dep 1.0; and a fake index over it.
fn fixture() -> (tempfile::TempDir, FakeIndex) {
    let dir = tempfile::tempdir().unwrap();
    let packages = dir.path().join("packages");
    WheelBuilder::new("demo", "1.0")
        .requires("dep>=1")
        .requires_python(">=3.8")
        .file("demo/__init__.py", "x = 1\n")
        .build(&packages);
    SdistBuilder::hatchling("demo", "1.0")
        .requires("dep>=1")
        .requires_python(">=3.8")
        .build(&packages);
    WheelBuilder::new("demo", "2.0")
        .file("demo/__init__.py", "x = 2\n".repeat(2000))
        .build(&packages);
    WheelBuilder::new("dep", "1.0").build(&packages);
    WheelBuilder::new("with-deps", "1.0")
        .requires("dep")
        .build(&packages);
    let server = FakeIndex::start(&packages);
    (dir, server)
}

fn options() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(2),
        retries: 2,
        retry_base_delay: Duration::from_millis(10),
        ..HttpOptions::default()
    }
}

fn registry(options: HttpOptions, locations: IndexLocations) -> RegistryClient {
    RegistryClient::new(HttpClient::new(options).unwrap(), locations)
}

fn index(url: &str) -> IndexLocations {
    IndexLocations {
        index_url: Some(Url::parse(url).unwrap()),
        ..IndexLocations::default()
    }
}

fn name(n: &str) -> PackageName {
    PackageName::from_str(n).unwrap()
}

fn pick(candidates: &[Candidate], filename: &str) -> Candidate {
    candidates
        .iter()
        .find(|c| c.url.path().ends_with(filename))
        .unwrap_or_else(|| panic!("no {filename} in {candidates:#?}"))
        .clone()
}

fn file_sha(dir: &Path, filename: &str) -> String {
    sha256_hex(&std::fs::read(dir.join("packages").join(filename)).unwrap())
}

/// The error and all its causes, one string.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(" / ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn dir_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

#[tokio::test]
async fn json_api_candidates_resolve_relative_urls() {
    let (dir, server) = fixture();
    server.set_yanked(DEMO_20_WHEEL);
    let client = registry(options(), index(&server.json_api_url()));
    let found = client.candidates(&name("Demo")).await.unwrap();
    assert_eq!(found.len(), 3, "{found:#?}");
    let wheel = pick(&found, DEMO_10_WHEEL);
    assert_eq!(
        wheel.url.as_str(),
        format!("{}/packages/{DEMO_10_WHEEL}", server.url())
    );
    assert_eq!(
        wheel.sha256.as_deref(),
        Some(file_sha(dir.path(), DEMO_10_WHEEL).as_str())
    );
    assert_eq!(wheel.requires_python.unwrap().to_string(), ">=3.8");
    assert!(wheel.size.is_some());
    assert!(!wheel.yanked);
    assert!(pick(&found, DEMO_20_WHEEL).yanked);
    assert_eq!(wheel.index.as_str(), server.json_api_url());
    assert_eq!(server.requests(), ["GET /pypi/demo/json"]);

    let err = client.candidates(&name("absent")).await.unwrap_err();
    assert!(matches!(err, RegistryError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn simple_api_json_and_html_find_links() {
    let (dir, server) = fixture();
    let client = registry(options(), index(&server.simple_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    assert_eq!(found.len(), 3);
    let wheel = pick(&found, DEMO_10_WHEEL);
    assert_eq!(
        wheel.sha256.as_deref(),
        Some(file_sha(dir.path(), DEMO_10_WHEEL).as_str())
    );
    assert_eq!(wheel.requires_python.unwrap().to_string(), ">=3.8");
    let log = server.request_log();
    assert_eq!(log[0].path, "/simple/demo/");
    assert!(
        log[0]
            .accept
            .as_deref()
            .unwrap()
            .starts_with("application/vnd.pypi.simple.v1+json")
    );

    // A find-links page is fetched without the JSON Accept header: the HTML answer.
    server.set_yanked(DEMO_10_SDIST);
    let page = Url::parse(&format!("{}demo/", server.simple_url())).unwrap();
    let client = registry(
        options(),
        IndexLocations {
            find_links: vec![FindLinks::Url(page)],
            no_index: true,
            ..IndexLocations::default()
        },
    );
    let found = client.candidates(&name("demo")).await.unwrap();
    assert_eq!(found.len(), 3);
    let sdist = pick(&found, DEMO_10_SDIST);
    assert!(sdist.yanked);
    assert_eq!(
        sdist.url.as_str(),
        format!("{}/packages/{DEMO_10_SDIST}", server.url())
    );
    assert_eq!(sdist.requires_python.unwrap().to_string(), ">=3.8");
}

#[tokio::test]
async fn metadata_from_json_api_then_range_requests() {
    let (_dir, server) = fixture();
    let client = registry(options(), index(&server.json_api_url()));

    // A wheel is described by its own METADATA, never by the project page's `info` (PyPI
    // takes `info` from one uploaded file, and wheels can disagree with it): the latest
    // version's wheel is read from its PEP 658 file although `info` has its dependencies.
    let found = client.candidates(&name("with-deps")).await.unwrap();
    let wheel = found
        .iter()
        .find(|c| c.filename.is_wheel())
        .expect("with-deps has a wheel");
    server.clear_requests();
    let metadata = client.metadata(wheel).await.unwrap().unwrap();
    assert_eq!(requires(&metadata), ["dep"]);
    assert!(
        server.requests().iter().all(|r| r.contains("/packages/")),
        "{:?}",
        server.requests()
    );

    // An older wheel whose PEP 658 file the JSON API advertises.
    let found = client.candidates(&name("demo")).await.unwrap();
    server.clear_requests();
    let metadata = client
        .metadata(&pick(&found, DEMO_10_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(requires(&metadata), ["dep>=1"]);
    assert_eq!(
        server.requests(),
        [format!("GET /packages/{DEMO_10_WHEEL}.metadata")]
    );

    // No PEP 658: the wheel is read through range requests, never downloaded whole; the
    // sdist gets the per-version JSON page.
    server.disable_pep658();
    let found = client.candidates(&name("demo")).await.unwrap();
    server.clear_requests();
    let metadata = client
        .metadata(&pick(&found, DEMO_20_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert!(metadata.requires_dist.is_empty());
    assert_eq!(metadata.version.to_string(), "2.0");
    let log = server.request_log();
    assert!(!log.is_empty());
    assert!(
        log.iter()
            .all(|r| r.path == format!("/packages/{DEMO_20_WHEEL}") && r.range.is_some()),
        "{log:#?}"
    );
    server.clear_requests();
    let metadata = client.metadata(&pick(&found, DEMO_10_SDIST)).await.unwrap();
    assert_eq!(requires(&metadata.unwrap()), ["dep>=1"]);
    assert_eq!(server.requests(), ["GET /pypi/demo/1.0/json"]);

    // Behind some proxies the per-version page is missing: wheels are read by range, sdists
    // are left to the build.
    server.status("/pypi/demo/1.0/json", 404);
    let metadata = client
        .metadata(&pick(&found, DEMO_10_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(requires(&metadata), ["dep>=1"]);
    server.clear_requests();
    let sdist = client.metadata(&pick(&found, DEMO_10_SDIST)).await.unwrap();
    assert!(sdist.is_none());
    server.clear_requests();
    // The missing endpoint is not asked again.
    let sdist = client.metadata(&pick(&found, DEMO_10_SDIST)).await.unwrap();
    assert!(sdist.is_none());
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

fn requires(metadata: &plonk::dist::Metadata) -> Vec<String> {
    metadata
        .requires_dist
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test]
async fn metadata_from_pep658_and_ranges_on_the_simple_api() {
    let (_dir, server) = fixture();
    let client = registry(options(), index(&server.simple_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    server.clear_requests();
    let metadata = client
        .metadata(&pick(&found, DEMO_10_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metadata.requires_dist.len(), 1);
    assert_eq!(
        server.requests(),
        [format!("GET /packages/{DEMO_10_WHEEL}.metadata")]
    );

    // An sdist without PEP 658 metadata is read after download (the build module's job).
    server.clear_requests();
    let sdist = client.metadata(&pick(&found, DEMO_10_SDIST)).await.unwrap();
    assert!(sdist.is_none());
    assert!(server.requests().is_empty());

    // Without PEP 658: range requests.
    server.disable_pep658();
    let client = registry(options(), index(&server.simple_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    server.clear_requests();
    let metadata = client
        .metadata(&pick(&found, DEMO_10_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metadata.requires_python.unwrap().to_string(), ">=3.8");
    assert!(server.request_log().iter().all(|r| r.range.is_some()));

    // A server that ignores ranges: the whole file is read instead.
    server.disable_ranges();
    server.clear_requests();
    let metadata = client
        .metadata(&pick(&found, DEMO_20_WHEEL))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metadata.version.to_string(), "2.0");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn pep658_hash_mismatch_is_an_error() {
    let (_dir, server) = fixture();
    server.bad_sha256(DEMO_10_WHEEL);
    let client = registry(options(), index(&server.simple_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    let err = client
        .metadata(&pick(&found, DEMO_10_WHEEL))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::MetadataHashMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(DEMO_10_WHEEL), "{err}");
}

#[tokio::test]
async fn download_verifies_and_renames() {
    let (dir, server) = fixture();
    let client = registry(options(), index(&server.json_api_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    for filename in [DEMO_10_WHEEL, DEMO_10_SDIST, DEMO_20_WHEEL] {
        let path = client
            .download(&pick(&found, filename), out.path())
            .await
            .unwrap();
        assert_eq!(path, out.path().join(filename));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(dir.path().join("packages").join(filename)).unwrap()
        );
    }
    assert_eq!(dir_entries(out.path()).len(), 3);
}

#[tokio::test]
async fn download_hash_mismatch_names_both_digests() {
    let (dir, server) = fixture();
    server.bad_sha256(DEMO_10_WHEEL);
    let client = registry(options(), index(&server.json_api_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = client
        .download(&pick(&found, DEMO_10_WHEEL), out.path())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RegistryError::HashMismatch { .. }), "{text}");
    assert!(text.contains(DEMO_10_WHEEL), "{text}");
    assert!(text.contains(&"0".repeat(64)), "{text}");
    assert!(
        text.contains(&file_sha(dir.path(), DEMO_10_WHEEL)),
        "{text}"
    );
    assert!(dir_entries(out.path()).is_empty(), "temp file left behind");
}

#[tokio::test]
async fn truncated_download_fails_cleanly() {
    let (_dir, server) = fixture();
    server.truncate(DEMO_20_WHEEL);
    let client = registry(options(), index(&server.json_api_url()));
    let found = client.candidates(&name("demo")).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = client
        .download(&pick(&found, DEMO_20_WHEEL), out.path())
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, RegistryError::Download { .. }), "{text}");
    assert!(text.contains("cut short"), "{text}");
    assert!(dir_entries(out.path()).is_empty());
    // Retried like a connection error: 1 try + 2 retries.
    let tries = server
        .requests()
        .iter()
        .filter(|r| r.ends_with(DEMO_20_WHEEL))
        .count();
    assert_eq!(tries, 3);
}

#[tokio::test]
async fn not_found_and_status_errors() {
    let (_dir, server) = fixture();
    server.status("/pypi/demo/json", 404);
    let client = registry(options(), index(&server.json_api_url()));
    let err = client.candidates(&name("demo")).await.unwrap_err();
    assert!(matches!(err, RegistryError::NotFound(_)), "{err}");

    // A 4xx is never retried.
    server.status("/pypi/dep/json", 400);
    server.clear_requests();
    let err = client.candidates(&name("dep")).await.unwrap_err();
    assert!(chain(&err).contains("400"), "{}", chain(&err));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let (_dir, server) = fixture();
    let client = registry(options(), index(&server.json_api_url()));
    server.fail_next(2, 503);
    let found = client.candidates(&name("demo")).await.unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(server.requests().len(), 3);

    server.clear_requests();
    server.fail_next(10, 500);
    let err = client.candidates(&name("demo")).await.unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, RegistryError::Index { .. }), "{text}");
    assert!(text.contains("500"), "{text}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let (_dir, server) = fixture();
    server.hang("/pypi/demo/json");
    let client = registry(
        HttpOptions {
            timeout: Duration::from_secs(1),
            retries: 0,
            ..options()
        },
        index(&server.json_api_url()),
    );
    let start = Instant::now();
    let err = client.candidates(&name("demo")).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    match &err {
        RegistryError::Index { source, .. } => {
            assert!(matches!(source, HttpError::Timeout { .. }), "{source}")
        }
        other => panic!("{other}"),
    }
    assert!(chain(&err).contains("timed out"), "{}", chain(&err));
}

#[tokio::test]
async fn one_failing_index_does_not_hide_another() {
    let (_dir, server) = fixture();
    server.status("/simple/demo/", 500);
    let client = registry(
        HttpOptions {
            retries: 0,
            ..options()
        },
        IndexLocations {
            index_url: Some(Url::parse(&server.simple_url()).unwrap()),
            extra_index_urls: vec![Url::parse(&server.json_api_url()).unwrap()],
            ..IndexLocations::default()
        },
    );
    let found = client.candidates(&name("demo")).await.unwrap();
    assert_eq!(found.len(), 3);
}

#[tokio::test]
async fn basic_auth_from_netrc() {
    let (dir, server) = fixture();
    server.require_basic_auth("alice", "s3cret-pw");
    let netrc = dir.path().join("netrc");
    std::fs::write(
        &netrc,
        "machine 127.0.0.1\n  login alice\n  password s3cret-pw\n",
    )
    .unwrap();
    let client = registry(
        HttpOptions {
            netrc: Some(netrc),
            ..options()
        },
        index(&server.simple_url()),
    );
    let found = client.candidates(&name("demo")).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    client
        .download(&pick(&found, DEMO_10_WHEEL), out.path())
        .await
        .unwrap();

    // No credentials: the refusal names the host and is not retried.
    server.clear_requests();
    let anonymous = registry(options(), index(&server.simple_url()));
    let err = anonymous.candidates(&name("demo")).await.unwrap_err();
    let text = chain(&err);
    assert!(text.contains("`127.0.0.1` refused access"), "{text}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn basic_auth_from_url_and_password_never_shown() {
    let (_dir, server) = fixture();
    server.require_basic_auth("bob", "hunter2");
    let good = server.url_with_credentials("bob", "hunter2", "/simple/");
    let client = registry(options(), index(&good));
    let found = client.candidates(&name("demo")).await.unwrap();
    // File URLs on the same host carry no userinfo but are authenticated all the same.
    let wheel = pick(&found, DEMO_10_WHEEL);
    assert!(wheel.url.password().is_none());
    let out = tempfile::tempdir().unwrap();
    client.download(&wheel, out.path()).await.unwrap();
    assert!(
        server
            .request_log()
            .iter()
            .all(|r| r.authorization.is_some())
    );

    let bad = server.url_with_credentials("bob", "wrong-secret", "/simple/");
    let client = registry(options(), index(&bad));
    let err = client.candidates(&name("demo")).await.unwrap_err();
    let text = chain(&err);
    assert!(text.contains("refused access"), "{text}");
    assert!(text.contains("bob:****@"), "{text}");
    assert!(!text.contains("wrong-secret"), "{text}");
    assert!(!format!("{err:?}").contains("wrong-secret"));
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    let (dir, server) = fixture();
    let other = FakeIndex::start(&dir.path().join("packages"));
    // Same host, other path: credentials kept.
    server.redirect("/moved/demo/", "/simple/demo/");
    // Another server: credentials dropped.
    server.redirect("/away/demo/", &format!("{}demo/", other.simple_url()));

    let url = server.url_with_credentials("carol", "pw", "/moved/");
    let client = registry(options(), index(&url));
    assert_eq!(client.candidates(&name("demo")).await.unwrap().len(), 3);
    assert!(
        server
            .request_log()
            .iter()
            .all(|r| r.authorization.is_some())
    );

    let url = server.url_with_credentials("carol", "pw", "/away/");
    let client = registry(options(), index(&url));
    let found = client.candidates(&name("demo")).await.unwrap();
    // Relative links resolve against the final URL, on the other server.
    assert!(
        pick(&found, DEMO_10_WHEEL)
            .url
            .as_str()
            .starts_with(&other.url())
    );
    let log = other.request_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].authorization, None);
}

#[tokio::test]
async fn offline_makes_no_request() {
    let (dir, server) = fixture();
    let client = registry(
        HttpOptions {
            offline: true,
            ..options()
        },
        index(&server.json_api_url()),
    );
    let err = client.candidates(&name("demo")).await.unwrap_err();
    let text = chain(&err);
    assert!(text.contains("offline"), "{text}");
    assert!(text.contains("/pypi/demo/json"), "{text}");
    assert!(server.requests().is_empty());

    // Local find-links still work offline, metadata and download included.
    let client = registry(
        HttpOptions {
            offline: true,
            ..options()
        },
        IndexLocations {
            index_url: Some(Url::parse(&server.json_api_url()).unwrap()),
            find_links: vec![FindLinks::Path(dir.path().join("packages"))],
            ..IndexLocations::default()
        },
    );
    let found = client.candidates(&name("demo")).await.unwrap();
    assert_eq!(found.len(), 3);
    let wheel = pick(&found, DEMO_10_WHEEL);
    assert_eq!(wheel.url.scheme(), "file");
    let metadata = client.metadata(&wheel).await.unwrap().unwrap();
    assert_eq!(metadata.requires_dist.len(), 1);
    let out = tempfile::tempdir().unwrap();
    let path = client.download(&wheel, out.path()).await.unwrap();
    assert!(path.is_file());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn candidates_are_send_for_parallel_fetches() {
    let (_dir, server) = fixture();
    let client = std::sync::Arc::new(registry(options(), index(&server.json_api_url())));
    let tasks: Vec<_> = ["demo", "dep"]
        .into_iter()
        .map(|n| {
            let client = std::sync::Arc::clone(&client);
            tokio::spawn(async move {
                let found = client.candidates(&name(n)).await.unwrap();
                let first = found[0].clone();
                client.metadata(&first).await.unwrap();
                found.len()
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    assert_eq!(counts, [3, 1]);
}

#[test]
fn fake_index_serves_static_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let index_dir = dir.path().join("index");
    std::fs::create_dir_all(index_dir.join("main/redwood")).unwrap();
    std::fs::write(index_dir.join("main/redwood/plugins.yml"), "- name: x\n").unwrap();
    let server = FakeIndex::start(&dir.path().join("packages")).with_index_dir(&index_dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = HttpClient::new(options()).unwrap();
    runtime.block_on(async {
        let url = Url::parse(&format!("{}/main/redwood/plugins.yml", server.url())).unwrap();
        let (_, _, body) = http.get_bytes(&url).await.unwrap();
        assert_eq!(body, b"- name: x\n");
        let escape = Url::parse(&format!("{}/main/../../etc/passwd", server.url())).unwrap();
        assert!(http.get_bytes(&escape).await.is_err());

        // Conditional GET: the validators of the first answer give a 304.
        let first = match http
            .get_conditional(&url, None, &Validators::default())
            .await
            .unwrap()
        {
            Conditional::Modified(response) => response,
            Conditional::NotModified { .. } => panic!("nothing was cached"),
        };
        let validators = Validators::from_headers(&first.headers);
        assert!(validators.etag.is_some());
        let again = http.get_conditional(&url, None, &validators).await.unwrap();
        assert!(
            matches!(again, Conditional::NotModified { .. }),
            "{again:?}"
        );
        std::fs::write(index_dir.join("main/redwood/plugins.yml"), "- name: y\n").unwrap();
        match http.get_conditional(&url, None, &validators).await.unwrap() {
            Conditional::Modified(response) => assert_eq!(response.body, b"- name: y\n"),
            other => panic!("{other:?}"),
        }
    });
}
