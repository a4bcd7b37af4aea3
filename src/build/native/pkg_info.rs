//! An sdist's `PKG-INFO` read the way hatchling reads it when it builds a wheel from an sdist:
//! `email.message_from_string` (compat32 headers) turned into `[project]` fields by
//! `project_metadata_from_core_metadata`. hatchling then takes every field listed in
//! `project.dynamic` from here, which is how Tutor (whose dependencies come from a metadata
//! hook) builds from its sdist without running the hook.

use super::pyutil::{py_strip, universal_newlines};
use super::requirement::{MarkerElem, MarkerVar, PyRequirement};

/// The parsed headers and body of a `PKG-INFO` file.
#[derive(Debug, Clone, Default)]
pub(crate) struct PkgInfo {
    /// `(lower-cased name, value)` in file order, values as compat32 returns them.
    headers: Vec<(String, String)>,
    /// The message body (the long description).
    body: String,
}

/// The `[project]` fields hatchling derives from `PKG-INFO` (only those plonk supports).
#[derive(Debug, Clone, Default)]
pub(crate) struct CoreFields {
    /// `Version`.
    pub version: String,
    /// `Summary`.
    pub description: Option<String>,
    /// The body and `Description-Content-Type` (default `text/plain`).
    pub readme: Option<(String, String)>,
    /// `Requires-Python`.
    pub requires_python: Option<String>,
    /// `Keywords`, split on commas.
    pub keywords: Option<Vec<String>>,
    /// `Classifier` lines.
    pub classifiers: Option<Vec<String>>,
    /// `Project-URL` lines as `(label, url)`.
    pub urls: Option<Vec<(String, String)>>,
    /// `Requires-Dist` without an `extra` marker, as `str(Requirement)`.
    pub dependencies: Option<Vec<String>>,
    /// Extras in first-seen order with their requirements (`extra` marker removed).
    pub optional_dependencies: Option<Vec<(String, Vec<String>)>>,
    /// Fields present in `PKG-INFO` that plonk does not take over (`license`, `authors`, ...).
    pub unsupported: Vec<&'static str>,
}

impl PkgInfo {
    /// Parses `PKG-INFO` text (already decoded from UTF-8).
    pub(crate) fn parse(text: &str) -> Self {
        let text = universal_newlines(text);
        let mut headers: Vec<(String, Vec<String>)> = Vec::new();
        let mut rest = text.as_str();
        let mut body = String::new();
        while !rest.is_empty() {
            let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = &rest[..end];
            if line == "\n" {
                rest = &rest[end..];
                body = rest.to_string();
                break;
            }
            if line.starts_with([' ', '\t'])
                && let Some((_, lines)) = headers.last_mut()
            {
                lines.push(line.to_string());
                rest = &rest[end..];
                continue;
            }
            match header_name(line) {
                Some(_) => {
                    headers.push((line.to_string(), Vec::new()));
                    rest = &rest[end..];
                }
                None => {
                    // Not a header: the body starts here (a defect email tolerates).
                    body = rest.to_string();
                    break;
                }
            }
        }
        let headers = headers
            .into_iter()
            .map(|(first, continuation)| {
                let (name, value) = first.split_once(':').unwrap_or((first.as_str(), ""));
                let mut value = value.trim_start_matches([' ', '\t']).to_string();
                for line in continuation {
                    value.push_str(&line);
                }
                let value = value.trim_end_matches(['\r', '\n']).to_string();
                (name.to_lowercase(), value)
            })
            .collect();
        Self { headers, body }
    }

    /// `message.get(name)`: the first value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `message.get_all(name)`: every value, `None` when absent.
    pub(crate) fn get_all(&self, name: &str) -> Option<Vec<&str>> {
        let name = name.to_lowercase();
        let all: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if all.is_empty() { None } else { Some(all) }
    }

