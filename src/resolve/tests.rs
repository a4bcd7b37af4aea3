//! Resolver tests over an in-memory [`MetadataProvider`]: no HTTP, no env.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, PackageName, Requirement};

use super::*;

fn name(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn markers(python_full: &str, sys_platform: &str) -> MarkerEnvironment {
    let short: Vec<&str> = python_full.split('.').take(2).collect();
    let short = short.join(".");
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: python_full,
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: python_full,
        python_version: &short,
        sys_platform,
    })
    .unwrap()
}

struct Release {
    info: VersionInfo,
    requires: Vec<Requirement>,
}

/// An index in memory; counts calls so tests can check what was asked.
#[derive(Default)]
struct Index {
    packages: HashMap<PackageName, Vec<Release>>,
    failing: HashSet<PackageName>,
    /// Packages whose versions the index does not list (installed from elsewhere).
    unlisted: HashSet<PackageName>,
    failing_requirements: HashSet<(PackageName, Version)>,
    version_calls: RefCell<Vec<PackageName>>,
    requirement_calls: RefCell<Vec<PackageName>>,
}

impl Index {
    fn add(&mut self, package: &str, version: &str, requires: &[&str]) -> &mut Self {
        self.add_full(package, version, None, false, requires)
    }

    fn add_full(
        &mut self,
        package: &str,
        version: &str,
        requires_python: Option<&str>,
        yanked: bool,
        requires: &[&str],
    ) -> &mut Self {
        self.packages
            .entry(name(package))
            .or_default()
            .push(Release {
                info: VersionInfo {
                    version: v(version),
                    requires_python: requires_python
                        .map(|s| s.parse::<VersionSpecifiers>().unwrap()),
                    yanked,
                },
                requires: requires.iter().map(|r| r.parse().unwrap()).collect(),
            });
        self
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection refused")]
struct Offline;

impl MetadataProvider for Index {
    fn versions(&self, package: &PackageName) -> Result<Vec<VersionInfo>, ProviderError> {
        self.version_calls.borrow_mut().push(package.clone());
        if self.failing.contains(package) {
            return Err(ProviderError::new(package.clone(), Offline));
        }
        if self.unlisted.contains(package) {
            return Ok(Vec::new());
        }
        Ok(self
            .packages
            .get(package)
            .map(|releases| releases.iter().map(|r| r.info.clone()).collect())
            .unwrap_or_default())
    }

    fn requirements(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, ProviderError> {
        self.requirement_calls.borrow_mut().push(package.clone());
        if self
            .failing_requirements
            .contains(&(package.clone(), version.clone()))
        {
            return Err(ProviderError::new(package.clone(), Offline));
        }
        self.packages
            .get(package)
            .and_then(|releases| releases.iter().find(|r| &r.info.version == version))
            .map(|r| r.requires.clone())
            .ok_or_else(|| ProviderError::new(package.clone(), "no such version"))
    }
}

fn request(requirements: &[&str]) -> ResolveRequest {
    ResolveRequest {
        requirements: requirements.iter().map(|r| r.parse().unwrap()).collect(),
        installed: Vec::new(),
        fixed: Vec::new(),
        upgrade: Upgrade::None,
        markers: markers("3.11.7", "linux"),
        python_version: v("3.11.7"),
        pre_releases: false,
    }
}

/// `name==version` lines of a resolution, sorted.
fn pins(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|(name, p)| format!("{name}=={}", p.version))
        .collect()
}

fn conflict(result: Result<Resolution, ResolveError>) -> String {
    match result {
        Err(ResolveError::Conflict { explanation }) => explanation,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn required_by(resolution: &Resolution, package: &str) -> BTreeSet<Requester> {
    resolution.packages[&name(package)].required_by.clone()
}

#[test]
fn chain() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &["b>=1"])
        .add("b", "1.0", &["c"])
        .add("b", "1.1", &["c"])
        .add("c", "0.5", &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.1", "c==0.5"]);
    assert_eq!(
        required_by(&resolution, "a"),
        BTreeSet::from([Requester::User])
    );
    assert_eq!(
        required_by(&resolution, "c"),
        BTreeSet::from([Requester::Package(name("b"))])
    );
}

#[test]
fn named_requirements_are_decided_before_the_dependencies_they_bring() {
    // `c` has fewer candidates than `b`, but `b` is named by the user: its metadata is asked
    // first, so a plugin's own dependency chain starts while the others' trees are walked.
    let mut index = Index::default();
    index.add("a", "1.0", &["c"]).add("c", "1.0", &[]);
    for version in ["1.0", "2.0", "3.0", "4.0", "5.0"] {
        index.add("b", version, &[]);
    }
    let resolution = resolve(&request(&["a", "b"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==5.0", "c==1.0"]);
    assert_eq!(
        *index.requirement_calls.borrow(),
        [name("a"), name("b"), name("c")]
    );
}

#[test]
fn diamond_intersects_ranges() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &["b", "c"])
        .add("b", "1.0", &["d>=1"])
        .add("c", "1.0", &["d<2"])
        .add("d", "1.0", &[])
        .add("d", "1.5", &[])
        .add("d", "2.0", &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "c==1.0", "d==1.5"]);
    assert_eq!(
        required_by(&resolution, "d"),
        BTreeSet::from([Requester::Package(name("b")), Requester::Package(name("c"))])
    );
}

#[test]
fn diamond_backtracks_to_an_older_version() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &["b", "c"])
        .add("b", "1.0", &["d<2"])
        .add("b", "2.0", &["d>=2"])
        .add("c", "1.0", &["d<2"])
        .add("d", "1.0", &[])
        .add("d", "2.0", &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "c==1.0", "d==1.0"]);
}

