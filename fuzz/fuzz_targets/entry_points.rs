//! Fuzzes `entry_points.txt` parsing ([`EntryPoints::parse`]): no input may panic, the
//! accessors of every entry point must cope with any value, and whatever parses must be
//! written back ([`EntryPoints::write`]) as text that parses to the same groups.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plonk::dist::EntryPoints;

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    let entry_points = match EntryPoints::parse(data) {
        Ok(entry_points) => entry_points,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    for (group, entries) in &entry_points.groups {
        assert_eq!(entry_points.group(group).len(), entries.len());
        for entry in entries {
            let _ = (entry.module(), entry.attr(), entry.extras());
            let _ = entry.is_valid_reference();
        }
    }
    let text = entry_points.write();
    let again = EntryPoints::parse(text.as_bytes()).unwrap_or_else(|err| {
        panic!("the written entry_points.txt does not parse: {err}\n{text:?}")
    });
    assert_eq!(
        again, entry_points,
        "entry_points.txt changed on write and re-parse:\n{text:?}"
    );
}
