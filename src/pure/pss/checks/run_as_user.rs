//! `runAsUser` (restricted, v1.23+).
//!
//! Neither the pod nor any container may ask to run as UID 0, unless the pod runs in its own
//! user namespace.
//!
//! **Restricted fields:** `spec.securityContext.runAsUser`,
//! `spec.containers[*].securityContext.runAsUser`,
//! `spec.initContainers[*].securityContext.runAsUser`,
//! `spec.ephemeralContainers[*].securityContext.runAsUser`.
//!
//! **Allowed values:** any non-zero value, undefined/null; from v1.35 any value when
//! `spec.hostUsers` is `false`.
//!
//! **Implementations:** v1.23; v1.35 admits pods with `hostUsers: false` and otherwise behaves
//! as v1.23.

use crate::model::level::Level;
use crate::pss::checks::{containers_where, in_user_namespace};
use crate::pss::msg::{detail, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "runAsUser",
    control: "Running as Non-root user",
    summary: "The pod and containers must not set runAsUser to 0 (from v1.23; relaxed in a user namespace from v1.35).",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { min: 23, check: run_as_user_v1_23, overrides: &[] },
        VersionedCheck { min: 35, check: run_as_user_v1_35, overrides: &[] },
    ],
};

fn run_as_user_v1_23(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_root = pod.spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0);
    let containers = containers_where(pod.spec, |c| {
        c.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0)
    });
    if !pod_root && containers.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        "runAsUser=0",
        detail!("{} must not set runAsUser=0", subjects(pod_root, &containers, &[])),
    ))
}

fn run_as_user_v1_35(pod: &PodView<'_>) -> Option<Forbidden> {
    if in_user_namespace(pod.spec) {
        return None;
    }
    run_as_user_v1_23(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("runAsUser=0", detail))
    }

    /// Upstream's cases, at both implementations.
    #[test]
    fn upstream_cases() {
        let cases = [
            (
                PodBuilder::new().pod_sc(|s| s.run_as_user = Some(0)).container("a", |_| {}),
                forbidden("pod must not set runAsUser=0"),
            ),
            (PodBuilder::new().pod_sc(|s| s.run_as_user = Some(1000)).container("a", |_| {}), None),
            (PodBuilder::new().pod_sc(|s| s.run_as_user = None).container("a", |_| {}), None),
            (
                PodBuilder::new()
                    .pod_sc(|s| s.run_as_user = Some(1000))
                    .container("a", |_| {})
                    .container("b", |c| {
                        sc(c);
                    })
                    .container("c", |c| sc(c).run_as_user = Some(0))
                    .container("d", |c| sc(c).run_as_user = Some(0))
                    .container("e", |c| sc(c).run_as_user = Some(1))
                    .container("f", |c| sc(c).run_as_user = Some(1)),
                forbidden(r#"containers "c", "d" must not set runAsUser=0"#),
            ),
            (
                PodBuilder::new()
                    .container("c", |c| sc(c).run_as_user = Some(1))
                    .container("d", |c| sc(c).run_as_user = Some(2))
                    .container("e", |c| sc(c).run_as_user = Some(3))
                    .container("f", |c| sc(c).run_as_user = Some(4)),
                None,
            ),
            (PodBuilder::new().host_users(false), None),
        ];
        for (i, (pod, expected)) in cases.iter().enumerate() {
            assert_eq!(&run(&CHECK, 35, pod), expected, "case {i} at v1.35");
            assert_eq!(&run(&CHECK, 23, pod), expected, "case {i} at v1.23");
        }
    }

    #[test]
    fn pod_and_containers_including_ephemeral() {
        let pod = PodBuilder::new()
            .pod_sc(|s| s.run_as_user = Some(0))
            .ephemeral_container("e", |c| sc(c).run_as_user = Some(0));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(r#"pod and container "e" must not set runAsUser=0"#)
        );
    }

    #[test]
    fn user_namespace_relaxation_from_v1_35() {
        let pod =
            PodBuilder::new().host_users(false).container("a", |c| sc(c).run_as_user = Some(0));
        assert_eq!(run(&CHECK, 34, &pod), forbidden(r#"container "a" must not set runAsUser=0"#));
        assert_eq!(run(&CHECK, 35, &pod), None);
        let host =
            PodBuilder::new().host_users(true).container("a", |c| sc(c).run_as_user = Some(0));
        assert_eq!(run(&CHECK, 35, &host), forbidden(r#"container "a" must not set runAsUser=0"#));
    }

    #[test]
    fn starts_at_v1_23() {
        assert!(CHECK.at(22).is_none());
        assert!(CHECK.at(23).is_some());
    }
}
