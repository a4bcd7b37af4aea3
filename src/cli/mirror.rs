//! `plonk mirror DIR [NAME…]`: settles the release, the plugin indexes, the targets and the
//! build interpreter, runs the operation and prints what changed in the mirror.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use crate::environment::Interpreter;
use crate::mirror::{PlatformSpec, PythonVersion, target_for};
use crate::ops::mirror::{MirrorContext, MirrorOptions, MirrorReport};
use crate::ops::{self, Reporter};

use super::args::MirrorArgs;
use super::commands::{cache, find_env, http_client, index_locations};
use super::indexes::{index_paths, release};
use super::{CmdResult, Printer, Settings};

/// `plonk mirror`.
pub async fn mirror(args: MirrorArgs, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    let python_versions = args
        .python_versions
        .iter()
        .map(|v| v.parse::<PythonVersion>())
        .collect::<Result<Vec<_>, _>>()?;
    let platforms = args
        .platforms
        .iter()
        .map(|p| p.parse::<PlatformSpec>())
        .collect::<Result<Vec<_>, _>>()?;

    // The environment, when there is one, gives the release and builds like the host would.
    let env = find_env(settings).await.ok();
    let release = match release(settings, env.as_ref(), printer)? {
        Some(release) => release,
        None => {
            let newest = crate::index::embedded_releases()
                .filter(|r| *r != "main")
                .last()
                .unwrap_or("main")
                .to_string();
            printer.status(&format!(
                "No --release given and no Tutor found: mirroring the indexes of {newest}"
            ));
            newest
        }
    };
    let cache = cache(settings);
    let build = match &env {
        Some(env) => env.interpreter.clone(),
        None => {
            let python = find_python(settings).ok_or(
                "plonk mirror builds sdists with a Python interpreter: put `python3` on PATH or pass --python",
            )?;
            let c = cache.clone();
            tokio::task::spawn_blocking(move || Interpreter::query(&python, Some(&c))).await??
        }
    };

    let mut targets = Vec::new();
    let versions: Vec<Option<PythonVersion>> = if python_versions.is_empty() {
        vec![None]
    } else {
        python_versions.into_iter().map(Some).collect()
    };
    let platform_list: Vec<Option<&PlatformSpec>> = if platforms.is_empty() {
        vec![None]
    } else {
        platforms.iter().map(Some).collect()
    };
    for version in &versions {
        for platform in &platform_list {
            targets.push(target_for(&build, *version, *platform)?);
        }
    }

    let paths = index_paths(settings);
    let indexes = if args.indexes.is_empty() {
        crate::index::IndexConfig::open(&paths)?.indexes()
    } else {
        let cwd = std::env::current_dir()?;
        args.indexes
            .iter()
            .map(|i| crate::index::normalize_index(i, &cwd))
            .collect()
    };
    let ctx = MirrorContext {
        cache,
        http: http_client(settings)?,
        locations: index_locations(settings),
        build,
        index_http_cache: paths.http_cache_dir(),
    };
    let opts = MirrorOptions {
        dir: args.dir,
        names: args.names,
        release,
        indexes,
        targets,
        prune: args.prune,
    };
    let reporter = Arc::clone(printer) as Arc<dyn Reporter>;
    let report = ops::mirror::mirror(&ctx, opts, reporter).await?;
    print_report(&report, printer);
    Ok(0)
}

/// `python3` on PATH.
fn find_python(settings: &Settings) -> Option<PathBuf> {
    let path = settings.path_var.as_ref()?;
    std::env::split_paths(path)
        .map(|dir| dir.join("python3"))
        .find(|p| p.is_file())
}

fn print_report(report: &MirrorReport, printer: &Printer) {
    if printer.output().json {
        // A lossy string: a `Path` that is not UTF-8 would make `json!` panic.
        let value = json!({
            "dir": report.dir.to_string_lossy(),
            "release": report.release,
            "plugins": report.plugins,
            "skipped": report.skipped,
            "targets": report.targets,
            "packages": report.packages,
            "added": report.added,
            "kept": report.kept,
            "removed": report.removed,
            "downloaded": report.downloaded,
            "built": report.built,
        });
        match serde_json::to_string_pretty(&value) {
            Ok(text) => printer.out(&text),
            Err(err) => printer.err(&format!("error: cannot render JSON: {err}")),
        }
        return;
    }
    let seconds = report.elapsed.as_secs_f64();
    let time = if seconds >= 1.0 {
        format!("{seconds:.2}s")
    } else {
        format!("{}ms", report.elapsed.as_millis())
    };
    printer.status(&format!(
        "Mirrored {} plugin{} ({} packages) of {} into {} in {time} · Downloaded {} · Built {} · Kept {} · Removed {}",
        report.plugins.len(),
        if report.plugins.len() == 1 { "" } else { "s" },
        report.packages,
        report.release,
        report.dir.display(),
        report.downloaded,
        report.built,
        report.kept,
        report.removed.len(),
    ));
    if printer.output().quiet == 0 {
        for file in &report.added {
            printer.out(&format!(" + {file}"));
        }
        for file in &report.removed {
            printer.out(&format!(" - {file}"));
        }
    }
    for skipped in &report.skipped {
        printer.status(&format!("Skipped `{}`: {}", skipped.name, skipped.reason));
    }
    for note in &report.notes {
        printer.status(note);
    }
}
