//! A PodSecurityPolicy admission simulator: what the PSP admission plugin of Kubernetes 1.24
//! would do with a pod on CREATE.
//!
//! Ported behaviour (not code) of upstream `pkg/security/podsecuritypolicy/` (the provider and
//! its strategies) and `plugin/pkg/admission/security/podsecuritypolicy/admission.go`:
//!
//! * [`provider`] applies one PSP: it defaults the pod (mutation) and validates the result;
//!   one module per strategy ([`user`], [`group`], [`selinux`], [`capabilities`], [`seccomp`],
//!   [`apparmor`], [`sysctl`], [`volumes`]).
//! * [`decide`] is the plugin's selection: the PSPs the requesting user or the pod's service
//!   account may `use` in the namespace, sorted by name; the first that admits the pod unchanged
//!   wins, otherwise the first that admits it with mutation; otherwise the pod is rejected with
//!   the errors of every usable PSP.
//! * [`inventory`] uses the simulator on an inventory: the `kubernetes.io/psp` cross-check and
//!   what would admit workload templates that have no pods.
//!
//! Only CREATE is modelled (on UPDATE the plugin validates and never mutates). Error messages
//! are worded like the plugin's (`spec.containers[0].securityContext.runAsUser: Invalid value:
//! 0: …`), including its field paths where they are unusual (`pod.metadata.annotations[…]` for
//! seccomp and AppArmor, `pod.spec.securityContext.sysctls[i]`).
//!
//! Pure: no I/O.

/// The plugin's choice for given objects in a given cluster (`admit`).
pub mod admit;
/// AppArmor annotations.
pub mod apparmor;
/// Added, dropped and allowed capabilities.
pub mod capabilities;
/// `runAsGroup`, `supplementalGroups` and `fsGroup`.
pub mod group;
/// Inventory uses: annotation cross-check and templates without pods.
pub mod inventory;
/// One PSP applied to one pod: mutation, then validation.
pub mod provider;
/// Seccomp annotations and fields.
pub mod seccomp;
/// SELinux options.
pub mod selinux;
/// Safe, allowed-unsafe and forbidden sysctls.
pub mod sysctl;
/// `runAsUser`.
pub mod user;
/// Volume types, host paths, flex volume and CSI drivers.
pub mod volumes;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::discover::rbac::Grant;
use crate::discover::subjects::{
    ALL_SERVICE_ACCOUNTS, AUTHENTICATED, NAMESPACE_SERVICE_ACCOUNTS_PREFIX, Principal,
    SERVICE_ACCOUNT_USER_PREFIX,
};
use crate::model::inventory::PodKind;
use crate::model::pod::{PSP_ANNOTATION, PodSpec};
use crate::model::psp::PodSecurityPolicy;

/// The pod as admission sees it: annotations and spec (a workload's template for workloads).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimPod {
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
}

/// The kind of a field error, as the API prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    Invalid,
    Required,
    Forbidden,
}

/// One validation error of one PSP, worded like the admission plugin's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// The offending value as the API prints it (`Invalid` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The whole message: `field: Invalid value: value: detail`.
    pub message: String,
}

impl FieldError {
    fn new(field: String, kind: ErrorKind, value: Option<String>, detail: String) -> FieldError {
        let mut message = match (&kind, &value) {
            (ErrorKind::Invalid, Some(v)) => format!("{field}: Invalid value: {v}"),
            (ErrorKind::Invalid, None) => format!("{field}: Invalid value: \"null\""),
            (ErrorKind::Required, _) => format!("{field}: Required value"),
            (ErrorKind::Forbidden, _) => format!("{field}: Forbidden"),
        };
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        FieldError { field, kind, value, detail, message }
    }

    /// `field: Invalid value: <value>: <detail>`; `value` is already formatted (see [`go`]).
    pub fn invalid(field: impl Into<String>, value: String, detail: impl Into<String>) -> Self {
        FieldError::new(field.into(), ErrorKind::Invalid, Some(value), detail.into())
    }

    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError::new(field.into(), ErrorKind::Required, None, detail.into())
    }

    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError::new(field.into(), ErrorKind::Forbidden, None, detail.into())
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Values printed the way Go's field errors print them.
pub mod go {
    /// A string: `"x"`.
    pub fn str(s: &str) -> String {
        format!("{s:?}")
    }
    /// An optional value: `"null"` when absent.
    pub fn opt<T: ToString>(v: Option<T>) -> String {
        v.map_or_else(|| "\"null\"".to_owned(), |v| v.to_string())
    }
    /// An `[]int64` (`%#v`).
    pub fn ints(v: &[i64]) -> String {
        let items: Vec<String> = v.iter().map(i64::to_string).collect();
        format!("[]int64{{{}}}", items.join(", "))
    }
    /// ID ranges as `%v` prints them: `[{1000 2000}]`.
    pub fn ranges(r: &[crate::model::psp::IdRange]) -> String {
        let items: Vec<String> = r.iter().map(|r| format!("{{{} {}}}", r.min, r.max)).collect();
        format!("[{}]", items.join(" "))
    }
}

