//! `plonk upgrade` (issue "sources"): three index plugins, one of which has no newer version
//! compatible with the installed Tutor. Partial by default (exit 0, two upgraded, one held back
//! with its reason); `--strict` fails with nothing changed; `--dry-run --json` shows the plan.

use std::fs;

use crate::install::{Api, Case};
use crate::support::packages::WheelBuilder;
use crate::support::tree::assert_same_tree;

const RELEASES: &[&str] = &[
    "olive", "palm", "quince", "redwood", "sumac", "teak", "ulmo", "verawood", "main",
];

/// A wheel plugin `tutor-<short>` with entry point `<short>`, requiring `tutor<spec>`.
fn plugin(short: &str, version: &str, tutor: &str) -> WheelBuilder {
    let package = format!("tutor{short}");
    WheelBuilder::new(&format!("tutor-{short}"), version)
        .summary(&format!("{short} plugin for Tutor (fake)"))
        .requires(&format!("tutor{tutor}"))
        .file(&format!("{package}/__init__.py"), "")
        .file(
            &format!("{package}/plugin.py"),
            format!("VERSION = {version:?}\n"),
        )
        .entry_point("tutor.plugin.v1", short, &format!("{package}.plugin"))
}

/// Rewrites the local plugin index with `entries` (`(name, src)`) and updates the cache.
fn set_index(case: &Case, entries: &[(&str, &str)]) {
    let text: String = entries
        .iter()
        .map(|(name, src)| format!("- name: {name}\n  src: {src}\n"))
        .collect();
    for release in RELEASES {
        let dir = case.plonk.tmp().join("plugin-index").join(release);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plugins.yml"), &text).unwrap();
    }
    case.run(&["--release", "verawood", "update"])
        .assert_success();
}

/// Tutor 22 with up1, up2, up3 at 1.0; then 1.1 of each appears, up3's needing Tutor 23.
fn three_plugins() -> Case {
    let case = Case::new(Api::Json);
    set_index(
        &case,
        &[
            ("up1", "tutor-up1"),
            ("up2", "tutor-up2"),
            ("up3", "tutor-up3"),
        ],
    );
    for short in ["up1", "up2", "up3"] {
        plugin(short, "1.0", ">=22,<23").build(&case.dists);
    }
    case.install(&["tutor==22.0.0"]).assert_success();
    case.install(&["up1", "up2", "up3"]).assert_success();
    plugin("up1", "1.1", ">=22,<23").build(&case.dists);
    plugin("up2", "1.1", ">=22,<23").build(&case.dists);
    plugin("up3", "1.1", ">=23,<24").build(&case.dists);
    crate::support::scenarios::tutor_wheel("23.0.0").build(&case.dists);
    case
}

