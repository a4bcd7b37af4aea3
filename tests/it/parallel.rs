//! Work that must happen in parallel with resolution (the [speed] issue), proven without
//! timing: the fake index holds one answer until the request that only parallel work would
//! send has arrived. Run serially, plonk would wait out the hold (and the test fails on
//! `released_by_trigger`), however fast the machine.

use crate::install::{Api, Case, assert_installed};
use crate::support::packages::WheelBuilder;

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
