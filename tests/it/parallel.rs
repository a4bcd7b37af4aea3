//! Work that must happen in parallel with resolution (the [speed] issue), proven without
//! timing: the fake index holds one answer until the request that only parallel work would
//! send has arrived. Run serially, plonk would wait out the hold (and the test fails on
//! `released_by_trigger`), however fast the machine.

use crate::install::{Api, Case, assert_installed};
use crate::support::packages::{SdistBuilder, WheelBuilder};

/// `/packages/<wheel>.metadata`, the PEP 658 file the simple API advertises.
fn metadata_path(wheel: &WheelBuilder) -> String {
    format!("/packages/{}.metadata", wheel.filename())
}

#[test]
fn walking_down_versions_fetches_the_older_metadata_in_one_batch() {
    let case = Case::new(Api::Simple);
    // Versions 3.0 to 7.0 of `walker` need a `floor` that does not exist: the resolver tries
    // them one by one, newest first, and settles on 2.0.
    let mut wheels = Vec::new();
    for (version, needs) in [
        ("1.0", "floor>=1"),
        ("2.0", "floor>=1"),
        ("3.0", "floor>=9"),
        ("4.0", "floor>=9"),
        ("5.0", "floor>=9"),
        ("6.0", "floor>=9"),
        ("7.0", "floor>=9"),
    ] {
        let wheel = WheelBuilder::new("walker", version).requires(needs);
        wheel.build(&case.dists);
        wheels.push(wheel);
    }
    WheelBuilder::new("floor", "1.0").build(&case.dists);
    // The second version tried (6.0) is answered only once 4.0 has been asked for: one at a
    // time, 4.0 would only be asked after 6.0's answer.
    let held = metadata_path(&wheels[5]);
    case.index.hold_until(&held, &metadata_path(&wheels[3]));

    case.install(&["walker"]).assert_success();

    assert_installed(&case, &[("floor", "1.0"), ("walker", "2.0")]);
    assert!(
        case.index.released_by_trigger(&held),
        "the metadata of older versions should be fetched while the resolver waits for one; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn picked_wheels_download_while_resolution_goes_on() {
    let case = Case::new(Api::Simple);
    let early = WheelBuilder::new("early", "1.0");
    early.build(&case.dists);
    WheelBuilder::new("late", "1.0")
        .requires("deep")
        .build(&case.dists);
    WheelBuilder::new("deep", "1.0").build(&case.dists);
    // `deep` is only known once `late`'s metadata is read; its page is answered only once
    // the wheel of `early` is being downloaded. Serially, downloads start after resolution.
    case.index
        .hold_until("/simple/deep/", &format!("/packages/{}", early.filename()));

    case.install(&["early", "late"]).assert_success();

    assert_installed(&case, &[("deep", "1.0"), ("early", "1.0"), ("late", "1.0")]);
    assert!(
        case.index.released_by_trigger("/simple/deep/"),
        "the wheel of `early` should download while `deep` is still being resolved; requests: {:#?}",
        case.index.requests()
    );
}

/// The JSON API page of `name` on the fake index.
fn json_page(name: &str) -> String {
    format!("/pypi/{name}/json")
}

#[test]
fn the_chain_of_requirements_is_followed_through_an_sdist_the_index_describes() {
    let case = Case::new(Api::Json);
    WheelBuilder::new("gate", "1.0").build(&case.dists);
    WheelBuilder::new("top", "1.0")
        .requires("mid")
        .build(&case.dists);
    // `mid` has only an sdist; the JSON API's `info` gives its requirements without a build.
    SdistBuilder::hatchling("mid", "1.0")
        .py_module("mid")
        .requires("deep")
        .build(&case.dists);
    WheelBuilder::new("deep", "1.0").build(&case.dists);
    // The resolver waits on `gate` until `deep` is asked for: only the prefetcher, reading
    // `mid`'s requirements from the index, can ask for it meanwhile.
    case.index
        .hold_until(&json_page("gate"), &json_page("deep"));

    case.install(&["gate", "top"]).assert_success();

    assert_installed(
        &case,
        &[
            ("deep", "1.0"),
            ("gate", "1.0"),
            ("mid", "1.0"),
            ("top", "1.0"),
        ],
    );
    assert!(
        case.index.released_by_trigger(&json_page("gate")),
        "`deep` should be looked up through `mid`'s index metadata while the resolver waits; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn a_build_environment_is_fetched_before_its_build_starts() {
    let case = Case::new(Api::Json);
    WheelBuilder::new("gate", "1.0").build(&case.dists);
    WheelBuilder::new("top", "1.0")
        .requires("legacy")
        .build(&case.dists);
    // A setuptools project (built through PEP 517) whose requirements the index knows, so
    // nothing but its build environment needs setuptools early.
    SdistBuilder::hatchling("legacy", "1.0")
        .py_module("legacy")
        .requires("chain-c")
        .pyproject_text(
            "[build-system]\nrequires = [\"setuptools>=61\"]\n\
             build-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"legacy\"\nversion = \"1.0\"\ndependencies = [\"chain-c\"]\n",
        )
        .build(&case.dists);
    // The resolver waits on `gate` until setuptools is asked for: serially, that happens only
    // once `legacy` is picked, after `gate`.
    case.index
        .hold_until(&json_page("gate"), &json_page("setuptools"));

    case.install(&["gate", "top"]).assert_success();

    assert_installed(
        &case,
        &[
            ("chain-c", "1.1"),
            ("gate", "1.0"),
            ("legacy", "1.0"),
            ("top", "1.0"),
        ],
    );
    assert!(
        case.index.released_by_trigger(&json_page("gate")),
        "setuptools should be fetched as soon as `legacy`'s sdist shows it is needed; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn an_sdist_only_a_build_describes_is_built_ahead_of_the_resolver() {
    let case = Case::new(Api::Simple);
    WheelBuilder::new("gate", "1.0").build(&case.dists);
    // `setupy` (backbone) is a setuptools sdist whose dependency (`chain-c`) is in setup.py
    // only: known after a build.
    WheelBuilder::new("top", "1.0")
        .requires("setupy")
        .build(&case.dists);
    // The resolver waits on `gate` until `chain-c` is asked for, which needs `setupy` built:
    // only a build started ahead of the resolver gets there. (A build may be slow on a busy
    // machine: the hold is long, and only a failing run waits it out.)
    case.index.hold_until_for(
        "/simple/gate/",
        "/simple/chain-c/",
        std::time::Duration::from_secs(90),
    );

    case.install(&["gate", "top"]).assert_success();

    assert_installed(
        &case,
        &[
            ("chain-c", "1.1"),
            ("gate", "1.0"),
            ("setupy", "1.0"),
            ("top", "1.0"),
        ],
    );
    assert!(
        case.index.released_by_trigger("/simple/gate/"),
        "`setupy` should be built while the resolver waits on `gate`; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn builds_that_need_the_same_wheel_share_one_download() {
    let case = Case::new(Api::Simple);
    SdistBuilder::setuptools("setupz", "1.0")
        .py_module("setupz")
        .build(&case.dists);
    let setuptools = case
        .backbone
        .backend_wheels
        .iter()
        .find(|w| w.starts_with("setuptools-"))
        .expect("the backbone has a setuptools wheel")
        .clone();
    let wheel_path = format!("/packages/{setuptools}");
    // The setuptools wheel is answered late, so both builds (and the prefetcher) want it
    // at once: each its own download, unless they share one.
    case.index.hold_until(&wheel_path, "/never-requested");

    case.install(&["setupy", "setupz"]).assert_success();

    assert_installed(
        &case,
        &[("chain-c", "1.1"), ("setupy", "1.0"), ("setupz", "1.0")],
    );
    let downloads = case
        .index
        .request_log()
        .into_iter()
        .filter(|r| r.path == wheel_path && r.range.is_none())
        .count();
    assert_eq!(
        downloads,
        1,
        "one download of {setuptools} for both builds; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn a_version_picked_while_walking_down_downloads_while_resolution_goes_on() {
    let case = Case::new(Api::Simple);
    // 5.0 to 3.0 of `walker` need a `floor` that does not exist; 2.0 also needs `tail`.
    for (version, needs) in [
        ("3.0", "floor>=9"),
        ("4.0", "floor>=9"),
        ("5.0", "floor>=9"),
    ] {
        WheelBuilder::new("walker", version)
            .requires(needs)
            .build(&case.dists);
    }
    let kept = WheelBuilder::new("walker", "2.0")
        .requires("floor>=1")
        .requires("tail");
    kept.build(&case.dists);
    WheelBuilder::new("floor", "1.0").build(&case.dists);
    WheelBuilder::new("tail", "1.0").build(&case.dists);
    // `tail` is only known once 2.0 is picked; its page is answered only once 2.0's wheel is
    // being downloaded. Serially, the wheel of a later pick downloads after resolution.
    case.index
        .hold_until("/simple/tail/", &format!("/packages/{}", kept.filename()));

    case.install(&["walker"]).assert_success();

    assert_installed(
        &case,
        &[("floor", "1.0"), ("tail", "1.0"), ("walker", "2.0")],
    );
    assert!(
        case.index.released_by_trigger("/simple/tail/"),
        "the wheel of walker 2.0 should download as soon as it is picked; requests: {:#?}",
        case.index.requests()
    );
}

#[test]
fn a_failed_install_does_not_wait_for_a_build_started_on_a_guess() {
    use std::time::{Duration, Instant};
    let case = Case::new(Api::Simple);
    let pid_file = case.plonk.tmp().join("slowpoke.pid");
    // setup.py tells the index it runs, records its pid, then takes five minutes.
    let setup_py = format!(
        "import os, time, urllib.request\n\
         try:\n    urllib.request.urlopen({url:?}).close()\nexcept Exception:\n    pass\n\
         with open({pid:?}, 'w') as f:\n    f.write(str(os.getpid()))\n\
         time.sleep(300)\n\
         from setuptools import setup\nsetup()\n",
        url = format!("{}/started-building", case.index.url()),
        pid = pid_file.to_string_lossy(),
    );
    // Metadata 2.1: only a build tells `slowpoke`'s requirements, so the prefetcher builds it.
    SdistBuilder::hatchling("slowpoke", "1.0")
        .py_module("slowpoke")
        .pkg_info_version("2.1")
        .file("setup.py", setup_py)
        .pyproject_text(
            "[build-system]\nrequires = [\"setuptools>=61\"]\n\
             build-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"slowpoke\"\nversion = \"1.0\"\n",
        )
        .build(&case.dists);
    WheelBuilder::new("top", "1.0")
        .requires("slowpoke")
        .build(&case.dists);
    // `gate` exists nowhere; the resolver learns it (and fails) once the build is running.
    case.index.hold_until_for(
        "/simple/gate/",
        "/started-building",
        Duration::from_secs(120),
    );

    let mut child = case
        .cmd(&["install", "gate", "top"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!(
                "plonk still waits for a build nobody needs; requests: {:#?}",
                case.index.requests()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    assert!(
        case.index.released_by_trigger("/simple/gate/"),
        "the resolution should fail while `slowpoke` builds; requests: {:#?}",
        case.index.requests()
    );
    // The build's process is stopped too.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc_dir = std::path::Path::new("/proc").join(pid.trim());
    let waited = Instant::now();
    while proc_dir.exists() && waited.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !proc_dir.exists(),
        "the build's Python process {pid} is still running"
    );
}