fn versions(case: &Case) -> Vec<(String, String)> {
    let installed = case.installed();
    ["tutor", "tutor-up1", "tutor-up2", "tutor-up3"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                installed.get(*n).cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn partial_by_default_strict_on_request() {
    let case = three_plugins();
    let before = case.tree();

    // The plan, as JSON, changes nothing.
    let out = case.run(&["upgrade", "--dry-run", "--json"]);
    out.assert_success();
    let plan = out.json();
    assert_eq!(plan["dry_run"], true);
    let rows = plan["plugins"].as_array().unwrap();
    let status = |name: &str| {
        rows.iter()
            .find(|r| r["plugin"] == name)
            .unwrap_or_else(|| panic!("no row for {name}: {plan}"))
            .clone()
    };
    assert_eq!(status("up1")["status"], "upgraded");
    assert_eq!(status("up1")["to"], "1.1");
    assert_eq!(status("up2")["status"], "upgraded");
    assert_eq!(status("up3")["status"], "held-back");
    let reason = status("up3")["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("tutor"), "{reason}");
    assert!(!reason.contains('\n'));
    assert_same_tree(&before, &case.tree());

    // --strict: one plugin cannot move, so nothing does.
    let out = case.run(&["upgrade", "--strict"]);
    out.assert_failure(1);
    let stderr = out.stderr();
    eprintln!("{}", out.stderr_redacted());
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("up3") && stderr.contains("--strict"),
        "{stderr}"
    );
    assert_same_tree(&before, &case.tree());
    assert_eq!(
        versions(&case),
        pairs(&[
            ("tutor", "22.0.0"),
            ("tutor-up1", "1.0"),
            ("tutor-up2", "1.0"),
            ("tutor-up3", "1.0")
        ])
    );

    // Partial: two upgraded, one held back with its reason on its line.
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    // Shown with `--nocapture`, to read what users get.
    eprintln!("{}\n{}", out.stdout_redacted(), out.stderr_redacted());
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
            .to_string()
    };
    assert!(
        line("up1").contains("upgraded") && line("up1").contains("1.1"),
        "{stdout}"
    );
    assert!(line("up2").contains("upgraded"), "{stdout}");
    assert!(
        line("up3").contains("held back") && line("up3").contains("tutor"),
        "{stdout}"
    );
    assert_eq!(
        versions(&case),
        pairs(&[
            ("tutor", "22.0.0"),
            ("tutor-up1", "1.1"),
            ("tutor-up2", "1.1"),
            ("tutor-up3", "1.0")
        ])
    );

    // Again: the two are newest, the third still held back; exit 0.
    let out = case.run(&["upgrade", "all"]);
    out.assert_success();
    assert!(out.stdout().contains("already newest"), "{}", out.stdout());
}

#[test]
fn a_plugin_that_blocks_the_others_is_held_back() {
    let case = three_plugins();
    // up3's entry now asks for a version that needs another Tutor: resolving all three
    // together fails, and up3 is found to be the blocker.
    set_index(
        &case,
        &[
            ("up1", "tutor-up1"),
            ("up2", "tutor-up2"),
            ("up3", "tutor-up3>=1.1"),
        ],
    );
    let before = case.tree();
    let out = case.run(&["upgrade", "--strict"]);
    out.assert_failure(1);
    assert_same_tree(&before, &case.tree());

    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    eprintln!("{}\n{}", out.stdout_redacted(), out.stderr_redacted());
    let up3 = stdout
        .lines()
        .find(|l| l.starts_with("up3"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        up3.contains("held back") && up3.contains("tutor"),
        "{stdout}"
    );
    assert_eq!(
        versions(&case),
        pairs(&[
            ("tutor", "22.0.0"),
            ("tutor-up1", "1.1"),
            ("tutor-up2", "1.1"),
            ("tutor-up3", "1.0")
        ])
    );
}

#[test]
fn naming_plugins_upgrades_only_those_and_unknown_names_fail() {
    let case = three_plugins();
    let out = case.run(&["upgrade", "up2"]);
    out.assert_success();
    assert_eq!(
        versions(&case),
        pairs(&[
            ("tutor", "22.0.0"),
            ("tutor-up1", "1.0"),
            ("tutor-up2", "1.1"),
            ("tutor-up3", "1.0")
        ])
    );
    let before = case.tree();
    let out = case.run(&["upgrade", "nosuchplugin"]);
    out.assert_failure(1);
    assert!(out.stderr().contains("nosuchplugin"), "{}", out.stderr());
    assert_same_tree(&before, &case.tree());
}

// The memo of a run that changed nothing (issue 5, [speed] W3): the next run prints the same
// report without resolving, unless something it depended on moved.

/// The upgrade memo of the case's venv.
fn memo_path(case: &Case) -> std::path::PathBuf {
    case.venv.join(".plonk").join("upgrade-memo.json")
}

/// Writes a mark into every row of the remembered report: a run that prints the mark printed
/// the memo, one that does not resolved.
fn mark_memo(case: &Case) {
    let path = memo_path(case);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no upgrade memo at {}: {e}", path.display()));
    let mut memo: serde_json::Value = serde_json::from_str(&text).unwrap();
    for row in memo["report"]["plugins"].as_array_mut().unwrap() {
        row["reason"] = "FROM THE MEMO".into();
    }
    fs::write(&path, serde_json::to_vec(&memo).unwrap()).unwrap();
}

/// The STATUS and REASON of `name`'s line in `upgrade`'s table.
fn table_line(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
        .to_string()
}

/// Tutor 22 with up1 and up3 at 1.0; up3 1.1 appears, needing `helper>=2`, of which only 1.0
/// exists: up1 is already newest, up3 held back because of helper.
fn held_back_by_a_dependency() -> Case {
    let case = Case::new(Api::Json);
    set_index(&case, &[("up1", "tutor-up1"), ("up3", "tutor-up3")]);
    WheelBuilder::new("helper", "1.0")
        .file("helper/__init__.py", "")
        .build(&case.dists);
    plugin("up1", "1.0", ">=22,<23").build(&case.dists);
    plugin("up3", "1.0", ">=22,<23").build(&case.dists);
    case.install(&["tutor==22.0.0"]).assert_success();
    case.install(&["up1", "up3"]).assert_success();
    plugin("up3", "1.1", ">=22,<23")
        .requires("helper>=2")
        .build(&case.dists);
    case
}

#[test]
fn a_run_with_nothing_to_do_is_remembered_and_printed_again() {
    let case = held_back_by_a_dependency();
    let first = case.run(&["upgrade"]);
    first.assert_success();
    let stdout = first.stdout();
    assert!(
        table_line(&stdout, "up1").contains("already newest"),
        "{stdout}"
    );
    let up3 = table_line(&stdout, "up3");
    assert!(
        up3.contains("held back") && up3.contains("helper"),
        "{stdout}"
    );
    assert!(memo_path(&case).is_file());

    // The same table and summary again, and the same JSON as a run without the memo.
    let again = case.run(&["upgrade"]);
    again.assert_success();
    assert_eq!(again.stdout(), stdout);
    assert_eq!(again.stderr_redacted(), first.stderr_redacted());
    fs::remove_file(memo_path(&case)).unwrap();
    let resolved = case.run(&["upgrade", "--json"]);
    resolved.assert_success();
    assert!(memo_path(&case).is_file());
    let remembered = case.run(&["upgrade", "--json"]);
    remembered.assert_success();
    assert_eq!(remembered.json(), resolved.json());

    // It is the memo that answers.
    mark_memo(&case);
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(out.stdout().contains("FROM THE MEMO"), "{}", out.stdout());
    // Dry and strict runs always resolve.
    let out = case.run(&["upgrade", "--dry-run"]);
    assert!(!out.stdout().contains("FROM THE MEMO"), "{}", out.stdout());
    let out = case.run(&["upgrade", "--strict"]);
    out.assert_failure(1);
    assert!(out.stderr().contains("helper"), "{}", out.stderr());
}

#[test]
fn the_memo_misses_when_the_index_moves() {
    let case = held_back_by_a_dependency();
    case.run(&["upgrade"]).assert_success();

    // A dependency's new version makes the held-back plugin installable.
    mark_memo(&case);
    let helper = WheelBuilder::new("helper", "2.0").file("helper/__init__.py", "");
    let helper_file = helper.filename();
    helper.build(&case.dists);
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(!stdout.contains("FROM THE MEMO"), "{stdout}");
    let up3 = table_line(&stdout, "up3");
    assert!(up3.contains("upgraded") && up3.contains("1.1"), "{stdout}");
    assert_eq!(
        case.installed().get("helper").map(String::as_str),
        Some("2.0")
    );

    // Everything is newest now; then a plugin's new version appears.
    let out = case.run(&["upgrade"]);
    out.assert_success();
    assert!(
        table_line(&out.stdout(), "up3").contains("already newest"),
        "{}",
        out.stdout()
    );
    mark_memo(&case);
    assert!(case.run(&["upgrade"]).stdout().contains("FROM THE MEMO"));
    plugin("up1", "1.1", ">=22,<23").build(&case.dists);
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(!stdout.contains("FROM THE MEMO"), "{stdout}");
    assert!(table_line(&stdout, "up1").contains("upgraded"), "{stdout}");
    assert_eq!(
        case.installed().get("tutor-up1").map(String::as_str),
        Some("1.1")
    );

    // A yanked file changes what the index offers too.
    case.run(&["upgrade"]).assert_success();
    mark_memo(&case);
    case.index.set_yanked(&helper_file);
    let out = case.run(&["upgrade"]);
    assert!(!out.stdout().contains("FROM THE MEMO"), "{}", out.stdout());
}

#[test]
fn the_memo_misses_when_the_environment_or_the_entries_change() {
    let case = held_back_by_a_dependency();
    case.run(&["upgrade"]).assert_success();

    // Another distribution installed.
    mark_memo(&case);
    case.install(&["helper==1.0"]).assert_success();
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(!stdout.contains("FROM THE MEMO"), "{stdout}");
    assert!(table_line(&stdout, "up3").contains("held back"), "{stdout}");

    // The index entry of a plugin changed.
    mark_memo(&case);
    set_index(&case, &[("up1", "tutor-up1"), ("up3", "tutor-up3<1.1")]);
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(!stdout.contains("FROM THE MEMO"), "{stdout}");
    assert!(
        table_line(&stdout, "up3").contains("already newest"),
        "{stdout}"
    );

    // A plugin removed.
    mark_memo(&case);
    case.remove(&["up1"]).assert_success();
    let out = case.run(&["upgrade"]);
    out.assert_success();
    let stdout = out.stdout();
    assert!(!stdout.contains("FROM THE MEMO"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("up1")), "{stdout}");

    // Naming plugins is another question.
    mark_memo(&case);
    let out = case.run(&["upgrade", "up3"]);
    assert!(!out.stdout().contains("FROM THE MEMO"), "{}", out.stdout());
}
