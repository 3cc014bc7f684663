//! Remediation: for every controller template and bare pod, the smallest change that makes it
//! behave as PSP made its pods behave (`behaviour`) and pass its target level (`level`),
//! proven before it is proposed.
//!
//! 1. Replay: what the PSP that admits the object's pods did to them (the PSP named by its
//!    running pods' `kubernetes.io/psp`, else the one the simulator chooses): exactly those
//!    values (`runAsUser` from a `MustRunAs` range, default-added capabilities, the seccomp
//!    default, …). A seccomp profile PSP wrote as an annotation is also written as the field.
//! 2. Hardening, only where the level needs it and it cannot change behaviour in the usual
//!    case: `seccompProfile: RuntimeDefault`, `allowPrivilegeEscalation: false`,
//!    `capabilities.drop: [ALL]` (an `add` of `NET_BIND_SERVICE` stays), and `runAsNonRoot:
//!    true` only where the UID is known to be non-zero or PSP enforced `MustRunAsNonRoot`.
//!    Anything else (root, host namespaces, hostPath, privileged, extra capabilities, …) is a
//!    decision for a person: `needs-decision`, with the reason and the options.
//! 3. Proof: the patched template passes the level (our evaluator), and the PSP admitting
//!    today's pods admits it unchanged, so the fix can roll out while PSP still enforces.
//!
//! A fix is a strategic-merge patch of the object (containers matched by name); for a pod
//! template inside a custom resource it is a JSON patch (RFC 6902) at the registry's paths,
//! since strategic merge does not apply to custom resources and a merge patch would replace
//! whole container lists. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::discover::rbac::Grant;
use crate::findings::ObjectRef;
use crate::model::inventory::{Inventory, PodKind, PodObject};
use crate::model::level::{Level, Version};
use crate::model::pod::{
    Capabilities, Container, PodView, SECCOMP_POD_ANNOTATION, SeccompProfile, SecurityContext,
};
use crate::model::psp::PodSecurityPolicy;
use crate::mutation::{Owner, OwnerIndex};
use crate::simulate::inventory::{decide_for, default_requester, sim_pod};
use crate::simulate::user::UserRule;
use crate::simulate::{Outcome, SimPod, admit};

/// The schema version of `fix -o json`.
pub const FIX_SCHEMA_VERSION: &str = "psa-migrate.fix/v2";

/// The note every hardening fix carries (replays of what PSP did carry none).
pub const HARDENING_NOTE: &str = "can change behaviour in rare cases (setuid binaries, file \
                                  capabilities, syscalls outside the RuntimeDefault profile)";

/// The level and version an object must pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub level: Level,
    pub version: Version,
}

/// Why a field is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FixKind {
    /// What PSP did to the object's pods, written into the object.
    Behaviour,
    /// What the target level needs.
    Level,
}

/// One field a fix sets.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldFix {
    /// The field in the pod (`spec.containers[app].securityContext.runAsUser`).
    pub field: String,
    pub value: Value,
    pub kind: FixKind,
    /// `behaviour`: the PSP whose mutation it replays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psp: Option<String>,
    /// `level`: the check it satisfies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// `level`: when it can still change behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A proven fix of one object.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    pub object: ObjectRef,
    /// The object's apiVersion (the patch's target).
    pub api_version: String,
    /// The level and version it passes (`None`: behaviour only; the namespace has no target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The patch file, relative to the fixes directory: `<namespace>/<kind>-<name>.yaml`.
    pub file: String,
    pub fields: Vec<FieldFix>,
    /// How `patch` applies: `strategic` (built-in kinds) or `json` (RFC 6902, custom resources).
    pub patch_type: PatchType,
    /// The strategic-merge patch (the object with the fields to set), or the JSON patch
    /// operations.
    pub patch: Value,
    /// The PSP that admits today's pods and admits the patched template unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted_by: Option<String>,
    /// Containers the object's live pods have and its template lacks (a webhook injected them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<String>,
    /// How the patch reaches the pods (an immutable Job, a bare pod), or what else to know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The patched pod template as the model reads it (`metadata.annotations`, `spec`).
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub patched_pod: Value,
    /// The pod as patched (for proofs and tests).
    #[serde(skip)]
    pub patched: SimPod,
}

