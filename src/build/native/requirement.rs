//! Dependency specifiers parsed and printed the way `packaging` 26 and hatchling do, so that
//! `Requires-Dist` lines come out byte-identical: hatchling's `normalize_requirement` (PEP 503
//! name, lower-cased specifiers, normalized extras) and `format_dependency` (`str()` with `'`
//! instead of `"`), including `packaging`'s marker tree and its parenthesization rules.
//!
//! Anything outside what is implemented here is an error, which makes the project ineligible
//! for a native build rather than risking a different string.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use super::pyutil::normalize_project_name;

/// One operand of a marker comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkerVar {
    /// An environment marker name (`python_version`), after alias folding.
    Variable(String),
    /// A quoted string, without its quotes.
    Value(String),
}

/// An element of `packaging`'s marker list: a comparison, a parenthesized group, or a
/// boolean operator between two atoms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkerElem {
    /// `lhs op rhs`.
    Item(MarkerVar, String, MarkerVar),
    /// A parenthesized marker.
    Group(Vec<MarkerElem>),
    /// `and`.
    And,
    /// `or`.
    Or,
}

/// A parsed dependency specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PyRequirement {
    /// The name as written (normalized by [`PyRequirement::normalize`]).
    pub name: String,
    /// The extras in written order (packaging treats them as a set).
    pub extras: Vec<String>,
    /// Each specifier as `operator` + `version` text, in input order.
    pub specifiers: Vec<String>,
    /// The direct URL after `@`.
    pub url: Option<String>,
    /// The marker list after `;`.
    pub marker: Option<Vec<MarkerElem>>,
}

/// packaging's `Specifier._regex` (greedy instead of possessive; specifier lists are
/// printable ASCII, so the ASCII-only groups need no special care).
static SPECIFIER: LazyLock<Regex> = LazyLock::new(|| {
    let pre = r"(?:[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*)?";
    let post = r"(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?";
    let dev = r"(?:[-_\.]?dev[-_\.]?[0-9]*)?";
    let local = r"(?:\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*)?";
    let release = r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*";
    let release2 = r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+";
    let pattern = format!(
        r"(?i)^\s*(?:(?:===\s*[^\s;)]+)|(?:(?:==|!=)\s*{release}(?:\.\*|{pre}{post}{dev}{local})?)|(?:~=\s*{release2}{pre}{post}{dev})|(?:(?:<=|>=|<|>)\s*{release}{pre}{post}{dev}))\s*$"
    );
    Regex::new(&pattern).unwrap_or_else(|err| unreachable!("static regex: {err}"))
});

/// The marker variable names packaging's tokenizer accepts.
const VARIABLES: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "os.name",
    "sys_platform",
    "sys.platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform.version",
    "platform_machine",
    "platform.machine",
    "platform_python_implementation",
    "platform.python_implementation",
    "python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    "extras",
    "dependency_groups",
];

const OPERATORS: &[&str] = &["===", "==", "~=", "!=", "<=", ">=", "<", ">"];

/// Python's `\w` for the word-boundary checks of packaging's tokenizer.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn ws(&mut self) -> bool {
        let len = self.rest().len() - self.rest().trim_start_matches([' ', '\t']).len();
        self.pos += len;
        len > 0
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// `\bword\b` at the current position.
    fn eat_word(&mut self, word: &str) -> bool {
        if !self.rest().starts_with(word) {
            return false;
        }
        let before_ok = self.text[..self.pos]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c));
        let after_ok = self.text[self.pos + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// `\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b`.
    fn identifier(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        if !rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return None;
        }
        let run = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(rest.len());
        let ident = rest[..run].trim_end_matches(['.', '-']);
        // A word character right after the identifier (non-ASCII letters) would move the
        // word boundary; such names are not supported.
        if rest[ident.len()..].starts_with(|c: char| is_word(c) && !c.is_ascii()) {
            return None;
        }
        self.pos += ident.len();
        Some(ident)
    }
}

