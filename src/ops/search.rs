//! `plonk search [PATTERN]`: index entries whose name or description contains the pattern
//! (case-insensitive), with their status in the environment.

use crate::index::PluginEntry;
use crate::ops::list::{Discovery, PluginStatus};

/// One result of `plonk search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRow {
    /// The plugin name.
    pub name: String,
    /// Its status in the environment.
    pub status: PluginStatus,
    /// The short description (first line, at most 128 characters).
    pub short_description: String,
    /// The whole description, stripped.
    pub description: String,
    /// The index file it came from.
    pub index: String,
    /// Its `src`.
    pub src: String,
}

/// The entries matching `pattern` (all of them for an empty pattern), in cache order (by name).
pub fn search(entries: &[PluginEntry], pattern: &str, discovery: &Discovery) -> Vec<SearchRow> {
    entries
        .iter()
        .filter(|e| e.matches(pattern))
        .map(|e| SearchRow {
            name: e.name.clone(),
            status: discovery.status_of_entry(e),
            short_description: e.short_description(),
            description: e.description_text().to_string(),
            index: e.index.clone(),
            src: e.src.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_name_and_description() {
        let text = "- name: MFE\n  src: tutor-mfe\n  description: |\n    Micro Frontends\n    More\n- name: notes\n  src: tutor-notes\n  description: Student notes\n";
        let entries = crate::index::merge(
            crate::index::parse_index(text, "i/redwood/plugins.yml")
                .unwrap()
                .entries,
        );
        let d = Discovery::default();
        let names = |p: &str| {
            search(&entries, p, &d)
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(""), vec!["mfe", "notes"]);
        assert_eq!(names("FRONT"), vec!["mfe"]);
        assert_eq!(names("Note"), vec!["notes"]);
        assert!(names("zzz").is_empty());
        let row = &search(&entries, "mfe", &d)[0];
        assert_eq!(row.short_description, "Micro Frontends");
        assert_eq!(row.description, "Micro Frontends\nMore");
        assert_eq!(row.status, PluginStatus::NotInstalled);
    }
}
