//! `runAsNonRoot` (restricted, v1.0+).
//!
//! Containers must be required to run as a non-root user, unless the pod runs in its own user
//! namespace.
//!
//! **Restricted fields:** `spec.securityContext.runAsNonRoot`,
//! `spec.containers[*].securityContext.runAsNonRoot`,
//! `spec.initContainers[*].securityContext.runAsNonRoot`,
//! `spec.ephemeralContainers[*].securityContext.runAsNonRoot`.
//!
//! **Allowed values:** `true`; undefined/null at container level when the pod level is `true`;
//! from v1.35 any value when `spec.hostUsers` is `false`.
//!
//! **Implementations:** v1.0; v1.35 admits pods with `hostUsers: false` and otherwise behaves as
//! v1.0.

use crate::model::level::Level;
use crate::pss::checks::{containers_where, in_user_namespace};
use crate::pss::msg::{containers, detail, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "runAsNonRoot",
    control: "Running as Non-root",
    summary: "The pod or every container must set runAsNonRoot to true, and none may set it to false (relaxed in a user namespace from v1.35).",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { min: 0, check: run_as_non_root_v1_0, overrides: &[] },
        VersionedCheck { min: 35, check: run_as_non_root_v1_35, overrides: &[] },
    ],
};

const REASON: &str = "runAsNonRoot != true";

fn run_as_non_root_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_setting = pod.spec.security_context.as_ref().and_then(|s| s.run_as_non_root);
    let setting = |c: &crate::model::pod::Container| {
        c.security_context.as_ref().and_then(|s| s.run_as_non_root)
    };
    // Explicit `false` anywhere is reported alone.
    let explicit = containers_where(pod.spec, |c| setting(c) == Some(false));
    let pod_false = pod_setting == Some(false);
    if pod_false || !explicit.is_empty() {
        return Some(Forbidden::new(
            REASON,
            detail!(
                "{} must not set securityContext.runAsNonRoot=false",
                subjects(pod_false, &explicit, &[])
            ),
        ));
    }
    if pod_setting == Some(true) {
        return None;
    }
    let implicit = containers_where(pod.spec, |c| setting(c).is_none());
    if implicit.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        REASON,
        detail!("pod or {} must set securityContext.runAsNonRoot=true", containers(&implicit)),
    ))
}

fn run_as_non_root_v1_35(pod: &PodView<'_>) -> Option<Forbidden> {
    if in_user_namespace(pod.spec) {
        return None;
    }
    run_as_non_root_v1_0(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new(REASON, detail))
    }

    /// Upstream's cases (run against v1.35, and the same results at v1.0).
    #[test]
    fn upstream_cases() {
        let cases = [
            (
                PodBuilder::new().container("a", |_| {}),
                forbidden(r#"pod or container "a" must set securityContext.runAsNonRoot=true"#),
            ),
            (
                PodBuilder::new()
                    .pod_sc(|s| s.run_as_non_root = Some(false))
                    .container("a", |_| {}),
                forbidden("pod must not set securityContext.runAsNonRoot=false"),
            ),
            (
                PodBuilder::new()
                    .pod_sc(|s| s.run_as_non_root = Some(true))
                    .container("a", |_| {})
                    .container("b", |c| {
                        sc(c);
                    })
                    .container("c", |c| sc(c).run_as_non_root = Some(false))
                    .container("d", |c| sc(c).run_as_non_root = Some(false))
                    .container("e", |c| sc(c).run_as_non_root = Some(true))
                    .container("f", |c| sc(c).run_as_non_root = Some(true)),
                forbidden(r#"containers "c", "d" must not set securityContext.runAsNonRoot=false"#),
            ),
            (
                PodBuilder::new()
                    .container("a", |_| {})
                    .container("b", |c| {
                        sc(c);
                    })
                    .container("d", |c| sc(c).run_as_non_root = Some(true))
                    .container("e", |c| sc(c).run_as_non_root = Some(true)),
                forbidden(
                    r#"pod or containers "a", "b" must set securityContext.runAsNonRoot=true"#,
                ),
            ),
        ];
        for (i, (pod, expected)) in cases.iter().enumerate() {
            assert_eq!(&run(&CHECK, 35, pod), expected, "case {i} at v1.35");
            assert_eq!(&run(&CHECK, 0, pod), expected, "case {i} at v1.0");
        }
    }

    /// Pod-level `false` plus container `false`: both subjects, implicit ones not listed.
    #[test]
    fn pod_and_containers_false() {
        let pod = PodBuilder::new()
            .pod_sc(|s| s.run_as_non_root = Some(false))
            .container("implicit", |_| {})
            .init_container("i", |c| sc(c).run_as_non_root = Some(false))
            .ephemeral_container("e", |c| sc(c).run_as_non_root = Some(false));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"pod and containers "i", "e" must not set securityContext.runAsNonRoot=false"#
            )
        );
    }

    /// `runAsUser` is not considered: a non-zero UID does not satisfy the check.
    #[test]
    fn run_as_user_is_ignored() {
        let pod = PodBuilder::new()
            .pod_sc(|s| s.run_as_user = Some(1000))
            .ephemeral_container("e", |_| {});
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(r#"pod or container "e" must set securityContext.runAsNonRoot=true"#)
        );
        let ok =
            PodBuilder::new().pod_sc(|s| s.run_as_non_root = Some(true)).container("a", |_| {});
        assert_eq!(run(&CHECK, 0, &ok), None);
    }

    /// `hostUsers: false` relaxes the check from v1.35 only (upstream's last case, and the
    /// retroactive tightening of older pins).
    #[test]
    fn user_namespace_relaxation_from_v1_35() {
        let pod = PodBuilder::new().host_users(false).container("a", |_| {});
        let detail = r#"pod or container "a" must set securityContext.runAsNonRoot=true"#;
        assert_eq!(run(&CHECK, 34, &pod), forbidden(detail));
        assert_eq!(run(&CHECK, 35, &pod), None);
        assert_eq!(run(&CHECK, 35, &PodBuilder::new().host_users(false)), None);
        let host = PodBuilder::new().host_users(true).container("a", |_| {});
        assert_eq!(run(&CHECK, 35, &host), forbidden(detail));
    }
}