/// How a fix's patch applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PatchType {
    Strategic,
    Json,
}

/// An object no fix can make pass without a person's decision.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NeedsDecision {
    pub object: ObjectRef,
    pub level: String,
    pub reasons: Vec<String>,
    pub options: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<String>,
}

/// Every fix and every decision, sorted by object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FixReport {
    pub schema_version: &'static str,
    pub fixes: Vec<Fix>,
    pub needs_decision: Vec<NeedsDecision>,
    /// Objects that need nothing.
    pub unchanged: usize,
}

/// The objects a fix targets: controller templates without an owner that creates them, and
/// bare pods. Jobs of a CronJob and ReplicaSets of a Deployment are fixed through their owner.
fn is_target(o: &PodObject) -> bool {
    match o.meta.controller() {
        None => true,
        Some(_) if o.kind == PodKind::Pod => false,
        Some(c) => !matches!(
            (o.kind, c.kind.as_str()),
            (PodKind::ReplicaSet, "Deployment") | (PodKind::Job, "CronJob")
        ),
    }
}

/// Computes the fixes of every target object. `target` gives a namespace's level and version
/// (`None`: behaviour fixes only).
pub fn fixes(
    inv: &Inventory,
    grants: &[Grant],
    target: &dyn Fn(&str) -> Option<Target>,
) -> FixReport {
    let psps: Vec<&PodSecurityPolicy> = inv.psps.iter().map(|p| &p.obj).collect();
    let owners = OwnerIndex::new(inv);
    // The live pods of each workload.
    let mut pods_of: BTreeMap<ObjectRef, Vec<&PodObject>> = BTreeMap::new();
    for p in inv.pod_objects.iter().filter(|o| o.kind == PodKind::Pod) {
        if let Owner::Found { workload, .. } = owners.resolve(p) {
            pods_of.entry(workload).or_default().push(p);
        }
    }
    let mut report = FixReport { schema_version: FIX_SCHEMA_VERSION, ..FixReport::default() };
    for o in inv.pod_objects.iter().filter(|o| is_target(o)) {
        let r = o.object_ref();
        let pods = pods_of.get(&r).map(Vec::as_slice).unwrap_or_default();
        match fix_one(o, pods, &psps, grants, target(o.namespace())) {
            (None, None) => report.unchanged += 1,
            (f, d) => {
                report.fixes.extend(f);
                report.needs_decision.extend(d);
            }
        }
    }
    report.fixes.sort_by(|a, b| a.object.cmp(&b.object));
    report.needs_decision.sort_by(|a, b| a.object.cmp(&b.object));
    report
}

/// The PSP that admits the object's pods today: the one its running pods name, else the
/// simulator's choice for the object as its controller creates it.
fn admitting<'a>(
    o: &PodObject,
    pods: &[&PodObject],
    psps: &[&'a PodSecurityPolicy],
    grants: &[Grant],
) -> Option<&'a PodSecurityPolicy> {
    // A bare pod names its own; a workload's pods name theirs.
    let observed: BTreeSet<&str> =
        pods.iter().copied().chain([o]).filter_map(|p| p.admitting_psp()).collect();
    if let Some(p) = observed.iter().find_map(|n| psps.iter().find(|p| p.metadata.name == *n)) {
        return Some(p);
    }
    let d = decide_for(psps, grants, o, &default_requester(o));
    d.psp.and_then(|n| psps.iter().find(|p| p.metadata.name == n).copied())
}

