//! A tolerant `~/.netrc` parser: `machine`, `default`, `login`, `password`, `account`, `macdef`.

use std::path::Path;

/// A login/password pair for one host.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name (may be empty for token-only indexes).
    pub username: String,
    /// Password or token.
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password, even in debug output.
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .finish()
    }
}

/// The parsed entries of a netrc file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    machines: Vec<(String, Credentials)>,
    default: Option<Credentials>,
}

impl Netrc {
    /// Read and parse `path`; a missing file is an empty netrc.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(err),
        }
    }

    /// Parse netrc text. Unknown tokens are skipped so a hand-edited file never stops plonk.
    pub fn parse(text: &str) -> Self {
        let mut tokens = Tokens::new(text);
        let mut netrc = Netrc::default();
        // The entry being filled: `Some(Some(host))` for a machine, `Some(None)` for default.
        let mut current: Option<(Option<String>, Credentials)> = None;
        let finish = |netrc: &mut Netrc, entry: Option<(Option<String>, Credentials)>| {
            if let Some((host, creds)) = entry {
                match host {
                    Some(host) => netrc.machines.push((host, creds)),
                    None => netrc.default = Some(creds),
                }
            }
        };
        let empty = || Credentials {
            username: String::new(),
            password: None,
        };
        while let Some(token) = tokens.next() {
            match token.as_str() {
                "machine" => {
                    finish(&mut netrc, current.take());
                    if let Some(host) = tokens.next() {
                        current = Some((Some(host.to_ascii_lowercase()), empty()));
                    }
                }
                "default" => {
                    finish(&mut netrc, current.take());
                    current = Some((None, empty()));
                }
                "login" => {
                    if let (Some((_, creds)), Some(value)) = (current.as_mut(), tokens.next()) {
                        creds.username = value;
                    }
                }
                "password" => {
                    if let (Some((_, creds)), Some(value)) = (current.as_mut(), tokens.next()) {
                        creds.password = Some(value);
                    }
                }
                "account" => {
                    tokens.next();
                }
                "macdef" => {
                    // A macro body runs until the next empty line.
                    tokens.next();
                    tokens.skip_to_blank_line();
                }
                _ => {}
            }
        }
        finish(&mut netrc, current);
        netrc
    }

    /// Credentials for `host`: its `machine` entry, else the `default` entry.
    pub fn get(&self, host: &str) -> Option<&Credentials> {
        let host = host.to_ascii_lowercase();
        self.machines
            .iter()
            .find(|(machine, _)| *machine == host)
            .map(|(_, creds)| creds)
            .or(self.default.as_ref())
    }
}

/// Whitespace-separated tokens, with `"quoted strings"` and `#` comments at line start.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self { rest: text }
    }

    fn skip_space_and_comments(&mut self) {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with('#') {
                self.rest = self.rest.find('\n').map_or("", |i| &self.rest[i..]);
            } else {
                return;
            }
        }
    }

    fn skip_to_blank_line(&mut self) {
        self.rest = self.rest.find("\n\n").map_or("", |i| &self.rest[i..]);
    }
}

impl Iterator for Tokens<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.skip_space_and_comments();
        if self.rest.is_empty() {
            return None;
        }
        if let Some(quoted) = self.rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        self.rest = &quoted[i + 1..];
                        return Some(value);
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    c => value.push(c),
                }
            }
            // Unterminated quote: take the rest as the value.
            self.rest = "";
            return Some(value);
        }
        let end = self
            .rest
            .find(char::is_whitespace)
            .unwrap_or(self.rest.len());
        let token = self.rest[..end].to_string();
        self.rest = &self.rest[end..];
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, pass: Option<&str>) -> Credentials {
        Credentials {
            username: user.into(),
            password: pass.map(Into::into),
        }
    }

    #[test]
    fn machines_and_default() {
        let netrc = Netrc::parse(
            "# comment\nmachine Example.org login alice password s3cret\n\
             machine other.org\n  login bob\n  account x\n  password \"p w\\\"d\"\n\
             default login anon password guest\n",
        );
        assert_eq!(
            netrc.get("example.org"),
            Some(&creds("alice", Some("s3cret")))
        );
        assert_eq!(netrc.get("OTHER.org"), Some(&creds("bob", Some("p w\"d"))));
        assert_eq!(
            netrc.get("unknown.org"),
            Some(&creds("anon", Some("guest")))
        );
    }

    #[test]
    fn one_line_and_macdef() {
        let netrc = Netrc::parse(
            "machine a.org login u password p macdef init\ncd /\nls\n\nmachine b.org login v password q",
        );
        assert_eq!(netrc.get("a.org"), Some(&creds("u", Some("p"))));
        assert_eq!(netrc.get("b.org"), Some(&creds("v", Some("q"))));
        assert_eq!(netrc.get("c.org"), None);
    }

    #[test]
    fn garbage_and_truncated() {
        let rows = [
            "",
            "   \n\n",
            "machine",
            "machine x.org login",
            "password alone",
            "login x password y",
            "\"unterminated",
            "machine x.org login u password \"unterminated",
            "\u{0}\u{1}garbage ###",
        ];
        for text in rows {
            let netrc = Netrc::parse(text);
            assert_eq!(netrc.get("nowhere.org"), None, "{text:?}");
        }
        let netrc = Netrc::parse("machine x.org login u password \"unterminated");
        assert_eq!(netrc.get("x.org"), Some(&creds("u", Some("unterminated"))));
        let netrc = Netrc::parse("machine x.org login");
        assert_eq!(netrc.get("x.org"), Some(&creds("", None)));
    }

    #[test]
    fn debug_hides_password() {
        let shown = format!("{:?}", creds("u", Some("hunter2")));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = Netrc::from_file(&dir.path().join("nope")).unwrap();
        assert_eq!(netrc, Netrc::default());
    }
}