#[test]
fn extras_add_their_requirements() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &["base", "b>=1; extra == \"x\""])
        .add("base", "1.0", &[])
        .add("b", "1.0", &[]);
    let plain = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&plain), ["a==1.0", "base==1.0"]);
    assert!(plain.packages[&name("a")].extras.is_empty());

    let with_extra = resolve(&request(&["a[x]"]), &index).unwrap();
    assert_eq!(pins(&with_extra), ["a==1.0", "b==1.0", "base==1.0"]);
    assert_eq!(
        with_extra.packages[&name("a")].extras,
        BTreeSet::from(["x".parse().unwrap()])
    );
    assert_eq!(
        required_by(&with_extra, "b"),
        BTreeSet::from([Requester::Package(name("a"))])
    );
}

#[test]
fn extras_of_extras_and_extras_of_dependencies() {
    let mut index = Index::default();
    index
        .add(
            "a",
            "1.0",
            &[
                "a[x]; extra == \"all\"",
                "a[y]; extra == \"all\"",
                "b; extra == \"x\"",
                "c[fast]; extra == \"y\"",
            ],
        )
        .add("b", "1.0", &[])
        .add(
            "c",
            "1.0",
            &["d; extra == \"fast\" and python_version >= \"3.8\""],
        )
        .add("d", "1.0", &[]);
    let resolution = resolve(&request(&["a[all]"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "c==1.0", "d==1.0"]);
    let extras: Vec<String> = resolution.packages[&name("a")]
        .extras
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(extras, ["all", "x", "y"]);
    assert_eq!(resolution.packages[&name("c")].extras.len(), 1);
}

#[test]
fn extra_stays_at_its_distribution_version() {
    // b constrains a to 1.0, whose extra needs nothing; a 2.0[x] would need z.
    let mut index = Index::default();
    index
        .add("a", "1.0", &["y; extra == \"x\""])
        .add("a", "2.0", &["z; extra == \"x\""])
        .add("b", "1.0", &["a<2"])
        .add("y", "1.0", &[])
        .add("z", "1.0", &[]);
    let resolution = resolve(&request(&["a[x]", "b"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "y==1.0"]);
}

#[test]
fn markers_follow_the_target_environment() {
    let mut index = Index::default();
    index
        .add(
            "a",
            "1.0",
            &[
                "old; python_version < \"3.10\"",
                "new; python_version >= \"3.10\"",
                "lin; sys_platform == \"linux\"",
                "win; sys_platform == \"win32\"",
            ],
        )
        .add("old", "1.0", &[])
        .add("new", "1.0", &[])
        .add("lin", "1.0", &[])
        .add("win", "1.0", &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "lin==1.0", "new==1.0"]);

    let mut windows_39 = request(&["a", "skipped; python_version > \"3.9\""]);
    windows_39.markers = markers("3.9.18", "win32");
    windows_39.python_version = v("3.9.18");
    let resolution = resolve(&windows_39, &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "old==1.0", "win==1.0"]);
}

