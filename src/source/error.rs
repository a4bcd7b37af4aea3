//! Errors of `src` parsing: each names the offending text (credentials hidden) and the form
//! that was expected.

/// The message of a lower-level parser (PEP 508, URL), kept as the cause of a [`SourceError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCause(pub String);

impl std::fmt::Display for ParseCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseCause {}

/// A plugin source (`src` of an index entry, a requirements file, a command-line target)
/// that plonk cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Nothing but blank lines and comments.
    #[error(
        "the source is empty (expected a requirement such as `tutor-mfe>=18,<19`, a git URL or a plugin file)"
    )]
    Empty,
    /// A line that is not a PEP 508 requirement.
    #[error(
        "`{line}` is not a valid requirement (expected e.g. `tutor-mfe>=18,<19` or `name @ https://…`)"
    )]
    Requirement {
        /// The line.
        line: String,
        /// The PEP 508 parser's explanation.
        #[source]
        cause: ParseCause,
    },
    /// A bare URL or path where a named requirement is needed.
    #[error("`{line}` has no package name: write it as `NAME @ {line}`")]
    Nameless {
        /// The line.
        line: String,
    },
    /// An option other than the index options and `-e git+…`.
    #[error(
        "option `{option}` is not supported in a plugin source (only --index-url, --extra-index-url, --find-links and -e git+URL are)"
    )]
    UnsupportedOption {
        /// The option as written.
        option: String,
    },
    /// An option that needs a value and has none.
    #[error("option `{option}` needs a value")]
    MissingValue {
        /// The option as written.
        option: String,
    },
    /// An index URL that does not parse.
    #[error("`{value}` given to `{option}` is not a URL or an absolute folder")]
    BadUrl {
        /// The option.
        option: String,
        /// The value.
        value: String,
        /// Why it does not parse.
        #[source]
        cause: url::ParseError,
    },
    /// A git URL that cannot be used.
    #[error(
        "`{text}` is not a usable git source: {problem} (expected `git+https://host/repo@REF#egg=NAME`)"
    )]
    Git {
        /// The URL as written.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Mercurial, Subversion, Bazaar.
    #[error("`{line}` uses a version control system other than git, which plonk does not support")]
    UnsupportedVcs {
        /// The line.
        line: String,
    },
    /// `-e ./folder` and other editable local projects.
    #[error(
        "`{line}` is an editable local project, which plonk does not install; use `NAME @ file:///absolute/path` instead"
    )]
    EditableLocal {
        /// The line.
        line: String,
    },
    /// `${VAR}` in an index entry: expanding it would leak the user's environment to a URL.
    #[error(
        "`{line}` uses an environment variable (`${{…}}`), which plonk does not expand in plugin index entries"
    )]
    EnvironmentVariable {
        /// The line.
        line: String,
    },
    /// An error inside a requirements file, located.
    #[error("line {line_number} of `{origin}` is not usable")]
    InFile {
        /// The file (or other origin) being parsed.
        origin: String,
        /// 1-based line number (of the first physical line of a continued line).
        line_number: usize,
        /// What is wrong with the line.
        #[source]
        source: Box<SourceError>,
    },
}
