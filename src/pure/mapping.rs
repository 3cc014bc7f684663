//! PSP → PSS: the nearest Pod Security Standards level of each PodSecurityPolicy, with a reason
//! per field, the fields that mutate pods, and the restrictions no PSS level expresses.
//!
//! A PSP's level is the least restrictive level any of its fields forces (see [`table::TABLE`],
//! one row per field and annotation). Both readings are always computed: `level` (practical,
//! the default) and `strictLevel`; they differ only in the two waived implicit defaults, which
//! the practical reading lists under `assumptions`.
//!
//! Pure: no I/O.

/// The static one-row-per-field PSP → PSS table.
pub mod table;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, Provenance, Sourced};
use crate::model::level::Level;
use crate::model::psp::PodSecurityPolicy;

/// The JSON schema version of `map` output. Bump on any incompatible change.
pub const MAP_SCHEMA_VERSION: &str = "psa-migrate.map/v3";

/// Why a field forces a level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// Field path in the PSP manifest.
    pub field: &'static str,
    /// Level the value forces (practical reading).
    pub forces: Level,
    /// Level the value forces in the strict reading.
    pub strict_forces: Level,
    pub detail: String,
}

/// A field with a one-line note (used for assumptions, mutating and uncovered fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldNote {
    pub field: &'static str,
    pub detail: String,
}

/// The mapping of one PSP.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyMapping {
    pub name: String,
    pub api_version: String,
    /// Practical reading.
    pub level: Level,
    /// Strict reading.
    pub strict_level: Level,
    /// Fields the PSP sets, and fields whose value (set or defaulted) forces less than
    /// restricted in either reading; in table order.
    pub reasons: Vec<Reason>,
    /// Implicit defaults the practical reading waived.
    pub assumptions: Vec<FieldNote>,
    /// Fields that change pods at admission under PSP.
    pub mutating_fields: Vec<FieldNote>,
    /// Restrictions no PSS level expresses (enforce them elsewhere, or drop them).
    pub uncovered_fields: Vec<FieldNote>,
    /// Values the PSP API would reject or not recognise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
}

impl PolicyMapping {
    /// The level in the chosen reading.
    pub fn level_for(&self, strict: bool) -> Level {
        if strict { self.strict_level } else { self.level }
    }

    /// Whether the PSP changes pods at admission (PSP prefers non-mutating policies).
    pub fn is_mutating(&self) -> bool {
        !self.mutating_fields.is_empty()
    }
}

/// Maps one PSP through every row of the table.
pub fn map_psp(psp: &PodSecurityPolicy) -> PolicyMapping {
    let mut m = PolicyMapping {
        name: psp.metadata.name.clone(),
        api_version: psp.api_version.clone(),
        level: Level::Restricted,
        strict_level: Level::Restricted,
        reasons: Vec::new(),
        assumptions: Vec::new(),
        mutating_fields: Vec::new(),
        uncovered_fields: Vec::new(),
        problems: Vec::new(),
        source: None,
    };
    for row in table::TABLE {
        let out = (row.eval)(psp);
        m.level = m.level.looser(out.forces);
        m.strict_level = m.strict_level.looser(out.strict);
        if out.set || out.forces < Level::Restricted || out.strict < Level::Restricted {
            m.reasons.push(Reason {
                field: row.field,
                forces: out.forces,
                strict_forces: out.strict,
                detail: out.detail,
            });
        }
        if let Some(detail) = out.assumption {
            m.assumptions.push(FieldNote { field: row.field, detail });
        }
        if let Some(detail) = out.mutating {
            m.mutating_fields.push(FieldNote { field: row.field, detail });
        }
        if let Some(detail) = out.uncovered {
            m.uncovered_fields.push(FieldNote { field: row.field, detail });
        }
        m.problems.extend(out.problems);
    }
    m
}

/// Maps a PSP from the inventory, keeping its provenance.
pub fn map_sourced(psp: &Sourced<PodSecurityPolicy>) -> PolicyMapping {
    PolicyMapping { source: Some(psp.source.clone()), ..map_psp(psp) }
}

