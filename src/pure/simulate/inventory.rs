//! The simulator on an inventory: every pod's `kubernetes.io/psp` annotation checked against
//! the PSP the plugin would choose for it today, and what would admit the templates of
//! workloads that have no pods (0 replicas, suspended, never run).
//!
//! The requester of a pod is the controller of its owner's kind (a ReplicaSet's pods are
//! created by `replicaset-controller`, …); a bare pod's creator is unknown, so only
//! `system:authenticated` is assumed. A pod admitted by a PSP neither identity may use is left
//! to the `pod-psp-not-usable-by-sa` finding.
//!
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::discover::rbac::Grant;
use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, PodKind, PodObject};
use crate::model::psp::PodSecurityPolicy;
use crate::mutation::{Owner, OwnerIndex};
use crate::simulate::{Change, Decision, FieldError, Requester, SimPod, decide, usable_psps};

/// The pod (or template) of a pod object, as admission sees it.
pub fn sim_pod(o: &PodObject) -> SimPod {
    SimPod { annotations: o.pod_annotations().clone(), spec: o.spec.clone() }
}

/// Who creates the pods of an object: its controller for workloads, the controller of a pod's
/// owner for pods, else an unknown authenticated user.
pub fn default_requester(o: &PodObject) -> Requester {
    let kind = match o.kind {
        PodKind::Pod => o.meta.controller().and_then(|c| PodKind::from_kind(&c.kind)),
        k => Some(k),
    };
    kind.and_then(Requester::controller_for).unwrap_or_else(|| Requester::user("", &[]))
}

/// Simulates the plugin for one object as `requester`.
pub fn decide_for(
    psps: &[&PodSecurityPolicy],
    grants: &[Grant],
    o: &PodObject,
    requester: &Requester,
) -> Decision {
    let usable = usable_psps(grants, psps, o.namespace(), o.spec.service_account(), requester);
    decide(psps, &usable, &sim_pod(o))
}

/// `pod-psp-annotation-mismatch` findings: pods whose annotation names a PSP they may use but
/// that the plugin would not choose for them today.
pub fn annotation_mismatches(inv: &Inventory, grants: &[Grant]) -> Vec<Finding> {
    let psps: Vec<&PodSecurityPolicy> = inv.psps.iter().map(|p| &p.obj).collect();
    let names: BTreeSet<&str> = psps.iter().map(|p| p.metadata.name.as_str()).collect();
    let mut out = Vec::new();
    for pod in inv.pod_objects.iter().filter(|p| p.kind == PodKind::Pod) {
        let Some(annotated) = pod.admitting_psp() else { continue };
        if !names.contains(annotated) {
            continue;
        }
        let requester = default_requester(pod);
        let d = decide_for(&psps, grants, pod, &requester);
        if !d.candidates.iter().any(|c| c == annotated) || d.psp.as_deref() == Some(annotated) {
            continue;
        }
        let sa = pod.spec.service_account();
        let ns = pod.namespace();
        let who = if requester.user.is_empty() {
            format!("service account {ns}/{sa}")
        } else {
            format!("{} for service account {ns}/{sa}", requester.user)
        };
        let today = match &d.psp {
            Some(p) if d.mutated => format!("{p} (with mutation)"),
            Some(p) => p.clone(),
            None => "none: every usable PSP rejects it".to_owned(),
        };
        let mut msg = format!(
            "admitted by {annotated}, but the PSP admission plugin would choose {today} today \
             ({who}); a re-created pod gets that PSP"
        );
        if let Some(e) = d.rejections.get(annotated).and_then(|e| e.first()) {
            msg.push_str(&format!("; {annotated} now rejects it: {e}"));
        }
        out.push(
            Finding::new(
                Code::PodPspAnnotationMismatch,
                ObjectRef::new("Pod", Some(ns), pod.name()),
                msg,
            )
            .with_source(&pod.source),
        );
    }
    out
}