#[test]
fn requires_python_picks_an_older_version() {
    let mut index = Index::default();
    index
        .add_full("a", "1.0", Some(">=3.8"), false, &[])
        .add_full("a", "2.0", Some(">=3.12"), false, &["never-fetched"]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0"]);
}

#[test]
fn requires_python_failure_names_both_versions() {
    let mut index = Index::default();
    index
        .add_full("a", "2.0", Some(">=3.12"), false, &[])
        .add_full("a", "2.1", Some(">=3.12"), false, &[]);
    let explanation = conflict(resolve(&request(&["a"]), &index));
    assert!(
        explanation.contains("requires Python >=3.12 but the environment has 3.11.7"),
        "{explanation}"
    );
    assert!(explanation.contains("every version of a"), "{explanation}");
}

#[test]
fn requires_python_failure_through_a_dependency() {
    let mut index = Index::default();
    index
        .add("app", "1.0", &["lib>=2"])
        .add_full("lib", "1.0", Some(">=3.8"), false, &[])
        .add_full("lib", "2.0", Some(">=3.12"), false, &[]);
    let explanation = conflict(resolve(&request(&["app"]), &index));
    assert!(
        explanation.contains("lib 2.0 requires Python >=3.12 but the environment has 3.11.7"),
        "{explanation}"
    );
    assert!(
        explanation.contains("app 1.0 requires lib>=2"),
        "{explanation}"
    );
}

#[test]
fn yanked_versions_are_skipped_unless_pinned() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &[])
        .add_full("a", "2.0", None, true, &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0"]);
    let resolution = resolve(&request(&["a==2.0"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==2.0"]);
    let explanation = conflict(resolve(&request(&["a>=2"]), &index));
    assert!(explanation.contains("2.0 is yanked"), "{explanation}");
}

#[test]
fn pre_releases_only_when_requested_pinned_named_or_alone() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &[])
        .add("a", "2.0b1", &[])
        .add("only-pre", "1.0a1", &[])
        .add("only-pre", "1.0a2", &[]);
    assert_eq!(
        pins(&resolve(&request(&["a"]), &index).unwrap()),
        ["a==1.0"]
    );

    let mut pre = request(&["a"]);
    pre.pre_releases = true;
    assert_eq!(pins(&resolve(&pre, &index).unwrap()), ["a==2.0b1"]);

    assert_eq!(
        pins(&resolve(&request(&["a==2.0b1"]), &index).unwrap()),
        ["a==2.0b1"]
    );
    assert_eq!(
        pins(&resolve(&request(&["a>=2.0b1"]), &index).unwrap()),
        ["a==2.0b1"]
    );
    assert_eq!(
        pins(&resolve(&request(&["only-pre"]), &index).unwrap()),
        ["only-pre==1.0a2"]
    );

    let explanation = conflict(resolve(&request(&["a>=1.5"]), &index));
    assert!(
        explanation.contains("2.0b1 is a pre-release"),
        "{explanation}"
    );
}

#[test]
fn installed_versions_are_kept_unless_upgrading() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &[])
        .add("a", "2.0", &[])
        .add("other", "1.0", &[])
        .add("other", "3.0", &[]);
    let mut req = request(&["a"]);
    req.installed = vec![(name("a"), v("1.0")), (name("other"), v("1.0"))];
    let resolution = resolve(&req, &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "other==1.0"]);
    // Installed but not required: kept, and nothing claims it (the caller may prune it).
    assert!(required_by(&resolution, "other").is_empty());

    req.upgrade = Upgrade::Packages(BTreeSet::from([name("a")]));
    assert_eq!(
        pins(&resolve(&req, &index).unwrap()),
        ["a==2.0", "other==1.0"]
    );

    req.upgrade = Upgrade::All;
    assert_eq!(
        pins(&resolve(&req, &index).unwrap()),
        ["a==2.0", "other==3.0"]
    );

    // A requirement forces the change without any upgrade flag.
    let mut forced = request(&["a>=2"]);
    forced.installed = vec![(name("a"), v("1.0"))];
    assert_eq!(pins(&resolve(&forced, &index).unwrap()), ["a==2.0"]);
}

