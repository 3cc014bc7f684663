//! RBAC subjects as PSP authorization sees them: which identities a binding subject covers.
//!
//! The PSP admission plugin authorizes `use` for two identities: the requesting user (any
//! authenticated requester, controllers included) and the pod's service account. The
//! service-account identity it checks is `system:serviceaccount:<ns>:<name>` with only the groups
//! `system:serviceaccounts` and `system:serviceaccounts:<ns>` — not `system:authenticated`.
//! Every requester, though, is authenticated, so a grant to `system:authenticated` reaches every
//! pod anyway.
//!
//! Pure: no I/O.

use serde::Serialize;

use crate::findings::ObjectRef;

/// Group of every authenticated requester.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Group of every service account.
pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// Prefix of the group of one namespace's service accounts.
pub const NAMESPACE_SERVICE_ACCOUNTS_PREFIX: &str = "system:serviceaccounts:";
/// Prefix of a service account's user name.
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// What a binding subject stands for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Principal {
    /// One service account (a `ServiceAccount` subject, or a `User` subject spelled
    /// `system:serviceaccount:<ns>:<name>`).
    ServiceAccount { namespace: String, name: String },
    /// `system:serviceaccounts`: every service account.
    AllServiceAccounts,
    /// `system:serviceaccounts:<ns>`: the service accounts of one namespace.
    NamespaceServiceAccounts { namespace: String },
    /// `system:authenticated`: every requester.
    Authenticated,
    /// Any other user (people, certificates, `system:kube-controller-manager`, …).
    User { name: String },
    /// Any other group (`system:masters`, identity-provider groups, …).
    Group { name: String },
    /// A subject that matches nothing (e.g. a ServiceAccount without a namespace in a
    /// ClusterRoleBinding, or an unknown kind).
    Nothing,
}

impl Principal {
    /// Classifies a binding subject. `binding_namespace` is the RoleBinding's namespace (a
    /// ServiceAccount subject without a namespace means that namespace); `None` for
    /// ClusterRoleBindings.
    pub fn from_subject(
        kind: &str,
        name: &str,
        namespace: Option<&str>,
        binding_namespace: Option<&str>,
    ) -> Principal {
        match kind {
            "ServiceAccount" => match namespace.filter(|n| !n.is_empty()).or(binding_namespace) {
                Some(ns) => {
                    Principal::ServiceAccount { namespace: ns.to_owned(), name: name.to_owned() }
                }
                None => Principal::Nothing,
            },
            "User" => match service_account_user(name) {
                Some((ns, sa)) => {
                    Principal::ServiceAccount { namespace: ns.to_owned(), name: sa.to_owned() }
                }
                None => Principal::User { name: name.to_owned() },
            },
            "Group" => match name {
                AUTHENTICATED => Principal::Authenticated,
                ALL_SERVICE_ACCOUNTS => Principal::AllServiceAccounts,
                _ => match name.strip_prefix(NAMESPACE_SERVICE_ACCOUNTS_PREFIX) {
                    Some(ns) if !ns.is_empty() => {
                        Principal::NamespaceServiceAccounts { namespace: ns.to_owned() }
                    }
                    _ => Principal::Group { name: name.to_owned() },
                },
            },
            _ => Principal::Nothing,
        }
    }

    /// Whether the service-account identity `<ns>/<name>` is covered (as PSP checks the pod's
    /// service account: user name plus the two service-account groups, without
    /// `system:authenticated`).
    pub fn covers_service_account(&self, ns: &str, name: &str) -> bool {
        match self {
            Principal::ServiceAccount { namespace, name: n } => namespace == ns && n == name,
            Principal::AllServiceAccounts => true,
            Principal::NamespaceServiceAccounts { namespace } => namespace == ns,
            _ => false,
        }
    }

    /// Whether every requester is covered (`system:authenticated`).
    pub fn is_every_requester(&self) -> bool {
        matches!(self, Principal::Authenticated)
    }

    /// Whether the subject can only matter as the requester of a pod in `ns`: named users,
    /// other groups, and service accounts of other namespaces (they may create pods in `ns`, but
    /// pods in `ns` never run as them).
    pub fn is_requester_only_in(&self, ns: &str) -> bool {
        match self {
            Principal::User { .. } | Principal::Group { .. } => true,
            Principal::ServiceAccount { namespace, .. }
            | Principal::NamespaceServiceAccounts { namespace } => namespace != ns,
            _ => false,
        }
    }

