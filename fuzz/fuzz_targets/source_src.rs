//! Fuzzes plugin sources: the `src` of an index entry ([`Source::parse`]), requirements files
//! ([`parse_requirements_file`]) and credential redaction ([`redact`]). Index data is
//! untrusted, so no `src` may panic, in parsing, in the accessors ops calls on the result, or
//! in rendering the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plonk::source::{Source, SourceError, parse_requirements_file, redact};

fn exercise(parsed: Result<Source, SourceError>) {
    match parsed {
        Ok(source) => {
            let _ = source.distribution_names();
            if let Source::SingleFile(single) = &source {
                let _ = (single.base_name(), single.file_name(), single.plugin_name());
                let _ = single.location.to_string();
            }
        }
        Err(err) => {
            let mut cause: Option<&dyn std::error::Error> = Some(&err);
            while let Some(err) = cause {
                let _ = err.to_string();
                cause = err.source();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| plonk_fuzz::run(|| check(data)));

fn check(data: &[u8]) {
    // Lossy, so that nearly every input reaches the grammar (sources are text by then).
    let text = String::from_utf8_lossy(data);
    exercise(Source::parse(&text));
    exercise(parse_requirements_file(&text, "requirements.txt"));
    let _ = redact(&text);
}
