//! The migration plan: per namespace, the Pod Security Admission labels to set, why, and what
//! stands in the way; the cluster-wide AdmissionConfiguration; the PSP bypass and the clean-up.
//!
//! The rules (never reject what runs now, never forbid what PSP allowed):
//! * `pspLevel` — the least restrictive practical level among the PSPs the namespace's pods may
//!   use (through its service accounts or `system:authenticated`); `none` when none.
//! * `podsLevel` — the most restrictive level every live pod and live workload template of the
//!   namespace passes at the enforce version. Templates count because PSP mutated the pods that
//!   run now and PSA does not mutate: the next rollout is judged on the template as written.
//! * enforce = the less restrictive of the two (`podsLevel` alone when `pspLevel` is none, or
//!   with `--tighten`); audit = warn = the more restrictive, so teams see what to fix.
//! * Existing labels are kept unless the plan is stricter; a looser enforce than an existing
//!   label needs `--allow-loosen`.
//!
//! Pure: no I/O. The files of a migration directory are rendered by `render::plan_files`.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::discover::{self, Discovery};
use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, PodKind, PodObject};
use crate::model::level::{Level, LevelOrNone, Version};
use crate::pss;

/// The JSON schema version of `plan.json` and `plan -o json`. Bump on incompatible change.
pub const PLAN_SCHEMA_VERSION: &str = "psa-migrate.plan/v4";

/// The namespace label keys Pod Security Admission reads.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// The three PSA modes, in the order they are staged (audit and warn first, then enforce).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Audit,
    Warn,
    Enforce,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Audit, Mode::Warn, Mode::Enforce];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Warn => "warn",
            Mode::Enforce => "enforce",
        }
    }

    pub fn level_key(self) -> String {
        format!("{LABEL_PREFIX}{}", self.as_str())
    }

    pub fn version_key(self) -> String {
        format!("{LABEL_PREFIX}{}-version", self.as_str())
    }

    /// The label step that sets this mode: 1 (audit, warn) or 2 (enforce).
    pub fn step(self) -> u32 {
        if self == Mode::Enforce { 2 } else { 1 }
    }
}

/// Options for planning.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Name of the plan (the cluster or input name); the directory under `migrations/`.
    pub name: String,
    /// The version enforce is pinned to: the cluster's minor version, or `latest`.
    pub enforce_version: Version,
    /// Enforce what the pods need (`podsLevel`) even when PSP allowed less.
    pub tighten: bool,
    /// Allow planning a looser enforce level than a namespace's existing label.
    pub allow_loosen: bool,
    pub exempt_namespaces: BTreeSet<String>,
    pub exempt_users: BTreeSet<String>,
    pub exempt_runtime_classes: BTreeSet<String>,
    /// Treat the input as complete (`--assume-complete`): the user asserts it holds every
    /// pod, workload, RBAC object and PSP of the cluster.
    pub assume_complete: bool,
    /// Whether `enforceVersion` came from the cluster, the export or `--cluster-version`.
    pub cluster_version_known: bool,
    /// How the residual admission policies are written (target version, binding actions).
    pub policies: crate::policy::residual::PolicyOptions,
}

/// The resources a namespace's plan depends on (qualified plural names, as the live source
/// and `export` record them): its pods and workloads (what must keep running), the namespace
/// itself (its labels), the RBAC objects and the PSPs (what PSP allowed there).
pub const NEEDED_RESOURCES: &[&str] = &[
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "cronjobs.batch",
    "daemonsets.apps",
    "deployments.apps",
    "jobs.batch",
    "namespaces",
    "pods",
    "podsecuritypolicies.policy",
    "podtemplates",
    "replicasets.apps",
    "replicationcontrollers",
    "rolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "statefulsets.apps",
];

/// The coverage of one namespace: complete when every needed resource was listed there (or in
/// every namespace), or the user asserted it.
pub fn coverage(inv: &Inventory, namespace: &str, assume_complete: bool) -> Coverage {
    if assume_complete {
        return Coverage { status: CoverageStatus::Complete, missing: Vec::new(), assumed: true };
    }
    let missing: Vec<String> = NEEDED_RESOURCES
        .iter()
        .filter(|r| !inv.listed.as_ref().is_some_and(|l| l.covers(r, Some(namespace))))
        .map(|r| (*r).to_owned())
        .collect();
    let status =
        if missing.is_empty() { CoverageStatus::Complete } else { CoverageStatus::Partial };
    Coverage { status, missing, assumed: false }
}

fn level_or_none<S: Serializer>(level: &Option<Level>, s: S) -> Result<S::Ok, S::Error> {
    match level {
        Some(l) => l.serialize(s),
        None => s.serialize_str("none"),
    }
}

/// An object's verdict, for the lists a reviewer reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectVerdict {
    /// The object's kind (a custom resource's own kind for a template inside one).
    pub kind: String,
    pub name: String,
    /// For a pod template inside a custom resource: its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The most restrictive level it passes (at the version given by the list it is in).
    pub passes: Level,
    /// Upstream's message at the level and version the list is about; empty when it passes.
    pub message: String,
    pub source: String,
    /// What fixes it (blocking objects only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixLink>,
}

