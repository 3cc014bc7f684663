//! `procMount_restricted` (restricted, v1.35+; replaces `procMount` at the restricted level).
//!
//! The restricted level keeps the default `/proc` masking mandatory even for pods in a user
//! namespace, which the baseline `procMount` check admits from v1.35.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.procMount`,
//! `spec.initContainers[*].securityContext.procMount`,
//! `spec.ephemeralContainers[*].securityContext.procMount`.
//!
//! **Allowed values:** undefined/null, `Default`.
//!
//! **Implementations:** a single v1.35 implementation, which is the unrelaxed v1.0 logic of
//! `procMount` and overrides `procMount`.

use crate::model::level::Level;
use crate::pss::checks::proc_mount::proc_mount_v1_0;
use crate::pss::{Check, VersionedCheck};

pub static CHECK: Check = Check {
    id: "procMount_restricted",
    control: "/proc Mount Type (restricted)",
    summary: "Containers must use the Default /proc mount type, also in a user namespace (from v1.35).",
    level: Level::Restricted,
    versions: &[VersionedCheck { min: 35, check: proc_mount_v1_0, overrides: &["procMount"] }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::Forbidden;
    use crate::pss::testing::{PodBuilder, run, sc};

    /// Upstream's case: forbidden whatever `hostUsers` says.
    #[test]
    fn not_relaxed_by_user_namespaces() {
        let pod = PodBuilder::new()
            .container("a", |_| {})
            .container("b", |c| {
                sc(c);
            })
            .container("c", |c| sc(c).proc_mount = Some("Default".into()))
            .container("d", |c| sc(c).proc_mount = Some("Unmasked".into()))
            .container("e", |c| sc(c).proc_mount = Some("other".into()));
        let expected = Some(Forbidden::new(
            "procMount",
            r#"containers "d", "e" must not set securityContext.procMount to "Unmasked", "other""#,
        ));
        for host_users in [true, false] {
            assert_eq!(run(&CHECK, 35, &pod.clone().host_users(host_users)), expected);
        }
        assert_eq!(run(&CHECK, 37, &pod), expected);
    }

    #[test]
    fn starts_at_v1_35() {
        assert!(CHECK.at(34).is_none());
        let ok = PodBuilder::new().container("a", |c| sc(c).proc_mount = Some("Default".into()));
        assert_eq!(run(&CHECK, 35, &ok), None);
    }
}
