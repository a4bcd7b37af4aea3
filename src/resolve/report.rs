//! Conflict explanations: PubGrub's derivation tree turned into a few plain sentences that
//! name packages, versions and specifiers the way users write them (`beta>=2`, `alpha 1.0`),
//! say which versions exist, and why Tutor or Python cannot move.

use std::ops::Bound;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
};

use super::VersionInfo;
use super::solver::{Pkg, Range, Solver, Unavailable};

type Tree = DerivationTree<Pkg, Range, Unavailable>;
type Ext = External<Pkg, Range, Unavailable>;
type Der = Derived<Pkg, Range, Unavailable>;
type Terms = Map<Pkg, Term<Range>>;

/// How many versions an "available: …" list shows.
const MAX_LISTED: usize = 8;

/// Explains why `tree` has no solution, one sentence per line.
pub(crate) fn explain(mut tree: Tree, solver: &Solver<'_>) -> String {
    drop_python_no_versions(&mut tree);
    collapse_no_versions(&mut tree, solver);
    let formatter = Explainer { solver };
    let text = DefaultStringReporter::report_with_formatter(&tree, &formatter);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let mut text = lines.join("\n");
    if let Some(first) = text.get(..1) {
        // A lone external fact comes back uncapitalised and without a full stop.
        let upper = first.to_uppercase();
        text.replace_range(..1, &upper);
    }
    if !text.ends_with('.') && !text.ends_with(')') {
        text.push('.');
    }
    text
}

/// Folds "no version of alpha matches !=1.0" into the facts about alpha 1.0 when alpha simply
/// has no other version: the sentence would only repeat the list of versions. Kept when the
/// range holds versions that were set aside (yanked, pre-releases), whose note helps.
fn collapse_no_versions(tree: &mut Tree, solver: &Solver<'_>) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    collapse_no_versions(Arc::make_mut(&mut derived.cause1), solver);
    collapse_no_versions(Arc::make_mut(&mut derived.cause2), solver);
    let foldable = |tree: &Tree| match tree {
        DerivationTree::External(External::NoVersions(pkg, range)) => {
            let known = pkg.name().and_then(|name| solver.cached_versions(name))?;
            if known.is_empty() || known.iter().any(|info| range.contains(&info.version)) {
                return None;
            }
            Some((pkg.clone(), range.clone()))
        }
        _ => None,
    };
    let (no_versions, other) = if let Some(found) = foldable(&derived.cause1) {
        (found, Arc::clone(&derived.cause2))
    } else if let Some(found) = foldable(&derived.cause2) {
        (found, Arc::clone(&derived.cause1))
    } else {
        return;
    };
    let (pkg, range) = no_versions;
    let replacement = match &*other {
        DerivationTree::External(External::FromDependencyOf(p, r, dep, dep_range)) if p == &pkg => {
            DerivationTree::External(External::FromDependencyOf(
                p.clone(),
                r.union(&range),
                dep.clone(),
                dep_range.clone(),
            ))
        }
        DerivationTree::External(External::Custom(p, r, reason)) if p == &pkg => {
            DerivationTree::External(External::Custom(p.clone(), r.union(&range), reason.clone()))
        }
        DerivationTree::Derived(inner)
            if matches!(inner.terms.get(&pkg), Some(Term::Positive(_))) =>
        {
            DerivationTree::Derived(Derived {
                terms: derived.terms.clone(),
                shared_id: derived.shared_id,
                cause1: Arc::clone(&inner.cause1),
                cause2: Arc::clone(&inner.cause2),
            })
        }
        _ => return,
    };
    *tree = replacement;
}