impl ObjectVerdict {
    /// `Kind name`, with the template's path for a custom resource.
    pub fn what(&self) -> String {
        match &self.path {
            Some(p) => format!("{} {} {p}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// How a blocking object is fixed: the patch of the object that creates it, or why a person
/// must decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FixLink {
    /// The object the patch changes (the workload that creates a pod).
    pub target: ObjectRef,
    pub status: FixStatus,
    /// The patch, relative to the migration directory (`fixes/<namespace>/<kind>-<name>.yaml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Why the level needs a decision.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// Whether a proven patch makes a blocking object pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FixStatus {
    /// A proven patch makes it pass the audit level.
    Patched,
    /// No patch can without a person's decision (a patch may still write what PSP did).
    NeedsDecision,
}

/// Whether the input is known to hold everything a namespace's plan depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoverageStatus {
    /// Its pods, workloads and the RBAC objects and PSPs were listed (every live read; offline
    /// with the record `export` writes, or `--assume-complete`).
    Complete,
    /// Some of them may be missing: the plan cannot prove it rejects nothing that runs.
    Partial,
}

/// How much of a namespace the input covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub status: CoverageStatus,
    /// The resources not known to be complete for this namespace (`pods`, `deployments.apps`,
    /// `rolebindings.rbac.authorization.k8s.io`, …), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Complete only because the user said so (`--assume-complete`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
}

/// A namespace the input refers to but does not hold: never labelled.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotPlanned {
    pub name: String,
    pub reason: String,
}

/// The plan for one namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacePlan {
    pub name: String,
    pub coverage: Coverage,
    /// Listed with `--exempt-namespace`: no labels are planned; the AdmissionConfiguration
    /// exempts it.
    pub exempt: bool,
    /// Pod Security labels the namespace has now.
    pub current_labels: BTreeMap<String, String>,
    #[serde(serialize_with = "level_or_none")]
    #[schemars(with = "LevelOrNone")]
    pub psp_level: Option<Level>,
    pub pods_level: Level,
    pub enforce: Level,
    pub enforce_version: Version,
    /// Enforce is less restrictive than what every live object already passes (`podsLevel`):
    /// a PSP usable here allowed more. `--tighten` enforces `podsLevel` instead.
    pub loosens: bool,
    pub audit: Level,
    pub audit_version: Version,
    pub warn: Level,
    pub warn_version: Version,
    /// The full set of Pod Security labels after the plan.
    pub planned_labels: BTreeMap<String, String>,
    pub reasons: Vec<String>,
    /// Live objects that fail the audit/warn level at its version: what to fix before enforce
    /// can be raised to it.
    pub blocking: Vec<ObjectVerdict>,
    /// Live objects that pass enforce at the pinned version but not at `latest`: they break when
    /// the cluster (and the pin) is upgraded.
    pub breaks_on_upgrade: Vec<ObjectVerdict>,
    /// Objects that run nothing (0 replicas, suspended, finished, PodTemplates, finished pods):
    /// reported with their level at the enforce version, never moving the plan.
    pub dead_objects: Vec<ObjectVerdict>,
    /// Each restriction of the PSPs usable here that the enforce level does not enforce.
    pub dropped_controls: Vec<DroppedControl>,
    /// The residual ValidatingAdmissionPolicy that keeps them (`None`: the policy target
    /// version serves none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residual_policy: Option<ResidualRef>,
    /// The MutatingAdmissionPolicy that gives new pods the defaults of the PSP the plugin
    /// would have chosen (`None`: the target version serves none, or no usable PSP defaults
    /// anything).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_policy: Option<ResidualRef>,
    /// Every blocking object has a proven patch under `fixes/`: once they are applied, enforce
    /// can be raised to the audit level.
    pub safe_after_fixes: bool,
}

/// A PSP restriction the namespace's enforce level does not enforce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DroppedControl {
    /// The PSP field (`volumes`, `runAsUser`, `allowedHostPaths`, …).
    pub control: String,
    /// What it restricts.
    pub detail: String,
    /// The usable PSPs that restrict it.
    pub psps: Vec<String>,
}

/// The names of a namespace's residual (or mutation) policy and binding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResidualRef {
    pub policy: String,
    pub binding: String,
}

/// The generated admission policies (step files 5 and 6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicies {
    /// The Kubernetes version the policies are written for (`plan --policy-version`).
    pub policy_version: String,
    /// `admissionregistration.k8s.io/v1` or `…/v1beta1`; `None`: that version serves none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validating_api_version: Option<String>,
    /// The API needs the `ValidatingAdmissionPolicy` feature gate and runtime-config there.
    pub needs_feature_gate: bool,
    /// The bindings' `validationActions`.
    pub validation_actions: Vec<String>,
    /// The cluster still runs PSP, and PSP and these policies never run in the same release:
    /// between the PSP bypass and the upgrade, the restrictions they keep are unprotected.
    pub unprotected_window: bool,
    /// The ValidatingAdmissionPolicy and binding objects, in apply order.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub validating: Vec<serde_json::Value>,
    /// MutatingAdmissionPolicy: `admissionregistration.k8s.io/v1` or `…/v1beta1`; `None`:
    /// the target version serves none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutating_api_version: Option<String>,
    /// The mutation API needs the `MutatingAdmissionPolicy` feature gate and runtime-config.
    pub mutating_needs_feature_gate: bool,
    /// The MutatingAdmissionPolicy and binding objects, in apply order.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub mutating: Vec<serde_json::Value>,
}

