//! Fuzzes `RECORD` parsing ([`Record::parse`]): no input may panic, and whatever parses must
//! be written back ([`Record::write`]) as text that parses to the same rows, because the
//! installer rewrites RECORD and the uninstaller trusts what it reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plonk::dist::Record;

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    let record = match Record::parse(data) {
        Ok(record) => record,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let text = record.write();
    let again = Record::parse(text.as_bytes())
        .unwrap_or_else(|err| panic!("the written RECORD does not parse: {err}\n{text:?}"));
    assert_eq!(
        again, record,
        "RECORD changed on write and re-parse:\n{text:?}"
    );
    for entry in &record.entries {
        assert!(record.get(&entry.path).is_some());
    }
}