/// "Python has no version in >=3.12" is implied by "... requires Python >=3.12 but the
/// environment has 3.11.7", which the dependency's sentence already says.
fn drop_python_no_versions(tree: &mut Tree) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    let is_python = |tree: &Tree| {
        matches!(
            tree,
            DerivationTree::External(External::NoVersions(Pkg::Python, _))
        )
    };
    let other = if is_python(&derived.cause1) {
        Some(Arc::clone(&derived.cause2))
    } else if is_python(&derived.cause2) {
        Some(Arc::clone(&derived.cause1))
    } else {
        None
    };
    match other {
        Some(other) => {
            let mut other = Arc::unwrap_or_clone(other);
            drop_python_no_versions(&mut other);
            // Keep the shared id so that references between lines stay consistent.
            if let (DerivationTree::Derived(new), Some(id)) = (&mut other, derived.shared_id) {
                new.shared_id.get_or_insert(id);
            }
            *tree = other;
        }
        None => {
            drop_python_no_versions(Arc::make_mut(&mut derived.cause1));
            drop_python_no_versions(Arc::make_mut(&mut derived.cause2));
        }
    }
}

/// `name[extras]specifiers` without the URL (it may carry credentials).
pub(crate) fn requirement_text(requirement: &Requirement) -> String {
    let mut text = requirement.name.to_string();
    if !requirement.extras.is_empty() {
        let extras: Vec<String> = requirement.extras.iter().map(ToString::to_string).collect();
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
            text.push_str(&specifiers.to_string().replace(", ", ","));
        }
        Some(VersionOrUrl::Url(_)) => text.push_str(" (from a URL)"),
        None => {}
    }
    text
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Why a fixed package does not move.
pub(crate) fn fixed_clause(name: &PackageName) -> String {
    let display = if name.as_ref() == "tutor" {
        "Tutor".to_string()
    } else {
        format!("`{name}`")
    };
    format!(
        "plonk never changes {display} as a side effect (name `{name}` explicitly to upgrade it)"
    )
}

/// A version range as PEP 440 specifiers: `>=22,<23`, `==1.0`, `!=1.5`; empty when full.
pub(crate) fn specifiers(range: &Range) -> String {
    if range == &Range::full() {
        return String::new();
    }
    if range.is_empty() {
        return " (no version)".to_string();
    }
    if let Some(version) = range.as_singleton() {
        return format!("=={version}");
    }
    if let Some(version) = range.complement().as_singleton() {
        return format!("!={version}");
    }
    let segments: Vec<String> = range
        .iter()
        .map(|(low_bound, high_bound)| {
            let low = match low_bound {
                Bound::Included(v) => format!(">={v}"),
                Bound::Excluded(v) => format!(">{v}"),
                Bound::Unbounded => String::new(),
            };
            let high = match high_bound {
                Bound::Included(v) => format!("<={v}"),
                Bound::Excluded(v) => format!("<{v}"),
                Bound::Unbounded => String::new(),
            };
            if let (Bound::Included(a), Bound::Included(b)) = (low_bound, high_bound)
                && a == b
            {
                return format!("=={a}");
            }
            match (low.is_empty(), high.is_empty()) {
                (false, false) => format!("{low},{high}"),
                (true, _) => high,
                (_, true) => low,
            }
        })
        .collect();
    segments.join(" or ")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        one.to_string()
    } else {
        many.to_string()
    }
}

struct Explainer<'a, 'b> {
    solver: &'a Solver<'b>,
}

impl Explainer<'_, '_> {
    fn known(&self, pkg: &Pkg) -> Option<std::rc::Rc<[VersionInfo]>> {
        pkg.name()
            .and_then(|name| self.solver.cached_versions(name))
    }

    /// A package at some versions, as the subject of a sentence: `alpha 1.0`,
    /// `alpha>=2`, `every version of alpha`.
    fn subject(&self, pkg: &Pkg, range: &Range) -> String {
        match pkg {
            Pkg::Root => return "the requirements".to_string(),
            Pkg::Python => return format!("Python{}", spaced(&specifiers(range))),
            Pkg::Dist(_) | Pkg::Extra(..) => {}
        }
        let Some(known) = self.known(pkg) else {
            return format!("{pkg}{}", specifiers(range));
        };
        let matching: Vec<&Version> = known
            .iter()
            .map(|info| &info.version)
            .filter(|version| range.contains(*version))
            .collect();
        match matching.as_slice() {
            [one] => format!("{pkg} {one}"),
            _ if !matching.is_empty() && matching.len() == known.len() => {
                if range == &Range::full() || known.len() > 1 {
                    format!("every version of {pkg}")
                } else {
                    format!("{pkg}{}", specifiers(range))
                }
            }
            _ => {
                let simplified = range.simplify(known.iter().map(|info| &info.version));
                format!("{pkg}{}", specifiers(&simplified))
            }
        }
    }

