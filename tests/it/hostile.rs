//! Hostile inputs (issue [safety]): wheels and sdists crafted to escape the environment or
//! exhaust resources, lying metadata, launcher-injecting entry points, broken plugin indexes,
//! requirements files and single-file plugins, and misbehaving servers. One test per input;
//! each asserts exit code 1 (or success where the input must be tolerated), an `error:` line
//! that is one readable sentence naming the subject, no panic or `Debug` dump, and a venv
//! (and sandbox) unchanged. Every test prints what the user saw between `HOSTILE <test>` and
//! `END <test>` lines, which is where the table of `docs/hostile-inputs.md` comes from:
//! `cargo test --test it hostile:: -- --nocapture 2>&1 | grep -A12 '^HOSTILE'`. Ignored
//! tests are open findings in code other modules own; the docs list why.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zip::write::SimpleFileOptions;

use crate::install::{Api, Case, assert_installed};
use crate::support::packages::{SdistBuilder, WheelBuilder, record_hash, sha256_hex};
use crate::support::plonk::RunOutput;
use crate::support::tree::{Snapshot, assert_same_tree, snapshot_ignoring};
use crate::support::venv;

// ---------------------------------------------------------------------------------------------
// Assertions shared by every case.

/// Progress lines plonk prints (plain, without a terminal) before it fails: allowed ahead of
/// the `error:` line.
const PROGRESS: &[&str] = &["Building "];

/// Replaces 64-hex-digit cache keys by `<sha256>`, for stable messages in the docs.
fn redact_digests(text: &str) -> String {
    let digest = regex::Regex::new(r"\b[0-9a-f]{64}\b").unwrap();
    digest.replace_all(text, "<sha256>").into_owned()
}

/// Everything the user sees on stderr, sandbox paths and cache keys redacted.
fn seen(out: &RunOutput) -> String {
    redact_digests(&out.stderr_redacted())
}

/// Prints what the user saw under the test's name, for the docs table.
fn show(test: &str, out: &RunOutput) {
    eprintln!(
        "HOSTILE {test} (exit {:?})\n{}\nEND {test}",
        out.code(),
        seen(out).trim_end()
    );
}

/// A failure as the spec wants it: exit code 1; stderr's first line (after plain progress
/// lines) is `error: ` and one sentence naming every `subject`; every `detail` appears in the
/// causes; no panic (the panic hook's "internal bug" sentence included), backtrace or `Debug`
/// dump anywhere.
#[track_caller]
fn assert_one_sentence(out: &RunOutput, subject: &[&str], details: &[&str]) {
    assert_one_sentence_after(out, PROGRESS, subject, details);
}

/// [`assert_one_sentence`] allowing lines that start with one of `preamble` before the
/// `error:` line.
#[track_caller]
fn assert_one_sentence_after(
    out: &RunOutput,
    preamble: &[&str],
    subject: &[&str],
    details: &[&str],
) {
    out.assert_failure(1);
    let stderr = out.stderr();
    let mut lines = stderr.lines();
    let first = lines
        .by_ref()
        .find(|l| !preamble.iter().any(|p| l.starts_with(p)))
        .unwrap_or_default();
    assert!(
        first.starts_with("error: "),
        "`{}`: the first stderr line is not an error sentence:\n{stderr}",
        out.command
    );
    for needle in subject {
        assert!(
            first.contains(needle),
            "`{}`: the error sentence does not name {needle:?}:\n{stderr}",
            out.command
        );
    }
    for needle in details {
        assert!(
            stderr.contains(needle),
            "`{}`: the message does not say {needle:?}:\n{stderr}",
            out.command
        );
    }
    for bad in [
        "panicked",
        "internal bug",
        "RUST_BACKTRACE",
        "Os {",
        "Error {",
        "kind: ",
        "Some(",
    ] {
        assert!(
            !stderr.contains(bad),
            "`{}`: stderr shows {bad:?} (a panic or Debug dump):\n{stderr}",
            out.command
        );
    }
    // `Name { field: value }` is how `Debug` prints a struct.
    let debug_struct = regex::Regex::new(r"\b[A-Z][A-Za-z]* \{ [a-z_]+: ").unwrap();
    assert!(
        !debug_struct.is_match(&stderr),
        "`{}`: stderr shows a Debug dump:\n{stderr}",
        out.command
    );
    assert!(
        !first.contains('{')
            && !first.contains('}')
            && out.stderr_redacted().lines().all(|l| l.len() < 1000),
        "`{}`: the error looks like a dump:\n{stderr}",
        out.command
    );
}

/// The sandbox outside the venv and plonk's caches: nothing there may change.
fn sandbox(case: &Case) -> BTreeMap<String, Snapshot> {
    snapshot_ignoring(case.plonk.tmp(), &["cache", "xdg-cache", "venv"])
}

/// Runs `plonk install <args>` and asserts a clean refusal (see [`assert_one_sentence`]),
/// with the venv and the rest of the sandbox unchanged and nothing installed.
#[track_caller]
fn assert_refused(
    case: &Case,
    test: &str,
    args: &[&str],
    subject: &[&str],
    details: &[&str],
) -> RunOutput {
    let url = case.index_url();
    let mut all = vec!["install"];
    all.extend_from_slice(args);
    let mut cmd = command(case, &url, &all);
    assert_cmd_refused(case, test, &mut cmd, subject, details)
}

/// Runs a prepared plonk command the same way as [`assert_refused`].
#[track_caller]
fn assert_cmd_refused(
    case: &Case,
    test: &str,
    cmd: &mut std::process::Command,
    subject: &[&str],
    details: &[&str],
) -> RunOutput {
    let venv_before = case.tree();
    let installed_before = case.installed();
    let sandbox_before = sandbox(case);
    let out = case.plonk.run_cmd(cmd);
    show(test, &out);
    assert_one_sentence(&out, subject, details);
    assert_same_tree(&venv_before, &case.tree());
    assert_same_tree(&sandbox_before, &sandbox(case));
    assert_eq!(case.installed(), installed_before);
    out
}

/// `plonk --python <venv> --index-url <index> --no-progress <args…>` as a command, so a test
/// can point at another index or set variables.
fn command(case: &Case, index_url: &str, args: &[&str]) -> std::process::Command {
    let venv = case.venv.to_string_lossy().to_string();
    let mut all: Vec<&str> = vec![
        "--python",
        venv.as_str(),
        "--index-url",
        index_url,
        "--no-progress",
    ];
    all.extend_from_slice(args);
    case.plonk.cmd(all)
}

// ---------------------------------------------------------------------------------------------
// Hand-made wheels.

/// A wheel member: a file or a symbolic link.
#[derive(Clone, Debug)]
enum Member {
    File(String, Vec<u8>),
    Symlink(String, String),
}

impl Member {
    fn name(&self) -> &str {
        match self {
            Member::File(name, _) | Member::Symlink(name, _) => name,
        }
    }
}

/// A valid wheel from [`WheelBuilder`] taken apart so a test can tamper with it.
struct Tampered {
    filename: String,
    dist_info: String,
    members: Vec<Member>,
}

impl Tampered {
    fn from(builder: &WheelBuilder) -> Self {
        let bytes = builder.build_bytes();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut members = Vec::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let name = file.name().unwrap().to_string();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            members.push(Member::File(name, data));
        }
        Tampered {
            filename: builder.filename(),
            dist_info: builder.dist_info_dir(),
            members,
        }
    }

    /// Replaces the content of `name` (adds it when missing), RECORD left as it was.
    fn set(mut self, name: &str, data: impl AsRef<[u8]>) -> Self {
        let member = Member::File(name.to_string(), data.as_ref().to_vec());
        match self.members.iter().position(|m| m.name() == name) {
            Some(i) => self.members[i] = member,
            None => {
                let at = self.members.len() - 1;
                self.members.insert(at, member);
            }
        }
        self
    }

    /// Drops the member `name`.
    fn remove(mut self, name: &str) -> Self {
        self.members.retain(|m| m.name() != name);
        self
    }

    /// Adds a symbolic link member before RECORD.
    fn symlink(mut self, name: &str, target: &str) -> Self {
        let at = self.members.len() - 1;
        self.members
            .insert(at, Member::Symlink(name.to_string(), target.to_string()));
        self
    }

    /// The current RECORD text.
    fn record(&self) -> String {
        let name = format!("{}/RECORD", self.dist_info);
        self.members
            .iter()
            .find_map(|m| match m {
                Member::File(n, data) if *n == name => {
                    Some(String::from_utf8(data.clone()).unwrap())
                }
                _ => None,
            })
            .unwrap()
    }

    /// Rewrites RECORD so every file member is listed with its true hash and size, plus
    /// `extra` lines.
    fn rehash(self, extra: &[&str]) -> Self {
        let record_name = format!("{}/RECORD", self.dist_info);
        let mut text = String::new();
        for m in &self.members {
            if let Member::File(name, data) = m
                && *name != record_name
            {
                text.push_str(&format!("{name},{},{}\n", record_hash(data), data.len()));
            }
        }
        for line in extra {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("{record_name},,\n"));
        self.set(&record_name, text)
    }

    fn bytes(&self) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        for m in &self.members {
            match m {
                Member::File(name, data) => {
                    zip.start_file(name.as_str(), options).unwrap();
                    zip.write_all(data).unwrap();
                }
                Member::Symlink(name, target) => {
                    zip.add_symlink(name.as_str(), target.as_str(), options)
                        .unwrap();
                }
            }
        }
        zip.finish().unwrap().into_inner()
    }

    /// Writes the wheel into `dir` under its file name.
    fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join(&self.filename);
        fs::write(&path, self.bytes()).unwrap();
        path
    }
}

