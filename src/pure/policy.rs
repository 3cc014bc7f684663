//! Admission policies that keep what Pod Security Standards cannot express: for each group of
//! planned namespaces with the same usable-PSP picture, a `ValidatingAdmissionPolicy` that admits
//! a pod only when a PSP usable there (by the pod's service account or the requesting user) would
//! have validated it as written, and a `MutatingAdmissionPolicy` that applies the defaults of the
//! PSP the 1.24 admission plugin would have chosen.
//!
//! * [`api`] — which API versions serve the policies at a target Kubernetes version.
//! * [`engine`] — evaluation of generated policies with the `cel` crate (the proof in `plan`).
//!
//! Pure: no I/O.

/// API versions of ValidatingAdmissionPolicy and MutatingAdmissionPolicy per Kubernetes version.
pub mod api;
/// One PSP's restrictions as CEL expressions.
pub mod controls;
/// Evaluates ValidatingAdmissionPolicy and MutatingAdmissionPolicy objects with a CEL engine.
pub mod engine;
/// MutatingAdmissionPolicies that apply the chosen PSP's defaults.
pub mod mutation;
/// Residual ValidatingAdmissionPolicies and their bindings.
pub mod residual;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::discover::rbac::Grant;
use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::PodObject;
use crate::model::level::Level;
use crate::model::psp::PodSecurityPolicy;
use crate::plan::{AdmissionPolicies, DroppedControl, NamespacePlan, ResidualRef};
use crate::simulate::Requester;
use crate::simulate::inventory::default_requester;
use residual::PolicyOptions;

/// A pod object as the API server hands it to admission: `Pod` JSON with the template's (or
/// pod's) annotations and spec.
pub fn pod_json(o: &PodObject) -> Value {
    let spec = o.spec.to_api();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": o.name(),
            "namespace": o.namespace(),
            "annotations": o.pod_annotations(),
        },
        "spec": spec,
    })
}

/// The admission request of a pod created by `requester` in `namespace`.
pub fn request(requester: &Requester, namespace: &str, name: &str) -> engine::Request {
    engine::Request {
        operation: "CREATE".into(),
        username: requester.user.clone(),
        groups: requester.groups.clone(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        sub_resource: String::new(),
    }
}

/// The namespace object a binding's selector and `namespaceObject` see.
pub fn namespace_json(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    })
}

/// Whether a PSS level already guarantees a control, whatever the PSP's setting (only the
/// controls where this is certain: the host namespaces and privileged containers from
/// baseline, privilege escalation from restricted).
fn guaranteed(control: &controls::Control, level: Level) -> bool {
    match control.id {
        "HostNetwork" | "HostPID" | "HostIPC" | "Privileged" => level >= Level::Baseline,
        "AllowPrivilegeEscalation" => level >= Level::Restricted,
        _ => false,
    }
}