/// One field a PSP changed: its path in the pod, the value before and after (`null`: unset).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// What one PSP does with one pod.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Admitted as it is.
    Admits,
    /// Admitted after defaulting: the defaulted pod and what changed.
    AdmitsWithMutation { pod: Box<SimPod>, changes: Vec<Change> },
    /// Rejected, with every validation error (after defaulting).
    Rejects(Vec<FieldError>),
}

/// Simulates one PSP on one pod (CREATE).
pub fn admit(psp: &PodSecurityPolicy, pod: &SimPod) -> Outcome {
    provider::admit(psp, pod)
}

/// Who creates the pod: a user name and groups, as authentication reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Requester {
    pub user: String,
    pub groups: Vec<String>,
}

impl Requester {
    /// An authenticated user with extra groups (`system:authenticated` is added, as the API
    /// server's authentication and impersonation do).
    pub fn user(name: &str, groups: &[String]) -> Requester {
        let mut groups = groups.to_vec();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.to_owned());
        }
        Requester { user: name.to_owned(), groups }
    }

    /// A `kube-system` service account, as controllers authenticate.
    pub fn kube_system_service_account(name: &str) -> Requester {
        Requester {
            user: format!("{SERVICE_ACCOUNT_USER_PREFIX}kube-system:{name}"),
            groups: vec![
                ALL_SERVICE_ACCOUNTS.to_owned(),
                format!("{NAMESPACE_SERVICE_ACCOUNTS_PREFIX}kube-system"),
                AUTHENTICATED.to_owned(),
            ],
        }
    }

    /// The controller that creates pods for objects of `kind` (`None` for Pods and
    /// PodTemplates, which people or other clients create, and for custom resources).
    pub fn controller_for(kind: PodKind) -> Option<Requester> {
        let name = match kind {
            PodKind::Deployment | PodKind::ReplicaSet => "replicaset-controller",
            PodKind::StatefulSet => "statefulset-controller",
            PodKind::DaemonSet => "daemon-set-controller",
            PodKind::Job | PodKind::CronJob => "job-controller",
            PodKind::ReplicationController => "replication-controller",
            // An operator's own service account is not known: its pods count by theirs.
            PodKind::Pod | PodKind::PodTemplate | PodKind::Custom => return None,
        };
        Some(Requester::kube_system_service_account(name))
    }

    /// Whether the requester's identity matches a binding subject.
    pub fn matches(&self, p: &Principal) -> bool {
        let in_group = |g: &str| self.groups.iter().any(|x| x == g);
        match p {
            Principal::ServiceAccount { namespace, name } => {
                self.user == format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}")
            }
            Principal::AllServiceAccounts => in_group(ALL_SERVICE_ACCOUNTS),
            Principal::NamespaceServiceAccounts { namespace } => {
                in_group(&format!("{NAMESPACE_SERVICE_ACCOUNTS_PREFIX}{namespace}"))
            }
            Principal::Authenticated => in_group(AUTHENTICATED),
            Principal::User { name } => &self.user == name,
            Principal::Group { name } => in_group(name),
            Principal::Nothing => false,
        }
    }
}

/// Members of `system:masters` pass every authorization check (the API server short-circuits
/// RBAC for them), so they may use every PSP.
pub const MASTERS: &str = "system:masters";

/// The PSPs the plugin would try for a pod of `ns` running as `sa` and created by `requester`:
/// those either identity may `use` there (upstream authorizes the requesting user, then the
/// service account `system:serviceaccount:<ns>:<sa>` with the service-account groups).
pub fn usable_psps(
    grants: &[Grant],
    psps: &[&PodSecurityPolicy],
    ns: &str,
    sa: &str,
    requester: &Requester,
) -> BTreeSet<String> {
    if requester.groups.iter().any(|g| g == MASTERS) {
        return psps.iter().map(|p| p.metadata.name.clone()).collect();
    }
    grants
        .iter()
        .filter(|g| g.applies_in(ns))
        .filter(|g| g.principal.covers_service_account(ns, sa) || requester.matches(&g.principal))
        .map(|g| g.psp.clone())
        .collect()
}