    /// What is required: `beta>=2`, `tutor>=22,<23`, `Python >=3.12`.
    fn requirement(&self, pkg: &Pkg, range: &Range) -> String {
        match pkg {
            Pkg::Python => format!("Python{}", spaced(&specifiers(range))),
            _ => format!("{pkg}{}", specifiers(range)),
        }
    }

    /// A dependency of the root, said by where it came from.
    fn root_fact(&self, pkg: &Pkg, range: &Range) -> String {
        let Pkg::Dist(name) = pkg else {
            return format!("you asked for {}", self.requirement(pkg, range));
        };
        let origin = self.solver.root_origins.get(name);
        let user = origin.is_some_and(|origin| origin.user);
        match origin {
            Some(origin) if !user => {
                if let Some(version) = &origin.fixed {
                    format!("{name} {version} is installed and {}", fixed_clause(name))
                } else if let Some(version) = &origin.installed {
                    format!(
                        "{name} {version} is installed (plonk keeps installed packages; remove it first if it is no longer needed)"
                    )
                } else {
                    format!("{name} is required")
                }
            }
            _ => format!("you asked for {}", self.requirement(pkg, range)),
        }
    }

    fn no_versions(&self, pkg: &Pkg, range: &Range) -> String {
        let Some(name) = pkg.name() else {
            return format!("{pkg} is not available");
        };
        let Some(known) = self.solver.cached_versions(name) else {
            return format!("no version of {pkg} is available");
        };
        if known.is_empty() {
            return format!("{name} was not found in the package indexes");
        }
        let allows_pre = self.solver.allows_pre(name, &known);
        let usable = |info: &&VersionInfo| {
            (!info.yanked || self.solver.is_pinned(name, &info.version))
                && (allows_pre || !info.version.any_prerelease())
        };
        let available: Vec<String> = known
            .iter()
            .filter(usable)
            .map(|info| info.version.to_string())
            .collect();
        let mut listed = if available.is_empty() {
            "none usable".to_string()
        } else if available.len() > MAX_LISTED {
            format!(
                "…, {}",
                available[available.len() - MAX_LISTED..].join(", ")
            )
        } else {
            available.join(", ")
        };
        // Versions that match but were set aside, so the user sees what to change.
        let in_range = |info: &&VersionInfo| range.contains(&info.version);
        let yanked: Vec<String> = known
            .iter()
            .filter(in_range)
            .filter(|info| info.yanked && !self.solver.is_pinned(name, &info.version))
            .map(|info| info.version.to_string())
            .collect();
        if !yanked.is_empty() {
            listed.push_str(&format!(
                "; {} {} yanked, pin it with `==` to use it anyway",
                join_and(&yanked),
                plural(yanked.len(), "is", "are")
            ));
        }
        if !allows_pre {
            let pre: Vec<String> = known
                .iter()
                .filter(in_range)
                .filter(|info| !info.yanked && info.version.any_prerelease())
                .map(|info| info.version.to_string())
                .collect();
            if !pre.is_empty() {
                listed.push_str(&format!(
                    "; {} {}, only used when requested or pinned",
                    join_and(&pre),
                    plural(pre.len(), "is a pre-release", "are pre-releases"),
                ));
            }
        }
        if range == &Range::full() {
            format!("no version of {pkg} can be used (available: {listed})")
        } else {
            format!(
                "no version of {pkg} matches {} (available: {listed})",
                specifiers(range)
            )
        }
    }