    /// `project_metadata_from_core_metadata`, for the fields plonk can take over. `Err` when
    /// hatchling would fail or the values use something plonk does not reproduce.
    pub(crate) fn core_fields(&self) -> Result<CoreFields, String> {
        let mut fields = CoreFields::default();
        if self.get("Name").is_none_or(str::is_empty) {
            return Err("PKG-INFO has no `Name`".to_string());
        }
        let Some(version) = self.get("Version").filter(|v| !v.is_empty()) else {
            return Err("PKG-INFO has no `Version`".to_string());
        };
        let single_line = |field: &str, value: &str| {
            if value.contains('\n') {
                Err(format!("PKG-INFO field `{field}` spans several lines"))
            } else {
                Ok(())
            }
        };
        single_line("Version", version)?;
        fields.version = version.to_string();
        if !self.body.is_empty() {
            let content_type = self
                .get("Description-Content-Type")
                .unwrap_or("text/plain")
                .to_string();
            fields.readme = Some((content_type, self.body.clone()));
        }
        if self.get("License-Expression").is_some() || self.get("License").is_some() {
            fields.unsupported.push("license");
        }
        if self.get("License-File").is_some() {
            fields.unsupported.push("license-files");
        }
        if self.get("Author").is_some() || self.get("Author-email").is_some() {
            fields.unsupported.push("authors");
        }
        if self.get("Maintainer").is_some() || self.get("Maintainer-email").is_some() {
            fields.unsupported.push("maintainers");
        }
        if self.get("Import-Name").is_some() {
            fields.unsupported.push("import-names");
        }
        if self.get("Import-Namespace").is_some() {
            fields.unsupported.push("import-namespaces");
        }
        if let Some(summary) = self.get("Summary") {
            fields.description = Some(summary.to_string());
        }
        if let Some(keywords) = self.get("Keywords") {
            fields.keywords = Some(keywords.split(',').map(str::to_string).collect());
        }
        if let Some(classifiers) = self.get_all("Classifier") {
            fields.classifiers = Some(classifiers.iter().map(|c| c.to_string()).collect());
        }
        if let Some(urls) = self.get_all("Project-URL") {
            let mut out = Vec::new();
            for url in urls {
                let Some((label, url)) = url.split_once(',') else {
                    return Err(format!("PKG-INFO `Project-URL: {url}` has no comma"));
                };
                out.push((py_strip(label).to_string(), py_strip(url).to_string()));
            }
            fields.urls = Some(out);
        }
        if let Some(requires_python) = self.get("Requires-Python") {
            single_line("Requires-Python", requires_python)?;
            fields.requires_python = Some(requires_python.to_string());
        }
        let mut optional: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(extras) = self.get_all("Provides-Extra") {
            for extra in extras {
                if !optional.iter().any(|(name, _)| name == extra) {
                    optional.push((extra.to_string(), Vec::new()));
                }
            }
        }
        if let Some(requirements) = self.get_all("Requires-Dist") {
            let mut dependencies = Vec::new();
            for line in requirements {
                single_line("Requires-Dist", line)?;
                let mut req = PyRequirement::parse(line)?;
                match take_extra(&mut req)? {
                    Some(extra) => {
                        let text = req.packaging_str()?;
                        match optional.iter_mut().find(|(name, _)| *name == extra) {
                            Some((_, list)) => list.push(text),
                            None => optional.push((extra, vec![text])),
                        }
                    }
                    None => dependencies.push(req.packaging_str()?),
                }
            }
            fields.dependencies = Some(dependencies);
        }
        if !optional.is_empty() {
            fields.optional_dependencies = Some(optional);
        }
        Ok(fields)
    }
}

/// compat32's header test: `From ` or printable ASCII without `:` then `:`.
fn header_name(line: &str) -> Option<&str> {
    let colon = line.find(':')?;
    let name = &line[..colon];
    name.bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b':')
        .then_some(name)
}

