//! `pathspec.GitIgnoreSpec` as hatchling uses it for `include`, `exclude`, `artifacts` and
//! `.gitignore` patterns: the same pattern-to-regex translation (pathspec 1.x) and the same
//! "last file match wins, directory matches rank lower" evaluation of its default backend.

use regex::Regex;

use super::pyutil::py_rstrip;

/// The regex group pathspec uses to tell directory matches from file matches.
const DIR_MARK: &str = "ps_d";
const DIR_MARK_CG: &str = "(?P<ps_d>/)";
const DIR_MARK_OPT: &str = "(?:(?P<ps_d>/)|$)";

/// One compiled, non-null pattern.
#[derive(Debug)]
struct Pattern {
    regex: Regex,
    include: bool,
}

/// A compiled list of gitignore patterns.
#[derive(Debug, Default)]
pub(crate) struct GitIgnoreSpec {
    patterns: Vec<Pattern>,
}

/// Why a pattern list cannot be used: pathspec (and so hatchling) would raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError(pub String);

impl GitIgnoreSpec {
    /// Compiles `lines` in order (blank lines, comments and invalid ranges are no-ops).
    pub(crate) fn from_lines<S: AsRef<str>>(lines: &[S]) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for line in lines {
            if let Some((regex, include)) = pattern_to_regex(line.as_ref())? {
                let regex = Regex::new(&regex)
                    .map_err(|err| PatternError(format!("pattern {:?}: {err}", line.as_ref())))?;
                patterns.push(Pattern { regex, include });
            }
        }
        Ok(Self { patterns })
    }

    /// `GitIgnoreSpec.match_file(path)`: whether the path is selected.
    pub(crate) fn match_file(&self, path: &str) -> bool {
        let file = if let Some(rest) = path.strip_prefix('/') {
            rest
        } else if let Some(rest) = path.strip_prefix("./") {
            rest
        } else {
            path
        };
        // The default (simple) backend walks the patterns backwards: the last pattern that
        // matches as a file decides; a directory match only counts if no file match follows.
        let mut out_include = None;
        let mut out_priority = 0;
        for pattern in self.patterns.iter().rev() {
            let Some(captures) = pattern.regex.captures(file) else {
                continue;
            };
            let dir_mark = captures
                .name(DIR_MARK)
                .is_some_and(|m| !m.as_str().is_empty());
            let priority = if dir_mark { 1 } else { 2 };
            if priority > out_priority {
                out_include = Some(pattern.include);
                out_priority = priority;
            }
            if priority == 2 {
                break;
            }
        }
        out_include == Some(true)
    }
}

/// `GitIgnoreSpecPattern.pattern_to_regex`: `None` for a no-op line, else the regex and
/// whether it includes (`true`) or, negated with `!`, excludes.
fn pattern_to_regex(raw: &str) -> Result<Option<(String, bool)>, PatternError> {
    let pattern = if raw.ends_with("\\ ") {
        raw
    } else {
        py_rstrip(raw)
    };
    if pattern.is_empty() || pattern.starts_with('#') || pattern == "/" {
        return Ok(None);
    }
    let (include, pattern) = match pattern.strip_prefix('!') {
        Some(rest) => (false, rest),
        None => (true, pattern),
    };
    let mut segs: Vec<String> = pattern.split('/').map(str::to_string).collect();
    let is_dir_pattern = segs.last().is_some_and(String::is_empty);

    if segs[0].is_empty() {
        segs.remove(0);
    } else if (segs.len() == 1 || (segs.len() == 2 && segs[1].is_empty())) && segs[0] != "**" {
        segs.insert(0, "**".to_string());
    }
    if segs.is_empty() {
        return Err(PatternError(format!("invalid git pattern {raw:?}")));
    }
    if let Some(last) = segs.last_mut()
        && last.is_empty()
    {
        *last = "**".to_string();
    }
    let mut i = segs.len() - 1;
    while i > 0 {
        if segs[i - 1] == "**" && segs[i] == "**" {
            segs.remove(i);
        }
        i -= 1;
    }
    let count = segs.len();
    let star = |i: usize, s: &str| segs.get(i).is_some_and(|seg| seg == s);
    if count == 1 && star(0, "**") {
        let regex = if is_dir_pattern { DIR_MARK_CG } else { "." };
        return Ok(Some((regex.to_string(), include)));
    }
    if count == 2 && star(0, "**") && star(1, "*") {
        return Ok(Some((".".to_string(), include)));
    }
    if count == 3 && star(0, "**") && star(1, "*") && star(2, "**") {
        let regex = if is_dir_pattern { DIR_MARK_CG } else { "/" };
        return Ok(Some((regex.to_string(), include)));
    }

    let mut out = String::new();
    let mut need_slash = false;
    let end = count - 1;
    for (i, seg) in segs.iter().enumerate() {
        if seg == "**" {
            if i == 0 {
                out.push_str("^(?:.+/)?");
            } else if i < end {
                out.push_str("(?:/.+)?");
                need_slash = true;
            } else if is_dir_pattern {
                out.push_str(DIR_MARK_CG);
            } else {
                out.push('/');
            }
            continue;
        }
        if i == 0 {
            out.push('^');
        }
        if need_slash {
            out.push('/');
        }
        if seg == "*" {
            out.push_str("[^/]+");
        } else {
            match translate_segment_glob(seg) {
                Ok(regex) => out.push_str(&regex),
                // Git discards patterns with invalid range notation.
                Err(GlobError::Range) => return Ok(None),
                Err(GlobError::Escape) => {
                    return Err(PatternError(format!(
                        "the git pattern {raw:?} ends with an escape character"
                    )));
                }
                Err(GlobError::BadRange) => {
                    return Err(PatternError(format!(
                        "the git pattern {raw:?} has a reversed character range"
                    )));
                }
            }
        }
        if i == end {
            out.push_str(DIR_MARK_OPT);
        }
        need_slash = true;
    }
    Ok(Some((out, include)))
}

