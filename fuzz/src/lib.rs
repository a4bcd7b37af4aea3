//! Helpers shared by the fuzz targets: tolerating panics of dependencies that are known,
//! reported and not plonk's to fix, so that a run goes on finding new problems.
//!
//! Every tolerated panic is listed in [`KNOWN_PANICS`], with a regression input under
//! `fuzz/regressions/`. `PLONK_FUZZ_STRICT=1` turns the list off, so that those inputs crash
//! again (to check whether a fix in plonk or a new release of the dependency removed them).

use std::panic::{self, PanicHookInfo, UnwindSafe};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// A panic inside a dependency that a fuzz target may tolerate.
pub struct KnownPanic {
    /// Path fragment of the source file that panics.
    pub file: &'static str,
    /// Text the panic message contains.
    pub message: &'static str,
    /// Why it is tolerated, and where it is written up.
    pub note: &'static str,
}

/// The panics tolerated unless `PLONK_FUZZ_STRICT=1`.
pub const KNOWN_PANICS: &[KnownPanic] = &[
    KnownPanic {
        // `Requirement::from_str("a-<1")` (a name ending in `-`, `_` or `.` followed by more
        // text) and `Requirement::from_str("a[b-]")` (same for an extra) hit an `expect` in
        // the PEP 508 parser instead of returning an error. Fixed upstream (konstin/pep508_rs
        // PR 24) but not in a release; plonk must guard its callers. Inputs: regressions/.
        file: "pep508_rs-0.9.2/src/lib.rs",
        message: "validation should match PEP 508 parsing",
        note: "pep508_rs 0.9.2 panics on a name or extra ending in `-`, `_` or `.` (fuzz/README.md)",
    },
    KnownPanic {
        // Non-ASCII text after a complete marker: the parser uses a character count as a byte
        // length, and slices inside a character, while parsing
        // (`Requirement::from_str("a; os_name == 'x'é")`, cursor.rs) or while formatting the
        // error it returned (`Requirement::from_str("b;\"\">\"\"蒺\0\0")` then `to_string()`,
        // lib.rs). Fixed in uv's fork of the parser (astral-sh/uv PR 19780), not in pep508_rs.
        file: "pep508_rs-0.9.2/src/",
        message: "is not a char boundary",
        note: "pep508_rs 0.9.2 panics on non-ASCII text after a marker (fuzz/README.md)",
    },
];

static INSTALL: Once = Once::new();
static TOLERATED: AtomicBool = AtomicBool::new(false);

fn strict() -> bool {
    std::env::var_os("PLONK_FUZZ_STRICT").is_some_and(|v| v != "0" && !v.is_empty())
}

fn known(info: &PanicHookInfo<'_>) -> Option<&'static KnownPanic> {
    let file = info.location()?.file();
    let message = info.payload_as_str()?;
    KNOWN_PANICS
        .iter()
        .find(|k| file.contains(k.file) && message.contains(k.message))
}

/// Runs one fuzz input. A panic listed in [`KNOWN_PANICS`] is caught (and mentioned once on
/// stderr); any other panic goes to libFuzzer's hook, which aborts and records the input.
pub fn run(f: impl FnOnce() + UnwindSafe) {
    INSTALL.call_once(|| {
        if strict() {
            return;
        }
        // libFuzzer's hook (installed before the first input) aborts; keep it for the rest.
        let abort_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| match known(info) {
            Some(k) => {
                if !TOLERATED.swap(true, Ordering::Relaxed) {
                    eprintln!("note: tolerating a known panic from now on: {}", k.note);
                }
            }
            None => abort_hook(info),
        }));
    });
    // Only known panics get here (others abort in the hook), so the result can be ignored.
    let _ = panic::catch_unwind(f);
}