/// Positions of the local header and the central directory header of the member `name`.
fn zip_headers(bytes: &[u8], name: &str) -> (usize, usize) {
    let needle = name.as_bytes();
    let mut local = None;
    let mut central = None;
    for at in 0..bytes.len().saturating_sub(needle.len()) {
        if &bytes[at..at + needle.len()] != needle {
            continue;
        }
        if at >= 30 && bytes[at - 30..at - 26] == [0x50, 0x4b, 0x03, 0x04] {
            local = Some(at - 30);
        }
        if at >= 46 && bytes[at - 46..at - 42] == [0x50, 0x4b, 0x01, 0x02] {
            central = Some(at - 46);
        }
    }
    (local.unwrap(), central.unwrap())
}

/// Sets the declared (uncompressed) size of the member `name` in both of its headers.
fn patch_declared_size(bytes: &mut [u8], name: &str, size: u32) {
    let (local, central) = zip_headers(bytes, name);
    bytes[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    bytes[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

/// Replaces every occurrence of `from` by `to` (same length) in the archive's bytes.
fn patch_bytes(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut at = 0;
    let mut count = 0;
    while at + from.len() <= bytes.len() {
        if &bytes[at..at + from.len()] == from {
            bytes[at..at + from.len()].copy_from_slice(to);
            at += from.len();
            count += 1;
        } else {
            at += 1;
        }
    }
    assert!(count >= 2, "{from:?} found {count} time(s)");
}

/// The wheel most cases start from: a package and a console script.
fn evil(version: &str) -> WheelBuilder {
    WheelBuilder::new("evil", version)
        .file("evil/__init__.py", "def main():\n    return 0\n")
        .console_script("evil-cli", "evil:main")
}

/// Where a relative archive path would land if it were extracted into site-packages.
fn escape_target(case: &Case, rel: &str) -> PathBuf {
    crate::install::normalize(&venv::site_packages(&case.venv).join(rel))
}

/// The sentence every refused wheel gets: the distribution is named, nothing changed.
const NOT_INSTALLED: &[&str] = &["evil==1.0", "the environment was left as it was"];

// ---------------------------------------------------------------------------------------------
// Wheel archives.

#[test]
fn hostile_wheel_parent_dir_entry() {
    let case = Case::new(Api::Json);
    evil("1.0")
        .raw_entry("../evil.py", "print('escaped')\n", true)
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_parent_dir_entry",
        &["evil"],
        NOT_INSTALLED,
        &["unsafe entry `../evil.py`"],
    );
    assert!(!escape_target(&case, "../evil.py").exists());
}

#[test]
fn hostile_wheel_absolute_entry() {
    let case = Case::new(Api::Json);
    let target = case.plonk.tmp().join("absolute-evil.py");
    evil("1.0")
        .raw_entry(&target.to_string_lossy(), "print('escaped')\n", true)
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_absolute_entry",
        &["evil"],
        NOT_INSTALLED,
        &["the name is an absolute path"],
    );
    assert!(!target.exists());
}

#[test]
fn hostile_wheel_backslash_entry() {
    let case = Case::new(Api::Json);
    evil("1.0")
        .raw_entry(
            "evil\\..\\..\\..\\..\\backslash.py",
            "print('escaped')\n",
            true,
        )
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_backslash_entry",
        &["evil"],
        NOT_INSTALLED,
        &["the name contains a backslash"],
    );
}

#[test]
fn hostile_wheel_symlink_entry() {
    let case = Case::new(Api::Json);
    Tampered::from(&evil("1.0"))
        .symlink("evil/passwd", "../../../../../../../../etc/passwd")
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_symlink_entry",
        &["evil"],
        NOT_INSTALLED,
        &["`evil/passwd`: symbolic links are not allowed"],
    );
}

#[test]
fn hostile_wheel_duplicate_entry() {
    let case = Case::new(Api::Json);
    // Two members written under names of equal length, then one renamed to the other in
    // both headers: a checker could read one copy and an extractor the other.
    let wheel = Tampered::from(&evil("1.0"))
        .set("evil/aaaa.py", "SAFE = True\n")
        .set("evil/bbbb.py", "import os; os.system('echo pwned')\n")
        .rehash(&[]);
    let mut bytes = wheel.bytes();
    patch_bytes(&mut bytes, b"evil/bbbb.py", b"evil/aaaa.py");
    fs::write(case.dists.join(&wheel.filename), bytes).unwrap();
    assert_refused(
        &case,
        "hostile_wheel_duplicate_entry",
        &["evil"],
        NOT_INSTALLED,
        &["more than once"],
    );
}

#[test]
fn hostile_wheel_record_hash_mismatch() {
    let case = Case::new(Api::Json);
    // The file changes after RECORD was written.
    Tampered::from(&evil("1.0"))
        .set("evil/__init__.py", "import os; os.system('echo pwned')\n")
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_record_hash_mismatch",
        &["evil"],
        NOT_INSTALLED,
        &["`evil/__init__.py`", "does not match RECORD"],
    );
}

#[test]
fn hostile_wheel_record_size_mismatch() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let content = "def main():\n    return 0\n";
    let hash = record_hash(content.as_bytes());
    let record = wheel.record();
    let lied = record.replace(
        &format!("evil/__init__.py,{hash},{}", content.len()),
        &format!("evil/__init__.py,{hash},3"),
    );
    assert_ne!(record, lied);
    let record_name = format!("{}/RECORD", wheel.dist_info);
    wheel.set(&record_name, lied).write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_record_size_mismatch",
        &["evil"],
        NOT_INSTALLED,
        &["`evil/__init__.py`", "RECORD says 3"],
    );
}

#[test]
fn hostile_wheel_file_not_in_record() {
    let case = Case::new(Api::Json);
    evil("1.0")
        .raw_entry("evil/unlisted.py", "print('smuggled')\n", false)
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_file_not_in_record",
        &["evil"],
        NOT_INSTALLED,
        &["`evil/unlisted.py`", "not listed with a hash in RECORD"],
    );
}

#[test]
fn hostile_wheel_missing_record() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let record = format!("{}/RECORD", wheel.dist_info);
    wheel.remove(&record).write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_missing_record",
        &["evil"],
        NOT_INSTALLED,
        &["has no `evil-1.0.dist-info/RECORD`"],
    );
}

#[test]
fn hostile_wheel_record_lists_a_path_outside_the_env() {
    let case = Case::new(Api::Json);
    let victim = case.plonk.tmp().join("victim.txt");
    fs::write(&victim, "keep me\n").unwrap();
    // RECORD names a file outside the env that the archive does not hold: tolerated (pip
    // ignores such lines too), but never written, never recorded as installed, and so never
    // deleted by `remove`.
    let rel = "../../../../victim.txt";
    assert_eq!(
        escape_target(&case, rel),
        crate::install::normalize(&victim)
    );
    Tampered::from(&evil("1.0"))
        .rehash(&[&format!("{rel},{},8", record_hash(b"keep me\n"))])
        .write(&case.dists);
    let before = case.tree();
    let out = case.install(&["evil"]);
    show("hostile_wheel_record_lists_a_path_outside_the_env", &out);
    out.assert_success();
    let installed_record = fs::read_to_string(case.dist_info("evil").join("RECORD")).unwrap();
    assert!(!installed_record.contains("victim"), "{installed_record}");
    crate::install::assert_record_valid(&case.venv, &case.dist_info("evil"));
    let out = case.remove(&["evil"]);
    out.assert_success();
    assert_same_tree(&before, &case.tree());
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n");
}

#[test]
fn hostile_wheel_metadata_name_mismatch() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let metadata = format!("{}/METADATA", wheel.dist_info);
    wheel
        .set(
            &metadata,
            "Metadata-Version: 2.1\nName: requests\nVersion: 1.0\n",
        )
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_metadata_name_mismatch",
        &["evil"],
        NOT_INSTALLED,
        &["contains metadata for `requests==1.0`, not `evil==1.0`"],
    );
}

#[test]
fn hostile_wheel_metadata_version_mismatch() {
    let case = Case::new(Api::Simple);
    let wheel = Tampered::from(&evil("1.0"));
    let metadata = format!("{}/METADATA", wheel.dist_info);
    wheel
        .set(
            &metadata,
            "Metadata-Version: 2.1\nName: evil\nVersion: 9.9\n",
        )
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_metadata_version_mismatch",
        &["evil"],
        NOT_INSTALLED,
        &["contains metadata for `evil==9.9`, not `evil==1.0`"],
    );
}

#[test]
fn hostile_wheel_non_utf8_metadata() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let metadata = format!("{}/METADATA", wheel.dist_info);
    wheel
        .set(
            &metadata,
            b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nSummary: \xff\xfe\xfd\n".as_slice(),
        )
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_non_utf8_metadata",
        &["evil"],
        &["evil"],
        &["not valid UTF-8"],
    );
}