/// Mappings of every PSP in the inventory by name (the first of duplicate names wins).
pub fn map_by_name(inv: &Inventory) -> BTreeMap<String, PolicyMapping> {
    let mut out = BTreeMap::new();
    for psp in &inv.psps {
        out.entry(psp.metadata.name.clone()).or_insert_with(|| map_sourced(psp));
    }
    out
}

/// The least restrictive level among some PSPs, in the chosen reading; `None` when there are none
/// (or none of them is known).
pub fn loosest<'a>(
    mappings: &BTreeMap<String, PolicyMapping>,
    psps: impl IntoIterator<Item = &'a str>,
    strict: bool,
) -> Option<Level> {
    psps.into_iter().filter_map(|p| mappings.get(p)).map(|m| m.level_for(strict)).min()
}

/// `map` output.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MapReport {
    pub schema_version: &'static str,
    /// Whether the text view and headlines use the strict reading (JSON carries both).
    pub strict: bool,
    pub policies: Vec<PolicyMapping>,
    pub findings: Vec<Finding>,
    /// Problems reading the input (`input-*`, `api-*` codes), set by the app layer after the
    /// run's severity overrides; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<crate::findings::Diagnostic>,
}

/// Maps every PSP in the inventory, in name order; problems become `psp-invalid-value` findings.
pub fn map_report(inv: &Inventory, strict: bool) -> MapReport {
    let mut policies: Vec<PolicyMapping> = inv.psps.iter().map(map_sourced).collect();
    policies.sort_by(|a, b| (&a.name, &a.source).cmp(&(&b.name, &b.source)));
    // Findings about the input itself (e.g. a PSP read twice) come first-hand into every report.
    let mut findings = inv.findings.clone();
    for p in &policies {
        findings.extend(problem_findings(p));
    }
    crate::findings::sort(&mut findings);
    MapReport {
        schema_version: MAP_SCHEMA_VERSION,
        strict,
        policies,
        findings,
        diagnostics: Vec::new(),
    }
}

