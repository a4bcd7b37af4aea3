//! Fuzzes distribution filename parsing: [`WheelFilename`] (`FromStr`), [`SdistFilename::parse`]
//! and [`DistFilename::parse`]. No input may panic, and a parsed filename must print
//! (`Display`) as a filename that parses to the same value, because plonk names files in its
//! cache and mirror from the parsed form.
//!
//! Input: `FILENAME`, or `EXPECTED-NAME\nFILENAME` to exercise the expected-name split of
//! legacy sdist names (`foo-bar-1.0.tar.gz`).
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use plonk::dist::{DistFilename, PackageName, SdistFilename, WheelFilename};

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expected, filename) = match text.split_once('\n') {
        Some((expected, filename)) => (PackageName::from_str(expected).ok(), filename),
        None => (None, text),
    };

    if let Ok(wheel) = WheelFilename::from_str(filename) {
        let _ = (
            wheel.dist_info_dir(),
            wheel.data_dir(),
            wheel.is_universal(),
        );
        assert!(wheel.tag_triples().count() >= 1);
        let shown = wheel.to_string();
        let again = WheelFilename::from_str(&shown)
            .unwrap_or_else(|err| panic!("`{shown}` (from `{filename}`) does not parse: {err}"));
        assert_eq!(again, wheel, "`{filename}` printed as `{shown}`");
    }

    for expected in [None, expected.as_ref()] {
        if let Ok(sdist) = SdistFilename::parse(filename, expected) {
            let shown = sdist.to_string();
            let again = SdistFilename::parse(&shown, Some(&sdist.name)).unwrap_or_else(|err| {
                panic!("`{shown}` (from `{filename}`) does not parse: {err}")
            });
            assert_eq!(again, sdist, "`{filename}` printed as `{shown}`");
        }
        match DistFilename::parse(filename, expected) {
            Ok(dist) => {
                if let Some(expected) = expected {
                    assert_eq!(dist.name(), expected);
                }
                let _ = (dist.version(), dist.is_wheel());
                let shown = dist.to_string();
                let again = DistFilename::parse(&shown, Some(dist.name())).unwrap_or_else(|err| {
                    panic!("`{shown}` (from `{filename}`) does not parse: {err}")
                });
                assert_eq!(again, dist, "`{filename}` printed as `{shown}`");
            }
            Err(err) => {
                let _ = err.to_string();
            }
        }
    }
}