#[test]
fn hostile_wheel_non_utf8_entry_name() {
    let case = Case::new(Api::Json);
    // A non-ASCII name makes the writer set the UTF-8 flag; its bytes then become invalid.
    let wheel = Tampered::from(&evil("1.0"))
        .set("evil/\u{e9}.py", "X = 1\n")
        .rehash(&[]);
    let mut bytes = wheel.bytes();
    patch_bytes(&mut bytes, "evil/\u{e9}.py".as_bytes(), b"evil/\xff\xfe.py");
    fs::write(case.dists.join(&wheel.filename), bytes).unwrap();
    assert_refused(
        &case,
        "hostile_wheel_non_utf8_entry_name",
        &["evil"],
        NOT_INSTALLED,
        &["of the wheel"],
    );
}

#[test]
fn hostile_wheel_entry_bigger_than_declared() {
    let case = Case::new(Api::Json);
    // A zip bomb's trick: the headers declare 10 bytes, the data inflates to 1 MiB.
    let big = "0".repeat(1 << 20);
    let wheel = Tampered::from(&evil("1.0"))
        .set("evil/bomb.txt", &big)
        .rehash(&[]);
    let mut bytes = wheel.bytes();
    patch_declared_size(&mut bytes, "evil/bomb.txt", 10);
    fs::write(case.dists.join(&wheel.filename), bytes).unwrap();
    assert_refused(
        &case,
        "hostile_wheel_entry_bigger_than_declared",
        &["evil"],
        NOT_INSTALLED,
        &[
            "`evil/bomb.txt`",
            "larger than its declared uncompressed size",
        ],
    );
}

#[test]
fn hostile_wheel_declared_size_over_limit() {
    let case = Case::new(Api::Json);
    // Declared sizes add up to more than the 2 GiB bound: refused before anything inflates.
    let wheel = Tampered::from(&evil("1.0"))
        .set("evil/huge1.txt", "x")
        .set("evil/huge2.txt", "y")
        .rehash(&[]);
    let mut bytes = wheel.bytes();
    patch_declared_size(&mut bytes, "evil/huge1.txt", 0xF000_0000);
    patch_declared_size(&mut bytes, "evil/huge2.txt", 0xF000_0000);
    fs::write(case.dists.join(&wheel.filename), bytes).unwrap();
    assert_refused(
        &case,
        "hostile_wheel_declared_size_over_limit",
        &["evil"],
        NOT_INSTALLED,
        &["unpacks to more than 2147483648 bytes"],
    );
}

#[test]
fn hostile_wheel_for_another_platform() {
    let case = Case::new(Api::Json);
    evil("1.0").tag("cp311-cp311-win_amd64").build(&case.dists);
    let out = assert_refused(
        &case,
        "hostile_wheel_for_another_platform",
        &["evil"],
        &["evil"],
        &[],
    );
    // The reason names what is wrong with the file that exists.
    let stderr = out.stderr();
    assert!(
        !stderr.contains("not found")
            && (stderr.contains("compatible") || stderr.contains("win_amd64")),
        "the message should say the only file is for another platform:\n{stderr}"
    );
    // Never even downloaded.
    assert!(
        !case
            .index
            .requests()
            .iter()
            .any(|r| r.contains("/packages/evil-1.0-cp311-cp311-win_amd64.whl")),
        "{:?}",
        case.index.requests()
    );
}

#[test]
fn hostile_wheel_newer_only_for_another_platform() {
    let case = Case::new(Api::Simple);
    // evil 2.0 exists only for Windows: 1.0, the newest installable version, is chosen.
    evil("1.0").build(&case.dists);
    evil("2.0").tag("cp311-cp311-win_amd64").build(&case.dists);
    let out = case.install(&["evil"]);
    show("hostile_wheel_newer_only_for_another_platform", &out);
    out.assert_success();
    assert_installed(&case, &[("evil", "1.0")]);
    assert!(
        !case
            .index
            .requests()
            .iter()
            .any(|r| r.contains("win_amd64")),
        "{:?}",
        case.index.requests()
    );
}

#[test]
fn hostile_wheel_truncated_zip() {
    let case = Case::new(Api::Simple);
    let bytes = evil("1.0").build_bytes();
    fs::write(
        case.dists.join(evil("1.0").filename()),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    assert_refused(
        &case,
        "hostile_wheel_truncated_zip",
        &["evil"],
        &["evil"],
        &["it is not a valid zip file"],
    );
}

#[test]
fn hostile_wheel_not_a_zip() {
    let case = Case::new(Api::Simple);
    fs::write(
        case.dists.join(evil("1.0").filename()),
        b"<html><body>502 Bad Gateway</body></html>\n",
    )
    .unwrap();
    assert_refused(
        &case,
        "hostile_wheel_not_a_zip",
        &["evil"],
        &["evil"],
        &["it is not a valid zip file"],
    );
}

#[test]
fn hostile_wheel_unknown_data_folder() {
    let case = Case::new(Api::Json);
    evil("1.0")
        .data("etc", "passwd", "root::0:0::/:/bin/sh\n")
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_unknown_data_folder",
        &["evil"],
        NOT_INSTALLED,
        &["`evil-1.0.data/etc/passwd`", "unknown `.data` folder"],
    );
}

#[test]
fn hostile_wheel_dist_info_of_another_project() {
    let case = Case::new(Api::Json);
    Tampered::from(&evil("1.0"))
        .set(
            "pip-99.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: pip\nVersion: 99.0\n",
        )
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_dist_info_of_another_project",
        &["evil"],
        NOT_INSTALLED,
        &["`pip-99.0.dist-info`, which does not match"],
    );
}

#[test]
fn hostile_wheel_file_and_folder_at_one_path() {
    let case = Case::new(Api::Json);
    // `evil/x` is a file and a folder at once.
    Tampered::from(&evil("1.0"))
        .set("evil/x", "a file\n")
        .set("evil/x/y.py", "a file inside the file\n")
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_file_and_folder_at_one_path",
        &["evil"],
        NOT_INSTALLED,
        &["site-packages/evil/x` both as a file and as a folder"],
    );
}

#[test]
fn hostile_wheel_unsupported_wheel_version() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let file = format!("{}/WHEEL", wheel.dist_info);
    wheel
        .set(
            &file,
            "Wheel-Version: 9.0\nGenerator: evil\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_unsupported_wheel_version",
        &["evil"],
        NOT_INSTALLED,
        &["`evil-1.0.dist-info/WHEEL`", "is invalid"],
    );
}

#[test]
fn hostile_wheel_garbage_entry_points() {
    let case = Case::new(Api::Json);
    let wheel = Tampered::from(&evil("1.0"));
    let file = format!("{}/entry_points.txt", wheel.dist_info);
    wheel
        .set(&file, b"\x00\x01[console_scripts\n=== = ===\n".as_slice())
        .rehash(&[])
        .write(&case.dists);
    assert_refused(
        &case,
        "hostile_wheel_garbage_entry_points",
        &["evil"],
        NOT_INSTALLED,
        &["`evil-1.0.dist-info/entry_points.txt`", "is invalid"],
    );
}

// ---------------------------------------------------------------------------------------------
// Remove.

#[test]
fn hostile_remove_record_path_outside_the_env() {
    let case = Case::new(Api::Json);
    let outside = case.plonk.mkdir("outside");
    let relative_victim = outside.join("relative.txt");
    let absolute_victim = outside.join("absolute.txt");
    fs::write(&relative_victim, "keep me\n").unwrap();
    fs::write(&absolute_victim, "keep me too\n").unwrap();
    let before = case.tree();
    evil("1.0").build(&case.dists);
    case.install(&["evil"]).assert_success();
    // Another tool (or an attacker) appends paths outside the env to the installed RECORD.
    let record = case.dist_info("evil").join("RECORD");
    let mut text = fs::read_to_string(&record).unwrap();
    text.push_str("../../../../outside/relative.txt,,\n");
    text.push_str(&format!("{},,\n", absolute_victim.display()));
    fs::write(&record, text).unwrap();
    assert_eq!(
        escape_target(&case, "../../../../outside/relative.txt"),
        crate::install::normalize(&relative_victim)
    );
    let out = case.remove(&["evil"]);
    show("hostile_remove_record_path_outside_the_env", &out);
    out.assert_success();
    assert!(!out.stderr().contains("internal bug"), "{}", out.stderr());
    assert_same_tree(&before, &case.tree());
    assert_eq!(fs::read_to_string(&relative_victim).unwrap(), "keep me\n");
    assert_eq!(
        fs::read_to_string(&absolute_victim).unwrap(),
        "keep me too\n"
    );
}

#[test]
fn hostile_remove_record_through_a_symlink() {
    let case = Case::new(Api::Json);
    let outside = case.plonk.mkdir("outside");
    fs::write(outside.join("victim.txt"), "keep me\n").unwrap();
    evil("1.0").build(&case.dists);
    case.install(&["evil"]).assert_success();
    // A symlink inside site-packages leads out of the env; RECORD lists a file behind it.
    let site = venv::site_packages(&case.venv);
    std::os::unix::fs::symlink(&outside, site.join("evil-link")).unwrap();
    let record = case.dist_info("evil").join("RECORD");
    let mut text = fs::read_to_string(&record).unwrap();
    text.push_str("evil-link/victim.txt,,\n");
    fs::write(&record, text).unwrap();
    let out = case.remove(&["evil"]);
    show("hostile_remove_record_through_a_symlink", &out);
    out.assert_success();
    assert!(!out.stderr().contains("internal bug"), "{}", out.stderr());
    assert_eq!(
        fs::read_to_string(outside.join("victim.txt")).unwrap(),
        "keep me\n"
    );
    assert_installed(&case, &[]);
}