/// The label keys a label step sets: 1 = audit and warn (and their versions), 2 = enforce (and
/// its version). Other steps set no labels.
pub fn step_keys(step: u32) -> Vec<String> {
    Mode::ALL
        .into_iter()
        .filter(|m| m.step() == step)
        .flat_map(|m| [m.level_key(), m.version_key()])
        .collect()
}

/// The planned labels of one label step.
pub fn step_labels(planned: &BTreeMap<String, String>, step: u32) -> BTreeMap<String, String> {
    let keys = step_keys(step);
    planned.iter().filter(|(k, _)| keys.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl NamespacePlan {
    /// The labels a label step sets (1: audit and warn; 2: enforce), as planned.
    pub fn step_labels(&self, step: u32) -> BTreeMap<String, String> {
        step_labels(&self.planned_labels, step)
    }
}

/// Cluster-wide defaults and exemptions for the PodSecurity admission plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPlan {
    /// `pod-security.admission.config.k8s.io/<version>` for the cluster.
    pub config_api_version: &'static str,
    pub enforce: Level,
    pub enforce_version: Version,
    pub audit: Level,
    pub audit_version: Version,
    pub warn: Level,
    pub warn_version: Version,
    /// The PSPs every authenticated user or every service account may use, the defaults come
    /// from.
    pub default_from_psps: Vec<String>,
    pub exempt_namespaces: Vec<String>,
    pub exempt_users: Vec<String>,
    pub exempt_runtime_classes: Vec<String>,
}

/// Step 3: the official per-namespace PSP bypass, for clusters still running PSP admission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BypassPlan {
    pub psp: &'static str,
    pub cluster_role: &'static str,
    pub role_binding: &'static str,
    pub namespaces: Vec<String>,
}

/// Step 4: what to delete once the PSP admission plugin is off, and what needs a manual edit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CleanupPlan {
    /// Exactly what step 4 deletes, in deletion order (bindings, roles, PSPs): the PSPs and
    /// RBAC objects that grant nothing but `use` on PSPs, and what step 3 created (its
    /// `disable-psp` RoleBindings, ClusterRole and PSP).
    pub delete: Vec<ObjectRef>,
    /// Roles that grant more than PSP use: edit by hand, never deleted.
    pub manual: Vec<ObjectRef>,
    /// Running pods per admitting PSP: clean-up is refused while any is non-zero.
    pub running_pods_by_psp: BTreeMap<String, usize>,
}

/// One row of the PSP → level table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRow {
    pub name: String,
    pub level: Level,
    pub strict_level: Level,
    pub mutating: bool,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub schema_version: &'static str,
    pub name: String,
    /// The version enforce labels are pinned to.
    pub cluster_version: Version,
    /// Whether the cluster version came from the input or `--cluster-version` (`false`: the
    /// plan pins `latest` for want of it).
    pub cluster_version_known: bool,
    /// `complete` when every planned namespace is; else `partial`.
    pub coverage: CoverageStatus,
    pub psp_admission_active: bool,
    pub namespaces: Vec<NamespacePlan>,
    /// Namespaces the input refers to without holding their Namespace object: never labelled.
    pub not_planned: Vec<NotPlanned>,
    pub admission: AdmissionPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psp_bypass: Option<BypassPlan>,
    pub cleanup: CleanupPlan,
    pub policies: Vec<PolicyRow>,
    /// Residual admission policies that keep what the enforce levels do not.
    pub admission_policies: AdmissionPolicies,
    pub findings: Vec<Finding>,
    /// SHA-256 (`sha256:<hex>`) of every other file `plan` wrote, by file name; `diff`, `apply`
    /// and `rollback` refuse a directory where one changed. Filled in by `render::plan_files::render`.
    pub files: BTreeMap<String, String>,
    /// SHA-256 of this plan itself (its canonical JSON with `digest` empty): see
    /// `render::plan_files::plan_digest`.
    pub digest: String,
    /// The fixes written under `fixes/` (their status is on each blocking object).
    #[serde(skip)]
    #[schemars(skip)]
    pub fix_report: crate::fix::FixReport,
}

/// Name of the non-mutating privileged PSP the bypass step creates.
pub const BYPASS_PSP: &str = "psa-migrate-privileged";
/// Its ClusterRole.
pub const BYPASS_CLUSTER_ROLE: &str = "psa-migrate:privileged-psp";
/// The per-namespace RoleBinding (the name the official guide uses).
pub const BYPASS_ROLE_BINDING: &str = "disable-psp";

/// Service accounts of the controllers that create pods for workloads: exempting one exempts
/// everyone who can create that workload.
const CONTROLLER_ACCOUNTS: &[&str] = &[
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "job-controller",
    "replicaset-controller",
    "replication-controller",
    "statefulset-controller",
];