fn fix_one(
    o: &PodObject,
    pods: &[&PodObject],
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    target: Option<Target>,
) -> (Option<Fix>, Option<NeedsDecision>) {
    let original = sim_pod(o);
    let psp = admitting(o, pods, psps, grants);
    // 1. Replay what the PSP did (a fixed point: the PSP changes nothing more).
    let mut replayed = original.clone();
    if let Some(p) = psp
        && let Outcome::AdmitsWithMutation { pod, .. } = admit(p, &original)
    {
        replayed = *pod;
        seccomp_annotation_as_field(&mut replayed);
    }
    if psp.is_some_and(|p| !admits_unchanged(p, &replayed).is_empty()) {
        replayed = original.clone();
    }
    // 2. Harden for the level, and prove it.
    let level = target.map(|t| format!("{}:{}", t.level, t.version));
    let injected = injected_containers(o, pods);
    let mut hardened = replayed.clone();
    let mut decision = None;
    if let Some(t) = target {
        let non_root_enforced = psp.is_some_and(|p| {
            crate::simulate::provider::Strategies::new(p)
                .is_ok_and(|st| st.run_as_user == UserRule::MustRunAsNonRoot)
        });
        let mut reasons = Vec::new();
        harden(&mut hardened, &violations(&replayed, t), non_root_enforced, &mut reasons);
        if reasons.is_empty() {
            for v in violations(&hardened, t) {
                reasons.push(format!("{}: {}", v.check, describe(&v)));
            }
        }
        if reasons.is_empty()
            && let Some(p) = psp
        {
            reasons = admits_unchanged(p, &hardened);
        }
        if !reasons.is_empty() {
            // What the level needs is a decision; what PSP did is still written.
            hardened = replayed.clone();
            decision = Some(NeedsDecision {
                object: o.object_ref(),
                level: level.clone().unwrap_or_default(),
                reasons,
                options: options(target),
                injected: injected.clone(),
            });
        }
    }
    // A custom resource without a place for the pod's annotations: the API server writes the
    // seccomp and AppArmor annotations of a pod from its fields, so the fix leaves them out.
    if o.custom.as_ref().is_some_and(|c| c.locations.annotations.is_none()) {
        replayed.annotations.clone_from(&original.annotations);
        hardened.annotations.clone_from(&original.annotations);
    }
    // Compared as the API sees them (an empty security context is no change).
    if pod_json(&hardened) == pod_json(&original) {
        return (None, decision);
    }
    let mut fields = Vec::new();
    for (field, value) in leaf_changes(&pod_json(&original), &pod_json(&replayed)) {
        fields.push(FieldFix {
            field,
            value,
            kind: FixKind::Behaviour,
            psp: psp.map(|p| p.metadata.name.clone()),
            check: None,
            note: None,
        });
    }
    for (field, value) in leaf_changes(&pod_json(&replayed), &pod_json(&hardened)) {
        let check = check_of(&field);
        fields.push(FieldFix {
            field,
            value,
            kind: FixKind::Level,
            psp: None,
            check: Some(check.to_owned()),
            note: Some(HARDENING_NOTE.to_owned()),
        });
    }
    let (patch_type, patch) = match &o.custom {
        None => (
            PatchType::Strategic,
            wrap(o, strategic_patch(&pod_json(&original), &pod_json(&hardened))),
        ),
        Some(c) => match json_patch(c, &pod_json(&original), &pod_json(&hardened)) {
            Ok(ops) => (PatchType::Json, ops),
            Err(reasons) => {
                // The resource has no field for what the level needs: a decision, with what
                // PSP did still unwritten (it lives in the same places).
                let d = decision.get_or_insert_with(|| NeedsDecision {
                    object: o.object_ref(),
                    level: level.clone().unwrap_or_default(),
                    reasons: Vec::new(),
                    options: options(target),
                    injected: injected.clone(),
                });
                d.reasons.extend(reasons);
                return (None, Some(d.clone()));
            }
        },
    };
    let mut notes = Vec::new();
    if decision.is_some() {
        notes.push(
            "what PSP did to the pods only: the level needs a decision (NEEDS-DECISION.md)"
                .to_owned(),
        );
    }
    match o.kind {
        PodKind::Job => notes.push(
            "a Job's pod template is immutable: apply the patch to the manifest the next Job is \
             created from"
                .to_owned(),
        ),
        PodKind::Pod => notes.push(
            "a Pod's security context cannot change in place: apply the patch to its manifest \
             and recreate it"
                .to_owned(),
        ),
        PodKind::Custom => notes.push(
            "a JSON patch (RFC 6902): strategic merge does not apply to custom resources; the \
             operator's pods change when it next creates them"
                .to_owned(),
        ),
        _ => {}
    }
    if !injected.is_empty() {
        notes.push(format!(
            "its live pods also run {}, which a webhook injects: their fix belongs to the injector",
            injected.join(", ")
        ));
        // Future pods are the template plus what is injected.
        if let (Some(t), Some(pod)) = (target.filter(|_| decision.is_none()), pods.first()) {
            let mut future = hardened.clone();
            for c in pod.spec.init_containers.iter().filter(|c| injected.contains(&c.name)) {
                future.spec.init_containers.push(c.clone());
            }
            for c in pod.spec.containers.iter().filter(|c| injected.contains(&c.name)) {
                future.spec.containers.push(c.clone());
            }
            let failing = violations(&future, t);
            if !failing.is_empty() {
                let what: Vec<String> = failing.iter().map(describe).collect();
                notes.push(format!(
                    "with the injected containers its pods still fail {}:{}: {}",
                    t.level,
                    t.version,
                    what.join(", ")
                ));
            }
        }
    }
    let fix = Fix {
        object: o.object_ref(),
        api_version: o.api_version.clone(),
        level: if decision.is_some() { None } else { level },
        file: file_name(o),
        fields,
        patch_type,
        patch,
        admitted_by: psp.map(|p| p.metadata.name.clone()),
        injected,
        notes,
        patched_pod: pod_json(&hardened),
        patched: hardened,
    };
    (Some(fix), decision)
}

