//! Updating the index cache (every configured index fetched in parallel, parsed, merged) and
//! loading the merged entries of a release: from the cache, else fetched now, else the copy
//! built into plonk.

use std::path::PathBuf;

use futures::future::join_all;

use super::IndexError;
use super::embedded::embedded_index;
use super::entry::{PluginEntry, SkippedEntry, merge, parse_index};
use super::fetch::{Freshness, fetch_index};
use super::location::index_file_location;
use super::store::{IndexConfig, IndexPaths, cache_is_for_release, read_cache, write_cache};
use crate::http::HttpClient;
use crate::ops::{ProgressKind, Reporter};

/// What the index stage needs to work.
pub struct IndexContext<'a> {
    /// Where the index list and cache live.
    pub paths: IndexPaths,
    /// The release whose index files are used; `None` when it could not be told (then only an
    /// existing cache can be read).
    pub release: Option<String>,
    /// The shared HTTP client (offline mode included).
    pub client: &'a HttpClient,
    /// Where progress and warnings go.
    pub reporter: &'a dyn Reporter,
    /// `--refresh`: fetch the indexes even when the cache is there.
    pub refresh: bool,
}

/// Where loaded entries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntriesOrigin {
    /// The index cache (possibly written just now).
    Cache,
    /// The `main` index built into plonk.
    Embedded,
}

/// The result of fetching one index.
#[derive(Debug)]
pub struct IndexOutcome {
    /// The index as configured (URL, path or alias).
    pub base: String,
    /// Its file for the release.
    pub location: String,
    /// The number of usable entries, or why the index was skipped.
    pub result: Result<usize, IndexError>,
    /// How the file was obtained, when it was.
    pub freshness: Option<Freshness>,
}

/// The result of [`update`].
#[derive(Debug)]
pub struct UpdateOutcome {
    /// The cache file.
    pub cache_path: PathBuf,
    /// Whether the cache lives in the Tutor project.
    pub tutor_cache: bool,
    /// The merged entries (empty when every index failed).
    pub entries: Vec<PluginEntry>,
    /// One outcome per configured index, in configuration order.
    pub indexes: Vec<IndexOutcome>,
    /// Entries dropped for want of a usable `name` or `src`.
    pub skipped: Vec<SkippedEntry>,
    /// Entries whose `src` plonk cannot parse (kept in the cache, as Tutor would).
    pub bad_sources: Vec<IndexError>,
    /// Whether the cache file was written.
    pub written: bool,
}

impl UpdateOutcome {
    /// Whether there were indexes and none of them could be used.
    pub fn all_failed(&self) -> bool {
        !self.indexes.is_empty() && self.indexes.iter().all(|i| i.result.is_err())
    }

    /// The indexes that failed.
    pub fn failures(&self) -> impl Iterator<Item = &IndexOutcome> {
        self.indexes.iter().filter(|i| i.result.is_err())
    }
}

/// An error and its causes on one line, for warnings: `a: b: c`, each sentence once.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Reports an update's soft failures: failed indexes, skipped entries, unusable sources.
pub fn report_outcome(outcome: &UpdateOutcome, reporter: &dyn Reporter) {
    for failed in outcome.failures() {
        if let Err(err) = &failed.result {
            reporter.warn(&format!("{}; skipped", error_chain(err)));
        }
    }
    for skipped in &outcome.skipped {
        reporter.warn(&skipped.to_string());
    }
    for bad in &outcome.bad_sources {
        reporter.warn(&error_chain(bad));
    }
}

/// Fetches every configured index for `ctx.release` in parallel, merges them (a later index
/// wins on a name clash) and writes the cache, unless every index failed: then the previous
/// cache is kept. Soft failures are in the outcome, for the caller to report.
pub async fn update(ctx: &IndexContext<'_>) -> Result<UpdateOutcome, IndexError> {
    let config = IndexConfig::open(&ctx.paths)?;
    update_with(ctx, &config, true).await
}

/// The release an operation needs, or the error that says how to give it.
fn required_release(ctx: &IndexContext<'_>) -> Result<String, IndexError> {
    ctx.release.clone().ok_or(IndexError::NoRelease)
}

