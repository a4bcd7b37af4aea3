//! Criterion benchmarks of plonk's core, without network or Python:
//! - parsing: PEP 440 versions and specifiers, PEP 508 requirements, wheel file names,
//!   core metadata;
//! - resolving: the recorded answers of a real Tutor + plugins resolution
//!   (`benches/data/tutor-plugins.json`, made by `benches/record_metadata.rs`) replayed by an
//!   in-memory provider;
//! - installing: a fixture wheel (`fixtures/wheels/setuptools-*.whl`, ~1000 files) from the
//!   unpacked-wheel cache (hard links), against unpacking the archive.
//!
//! `cargo bench --bench core`; `cargo test --benches` runs each benchmark once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pep508_rs::MarkerEnvironmentBuilder;
use plonk::dist::{
    MarkerEnvironment, Metadata, PackageName, Requirement, Version, VersionSpecifiers,
    WheelFilename,
};
use plonk::install::{InstallOptions, InstallTarget, install_unpacked_into, install_wheel_into};
use plonk::resolve::{self, MetadataProvider, ProviderError, ResolveRequest, Upgrade, VersionInfo};
use serde_json::Value;

const VERSIONS: &[&str] = &[
    "22.0.3",
    "1.0",
    "1.0.post1",
    "2.0.0rc1",
    "1!2.0",
    "0.9.dev3",
    "1.2.3+local.7",
    "2024.10.1",
    "3.11.7",
    "0.0.1a1",
    "21.0.0",
    "4.0.0b2.post3.dev4",
];
const SPECIFIERS: &[&str] = &[
    ">=22.0.0,<23.0.0",
    "~=3.8",
    "!=1.2.*",
    "==2.*",
    ">=3.9",
    "<4,>=3.7.0",
    "===1.0",
    ">=1.0,!=1.3.4,<2.0",
    "~=1.4.5.0",
    "",
];
const REQUIREMENTS: &[&str] = &[
    "tutor<23,>=22.0.0",
    "click>=8.0",
    "typing-extensions>=4.6; python_version < \"3.11\"",
    "importlib-metadata>=3.6; python_version < \"3.10\"",
    "kubernetes",
    "requests[socks]>=2.21,!=2.27.0; extra == \"net\"",
    "pywin32>=226; sys_platform == \"win32\" and platform_python_implementation != \"PyPy\"",
    "pkg @ https://example.org/pkg-1.0.tar.gz",
];
const WHEELS: &[&str] = &[
    "tutor-22.0.3-py3-none-any.whl",
    "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl",
    "mypy-1.13.0-cp311-cp311-musllinux_1_1_x86_64.whl",
    "foo_bar-1.0-1build-py2.py3-none-any.whl",
];
const METADATA: &str = "Metadata-Version: 2.4\nName: tutor\nVersion: 22.0.3\n\
Summary: The Docker-based Open edX distribution designed for peace of mind\n\
Author-email: Overhang.IO <contact@overhang.io>\nLicense-Expression: AGPL-3.0-only\n\
Requires-Python: >=3.9\nRequires-Dist: appdirs\nRequires-Dist: click>=8.0\n\
Requires-Dist: jinja2>=2.10\nRequires-Dist: kubernetes\nRequires-Dist: mypy\n\
Requires-Dist: pycryptodome>=3.17.0\nRequires-Dist: pyyaml>=6.0\n\
Requires-Dist: typing-extensions>=4.4.0\nRequires-Dist: importlib-metadata; python_version < \"3.10\"\n\
Provides-Extra: full\nRequires-Dist: tutor-mfe<23.0.0,>=22.0.0; extra == \"full\"\n\
Classifier: Programming Language :: Python :: 3\n\n# Tutor\n\nLong description.\n";

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.bench_function("versions", |b| {
        b.iter(|| {
            for v in VERSIONS {
                std::hint::black_box(Version::from_str(v).ok());
            }
        })
    });
    group.bench_function("specifiers", |b| {
        b.iter(|| {
            for s in SPECIFIERS {
                std::hint::black_box(VersionSpecifiers::from_str(s).ok());
            }
        })
    });
    group.bench_function("requirements", |b| {
        b.iter(|| {
            for r in REQUIREMENTS {
                std::hint::black_box(<Requirement>::from_str(r).ok());
            }
        })
    });
    group.bench_function("wheel_filenames", |b| {
        b.iter(|| {
            for w in WHEELS {
                std::hint::black_box(WheelFilename::from_str(w).ok());
            }
        })
    });
    group.bench_function("metadata", |b| {
        b.iter(|| std::hint::black_box(Metadata::parse(METADATA.as_bytes()).ok()))
    });
    group.finish();
}

