//! Parsing PEP 508 requirement lines through one gate. pep508_rs 0.9.2 (the newest release)
//! panics on some inputs our fuzzer found: a name or extra ending in `-`, `_` or `.` followed
//! by more text (`a-<1`, `a[b-]`), non-ASCII text after a marker, and errors whose message
//! panics when printed. Requirement lines come from users, index files and package metadata,
//! so every parse goes through [`parse_requirement`], which refuses those shapes with a
//! sentence before the parser sees them.

use std::str::FromStr;

use pep508_rs::Requirement;

/// A requirement line that is not valid PEP 508 (or that plonk refuses to hand to the parser).
#[derive(Debug, thiserror::Error)]
pub enum RequirementError {
    /// A shape the parser cannot handle safely; the sentence says what is wrong.
    #[error("`{text}` is not a valid requirement: {reason}")]
    Refused {
        /// The line (escaped for printing).
        text: String,
        /// Why.
        reason: &'static str,
    },
    /// The PEP 508 parser's own explanation.
    #[error("`{text}` is not a valid requirement: {message}")]
    Invalid {
        /// The line.
        text: String,
        /// The parser's message.
        message: String,
    },
}

/// Parses one PEP 508 requirement, never panicking on any input.
pub fn parse_requirement(text: &str) -> Result<Requirement, RequirementError> {
    if let Some(reason) = refused_shape(text) {
        return Err(RequirementError::Refused {
            text: text.escape_debug().to_string(),
            reason,
        });
    }
    Requirement::from_str(text).map_err(|err| RequirementError::Invalid {
        text: text.to_string(),
        message: err.message.to_string(),
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// The input shapes that make pep508_rs 0.9.2 panic (see the module docs).
fn refused_shape(text: &str) -> Option<&'static str> {
    if !text.is_ascii() {
        return Some("requirement lines must be ASCII (percent-encode URLs)");
    }
    let t = text.trim_start();
    let n = t.find(|c: char| !is_name_char(c)).unwrap_or(t.len());
    if n < t.len() && t[..n].ends_with(['.', '_', '-']) {
        return Some("a package name cannot end with `-`, `_` or `.`");
    }
    if let Some(inner) = t[n..].trim_start().strip_prefix('[') {
        let inner = inner.split(']').next().unwrap_or(inner);
        if inner
            .split(|c: char| !is_name_char(c))
            .any(|run| run.ends_with(['.', '_', '-']))
        {
            return Some("an extra name cannot end with `-`, `_` or `.`");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_lines_parse() {
        for text in [
            "tutor>=22,<23",
            "tutor-mfe[dev]>=22; python_version >= '3.9'",
            "a.b_c-d==1.0",
            "name @ https://example.com/x-1.0-py3-none-any.whl",
            "x[a,b]",
        ] {
            assert!(parse_requirement(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn fuzzer_panics_are_errors() {
        // Inputs from fuzz/regressions: each made pep508_rs 0.9.2 panic.
        for text in [
            "tutor-x-<1",
            "a-<1",
            "tutor-x[a-]",
            "a[b-]",
            "tutor-x; os_name == 'x'é",
            "2;\"\">\"\"蒺\0\0",
        ] {
            let err = parse_requirement(text).unwrap_err();
            // Printing the error must not panic either.
            assert!(err.to_string().contains("not a valid requirement"), "{err}");
        }
    }

    #[test]
    fn garbage_is_an_error() {
        for text in ["", ">=1", "a >>= 1", "a @", "[x]"] {
            assert!(parse_requirement(text).is_err(), "{text}");
        }
    }
}
