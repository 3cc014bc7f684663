//! Findings: facts about a cluster that a reviewer must see (a binding to a missing role, a PSP
//! nobody can use, a workload that would be rejected). They are data with stable codes, never
//! errors; the exit code reflects them through a threshold.
//!
//! Every code is listed once in [`Code`], with a one-line description; a unit test keeps the list
//! unique and snapshotted so that adding, renaming or removing a code shows up in review.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::model::inventory::Provenance;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

macro_rules! codes {
    ($($variant:ident => $code:literal, $severity:ident, $desc:literal;)*) => {
        /// Stable finding codes (kebab-case). Never reuse a retired code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    PspInvalidValue => "psp-invalid-value", Warning, "A PodSecurityPolicy field or annotation holds a value the PSP API rejects or does not recognise (unknown rule, volume type or profile); the mapping ignores it.";
    PspNotUsable => "psp-not-usable", Warning, "No RBAC grant in the input names this PodSecurityPolicy or reaches pods with it (at most, holders of use on every PSP such as cluster-admin can use it): a clean-up candidate, or the grant is broken.";
    RbacBindingMissingRole => "rbac-binding-missing-role", Warning, "A RoleBinding or ClusterRoleBinding refers to a Role or ClusterRole that is not in the input (ClusterRoles the API server bootstraps, such as cluster-admin or view, excepted); whatever it would grant (PSP use included) is unknown.";
    RbacBindingInvalidRoleRef => "rbac-binding-invalid-role-ref", Warning, "A binding's roleRef has a kind that cannot be bound there (e.g. a ClusterRoleBinding to a Role); it grants nothing.";
    RbacSubjectMissingNamespace => "rbac-subject-missing-namespace", Warning, "A ServiceAccount subject of a ClusterRoleBinding names no namespace; it matches no service account.";
    RbacPspResourceTypo => "rbac-psp-resource-typo", Warning, "A rule with the use verb names a resource that looks like podsecuritypolicies but is not (podsecuritypolicy, psp, …); it grants nothing.";
    RbacPspVerbTypo => "rbac-psp-verb-typo", Warning, "A rule on podsecuritypolicies has a verb that looks like use but is not (Use, uses, …); it grants no use.";
    RbacPspApiGroupMismatch => "rbac-psp-api-group-mismatch", Warning, "A rule grants use on podsecuritypolicies but not in the policy or extensions API group; it grants nothing.";
    RbacGrantUnknownPsp => "rbac-grant-unknown-psp", Warning, "A rule grants use on a PodSecurityPolicy, by name, that is not in the input.";
    RbacGrantAllPsps => "rbac-grant-all-psps", Info, "A bound rule grants use on every PodSecurityPolicy (no resourceNames, or wildcards), so new PSPs such as the clones of migration step 2 are usable at once.";
    RbacPspRoleUnbound => "rbac-psp-role-unbound", Info, "A Role or ClusterRole grants use on PodSecurityPolicies but no binding in the input refers to it.";
    RbacGrantReachesControllers => "rbac-grant-reaches-controllers", Warning, "A cluster-wide grant reaches kube-system service accounts, which controllers create pods as: controller-created pods in every namespace may use the PSP.";
    PodPspNotUsableBySa => "pod-psp-not-usable-by-sa", Warning, "A pod was admitted by a PSP that neither its service account nor every authenticated user may use (a user created it, or RBAC changed since); a re-created pod may get another PSP.";
    PodPspAnnotationMismatch => "pod-psp-annotation-mismatch", Warning, "A pod's kubernetes.io/psp annotation names a PSP it may use, but the simulated PSP admission plugin would choose another PSP (or reject it) today: a re-created pod gets a different PSP, and possibly different defaults.";
    PodPspUnknown => "pod-psp-unknown", Warning, "A pod's kubernetes.io/psp annotation names a PodSecurityPolicy that is not in the input.";
    PodOwnerMissing => "pod-owner-missing", Warning, "A pod's controller (ownerReferences) is not in the input, so its template cannot be compared.";
    PodOwnerUnknownKind => "pod-owner-unknown-kind", Info, "A pod's controller is a kind without a known pod template (a Node for static pods, a custom resource), so it is not compared.";
    WorkloadReliesOnPspMutation => "workload-relies-on-psp-mutation", Warning, "Pods differ from their workload's template on fields the admitting PSP mutates; without PSP they will be created as the template says.";
    WorkloadMutatedOutsidePsp => "workload-mutated-outside-psp", Info, "Pods differ from their template but the admitting PSP mutates nothing: another mutating webhook, or a template change since, made the difference.";
    PlanExemptControllerUser => "plan-exempt-controller-user", Warning, "An exempted username is a workload controller's service account: every pod its workloads create skips Pod Security, so anyone who can create such a workload bypasses it.";
    PlanUnknownExemptNamespace => "plan-unknown-exempt-namespace", Warning, "A namespace given to --exempt-namespace is not in the input (a typo, or it does not exist yet).";
    InputDuplicateObject => "input-duplicate-object", Warning, "The same object (kind, namespace, name) appears more than once in the input; the last one is kept, as kubectl apply would, and counted once.";
    PlanNamespaceNotInInput => "plan-namespace-not-in-input", Info, "A namespace is referenced (by bindings, subjects, objects or -n) but its Namespace object is not in the input: it is listed under not_planned and never labelled.";
    PlanPartialCoverage => "plan-partial-coverage", Warning, "The input does not prove that every pod, workload, RBAC object or PSP of a planned namespace was read (a plain manifest set, or a kind that could not be listed): its plan is partial and apply refuses it without --force.";
    PlanLoosens => "plan-loosens", Warning, "A namespace's enforce level is less restrictive than what its pods and workloads already pass (pods_level), because a PSP usable there allowed more; --tighten enforces pods_level instead.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The object a finding is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.into(), namespace: namespace.map(Into::into), name: name.into() }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub object: ObjectRef,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Provenance>,
}

impl Finding {
    pub fn new(code: Code, object: ObjectRef, message: impl Into<String>) -> Finding {
        Finding { code, severity: code.severity(), object, message: message.into(), source: None }
    }

    pub fn with_source(mut self, source: &Provenance) -> Finding {
        self.source = Some(source.clone());
        self
    }
}

/// Sorts findings for output: by object, then code, then message.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (&a.object, a.code, &a.message).cmp(&(&b.object, b.code, &b.message)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code is unique, kebab-case, described, and the full list is reviewed on change.
    #[test]
    fn codes_unique() {
        let mut seen = std::collections::BTreeSet::new();
        let mut listing = String::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{c}");
            assert!(!c.description().is_empty());
            listing.push_str(&format!(
                "{} ({:?}): {}\n",
                c.as_str(),
                c.severity(),
                c.description()
            ));
        }
        insta::assert_snapshot!(listing);
    }
}