fn verdict(obj: &PodObject, level: Level, version: Version) -> ObjectVerdict {
    let view = obj.view();
    let violations = pss::evaluate(level, version, &view);
    ObjectVerdict {
        kind: obj.kind_name().to_owned(),
        name: obj.name().to_owned(),
        path: obj.path().map(str::to_owned),
        passes: pss::passes(version, &view),
        message: pss::long_form(&violations),
        source: obj.source.to_string(),
        fix: None,
    }
}

/// Computes the fixes for each namespace's audit level and links every blocking object to
/// the fix of the object that creates it.
fn plan_fixes(
    inv: &Inventory,
    grants: &[crate::discover::rbac::Grant],
    ns_plans: &mut [NamespacePlan],
) -> crate::fix::FixReport {
    let targets: BTreeMap<String, crate::fix::Target> = ns_plans
        .iter()
        .filter(|n| !n.exempt)
        .map(|n| (n.name.clone(), crate::fix::Target { level: n.audit, version: n.audit_version }))
        .collect();
    let report = crate::fix::fixes(inv, grants, &|ns| targets.get(ns).copied());
    let owners = crate::mutation::OwnerIndex::new(inv);
    type Key<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);
    let objects: BTreeMap<Key, &PodObject> = inv
        .pod_objects
        .iter()
        .map(|o| ((o.namespace(), o.kind_name(), o.name(), o.path()), o))
        .collect();
    for n in ns_plans.iter_mut() {
        for b in n.blocking.iter_mut().chain(n.dead_objects.iter_mut()) {
            let key = (n.name.as_str(), b.kind.as_str(), b.name.as_str(), b.path.as_deref());
            let Some(o) = objects.get(&key) else {
                continue;
            };
            let target = match owners.resolve(o) {
                crate::mutation::Owner::Found { workload, .. } => workload,
                _ => o.object_ref(),
            };
            let decision = report.needs_decision.iter().find(|d| d.object == target);
            let patch = report.fixes.iter().find(|f| f.object == target);
            b.fix = Some(match (decision, patch) {
                (Some(d), p) => FixLink {
                    target,
                    status: FixStatus::NeedsDecision,
                    file: p.map(|p| format!("fixes/{}", p.file)),
                    reasons: d.reasons.clone(),
                },
                (None, Some(p)) => FixLink {
                    target,
                    status: FixStatus::Patched,
                    file: Some(format!("fixes/{}", p.file)),
                    reasons: Vec::new(),
                },
                (None, None) => continue,
            });
        }
        n.safe_after_fixes = !n.blocking.is_empty()
            && n.enforce < n.audit
            && n.blocking
                .iter()
                .all(|b| b.fix.as_ref().is_some_and(|f| f.status == FixStatus::Patched));
    }
    report
}

