//! `RedactedUrl`: the only way a URL reaches `Display`, so passwords never get printed.

use std::fmt;

use url::Url;

/// A URL whose `Display`/`Debug` hide the password (`user:****@host`).
///
/// Every error and log line that names a URL goes through this type.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedUrl(Url);

impl RedactedUrl {
    /// Wrap a URL.
    pub fn new(url: &Url) -> Self {
        Self(url.clone())
    }

    /// The URL itself, credentials included (never print this).
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl From<Url> for RedactedUrl {
    fn from(url: Url) -> Self {
        Self(url)
    }
}

impl From<&Url> for RedactedUrl {
    fn from(url: &Url) -> Self {
        Self(url.clone())
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.password().is_none() {
            return f.write_str(self.0.as_str());
        }
        let mut shown = self.0.clone();
        // Setting a password only fails on URLs that cannot carry one, and this one does.
        if shown.set_password(Some("****")).is_err() {
            return f.write_str("<url with hidden credentials>");
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_password_only() {
        let rows = [
            (
                "https://u:secret@example.org/simple/",
                "https://u:****@example.org/simple/",
            ),
            ("https://u@example.org/x", "https://u@example.org/x"),
            ("https://example.org/x?y=1", "https://example.org/x?y=1"),
            ("https://:tok@example.org/", "https://:****@example.org/"),
            ("file:///tmp/a%20b", "file:///tmp/a%20b"),
        ];
        for (input, shown) in rows {
            let url = Url::parse(input).unwrap();
            let redacted = RedactedUrl::new(&url);
            assert_eq!(redacted.to_string(), shown, "{input}");
            assert!(!format!("{redacted:?}").contains("secret"));
        }
    }
}