/// `psp-invalid-value` findings for one mapping.
pub fn problem_findings(m: &PolicyMapping) -> Vec<Finding> {
    m.problems
        .iter()
        .map(|msg| {
            let f = Finding::new(
                Code::PspInvalidValue,
                ObjectRef::new("PodSecurityPolicy", None, &m.name),
                msg.clone(),
            );
            match &m.source {
                Some(s) => f.with_source(s),
                None => f,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psp(yaml: &str) -> PodSecurityPolicy {
        serde_saphyr::from_str(yaml).unwrap()
    }

    /// The Kubernetes documentation's example PSPs (policy/privileged-psp.yaml,
    /// policy/baseline-psp.yaml, policy/restricted-psp.yaml), verbatim apart from comments.
    pub(crate) const DOCS_PRIVILEGED: &str =
        include_str!("../../testdata/psp/k8s-docs-privileged.yaml");

    pub(crate) const DOCS_BASELINE: &str =
        include_str!("../../testdata/psp/k8s-docs-baseline.yaml");

    pub(crate) const DOCS_RESTRICTED: &str =
        include_str!("../../testdata/psp/k8s-docs-restricted.yaml");

    fn levels(yaml: &str) -> (Level, Level) {
        let m = map_psp(&psp(yaml));
        (m.level, m.strict_level)
    }

    /// The docs' examples map to privileged / privileged / restricted (practical) and privileged
    /// in all three cases (strict). The baseline example is privileged because its seccomp
    /// annotation is `*` (unconfined allowed); the restricted one is strictly privileged only
    /// because of seLinux RunAsAny.
    #[test]
    fn kubernetes_docs_examples() {
        use Level::*;
        assert_eq!(levels(DOCS_PRIVILEGED), (Privileged, Privileged));
        assert_eq!(levels(DOCS_BASELINE), (Privileged, Privileged));
        assert_eq!(levels(DOCS_RESTRICTED), (Restricted, Privileged));

        let baseline = map_psp(&psp(DOCS_BASELINE));
        let below: Vec<&str> =
            baseline.reasons.iter().filter(|r| r.forces == Privileged).map(|r| r.field).collect();
        assert_eq!(
            below,
            ["metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]"]
        );

        let restricted = map_psp(&psp(DOCS_RESTRICTED));
        let waived: Vec<&str> = restricted.assumptions.iter().map(|a| a.field).collect();
        assert_eq!(waived, ["spec.seLinux"]);
        assert!(restricted.is_mutating());
        assert!(restricted.problems.is_empty() && baseline.problems.is_empty());
    }

    fn with_spec(spec: &str) -> PodSecurityPolicy {
        // A restricted-compatible base with one part replaced by the test's spec lines.
        let base = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: t\n  annotations:\n    seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default\n    apparmor.security.beta.kubernetes.io/allowedProfileNames: runtime/default\nspec:\n  allowPrivilegeEscalation: false\n  requiredDropCapabilities: [ALL]\n  runAsUser: {rule: MustRunAsNonRoot}\n  seLinux: {rule: MustRunAs, seLinuxOptions: {type: container_t}}\n";
        let mut p = psp(base);
        let extra: PodSecurityPolicy = psp(&format!("spec:\n{spec}"));
        let mut v = serde_json::to_value(&p.spec).unwrap();
        for (k, val) in serde_json::to_value(&extra.spec).unwrap().as_object().unwrap() {
            v[k] = val.clone();
        }
        p.spec = serde_json::from_value(v).unwrap();
        p
    }

    #[test]
    fn field_rules() {
        use Level::*;
        let lv = |spec: &str| {
            let m = map_psp(&with_spec(spec));
            (m.level, m.strict_level)
        };
        assert_eq!(lv("  privileged: false"), (Restricted, Restricted));
        assert_eq!(lv("  allowPrivilegeEscalation: true"), (Baseline, Baseline));
        assert_eq!(lv("  requiredDropCapabilities: [NET_RAW]"), (Baseline, Baseline));
        assert_eq!(lv("  allowedCapabilities: [NET_BIND_SERVICE]"), (Restricted, Restricted));
        assert_eq!(lv("  allowedCapabilities: [CHOWN]"), (Baseline, Baseline));
        assert_eq!(lv("  allowedCapabilities: [SYS_ADMIN]"), (Privileged, Privileged));
        assert_eq!(lv("  defaultAddCapabilities: [NET_ADMIN]"), (Privileged, Privileged));
        assert_eq!(lv("  volumes: [configMap, secret, csi]"), (Restricted, Restricted));
        assert_eq!(lv("  volumes: [configMap, nfs]"), (Baseline, Baseline));
        assert_eq!(lv("  volumes: [hostPath]"), (Privileged, Privileged));
        assert_eq!(lv("  volumes: ['*']"), (Privileged, Privileged));
        assert_eq!(lv("  hostPorts: [{min: 0, max: 0}]"), (Restricted, Restricted));
        assert_eq!(lv("  hostPorts: [{min: 80, max: 80}]"), (Privileged, Privileged));
        assert_eq!(lv("  hostNetwork: true"), (Privileged, Privileged));
        assert_eq!(lv("  hostPID: true"), (Privileged, Privileged));
        assert_eq!(lv("  hostIPC: true"), (Privileged, Privileged));
        assert_eq!(lv("  seLinux: {rule: RunAsAny}"), (Restricted, Privileged));
        assert_eq!(
            lv("  seLinux: {rule: MustRunAs, seLinuxOptions: {type: spc_t}}"),
            (Privileged, Privileged)
        );
        assert_eq!(
            lv("  seLinux: {rule: MustRunAs, seLinuxOptions: {user: system_u}}"),
            (Privileged, Privileged)
        );
        assert_eq!(
            lv("  seLinux: {rule: MustRunAs, seLinuxOptions: {level: 's0:c1,c2'}}"),
            (Restricted, Restricted)
        );
        assert_eq!(lv("  runAsUser: {rule: RunAsAny}"), (Baseline, Baseline));
        assert_eq!(
            lv("  runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}"),
            (Baseline, Baseline)
        );
        assert_eq!(lv("  allowedUnsafeSysctls: ['kernel.msg*']"), (Privileged, Privileged));
        assert_eq!(
            lv("  allowedUnsafeSysctls: [net.ipv4.ip_local_port_range]"),
            (Restricted, Restricted)
        );
        assert_eq!(lv("  allowedUnsafeSysctls: [net.core.somaxconn]"), (Privileged, Privileged));
        assert_eq!(lv("  allowedProcMountTypes: [Default]"), (Restricted, Restricted));
        assert_eq!(lv("  allowedProcMountTypes: [Default, Unmasked]"), (Privileged, Privileged));
        assert_eq!(lv("  readOnlyRootFilesystem: true"), (Restricted, Restricted));
        assert_eq!(
            lv("  allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}]"),
            (Restricted, Restricted)
        );
    }

    #[test]
    fn annotation_rules() {
        use Level::*;
        let lv = |key: &str, value: Option<&str>| {
            let mut p = with_spec("  privileged: false");
            match value {
                Some(v) => p.metadata.annotations.insert(key.into(), v.into()),
                None => p.metadata.annotations.remove(key),
            };
            let m = map_psp(&p);
            (m.level, m.strict_level, m.problems.len())
        };
        let sc = table::SECCOMP_ALLOWED;
        assert_eq!(lv(sc, None), (Baseline, Baseline, 0));
        assert_eq!(lv(sc, Some("runtime/default,")), (Baseline, Baseline, 0));
        assert_eq!(lv(sc, Some("docker/default")), (Restricted, Restricted, 0));
        assert_eq!(lv(sc, Some("localhost/profiles/audit.json")), (Restricted, Restricted, 0));
        assert_eq!(lv(sc, Some("runtime/default,unconfined")), (Privileged, Privileged, 0));
        assert_eq!(lv(sc, Some("*")), (Privileged, Privileged, 0));
        assert_eq!(lv(sc, Some("runtime/default,bogus")), (Restricted, Restricted, 1));
        let aa = table::APPARMOR_ALLOWED;
        assert_eq!(lv(aa, None), (Restricted, Privileged, 0));
        assert_eq!(lv(aa, Some("runtime/default,")), (Restricted, Restricted, 0));
        assert_eq!(
            lv(aa, Some("runtime/default,localhost/k8s-nginx")),
            (Restricted, Restricted, 0)
        );
        assert_eq!(lv(aa, Some("unconfined")), (Privileged, Privileged, 0));
    }

    #[test]
    fn mutating_and_uncovered() {
        let m = map_psp(&with_spec(
            "  defaultAllowPrivilegeEscalation: false\n  fsGroup: {rule: MustRunAs, ranges: [{min: 1, max: 10}]}\n  runAsGroup: {rule: MayRunAs, ranges: [{min: 1, max: 10}]}\n  forbiddenSysctls: ['*']\n  runtimeClass: {allowedRuntimeClassNames: [gvisor], defaultRuntimeClassName: gvisor}",
        ));
        let mutating: Vec<&str> = m.mutating_fields.iter().map(|f| f.field).collect();
        assert_eq!(
            mutating,
            [
                "spec.requiredDropCapabilities",
                "spec.seLinux",
                "spec.runAsUser",
                "spec.fsGroup",
                "spec.defaultAllowPrivilegeEscalation",
                "spec.allowPrivilegeEscalation",
                "spec.runtimeClass.defaultRuntimeClassName",
            ]
        );
        let uncovered: Vec<&str> = m.uncovered_fields.iter().map(|f| f.field).collect();
        assert_eq!(
            uncovered,
            [
                "spec.runAsGroup",
                "spec.fsGroup",
                "spec.forbiddenSysctls",
                "spec.runtimeClass.allowedRuntimeClassNames"
            ]
        );
        assert_eq!(m.level, Level::Restricted);
    }

    /// One snapshot per file in testdata/psp (every PSP in the file, mapped).
    #[test]
    fn testdata_psp_snapshots() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/psp");
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for path in files {
            let (inv, errors) = crate::source::offline::read_paths(
                &[path.display().to_string()],
                &Default::default(),
                &mut std::io::empty(),
            );
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            let mut policies: Vec<PolicyMapping> = inv.psps.iter().map(|p| map_psp(p)).collect();
            policies.sort_by(|a, b| a.name.cmp(&b.name));
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            insta::with_settings!({ snapshot_suffix => stem, omit_expression => true }, {
                insta::assert_yaml_snapshot!("testdata_psp", policies);
            });
        }
    }
}
