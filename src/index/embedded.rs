//! The official `main` index of every release plonk knows, compiled into the binary: the
//! fallback when there is no index cache and no configured index can be fetched.

use super::IndexError;
use super::entry::{ParsedIndex, parse_index};
use super::location::{MAIN_INDEX, index_file_location};

/// `(release, plugins.yml)` of the official `main` index.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "olive",
        include_str!("../../fixtures/tpi/main/olive/plugins.yml"),
    ),
    (
        "palm",
        include_str!("../../fixtures/tpi/main/palm/plugins.yml"),
    ),
    (
        "quince",
        include_str!("../../fixtures/tpi/main/quince/plugins.yml"),
    ),
    (
        "redwood",
        include_str!("../../fixtures/tpi/main/redwood/plugins.yml"),
    ),
    (
        "sumac",
        include_str!("../../fixtures/tpi/main/sumac/plugins.yml"),
    ),
    (
        "teak",
        include_str!("../../fixtures/tpi/main/teak/plugins.yml"),
    ),
    (
        "ulmo",
        include_str!("../../fixtures/tpi/main/ulmo/plugins.yml"),
    ),
    (
        "verawood",
        include_str!("../../fixtures/tpi/main/verawood/plugins.yml"),
    ),
    (
        "main",
        include_str!("../../fixtures/tpi/main/main/plugins.yml"),
    ),
];

/// The releases with a built-in index.
pub fn embedded_releases() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(release, _)| *release)
}

/// The text of the built-in `main` index of `release`.
pub fn embedded_index_text(release: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(r, _)| *r == release)
        .map(|(_, text)| *text)
}

/// The built-in `main` index of `release`, its entries carrying the official index URL (the
/// file they are a copy of).
pub fn embedded_index(release: &str) -> Option<Result<ParsedIndex, IndexError>> {
    let text = embedded_index_text(release)?;
    let location = index_file_location(MAIN_INDEX, release);
    Some(parse_index(text, &location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_index_parses_cleanly() {
        for release in embedded_releases() {
            let parsed = embedded_index(release).unwrap().unwrap();
            assert!(parsed.skipped.is_empty(), "{release}");
            assert!(parsed.entries.len() >= 5, "{release}");
            for e in &parsed.entries {
                assert_eq!(
                    e.index,
                    format!("https://overhang.io/tutor/main/{release}/plugins.yml")
                );
                e.source().unwrap();
            }
            assert!(parsed.entries.iter().any(|e| e.name == "mfe"), "{release}");
        }
        assert!(embedded_index("nutmeg").is_none());
    }
}