#[test]
fn installed_versions_are_candidates_even_when_unlisted_or_yanked() {
    let mut index = Index::default();
    // The provider answers requirements for installed versions from the env.
    index
        .add("local", "0.1", &[])
        .add_full("yanked", "1.0", None, true, &[])
        .add("yanked", "0.9", &[]);
    index.unlisted.insert(name("local"));
    let mut req = request(&["yanked"]);
    req.installed = vec![(name("local"), v("0.1")), (name("yanked"), v("1.0"))];
    assert_eq!(
        pins(&resolve(&req, &index).unwrap()),
        ["local==0.1", "yanked==1.0"]
    );
}

#[test]
fn installed_packages_requirements_are_enforced() {
    let mut index = Index::default();
    index
        .add("plugin", "1.0", &["lib<2"])
        .add("lib", "1.0", &[])
        .add("lib", "2.0", &[])
        .add("new", "1.0", &["lib"]);
    let mut req = request(&["new"]);
    req.installed = vec![(name("plugin"), v("1.0")), (name("lib"), v("1.0"))];
    req.upgrade = Upgrade::All;
    let resolution = resolve(&req, &index).unwrap();
    assert_eq!(pins(&resolution), ["lib==1.0", "new==1.0", "plugin==1.0"]);
    assert_eq!(
        required_by(&resolution, "lib"),
        BTreeSet::from([
            Requester::Package(name("new")),
            Requester::Package(name("plugin"))
        ])
    );
}

fn tutor_index() -> Index {
    let mut index = Index::default();
    index
        .add("tutor", "21.0.1", &["click>=8"])
        .add("tutor", "22.0.0", &["click>=8"])
        .add("click", "8.1.0", &[])
        .add("tutor-foo", "22.0.0", &["tutor>=22,<23"]);
    index
}

#[test]
fn fixed_tutor_conflict_is_explained() {
    let index = tutor_index();
    let mut req = request(&["tutor-foo"]);
    req.installed = vec![(name("tutor"), v("21.0.1")), (name("click"), v("8.1.0"))];
    req.fixed = vec![(name("tutor"), v("21.0.1"))];
    let explanation = conflict(resolve(&req, &index));
    assert!(
        explanation.contains(
            "Cannot install tutor-foo 22.0.0 because it requires tutor>=22,<23 but tutor 21.0.1 \
             is installed and plonk never changes Tutor as a side effect (name `tutor` \
             explicitly to upgrade it)."
        ),
        "{explanation}"
    );
    // The fixed package's versions are never asked for.
    assert!(!index.version_calls.borrow().contains(&name("tutor")));
}

#[test]
fn fixed_tutor_picks_a_compatible_plugin_version() {
    let mut index = tutor_index();
    index.add("tutor-foo", "21.0.0", &["tutor>=21,<22"]);
    let mut req = request(&["tutor-foo"]);
    req.fixed = vec![(name("tutor"), v("21.0.1"))];
    let resolution = resolve(&req, &index).unwrap();
    assert_eq!(
        pins(&resolution),
        ["click==8.1.0", "tutor==21.0.1", "tutor-foo==21.0.0"]
    );
    assert_eq!(
        required_by(&resolution, "tutor"),
        BTreeSet::from([Requester::Package(name("tutor-foo"))])
    );
}

#[test]
fn user_requirement_against_fixed_tutor() {
    let index = tutor_index();
    let mut req = request(&["tutor>=22"]);
    req.fixed = vec![(name("tutor"), v("21.0.1"))];
    let explanation = conflict(resolve(&req, &index));
    assert_eq!(
        explanation,
        "You asked for tutor>=22 but tutor 21.0.1 is installed and plonk never changes Tutor \
         as a side effect (name `tutor` explicitly to upgrade it)."
    );
}