/// Generates the residual policies of the planned namespaces, records each namespace's
/// dropped controls and policy, and proves the policies on every live object with the CEL
/// engine (`plan-residual-rejects-live` findings).
pub fn plan_policies(
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    objects: &[PodObject],
    ns_plans: &mut [NamespacePlan],
    psp_admission_active: bool,
    opts: &PolicyOptions,
    findings: &mut Vec<Finding>,
) -> AdmissionPolicies {
    let served = api::validating(opts.minor);
    // Each PSP's controls, built once for every namespace that may use it.
    let by_name: BTreeMap<&str, Vec<controls::Control>> =
        psps.iter().map(|p| (p.metadata.name.as_str(), controls::controls(p))).collect();
    for ns in ns_plans.iter_mut() {
        let mut dropped: BTreeMap<(&'static str, &'static str), Vec<String>> = BTreeMap::new();
        for psp in residual::usable_psp_names(psps, grants, &ns.name) {
            let Some(cs) = by_name.get(psp.as_str()) else { continue };
            for c in cs.iter().filter(|c| !guaranteed(c, ns.enforce)) {
                dropped.entry((c.field, c.what)).or_default().push(psp.clone());
            }
        }
        ns.dropped_controls = dropped
            .into_iter()
            .map(|((control, detail), psps)| DroppedControl {
                control: control.to_owned(),
                detail: detail.to_owned(),
                psps,
            })
            .collect();
    }
    // Without PSPs in the input (a cluster past 1.25, or an export without them) there is
    // nothing to keep: a policy would only reject every pod.
    let names: Vec<String> = if psps.is_empty() {
        Vec::new()
    } else {
        ns_plans.iter().map(|n| n.name.clone()).collect()
    };
    let residuals = residual::residual_policies(psps, grants, &names, opts);
    let mutations = mutation::mutation_policies(psps, grants, &names, opts);
    let mut validating = Vec::new();
    let mut mutating = Vec::new();
    for m in &mutations {
        for ns in ns_plans.iter_mut().filter(|n| m.namespaces.contains(&n.name)) {
            ns.mutation_policy =
                Some(ResidualRef { policy: m.name.clone(), binding: m.name.clone() });
        }
        mutating.push(m.policy.clone());
        mutating.push(m.binding.clone());
    }
    for r in &residuals {
        for ns in ns_plans.iter_mut().filter(|n| r.namespaces.contains(&n.name)) {
            ns.residual_policy =
                Some(ResidualRef { policy: r.name.clone(), binding: r.name.clone() });
        }
        // Both are generated from the same grouping: a group has its mutation policy, if any,
        // for the same namespaces.
        let m = mutations.iter().find(|m| m.namespaces == r.namespaces);
        prove(r, m, objects, findings);
        validating.push(r.policy.clone());
        validating.push(r.binding.clone());
    }
    let mutating_served = api::mutating(opts.minor);
    AdmissionPolicies {
        policy_version: format!("v1.{}", opts.minor),
        validating_api_version: served.map(|s| s.api_version.to_owned()),
        needs_feature_gate: served.is_some_and(|s| s.needs_feature_gate),
        validation_actions: opts.actions.clone(),
        unprotected_window: psp_admission_active && served.is_some(),
        validating,
        mutating_api_version: mutating_served.map(|s| s.api_version.to_owned()),
        mutating_needs_feature_gate: mutating_served.is_some_and(|s| s.needs_feature_gate),
        mutating,
    }
}

/// Runs every live object of the policy's namespaces through the mutation policy (when there
/// is one) and the residual policy, as the API server would on CREATE.
fn prove(
    r: &residual::Residual,
    m: Option<&mutation::Mutation>,
    objects: &[PodObject],
    findings: &mut Vec<Finding>,
) {
    let broken = |findings: &mut Vec<Finding>, kind: &str, name: &str, e: engine::CelError| {
        findings.push(Finding::new(
            Code::PlanResidualRejectsLive,
            ObjectRef::new(kind, None, name),
            format!("the generated policy does not compile: {e}"),
        ));
    };
    let compiled = match engine::Validating::compile(&r.policy) {
        Ok(c) => c,
        Err(e) => return broken(findings, "ValidatingAdmissionPolicy", &r.name, e),
    };
    let mutating = match m.map(|m| engine::Mutating::compile(&m.policy).map_err(|e| (m, e))) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err((m, e))) => return broken(findings, "MutatingAdmissionPolicy", &m.name, e),
    };
    // Pods of one template are identical but for their names: each distinct pod, namespace and
    // requester is evaluated once (the policies read no names).
    let mut seen: std::collections::HashMap<String, Result<Vec<String>, String>> =
        std::collections::HashMap::new();
    let live =
        objects.iter().filter(|o| o.is_live() && r.namespaces.iter().any(|n| n == o.namespace()));
    for o in live {
        let requester = default_requester(o);
        let mut object = pod_json(o);
        object["metadata"]["name"] = Value::String(String::new());
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{object}",
            o.namespace(),
            requester.user,
            requester.groups.join(",")
        );
        let verdict = seen.entry(key).or_insert_with(|| {
            let req = request(&requester, o.namespace(), "");
            let ns = namespace_json(o.namespace());
            let object = match &mutating {
                Some(m) => m.evaluate(&object, &ns, &req).map_err(|e| e.to_string())?.object,
                None => object,
            };
            compiled
                .evaluate(&object, None, &ns, &req)
                .map(|v| v.failures.into_iter().map(|f| f.message).collect())
                .map_err(|e| e.to_string())
        });
        let target = o.object_ref();
        match verdict {
            Ok(msgs) if msgs.is_empty() => {}
            Ok(msgs) => findings.push(Finding::new(
                Code::PlanResidualRejectsLive,
                target,
                format!("{} rejects it: {}", r.name, msgs.join("; ")),
            )),
            Err(e) => findings.push(Finding::new(
                Code::PlanResidualRejectsLive,
                target,
                format!("{} cannot evaluate it: {e}", r.name),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