/// What would admit a workload's template today.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WouldAdmit {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// For a pod template inside a custom resource: its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why the template is simulated: `no-pods` or `not-live` (0 replicas, suspended, finished).
    pub reason: &'static str,
    pub requester: String,
    pub service_account: String,
    /// The PSP that would admit its pods (`None`: rejected).
    pub psp: Option<String>,
    pub mutated: bool,
    pub changes: Vec<Change>,
    pub rejections: BTreeMap<String, Vec<FieldError>>,
}

/// Templates of top-level workloads without pods in the input, simulated.
pub fn would_admit(inv: &Inventory, grants: &[Grant]) -> Vec<WouldAdmit> {
    if inv.psps.is_empty() {
        return Vec::new();
    }
    let psps: Vec<&PodSecurityPolicy> = inv.psps.iter().map(|p| &p.obj).collect();
    let index = OwnerIndex::new(inv);
    let mut with_pods: BTreeSet<ObjectRef> = BTreeSet::new();
    for pod in inv.pod_objects.iter().filter(|p| p.kind == PodKind::Pod) {
        if let Owner::Found { workload, .. } = index.resolve(pod) {
            with_pods.insert(workload);
        }
    }
    let mut out = Vec::new();
    for o in &inv.pod_objects {
        // A cluster-scoped custom resource's templates run in the namespaces that use them.
        if matches!(o.kind, PodKind::Pod | PodKind::PodTemplate)
            || o.meta.controller().is_some()
            || o.is_cluster_scoped()
        {
            continue;
        }
        let reason = if !o.is_live() {
            "not-live"
        } else if !with_pods.contains(&o.object_ref()) {
            "no-pods"
        } else {
            continue;
        };
        let requester = default_requester(o);
        let d = decide_for(&psps, grants, o, &requester);
        out.push(WouldAdmit {
            kind: o.kind_name().to_owned(),
            namespace: o.namespace().to_owned(),
            name: o.name().to_owned(),
            path: o.path().map(str::to_owned),
            reason,
            requester: requester.user,
            service_account: o.spec.service_account().to_owned(),
            psp: d.psp,
            mutated: d.mutated,
            changes: d.changes,
            rejections: d.rejections,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::rbac::tests::{Rbac, src, subject, use_rule};
    use crate::model::inventory::ObjectState;
    use crate::model::pod::{ObjectMeta, PSP_ANNOTATION};

    fn pod(name: &str, psp: &str) -> PodObject {
        let mut meta =
            ObjectMeta { name: name.into(), namespace: Some("a".into()), ..Default::default() };
        meta.annotations.insert(PSP_ANNOTATION.into(), psp.into());
        PodObject {
            kind: PodKind::Pod,
            api_version: "v1".into(),
            meta,
            template_annotations: Default::default(),
            spec: serde_json::from_value(serde_json::json!({"containers": [{"name": "c"}]}))
                .unwrap(),
            state: ObjectState::default(),
            source: src(),
            custom: None,
        }
    }

    /// A planted mismatch: both PSPs admit the pod unchanged, so the plugin picks the first by
    /// name; the pod claims the second.
    #[test]
    fn planted_mismatch_is_found() {
        let mut inv = Rbac::default()
            .psp("a-open")
            .psp("b-open")
            .cluster_role("use", &[], vec![use_rule(&["a-open", "b-open"])])
            .cluster_binding(
                "all",
                "ClusterRole",
                "use",
                vec![subject("Group", "system:authenticated", None)],
            )
            .0;
        inv.pod_objects.push(pod("right", "a-open"));
        inv.pod_objects.push(pod("wrong", "b-open"));
        inv.pod_objects.push(pod("unknown", "gone"));
        let grants = crate::discover::rbac::resolve(&inv).grants;
        let found = annotation_mismatches(&inv, &grants);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].object.name, "wrong");
        assert!(found[0].message.contains("would choose a-open today"), "{}", found[0].message);
    }
}