impl PyRequirement {
    /// Parses a dependency specifier like `packaging.requirements.Requirement`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let fail = |why: &str| Err(format!("`{text}`: {why}"));
        let mut cur = Cursor {
            text,
            pos: 0,
            depth: 0,
        };
        cur.ws();
        let Some(name) = cur.identifier() else {
            return fail("expected a package name");
        };
        cur.ws();
        let mut extras = Vec::new();
        if cur.eat("[") {
            cur.ws();
            if let Some(first) = cur.identifier() {
                extras.push(first.to_string());
                loop {
                    cur.ws();
                    if !cur.eat(",") {
                        break;
                    }
                    cur.ws();
                    match cur.identifier() {
                        Some(extra) => extras.push(extra.to_string()),
                        None => return fail("expected an extra name after a comma"),
                    };
                }
            }
            cur.ws();
            if !cur.eat("]") {
                return fail("expected `]` after the extras");
            }
            cur.ws();
        }
        let mut specifiers = Vec::new();
        let mut url = None;
        let mut marker = None;
        if cur.eat("@") {
            cur.ws();
            let rest = cur.rest();
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if len == 0 {
                return fail("expected a URL after `@`");
            }
            url = Some(rest[..len].to_string());
            cur.pos += len;
            if !cur.at_end() {
                if !cur.ws() {
                    return fail("expected whitespace after the URL");
                }
                if !cur.at_end() {
                    if !cur.eat(";") {
                        return fail("expected `;` after the URL");
                    }
                    marker = Some(parse_marker(&mut cur)?);
                }
            }
        } else {
            let parenthesized = cur.eat("(");
            let rest = cur.rest();
            let len = rest
                .find(|c: char| !(c == '\t' || (' '..='~').contains(&c)) || c == ';' || c == ')')
                .unwrap_or(rest.len());
            let list = &rest[..len];
            cur.pos += len;
            specifiers = parse_specifier_list(list).map_err(|why| format!("`{text}`: {why}"))?;
            if parenthesized {
                if !cur.eat(")") {
                    return fail("expected `)` after the version specifier");
                }
                cur.ws();
            }
            if !cur.at_end() {
                if !cur.eat(";") {
                    return fail("expected `;` or the end after the version specifier");
                }
                marker = Some(parse_marker(&mut cur)?);
            }
        }
        if !cur.at_end() {
            return fail("unexpected text at the end");
        }
        Ok(Self {
            name: name.to_string(),
            extras,
            specifiers,
            url,
            marker,
        })
    }

    /// hatchling's `normalize_requirement`.
    pub(crate) fn normalize(&mut self) {
        self.name = normalize_project_name(&self.name);
        self.specifiers = self
            .specifiers
            .iter()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>();
        self.extras = self
            .extras
            .iter()
            .map(|e| normalize_project_name(e))
            .collect();
    }

    /// `str(Requirement)` of packaging 26.
    pub(crate) fn packaging_str(&self) -> Result<String, String> {
        let mut out = self.name.clone();
        if !self.extras.is_empty() {
            let extras: BTreeSet<&String> = self.extras.iter().collect();
            out.push('[');
            out.push_str(&extras.into_iter().cloned().collect::<Vec<_>>().join(","));
            out.push(']');
        }
        let specs: BTreeSet<&String> = self.specifiers.iter().collect();
        out.push_str(&specs.into_iter().cloned().collect::<Vec<_>>().join(","));
        if let Some(url) = &self.url {
            out.push_str(" @ ");
            out.push_str(url);
            if self.marker.is_some() {
                out.push(' ');
            }
        }
        if let Some(marker) = &self.marker {
            out.push_str("; ");
            out.push_str(&format_marker_list(marker, true)?);
        }
        Ok(out)
    }

    /// hatchling's `format_dependency`: `str()` with every `"` turned into `'`.
    pub(crate) fn format_dependency(&self) -> Result<String, String> {
        Ok(self.packaging_str()?.replace('"', "'"))
    }
}

/// A specifier list (`>=1, <2`): empty items are skipped, only one trailing comma allowed.
fn parse_specifier_list(list: &str) -> Result<Vec<String>, String> {
    let trimmed = list.trim_matches([' ', '\t']);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<&str> = list.split(',').map(str::trim).collect();
    let non_empty: Vec<&str> = items.iter().copied().filter(|s| !s.is_empty()).collect();
    let commas = items.len() - 1;
    let trailing_comma_only = non_empty.len() == commas && trimmed.ends_with(',');
    if non_empty.len() != commas + 1 && !trailing_comma_only {
        return Err(format!("invalid version specifier list `{list}`"));
    }
    non_empty
        .into_iter()
        .map(|item| {
            if !SPECIFIER.is_match(item) {
                return Err(format!("invalid version specifier `{item}`"));
            }
            let (op, version) = split_specifier(item);
            if op != "===" && pep440_rs::VersionSpecifier::from_str(item).is_err() {
                return Err(format!("invalid version specifier `{item}`"));
            }
            Ok(format!("{op}{}", version.trim()))
        })
        .collect()
}

/// `Specifier.__init__`'s operator / version split of a stripped item.
fn split_specifier(item: &str) -> (&str, &str) {
    let len = if item.starts_with("===") {
        3
    } else if ["~=", "==", "!=", "<=", ">="]
        .iter()
        .any(|op| item.starts_with(op))
    {
        2
    } else {
        1
    };
    (&item[..len], &item[len..])
}