/// Why the PSP would not admit `pod` unchanged (empty: it would).
fn admits_unchanged(p: &PodSecurityPolicy, pod: &SimPod) -> Vec<String> {
    match admit(p, pod) {
        Outcome::Admits => Vec::new(),
        Outcome::AdmitsWithMutation { changes, .. } => {
            let fields: Vec<String> = changes.into_iter().map(|c| c.field).collect();
            vec![format!(
                "PodSecurityPolicy {} would still change the patched template ({}), so the fix \
                 cannot be proven while PSP enforces",
                p.metadata.name,
                fields.join(", ")
            )]
        }
        Outcome::Rejects(errs) => {
            let errs: Vec<String> = errs.into_iter().map(|e| e.message).collect();
            vec![format!(
                "PodSecurityPolicy {} would reject the patched template, so the fix cannot roll \
                 out while PSP enforces: {}",
                p.metadata.name,
                errs.join("; ")
            )]
        }
    }
}

/// `<namespace>/<kind>-<name>.yaml`; for a template inside a custom resource
/// `<namespace>/<kind>-<name>-<path>.yaml` (a cluster-scoped one under `cluster/`).
fn file_name(o: &PodObject) -> String {
    let ns = if o.is_cluster_scoped() { "cluster" } else { o.namespace() };
    let kind = o.kind_name().to_ascii_lowercase();
    match o.path() {
        None => format!("{ns}/{kind}-{}.yaml", o.name()),
        Some(p) => {
            let slug: String =
                p.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
            format!("{ns}/{kind}-{}-{}.yaml", o.name(), slug.to_ascii_lowercase())
        }
    }
}