#[test]
fn hostile_remove_record_lists_another_distributions_file() {
    let case = Case::new(Api::Json);
    evil("1.0").build(&case.dists);
    case.install(&["chain-c==1.1"]).assert_success();
    let before = case.tree();
    case.install(&["evil"]).assert_success();
    // evil's RECORD claims chain-c's module: removing evil must leave chain-c whole.
    let record = case.dist_info("evil").join("RECORD");
    let mut text = fs::read_to_string(&record).unwrap();
    text.push_str("chain_c/__init__.py,,\n");
    fs::write(&record, text).unwrap();
    let out = case.remove(&["evil"]);
    show(
        "hostile_remove_record_lists_another_distributions_file",
        &out,
    );
    out.assert_success();
    assert_same_tree(&before, &case.tree());
    assert_eq!(
        venv::python_stdout(&case.venv, "import chain_c; print(chain_c.__version__)"),
        "1.1"
    );
}

#[test]
fn hostile_wheel_replaces_a_symlink_leading_out() {
    let case = Case::new(Api::Json);
    // A script path of the env is a symlink to a file outside it: installing a script of
    // that name replaces the link, it never writes through it.
    let outside = case.plonk.mkdir("outside");
    let target = outside.join("target.txt");
    fs::write(&target, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&target, venv::bin_dir(&case.venv).join("evil-tool")).unwrap();
    evil("1.0")
        .data("scripts", "evil-tool", "#!python\nprint('evil')\n")
        .build(&case.dists);
    let out = case.install(&["evil"]);
    show("hostile_wheel_replaces_a_symlink_leading_out", &out);
    out.assert_success();
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");
    let script = venv::bin_dir(&case.venv).join("evil-tool");
    assert!(!fs::symlink_metadata(&script).unwrap().is_symlink());
    case.remove(&["evil"]).assert_success();
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");
}

// ---------------------------------------------------------------------------------------------
// Entry points and metadata.

#[test]
fn hostile_entry_point_launcher_injection() {
    let case = Case::new(Api::Json);
    // A value that would put code into the generated launcher.
    WheelBuilder::new("evil", "1.0")
        .file("evil/__init__.py", "def main():\n    return 0\n")
        .console_script(
            "evil-cli",
            "os:system; import os; os.system('touch PWNED') #",
        )
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_entry_point_launcher_injection",
        &["evil"],
        NOT_INSTALLED,
        &[
            "The entry point `evil-cli = os:system; import os;",
            "is invalid",
        ],
    );
    assert!(!case.plonk.tmp().join("PWNED").exists());
}

#[test]
fn hostile_entry_point_parent_dir_name() {
    let case = Case::new(Api::Json);
    WheelBuilder::new("evil", "1.0")
        .file("evil/__init__.py", "def main():\n    return 0\n")
        .console_script("../../../../escape", "evil:main")
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_entry_point_parent_dir_name",
        &["evil"],
        NOT_INSTALLED,
        &[
            "The entry point `../../../../escape = evil:main`",
            "is invalid",
        ],
    );
    assert!(!case.plonk.tmp().join("escape").exists());
}