    fn dependency(&self, pkg: &Pkg, range: &Range, dep: &Pkg, dep_range: &Range) -> String {
        match (pkg, dep) {
            (Pkg::Root, _) => self.root_fact(dep, dep_range),
            (_, Pkg::Python) => format!(
                "{} requires {} but the environment has {}",
                self.subject(pkg, range),
                self.requirement(dep, dep_range),
                self.solver.python_version()
            ),
            (Pkg::Extra(name, extra), Pkg::Dist(dist)) if name == dist => format!(
                "{} is the extra `{extra}` of {name} and needs {name} at the same version",
                self.subject(pkg, range)
            ),
            _ => format!(
                "{} requires {}",
                self.subject(pkg, range),
                self.requirement(dep, dep_range)
            ),
        }
    }

    /// Two facts joined by "and", in reading order; two things the user asked for share
    /// one "you asked for".
    fn pair(&self, one: &Ext, other: &Ext) -> String {
        let (first, second) = ordered(one, other);
        let first = self.format_external(first);
        let second = self.format_external(second);
        const ASKED: &str = "you asked for ";
        match (first.strip_prefix(ASKED), second.strip_prefix(ASKED)) {
            (Some(a), Some(b)) => format!("{ASKED}{a} and {b}"),
            _ => format!("{first} and {second}"),
        }
    }

    /// The "Cannot install X because it requires tutor… but tutor … is installed" sentence,
    /// when one fact is a dependency on a fixed package and the other is its fixed version.
    fn fixed_conflict(&self, one: &Ext, other: &Ext) -> Option<String> {
        let External::FromDependencyOf(pkg, range, Pkg::Dist(dep), dep_range) = one else {
            return None;
        };
        if matches!(pkg, Pkg::Root) {
            return None;
        }
        let External::FromDependencyOf(Pkg::Root, _, Pkg::Dist(fixed), _) = other else {
            return None;
        };
        let origin = self.solver.root_origins.get(dep)?;
        let version = origin.fixed.as_ref()?;
        if fixed != dep || origin.user {
            return None;
        }
        Some(format!(
            "Cannot install {} because it requires {} but {dep} {version} is installed and {}.",
            self.subject(pkg, range),
            self.requirement(&Pkg::Dist(dep.clone()), dep_range),
            fixed_clause(dep)
        ))
    }
}

/// Two facts in reading order: what was asked, then what requires what, then what exists.
fn ordered<'e>(one: &'e Ext, other: &'e Ext) -> (&'e Ext, &'e Ext) {
    let rank = |external: &Ext| match external {
        External::FromDependencyOf(Pkg::Root, ..) => 0,
        External::NotRoot(..) => 0,
        External::FromDependencyOf(_, _, Pkg::Python, _) => 2,
        External::FromDependencyOf(..) => 1,
        External::Custom(..) => 2,
        External::NoVersions(..) => 3,
    };
    if rank(other) < rank(one) {
        (other, one)
    } else {
        (one, other)
    }
}

/// `" >=3.12"` for Python, whose specifiers read better apart from the name.
fn spaced(specifiers: &str) -> String {
    if specifiers.is_empty() {
        String::new()
    } else {
        format!(" {specifiers}")
    }
}

impl ReportFormatter<Pkg, Range, Unavailable> for Explainer<'_, '_> {
    type Output = String;

    fn format_external(&self, external: &Ext) -> String {
        match external {
            External::NotRoot(pkg, version) => format!("{pkg} {version} is what is being resolved"),
            External::NoVersions(pkg, range) => self.no_versions(pkg, range),
            External::Custom(pkg, range, reason) => {
                format!("{} {reason}", self.subject(pkg, range))
            }
            External::FromDependencyOf(pkg, range, dep, dep_range) => {
                self.dependency(pkg, range, dep, dep_range)
            }
        }
    }

