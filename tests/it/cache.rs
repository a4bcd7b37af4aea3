//! The global cache of the [speed] issue: with fresh index pages (Cache-Control max-age, as
//! PyPI sends), a second install into a fresh venv asks the index nothing at all (pages from
//! the HTTP cache, metadata from the metadata cache, wheels and built wheels from theirs) and
//! hard-links files from the unpacked-wheel cache; `--refresh` revalidates every page with
//! its ETag; stale pages are revalidated (304); `--offline` uses stale pages and fails with a
//! sentence naming the package when nothing is cached.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::install::{Api, Case};
use crate::support::plonk::RunOutput;
use crate::support::venv;

/// The packages installed: wheels with scripts and a dependency chain, Tutor, and a
/// hatchling sdist plugin (built once, then taken from the built-wheel cache).
const TARGETS: &[&str] = &["tutor==22.0.0", "tutor-indigo", "alpha"];

/// `plonk --python <venv> --index-url <url> --no-progress <args…> install <targets…>`.
fn install_into(case: &Case, venv: &Path, args: &[&str], targets: &[&str]) -> RunOutput {
    let url = case.index_url();
    let venv = venv.to_string_lossy().to_string();
    let mut all: Vec<&str> = vec!["--python", &venv, "--index-url", &url, "--no-progress"];
    all.extend_from_slice(args);
    all.push("install");
    all.extend_from_slice(targets);
    case.plonk.run(all)
}

fn fresh_venv(case: &Case, name: &str) -> PathBuf {
    venv::make_venv(&case.plonk.tmp().join(name))
}

fn installed_file(venv: &Path) -> PathBuf {
    venv::site_packages(venv).join("alpha/__init__.py")
}

#[test]
fn a_second_install_with_fresh_pages_makes_no_request_and_links_files() {
    for api in [Api::Json, Api::Simple] {
        eprintln!("--- through the {api:?} API ---");
        let case = Case::new(api);
        case.index.set_cache_control("max-age=900");
        install_into(&case, &case.venv, &[], TARGETS).assert_success();
        assert!(!case.index.requests().is_empty());

        case.index.clear_requests();
        let second = fresh_venv(&case, "venv2");
        let out = install_into(&case, &second, &[], TARGETS);
        out.assert_success();
        assert_eq!(
            case.index.requests(),
            Vec::<String>::new(),
            "{}",
            out.stderr()
        );
        // Same distributions, and package files are hard links into the cache.
        let first_file = installed_file(&case.venv);
        let second_file = installed_file(&second);
        assert_eq!(
            std::fs::read(&first_file).unwrap(),
            std::fs::read(&second_file).unwrap()
        );
        assert_eq!(
            std::fs::metadata(&first_file).unwrap().ino(),
            std::fs::metadata(&second_file).unwrap().ino()
        );
        assert!(std::fs::metadata(&second_file).unwrap().nlink() >= 3);
        // Launchers are written per environment: never shared.
        let launcher = venv::bin_dir(&second).join("alpha-cli");
        assert_eq!(std::fs::metadata(&launcher).unwrap().nlink(), 1);
        let run = venv::run_script(&second, "alpha-cli", &[]);
        assert!(run.status.success(), "{run:?}");

        // --refresh revalidates every page (conditionally: 304s), and downloads nothing.
        case.index.clear_requests();
        let third = fresh_venv(&case, "venv3");
        install_into(&case, &third, &["--refresh"], TARGETS).assert_success();
        let log = case.index.request_log();
        assert!(!log.is_empty());
        for request in &log {
            assert!(
                request.if_none_match.is_some(),
                "unconditional request with --refresh: {request:?}"
            );
            assert!(!request.path.contains("/packages/"), "{request:?}");
        }
    }
}

#[test]
fn stale_pages_are_revalidated_and_offline_uses_them() {
    let case = Case::new(Api::Json);
    case.index.set_cache_control("max-age=0");
    install_into(&case, &case.venv, &[], &["alpha"]).assert_success();

    // Stale: every page is asked again, conditionally, and nothing else is fetched.
    case.index.clear_requests();
    let second = fresh_venv(&case, "venv2");
    install_into(&case, &second, &[], &["alpha"]).assert_success();
    let log = case.index.request_log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.if_none_match.is_some()), "{log:?}");

    // Offline: the stale pages are used without a request.
    case.index.clear_requests();
    let third = fresh_venv(&case, "venv3");
    install_into(&case, &third, &["--offline"], &["alpha"]).assert_success();
    assert_eq!(case.index.requests(), Vec::<String>::new());
    assert!(installed_file(&third).is_file());

    // Offline and never fetched: one sentence naming the package.
    let out = install_into(&case, &third, &["--offline"], &["chain-x-unknown"]);
    out.assert_failure(1);
    let stderr = out.stderr();
    assert!(
        stderr.contains("`chain-x-unknown` is not in the cache"),
        "{stderr}"
    );
    assert!(stderr.contains("--offline"), "{stderr}");
    assert_eq!(case.index.requests(), Vec::<String>::new());
}

#[test]
fn cache_clean_empties_the_cache_and_the_next_install_refetches() {
    let case = Case::new(Api::Simple);
    case.index.set_cache_control("max-age=900");
    install_into(&case, &case.venv, &[], &["alpha"]).assert_success();
    assert!(case.plonk.cache_dir.join("http-v1").is_dir());
    assert!(case.plonk.cache_dir.join("unpacked-v1").is_dir());
    case.plonk.run(["cache", "clean"]).assert_success();
    case.index.clear_requests();
    let second = fresh_venv(&case, "venv2");
    install_into(&case, &second, &[], &["alpha"]).assert_success();
    assert!(!case.index.requests().is_empty());
    // The first venv's linked files survive the cache going away.
    assert!(installed_file(&case.venv).is_file());
}