/// The PSA labels among a namespace's labels.
fn psa_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| k.starts_with(LABEL_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Decides one mode's level and version given the existing labels; returns a reason when the
/// existing label wins.
fn settle(
    mode: Mode,
    planned: Level,
    planned_version: Version,
    current: &BTreeMap<String, String>,
    allow_loosen: bool,
) -> (Level, Version, Option<String>) {
    let existing = current.get(&mode.level_key());
    let Some(existing_text) = existing else { return (planned, planned_version, None) };
    let Ok(existing_level) = existing_text.parse::<Level>() else {
        return (
            planned,
            planned_version,
            Some(format!("{} label {existing_text:?} is invalid and is replaced", mode.as_str())),
        );
    };
    let existing_version = current
        .get(&mode.version_key())
        .and_then(|v| v.parse::<Version>().ok())
        .unwrap_or(Version::Latest);
    if planned > existing_level {
        return (planned, planned_version, None);
    }
    if planned == existing_level {
        return (existing_level, existing_version, None);
    }
    if mode == Mode::Enforce && allow_loosen {
        return (
            planned,
            planned_version,
            Some(format!(
                "loosens existing enforce={existing_level} to {planned} (--allow-loosen)"
            )),
        );
    }
    (
        existing_level,
        existing_version,
        Some(format!(
            "keeps existing {}={existing_level}: the plan ({planned}) would loosen it{}",
            mode.as_str(),
            if mode == Mode::Enforce { " (use --allow-loosen)" } else { "" }
        )),
    )
}

/// How many objects a reason names before it says "and N more".
const NAMED_IN_REASON: usize = 3;

/// Why `pspLevel` is what it is: the loosest usable PSP and the fields that force its level.
fn psp_reason(
    ns: &discover::NamespaceAccess,
    mappings: &BTreeMap<String, crate::mapping::PolicyMapping>,
) -> String {
    let Some(level) = ns.psp_level else {
        return "no PSP is usable here (pspLevel none)".into();
    };
    let loosest: Vec<&str> =
        ns.usable_psps.iter().filter(|p| p.level == Some(level)).map(|p| p.psp.as_str()).collect();
    let Some(m) = loosest.first().and_then(|name| mappings.get(*name)) else {
        return format!("PSPs usable here allow {level} (pspLevel)");
    };
    let fields: Vec<String> = m
        .reasons
        .iter()
        .filter(|r| r.forces == level && level < Level::Restricted)
        .map(|r| format!("`{}` {} ({})", m.name, r.detail, field_name(r.field)))
        .collect();
    let others = if loosest.len() > 1 {
        format!(
            " (as do {})",
            loosest[1..].iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )
    } else {
        String::new()
    };
    if fields.is_empty() {
        return format!("pspLevel {level}: `{}` is usable here{others}", m.name);
    }
    let mut named = fields.iter().take(NAMED_IN_REASON).cloned().collect::<Vec<_>>().join("; ");
    if fields.len() > NAMED_IN_REASON {
        named.push_str(&format!("; and {} more fields", fields.len() - NAMED_IN_REASON));
    }
    format!("pspLevel {level}: {named}{others}")
}

/// `spec.allowedCapabilities` → `allowedCapabilities`; annotations stay as they are.
fn field_name(field: &str) -> &str {
    field.strip_prefix("spec.").unwrap_or(field)
}

/// Why `podsLevel` is what it is: the live objects that fail the next stricter level.
fn pods_reason(live: &[&PodObject], pods_level: Level, version: Version) -> String {
    if live.is_empty() {
        return "nothing live runs here (no running pod, no live workload): podsLevel restricted"
            .into();
    }
    let Some(stricter) = pods_level.next_stricter() else {
        return format!(
            "podsLevel restricted: all {} pass restricted at {version}",
            count(live.len(), "live object", "live objects")
        );
    };
    let forcing: Vec<String> = live
        .iter()
        .filter_map(|o| {
            let violations = pss::evaluate(stricter, version, &o.view());
            (!violations.is_empty()).then(|| {
                let what = match o.path() {
                    Some(p) => format!("{} {} {p}", o.kind_name(), o.name()),
                    None => format!("{} {}", o.kind_name(), o.name()),
                };
                format!("{what} ({})", pss::short_form(&violations))
            })
        })
        .collect();
    let mut named = forcing.iter().take(NAMED_IN_REASON).cloned().collect::<Vec<_>>().join("; ");
    if forcing.len() > NAMED_IN_REASON {
        named.push_str(&format!("; and {} more", forcing.len() - NAMED_IN_REASON));
    }
    format!("podsLevel {pods_level}: fails {stricter} at {version}: {named}")
}

/// `1 namespace`, `2 namespaces`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn plan_namespace(
    ns: &discover::NamespaceAccess,
    labels: &BTreeMap<String, String>,
    objects: &[&PodObject],
    coverage: Coverage,
    mappings: &BTreeMap<String, crate::mapping::PolicyMapping>,
    opts: &PlanOptions,
) -> NamespacePlan {
    let version = opts.enforce_version;
    let (live, dead): (Vec<&PodObject>, Vec<&PodObject>) =
        objects.iter().partition(|o| o.is_live());
    let pods_level =
        live.iter().map(|o| pss::passes(version, &o.view())).min().unwrap_or(Level::Restricted);
    let psp_level = ns.psp_level;
    let mut reasons = vec![psp_reason(ns, mappings), pods_reason(&live, pods_level, version)];
    if coverage.status == CoverageStatus::Partial {
        reasons.push(format!(
            "coverage partial: the input does not show every {} here",
            coverage.missing.join(", ")
        ));
    }
    let mut enforce = match psp_level {
        Some(p) if !opts.tighten => p.looser(pods_level),
        _ => pods_level,
    };
    if opts.tighten && psp_level.is_some_and(|p| p < pods_level) {
        reasons.push(format!(
            "--tighten: enforce {pods_level} although PSP allowed {}",
            psp_level.unwrap_or(pods_level)
        ));
    }
    let target = psp_level.map_or(pods_level, |p| p.stricter(pods_level));
    let current = psa_labels(labels);
    let mut planned_labels = current.clone();
    let mut settled = BTreeMap::new();
    for mode in Mode::ALL {
        let (level, v) = match mode {
            Mode::Enforce => {
                (enforce, if enforce == Level::Privileged { Version::Latest } else { version })
            }
            _ => (target, Version::Latest),
        };
        let (level, v, why) = if opts.exempt_namespaces.contains(&ns.name) {
            (level, v, None)
        } else {
            settle(mode, level, v, &current, opts.allow_loosen)
        };
        reasons.extend(why);
        settled.insert(mode, (level, v));
        if !opts.exempt_namespaces.contains(&ns.name) {
            planned_labels.insert(mode.level_key(), level.to_string());
            planned_labels.insert(mode.version_key(), v.to_string());
        }
    }
    enforce = settled[&Mode::Enforce].0;
    if opts.exempt_namespaces.contains(&ns.name) {
        reasons.push("exempt (--exempt-namespace): no labels planned".into());
    }
    let (audit, audit_version) = settled[&Mode::Audit];
    let (warn, warn_version) = settled[&Mode::Warn];
    let enforce_version = settled[&Mode::Enforce].1;
    let mut blocking: Vec<ObjectVerdict> = live
        .iter()
        .filter(|o| !pss::allows(audit, audit_version, &o.view()))
        .map(|o| verdict(o, audit, audit_version))
        .collect();
    blocking.sort_by(|a, b| (&a.kind, &a.name, &a.path).cmp(&(&b.kind, &b.name, &b.path)));
    let breaks_on_upgrade = if enforce_version == Version::Latest {
        Vec::new()
    } else {
        live.iter()
            .filter(|o| {
                pss::allows(enforce, enforce_version, &o.view())
                    && !pss::allows(enforce, Version::Latest, &o.view())
            })
            .map(|o| verdict(o, enforce, Version::Latest))
            .collect()
    };
    let dead_objects = dead.iter().map(|o| verdict(o, enforce, enforce_version)).collect();
    let exempt = opts.exempt_namespaces.contains(&ns.name);
    let loosens = !exempt && enforce < pods_level;
    if loosens {
        reasons.push(format!(
            "loosens: enforce {enforce} is less restrictive than the {pods_level} every live object \
             here passes; --tighten would enforce {pods_level}"
        ));
    }
    NamespacePlan {
        name: ns.name.clone(),
        coverage,
        exempt,
        current_labels: current,
        psp_level,
        pods_level,
        enforce,
        enforce_version,
        loosens,
        audit,
        audit_version,
        warn,
        warn_version,
        planned_labels,
        reasons,
        blocking,
        breaks_on_upgrade,
        dead_objects,
        dropped_controls: Vec::new(),
        residual_policy: None,
        mutation_policy: None,
        safe_after_fixes: false,
    }
}