/// Removes the first top-level `extra == "…"` comparison like hatchling does and returns the
/// extra. The comparison must not be the first of several (hatchling would then produce an
/// unparsable requirement).
fn take_extra(req: &mut PyRequirement) -> Result<Option<String>, String> {
    let Some(markers) = req.marker.as_mut() else {
        return Ok(None);
    };
    let value = |var: &MarkerVar| match var {
        MarkerVar::Variable(v) | MarkerVar::Value(v) => v.clone(),
    };
    let found = markers.iter().enumerate().find_map(|(i, elem)| match elem {
        MarkerElem::Item(lhs, _, rhs) if value(lhs) == "extra" => Some((i, value(rhs))),
        _ => None,
    });
    let Some((index, extra)) = found else {
        return Ok(None);
    };
    markers.remove(index);
    if markers.is_empty() {
        req.marker = None;
    } else if index == 0 {
        return Err("a PKG-INFO requirement starts its marker with `extra`".to_string());
    } else {
        markers.remove(index - 1);
    }
    Ok(Some(extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TUTOR: &str = "Metadata-Version: 2.5\nName: tutor\nVersion: 22.0.3\n\
Summary: The Docker-based Open edX distribution\nProject-URL: Homepage, https://docs.tutor.edly.io/\n\
Project-URL: Source ,  https://github.com/overhangio/tutor \nAuthor: Edly\nLicense: AGPL-3.0-only\n\
Classifier: Programming Language :: Python\nRequires-Python: >=3.10\nRequires-Dist: appdirs\n\
Requires-Dist: click>=8.4\nProvides-Extra: dev\nRequires-Dist: altgraph==0.17.5; extra == 'dev'\n\
Requires-Dist: foo; (python_version < '3.11') and extra == 'dev'\nProvides-Extra: full\n\
Requires-Dist: tutor-mfe<23.0.0,>=22.0.0; extra == 'full'\nDescription-Content-Type: text/x-rst\n\
\nTutor\n=====\n\nLong text.\n";

    #[test]
    fn tutor_fields() {
        let info = PkgInfo::parse(TUTOR);
        let fields = info.core_fields().unwrap();
        assert_eq!(fields.version, "22.0.3");
        assert_eq!(
            fields.dependencies.unwrap(),
            vec!["appdirs".to_string(), "click>=8.4".to_string()]
        );
        let optional = fields.optional_dependencies.unwrap();
        assert_eq!(optional[0].0, "dev");
        assert_eq!(
            optional[0].1,
            vec![
                "altgraph==0.17.5".to_string(),
                "foo; python_version < \"3.11\"".to_string()
            ]
        );
        assert_eq!(optional[1].1, vec!["tutor-mfe<23.0.0,>=22.0.0".to_string()]);
        assert_eq!(
            fields.urls.unwrap()[1],
            (
                "Source".to_string(),
                "https://github.com/overhangio/tutor".to_string()
            )
        );
        let (content_type, body) = fields.readme.unwrap();
        assert_eq!(content_type, "text/x-rst");
        assert_eq!(body, "Tutor\n=====\n\nLong text.\n");
        assert!(fields.unsupported.contains(&"license"));
        assert!(fields.unsupported.contains(&"authors"));
    }

    #[test]
    fn folding_and_garbage() {
        let info = PkgInfo::parse("Name: a\r\nVersion: 1\r\nSummary: one\r\n  two\r\n\r\nbody");
        assert_eq!(info.get("summary"), Some("one\n  two"));
        assert_eq!(info.get("VERSION"), Some("1"));
        assert!(info.core_fields().is_ok());
        // Missing required fields and hostile values are refused.
        assert!(PkgInfo::parse("Version: 1\n").core_fields().is_err());
        assert!(PkgInfo::parse("Name: a\n").core_fields().is_err());
        assert!(PkgInfo::parse("").core_fields().is_err());
        assert!(PkgInfo::parse("\u{0}\u{1}garbage").core_fields().is_err());
        assert!(
            PkgInfo::parse("Name: a\nVersion: 1\nProject-URL: nocomma\n")
                .core_fields()
                .is_err()
        );
        assert!(
            PkgInfo::parse("Name: a\nVersion: 1\nRequires-Dist: ../evil\n")
                .core_fields()
                .is_err()
        );
        assert!(
            PkgInfo::parse(
                "Name: a\nVersion: 1\nRequires-Dist: b; extra == 'x' and os_name == 'nt'\n"
            )
            .core_fields()
            .is_err()
        );
        // A truncated file: headers only.
        let truncated = PkgInfo::parse("Name: a\nVersion: 1\nRequires-Di");
        assert_eq!(truncated.get("Version"), Some("1"));
    }
}
