//! Records what a real resolution asks its metadata provider (every `versions` and
//! `requirements` answer) as JSON, for the resolver benchmark of `benches/core.rs`.
//!
//! ```sh
//! cargo run --release --example record_metadata -- benches/data/tutor-plugins.json \
//!     tutor==22.0.3 tutor-mfe tutor-indigo ...
//! ```
//!
//! Talks to PyPI (through plonk's cache in `$PLONK_CACHE_DIR`, default
//! `/tmp/plonk-record-cache`) for the interpreter `$PYTHON` (default `python3`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use plonk::cache::{Cache, HTTP_BUCKET};
use plonk::dist::{PackageName, Requirement, Version};
use plonk::environment::Interpreter;
use plonk::http::{HttpClient, HttpOptions};
use plonk::ops::SilentReporter;
use plonk::ops::fetch::{Fetcher, Provider};
use plonk::registry::{IndexLocations, RegistryClient};
use plonk::resolve::{self, MetadataProvider, ProviderError, ResolveRequest, Upgrade, VersionInfo};
use serde_json::{Value, json};

/// Wraps a provider and keeps every answer.
struct Recorder<'a, P> {
    inner: &'a P,
    packages: Mutex<BTreeMap<String, Value>>,
}

impl<P> Recorder<'_, P> {
    fn entry<T>(
        &self,
        name: &PackageName,
        f: impl FnOnce(&mut serde_json::Map<String, Value>) -> T,
    ) -> T {
        let mut packages = self.packages.lock().unwrap_or_else(|p| p.into_inner());
        let entry = packages
            .entry(name.to_string())
            .or_insert_with(|| json!({"versions": [], "requirements": {}}));
        match entry.as_object_mut() {
            Some(object) => f(object),
            None => unreachable!("entries are objects"),
        }
    }
}

impl<P: MetadataProvider> MetadataProvider for Recorder<'_, P> {
    fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, ProviderError> {
        let versions = self.inner.versions(name)?;
        let listed: Vec<Value> = versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.version.to_string(),
                    "requires_python": v.requires_python.as_ref().map(ToString::to_string),
                    "yanked": v.yanked,
                })
            })
            .collect();
        self.entry(name, |e| e.insert("versions".into(), Value::Array(listed)));
        Ok(versions)
    }

    fn requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        let requirements = self.inner.requirements(name, version)?;
        let lines: Vec<Value> = requirements.iter().map(|r| json!(r.to_string())).collect();
        self.entry(name, |e| {
            if let Some(map) = e.get_mut("requirements").and_then(Value::as_object_mut) {
                map.insert(version.to_string(), Value::Array(lines));
            }
        });
        Ok(requirements)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: record_metadata OUT.json REQ...")?,
    );
    let requirements: Vec<Requirement> = args
        .map(|r| Requirement::from_str(&r))
        .collect::<Result<_, _>>()?;
    let python = PathBuf::from(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
    let cache_dir =
        std::env::var("PLONK_CACHE_DIR").unwrap_or_else(|_| "/tmp/plonk-record-cache".into());
    let cache = Cache::new(cache_dir);
    let interpreter = Interpreter::query(&python, Some(&cache))?;

    let runtime = tokio::runtime::Runtime::new()?;
    let http = HttpClient::new(HttpOptions {
        cache_dir: Some(cache.bucket(HTTP_BUCKET)),
        ..HttpOptions::default()
    })?;
    let registry = RegistryClient::new(http, IndexLocations::default());
    let fetcher = Arc::new(Fetcher::new(
        runtime.handle().clone(),
        registry,
        HashMap::new(),
        cache,
        interpreter.clone(),
        Arc::new(SilentReporter),
    ));
    for requirement in &requirements {
        fetcher.prefetch(&requirement.name);
    }
    let provider = Provider {
        fetcher,
        installed: HashMap::new(),
        no_deps: false,
        known: HashMap::new(),
        installed_only: Default::default(),
    };
    let request = ResolveRequest {
        requirements: requirements.clone(),
        installed: Vec::new(),
        fixed: Vec::new(),
        upgrade: Upgrade::None,
        markers: interpreter.markers.clone(),
        python_version: interpreter.python_full_version.clone(),
        pre_releases: false,
    };
    let recorder = Recorder {
        inner: &provider,
        packages: Mutex::default(),
    };
    // The provider blocks on the runtime: resolve off its threads.
    let resolution = std::thread::scope(|scope| {
        scope
            .spawn(|| resolve::resolve(&request, &recorder))
            .join()
            .map_err(|_| "the resolver thread panicked")
    })??;

    let m = &interpreter.markers;
    let document = json!({
        "comment": "Metadata answers recorded from PyPI by benches/record_metadata.rs for benches/core.rs",
        "requirements": requirements.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "python_full_version": interpreter.python_full_version.to_string(),
        "markers": {
            "implementation_name": m.implementation_name(),
            "implementation_version": m.implementation_version().to_string(),
            "os_name": m.os_name(),
            "platform_machine": m.platform_machine(),
            "platform_python_implementation": m.platform_python_implementation(),
            "platform_release": m.platform_release(),
            "platform_system": m.platform_system(),
            "platform_version": m.platform_version(),
            "python_full_version": m.python_full_version().to_string(),
            "python_version": m.python_version().to_string(),
            "sys_platform": m.sys_platform(),
        },
        "resolution": resolution
            .packages
            .iter()
            .map(|(name, p)| (name.to_string(), json!(p.version.to_string())))
            .collect::<serde_json::Map<_, _>>(),
        "packages": recorder.packages.into_inner().unwrap_or_else(|p| p.into_inner()),
    });
    std::fs::write(&out, serde_json::to_string(&document)? + "\n")?;
    eprintln!(
        "recorded {} packages, resolution of {} into {}",
        document["packages"].as_object().map_or(0, |p| p.len()),
        resolution.packages.len(),
        out.display()
    );
    Ok(())
}