/// The plugin's choice for one pod.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The PSP that admits the pod (`None`: rejected).
    pub psp: Option<String>,
    pub mutated: bool,
    /// What the chosen PSP changes.
    pub changes: Vec<Change>,
    /// Errors of every usable PSP that rejects the pod (all of them when it is rejected).
    pub rejections: BTreeMap<String, Vec<FieldError>>,
    /// The usable PSPs, in the order the plugin tries them.
    pub candidates: Vec<String>,
    /// The pod as admitted (after mutation); `None` when rejected.
    #[serde(skip)]
    pub admitted: Option<SimPod>,
}

/// The plugin's selection among `psps` (any order) restricted to `usable`: sorted by name, the
/// first PSP that admits the pod unchanged wins, otherwise the first that admits it with
/// mutation; otherwise the pod is rejected with the errors of every usable PSP. The
/// `kubernetes.io/psp` annotation the pod may carry plays no part on CREATE.
pub fn decide(psps: &[&PodSecurityPolicy], usable: &BTreeSet<String>, pod: &SimPod) -> Decision {
    let mut pod = pod.clone();
    pod.annotations.remove(PSP_ANNOTATION);
    let mut sorted: Vec<&PodSecurityPolicy> =
        psps.iter().copied().filter(|p| usable.contains(&p.metadata.name)).collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    sorted.dedup_by(|a, b| a.metadata.name == b.metadata.name);
    let mut d = Decision {
        psp: None,
        mutated: false,
        changes: Vec::new(),
        rejections: BTreeMap::new(),
        candidates: sorted.iter().map(|p| p.metadata.name.clone()).collect(),
        admitted: None,
    };
    let mut first_unchanged: Option<String> = None;
    let mut first_mutating: Option<(String, Box<SimPod>, Vec<Change>)> = None;
    // Every candidate is tried so that the report shows each one's errors; the choice is the
    // plugin's all the same (it stops at the first PSP that admits the pod unchanged).
    for psp in sorted {
        match admit(psp, &pod) {
            Outcome::Admits => {
                if first_unchanged.is_none() {
                    first_unchanged = Some(psp.metadata.name.clone());
                }
            }
            Outcome::AdmitsWithMutation { pod, changes } => {
                if first_mutating.is_none() {
                    first_mutating = Some((psp.metadata.name.clone(), pod, changes));
                }
            }
            Outcome::Rejects(errs) => {
                d.rejections.insert(psp.metadata.name.clone(), errs);
            }
        }
    }
    if let Some(name) = first_unchanged {
        d.psp = Some(name);
        d.admitted = Some(pod);
    } else if let Some((name, admitted, changes)) = first_mutating {
        d.psp = Some(name);
        d.mutated = true;
        d.changes = changes;
        d.admitted = Some(*admitted);
    }
    d
}

#[cfg(test)]
mod tests;

#[cfg(test)]
/// One PSP's validation of a pod as written: the plugin's checks without its defaulting step
/// (the residual admission policies keep exactly this). Two differences from validating the
/// defaulted pod: a capability the PSP would add by default need not be present, and an
/// AppArmor profile set as a field counts as its annotation (the API server keeps the two in
/// sync). Seccomp fields are already read beside their annotations by the strategy.
pub fn validate_as_written(psp: &PodSecurityPolicy, pod: &SimPod) -> Vec<FieldError> {
    let st = match provider::Strategies::new(psp) {
        Ok(st) => st,
        Err(e) => {
            return vec![FieldError::forbidden(
                "",
                format!("PodSecurityPolicy {} cannot be used: {e}", psp.metadata.name),
            )];
        }
    };
    let pod = apparmor_fields_as_annotations(pod);
    let mut errs = provider::validate(psp, &st, &pod);
    if st.capabilities.required_drop.is_empty() {
        errs.retain(|e| !e.detail.starts_with("required capabilities are not set"));
    }
    errs
}

#[cfg(test)]
/// The pod with its AppArmor fields also written as the annotations they stand for, as the
/// API server keeps them in sync (a container's field, else the pod's; an annotation wins).
pub fn apparmor_fields_as_annotations(pod: &SimPod) -> SimPod {
    let mut pod = pod.clone();
    let pod_profile = pod.spec.security_context.as_ref().and_then(|s| s.app_armor_profile.clone());
    for c in pod.spec.all_containers() {
        let key = format!("{}{}", crate::model::pod::APPARMOR_ANNOTATION_PREFIX, c.name);
        let field = c.security_context.as_ref().and_then(|s| s.app_armor_profile.clone());
        if let Some(p) = field.or_else(|| pod_profile.clone())
            && !pod.annotations.contains_key(&key)
        {
            let value = apparmor::annotation_for_field(&p);
            pod.annotations.insert(key, value);
        }
    }
    pod
}