enum GlobError {
    /// `[` without a closing `]`.
    Range,
    /// A trailing `\`.
    Escape,
    /// `[z-a]`: Python's `re` refuses it.
    BadRange,
}

/// A literal character in the regex syntax of the `regex` crate.
fn literal(c: char) -> String {
    if c.is_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:x}}}", c as u32)
    }
}

/// `_translate_segment_glob(pattern, "raise")`, producing `regex`-crate syntax with the
/// meaning Python's `re` gives pathspec's output.
fn translate_segment_glob(pattern: &str) -> Result<String, GlobError> {
    let chars: Vec<char> = pattern.chars().collect();
    let end = chars.len();
    let mut regex = String::new();
    let mut escape = false;
    let mut i = 0;
    while i < end {
        let c = chars[i];
        i += 1;
        if escape {
            escape = false;
            regex.push_str(&literal(c));
        } else if c == '\\' {
            escape = true;
        } else if c == '*' {
            regex.push_str("[^/]*");
        } else if c == '?' {
            regex.push_str("[^/]");
        } else if c == '[' {
            let mut j = i;
            if j < end && (chars[j] == '!' || chars[j] == '^') {
                j += 1;
            }
            if j < end && chars[j] == ']' {
                j += 1;
            }
            while j < end && chars[j] != ']' {
                j += 1;
            }
            if j >= end {
                return Err(GlobError::Range);
            }
            j += 1;
            let mut class = String::from("[");
            if chars[i] == '!' || chars[i] == '^' {
                class.push('^');
                i += 1;
            }
            // pathspec passes `pattern[i:j]` (backslashes doubled, so all literal) to
            // Python's `re`, which reads it as single characters and `a-b` ranges; a `]` in
            // first position is literal, a `-` first or last is literal.
            let content = &chars[i..j - 1];
            let mut k = 0;
            while k < content.len() {
                let lo = content[k];
                if content.get(k + 1) == Some(&'-') && k + 2 < content.len() {
                    let hi = content[k + 2];
                    if hi < lo {
                        return Err(GlobError::BadRange);
                    }
                    class.push_str(&literal(lo));
                    class.push('-');
                    class.push_str(&literal(hi));
                    k += 3;
                } else {
                    class.push_str(&literal(lo));
                    k += 1;
                }
            }
            class.push(']');
            regex.push_str(&class);
            i = j;
        } else {
            regex.push_str(&literal(c));
        }
    }
    if escape {
        return Err(GlobError::Escape);
    }
    Ok(regex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lines: &[&str]) -> GitIgnoreSpec {
        GitIgnoreSpec::from_lines(lines).unwrap()
    }

    #[test]
    fn matching_rows() {
        // (patterns, path, expected) checked against pathspec 1.1.1.
        let rows: &[(&[&str], &str, bool)] = &[
            (&["*.py[cdo]"], "pkg/a.pyc", true),
            (&["*.py[cdo]"], "pkg/a.py", false),
            (&["/dist"], "dist/a.whl", true),
            (&["/dist"], "pkg/dist/a", false),
            (&["TODO"], "pkg/TODO", true),
            (&["TODO"], "pkg/TODO/x.py", true),
            (&["__pycache__"], "a/__pycache__/b.pyc", true),
            (&["*.egg-info/"], "a.egg-info/PKG-INFO", true),
            (&["*.egg-info/"], "a.egg-info", false),
            (&["/build/"], "build/x", true),
            (&["/build/"], "src/build/x", false),
            (&[".*.swp", "!.gitignore"], ".gitignore", false),
            (&[".*.swp"], "pkg/.x.swp", true),
            (&["/pkg/"], "pkg/a.py", true),
            (&["/pkg/"], "pkga/a.py", false),
            (&["pkg/sub"], "pkg/sub/a", true),
            (&["pkg/sub"], "x/pkg/sub/a", false),
            (&["a/**/b"], "a/x/y/b", true),
            (&["a/**/b"], "a/b", true),
            (&["**/x"], "q/x", true),
            (&["*"], "anything/at/all", true),
            (&["*/"], "top", false),
            (&["*/"], "d/f", true),
            (&["**"], "f", true),
            (&["*.txt", "!keep.txt"], "keep.txt", false),
            (&["*.txt", "!keep.txt"], "other.txt", true),
            (&["dir/", "!dir/keep"], "dir/keep", false),
            (&["dir/", "!dir/keep"], "dir/other", true),
            (&["[ab].py"], "b.py", true),
            (&["[!ab].py"], "b.py", false),
            (&["[!ab].py"], "c.py", true),
            (&["a?c"], "abc", true),
            (&["a?c"], "a/c", false),
            (&["\\#x"], "#x", true),
            (&["#x"], "#x", false),
            (&["[unclosed"], "[unclosed", false),
            (&["a\\*b"], "a*b", true),
            (&["a\\*b"], "axb", false),
            (&["*~"], "pkg/file~", true),
        ];
        for (patterns, path, expected) in rows {
            assert_eq!(
                spec(patterns).match_file(path),
                *expected,
                "{patterns:?} {path}"
            );
        }
    }

    #[test]
    fn lines_with_newlines_and_invalid() {
        let s = spec(&["foo\n", "\n", "# comment\n", "/\n"]);
        assert!(s.match_file("foo"));
        assert!(!s.match_file("bar"));
        assert!(GitIgnoreSpec::from_lines(&["trailing\\"]).is_err());
        assert!(GitIgnoreSpec::from_lines(&["[z-a]"]).is_err());
        assert!(!spec(&[]).match_file("x"));
    }
}