async fn update_with(
    ctx: &IndexContext<'_>,
    config: &IndexConfig,
    write: bool,
) -> Result<UpdateOutcome, IndexError> {
    let release = required_release(ctx)?;
    let http_cache = ctx.paths.http_cache_dir();
    let fetches = config.indexes().into_iter().map(|base| {
        let location = index_file_location(&base, &release);
        let http_cache = http_cache.clone();
        async move {
            // Credentials in an index URL are never shown.
            let progress =
                ctx.reporter
                    .start(ProgressKind::Index, &crate::source::redact(&location), None);
            let fetched = fetch_index(ctx.client, &location, &http_cache).await;
            ctx.reporter.finish(progress);
            let parsed = fetched
                .and_then(|f| parse_index(&f.text, &location).map(|parsed| (parsed, f.freshness)));
            (base, location, parsed)
        }
    });
    let results = join_all(fetches).await;

    let mut outcome = UpdateOutcome {
        cache_path: config.cache_path().to_path_buf(),
        tutor_cache: config.is_tutor(),
        entries: Vec::new(),
        indexes: Vec::new(),
        skipped: Vec::new(),
        bad_sources: Vec::new(),
        written: false,
    };
    let mut all_entries = Vec::new();
    for (base, location, parsed) in results {
        match parsed {
            Ok((mut parsed, freshness)) => {
                // A plonk mirror's entries get their packages from the mirror.
                for entry in &mut parsed.entries {
                    super::routing::route_mirror_entry(entry);
                }
                outcome.indexes.push(IndexOutcome {
                    base,
                    location,
                    result: Ok(parsed.entries.len()),
                    freshness: Some(freshness),
                });
                outcome.skipped.extend(parsed.skipped);
                all_entries.extend(parsed.entries);
            }
            Err(err) => outcome.indexes.push(IndexOutcome {
                base,
                location,
                result: Err(err),
                freshness: None,
            }),
        }
    }
    if outcome.all_failed() {
        return Ok(outcome);
    }
    outcome.entries = merge(all_entries);
    outcome.bad_sources = outcome
        .entries
        .iter()
        .filter_map(|e| e.source().err())
        .collect();
    if write {
        write_cache(&outcome.cache_path, &outcome.entries)?;
        outcome.written = true;
    }
    Ok(outcome)
}

/// The merged entries for `ctx.release`: from the cache when it is there and was made for this
/// release; else fetched now (and cached, as `tutor plugins install` does when the cache is
/// missing); else, with a warning, the `main` index built into plonk.
pub async fn load_entries(
    ctx: &IndexContext<'_>,
) -> Result<(Vec<PluginEntry>, EntriesOrigin), IndexError> {
    let config = IndexConfig::open(&ctx.paths)?;
    let cache_path = config.cache_path().to_path_buf();
    let mut previous = None;
    let mut stale_tutor_cache = false;
    match read_cache(&cache_path) {
        Ok(Some(parsed)) => {
            for skipped in &parsed.skipped {
                ctx.reporter.detail(&skipped.to_string());
            }
            let fits = match &ctx.release {
                Some(release) => cache_is_for_release(&parsed.entries, release),
                None => true,
            };
            if fits && (!ctx.refresh || ctx.release.is_none()) {
                return Ok((parsed.entries, EntriesOrigin::Cache));
            }
            if fits {
                previous = Some(parsed.entries);
            } else {
                ctx.reporter.detail(&format!(
                    "The plugin index cache {} was made for another release",
                    cache_path.display()
                ));
                // Tutor's cache belongs to its own release: fetch without replacing it.
                stale_tutor_cache = config.is_tutor();
            }
        }
        Ok(None) => {
            if ctx.release.is_some() {
                ctx.reporter.info(&format!(
                    "Plugin index cache not found in {}; updating it",
                    cache_path.display()
                ));
            }
        }
        Err(err) => ctx.reporter.warn(&error_chain(&err)),
    }
    let release = required_release(ctx)?;
    let outcome = update_with(ctx, &config, !stale_tutor_cache).await?;
    report_outcome(&outcome, ctx.reporter);
    if !outcome.all_failed() {
        return Ok((outcome.entries, EntriesOrigin::Cache));
    }
    if let Some(entries) = previous {
        ctx.reporter.warn(&format!(
            "no plugin index could be fetched; using the plugin index cache {}",
            cache_path.display()
        ));
        return Ok((entries, EntriesOrigin::Cache));
    }
    match embedded_index(&release) {
        Some(parsed) => {
            let parsed = parsed?;
            ctx.reporter.warn(&format!(
                "no plugin index could be fetched and there is no plugin index cache; using the copy of the official `main` index for {release} built into plonk"
            ));
            Ok((merge(parsed.entries), EntriesOrigin::Embedded))
        }
        None => Err(IndexError::NoEmbedded { release }),
    }
}