/// `_parse_marker`: `atom (BOOLOP atom)*`.
fn parse_marker(cur: &mut Cursor<'_>) -> Result<Vec<MarkerElem>, String> {
    let mut list = vec![parse_marker_atom(cur)?];
    loop {
        if cur.eat_word("or") {
            list.push(MarkerElem::Or);
        } else if cur.eat_word("and") {
            list.push(MarkerElem::And);
        } else {
            break;
        }
        list.push(parse_marker_atom(cur)?);
    }
    Ok(list)
}

fn parse_marker_atom(cur: &mut Cursor<'_>) -> Result<MarkerElem, String> {
    cur.ws();
    let atom = if cur.eat("(") {
        if cur.depth >= 200 {
            return Err(format!("`{}`: the marker is nested too deeply", cur.text));
        }
        cur.depth += 1;
        let inner = parse_marker(cur)?;
        cur.depth -= 1;
        if !cur.eat(")") {
            return Err(format!("`{}`: expected `)` in the marker", cur.text));
        }
        MarkerElem::Group(inner)
    } else {
        let lhs = parse_marker_var(cur)?;
        cur.ws();
        let op = parse_marker_op(cur)?;
        cur.ws();
        let rhs = parse_marker_var(cur)?;
        normalize_extra_item(lhs, op, rhs)
    };
    cur.ws();
    Ok(atom)
}

fn parse_marker_var(cur: &mut Cursor<'_>) -> Result<MarkerVar, String> {
    for name in VARIABLES {
        if cur.eat_word(name) {
            let name = name.replace('.', "_");
            let name = if name == "python_implementation" {
                "platform_python_implementation".to_string()
            } else {
                name
            };
            return Ok(MarkerVar::Variable(name));
        }
    }
    let rest = cur.rest();
    if let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"')
        && let Some(end) = rest[1..].find(quote)
    {
        let value = &rest[1..1 + end];
        // Backslashes go through `ast.literal_eval` in packaging; line breaks and NUL fail.
        if value.contains(['\\', '\n', '\r', '\0']) {
            return Err(format!(
                "`{}`: unsupported marker string {value:?}",
                cur.text
            ));
        }
        cur.pos += end + 2;
        return Ok(MarkerVar::Value(value.to_string()));
    }
    Err(format!(
        "`{}`: expected a marker variable or quoted string",
        cur.text
    ))
}

fn parse_marker_op(cur: &mut Cursor<'_>) -> Result<String, String> {
    if cur.eat_word("in") {
        return Ok("in".to_string());
    }
    if cur.eat_word("not") {
        if !cur.ws() || !cur.eat_word("in") {
            return Err(format!("`{}`: expected `in` after `not`", cur.text));
        }
        return Ok("not in".to_string());
    }
    for op in OPERATORS {
        if cur.eat(op) {
            return Ok((*op).to_string());
        }
    }
    Err(format!("`{}`: expected a marker operator", cur.text))
}

/// packaging's `_normalize_extras` for one comparison.
fn normalize_extra_item(lhs: MarkerVar, op: String, rhs: MarkerVar) -> MarkerElem {
    let canon = |v: &str| normalize_project_name(v);
    match (lhs, rhs) {
        (MarkerVar::Variable(var), MarkerVar::Value(value)) if var == "extra" => MarkerElem::Item(
            MarkerVar::Variable(var),
            op,
            MarkerVar::Value(canon(&value)),
        ),
        (MarkerVar::Value(value), MarkerVar::Variable(var))
            if var == "extra" || var == "extras" || var == "dependency_groups" =>
        {
            MarkerElem::Item(
                MarkerVar::Value(canon(&value)),
                op,
                MarkerVar::Variable(var),
            )
        }
        (lhs, rhs) => MarkerElem::Item(lhs, op, rhs),
    }
}

fn serialize_var(var: &MarkerVar) -> Result<String, String> {
    match var {
        MarkerVar::Variable(name) => Ok(name.clone()),
        MarkerVar::Value(value) if !value.contains('"') => Ok(format!("\"{value}\"")),
        MarkerVar::Value(value) if !value.contains('\'') => Ok(format!("'{value}'")),
        MarkerVar::Value(value) => Err(format!("the marker value {value:?} has both quotes")),
    }
}

/// packaging's `_format_marker` for one element.
fn format_marker_elem(elem: &MarkerElem, first: bool) -> Result<String, String> {
    match elem {
        MarkerElem::Item(lhs, op, rhs) => Ok(format!(
            "{} {op} {}",
            serialize_var(lhs)?,
            serialize_var(rhs)?
        )),
        MarkerElem::And => Ok("and".to_string()),
        MarkerElem::Or => Ok("or".to_string()),
        MarkerElem::Group(list) => format_marker_list(list, first),
    }
}

