//! The seam between operations and the terminal: operations report what they do through
//! [`Reporter`]; the CLI decides whether that becomes bars, plain lines or nothing.

/// What kind of work a progress item tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressKind {
    /// A download, counted in bytes.
    Download,
    /// A build of an sdist, git checkout or single file.
    Build,
    /// Installing into the environment.
    Install,
    /// Fetching a plugin index.
    Index,
}

/// Handle of one progress item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProgressId(pub u64);

/// Receives progress and messages from operations.
pub trait Reporter: Send + Sync {
    /// Something the user should know about but that does not stop the operation.
    fn warn(&self, message: &str);
    /// A status line (hidden with `-q`).
    fn info(&self, message: &str);
    /// A detail line (shown with `-v`).
    fn detail(&self, message: &str);
    /// Starts a progress item; `total` is a byte count for downloads.
    fn start(&self, kind: ProgressKind, label: &str, total: Option<u64>) -> ProgressId;
    /// Advances a progress item.
    fn advance(&self, id: ProgressId, amount: u64);
    /// Ends a progress item.
    fn finish(&self, id: ProgressId);
}

/// A reporter that drops everything (tests, nested operations).
#[derive(Debug, Default, Clone, Copy)]
pub struct SilentReporter;

impl Reporter for SilentReporter {
    fn warn(&self, _: &str) {}
    fn info(&self, _: &str) {}
    fn detail(&self, _: &str) {}
    fn start(&self, _: ProgressKind, _: &str, _: Option<u64>) -> ProgressId {
        ProgressId(0)
    }
    fn advance(&self, _: ProgressId, _: u64) {}
    fn finish(&self, _: ProgressId) {}
}