#[test]
fn hostile_metadata_garbage_requires_dist() {
    let case = Case::new(Api::Simple);
    evil("1.0")
        .requires("chain-c >= >= 1 ; ;")
        .build(&case.dists);
    assert_refused(
        &case,
        "hostile_metadata_garbage_requires_dist",
        &["evil"],
        &["evil"],
        &["`Requires-Dist: chain-c >= >= 1 ; ;` is not a valid requirement"],
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-made sdists.

/// A tar member written with raw header fields, so `..`, absolute names and links survive.
struct RawTar {
    name: String,
    kind: tar::EntryType,
    data: Vec<u8>,
    link: Option<String>,
}

fn raw_tar(name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>) -> RawTar {
    RawTar {
        name: name.to_string(),
        kind,
        data: data.to_vec(),
        link: link.map(str::to_string),
    }
}

/// A hatchling sdist `evil-sdist 1.0` (valid static PKG-INFO) with `extra` members appended.
fn sdist_with_members(dir: &Path, extra: &[RawTar]) -> String {
    let builder = SdistBuilder::hatchling("evil-sdist", "1.0")
        .package("evilsdist")
        .file("evilsdist/__init__.py", "");
    let gz = builder.build_bytes();
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut tar_bytes)
        .unwrap();
    // Drop the end-of-archive zero blocks and append the members.
    while tar_bytes.len() >= 512 && tar_bytes[tar_bytes.len() - 512..].iter().all(|b| *b == 0) {
        tar_bytes.truncate(tar_bytes.len() - 512);
    }
    for member in extra {
        let mut header = tar::Header::new_ustar();
        header.set_size(member.data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_580_601_600);
        header.set_entry_type(member.kind);
        if matches!(member.kind, tar::EntryType::Char | tar::EntryType::Block) {
            header.set_device_major(1).unwrap();
            header.set_device_minor(3).unwrap();
        }
        {
            let ustar = header.as_ustar_mut().unwrap();
            let name = member.name.as_bytes();
            ustar.name[..name.len()].copy_from_slice(name);
            if let Some(link) = &member.link {
                ustar.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_cksum();
        tar_bytes.extend_from_slice(header.as_bytes());
        tar_bytes.extend_from_slice(&member.data);
        let pad = (512 - member.data.len() % 512) % 512;
        tar_bytes.extend(std::iter::repeat_n(0u8, pad));
    }
    tar_bytes.extend(std::iter::repeat_n(0u8, 1024));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar_bytes).unwrap();
    fs::write(dir.join(builder.filename()), gz.finish().unwrap()).unwrap();
    builder.filename()
}

/// The sentence every refused sdist build gets.
const NOT_BUILT: &[&str] = &["evil-sdist==1.0"];

#[test]
fn hostile_sdist_parent_dir_entry() {
    let case = Case::new(Api::Json);
    sdist_with_members(
        &case.dists,
        &[raw_tar(
            "evil_sdist-1.0/../../../../escaped.txt",
            tar::EntryType::Regular,
            b"escaped\n",
            None,
        )],
    );
    assert_refused(
        &case,
        "hostile_sdist_parent_dir_entry",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/../../../../escaped.txt`: its path contains `..`"],
    );
}

#[test]
fn hostile_sdist_absolute_entry() {
    let case = Case::new(Api::Json);
    let target = case.plonk.tmp().join("absolute.txt");
    sdist_with_members(
        &case.dists,
        &[raw_tar(
            &target.to_string_lossy(),
            tar::EntryType::Regular,
            b"escaped\n",
            None,
        )],
    );
    assert_refused(
        &case,
        "hostile_sdist_absolute_entry",
        &["evil-sdist"],
        NOT_BUILT,
        &["its path is absolute"],
    );
    assert!(!target.exists());
}

#[test]
fn hostile_sdist_symlink_escaping() {
    let case = Case::new(Api::Json);
    sdist_with_members(
        &case.dists,
        &[
            raw_tar(
                "evil_sdist-1.0/link",
                tar::EntryType::Symlink,
                b"",
                Some("../../../../../.."),
            ),
            raw_tar(
                "evil_sdist-1.0/link/tmp/escaped.txt",
                tar::EntryType::Regular,
                b"escaped\n",
                None,
            ),
        ],
    );
    assert_refused(
        &case,
        "hostile_sdist_symlink_escaping",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/link`: the link points outside the project folder"],
    );
}

#[test]
fn hostile_sdist_hardlink_escaping() {
    let case = Case::new(Api::Json);
    sdist_with_members(
        &case.dists,
        &[raw_tar(
            "evil_sdist-1.0/passwd",
            tar::EntryType::Link,
            b"",
            Some("../../../../etc/passwd"),
        )],
    );
    assert_refused(
        &case,
        "hostile_sdist_hardlink_escaping",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/passwd`: the hard link's target contains `..`"],
    );
}

#[test]
fn hostile_sdist_hardlink_absolute() {
    let case = Case::new(Api::Json);
    sdist_with_members(
        &case.dists,
        &[raw_tar(
            "evil_sdist-1.0/passwd",
            tar::EntryType::Link,
            b"",
            Some("/etc/passwd"),
        )],
    );
    assert_refused(
        &case,
        "hostile_sdist_hardlink_absolute",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/passwd`: the hard link's target is an absolute path"],
    );
}

#[test]
fn hostile_sdist_device_file() {
    let case = Case::new(Api::Json);
    sdist_with_members(
        &case.dists,
        &[raw_tar(
            "evil_sdist-1.0/null",
            tar::EntryType::Char,
            b"",
            None,
        )],
    );
    assert_refused(
        &case,
        "hostile_sdist_device_file",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/null`: device files and pipes are not allowed"],
    );
}

#[test]
fn hostile_sdist_not_gzip() {
    let case = Case::new(Api::Json);
    fs::write(
        case.dists.join("evil_sdist-1.0.tar.gz"),
        b"this is a plain text file, not a gzip stream\n",
    )
    .unwrap();
    assert_refused(
        &case,
        "hostile_sdist_not_gzip",
        &["evil-sdist"],
        &["evil-sdist"],
        &[
            "Failed to read the source distribution",
            "invalid gzip header",
        ],
    );
}

/// Writes `evil_sdist-1.0.tar.gz` holding exactly `files` (paths relative to its top folder).
fn sdist_with_files(dir: &Path, files: &[(&str, &[u8])]) {
    let builder = SdistBuilder::hatchling("evil-sdist", "1.0");
    let top = builder.base_name();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{top}/{path}"), *data)
            .unwrap();
    }
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    fs::write(dir.join(builder.filename()), bytes).unwrap();
}

#[test]
fn hostile_sdist_garbage_pkg_info_and_broken_build() {
    let case = Case::new(Api::Json);
    // PKG-INFO is binary garbage (so a build is needed) and the build cannot work.
    sdist_with_files(
        &case.dists,
        &[
            ("PKG-INFO", b"\x00\x01\xff\xfeMetadata-Version: ???\n"),
            (
                "pyproject.toml",
                b"[build-system\nrequires = [\"hatchling\"\n",
            ),
        ],
    );
    assert_refused(
        &case,
        "hostile_sdist_garbage_pkg_info_and_broken_build",
        &["evil-sdist"],
        &["evil-sdist"],
        &["pyproject.toml", "TOML parse error"],
    );
}

#[test]
fn hostile_sdist_backend_path_escaping() {
    let case = Case::new(Api::Json);
    // A PEP 517 backend loaded from outside the project (`backend-path` climbing out).
    sdist_with_files(
        &case.dists,
        &[
            (
                "PKG-INFO",
                b"Metadata-Version: 2.2\nName: evil-sdist\nVersion: 1.0\n",
            ),
            (
                "pyproject.toml",
                b"[build-system]\nrequires = []\nbuild-backend = \"evil_backend\"\nbackend-path = [\"../../../..\"]\n",
            ),
        ],
    );
    assert_refused(
        &case,
        "hostile_sdist_backend_path_escaping",
        &["evil-sdist"],
        NOT_BUILT,
        &[
            "`backend-path` entry `../../../..`",
            "is not a folder inside the project",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Plugin indexes.

/// Serves `body` as the `main` release's plugins.yml of a new local plugin index folder, runs
/// `plonk --release main update` with that index only, and returns the run. The index cache
/// written by the case's own `update` must stay as it was.
fn update_with_index_file(case: &Case, body: &[u8]) -> (RunOutput, PathBuf) {
    let index = case.plonk.mkdir("bad-index");
    fs::create_dir_all(index.join("main")).unwrap();
    fs::write(index.join("main/plugins.yml"), body).unwrap();
    fs::write(
        case.tutor_config(),
        format!("PLUGIN_INDEXES:\n- {}\n", index.display()),
    )
    .unwrap();
    let out = case.plonk.run(["--release", "main", "update"]);
    (out, index)
}

/// `plonk update` with one index serving `body`: the update fails with a sentence naming the
/// index file, and the previous index cache is kept.
#[track_caller]
fn assert_index_refused(test: &str, body: &[u8], details: &[&str]) {
    let case = Case::new(Api::Json);
    let cache = case.plonk.tutor_root.join("env/plugins/index/cache.yml");
    let cached = fs::read(&cache).unwrap();
    let (out, index) = update_with_index_file(&case, body);
    show(test, &out);
    let file = index.join("main/plugins.yml").display().to_string();
    let mut all = vec![file.as_str()];
    all.extend_from_slice(details);
    // `update` names each failing index in a warning, then fails as a whole.
    assert_one_sentence_after(
        &out,
        &["warning: the plugin index "],
        &["none of the 1 plugin indexes could be fetched"],
        &all,
    );
    assert_eq!(
        fs::read(&cache).unwrap(),
        cached,
        "the old cache was replaced"
    );
}

#[test]
fn hostile_index_garbage_yaml() {
    assert_index_refused(
        "hostile_index_garbage_yaml",
        b"- name: [unclosed\n  src: {\n",
        &["is not valid YAML"],
    );
}

#[test]
fn hostile_index_mapping_instead_of_list() {
    assert_index_refused(
        "hostile_index_mapping_instead_of_list",
        b"name: evil\nsrc: evil\n",
        &["must be a YAML list of plugins, not a mapping"],
    );
}

#[test]
fn hostile_index_non_utf8() {
    assert_index_refused(
        "hostile_index_non_utf8",
        b"- name: evil\n  src: \xff\xfe\xfd\n",
        &["is not UTF-8 text"],
    );
}

#[test]
fn hostile_index_yaml_alias_bomb() {
    // "Billion laughs": nine levels of nine aliases would expand to 387 million strings.
    let mut text = String::from(
        "- name: bomb\n  src: tutor-bomb\n  description: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..10 {
        let refs = vec![format!("*a{}", level - 1); 9].join(",");
        text.push_str(&format!("  x{level}: &a{level} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    assert_index_refused(
        "hostile_index_yaml_alias_bomb",
        text.as_bytes(),
        &["is not valid YAML"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn hostile_index_html_error_page() {
    let case = Case::new(Api::Json);
    let cache = case.plonk.tutor_root.join("env/plugins/index/cache.yml");
    let cached = fs::read(&cache).unwrap();
    // A proxy or CDN answering 200 with an HTML error page.
    let served = case.plonk.mkdir("served");
    fs::create_dir_all(served.join("main")).unwrap();
    fs::write(
        served.join("main/plugins.yml"),
        "<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Service unavailable</body></html>\n",
    )
    .unwrap();
    let server = crate::support::server::FakeIndex::start(&case.plonk.mkdir("empty"))
        .with_index_dir(&served);
    fs::write(
        case.tutor_config(),
        format!("PLUGIN_INDEXES:\n- {}\n", server.url()),
    )
    .unwrap();
    let out = case.plonk.run(["--release", "main", "update"]);
    show("hostile_index_html_error_page", &out);
    let url = format!("{}/main/plugins.yml", server.url());
    assert_one_sentence_after(
        &out,
        &["warning: "],
        &["none of the 1 plugin indexes could be fetched"],
        &[&url, "returned an HTML page instead of a YAML plugin index"],
    );
    assert_eq!(
        fs::read(&cache).unwrap(),
        cached,
        "the old cache was replaced"
    );
}

/// Rewrites every release's plugins.yml of the case's plugin index and updates the cache.
fn set_plugin_index(case: &Case, body: &str) {
    let index = case.plonk.tmp().join("plugin-index");
    for entry in fs::read_dir(&index).unwrap() {
        fs::write(entry.unwrap().path().join("plugins.yml"), body).unwrap();
    }
    case.run(&["--release", "verawood", "update"])
        .assert_success();
}

#[test]
fn hostile_index_env_var_in_src() {
    let case = Case::new(Api::Json);
    // Expanding `${VAR}` would send the user's secrets to whoever wrote the index.
    set_plugin_index(
        &case,
        "- name: envvar\n  src: evil @ https://evil.invalid/${HOME}/evil-1.0-py3-none-any.whl\n",
    );
    let out = assert_refused(
        &case,
        "hostile_index_env_var_in_src",
        &["envvar"],
        &["envvar"],
        &["uses an environment variable (`${…}`)"],
    );
    let home = case.plonk.home.display().to_string();
    assert!(!out.stderr().contains(&home), "{}", out.stderr());
}

#[test]
fn hostile_index_src_option_not_allowed() {
    let case = Case::new(Api::Json);
    // An index entry may name package indexes, never other options (`-r` would read local
    // files, `--trusted-host` would turn off TLS checks).
    set_plugin_index(
        &case,
        "- name: optioned\n  src: |\n    --trusted-host evil.invalid\n    -r /etc/passwd\n    chain-c\n",
    );
    assert_refused(
        &case,
        "hostile_index_src_option_not_allowed",
        &["optioned"],
        &["optioned"],
        &["option `--trusted-host` is not supported"],
    );
}

// ---------------------------------------------------------------------------------------------
// Requirements files.

/// `plonk install -r <file>` with `body` as the file: refused, naming the file and line.
#[track_caller]
fn assert_requirements_refused(test: &str, body: &[u8], details: &[&str]) {
    let case = Case::new(Api::Json);
    let file = case.plonk.tmp().join("requirements.txt");
    fs::write(&file, body).unwrap();
    let path = file.to_string_lossy().to_string();
    assert_refused(&case, test, &["-r", &path], &["requirements.txt"], details);
}

#[test]
fn hostile_requirements_garbage_line() {
    assert_requirements_refused(
        "hostile_requirements_garbage_line",
        b"chain-c\n}}}{{{ not a requirement !!!\n",
        &["line 2", "is not a valid requirement"],
    );
}

#[test]
fn hostile_requirements_nested_r() {
    // A file including itself would recurse forever if `-r` were followed.
    assert_requirements_refused(
        "hostile_requirements_nested_r",
        b"-r requirements.txt\nchain-c\n",
        &["line 1", "option `-r` is not supported"],
    );
}

#[test]
fn hostile_requirements_unknown_option() {
    assert_requirements_refused(
        "hostile_requirements_unknown_option",
        b"chain-c\n--trusted-host evil.invalid\n",
        &["line 2", "option `--trusted-host` is not supported"],
    );
}

#[test]
fn hostile_requirements_non_utf8() {
    assert_requirements_refused(
        "hostile_requirements_non_utf8",
        b"chain-c\n\xff\xfe\xfd\n",
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// Network: the fake index's switches.

/// Installs `alpha` (one wheel, two dependencies) and expects a refusal naming it.
#[track_caller]
fn assert_alpha_refused(case: &Case, test: &str, details: &[&str]) -> RunOutput {
    assert_refused(case, test, &["alpha"], &["alpha"], details)
}

/// The fake index path of a backbone file.
fn package_path(file: &str) -> String {
    format!("/packages/{file}")
}

#[test]
fn hostile_network_404() {
    let case = Case::new(Api::Simple);
    case.index.status(&package_path(&case.backbone.alpha), 404);
    assert_alpha_refused(&case, "hostile_network_404", &["was not found"]);
}

#[test]
fn hostile_network_5xx_then_ok() {
    let case = Case::new(Api::Json);
    // Two 503s on whatever comes next: bounded retries with back-off get through.
    case.index.fail_next(2, 503);
    let out = case.install(&["alpha"]);
    show("hostile_network_5xx_then_ok", &out);
    out.assert_success();
    assert_installed(
        &case,
        &[("alpha", "1.0"), ("chain-b", "1.0"), ("chain-c", "1.1")],
    );
}

#[test]
fn hostile_network_persistent_500() {
    let case = Case::new(Api::Simple);
    case.index.status(&package_path(&case.backbone.alpha), 500);
    let started = std::time::Instant::now();
    assert_alpha_refused(
        &case,
        "hostile_network_persistent_500",
        &["answered with HTTP status 500"],
    );
    let attempts = case
        .index
        .requests()
        .iter()
        .filter(|r| **r == format!("GET {}", package_path(&case.backbone.alpha)))
        .count();
    assert!(
        (2..=5).contains(&attempts),
        "retries must be bounded: {attempts} attempts"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn hostile_network_hang_times_out() {
    let case = Case::new(Api::Simple);
    case.index.hang(&package_path(&case.backbone.alpha));
    let url = case.index_url();
    let mut cmd = command(&case, &url, &["install", "alpha"]);
    cmd.env("PLONK_HTTP_TIMEOUT", "2");
    let started = std::time::Instant::now();
    assert_cmd_refused(
        &case,
        "hostile_network_hang_times_out",
        &mut cmd,
        &["alpha"],
        &["timed out after 2 s"],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn hostile_network_truncated_body() {
    let case = Case::new(Api::Simple);
    // Full Content-Length announced, half the bytes sent, connection closed.
    case.index.truncate(&case.backbone.alpha);
    assert_alpha_refused(&case, "hostile_network_truncated_body", &["was cut short"]);
}

#[test]
fn hostile_network_sha256_mismatch() {
    let case = Case::new(Api::Simple);
    case.index.bad_sha256(&case.backbone.alpha);
    let out = assert_alpha_refused(&case, "hostile_network_sha256_mismatch", &[]);
    let stderr = out.stderr();
    assert!(stderr.contains(&"0".repeat(64)), "{stderr}");
}

#[test]
fn hostile_network_changed_file_behind_cached_page() {
    let case = Case::new(Api::Simple);
    // The index page (with its sha256) is cached for 15 minutes, as PyPI allows.
    case.index.set_cache_control("max-age=900");
    case.install(&["chain-c==1.0"]).assert_success();
    case.remove(&["chain-c"]).assert_success();
    // The file behind the same URL is replaced, and the verified copy left plonk's cache.
    WheelBuilder::new("chain-c", "1.0")
        .file(
            "chain_c/__init__.py",
            "import os; os.system('echo pwned')\n",
        )
        .build(&case.dists);
    for bucket in ["wheels-v1", "unpacked-v1", "archives-v1"] {
        let _ = fs::remove_dir_all(case.plonk.cache_dir.join(bucket));
    }
    case.index.clear_requests();
    let out = assert_refused(
        &case,
        "hostile_network_changed_file_behind_cached_page",
        &["chain-c==1.0"],
        &["chain-c"],
        &[],
    );
    // The page came from the cache (no request for it), the file did not match it.
    let requests = case.index.requests();
    assert!(
        !requests
            .iter()
            .any(|r| r.starts_with("GET /simple/chain-c/")),
        "the page was fetched again: {requests:?}"
    );
    let stderr = out.stderr();
    assert!(stderr.contains("sha256"), "{stderr}");
}

#[test]
fn hostile_network_401_without_credentials() {
    let case = Case::new(Api::Simple);
    case.index.require_basic_auth("user", "s3cret");
    let out = assert_alpha_refused(
        &case,
        "hostile_network_401_without_credentials",
        &[
            "the index host `127.0.0.1` refused access",
            "HTTP 401",
            "~/.netrc",
        ],
    );
    assert!(!out.stderr().contains("s3cret"));
}

#[test]
fn hostile_network_redirect_to_file_url() {
    let case = Case::new(Api::Simple);
    let secret = case.plonk.tmp().join("secret.whl");
    fs::write(&secret, "local secret\n").unwrap();
    case.index.redirect(
        &package_path(&case.backbone.alpha),
        &format!("file://{}", secret.display()),
    );
    assert_alpha_refused(
        &case,
        "hostile_network_redirect_to_file_url",
        &["unsupported URL scheme"],
    );
}

#[test]
fn hostile_network_redirect_loop() {
    let case = Case::new(Api::Simple);
    let path = package_path(&case.backbone.alpha);
    case.index.redirect(&path, &path);
    assert_alpha_refused(
        &case,
        "hostile_network_redirect_loop",
        &["too many redirects"],
    );
}

#[test]
fn hostile_network_connection_refused() {
    let case = Case::new(Api::Simple);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/simple/");
    let mut cmd = command(&case, &url, &["install", "alpha"]);
    assert_cmd_refused(
        &case,
        "hostile_network_connection_refused",
        &mut cmd,
        &["alpha"],
        &["could not connect to"],
    );
}

// ---------------------------------------------------------------------------------------------
// Network: a raw loopback server for answers the fake index cannot give.

/// A loopback HTTP server answering each path with fixed bytes written verbatim (status
/// line, headers, body), so a test controls exactly what goes on the wire. Unknown paths get
/// a 404. Stops when dropped.
struct RawServer {
    url: String,
    /// The request heads received, in order.
    heads: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RawServer {
    /// Binds a port, asks `routes` for the answers (given the base URL) and serves them.
    fn start(routes: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<BTreeMap<String, Vec<u8>>> = Arc::new(routes(&url).into_iter().collect());
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Arc::clone(&heads);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let routes = Arc::clone(&routes);
                        let log = Arc::clone(&log);
                        std::thread::spawn(move || answer(stream, &routes, &log));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            url,
            heads,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head (logged) and writes the route's bytes (or a 404), then closes.
fn answer(
    mut stream: std::net::TcpStream,
    routes: &BTreeMap<String, Vec<u8>>,
    log: &std::sync::Mutex<Vec<String>>,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap_or_else(|p| p.into_inner()).push(head);
    let not_found = http_response("404 Not Found", "text/plain", b"not found\n", None);
    let bytes = routes.get(&path).unwrap_or(&not_found);
    if let Some(head) = bytes.strip_prefix(ENDLESS) {
        // Headers without a length, then spaces until the client hangs up (or 2 GiB, so a
        // client that never stops cannot keep the test running forever).
        let _ = stream.write_all(head);
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..(2usize << 30) / chunk.len() {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Marks a route whose body never ends (see [`endless_response`]).
const ENDLESS: &[u8] = b"\0endless\0";

/// A 200 response of `content_type` with no Content-Length whose body never ends.
fn endless_response(content_type: &str) -> Vec<u8> {
    let mut out = ENDLESS.to_vec();
    out.extend_from_slice(
        format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    out
}

/// An HTTP/1.1 response; `content_length` overrides the true body length when given.
fn http_response(
    status: &str,
    content_type: &str,
    body: &[u8],
    content_length: Option<usize>,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content_length.unwrap_or(body.len())
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A PEP 691 project page listing one wheel (with its `.metadata`), `size` as given.
fn simple_json_page(wheel: &WheelBuilder, bytes: &[u8], size: usize) -> Vec<u8> {
    let metadata = wheel.metadata();
    let body = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": wheel.name(),
        "files": [{
            "filename": wheel.filename(),
            "url": format!("../../files/{}", wheel.filename()),
            "hashes": {"sha256": sha256_hex(bytes)},
            "size": size,
            "core-metadata": {"sha256": sha256_hex(metadata.as_bytes())},
        }],
    });
    http_response(
        "200 OK",
        "application/vnd.pypi.simple.v1+json",
        body.to_string().as_bytes(),
        None,
    )
}

/// A raw server for one wheel: its project page (`size` as listed), its `.metadata`, and the
/// file as `file_response` makes it from the true bytes.
fn serve_wheel(
    wheel: &WheelBuilder,
    size: impl Fn(usize) -> usize,
    file_response: impl Fn(&[u8]) -> Vec<u8>,
) -> RawServer {
    let bytes = wheel.build_bytes();
    let page = simple_json_page(wheel, &bytes, size(bytes.len()));
    let metadata = http_response(
        "200 OK",
        "application/octet-stream",
        wheel.metadata().as_bytes(),
        None,
    );
    let file = file_response(&bytes);
    let name = crate::support::packages::normalize(wheel.name());
    let filename = wheel.filename();
    RawServer::start(move |_| {
        vec![
            (format!("/simple/{name}/"), page),
            (format!("/files/{filename}.metadata"), metadata),
            (format!("/files/{filename}"), file),
        ]
    })
}

fn bulky() -> WheelBuilder {
    WheelBuilder::new("bulky", "1.0")
        .file("bulky/__init__.py", "VALUE = 1\n")
        .file("bulky/data.txt", "x".repeat(64 * 1024))
}

#[test]
fn hostile_network_more_bytes_than_content_length() {
    let case = Case::new(Api::Simple);
    // The true file, then 1 MiB of junk past its Content-Length: the junk is never read.
    let server = serve_wheel(
        &bulky(),
        |len| len,
        |bytes| {
            let mut body = bytes.to_vec();
            body.extend(std::iter::repeat_n(b'J', 1 << 20));
            http_response(
                "200 OK",
                "application/octet-stream",
                &body,
                Some(bytes.len()),
            )
        },
    );
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    let out = case.plonk.run_cmd(&mut cmd);
    show("hostile_network_more_bytes_than_content_length", &out);
    out.assert_success();
    assert_installed(&case, &[("bulky", "1.0")]);
    crate::install::assert_record_valid(&case.venv, &case.dist_info("bulky"));
}

#[test]
fn hostile_network_content_length_shorter_than_file() {
    let case = Case::new(Api::Simple);
    // Content-Length announces half the wheel and the whole wheel follows: plonk reads what
    // was announced, which does not match the listed sha256.
    let server = serve_wheel(
        &bulky(),
        |len| len,
        |bytes| {
            http_response(
                "200 OK",
                "application/octet-stream",
                bytes,
                Some(bytes.len() / 2),
            )
        },
    );
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    assert_cmd_refused(
        &case,
        "hostile_network_content_length_shorter_than_file",
        &mut cmd,
        &["bulky"],
        &["sha256"],
    );
}

#[test]
fn hostile_network_more_bytes_than_index_size() {
    let case = Case::new(Api::Simple);
    // The index lists the file as 100 bytes; the server sends all of it.
    let server = serve_wheel(
        &bulky(),
        |_| 100,
        |bytes| http_response("200 OK", "application/octet-stream", bytes, None),
    );
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    assert_cmd_refused(
        &case,
        "hostile_network_more_bytes_than_index_size",
        &mut cmd,
        &["bulky"],
        &["sent more than the 100 bytes expected"],
    );
}

#[test]
fn hostile_network_html_instead_of_json() {
    let case = Case::new(Api::Json);
    // A captive portal or proxy answering 200 with HTML on the JSON API.
    let server = RawServer::start(|_| {
        vec![(
            "/pypi/bulky/json".to_string(),
            http_response(
                "200 OK",
                "text/html",
                b"<!DOCTYPE html><html><body>Please log in to the Wi-Fi</body></html>",
                None,
            ),
        )]
    });
    let url = format!("{}/pypi/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    assert_cmd_refused(
        &case,
        "hostile_network_html_instead_of_json",
        &mut cmd,
        &["bulky"],
        &[],
    );
}

#[test]
fn hostile_network_truncated_json() {
    let case = Case::new(Api::Json);
    let server = RawServer::start(|_| {
        vec![(
            "/pypi/bulky/json".to_string(),
            http_response(
                "200 OK",
                "application/json",
                b"{\"info\": {\"name\": \"bulky\", \"version\": \"1.0\"}, \"releases\": {\"1.0\": [",
                None,
            ),
        )]
    });
    let url = format!("{}/pypi/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    assert_cmd_refused(
        &case,
        "hostile_network_truncated_json",
        &mut cmd,
        &["bulky"],
        &[],
    );
}

#[test]
fn hostile_network_json_wrong_types() {
    let case = Case::new(Api::Json);
    // Valid JSON, wrong shapes: numbers for names, a string for a file list, null URLs.
    let server = RawServer::start(|_| {
        let body = serde_json::json!({
            "info": {"name": 7, "version": ["1.0"], "requires_dist": "chain-c"},
            "releases": {
                "1.0": "evil-1.0-py3-none-any.whl",
                "2.0": [{"filename": 42, "url": null, "digests": "sha256"}],
                "3.0": [null, true, {"filename": "evil-3.0-py3-none-any.whl"}],
            },
            "urls": {"not": "a list"},
        });
        vec![(
            "/pypi/evil/json".to_string(),
            http_response(
                "200 OK",
                "application/json",
                body.to_string().as_bytes(),
                None,
            ),
        )]
    });
    let url = format!("{}/pypi/", server.url);
    let mut cmd = command(&case, &url, &["install", "evil"]);
    assert_cmd_refused(
        &case,
        "hostile_network_json_wrong_types",
        &mut cmd,
        &["evil"],
        &[],
    );
}

#[test]
fn hostile_network_absurd_versions_in_index() {
    let case = Case::new(Api::Simple);
    // Links whose versions overflow every integer type or are not versions at all sit next
    // to a good file: they are skipped, the good one is installed.
    let wheel = evil("1.0");
    let bytes = wheel.build_bytes();
    let sha = sha256_hex(&bytes);
    let filename = wheel.filename();
    let server = RawServer::start(|_| {
        let mut page = String::from("<!DOCTYPE html><html><body>\n");
        let bad_names = [
            "evil-99999999999999999999999999999.0-py3-none-any.whl".to_string(),
            format!("evil-{}1-py3-none-any.whl", "0.".repeat(300)),
            "evil-not.a.version-py3-none-any.whl".to_string(),
            "evil-%00-py3-none-any.whl".to_string(),
            "evil-2.0.tar.gz.exe".to_string(),
        ];
        for bad in &bad_names {
            page.push_str(&format!(
                "<a href=\"../../files/{bad}#sha256={sha}\">{bad}</a>\n"
            ));
        }
        page.push_str(&format!(
            "<a href=\"../../files/{filename}#sha256={sha}\">{filename}</a>\n</body></html>\n"
        ));
        vec![
            (
                "/simple/evil/".to_string(),
                http_response("200 OK", "text/html", page.as_bytes(), None),
            ),
            (
                format!("/files/{filename}"),
                http_response("200 OK", "application/octet-stream", &bytes, None),
            ),
        ]
    });
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "evil"]);
    let out = case.plonk.run_cmd(&mut cmd);
    show("hostile_network_absurd_versions_in_index", &out);
    out.assert_success();
    assert!(!out.stderr().contains("internal bug"), "{}", out.stderr());
    assert_installed(&case, &[("evil", "1.0")]);
}

#[test]
fn hostile_network_not_http() {
    let case = Case::new(Api::Simple);
    // Something that is not an HTTP server at all (an SSH banner).
    let server = RawServer::start(|_| {
        vec![(
            "/simple/bulky/".to_string(),
            b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(),
        )]
    });
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    assert_cmd_refused(&case, "hostile_network_not_http", &mut cmd, &["bulky"], &[]);
}

#[test]
fn hostile_network_endless_index_page() {
    let case = Case::new(Api::Simple);
    // A project page that never ends: plonk stops reading at its page bound.
    let server = RawServer::start(|_| {
        vec![(
            "/simple/bulky/".to_string(),
            endless_response("application/vnd.pypi.simple.v1+json"),
        )]
    });
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    let started = std::time::Instant::now();
    assert_cmd_refused(
        &case,
        "hostile_network_endless_index_page",
        &mut cmd,
        &["bulky"],
        &["/simple/bulky/ sent more than the 268435456 bytes expected"],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn hostile_network_endless_single_file_plugin() {
    let case = Case::new(Api::Json);
    let server = RawServer::start(|_| {
        vec![(
            "/raw/endless.py".to_string(),
            endless_response("text/plain"),
        )]
    });
    let src = format!("{}/raw/endless.py", server.url);
    install_single(
        &case,
        "hostile_network_endless_single_file_plugin",
        &src,
        &["sent more than the 4194304 bytes expected"],
    );
}

#[test]
fn hostile_index_endless_body() {
    let case = Case::new(Api::Json);
    let cache = case.plonk.tutor_root.join("env/plugins/index/cache.yml");
    let cached = fs::read(&cache).unwrap();
    let server = RawServer::start(|_| {
        vec![(
            "/main/plugins.yml".to_string(),
            endless_response("application/yaml"),
        )]
    });
    fs::write(
        case.tutor_config(),
        format!("PLUGIN_INDEXES:\n- {}\n", server.url),
    )
    .unwrap();
    let out = case.plonk.run(["--release", "main", "update"]);
    show("hostile_index_endless_body", &out);
    assert_one_sentence_after(
        &out,
        &["warning: "],
        &["none of the 1 plugin indexes could be fetched"],
        &[
            &format!("{}/main/plugins.yml", server.url),
            "sent more than the 33554432 bytes expected",
        ],
    );
    assert_eq!(
        fs::read(&cache).unwrap(),
        cached,
        "the old cache was replaced"
    );
}

#[test]
fn hostile_network_path_in_file_name() {
    let case = Case::new(Api::Simple);
    // A link whose file name, once decoded, climbs out of the download folder.
    let wheel = bulky();
    let bytes = wheel.build_bytes();
    let sha = sha256_hex(&bytes);
    let server = RawServer::start(|_| {
        let page = format!(
            "<!DOCTYPE html><html><body>\
             <a href=\"../../files/..%2F..%2F..%2F..%2Fbulky-1.0-py3-none-any.whl#sha256={sha}\">../../../../bulky-1.0-py3-none-any.whl</a>\
             </body></html>"
        );
        vec![
            (
                "/simple/bulky/".to_string(),
                http_response("200 OK", "text/html", page.as_bytes(), None),
            ),
            (
                "/files/..%2F..%2F..%2F..%2Fbulky-1.0-py3-none-any.whl".to_string(),
                http_response("200 OK", "application/octet-stream", &bytes, None),
            ),
        ]
    });
    let url = format!("{}/simple/", server.url);
    let mut cmd = command(&case, &url, &["install", "bulky"]);
    let sandbox_before = snapshot_ignoring(case.plonk.tmp(), &["venv"]);
    let out = case.plonk.run_cmd(&mut cmd);
    show("hostile_network_path_in_file_name", &out);
    if out.code() == Some(0) {
        // Tolerated: the name was used as a name, never as a path.
        assert_installed(&case, &[("bulky", "1.0")]);
    } else {
        assert_one_sentence(&out, &["bulky"], &[]);
        assert_installed(&case, &[]);
    }
    // No file landed next to the cache or anywhere else in the sandbox.
    let after = snapshot_ignoring(case.plonk.tmp(), &["venv"]);
    let stray: Vec<String> = after
        .keys()
        .filter(|k| !sandbox_before.contains_key(*k))
        .filter(|k| !k.starts_with("cache/") && !k.starts_with("cache"))
        .cloned()
        .collect();
    assert_eq!(stray, Vec::<String>::new());
    let name_outside: Vec<String> = after
        .keys()
        .filter(|k| k.ends_with("bulky-1.0-py3-none-any.whl"))
        .filter(|k| !k.starts_with("cache/"))
        .cloned()
        .collect();
    assert_eq!(name_outside, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Single-file plugins.

/// Points the case's plugin index at `src` for the plugin `single`, then installs it.
fn install_single(case: &Case, test: &str, src: &str, details: &[&str]) -> RunOutput {
    set_plugin_index(case, &format!("- name: single\n  src: {src}\n"));
    let plugins_before = snapshot_ignoring(&case.plonk.plugins_root, &[]);
    let out = assert_refused(case, test, &["single"], &["single"], details);
    assert_same_tree(
        &plugins_before,
        &snapshot_ignoring(&case.plonk.plugins_root, &[]),
    );
    out
}

#[test]
fn hostile_single_file_name_with_a_path() {
    let case = Case::new(Api::Json);
    // The last URL segment decodes to `../../evil.yml`: never a path in the plugins root.
    let server = RawServer::start(|_| {
        vec![(
            "/files/..%2F..%2Fevil.yml".to_string(),
            http_response(
                "200 OK",
                "application/yaml",
                b"name: evil\nversion: 1.0\n",
                None,
            ),
        )]
    });
    let src = format!("{}/files/..%2F..%2Fevil.yml", server.url);
    install_single(
        &case,
        "hostile_single_file_name_with_a_path",
        &src,
        &["`..%2F..%2Fevil` cannot be a plugin name"],
    );
    assert!(!case.plonk.tmp().join("evil.yml").exists());
}

#[test]
fn hostile_single_file_html_page() {
    let case = Case::new(Api::Json);
    // A gist URL that now answers with a login page.
    let server = RawServer::start(|_| {
        vec![(
            "/raw/notes.py".to_string(),
            http_response(
                "200 OK",
                "text/html; charset=utf-8",
                b"<!DOCTYPE html><html><body>Sign in</body></html>",
                None,
            ),
        )]
    });
    let src = format!("{}/raw/notes.py", server.url);
    install_single(&case, "hostile_single_file_html_page", &src, &["HTML"]);
}

// ---------------------------------------------------------------------------------------------
// More archive and network tricks.

#[test]
fn hostile_wheel_metadata_bomb() {
    let case = Case::new(Api::Json);
    // METADATA declares 100 bytes and inflates to 20 MiB; plonk reads it over HTTP ranges.
    let wheel = Tampered::from(&evil("1.0"));
    let metadata = format!("{}/METADATA", wheel.dist_info);
    let mut text = String::from("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nDescription: ");
    text.push_str(&" ".repeat(20 << 20));
    text.push('\n');
    let wheel = wheel.set(&metadata, text).rehash(&[]);
    let mut bytes = wheel.bytes();
    patch_declared_size(&mut bytes, &metadata, 100);
    fs::write(case.dists.join(&wheel.filename), bytes).unwrap();
    let out = assert_refused(
        &case,
        "hostile_wheel_metadata_bomb",
        &["evil"],
        &["evil"],
        &["METADATA"],
    );
    assert!(
        !out.stderr().contains("source distribution"),
        "a wheel is not a source distribution:\n{}",
        out.stderr()
    );
}

#[test]
fn hostile_sdist_zip_symlink_escaping() {
    let case = Case::new(Api::Json);
    // The same project as a `.zip` sdist, with a symlink member leading out of it.
    let builder = SdistBuilder::hatchling("evil-sdist", "1.0")
        .package("evilsdist")
        .file("evilsdist/__init__.py", "");
    let mut members = Vec::new();
    let gz = builder.build_bytes();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_slice()));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        members.push(Member::File(name, data));
    }
    members.push(Member::Symlink(
        "evil_sdist-1.0/etc".to_string(),
        "../../../../../../etc".to_string(),
    ));
    // Only the zip writer of `Tampered` is used: an sdist has no `.dist-info`.
    let zip = Tampered {
        filename: "evil_sdist-1.0.zip".to_string(),
        dist_info: String::new(),
        members,
    };
    zip.write(&case.dists);
    assert_refused(
        &case,
        "hostile_sdist_zip_symlink_escaping",
        &["evil-sdist"],
        NOT_BUILT,
        &["unsafe entry `evil_sdist-1.0/etc`: the link points outside the project folder"],
    );
}

/// A PAX extended-header record (`<len> <key>=<value>\n`, `len` counting itself).
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

#[test]
fn hostile_sdist_pax_path_escape() {
    let case = Case::new(Api::Json);
    // An innocent ustar name, overridden by a PAX `path` record that climbs out.
    sdist_with_members(
        &case.dists,
        &[
            raw_tar(
                "evil_sdist-1.0/PaxHeader",
                tar::EntryType::XHeader,
                &pax_record("path", "evil_sdist-1.0/../../../../pax-escaped.txt"),
                None,
            ),
            raw_tar(
                "evil_sdist-1.0/innocent.txt",
                tar::EntryType::Regular,
                b"escaped\n",
                None,
            ),
        ],
    );
    assert_refused(
        &case,
        "hostile_sdist_pax_path_escape",
        &["evil-sdist"],
        NOT_BUILT,
        &["`evil_sdist-1.0/../../../../pax-escaped.txt`: its path contains `..`"],
    );
}

#[test]
fn hostile_network_redirect_keeps_credentials_home() {
    let case = Case::new(Api::Simple);
    case.index.require_basic_auth("user", "s3cret");
    // The index sends the download to another host (port): the credentials stay behind.
    let alpha = fs::read(case.dists.join(&case.backbone.alpha)).unwrap();
    let file = case.backbone.alpha.clone();
    let other = RawServer::start(|_| {
        vec![(
            format!("/files/{file}"),
            http_response("200 OK", "application/octet-stream", &alpha, None),
        )]
    });
    case.index.redirect(
        &package_path(&case.backbone.alpha),
        &format!("{}/files/{}", other.url, case.backbone.alpha),
    );
    let url = case
        .index
        .url_with_credentials("user", "s3cret", "/simple/");
    let mut cmd = command(&case, &url, &["install", "alpha"]);
    let out = case.plonk.run_cmd(&mut cmd);
    show("hostile_network_redirect_keeps_credentials_home", &out);
    out.assert_success();
    assert!(!out.stderr().contains("s3cret"), "{}", out.stderr());
    let heads = other.heads.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the redirect was not followed");
    for head in heads {
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "credentials sent to another host:\n{head}"
        );
    }
    assert!(case.installed().contains_key("alpha"));
}

// ---------------------------------------------------------------------------------------------
// Terminal control sequences in text that comes from an index or an archive.

/// Whether `text` holds a terminal control character (ESC, BEL, CSI, carriage return…).
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[test]
fn hostile_index_terminal_escapes_in_description() {
    let case = Case::new(Api::Json);
    set_plugin_index(
        &case,
        "- name: evil\n  src: tutor-evil\n  description: \"\\e[2J\\e]0;pwned\\a \\e[31mred\\e[0m\\r\"\n",
    );
    let out = case.run(&["search", "evil"]);
    show("hostile_index_terminal_escapes_in_description", &out);
    out.assert_success();
    assert!(
        !has_control(&out.stdout()) && !has_control(&out.stderr()),
        "control characters reach the terminal: {:?}",
        out.stdout()
    );
}

#[test]
fn hostile_wheel_terminal_escapes_in_entry_name() {
    let case = Case::new(Api::Json);
    evil("1.0")
        .raw_entry(
            "evil/\u{1b}[2J\u{1b}]0;pwned\u{7}/../../x.py",
            "x = 1\n",
            true,
        )
        .build(&case.dists);
    let out = assert_refused(
        &case,
        "hostile_wheel_terminal_escapes_in_entry_name",
        &["evil"],
        NOT_INSTALLED,
        &["unsafe entry"],
    );
    assert!(
        !has_control(&out.stderr()),
        "control characters reach the terminal: {:?}",
        out.stderr()
    );
}