/// The JSON patch (RFC 6902) that makes a custom resource's template give the `new` pod
/// instead of `old` (both pod JSON): each changed security context is written whole where the
/// registry says it lives, and each changed annotation of a template that has metadata (the
/// API server writes a pod's seccomp and AppArmor annotations from its fields, so where a
/// resource keeps no template metadata they are left to it). `Err`: the reasons some change
/// has no place in the resource (a container the operator adds, a pod field the resource does
/// not carry).
fn json_patch(
    c: &crate::model::inventory::CustomTemplate,
    old: &Value,
    new: &Value,
) -> Result<Value, Vec<String>> {
    let mut ops = Vec::new();
    let mut reasons = Vec::new();
    let (old_spec, new_spec) = (&old["spec"], &new["spec"]);
    let (old_notes, new_notes) = (&old["metadata"]["annotations"], &new["metadata"]["annotations"]);
    if old_notes != new_notes
        && let Some((at, missing)) = &c.locations.annotations
    {
        let added: Map<String, Value> = new_notes
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| old_notes.get(k.as_str()) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match missing {
            0 => {
                for (k, v) in added {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    ops.push(json!({"op": "add", "path": format!("{at}/{key}"), "value": v}));
                }
            }
            1 => ops.push(json!({"op": "add", "path": at, "value": added})),
            _ => {
                let metadata = at.trim_end_matches("/annotations");
                ops.push(json!({"op": "add", "path": metadata, "value": {"annotations": added}}));
            }
        }
    }
    let old_obj = old_spec.as_object().cloned().unwrap_or_default();
    for (k, v) in new_spec.as_object().into_iter().flatten() {
        if old_obj.get(k) == Some(v) {
            continue;
        }
        match k.as_str() {
            "securityContext" => match &c.locations.pod_security_context {
                Some(at) => ops.push(json!({"op": "add", "path": at, "value": v})),
                None => reasons.push(format!(
                    "{} {}: the pod's securityContext ({}) has no field in the resource; the \
                     operator sets it",
                    c.kind,
                    c.path,
                    leaf_changes(&old_spec["securityContext"], v)
                        .into_iter()
                        .map(|(f, v)| format!("{f} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            list if CONTAINER_LISTS.contains(&list) => {
                let before =
                    old_obj.get(list).and_then(Value::as_array).cloned().unwrap_or_default();
                for container in v.as_array().into_iter().flatten() {
                    let name = container["name"].as_str().unwrap_or_default();
                    let was = before.iter().find(|x| x["name"] == container["name"]);
                    if was == Some(container) {
                        continue;
                    }
                    let sc = &container["securityContext"];
                    // A copy the operator makes of another container follows that one's fix.
                    let copied = c.locations.mirrors.get(name).is_some_and(|src| {
                        CONTAINER_LISTS
                            .iter()
                            .flat_map(|l| new_spec[*l].as_array().into_iter().flatten())
                            .any(|x| x["name"] == src.as_str() && x["securityContext"] == *sc)
                    });
                    if copied {
                        continue;
                    }
                    match (c.locations.containers.get(name), c.injected.get(name)) {
                        (Some(at), _) => {
                            ops.push(json!({"op": "add", "path": format!("{at}/securityContext"), "value": sc}))
                        }
                        (None, Some(how)) => reasons.push(format!(
                            "container {name:?} is added by the operator: its security context is \
                             set in {how}"
                        )),
                        (None, None) => reasons.push(format!(
                            "container {name:?} has no place in the resource to patch"
                        )),
                    }
                }
            }
            other => reasons.push(format!("the pod field {other} has no place in the resource")),
        }
    }
    if reasons.is_empty() { Ok(Value::Array(ops)) } else { Err(reasons) }
}

fn violations(pod: &SimPod, t: Target) -> Vec<crate::pss::Violation> {
    let view = PodView { annotations: &pod.annotations, spec: &pod.spec };
    crate::pss::evaluate(t.level, t.version, &view)
}

fn describe(v: &crate::pss::Violation) -> String {
    if v.detail.is_empty() { v.reason.to_owned() } else { format!("{} ({})", v.reason, v.detail) }
}

fn options(target: Option<Target>) -> Vec<String> {
    let lower = match target.map(|t| t.level) {
        Some(Level::Restricted) => "baseline",
        _ => "privileged",
    };
    vec![
        format!("keep a less restrictive level for this namespace (enforce {lower})"),
        "exempt it (a namespace, user or runtime class exemption in the AdmissionConfiguration)"
            .to_owned(),
        "change the workload".to_owned(),
    ]
}

/// Container names the live pods have and the template lacks.
fn injected_containers(o: &PodObject, pods: &[&PodObject]) -> Vec<String> {
    if o.kind == PodKind::Pod {
        return Vec::new();
    }
    let own: BTreeSet<&str> = o.spec.all_containers().map(|c| c.name.as_str()).collect();
    let mut out: BTreeSet<String> = BTreeSet::new();
    for p in pods {
        for c in p.spec.init_containers.iter().chain(&p.spec.containers) {
            if !own.contains(c.name.as_str()) {
                out.insert(c.name.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// A seccomp profile PSP wrote as the pod annotation is also written as the pod field (the
/// API server keeps them in sync; the field is what newer clusters read).
fn seccomp_annotation_as_field(pod: &mut SimPod) {
    let Some(value) = pod.annotations.get(SECCOMP_POD_ANNOTATION) else { return };
    let sc = pod.spec.security_context.get_or_insert_with(Box::default);
    if sc.seccomp_profile.is_some() {
        return;
    }
    let profile = match value.as_str() {
        "runtime/default" | "docker/default" => {
            SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }
        }
        "unconfined" => SeccompProfile { type_: "Unconfined".into(), localhost_profile: None },
        v => match v.strip_prefix("localhost/") {
            Some(p) => {
                SeccompProfile { type_: "Localhost".into(), localhost_profile: Some(p.to_owned()) }
            }
            None => return,
        },
    };
    sc.seccomp_profile = Some(profile);
}

fn containers_mut(pod: &mut SimPod) -> impl Iterator<Item = &mut Container> {
    let s = &mut pod.spec;
    s.init_containers
        .iter_mut()
        .chain(s.containers.iter_mut())
        .chain(s.ephemeral_containers.iter_mut())
}

fn sc(c: &mut Container) -> &mut SecurityContext {
    c.security_context.get_or_insert_with(Box::default)
}

/// Applies the hardening the failing checks allow; a check it cannot fix without changing
/// behaviour adds a reason instead.
fn harden(
    pod: &mut SimPod,
    failing: &[crate::pss::Violation],
    non_root_enforced: bool,
    reasons: &mut Vec<String>,
) {
    for v in failing {
        let mut decide = |why: String| reasons.push(format!("{}: {}", v.check, why));
        match v.check {
            "seccompProfile_restricted" => {
                let pod_profile = pod
                    .spec
                    .security_context
                    .as_ref()
                    .and_then(|s| s.seccomp_profile.as_ref())
                    .map(|p| p.type_.clone());
                let unconfined = pod.spec.all_containers().any(|c| {
                    c.security_context
                        .as_ref()
                        .and_then(|s| s.seccomp_profile.as_ref())
                        .is_some_and(|p| p.type_ == "Unconfined")
                });
                let annotation = pod.annotations.get(SECCOMP_POD_ANNOTATION);
                if unconfined || pod_profile.as_deref() == Some("Unconfined") {
                    decide("a container runs Unconfined: a seccomp profile can break it".into());
                } else if annotation
                    .is_some_and(|a| a != "runtime/default" && a != "docker/default")
                {
                    decide(format!(
                        "the pod annotation asks for seccomp {:?}",
                        annotation.unwrap()
                    ));
                } else {
                    let psc = pod.spec.security_context.get_or_insert_with(Box::default);
                    if psc.seccomp_profile.is_none() {
                        psc.seccomp_profile = Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            localhost_profile: None,
                        });
                    }
                    // The annotation too, as PSP would copy the field into it (the fix must
                    // leave nothing for PSP to change).
                    pod.annotations
                        .entry(SECCOMP_POD_ANNOTATION.to_owned())
                        .or_insert_with(|| "runtime/default".to_owned());
                    // Containers without their own profile inherit the pod's.
                }
            }
            "allowPrivilegeEscalation" => {
                for c in containers_mut(pod) {
                    match sc(c).allow_privilege_escalation {
                        Some(false) => {}
                        Some(true) => {
                            decide(format!(
                                "container {:?} sets allowPrivilegeEscalation: true",
                                c.name
                            ));
                        }
                        None => sc(c).allow_privilege_escalation = Some(false),
                    }
                }
            }
            "capabilities_restricted" => {
                for c in containers_mut(pod) {
                    let name = c.name.clone();
                    let caps = sc(c).capabilities.get_or_insert_with(Capabilities::default);
                    let extra: Vec<&str> = caps
                        .add
                        .iter()
                        .flatten()
                        .map(String::as_str)
                        .filter(|a| *a != "NET_BIND_SERVICE")
                        .collect();
                    if !extra.is_empty() {
                        decide(format!("container {name:?} adds {}", extra.join(", ")));
                        continue;
                    }
                    if !caps.drop.iter().flatten().any(|d| d == "ALL") {
                        caps.drop = Some(vec!["ALL".to_owned()]);
                    }
                }
            }
            "runAsNonRoot" => {
                let psc = pod.spec.security_context.clone().unwrap_or_default();
                if psc.run_as_non_root == Some(false) {
                    decide("the pod sets runAsNonRoot: false".into());
                    continue;
                }
                for c in containers_mut(pod) {
                    let own = c.security_context.as_ref();
                    let non_root = own.and_then(|s| s.run_as_non_root).or(psc.run_as_non_root);
                    let user = own.and_then(|s| s.run_as_user).or(psc.run_as_user);
                    match (non_root, user) {
                        (Some(true), _) => {}
                        (Some(false), _) => {
                            decide(format!("container {:?} sets runAsNonRoot: false", c.name));
                        }
                        (None, Some(u)) if u > 0 => sc(c).run_as_non_root = Some(true),
                        (None, _) if non_root_enforced => sc(c).run_as_non_root = Some(true),
                        (None, _) => decide(format!(
                            "container {:?} may run as root: its image's user is unknown (set \
                             runAsUser to the image's non-root UID, then runAsNonRoot: true)",
                            c.name
                        )),
                    }
                }
            }
            _ => decide(describe(v)),
        }
    }
}

/// The pod as JSON: annotations and spec (the fields the model keeps).
fn pod_json(pod: &SimPod) -> Value {
    let mut m = Map::new();
    if !pod.annotations.is_empty() {
        m.insert("metadata".into(), json!({"annotations": pod.annotations}));
    }
    m.insert("spec".into(), pod.spec.to_api());
    Value::Object(m)
}

const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// The strategic-merge patch turning `old` into `new` (both pod JSON): changed and new keys,
/// containers matched by name, other lists replaced whole. Fixes only add or change fields.
fn strategic_patch(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut out = Map::new();
            for (k, nv) in n {
                let ov = o.get(k).unwrap_or(&Value::Null);
                if ov == nv {
                    continue;
                }
                let v = if CONTAINER_LISTS.contains(&k.as_str()) {
                    let olds = ov.as_array().cloned().unwrap_or_default();
                    let items: Vec<Value> = nv
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| {
                            let before = olds
                                .iter()
                                .find(|x| x["name"] == c["name"])
                                .unwrap_or(&Value::Null);
                            let mut d = strategic_patch(before, c);
                            if d.as_object().is_some_and(Map::is_empty) {
                                return None;
                            }
                            d["name"] = c["name"].clone();
                            Some(d)
                        })
                        .collect();
                    Value::Array(items)
                } else if ov.is_object() && nv.is_object() {
                    strategic_patch(ov, nv)
                } else {
                    nv.clone()
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        (_, n) => n.clone(),
    }
}

/// Every leaf `new` sets differently from `old`, with its field path (containers by name).
fn leaf_changes(old: &Value, new: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    leaves(&strategic_patch(old, new), String::new(), &mut out);
    out
}

fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if m.is_empty() && path.is_empty() => {}
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if CONTAINER_LISTS.contains(&k.as_str()) {
                    for c in v.as_array().into_iter().flatten() {
                        let name = c["name"].as_str().unwrap_or_default();
                        let mut c = c.clone();
                        c.as_object_mut().map(|m| m.remove("name"));
                        leaves(&c, format!("{p}[{name}]"), out);
                    }
                } else if k == "annotations" {
                    for (a, v) in v.as_object().into_iter().flatten() {
                        out.push((format!("{p}[{a}]"), v.clone()));
                    }
                } else {
                    leaves(v, p, out);
                }
            }
        }
        _ => out.push((path, v.clone())),
    }
}

/// The check a hardened field satisfies, from its path.
fn check_of(field: &str) -> &'static str {
    if field.contains("seccomp") {
        "seccompProfile_restricted"
    } else if field.ends_with("allowPrivilegeEscalation") {
        "allowPrivilegeEscalation"
    } else if field.contains("capabilities") {
        "capabilities_restricted"
    } else {
        "runAsNonRoot"
    }
}

/// The pod patch placed in the object: `spec.template` for workloads, the job template's for
/// CronJobs, `template` for PodTemplates, as is for Pods; with the object's identity.
fn wrap(o: &PodObject, pod_patch: Value) -> Value {
    let body = match o.kind {
        PodKind::Pod => pod_patch,
        PodKind::CronJob => json!({"spec": {"jobTemplate": {"spec": {"template": pod_patch}}}}),
        PodKind::PodTemplate => json!({"template": pod_patch}),
        _ => json!({"spec": {"template": pod_patch}}),
    };
    let mut out = json!({
        "apiVersion": o.api_version,
        "kind": o.kind.as_str(),
        "metadata": {"name": o.name(), "namespace": o.namespace()},
    });
    if let (Some(out), Value::Object(body)) = (out.as_object_mut(), body) {
        out.extend(body);
    }
    out
}

#[cfg(test)]
mod tests;
