//! `admit`: for each pod or pod template, which PSP the admission plugin would choose for it in
//! a cluster (its PSPs and RBAC), whether that PSP mutates it and how, and why every other
//! candidate rejects it. Pure: the objects and the cluster come in as inventories.

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::inventory::{Inventory, PodKind, PodObject};
use crate::model::psp::PodSecurityPolicy;
use crate::simulate::inventory::decide_for;
use crate::simulate::{Change, FieldError, Requester};

/// The JSON schema version of `admit -o json`.
pub const ADMIT_SCHEMA_VERSION: &str = "psa-migrate.admit/v2";

/// Who creates the pods, as the user gave it (`--as`, `--as-group`), and whose service account
/// they run as (`--service-account`).
#[derive(Clone, Debug, Default)]
pub struct AdmitOptions {
    /// `None`: the controller that creates pods for the object's kind.
    pub requester: Option<Requester>,
    pub service_account: Option<String>,
}

/// The plugin's choice for one object.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdmitResult {
    /// The object's kind (a custom resource's own kind for a template inside one).
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// For a pod template inside a custom resource: its path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where the object was read.
    pub source: String,
    /// Who was taken to create its pods.
    pub requester: Requester,
    pub service_account: String,
    /// The PSP the plugin would choose (`null`: rejected).
    pub psp: Option<String>,
    pub mutated: bool,
    /// What the chosen PSP changes.
    pub changes: Vec<Change>,
    /// Every usable PSP's errors when none admits the object; the errors of the PSPs tried
    /// before the chosen one otherwise.
    pub rejections: std::collections::BTreeMap<String, Vec<FieldError>>,
    /// The PSPs the requester or the service account may use there, in the order tried.
    pub candidates: Vec<String>,
}

/// `admit` output.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdmitReport {
    pub schema_version: &'static str,
    pub results: Vec<AdmitResult>,
}

impl AdmitReport {
    pub fn rejected(&self) -> usize {
        self.results.iter().filter(|r| r.psp.is_none()).count()
    }
}

/// Why an object cannot be simulated without more from the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    #[error(
        "{object}: a {} without a controller is created by a person or a client (an operator \
         for a custom resource), not a built-in controller: say who with --as USER (and \
         --as-group GROUP)", object.kind
    )]
    NeedsRequester { object: crate::findings::ObjectRef },
}

/// The requester of an object: the user's, else the controller of its kind (or of a pod's
/// controlling owner); `None` for bare pods and PodTemplates.
fn requester_of(o: &PodObject, opts: &AdmitOptions) -> Option<Requester> {
    if let Some(r) = &opts.requester {
        return Some(r.clone());
    }
    let by_controller = match o.kind {
        PodKind::Pod => o.meta.controller().and_then(|c| PodKind::from_kind(&c.kind)),
        PodKind::PodTemplate | PodKind::Custom => None,
        k => Some(k),
    };
    by_controller.and_then(Requester::controller_for)
}

/// Simulates the admission of every pod object of `objects` in `cluster`.
pub fn admit_report(
    objects: &Inventory,
    cluster: &Inventory,
    grants: &[crate::discover::rbac::Grant],
    opts: &AdmitOptions,
) -> Result<AdmitReport, AdmitError> {
    let psps: Vec<&PodSecurityPolicy> = cluster.psps.iter().map(|p| &p.obj).collect();
    let mut results = Vec::new();
    for o in &objects.pod_objects {
        let Some(requester) = requester_of(o, opts) else {
            return Err(AdmitError::NeedsRequester { object: o.object_ref() });
        };
        let mut o = o.clone();
        if let Some(sa) = &opts.service_account {
            o.spec.service_account_name = Some(sa.clone());
        }
        let d = decide_for(&psps, grants, &o, &requester);
        results.push(AdmitResult {
            kind: o.kind_name().to_owned(),
            namespace: o.namespace().to_owned(),
            name: o.name().to_owned(),
            path: o.path().map(str::to_owned),
            source: o.source.to_string(),
            service_account: o.spec.service_account().to_owned(),
            requester,
            psp: d.psp,
            mutated: d.mutated,
            changes: d.changes,
            rejections: d.rejections,
            candidates: d.candidates,
        });
    }
    results.sort_by(|a, b| {
        (&a.namespace, &a.kind, &a.name, &a.path).cmp(&(&b.namespace, &b.kind, &b.name, &b.path))
    });
    Ok(AdmitReport { schema_version: ADMIT_SCHEMA_VERSION, results })
}
