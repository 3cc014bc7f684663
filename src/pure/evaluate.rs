//! Evaluation of every pod and workload template in an inventory against a level and version.
//!
//! Pure: no I/O.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::findings::Finding;
use crate::model::inventory::{Inventory, Provenance, Unavailable};
use crate::model::level::{Level, Version};
use crate::pss::{self, Violation};

/// The JSON schema version of `check` output. Bump on any incompatible change.
pub const CHECK_SCHEMA_VERSION: &str = "psa-migrate.check/v4";

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub schema_version: &'static str,
    /// The level judged against; `null` when none was asked for.
    pub level: Option<Level>,
    pub version: Version,
    pub results: Vec<CheckResult>,
    pub summary: CheckSummary,
    /// Check IDs excluded (`--exclude-check`, config): their violations are reported under
    /// `excludedViolations` and do not count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_checks: Vec<String>,
    /// Object patterns excluded (`--exclude KIND/NAMESPACE/NAME`, config).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_objects: Vec<String>,
    /// Findings about the input (e.g. duplicate objects); absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Problems reading the input (`input-*`, `api-*` codes), set by the app layer after the
    /// run's severity overrides; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<crate::findings::Diagnostic>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// The object's kind (a custom resource's own kind for a template inside one).
    pub kind: String,
    /// Empty for a cluster-scoped custom resource.
    pub namespace: String,
    pub name: String,
    /// For a pod template inside a custom resource: its path (`spec.workerGroupSpecs[0].template`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub source: Provenance,
    /// No violation of the level counts against it (excluded checks aside).
    pub allowed: bool,
    /// The `--exclude` pattern that matches the object: its verdict is reported and does not
    /// count (never in `denied`, never failing the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<String>,
    /// The most restrictive level the object passes at this version (every check counted).
    pub passes: Level,
    /// Upstream's long form of `violations`, empty when allowed.
    pub message: String,
    pub violations: Vec<Violation>,
    /// Violations of excluded checks: reported, not counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_violations: Vec<Violation>,
}

impl CheckResult {
    /// The object judged (and, for a custom resource, the template's path).
    pub fn object(&self) -> crate::findings::ObjectRef {
        let ns = (!self.namespace.is_empty()).then_some(self.namespace.as_str());
        crate::findings::ObjectRef {
            path: self.path.clone(),
            ..crate::findings::ObjectRef::new(&self.kind, ns, &self.name)
        }
    }

    /// `Kind namespace/name`, with the template's path for a custom resource
    /// (`RayCluster ml/llm spec.workerGroupSpecs[0].template`).
    pub fn subject(&self) -> String {
        self.object().to_string()
    }

    /// The level rejects it and the rejection counts (the object is not excluded).
    pub fn denied(&self) -> bool {
        !self.allowed && self.excluded.is_none()
    }
}

/// What `check` leaves out of the verdict: check IDs and object patterns. Excluded results
/// are still reported, marked as excluded.
#[derive(Clone, Debug, Default)]
pub struct Exclusions {
    pub checks: Vec<String>,
    pub objects: Vec<ObjectPattern>,
}

impl Exclusions {
    /// Parses check IDs (each must be a check of the catalogue) and `KIND/NAMESPACE/NAME`
    /// patterns; sorted and deduplicated.
    pub fn parse(checks: &[String], objects: &[String]) -> Result<Exclusions, String> {
        let mut ids = Vec::new();
        for id in checks {
            if !pss::checks::CATALOGUE.iter().any(|c| c.id == id) {
                let mut known: Vec<&str> = pss::checks::CATALOGUE.iter().map(|c| c.id).collect();
                known.sort_unstable();
                return Err(format!(
                    "unknown check {id:?} for --exclude-check; the checks are: {}",
                    known.join(", ")
                ));
            }
            ids.push(id.clone());
        }
        ids.sort();
        ids.dedup();
        let mut patterns =
            objects.iter().map(|p| ObjectPattern::parse(p)).collect::<Result<Vec<_>, _>>()?;
        patterns.sort_by(|a, b| a.text.cmp(&b.text));
        patterns.dedup_by(|a, b| a.text == b.text);
        Ok(Exclusions { checks: ids, objects: patterns })
    }

    /// The first pattern that matches the object (kind, namespace — empty when cluster-scoped —
    /// and name).
    pub fn object(&self, kind: &str, namespace: &str, name: &str) -> Option<&ObjectPattern> {
        self.objects.iter().find(|p| p.matches(kind, namespace, name))
    }
}

/// `KIND/NAMESPACE/NAME`, each part a glob (`*`, `?`, `[abc]`, `{a,b}`); the kind matches
/// case-insensitively, as kubectl's kind names do. `*` matches the empty namespace of a
/// cluster-scoped object.
#[derive(Clone, Debug)]
pub struct ObjectPattern {
    pub text: String,
    kind: globset::GlobMatcher,
    namespace: globset::GlobMatcher,
    name: globset::GlobMatcher,
}