/// The entry called `name` in the loaded entries, or a `NotFound` error.
pub fn find_entry<'a>(
    entries: &'a [PluginEntry],
    name: &str,
) -> Result<&'a PluginEntry, IndexError> {
    super::entry::lookup_entry(entries, name).ok_or_else(|| IndexError::NotFound {
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpOptions;
    use crate::ops::SilentReporter;
    use std::path::Path;

    fn client() -> HttpClient {
        HttpClient::new(HttpOptions {
            retries: 0,
            offline: true,
            ..HttpOptions::default()
        })
        .unwrap()
    }

    fn paths(tmp: &Path) -> IndexPaths {
        IndexPaths {
            tutor_root: tmp.join("root"),
            config_dir: tmp.join("config"),
            cache_dir: tmp.join("cache"),
        }
    }

    fn configure(tmp: &Path, indexes: &[&Path]) {
        let mut text = String::from("PLUGIN_INDEXES:\n");
        for i in indexes {
            text.push_str(&format!("- {}\n", i.display()));
        }
        std::fs::create_dir_all(tmp.join("config")).unwrap();
        std::fs::write(tmp.join("config/config.yml"), text).unwrap();
    }

    fn index(tmp: &Path, name: &str, release: &str, text: &str) -> PathBuf {
        let dir = tmp.join(name);
        std::fs::create_dir_all(dir.join(release)).unwrap();
        std::fs::write(dir.join(release).join("plugins.yml"), text).unwrap();
        dir
    }

    fn ctx<'a>(tmp: &Path, release: Option<&str>, client: &'a HttpClient) -> IndexContext<'a> {
        IndexContext {
            paths: paths(tmp),
            release: release.map(str::to_string),
            client,
            reporter: &SilentReporter,
            refresh: false,
        }
    }

    #[tokio::test]
    async fn update_merges_and_keeps_the_cache_when_all_fail() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let a = index(
            t,
            "a",
            "teak",
            "- name: One\n  src: tutor-one\n- name: two\n  src: a\n",
        );
        let b = index(t, "b", "teak", "- name: TWO\n  src: b\n- src: nameless\n");
        configure(t, &[&a, &b, Path::new("/nonexistent/idx")]);
        let c = client();
        let outcome = update(&ctx(t, Some("teak"), &c)).await.unwrap();
        assert!(outcome.written && !outcome.all_failed());
        assert_eq!(outcome.failures().count(), 1);
        assert_eq!(outcome.skipped.len(), 1);
        let names: Vec<_> = outcome
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.src.as_str()))
            .collect();
        assert_eq!(names, vec![("one", "tutor-one"), ("two", "b")]);
        let cache = paths(t).plonk_cache_file();
        let written = std::fs::read_to_string(&cache).unwrap();

        // Every index failing (another release has no files) keeps the previous cache.
        let outcome = update(&ctx(t, Some("ulmo"), &c)).await.unwrap();
        assert!(outcome.all_failed() && !outcome.written);
        assert_eq!(std::fs::read_to_string(&cache).unwrap(), written);

        // Without a release, update says how to give one.
        let err = update(&ctx(t, None, &c)).await.unwrap_err();
        assert!(err.to_string().contains("--release"), "{err}");
    }

    #[tokio::test]
    async fn load_prefers_cache_then_fetch_then_embedded() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let a = index(t, "a", "redwood", "- name: local\n  src: tutor-local\n");
        configure(t, &[&a]);
        let c = client();
        // No cache: fetched now, and cached.
        let (entries, origin) = load_entries(&ctx(t, Some("redwood"), &c)).await.unwrap();
        assert_eq!(origin, EntriesOrigin::Cache);
        assert_eq!(entries[0].name, "local");
        assert!(paths(t).plonk_cache_file().is_file());
        // The cache is used as is, even without a release.
        std::fs::remove_dir_all(&a).unwrap();
        let (entries, _) = load_entries(&ctx(t, None, &c)).await.unwrap();
        assert_eq!(entries[0].name, "local");
        // Another release: the cache does not fit, nothing can be fetched: the built-in copy.
        let (entries, origin) = load_entries(&ctx(t, Some("palm"), &c)).await.unwrap();
        assert_eq!(origin, EntriesOrigin::Embedded);
        assert!(entries.iter().any(|e| e.name == "mfe"));
        assert!(entries[0].index.ends_with("/palm/plugins.yml"));
        let err = load_entries(&ctx(t, Some("nutmeg"), &c)).await.unwrap_err();
        assert!(matches!(err, IndexError::NoEmbedded { .. }), "{err}");
        // find_entry is case-insensitive and names what is missing.
        assert!(find_entry(&entries, "MFE").is_ok());
        let err = find_entry(&entries, "nope").unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
    }

    #[test]
    fn error_chain_reads_as_one_line() {
        let err = IndexError::CacheRead {
            path: "/c.yml".into(),
            source: Box::new(IndexError::NotUtf8 {
                index: "/c.yml".into(),
            }),
        };
        assert_eq!(
            error_chain(&err),
            "the plugin index cache `/c.yml` is unreadable; run `plonk update` to rebuild it: the plugin index `/c.yml` is not UTF-8 text"
        );
    }
}