/// The PodSecurityConfiguration API version a cluster minor version accepts.
pub fn config_api_version(version: Version) -> &'static str {
    match version {
        Version::Minor(m) if m <= 22 => "pod-security.admission.config.k8s.io/v1alpha1",
        Version::Minor(m) if m <= 24 => "pod-security.admission.config.k8s.io/v1beta1",
        _ => "pod-security.admission.config.k8s.io/v1",
    }
}

/// Why a namespace the input refers to is not planned.
fn not_planned_reason(inv: &Inventory, ns: &str) -> String {
    let mut refs = Vec::new();
    let pods = inv.pod_objects.iter().filter(|o| o.namespace() == ns).count();
    let sas = inv.service_accounts.iter().filter(|o| o.namespace.as_deref() == Some(ns)).count();
    let roles = inv.roles.iter().filter(|o| o.metadata.namespace.as_deref() == Some(ns)).count();
    let bindings =
        inv.role_bindings.iter().filter(|o| o.metadata.namespace.as_deref() == Some(ns)).count();
    for (n, one, many) in [
        (pods, "pod or workload", "pods and workloads"),
        (sas, "ServiceAccount", "ServiceAccounts"),
        (roles, "Role", "Roles"),
        (bindings, "RoleBinding", "RoleBindings"),
    ] {
        if n > 0 {
            refs.push(count(n, one, many));
        }
    }
    let by =
        if refs.is_empty() { String::new() } else { format!(" (it holds {})", refs.join(", ")) };
    format!("the input holds no Namespace object for it{by}: nothing is known of what runs there")
}

