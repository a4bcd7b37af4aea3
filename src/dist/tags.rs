//! Supported platform tags of an interpreter and how well a wheel matches them.

use std::collections::HashMap;

use super::WheelFilename;

/// The ordered list of `(python, abi, platform)` tags an interpreter supports, most preferred
/// first (the order `packaging.tags.sys_tags()` yields).
#[derive(Debug, Clone, Default)]
pub struct Tags {
    ordered: Vec<(String, String, String)>,
    rank: HashMap<(String, String, String), usize>,
}

impl Tags {
    /// Build from the interpreter's tags, most preferred first; later duplicates are ignored.
    pub fn new(tags: Vec<(String, String, String)>) -> Self {
        let mut rank = HashMap::with_capacity(tags.len());
        for (i, t) in tags.iter().enumerate() {
            rank.entry(t.clone()).or_insert(i);
        }
        Tags {
            ordered: tags,
            rank,
        }
    }

    /// The tags in preference order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, String, String)> {
        self.ordered.iter()
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    /// Whether there is no tag (nothing is compatible).
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// The rank of the best tag of `wheel` in this list (lower is better), or `None` when the
    /// wheel supports none of them.
    pub fn compatibility(&self, wheel: &WheelFilename) -> Option<usize> {
        let mut best: Option<usize> = None;
        // Avoid allocating a key per triple when the map is empty.
        if self.rank.is_empty() {
            return None;
        }
        for (py, abi, plat) in wheel.tag_triples() {
            let key = (py.to_string(), abi.to_string(), plat.to_string());
            if let Some(&r) = self.rank.get(&key) {
                best = Some(best.map_or(r, |b| b.min(r)));
            }
        }
        best
    }

    /// Whether `wheel` can be installed at all.
    pub fn is_compatible(&self, wheel: &WheelFilename) -> bool {
        self.compatibility(wheel).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn t(py: &str, abi: &str, plat: &str) -> (String, String, String) {
        (py.into(), abi.into(), plat.into())
    }

    #[test]
    fn ranks() {
        let tags = Tags::new(vec![
            t("cp311", "cp311", "manylinux_2_17_x86_64"),
            t("cp311", "abi3", "manylinux_2_17_x86_64"),
            t("py3", "none", "manylinux_2_17_x86_64"),
            t("cp311", "none", "any"),
            t("py3", "none", "any"),
            t("py2", "none", "any"),
        ]);
        let w = |s: &str| WheelFilename::from_str(s).unwrap();
        assert_eq!(tags.compatibility(&w("a-1-py3-none-any.whl")), Some(4));
        assert_eq!(tags.compatibility(&w("a-1-py2.py3-none-any.whl")), Some(4));
        assert_eq!(
            tags.compatibility(&w(
                "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            )),
            Some(0)
        );
        assert_eq!(
            tags.compatibility(&w("a-1-cp311-abi3-manylinux_2_17_x86_64.whl")),
            Some(1)
        );
        assert_eq!(
            tags.compatibility(&w("a-1-cp312-cp312-win_amd64.whl")),
            None
        );
        assert!(!tags.is_compatible(&w("a-1-py3-none-win32.whl")));
        assert_eq!(
            Tags::default().compatibility(&w("a-1-py3-none-any.whl")),
            None
        );
    }
}
