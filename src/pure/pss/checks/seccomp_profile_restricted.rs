//! `seccompProfile_restricted` (restricted, v1.19+; replaces `seccompProfile_baseline` at the
//! restricted level).
//!
//! A seccomp profile must be in force for every container — the runtime default or a profile
//! loaded on the node — set either for the whole pod or on each container.
//!
//! **Restricted fields:** `spec.securityContext.seccompProfile.type`,
//! `spec.containers[*].securityContext.seccompProfile.type`,
//! `spec.initContainers[*].securityContext.seccompProfile.type`,
//! `spec.ephemeralContainers[*].securityContext.seccompProfile.type`.
//!
//! **Allowed values:** `RuntimeDefault`, `Localhost`; a container may leave it undefined when
//! the pod level sets an allowed type.
//!
//! **Implementations:** v1.19; v1.25 additionally admits any pod whose `spec.os.name` is
//! `windows`. Both override `seccompProfile_baseline`.

use crate::model::level::Level;
use crate::pss::checks::containers_where;
use crate::pss::checks::seccomp_profile_baseline::{
    REASON, container_profile, seccomp_profile_baseline_v1_19, valid_type,
};
use crate::pss::msg::{containers, detail};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "seccompProfile_restricted",
    control: "Seccomp (restricted)",
    summary: "The pod or every container must set the seccomp profile to RuntimeDefault or Localhost (from v1.19; Windows pods exempt from v1.25).",
    level: Level::Restricted,
    versions: &[
        VersionedCheck {
            min: 19,
            check: seccomp_profile_restricted_v1_19,
            overrides: &["seccompProfile_baseline"],
        },
        VersionedCheck {
            min: 25,
            check: seccomp_profile_restricted_v1_25,
            overrides: &["seccompProfile_baseline"],
        },
    ],
};

fn seccomp_profile_restricted_v1_19(pod: &PodView<'_>) -> Option<Forbidden> {
    // Explicitly forbidden types are reported exactly as the baseline check reports them (a
    // forbidden pod-level type also lands here, so it never counts as covering containers).
    if let Some(explicit) = seccomp_profile_baseline_v1_19(pod) {
        return Some(explicit);
    }
    let pod_covers = pod
        .spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
        .is_some_and(valid_type);
    if pod_covers {
        return None;
    }
    let uncovered = containers_where(pod.spec, |c| container_profile(c).is_none());
    if uncovered.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        REASON,
        detail!(
            r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            containers(&uncovered)
        ),
    ))
}

fn seccomp_profile_restricted_v1_25(pod: &PodView<'_>) -> Option<Forbidden> {
    if pod.spec.is_windows() {
        return None;
    }
    seccomp_profile_restricted_v1_19(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::SeccompProfile;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn profile(t: &str) -> Option<SeccompProfile> {
        Some(SeccompProfile { type_: t.to_owned(), localhost_profile: None })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("seccompProfile", detail))
    }

    /// Upstream's cases, at v1.19 and v1.25.
    #[test]
    fn upstream_cases() {
        let cases = [
            (
                PodBuilder::new().container("a", |_| {}),
                r#"pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            ),
            (
                PodBuilder::new()
                    .pod_sc(|s| s.seccomp_profile = profile("Unconfined"))
                    .container("a", |_| {}),
                r#"pod must not set securityContext.seccompProfile.type to "Unconfined""#,
            ),
            (
                PodBuilder::new()
                    .pod_sc(|s| s.seccomp_profile = profile("RuntimeDefault"))
                    .container("a", |_| {})
                    .container("b", |c| {
                        sc(c);
                    })
                    .container("c", |c| sc(c).seccomp_profile = profile("Unconfined"))
                    .container("d", |c| sc(c).seccomp_profile = profile("Unconfined"))
                    .container("e", |c| sc(c).seccomp_profile = profile("RuntimeDefault"))
                    .container("f", |c| sc(c).seccomp_profile = profile("RuntimeDefault")),
                r#"containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined""#,
            ),
            (
                PodBuilder::new()
                    .container("a", |_| {})
                    .container("b", |c| {
                        sc(c);
                    })
                    .container("d", |c| sc(c).seccomp_profile = profile("RuntimeDefault"))
                    .container("e", |c| sc(c).seccomp_profile = profile("RuntimeDefault")),
                r#"pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            ),
        ];
        for (i, (pod, detail)) in cases.iter().enumerate() {
            assert_eq!(run(&CHECK, 19, pod), forbidden(detail), "case {i} at v1.19");
            assert_eq!(run(&CHECK, 25, pod), forbidden(detail), "case {i} at v1.25");
        }
    }

    /// Explicit bad types hide the uncovered containers; pod-level valid type covers all
    /// containers (ephemeral included); containers each setting a valid type pass.
    #[test]
    fn explicit_first_and_coverage() {
        let pod = PodBuilder::new()
            .container("uncovered", |_| {})
            .ephemeral_container("e", |c| sc(c).seccomp_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"container "e" must not set securityContext.seccompProfile.type to "Unconfined""#
            )
        );
        let covered = PodBuilder::new()
            .pod_sc(|s| s.seccomp_profile = profile("Localhost"))
            .init_container("i", |_| {})
            .ephemeral_container("e", |_| {});
        assert_eq!(run(&CHECK, 37, &covered), None);
        let each = PodBuilder::new()
            .container("a", |c| sc(c).seccomp_profile = profile("Localhost"))
            .ephemeral_container("e", |c| sc(c).seccomp_profile = profile("RuntimeDefault"));
        assert_eq!(run(&CHECK, 37, &each), None);
        let ephemeral_uncovered = PodBuilder::new()
            .container("a", |c| sc(c).seccomp_profile = profile("Localhost"))
            .ephemeral_container("e", |_| {});
        assert_eq!(
            run(&CHECK, 37, &ephemeral_uncovered),
            forbidden(
                r#"pod or container "e" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
            )
        );
    }

    /// Upstream's Windows/Linux cases; the exemption starts at v1.25.
    #[test]
    fn windows_exemption_from_v1_25() {
        let windows = PodBuilder::new().os("windows").container("a", |_| {});
        let detail = r#"pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#;
        assert_eq!(run(&CHECK, 24, &windows), forbidden(detail));
        assert_eq!(run(&CHECK, 25, &windows), None);
        let linux = PodBuilder::new().os("linux").container("a", |_| {});
        assert_eq!(run(&CHECK, 25, &linux), forbidden(detail));
    }

    #[test]
    fn starts_at_v1_19() {
        assert!(CHECK.at(18).is_none());
        assert!(CHECK.at(19).is_some());
    }
}