#[test]
fn url_requirement_for_a_fixed_package_is_accepted() {
    let mut index = Index::default();
    index.add("plug", "0.3.0", &["dep"]).add("dep", "1.0", &[]);
    let mut req = request(&["plug @ https://example.com/plug-0.3.0.tar.gz"]);
    req.fixed = vec![(name("plug"), v("0.3.0"))];
    let resolution = resolve(&req, &index).unwrap();
    assert_eq!(pins(&resolution), ["dep==1.0", "plug==0.3.0"]);
    assert_eq!(
        required_by(&resolution, "plug"),
        BTreeSet::from([Requester::User])
    );

    let unfixed = request(&["plug @ https://example.com/plug-0.3.0.tar.gz"]);
    match resolve(&unfixed, &index) {
        Err(ResolveError::UnresolvedUrl { package }) => assert_eq!(package, name("plug")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn url_dependency_of_an_index_package_is_avoided() {
    let mut index = Index::default();
    index
        .add("a", "1.0", &["b"])
        .add("a", "2.0", &["b @ https://example.com/b.whl"])
        .add("b", "1.0", &[]);
    let resolution = resolve(&request(&["a"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0"]);
    let explanation = conflict(resolve(&request(&["a>=2"]), &index));
    assert!(
        explanation.contains("through a direct URL"),
        "{explanation}"
    );
}

#[test]
fn unsatisfiable_pair_is_explained() {
    let mut index = Index::default();
    index
        .add("alpha", "1.0", &["beta>=2"])
        .add("beta", "1.0", &[])
        .add("beta", "1.1", &[]);
    let explanation = conflict(resolve(&request(&["alpha"]), &index));
    assert!(
        explanation.contains(
            "Because alpha 1.0 requires beta>=2 and no version of beta matches >=2 \
             (available: 1.0, 1.1), alpha 1.0 cannot be installed."
        ),
        "{explanation}"
    );
}

#[test]
fn two_plugins_disagreeing_is_explained() {
    let mut index = Index::default();
    index
        .add("left", "1.0", &["shared<2"])
        .add("right", "1.0", &["shared>=2"])
        .add("shared", "1.0", &[])
        .add("shared", "2.0", &[]);
    let explanation = conflict(resolve(&request(&["left", "right"]), &index));
    assert!(
        explanation.contains("left 1.0 requires shared<2"),
        "{explanation}"
    );
    assert!(
        explanation.contains("right 1.0 requires shared>=2"),
        "{explanation}"
    );
}

#[test]
fn contradictory_user_requirements() {
    let mut index = Index::default();
    index.add("a", "1.0", &[]);
    let explanation = conflict(resolve(&request(&["a>=2", "a<1"]), &index));
    assert_eq!(
        explanation,
        "You asked for a>=2 and a<1, and no version of a satisfies them all."
    );
}

#[test]
fn missing_package() {
    let mut index = Index::default();
    index.add("a", "1.0", &["ghost>=1"]);
    let explanation = conflict(resolve(&request(&["a"]), &index));
    assert!(
        explanation.contains("ghost was not found in the package indexes"),
        "{explanation}"
    );
    let explanation = conflict(resolve(&request(&["ghost"]), &index));
    assert!(
        explanation.contains("ghost was not found in the package indexes"),
        "{explanation}"
    );
}

#[test]
fn provider_errors_surface_with_the_package() {
    let mut index = Index::default();
    index.add("a", "1.0", &["broken"]).add("broken", "1.0", &[]);
    index.failing.insert(name("broken"));
    match resolve(&request(&["a"]), &index) {
        Err(ResolveError::Provider { package, source }) => {
            assert_eq!(package, name("broken"));
            assert_eq!(source.to_string(), "connection refused");
        }
        other => panic!("{other:?}"),
    }

    let mut index = Index::default();
    index.add("a", "1.0", &[]);
    index.failing_requirements.insert((name("a"), v("1.0")));
    match resolve(&request(&["a"]), &index) {
        Err(ResolveError::Provider { package, .. }) => assert_eq!(package, name("a")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cycles_resolve() {
    let mut index = Index::default();
    index.add("a", "1.0", &["b"]).add("b", "1.0", &["a"]).add(
        "self-ref",
        "1.0",
        &["self-ref", "self-ref[x]"],
    );
    let resolution = resolve(&request(&["a", "self-ref"]), &index).unwrap();
    assert_eq!(pins(&resolution), ["a==1.0", "b==1.0", "self-ref==1.0"]);
    assert_eq!(
        required_by(&resolution, "a"),
        BTreeSet::from([Requester::User, Requester::Package(name("b"))])
    );
}

#[test]
fn large_synthetic_graph_resolves_fast() {
    // 250 packages with 5 versions each; every version requires two later packages
    // with ranges that exclude their newest versions, forcing some backtracking.
    let count = 250;
    let mut index = Index::default();
    for i in 0..count {
        for minor in 0..5 {
            let mut requires = Vec::new();
            for step in [1, 7] {
                let dep = i + step;
                if dep < count {
                    requires.push(format!("p{dep}>=1.0,<1.{}", 4 - (i % 2)));
                }
            }
            let refs: Vec<&str> = requires.iter().map(String::as_str).collect();
            index.add(&format!("p{i}"), &format!("1.{minor}"), &refs);
        }
    }
    let start = Instant::now();
    let resolution = resolve(&request(&["p0"]), &index).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(resolution.packages.len(), count);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    for (package, resolved) in &resolution.packages {
        if package.as_ref() != "p0" {
            assert!(
                resolved.version < v("1.4"),
                "{package} {}",
                resolved.version
            );
        }
    }
}

#[test]
fn deep_conflict_names_every_step() {
    let mut index = Index::default();
    index
        .add("app", "1.0", &["lib-a", "lib-b"])
        .add("lib-a", "1.0", &["core==1"])
        .add("lib-a", "2.0", &["core==2"])
        .add("lib-b", "1.0", &["core==3", "extra-dep"])
        .add("lib-b", "2.0", &["core>=3"])
        .add("extra-dep", "1.0", &[])
        .add("core", "1", &[])
        .add("core", "2", &[])
        .add("core", "3", &[]);
    let explanation = conflict(resolve(&request(&["app"]), &index));
    assert!(explanation.contains("lib-a"), "{explanation}");
    assert!(explanation.contains("lib-b"), "{explanation}");
    assert!(explanation.contains("core"), "{explanation}");
}

#[test]
fn unusual_specifiers_do_not_panic() {
    // `~=1` is rejected by the parser, so it never reaches the range conversion.
    assert!("a~=1".parse::<Requirement>().is_err());
    let mut index = Index::default();
    index
        .add("a", "1.0", &[])
        .add("a", "1.0.post1", &[])
        .add("a", "1.1.dev0", &[])
        .add("a", "2.0+local", &[]);
    for spec in [
        "a~=1.0",
        "a==1.*",
        "a!=1.*",
        "a>1.0",
        "a<2",
        "a>1.0.dev0",
        "a===1.0",
        "a==2.0+local",
    ] {
        let result = resolve(&request(&[spec]), &index);
        assert!(result.is_ok(), "{spec}: {result:?}");
    }
}

#[test]
fn deep_backtracking_over_requires_python_is_fast() {
    // 300 packages x 30 versions; version 1.k of each needs 1.k or newer of the next three,
    // and the deepest packages' versions above 1.20 need Python 3.12: PubGrub has to walk
    // everything back to 1.20.
    let count = 300;
    let mut index = Index::default();
    for i in 0..count {
        for minor in 0..30 {
            let mut requires = Vec::new();
            for step in [1, 2, 3] {
                let dep = i + step;
                if dep < count {
                    requires.push(format!("p{dep}>=1.{minor}"));
                }
            }
            // The newest versions of the deepest packages need a newer Python.
            let python = (i > count - 10 && minor > 20).then_some(">=3.12");
            let refs: Vec<&str> = requires.iter().map(String::as_str).collect();
            index.add_full(
                &format!("p{i}"),
                &format!("1.{minor}"),
                python,
                false,
                &refs,
            );
        }
    }
    let start = Instant::now();
    let result = resolve(&request(&["p0"]), &index);
    eprintln!(
        "heavy: {:?} {:?}",
        start.elapsed(),
        result
            .as_ref()
            .map(|r| r.packages[&name("p0")].version.to_string())
    );
}

#[test]
fn installed_package_blocking_a_new_one_is_explained() {
    let mut index = Index::default();
    index
        .add("old-plugin", "1.0", &["lib<2"])
        .add("new-plugin", "1.0", &["lib>=2"])
        .add("lib", "1.0", &[])
        .add("lib", "2.0", &[]);
    let mut req = request(&["new-plugin"]);
    req.installed = vec![(name("old-plugin"), v("1.0")), (name("lib"), v("1.0"))];
    let explanation = conflict(resolve(&req, &index));
    assert!(
        explanation.contains("old-plugin 1.0 requires lib<2"),
        "{explanation}"
    );
    assert!(
        explanation.contains("new-plugin 1.0 requires lib>=2"),
        "{explanation}"
    );
    assert!(
        explanation.contains("old-plugin 1.0 is installed"),
        "{explanation}"
    );
}
