//! `entry_points.txt`: INI-style `[group]` sections of `name = module:attr [extras]` lines,
//! read the way `importlib.metadata` reads them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::DistError;

/// One entry point: `name = value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryPoint {
    /// The name (left of `=`), e.g. a console script name or a Tutor plugin name.
    pub name: String,
    /// The object reference, `module[:attr] [extras]`.
    pub value: String,
}

impl EntryPoint {
    /// The module part of the value (`a.b` in `a.b:c.d [x]`).
    pub fn module(&self) -> &str {
        let v = self.value_without_extras();
        v.split_once(':').map_or(v, |(m, _)| m).trim()
    }

    /// The attribute part of the value (`c.d` in `a.b:c.d [x]`), if any.
    pub fn attr(&self) -> Option<&str> {
        self.value_without_extras()
            .split_once(':')
            .map(|(_, a)| a.trim())
            .filter(|a| !a.is_empty())
    }

    /// The extras in brackets, if any.
    pub fn extras(&self) -> Vec<&str> {
        match (self.value.find('['), self.value.rfind(']')) {
            (Some(start), Some(end)) if start < end => self.value[start + 1..end]
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn value_without_extras(&self) -> &str {
        self.value
            .split_once('[')
            .map_or(self.value.as_str(), |(v, _)| v)
            .trim()
    }

    /// Whether module and attribute are dotted Python identifiers, so that a launcher script
    /// that imports them cannot inject code.
    pub fn is_valid_reference(&self) -> bool {
        let ident_path = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|part| {
                    let mut chars = part.chars();
                    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                        && chars.all(|c| c.is_alphanumeric() || c == '_')
                })
        };
        let has_colon = self.value_without_extras().contains(':');
        ident_path(self.module())
            && match self.attr() {
                Some(attr) => ident_path(attr),
                None => !has_colon,
            }
    }
}

/// A parsed `entry_points.txt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryPoints {
    /// Group name → entry points in file order.
    pub groups: BTreeMap<String, Vec<EntryPoint>>,
}

impl EntryPoints {
    /// Parse `entry_points.txt`. Lines starting with `#` or `;` are comments.
    pub fn parse(bytes: &[u8]) -> Result<Self, DistError> {
        let text = std::str::from_utf8(bytes).map_err(|e| DistError::InvalidEntryPoints {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            reason: "it is not valid UTF-8".to_string(),
        })?;
        let mut groups: BTreeMap<String, Vec<EntryPoint>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| DistError::InvalidEntryPoints {
                        line: line_no,
                        reason: format!("`{line}` is not a `[group]` header"),
                    })?;
                groups.entry(name.to_string()).or_default();
                current = Some(name.to_string());
                continue;
            }
            let group = current
                .as_ref()
                .ok_or_else(|| DistError::InvalidEntryPoints {
                    line: line_no,
                    reason: format!("`{line}` comes before any `[group]` header"),
                })?;
            let (name, value) = line
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .ok_or_else(|| DistError::InvalidEntryPoints {
                    line: line_no,
                    reason: format!("`{line}` is not `name = module:attr`"),
                })?;
            groups.entry(group.clone()).or_default().push(EntryPoint {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
        Ok(EntryPoints { groups })
    }

    /// Render as `entry_points.txt`.
    pub fn write(&self) -> String {
        let mut out = String::new();
        for (i, (group, entries)) in self.groups.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "[{group}]");
            for e in entries {
                let _ = writeln!(out, "{} = {}", e.name, e.value);
            }
        }
        out
    }

    /// The entry points of `group` (empty when absent).
    pub fn group(&self, group: &str) -> &[EntryPoint] {
        self.groups.get(group).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_valid() {
        let text = "# comment\n[console_scripts]\nfoo = foo.cli:main\nbar=bar:run [extra1, extra2]\n\n; other\n[tutor.plugin.v1]\nmfe = tutormfe.plugin\n[empty]\n";
        let eps = EntryPoints::parse(text.as_bytes()).unwrap();
        let cs = eps.group("console_scripts");
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].module(), "foo.cli");
        assert_eq!(cs[0].attr(), Some("main"));
        assert!(cs[0].is_valid_reference());
        assert_eq!(cs[1].name, "bar");
        assert_eq!(cs[1].attr(), Some("run"));
        assert_eq!(cs[1].extras(), ["extra1", "extra2"]);
        let p = eps.group("tutor.plugin.v1");
        assert_eq!(p[0].module(), "tutormfe.plugin");
        assert_eq!(p[0].attr(), None);
        assert!(eps.group("empty").is_empty());
        assert!(eps.group("missing").is_empty());
        assert_eq!(EntryPoints::parse(eps.write().as_bytes()).unwrap(), eps);
    }

    #[test]
    fn parse_garbage() {
        for bad in [
            "foo = bar:baz\n",
            "[group\nfoo = x\n",
            "[]\n",
            "[g]\nno equals sign\n",
            "[g]\n= value\n",
            "[g]\nname =\n",
        ] {
            assert!(EntryPoints::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(EntryPoints::parse(b"[g]\nx = \xff\n").is_err());
    }

    #[test]
    fn hostile_references() {
        for value in [
            "os; import shutil:rmtree",
            "foo:bar(); x",
            "../foo:bar",
            "foo:",
            ":bar",
        ] {
            let ep = EntryPoint {
                name: "x".into(),
                value: value.into(),
            };
            assert!(!ep.is_valid_reference(), "{value}");
        }
    }
}
