//! The terminal side of [`Reporter`]: progress bars on a terminal, plain lines otherwise,
//! silence with `-q`. Results go to stdout, everything else to stderr.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::settings::OutputSettings;
use crate::ops::{ProgressId, ProgressKind, Reporter};

/// Prints for the CLI; shared by reference with operations as their [`Reporter`].
pub struct Printer {
    output: OutputSettings,
    bars: Option<MultiProgress>,
    active: Mutex<HashMap<u64, ProgressBar>>,
    next: AtomicU64,
}

impl Printer {
    /// A printer for these output settings.
    pub fn new(output: OutputSettings) -> Self {
        let bars = output
            .progress
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Printer {
            output,
            bars,
            active: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// The output settings this printer follows.
    pub fn output(&self) -> OutputSettings {
        self.output
    }

    /// A result line on stdout (always printed; results are what the command is for).
    pub fn out(&self, line: &str) {
        let line = printable(&redact_secrets(line));
        self.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        });
    }

    /// A status line on stderr unless `-q`.
    pub fn status(&self, line: &str) {
        if self.output.quiet == 0 {
            self.err(line);
        }
    }

    /// A line on stderr, always (errors).
    pub fn err(&self, line: &str) {
        let line = printable(&redact_secrets(line));
        self.suspend(|| {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        });
    }

    fn suspend(&self, f: impl FnOnce()) {
        match &self.bars {
            Some(bars) => bars.suspend(f),
            None => f(),
        }
    }
}

/// Hides the password of every `scheme://user:password@host` in a line. Everything plonk
/// prints goes through here, so an index URL with credentials never reaches a terminal or a
/// log, whichever layer forgot to redact it.
pub fn redact_secrets(line: &str) -> std::borrow::Cow<'_, str> {
    static CREDENTIALS: std::sync::LazyLock<Option<regex::Regex>> =
        std::sync::LazyLock::new(|| {
            regex::Regex::new(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@\s:]*):[^/@\s]*@").ok()
        });
    match CREDENTIALS.as_ref() {
        Some(re) => re.replace_all(line, "${head}:****@"),
        None => std::borrow::Cow::Borrowed(line),
    }
}

/// Escapes control characters (but newlines and tabs): index descriptions, archive entry names
/// and server messages are data from others and must not drive the user's terminal.
pub fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

impl Reporter for Printer {
    fn warn(&self, message: &str) {
        if self.output.quiet < 2 {
            self.err(&format!("warning: {message}"));
        }
    }

    fn info(&self, message: &str) {
        self.status(message);
    }

    fn detail(&self, message: &str) {
        if self.output.verbose > 0 {
            self.err(message);
        }
    }

    fn start(&self, kind: ProgressKind, label: &str, total: Option<u64>) -> ProgressId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let verb = match kind {
            ProgressKind::Download => "Downloading",
            ProgressKind::Build => "Building",
            ProgressKind::Install => "Installing",
            ProgressKind::Index => "Fetching",
        };
        match &self.bars {
            Some(bars) => {
                let bar = match (kind, total) {
                    (ProgressKind::Download, Some(total)) => {
                        let bar = ProgressBar::new(total);
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{msg:30!} [{bar:30}] {bytes}/{total_bytes}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                        bar
                    }
                    _ => {
                        let bar = ProgressBar::new_spinner();
                        bar.enable_steady_tick(std::time::Duration::from_millis(100));
                        bar
                    }
                };
                bar.set_message(format!("{verb} {label}"));
                let bar = bars.add(bar);
                if let Ok(mut active) = self.active.lock() {
                    active.insert(id, bar);
                }
            }
            None => {
                if self.output.quiet == 0
                    && (self.output.verbose > 0 || kind == ProgressKind::Build)
                {
                    self.err(&format!("{verb} {label}"));
                }
            }
        }
        ProgressId(id)
    }

    fn advance(&self, id: ProgressId, amount: u64) {
        if let Ok(active) = self.active.lock()
            && let Some(bar) = active.get(&id.0)
        {
            bar.inc(amount);
        }
    }

    fn finish(&self, id: ProgressId) {
        if let Ok(mut active) = self.active.lock()
            && let Some(bar) = active.remove(&id.0)
        {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    #[test]
    fn passwords_never_print() {
        let rows = [
            (
                "https://u:secret@host/simple/",
                "https://u:****@host/simple/",
            ),
            (
                "a http://x:y@h:8080/p and https://k:v@j/",
                "a http://x:****@h:8080/p and https://k:****@j/",
            ),
            (
                "git+https://tok:x-oauth@github.com/o/r.git@main",
                "git+https://tok:****@github.com/o/r.git@main",
            ),
            ("https://only-user@host/", "https://only-user@host/"),
            ("no url here", "no url here"),
            ("mailto: a@b", "mailto: a@b"),
        ];
        assert_eq!(
            super::printable("a\u{1b}[2Jb\tc\nd\u{0}"),
            "a\\u{1b}[2Jb\tc\nd\\u{0}"
        );
        for (input, expected) in rows {
            assert_eq!(redact_secrets(input), expected, "{input}");
        }
    }
}
