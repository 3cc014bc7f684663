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
    pub allowed: bool,
    /// The most restrictive level the object passes at this version.
    pub passes: Level,
    /// Upstream's long form, empty when allowed.
    pub message: String,
    pub violations: Vec<Violation>,
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
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckSummary {
    pub objects: usize,
    pub allowed: usize,
    pub denied: usize,
    /// Number of objects by the most restrictive level they pass.
    pub passes: BTreeMap<Level, usize>,
    /// Kinds read but not evaluated, with counts.
    pub ignored_kinds: BTreeMap<String, usize>,
    /// Resource kinds that could not be read (live mode): the results are partial.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Unavailable>,
}

/// Evaluates every object with a pod spec. Without a level nothing is judged: every object is
/// allowed and only `passes` is computed.
pub fn check(inv: &Inventory, level: Option<Level>, version: Version) -> CheckReport {
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
            let violations = level.map(|l| pss::evaluate(l, version, &view)).unwrap_or_default();
            let allowed = violations.is_empty();
            let passes = match level {
                // The result at the judged level tells part of the answer without re-running it.
                Some(Level::Restricted) if allowed => Level::Restricted,
                _ => pss::passes(version, &view),
            };
            CheckResult {
                kind: obj.kind_name().to_owned(),
                namespace: obj.namespace().to_owned(),
                name: obj.name().to_owned(),
                path: obj.path().map(str::to_owned),
                source: obj.source.clone(),
                allowed,
                passes,
                message: pss::long_form(&violations),
                violations,
            }
        })
        .collect();
    summary.objects = results.len();
    summary.allowed = results.iter().filter(|r| r.allowed).count();
    summary.denied = summary.objects - summary.allowed;
    for r in &results {
        *summary.passes.entry(r.passes).or_default() += 1;
    }
    CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        level,
        version,
        results,
        summary,
        findings: inv.findings.clone(),
        diagnostics: Vec::new(),
    }
}