impl ObjectPattern {
    pub fn parse(text: &str) -> Result<ObjectPattern, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let [kind, namespace, name] = parts[..] else {
            return Err(format!(
                "invalid --exclude pattern {text:?}: expected KIND/NAMESPACE/NAME, each a glob \
                 (e.g. Deployment/kube-system/* or */ml-*/trainer-?)"
            ));
        };
        let glob = |part: &str, case_insensitive: bool| {
            globset::GlobBuilder::new(part)
                .case_insensitive(case_insensitive)
                .literal_separator(false)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("invalid --exclude pattern {text:?}: {e}"))
        };
        Ok(ObjectPattern {
            text: text.to_owned(),
            kind: glob(kind, true)?,
            namespace: glob(namespace, false)?,
            name: glob(name, false)?,
        })
    }

    pub fn matches(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.kind.is_match(kind) && self.namespace.is_match(namespace) && self.name.is_match(name)
    }
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckSummary {
    pub objects: usize,
    /// Objects not excluded that the level allows.
    pub allowed: usize,
    /// Objects not excluded that the level rejects.
    pub denied: usize,
    /// Objects excluded by a pattern (allowed or not).
    pub excluded: usize,
    /// Number of objects by the most restrictive level they pass.
    pub passes: BTreeMap<Level, usize>,
    /// Kinds read but not evaluated, with counts.
    pub ignored_kinds: BTreeMap<String, usize>,
    /// Resource kinds that could not be read (live mode): the results are partial.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unavailable>,
}

/// Evaluates every object with a pod spec. Without a level nothing is judged: every object is
/// allowed and only `passes` is computed. Excluded checks and objects are judged and reported,
/// but do not count.
pub fn check(
    inv: &Inventory,
    level: Option<Level>,
    version: Version,
    exclusions: &Exclusions,
) -> CheckReport {
    let mut summary = CheckSummary {
        ignored_kinds: inv.ignored.clone(),
        unavailable: inv.unavailable.clone(),
        ..Default::default()
    };
    for l in Level::ALL {
        summary.passes.insert(l, 0);
    }
    let results: Vec<CheckResult> = inv
        .pod_objects
        .iter()
        .map(|obj| {
            let view = obj.view();
            let all = level.map(|l| pss::evaluate(l, version, &view)).unwrap_or_default();
            let passes = match level {
                // The result at the judged level tells part of the answer without re-running it.
                Some(Level::Restricted) if all.is_empty() => Level::Restricted,
                _ => pss::passes(version, &view),
            };
            let (excluded_violations, violations): (Vec<_>, Vec<_>) =
                all.into_iter().partition(|v| exclusions.checks.iter().any(|c| c == v.check));
            let allowed = violations.is_empty();
            let excluded = exclusions
                .object(obj.kind_name(), obj.namespace(), obj.name())
                .map(|p| p.text.clone());
            CheckResult {
                kind: obj.kind_name().to_owned(),
                namespace: obj.namespace().to_owned(),
                name: obj.name().to_owned(),
                path: obj.path().map(str::to_owned),
                source: obj.source.clone(),
                allowed,
                excluded,
                passes,
                message: pss::long_form(&violations),
                violations,
                excluded_violations,
            }
        })
        .collect();
    summary.objects = results.len();
    summary.excluded = results.iter().filter(|r| r.excluded.is_some()).count();
    summary.denied = results.iter().filter(|r| r.denied()).count();
    summary.allowed = summary.objects - summary.excluded - summary.denied;
    for r in &results {
        *summary.passes.entry(r.passes).or_default() += 1;
    }
    CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        level,
        version,
        results,
        summary,
        excluded_checks: exclusions.checks.clone(),
        excluded_objects: exclusions.objects.iter().map(|p| p.text.clone()).collect(),
        findings: inv.findings.clone(),
        diagnostics: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_patterns_are_globs_per_part() {
        let p = |s: &str| ObjectPattern::parse(s).unwrap();
        assert!(p("Deployment/kube-system/*").matches("Deployment", "kube-system", "coredns"));
        assert!(p("deployment/kube-system/*").matches("Deployment", "kube-system", "coredns"));
        assert!(!p("Deployment/kube-system/*").matches("Deployment", "kube-public", "x"));
        assert!(!p("Deployment/kube-system/*").matches("DaemonSet", "kube-system", "x"));
        assert!(p("*/ml-*/trainer-?").matches("PyTorchJob", "ml-train", "trainer-1"));
        assert!(!p("*/ml-*/trainer-?").matches("PyTorchJob", "ml-train", "trainer-10"));
        assert!(p("{Pod,Job}/*/[ab]*").matches("Job", "x", "batch"));
        assert!(!p("{Pod,Job}/*/[ab]*").matches("CronJob", "x", "batch"));
        // `*` matches the empty namespace of a cluster-scoped object; names are case-sensitive.
        assert!(p("ClusterServingRuntime/*/kserve-*").matches(
            "ClusterServingRuntime",
            "",
            "kserve-x"
        ));
        assert!(!p("Pod/x/Web").matches("Pod", "x", "web"));
        for bad in ["Pod", "Pod/x", "Pod/x/y/z", "Pod/[/x"] {
            assert!(ObjectPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exclusions_are_checked_sorted_and_unique() {
        let e = Exclusions::parse(
            &["hostPorts".into(), "privileged".into(), "hostPorts".into()],
            &["b/*/*".into(), "a/*/*".into(), "b/*/*".into()],
        )
        .unwrap();
        assert_eq!(e.checks, ["hostPorts", "privileged"]);
        let texts: Vec<&str> = e.objects.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["a/*/*", "b/*/*"]);
        let err = Exclusions::parse(&["hostport".into()], &[]).unwrap_err();
        assert!(err.starts_with("unknown check \"hostport\" for --exclude-check; the checks are: allowPrivilegeEscalation, appArmorProfile,"), "{err}");
    }
}
