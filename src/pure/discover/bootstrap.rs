//! The ClusterRoles every API server creates at start-up ("bootstrap policy"). An export of a
//! cluster often leaves them out, so a binding to one of them is not a binding to a missing
//! role: the apiserver recreates the role (and reconciles its rules) whenever it starts.
//!
//! The names follow upstream Kubernetes `clusterRoles()` in
//! `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go` (the per-controller
//! `system:controller:*` roles of `controller_policy.go` are not listed).

use crate::discover::rbac::ResolvedRule;
use crate::model::inventory::Inventory;
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Default ClusterRoles of upstream `bootstrappolicy/policy.go`, sorted.
pub const BOOTSTRAP_CLUSTER_ROLES: &[&str] = &[
    "admin",
    "cluster-admin",
    "edit",
    "system:aggregate-to-admin",
    "system:aggregate-to-edit",
    "system:aggregate-to-view",
    "system:auth-delegator",
    "system:basic-user",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver",
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver",
    "system:certificates.k8s.io:legacy-unknown-approver",
    "system:discovery",
    "system:heapster",
    "system:kube-aggregator",
    "system:kube-controller-manager",
    "system:kube-dns",
    "system:kube-scheduler",
    "system:kubelet-api-admin",
    "system:monitoring",
    "system:node",
    "system:node-bootstrapper",
    "system:node-problem-detector",
    "system:node-proxier",
    "system:persistent-volume-provisioner",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
    "system:volume-scheduler",
    "view",
];

/// Whether the apiserver bootstraps a ClusterRole of this name.
pub fn is_bootstrap_cluster_role(name: &str) -> bool {
    BOOTSTRAP_CLUSTER_ROLES.binary_search(&name).is_ok()
}

/// The labels the user-facing roles aggregate: `admin` aggregates ClusterRoles labelled
/// `aggregate-to-admin`, and `edit` (labelled `aggregate-to-admin`) and `view` (labelled
/// `aggregate-to-edit`) too, so each role collects its own label and those below it.
fn aggregated_labels(name: &str) -> &'static [&'static str] {
    const ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
    const EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
    const VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
    match name {
        "admin" => &[ADMIN, EDIT, VIEW],
        "edit" => &[EDIT, VIEW],
        "view" => &[VIEW],
        _ => &[],
    }
}

/// What a bootstrap ClusterRole that is not in the input grants, as far as PSP `use` goes;
/// `None` for any other name (the binding then refers to a missing role).
///
/// * `cluster-admin` grants `*` on `*` in every group, so `use` on every PSP (one rule, index 0).
/// * `admin`, `edit` and `view` are aggregated roles with no PSP rules of their own; they grant
///   what the ClusterRoles in the input carrying their aggregation labels grant.
/// * Every other bootstrap role grants no PSP use (none of their upstream rules names
///   `podsecuritypolicies` or a wildcard resource with the `use` verb).
pub fn missing_role_rules(
    inv: &Inventory,
    name: &str,
    aggregate: impl Fn(&[LabelSelector]) -> Vec<ResolvedRule>,
) -> Option<Vec<ResolvedRule>> {
    if !is_bootstrap_cluster_role(name) {
        return None;
    }
    if name == "cluster-admin" {
        let all = || Some(vec!["*".to_owned()]);
        let rule = PolicyRule {
            api_groups: all(),
            resources: all(),
            verbs: vec!["*".to_owned()],
            resource_names: None,
            non_resource_urls: None,
        };
        return Some(vec![ResolvedRule { index: 0, aggregated_from: None, rule }]);
    }
    let labels = aggregated_labels(name);
    if labels.is_empty() || inv.cluster_roles.is_empty() {
        return Some(Vec::new());
    }
    let selectors: Vec<LabelSelector> = labels
        .iter()
        .map(|l| LabelSelector {
            match_labels: Some([(l.to_string(), "true".to_owned())].into()),
            match_expressions: None,
        })
        .collect();
    Some(aggregate(&selectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_has_the_well_known_roles() {
        assert!(BOOTSTRAP_CLUSTER_ROLES.windows(2).all(|w| w[0] < w[1]));
        for name in ["cluster-admin", "admin", "edit", "view", "system:node", "system:basic-user"] {
            assert!(is_bootstrap_cluster_role(name), "{name}");
        }
        assert!(!is_bootstrap_cluster_role("psp:privileged"));
        assert!(!is_bootstrap_cluster_role("system:coredns"));
    }
}