/// The recorded answers of one resolution.
struct Recorded {
    request: ResolveRequest,
    versions: HashMap<PackageName, Vec<VersionInfo>>,
    requirements: HashMap<(PackageName, Version), Vec<Requirement>>,
    expected: usize,
}

impl MetadataProvider for Recorded {
    fn versions(&self, name: &PackageName) -> Result<Vec<VersionInfo>, ProviderError> {
        Ok(self.versions.get(name).cloned().unwrap_or_default())
    }

    fn requirements(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        Ok(self
            .requirements
            .get(&(name.clone(), version.clone()))
            .cloned()
            .unwrap_or_default())
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data")
}

fn load_recorded(file: &str) -> Recorded {
    let text = std::fs::read_to_string(data_dir().join(file)).expect("recorded metadata");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let m = &doc["markers"];
    let field = |k: &str| m[k].as_str().unwrap_or_default();
    let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: field("implementation_name"),
        implementation_version: field("implementation_version"),
        os_name: field("os_name"),
        platform_machine: field("platform_machine"),
        platform_python_implementation: field("platform_python_implementation"),
        platform_release: field("platform_release"),
        platform_system: field("platform_system"),
        platform_version: field("platform_version"),
        python_full_version: field("python_full_version"),
        python_version: field("python_version"),
        sys_platform: field("sys_platform"),
    })
    .expect("recorded markers");
    let mut versions = HashMap::new();
    let mut requirements = HashMap::new();
    for (name, package) in doc["packages"].as_object().expect("packages") {
        let name = PackageName::from_str(name).expect("package name");
        let listed = package["versions"].as_array().cloned().unwrap_or_default();
        let infos = listed
            .iter()
            .map(|v| VersionInfo {
                version: Version::from_str(&s(&v["version"])).expect("version"),
                requires_python: v["requires_python"]
                    .as_str()
                    .and_then(|r| VersionSpecifiers::from_str(r).ok()),
                yanked: v["yanked"].as_bool().unwrap_or(false),
            })
            .collect();
        versions.insert(name.clone(), infos);
        if let Some(map) = package["requirements"].as_object() {
            for (version, lines) in map {
                let reqs = lines
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| <Requirement>::from_str(&s(l)).expect("requirement"))
                    .collect();
                let version = Version::from_str(version).expect("version");
                requirements.insert((name.clone(), version), reqs);
            }
        }
    }
    let request = ResolveRequest {
        requirements: doc["requirements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| <Requirement>::from_str(&s(r)).expect("requirement"))
            .collect(),
        installed: Vec::new(),
        fixed: Vec::new(),
        upgrade: Upgrade::None,
        markers,
        python_version: Version::from_str(&s(&doc["python_full_version"])).expect("version"),
        pre_releases: false,
    };
    let expected = doc["resolution"].as_object().map_or(0, |r| r.len());
    Recorded {
        request,
        versions,
        requirements,
        expected,
    }
}

fn resolving(c: &mut Criterion) {
    let recorded = load_recorded("tutor-plugins.json");
    // The replay must reach the recorded resolution, or the benchmark measures nothing.
    let resolution = resolve::resolve(&recorded.request, &recorded).expect("replayed resolution");
    assert_eq!(resolution.packages.len(), recorded.expected);
    c.bench_function("resolve/tutor-plugins", |b| {
        b.iter(|| resolve::resolve(&recorded.request, &recorded).map(|r| r.packages.len()))
    });
}

fn fixture_wheel() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wheels");
    std::fs::read_dir(&dir)
        .expect("fixtures/wheels")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("setuptools-"))
        })
        .expect("a setuptools wheel in fixtures/wheels")
}

/// A venv-like layout in a fresh temporary folder.
fn target() -> (tempfile::TempDir, InstallTarget) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let target = InstallTarget::posix_venv(&tmp.path().join("venv"), 3, 11);
    std::fs::create_dir_all(&target.purelib).expect("site-packages");
    std::fs::create_dir_all(&target.scripts).expect("bin");
    (tmp, target)
}

fn installing(c: &mut Criterion) {
    let wheel = fixture_wheel();
    let cache = tempfile::tempdir().expect("temp dir");
    let bucket = cache.path().join("unpacked-v1");
    let unpacked = plonk::install::unpack_cached(&wheel, &bucket, "fixture").expect("unpack");
    let opts = InstallOptions::default();
    let mut group = c.benchmark_group("install");
    group.sample_size(20);
    group.bench_function("setuptools/linked-from-cache", |b| {
        b.iter_batched(
            target,
            |(tmp, target)| {
                install_unpacked_into(&unpacked, &target, &opts).expect("install");
                tmp
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("setuptools/from-archive", |b| {
        b.iter_batched(
            target,
            |(tmp, target)| {
                install_wheel_into(&wheel, &target, &opts).expect("install");
                tmp
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, parsing, resolving, installing);
criterion_main!(benches);