/// Builds the plan from an inventory.
pub fn plan(inv: &Inventory, opts: &PlanOptions) -> Plan {
    let discovery = discover::discover(inv);
    let report = discover::inventory_report_with(inv, discovery.clone());
    let Discovery { rbac, mappings, namespaces } = discovery;
    let mut findings = report.findings;
    let labels_of: BTreeMap<&str, &BTreeMap<String, String>> =
        inv.namespaces.iter().map(|n| (n.metadata.name.as_str(), &n.metadata.labels)).collect();
    let mut by_ns: BTreeMap<&str, Vec<&PodObject>> = BTreeMap::new();
    for o in &inv.pod_objects {
        by_ns.entry(o.namespace()).or_default().push(o);
    }
    let mut not_planned = Vec::new();
    let mut ns_plans = Vec::new();
    for ns in &namespaces {
        let Some(labels) = labels_of.get(ns.name.as_str()) else {
            let reason = not_planned_reason(inv, &ns.name);
            findings.push(Finding::new(
                Code::PlanNamespaceNotInInput,
                ObjectRef::new("Namespace", None, &ns.name),
                format!("not planned: {reason}"),
            ));
            not_planned.push(NotPlanned { name: ns.name.clone(), reason });
            continue;
        };
        let objs = by_ns.get(ns.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let coverage = coverage(inv, &ns.name, opts.assume_complete);
        let p = plan_namespace(ns, labels, objs, coverage, &mappings, opts);
        if p.coverage.status == CoverageStatus::Partial {
            findings.push(Finding::new(
                Code::PlanPartialCoverage,
                ObjectRef::new("Namespace", None, &p.name),
                format!(
                    "the input does not show that every object of these resources was read: {}",
                    p.coverage.missing.join(", ")
                ),
            ));
        }
        if p.loosens {
            findings.push(Finding::new(
                Code::PlanLoosens,
                ObjectRef::new("Namespace", None, &p.name),
                format!(
                    "enforce {} is less restrictive than podsLevel {}; --tighten enforces {}",
                    p.enforce, p.pods_level, p.pods_level
                ),
            ));
        }
        ns_plans.push(p);
    }
    for ns in &opts.exempt_namespaces {
        if !ns_plans.iter().any(|p| &p.name == ns) {
            findings.push(Finding::new(
                Code::PlanUnknownExemptNamespace,
                ObjectRef::new("Namespace", None, ns),
                "exempted namespace is not in the input",
            ));
        }
    }
    for user in &opts.exempt_users {
        let controller = user
            .strip_prefix("system:serviceaccount:kube-system:")
            .is_some_and(|sa| CONTROLLER_ACCOUNTS.contains(&sa) || sa.ends_with("-controller"));
        if controller {
            findings.push(Finding::new(
                Code::PlanExemptControllerUser,
                ObjectRef::new("User", None, user),
                "exempting a controller's service account exempts every pod its workloads create, \
                 so anyone who can create such a workload bypasses Pod Security",
            ));
        }
    }

    // Defaults: the PSPs every authenticated user or every service account may use everywhere.
    let mut default_psps: BTreeSet<String> =
        discover::cluster_wide_authenticated_psps(&rbac.grants);
    default_psps.extend(discover::cluster_wide_service_account_psps(&rbac.grants));
    let default_level =
        crate::mapping::loosest(&mappings, default_psps.iter().map(String::as_str), false)
            .unwrap_or(Level::Privileged);
    let pinned =
        if default_level == Level::Privileged { Version::Latest } else { opts.enforce_version };
    let admission = AdmissionPlan {
        config_api_version: config_api_version(opts.enforce_version),
        enforce: default_level,
        enforce_version: pinned,
        audit: default_level,
        audit_version: Version::Latest,
        warn: default_level,
        warn_version: Version::Latest,
        default_from_psps: default_psps.into_iter().collect(),
        exempt_namespaces: opts.exempt_namespaces.iter().cloned().collect(),
        exempt_users: opts.exempt_users.iter().cloned().collect(),
        exempt_runtime_classes: opts.exempt_runtime_classes.iter().cloned().collect(),
    };

    let psp_admission_active =
        !inv.psps.is_empty() && !matches!(opts.enforce_version, Version::Minor(m) if m >= 25);
    let psp_bypass = psp_admission_active.then(|| BypassPlan {
        psp: BYPASS_PSP,
        cluster_role: BYPASS_CLUSTER_ROLE,
        role_binding: BYPASS_ROLE_BINDING,
        namespaces: ns_plans.iter().filter(|p| !p.exempt).map(|p| p.name.clone()).collect(),
    });

    // Deletion order: bindings (ours first), roles, PSPs — nothing is ever left pointing at a
    // deleted object.
    let mut cleanup = CleanupPlan::default();
    if let Some(b) = &psp_bypass {
        cleanup.delete.extend(
            b.namespaces.iter().map(|ns| ObjectRef::new("RoleBinding", Some(ns), b.role_binding)),
        );
    }
    cleanup.delete.extend(rbac.psp_only_bindings.iter().cloned());
    if let Some(b) = &psp_bypass {
        cleanup.delete.push(ObjectRef::new("ClusterRole", None, b.cluster_role));
    }
    cleanup.delete.extend(rbac.psp_only_roles.iter().cloned());
    if let Some(b) = &psp_bypass {
        cleanup.delete.push(ObjectRef::new("PodSecurityPolicy", None, b.psp));
    }
    cleanup.delete.extend(
        inv.psps.iter().map(|p| ObjectRef::new("PodSecurityPolicy", None, &p.metadata.name)),
    );
    cleanup.delete.dedup();
    cleanup.manual = rbac.psp_rules_in_mixed_roles.keys().cloned().collect();
    for o in inv.pod_objects.iter().filter(|o| o.kind == PodKind::Pod && o.is_live()) {
        if let Some(psp) = discover::admitted::admitting_psp(o) {
            *cleanup.running_pods_by_psp.entry(psp.to_owned()).or_default() += 1;
        }
    }

    let policies = mappings
        .values()
        .map(|m| PolicyRow {
            name: m.name.clone(),
            level: m.level,
            strict_level: m.strict_level,
            mutating: m.is_mutating(),
        })
        .collect();
    let psp_objs: Vec<&crate::model::psp::PodSecurityPolicy> =
        inv.psps.iter().map(|p| &p.obj).collect();
    let admission_policies = crate::policy::plan_policies(
        &psp_objs,
        &rbac.grants,
        &inv.pod_objects,
        &mut ns_plans,
        psp_admission_active,
        &opts.policies,
        &mut findings,
    );
    let fix_report = plan_fixes(inv, &rbac.grants, &mut ns_plans);
    crate::findings::sort(&mut findings);
    findings.dedup();
    let coverage = if ns_plans.iter().all(|n| n.coverage.status == CoverageStatus::Complete) {
        CoverageStatus::Complete
    } else {
        CoverageStatus::Partial
    };
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        name: opts.name.clone(),
        cluster_version: opts.enforce_version,
        cluster_version_known: opts.cluster_version_known,
        coverage,
        psp_admission_active,
        namespaces: ns_plans,
        not_planned,
        admission,
        psp_bypass,
        cleanup,
        policies,
        admission_policies,
        findings,
        files: BTreeMap::new(),
        digest: String::new(),
        fix_report,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::offline::{OfflineOptions, parse_text};

    fn inventory(yaml: &str) -> Inventory {
        let mut inv = Inventory::default();
        let mut errors = Vec::new();
        parse_text(yaml, "t.yaml", false, &OfflineOptions::default(), &mut inv, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        inv.sort();
        inv
    }

    fn opts() -> PlanOptions {
        PlanOptions {
            policies: crate::policy::residual::PolicyOptions {
                minor: crate::policy::api::NEWEST_MINOR,
                actions: vec!["Deny".into()],
            },
            name: "t".into(),
            enforce_version: Version::Minor(24),
            tighten: false,
            allow_loosen: false,
            exempt_namespaces: BTreeSet::new(),
            exempt_users: BTreeSet::new(),
            exempt_runtime_classes: BTreeSet::new(),
            assume_complete: true,
            cluster_version_known: true,
        }
    }

    /// A namespace whose service accounts may use a privileged PSP, running one baseline pod,
    /// plus a dead privileged Deployment (0 replicas).
    const CLUSTER: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {}}
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: wide}
spec: {privileged: true, volumes: ['*'], runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: use-wide}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceNames: [wide]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: use-wide}
subjects: [{kind: Group, name: 'system:serviceaccounts:app', apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app}
spec: {containers: [{name: c, image: x}]}
status: {phase: Running}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: old, namespace: app}
spec: {replicas: 0, template: {spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}}}
";

    #[test]
    fn enforce_is_the_looser_audit_the_stricter() {
        let p = plan(&inventory(CLUSTER), &opts());
        let ns = &p.namespaces[0];
        assert_eq!((ns.psp_level, ns.pods_level), (Some(Level::Privileged), Level::Baseline));
        assert_eq!((ns.enforce, ns.enforce_version), (Level::Privileged, Version::Latest));
        assert_eq!((ns.audit, ns.audit_version), (Level::Baseline, Version::Latest));
        assert_eq!(ns.warn, Level::Baseline);
        assert_eq!(
            ns.dead_objects.len(),
            1,
            "the 0-replica Deployment is reported, not planned on"
        );
        assert_eq!(ns.dead_objects[0].passes, Level::Privileged);
        assert!(ns.blocking.is_empty());
        assert!(p.psp_admission_active && p.psp_bypass.is_some());
        assert_eq!(p.admission.config_api_version, "pod-security.admission.config.k8s.io/v1beta1");
    }

    #[test]
    fn tighten_enforces_what_pods_need() {
        let p = plan(&inventory(CLUSTER), &PlanOptions { tighten: true, ..opts() });
        let ns = &p.namespaces[0];
        assert_eq!((ns.enforce, ns.enforce_version), (Level::Baseline, Version::Minor(24)));
    }

    #[test]
    fn existing_labels_are_kept_unless_the_plan_is_stricter() {
        let labelled = CLUSTER.replace(
            "labels: {}",
            "labels: {pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/audit: privileged}",
        );
        let p = plan(&inventory(&labelled), &opts());
        let ns = &p.namespaces[0];
        assert_eq!(ns.enforce, Level::Restricted, "never loosen enforce without --allow-loosen");
        assert_eq!(ns.audit, Level::Baseline, "a stricter audit replaces the existing one");
        assert!(ns.reasons.iter().any(|r| r.starts_with("keeps existing enforce=restricted")));
        let p = plan(&inventory(&labelled), &PlanOptions { allow_loosen: true, ..opts() });
        assert_eq!(p.namespaces[0].enforce, Level::Privileged);
    }

    #[test]
    fn no_psp_means_pods_level_and_nothing_live_passes_restricted() {
        let empty = "apiVersion: v1\nkind: Namespace\nmetadata: {name: quiet}\n";
        let p =
            plan(&inventory(empty), &PlanOptions { enforce_version: Version::Minor(27), ..opts() });
        let ns = &p.namespaces[0];
        assert_eq!(
            (ns.psp_level, ns.pods_level, ns.enforce),
            (None, Level::Restricted, Level::Restricted)
        );
        assert!(!p.psp_admission_active && p.psp_bypass.is_none());
        assert_eq!(
            p.admission.enforce,
            Level::Privileged,
            "no PSP for everyone: privileged default"
        );
        assert_eq!(p.admission.config_api_version, "pod-security.admission.config.k8s.io/v1");
    }

    #[test]
    fn step_keys_split_audit_warn_from_enforce() {
        assert_eq!(
            step_keys(1),
            [
                "pod-security.kubernetes.io/audit",
                "pod-security.kubernetes.io/audit-version",
                "pod-security.kubernetes.io/warn",
                "pod-security.kubernetes.io/warn-version"
            ]
        );
        assert_eq!(
            step_keys(2),
            ["pod-security.kubernetes.io/enforce", "pod-security.kubernetes.io/enforce-version"]
        );
        assert!(step_keys(3).is_empty());
        assert_eq!(
            config_api_version(Version::Minor(22)),
            "pod-security.admission.config.k8s.io/v1alpha1"
        );
    }
}
