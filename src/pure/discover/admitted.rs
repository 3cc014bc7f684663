//! Which PSP admitted each pod: the `kubernetes.io/psp` annotation, counted per namespace and
//! PSP, and checked against what the pod's service account may use.
//!
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::discover::rbac::Grant;
use crate::findings::{Code, Finding, ObjectRef};
use crate::model::inventory::{Inventory, PodKind, PodObject};

/// The PSP that admitted a pod, from its annotation (empty values count as none).
pub fn admitting_psp(pod: &PodObject) -> Option<&str> {
    pod.admitting_psp()
}

/// Pod counts of one namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCounts {
    /// Pods per admitting PSP.
    pub by_psp: BTreeMap<String, usize>,
    /// Pods without a `kubernetes.io/psp` annotation (created before PSP was enabled, or with
    /// the admission plugin off).
    pub without_psp: usize,
}

/// Pod counts per namespace.
pub fn pods_by_psp(inv: &Inventory) -> BTreeMap<String, PodCounts> {
    let mut out: BTreeMap<String, PodCounts> = BTreeMap::new();
    for pod in inv.pod_objects.iter().filter(|p| p.kind == PodKind::Pod) {
        let counts = out.entry(pod.namespace().to_owned()).or_default();
        match admitting_psp(pod) {
            Some(psp) => *counts.by_psp.entry(psp.to_owned()).or_default() += 1,
            None => counts.without_psp += 1,
        }
    }
    out
}

/// PSPs a pod in `ns` running as `sa` may be admitted by without help from its creator: grants
/// to its service account and grants to every requester.
pub fn usable_by_pod(grants: &[Grant], ns: &str, sa: &str) -> BTreeSet<String> {
    grants
        .iter()
        .filter(|g| g.applies_in(ns))
        .filter(|g| g.principal.covers_service_account(ns, sa) || g.principal.is_every_requester())
        .map(|g| g.psp.clone())
        .collect()
}

/// Findings for pods whose annotation names a PSP that is not in the input
/// (`pod-psp-unknown`) or that neither their service account nor every requester may use
/// (`pod-psp-not-usable-by-sa`).
pub fn admission_findings(inv: &Inventory, grants: &[Grant]) -> Vec<Finding> {
    let psps: BTreeSet<&str> = inv.psps.iter().map(|p| p.metadata.name.as_str()).collect();
    let mut out = Vec::new();
    let mut usable: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for pod in &inv.pod_objects {
        let Some(psp) = admitting_psp(pod) else { continue };
        let ns = pod.namespace();
        let sa = pod.spec.service_account();
        let object = ObjectRef::new("Pod", Some(ns), pod.name());
        if !psps.contains(psp) {
            out.push(
                Finding::new(
                    Code::PodPspUnknown,
                    object,
                    format!("admitted by PodSecurityPolicy {psp}, which is not in the input"),
                )
                .with_source(&pod.source),
            );
            continue;
        }
        if usable.entry((ns, sa)).or_insert_with(|| usable_by_pod(grants, ns, sa)).contains(psp) {
            continue;
        }
        let others: BTreeSet<String> = grants
            .iter()
            .filter(|g| g.psp == psp && g.applies_in(ns) && g.principal.is_requester_only_in(ns))
            .map(|g| g.subject.to_string())
            .collect();
        let who = if others.is_empty() {
            "no grant in the input covers it in this namespace".to_string()
        } else {
            format!("only {} may use it here", others.into_iter().collect::<Vec<_>>().join(", "))
        };
        out.push(
            Finding::new(
                Code::PodPspNotUsableBySa,
                object,
                format!(
                    "admitted by {psp}, which service account {ns}/{sa} cannot use ({who}); \
                     a user created the pod or RBAC changed since"
                ),
            )
            .with_source(&pod.source),
        );
    }
    out
}