    /// Whether the subject includes service accounts of `kube-system` that controllers create
    /// pods as (`*-controller`), or the whole `kube-system` service-account group.
    pub fn reaches_controllers(&self) -> bool {
        match self {
            Principal::NamespaceServiceAccounts { namespace } => namespace == "kube-system",
            Principal::ServiceAccount { namespace, name } => {
                namespace == "kube-system" && name.ends_with("-controller")
            }
            _ => false,
        }
    }
}

/// Splits `system:serviceaccount:<ns>:<name>` into namespace and name.
pub fn service_account_user(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The subject as printed in reports: kind, namespace (ServiceAccount only, defaulted from a
/// RoleBinding's namespace) and name.
pub fn subject_ref(
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    binding_namespace: Option<&str>,
) -> ObjectRef {
    let ns = if kind == "ServiceAccount" {
        namespace.filter(|n| !n.is_empty()).or(binding_namespace)
    } else {
        None
    };
    ObjectRef::new(kind, ns, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: &str, name: &str, ns: Option<&str>, binding_ns: Option<&str>) -> Principal {
        Principal::from_subject(kind, name, ns, binding_ns)
    }

    #[test]
    fn subjects_table() {
        struct Case {
            subject: Principal,
            sa_in_a: bool,
            every: bool,
            requester_only_in_a: bool,
        }
        let cases = [
            // SA subject with its namespace.
            Case {
                subject: p("ServiceAccount", "x", Some("a"), None),
                sa_in_a: true,
                every: false,
                requester_only_in_a: false,
            },
            // SA subject without namespace in a RoleBinding of namespace a.
            Case {
                subject: p("ServiceAccount", "x", None, Some("a")),
                sa_in_a: true,
                every: false,
                requester_only_in_a: false,
            },
            // SA subject without namespace in a ClusterRoleBinding matches nothing.
            Case {
                subject: p("ServiceAccount", "x", None, None),
                sa_in_a: false,
                every: false,
                requester_only_in_a: false,
            },
            // SA of another namespace: only as a requester.
            Case {
                subject: p("ServiceAccount", "x", Some("b"), Some("a")),
                sa_in_a: false,
                every: false,
                requester_only_in_a: true,
            },
            // The SA's user name.
            Case {
                subject: p("User", "system:serviceaccount:a:x", None, None),
                sa_in_a: true,
                every: false,
                requester_only_in_a: false,
            },
            Case {
                subject: p("User", "alice", None, None),
                sa_in_a: false,
                every: false,
                requester_only_in_a: true,
            },
            Case {
                subject: p("Group", "system:serviceaccounts", None, None),
                sa_in_a: true,
                every: false,
                requester_only_in_a: false,
            },
            Case {
                subject: p("Group", "system:serviceaccounts:a", None, None),
                sa_in_a: true,
                every: false,
                requester_only_in_a: false,
            },
            Case {
                subject: p("Group", "system:serviceaccounts:b", None, None),
                sa_in_a: false,
                every: false,
                requester_only_in_a: true,
            },
            Case {
                subject: p("Group", "system:authenticated", None, None),
                sa_in_a: false,
                every: true,
                requester_only_in_a: false,
            },
            Case {
                subject: p("Group", "system:masters", None, None),
                sa_in_a: false,
                every: false,
                requester_only_in_a: true,
            },
            Case {
                subject: p("Robot", "r2", None, None),
                sa_in_a: false,
                every: false,
                requester_only_in_a: false,
            },
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(
                c.subject.covers_service_account("a", "x"),
                c.sa_in_a,
                "case {i}: {:?}",
                c.subject
            );
            assert_eq!(c.subject.is_every_requester(), c.every, "case {i}");
            assert_eq!(c.subject.is_requester_only_in("a"), c.requester_only_in_a, "case {i}");
        }
        assert!(!p("ServiceAccount", "y", Some("a"), None).covers_service_account("a", "x"));
        assert_eq!(service_account_user("system:serviceaccount:a:b:c"), None);
        assert!(p("Group", "system:serviceaccounts:kube-system", None, None).reaches_controllers());
        assert!(
            p("ServiceAccount", "replicaset-controller", Some("kube-system"), None)
                .reaches_controllers()
        );
    }
}
