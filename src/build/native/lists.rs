//! The reference lists hatchling consults while writing metadata, embedded as data files:
//! trove classifiers in `trove_classifiers.sorted_classifiers` order (trove-classifiers
//! 2026.9.21.13) and the SPDX license and exception identifiers of `packaging.licenses`
//! (packaging 26.4). A classifier or license missing from a list makes the project ineligible,
//! so a newer upstream list can only cause a fallback, never a different result.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::pyutil::py_strip;

static CLASSIFIERS: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    include_str!("trove_classifiers.txt")
        .lines()
        .enumerate()
        .map(|(index, line)| (line, index))
        .collect()
});

static LICENSES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    include_str!("spdx_licenses.txt")
        .lines()
        .map(|id| (id.to_lowercase(), id))
        .collect()
});

static EXCEPTIONS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    include_str!("spdx_exceptions.txt")
        .lines()
        .map(|id| (id.to_lowercase(), id))
        .collect()
});

/// hatchling sorts `Private ::` classifiers first and never checks them.
fn is_private(classifier: &str) -> bool {
    classifier.to_lowercase().starts_with("private ::")
}

/// hatchling's `CoreMetadata.classifiers`: de-duplicated, private ones first, the others in
/// the official order. `Err` names the first classifier that cannot be placed.
pub(crate) fn sort_classifiers(classifiers: &[String]) -> Result<Vec<String>, String> {
    let mut unique: Vec<&String> = Vec::new();
    for classifier in classifiers {
        if !unique.contains(&classifier) {
            unique.push(classifier);
        }
    }
    let mut private = Vec::new();
    let mut known = Vec::new();
    for classifier in unique {
        if is_private(classifier) {
            private.push(classifier.clone());
        } else if let Some(index) = CLASSIFIERS.get(classifier.as_str()) {
            known.push((*index, classifier.clone()));
        } else {
            return Err(format!("unknown classifier `{classifier}`"));
        }
    }
    // Private classifiers all sort at -1 from a set, so their order is arbitrary in hatchling.
    if private.len() > 1 {
        return Err("more than one private classifier".to_string());
    }
    known.sort();
    Ok(private
        .into_iter()
        .chain(known.into_iter().map(|(_, c)| c))
        .collect())
}

/// `packaging.licenses.canonicalize_license_expression`.
pub(crate) fn canonicalize_license_expression(raw: &str) -> Result<String, String> {
    let invalid = || Err(format!("invalid license expression `{raw}`"));
    if raw.is_empty() {
        return invalid();
    }
    let padded = raw.replace('(', " ( ").replace(')', " ) ");
    let mut refs: HashMap<String, String> = HashMap::new();
    let mut tokens = Vec::new();
    for token in padded.split(|c: char| super::pyutil::is_py_space(c)) {
        let token = py_strip(token);
        if token.is_empty() {
            continue;
        }
        let lower = token.to_lowercase();
        if lower.starts_with("licenseref-") {
            if !token.is_ascii() {
                return invalid();
            }
            refs.entry(lower.clone())
                .or_insert_with(|| format!("LicenseRef-{}", &token["LicenseRef-".len()..]));
        }
        tokens.push(lower);
    }
    // Syntax: names and operators alternate, parentheses balance.
    let mut depth = 0usize;
    let mut expect_operand = true;
    for token in &tokens {
        match token.as_str() {
            "(" => {
                if !expect_operand || depth >= 200 {
                    return invalid();
                }
                depth += 1;
            }
            ")" => {
                if expect_operand || depth == 0 {
                    return invalid();
                }
                depth -= 1;
            }
            "or" | "and" | "with" => {
                if expect_operand {
                    return invalid();
                }
                expect_operand = true;
            }
            _ => {
                if !expect_operand {
                    return invalid();
                }
                expect_operand = false;
            }
        }
    }
    if expect_operand || depth != 0 {
        return invalid();
    }
    let operator = |t: &str| matches!(t, "or" | "and" | "with" | "(" | ")");
    let mut out: Vec<String> = Vec::new();
    let mut last_license_start = false;
    for (index, token) in tokens.iter().enumerate() {
        if operator(token) {
            if token == "with"
                && (!last_license_start
                    || index + 1 == tokens.len()
                    || operator(&tokens[index + 1]))
            {
                return invalid();
            }
            out.push(token.to_uppercase());
            last_license_start = false;
            continue;
        }
        if out.last().is_some_and(|t| t == "WITH") {
            let Some(id) = EXCEPTIONS.get(token) else {
                return Err(format!("unknown license exception `{token}`"));
            };
            out.push((*id).to_string());
            last_license_start = false;
            continue;
        }
        let (name, suffix) = match token.strip_suffix('+') {
            Some(name) => (name, "+"),
            None => (token.as_str(), ""),
        };
        if let Some(id) = name.strip_prefix("licenseref-") {
            let allowed = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            match refs.get(name) {
                Some(spelled) if suffix.is_empty() && allowed => out.push(spelled.clone()),
                _ => return Err(format!("invalid license reference `{token}`")),
            }
        } else {
            let Some(id) = LICENSES.get(name) else {
                return Err(format!("unknown license `{name}`"));
            };
            out.push(format!("{id}{suffix}"));
        }
        last_license_start = true;
    }
    Ok(out.join(" ").replace("( ", "(").replace(" )", ")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier_order() {
        let input = vec![
            "Programming Language :: Python :: 3.10".to_string(),
            "Development Status :: 5 - Production/Stable".to_string(),
            "Programming Language :: Python :: 3.9".to_string(),
            "Private :: Do Not Upload".to_string(),
            "Development Status :: 5 - Production/Stable".to_string(),
        ];
        assert_eq!(
            sort_classifiers(&input).unwrap(),
            vec![
                "Private :: Do Not Upload",
                "Development Status :: 5 - Production/Stable",
                "Programming Language :: Python :: 3.9",
                "Programming Language :: Python :: 3.10",
            ]
        );
        assert!(sort_classifiers(&["Made Up :: Thing".to_string()]).is_err());
        assert!(
            sort_classifiers(&["Private :: a".to_string(), "Private :: b".to_string()]).is_err()
        );
    }

    #[test]
    fn license_rows() {
        let ok = [
            ("mit", "MIT"),
            ("AGPL-3.0-only", "AGPL-3.0-only"),
            (
                "mit and (apache-2.0 or bsd-2-clause)",
                "MIT AND (Apache-2.0 OR BSD-2-Clause)",
            ),
            (
                "GPL-2.0-or-later WITH classpath-exception-2.0",
                "GPL-2.0-or-later WITH Classpath-exception-2.0",
            ),
            (
                "licenseref-Foo or LicenseRef-foo",
                "LicenseRef-Foo OR LicenseRef-Foo",
            ),
            ("Apache-2.0+", "Apache-2.0+"),
        ];
        for (input, expected) in ok {
            assert_eq!(canonicalize_license_expression(input).unwrap(), expected);
        }
        for bad in [
            "",
            "(mit",
            "mit or",
            "Use-it-after-midnight",
            "mit with",
            "LicenseRef-+",
        ] {
            assert!(canonicalize_license_expression(bad).is_err(), "{bad}");
        }
    }
}
