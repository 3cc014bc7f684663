//! `allowPrivilegeEscalation` (restricted, v1.8+).
//!
//! Containers must not be able to gain more privileges than their parent process (for example
//! through set-user-ID or set-group-ID binaries), so privilege escalation has to be switched off
//! explicitly.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.allowPrivilegeEscalation`,
//! `spec.initContainers[*].securityContext.allowPrivilegeEscalation`,
//! `spec.ephemeralContainers[*].securityContext.allowPrivilegeEscalation`.
//!
//! **Allowed values:** `false` (unset counts as forbidden).
//!
//! **Implementations:** v1.8 checks every container; v1.25 additionally admits any pod whose
//! `spec.os.name` is `windows`.

use crate::model::level::Level;
use crate::pss::checks::containers_where;
use crate::pss::msg::{containers, detail};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    control: "Privilege Escalation",
    summary: "Containers must set securityContext.allowPrivilegeEscalation to false (Windows pods exempt from v1.25).",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { min: 8, check: allow_privilege_escalation_v1_8, overrides: &[] },
        VersionedCheck { min: 25, check: allow_privilege_escalation_v1_25, overrides: &[] },
    ],
};

fn allow_privilege_escalation_v1_8(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad = containers_where(pod.spec, |c| {
        c.security_context.as_ref().and_then(|s| s.allow_privilege_escalation) != Some(false)
    });
    if bad.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        "allowPrivilegeEscalation != false",
        detail!("{} must set securityContext.allowPrivilegeEscalation=false", containers(&bad)),
    ))
}

fn allow_privilege_escalation_v1_25(pod: &PodView<'_>) -> Option<Forbidden> {
    if pod.spec.is_windows() {
        return None;
    }
    allow_privilege_escalation_v1_8(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("allowPrivilegeEscalation != false", detail))
    }

    /// Upstream's "multiple containers" case, at both implementations.
    #[test]
    fn unset_or_true_is_forbidden() {
        let pod = PodBuilder::new()
            .container("a", |_| {})
            .container("b", |c| sc(c).allow_privilege_escalation = None)
            .container("c", |c| sc(c).allow_privilege_escalation = Some(true))
            .container("d", |c| sc(c).allow_privilege_escalation = Some(false));
        for v in [8, 25, 37] {
            assert_eq!(
                run(&CHECK, v, &pod),
                forbidden(
                    r#"containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false"#
                ),
                "v1.{v}"
            );
        }
    }

    #[test]
    fn ephemeral_and_init_containers_in_visit_order() {
        let pod = PodBuilder::new()
            .ephemeral_container("e", |_| {})
            .container("c", |c| sc(c).allow_privilege_escalation = Some(false))
            .init_container("i", |c| sc(c).allow_privilege_escalation = Some(true));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"containers "i", "e" must set securityContext.allowPrivilegeEscalation=false"#
            )
        );
        let one = PodBuilder::new().ephemeral_container("e", |_| {});
        assert_eq!(
            run(&CHECK, 37, &one),
            forbidden(r#"container "e" must set securityContext.allowPrivilegeEscalation=false"#)
        );
    }

    #[test]
    fn all_false_is_allowed() {
        let pod = PodBuilder::new()
            .init_container("i", |c| sc(c).allow_privilege_escalation = Some(false))
            .container("c", |c| sc(c).allow_privilege_escalation = Some(false))
            .ephemeral_container("e", |c| sc(c).allow_privilege_escalation = Some(false));
        assert_eq!(run(&CHECK, 8, &pod), None);
        assert_eq!(run(&CHECK, 37, &pod), None);
    }

    /// The Windows exemption starts at v1.25 exactly; `linux` and other spellings get no pass.
    #[test]
    fn windows_exemption_from_v1_25() {
        let windows = PodBuilder::new().os("windows").container("a", |_| {});
        let detail = r#"container "a" must set securityContext.allowPrivilegeEscalation=false"#;
        assert_eq!(run(&CHECK, 24, &windows), forbidden(detail));
        assert_eq!(run(&CHECK, 25, &windows), None);
        assert_eq!(run(&CHECK, 37, &windows), None);
        for os in ["linux", "Windows", ""] {
            let pod = PodBuilder::new().os(os).container("a", |_| {});
            assert_eq!(run(&CHECK, 25, &pod), forbidden(detail), "os {os:?}");
        }
    }

    #[test]
    fn starts_at_v1_8() {
        assert!(CHECK.at(7).is_none());
        assert!(CHECK.at(8).is_some());
    }
}