    fn format_terms(&self, terms: &Terms) -> String {
        let mut list: Vec<(&Pkg, &Term<Range>)> = terms.iter().collect();
        // Positive terms first, then by package, for a stable wording.
        list.sort_by_key(|(pkg, term)| (matches!(term, Term::Negative(_)), (*pkg).clone()));
        match list.as_slice() {
            [] | [(Pkg::Root, Term::Positive(_))] => "the requirements cannot be satisfied".into(),
            [(pkg, Term::Positive(range))] => {
                let subject = self.subject(pkg, range);
                if subject.starts_with("every version of ") {
                    format!("no version of {pkg} can be installed")
                } else {
                    format!("{subject} cannot be installed")
                }
            }
            [(pkg, Term::Negative(range))] => {
                format!("{} is required", self.requirement(pkg, range))
            }
            [
                (pkg, Term::Positive(range)),
                (dep, Term::Negative(dep_range)),
            ] => self.dependency(pkg, range, dep, dep_range),
            _ => {
                let parts: Vec<String> = list
                    .iter()
                    .map(|(pkg, term)| match term {
                        // "lib-a 1.0 and lib-b cannot be installed together".
                        Term::Positive(range) => {
                            let subject = self.subject(pkg, range);
                            match subject.strip_prefix("every version of ") {
                                Some(name) => name.to_string(),
                                None => subject,
                            }
                        }
                        Term::Negative(range) => self.requirement(pkg, &range.complement()),
                    })
                    .collect();
                format!("{} cannot be installed together", join_and(&parts))
            }
        }
    }

    fn explain_both_external(&self, external1: &Ext, external2: &Ext, current: &Terms) -> String {
        if let Some(sentence) = self
            .fixed_conflict(external1, external2)
            .or_else(|| self.fixed_conflict(external2, external1))
        {
            return sentence;
        }
        format!(
            "Because {}, {}.",
            self.pair(external1, external2),
            self.format_terms(current)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Der,
        ref_id2: usize,
        derived2: &Der,
        current: &Terms,
    ) -> String {
        format!(
            "Because {} ({ref_id1}) and {} ({ref_id2}), {}.",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(current)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Der,
        external: &Ext,
        current: &Terms,
    ) -> String {
        format!(
            "Because {} ({ref_id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(current)
        )
    }

    fn and_explain_external(&self, external: &Ext, current: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(current)
        )
    }

    fn and_explain_ref(&self, ref_id: usize, derived: &Der, current: &Terms) -> String {
        format!(
            "And because {} ({ref_id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(current)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &Ext,
        external: &Ext,
        current: &Terms,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.pair(prior_external, external),
            self.format_terms(current)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn specifiers_read_like_pep440() {
        let spec = |s: &str| {
            specifiers(&Range::from(
                s.parse::<pep440_rs::VersionSpecifiers>().unwrap(),
            ))
        };
        assert_eq!(spec(">=22,<23"), ">=22,<23");
        assert_eq!(spec(">=2"), ">=2");
        assert_eq!(spec("==1.0"), "==1.0");
        assert_eq!(spec("!=1.5"), "!=1.5");
        assert_eq!(spec(">1.0"), ">1.0");
        assert_eq!(specifiers(&Range::full()), "");
        let two = Range::singleton(v("2.0")).union(&Range::singleton(v("3.0")));
        assert_eq!(specifiers(&two), "==2.0 or ==3.0");
    }

    #[test]
    fn join_and_lists() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["a".into()]), "a");
        assert_eq!(join_and(&["a".into(), "b".into()]), "a and b");
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn fixed_clause_names_tutor() {
        let tutor: PackageName = "tutor".parse().unwrap();
        assert_eq!(
            fixed_clause(&tutor),
            "plonk never changes Tutor as a side effect (name `tutor` explicitly to upgrade it)"
        );
        let other: PackageName = "other".parse().unwrap();
        assert!(fixed_clause(&other).contains("never changes `other`"));
    }

    #[test]
    fn requirement_text_hides_urls() {
        let r: Requirement = "foo[bar] @ https://user:secret@example.com/foo.whl"
            .parse()
            .unwrap();
        let text = requirement_text(&r);
        assert_eq!(text, "foo[bar] (from a URL)");
        let r: Requirement = "foo>=1,<2".parse().unwrap();
        assert_eq!(requirement_text(&r), "foo>=1,<2");
    }
}