/// packaging's `_format_marker` for a list: a redundant single-element wrapper is dropped,
/// nested groups get parentheses.
pub(crate) fn format_marker_list(list: &[MarkerElem], first: bool) -> Result<String, String> {
    if let [only @ (MarkerElem::Item(..) | MarkerElem::Group(_))] = list {
        return format_marker_elem(only, first);
    }
    let inner = list
        .iter()
        .map(|elem| format_marker_elem(elem, false))
        .collect::<Result<Vec<_>, _>>()?
        .join(" ");
    Ok(if first { inner } else { format!("({inner})") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hatchling(text: &str) -> Result<String, String> {
        let mut req = PyRequirement::parse(text)?;
        req.normalize();
        req.format_dependency()
    }

    #[test]
    fn formatting_rows_match_hatchling() {
        // Expected strings produced by hatchling 1.33 with packaging 26.4.
        let rows = [
            ("tutor>=22.0.0,<23.0.0", "tutor<23.0.0,>=22.0.0"),
            (
                "Tutor[Dev, Full]  >= 22.0.0 , < 23.0.0",
                "tutor[dev,full]<23.0.0,>=22.0.0",
            ),
            ("click_repl", "click-repl"),
            ("foo==1.0.*", "foo==1.0.*"),
            ("foo~=1.0", "foo~=1.0"),
            ("foo===weird", "foo===weird"),
            ("foo>=1.0RC1", "foo>=1.0rc1"),
            ("foo>=1.0-rc1", "foo>=1.0-rc1"),
            ("foo; python_version<\"3.8\"", "foo; python_version < '3.8'"),
            (
                "foo; python_version<'3.8' and (os_name==\"nt\" or sys_platform == \"win32\")",
                "foo; python_version < '3.8' and (os_name == 'nt' or sys_platform == 'win32')",
            ),
            (
                "foo; (python_version < \"3.8\")",
                "foo; python_version < '3.8'",
            ),
            (
                "foo; ((python_version < \"3.8\"))",
                "foo; python_version < '3.8'",
            ),
            (
                "foo; \"3.8\" > python_version",
                "foo; '3.8' > python_version",
            ),
            ("foo; extra==\"Dev_X\"", "foo; extra == 'dev-x'"),
            ("foo; os.name == \"nt\"", "foo; os_name == 'nt'"),
            (
                "foo; platform.python_implementation == \"CPython\"",
                "foo; platform_python_implementation == 'CPython'",
            ),
            (
                "foo @ https://example.com/foo.tar.gz",
                "foo @ https://example.com/foo.tar.gz",
            ),
            (
                "foo @ https://example.com/foo.tar.gz ; python_version<\"3\"",
                "foo @ https://example.com/foo.tar.gz ; python_version < '3'",
            ),
            (
                "foo[bar] @ git+https://github.com/x/y@main",
                "foo[bar] @ git+https://github.com/x/y@main",
            ),
            ("foo>=1,!=1.5,<2,>0.5", "foo!=1.5,<2,>0.5,>=1"),
            ("foo (>=1.0)", "foo>=1.0"),
            (
                "foo; python_version in \"3.8 3.9\"",
                "foo; python_version in '3.8 3.9'",
            ),
            (
                "foo; python_version not in '3.8'",
                "foo; python_version not in '3.8'",
            ),
            ("foo<=1!2.0", "foo<=1!2.0"),
            (
                "foo; python_version < \"3.8\" or python_version > \"3.10\" and os_name == \"nt\"",
                "foo; python_version < '3.8' or python_version > '3.10' and os_name == 'nt'",
            ),
            (
                "foo; platform_release == 'x'",
                "foo; platform_release == 'x'",
            ),
            ("foo>=1,>=1", "foo>=1"),
            (
                "foo; python_version<\"3\"and os_name==\"nt\"",
                "foo; python_version < '3' and os_name == 'nt'",
            ),
        ];
        for (input, expected) in rows {
            assert_eq!(hatchling(input).as_deref(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn nested_groups_keep_parentheses() {
        let req = PyRequirement::parse(
            "a; os_name == 'x' and ((python_version < '3' or os_name == 'y'))",
        )
        .unwrap();
        assert_eq!(
            req.packaging_str().unwrap(),
            "a; os_name == \"x\" and (python_version < \"3\" or os_name == \"y\")"
        );
    }

    #[test]
    fn garbage_and_hostile_rows() {
        let bad = [
            "",
            "   ",
            "-foo",
            "foo>=1.0+LOCAL",
            "foo>=",
            "foo;",
            "foo; python_version",
            "foo; python_version < '3",
            "foo; unknown_var == '1'",
            "foo; python_version < '3\\n'",
            "foo[bar",
            "foo (>=1.0",
            "foo @",
            "foo @ url junk",
            "foo>=1,,<2",
            "foo bar",
            "../evil",
            "foo; os_name == 'a' and",
        ];
        for text in bad {
            assert!(PyRequirement::parse(text).is_err(), "{text:?}");
        }
    }
}
