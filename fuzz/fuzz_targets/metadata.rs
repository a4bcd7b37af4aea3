//! Fuzzes core metadata parsing ([`Metadata::parse`], for `METADATA` and `PKG-INFO`): no input
//! may panic, including the errors' messages and what callers do with a parsed result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plonk::dist::Metadata;

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    match Metadata::parse(data) {
        Ok(metadata) => {
            let _ = metadata.is_dynamic("Requires-Dist");
            let _ = metadata.name.to_string();
            let _ = metadata.version.to_string();
            for requirement in &metadata.requires_dist {
                let _ = requirement.to_string();
            }
            if let Some(requires_python) = &metadata.requires_python {
                let _ = requires_python.to_string();
            }
        }
        Err(err) => {
            let mut source: Option<&dyn std::error::Error> = Some(&err);
            while let Some(err) = source {
                let _ = err.to_string();
                source = err.source();
            }
        }
    }
}
