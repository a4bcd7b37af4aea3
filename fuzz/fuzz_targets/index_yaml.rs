//! Fuzzes plugin index files ([`parse_index`], `plugins.yml`) and the index cache
//! ([`parse_cache`], `cache.yml`). Index files come from the network, so no input may panic;
//! and the cache plonk writes ([`merge`] then [`render_cache`]) must read back as the same
//! entries, since Tutor and later plonk runs trust it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plonk::index::{ParsedIndex, merge, parse_cache, parse_index, render_cache};

const INDEX: &str = "https://fuzz.example/tutor/main/redwood/plugins.yml";
const CACHE: &str = "/fuzz/env/plugins/index/cache.yml";

fn exercise(parsed: &ParsedIndex) {
    for entry in &parsed.entries {
        let _ = (entry.description_text(), entry.short_description());
        let _ = entry.matches("Tutor");
        let _ = entry.to_map();
        if let Err(err) = entry.source() {
            let _ = err.to_string();
        }
    }
    for skipped in &parsed.skipped {
        let _ = skipped.to_string();
    }
}

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    // Lossy, as a fetched index is decoded before parsing.
    let text = String::from_utf8_lossy(data);
    match parse_cache(&text, CACHE) {
        Ok(parsed) => exercise(&parsed),
        Err(err) => {
            let _ = err.to_string();
        }
    }
    let parsed = match parse_index(&text, INDEX) {
        Ok(parsed) => parsed,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    exercise(&parsed);
    let merged = merge(parsed.entries);
    let written = render_cache(&merged);
    let again = parse_cache(&written, CACHE)
        .unwrap_or_else(|err| panic!("the written cache does not parse: {err}\n{written}"));
    assert!(
        again.skipped.is_empty(),
        "the written cache lost entries: {:?}\n{written}",
        again.skipped
    );
    assert_eq!(
        again.entries, merged,
        "the cache changed on write and re-read:\n{written}"
    );
}
