//! `procMount` (baseline, v1.0+; replaced at the restricted level from v1.35 by
//! `procMount_restricted`).
//!
//! The default masking of `/proc` reduces what a container can see of the host, so it must not
//! be turned off — unless the pod runs in its own user namespace.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.procMount`,
//! `spec.initContainers[*].securityContext.procMount`,
//! `spec.ephemeralContainers[*].securityContext.procMount`.
//!
//! **Allowed values:** undefined/null, `Default`; from v1.35 any value when `spec.hostUsers` is
//! `false`.
//!
//! **Implementations:** v1.0 forbids any other value unconditionally; v1.35 admits pods with
//! `hostUsers: false` and otherwise behaves as v1.0.

use std::collections::BTreeSet;

use crate::model::level::Level;
use crate::model::pod::Container;
use crate::pss::checks::{containers_where, in_user_namespace};
use crate::pss::msg::{containers, detail, quoted};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "procMount",
    control: "/proc Mount Type",
    summary: "Containers must use the Default /proc mount type (relaxed for pods in a user namespace from v1.35).",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { min: 0, check: proc_mount_v1_0, overrides: &[] },
        VersionedCheck { min: 35, check: proc_mount_v1_35, overrides: &[] },
    ],
};

/// The container's `procMount` when it is set to something other than `Default`.
fn non_default(c: &Container) -> Option<&str> {
    c.security_context.as_ref()?.proc_mount.as_deref().filter(|t| *t != "Default")
}

/// The unconditional check; `procMount_restricted` runs it too.
pub(super) fn proc_mount_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad = containers_where(pod.spec, |c| non_default(c).is_some());
    if bad.is_empty() {
        return None;
    }
    let types: BTreeSet<&str> = pod.spec.all_containers().filter_map(non_default).collect();
    Some(Forbidden::new(
        "procMount",
        detail!(
            "{} must not set securityContext.procMount to {}",
            containers(&bad),
            quoted(&types)
        ),
    ))
}

fn proc_mount_v1_35(pod: &PodView<'_>) -> Option<Forbidden> {
    if in_user_namespace(pod.spec) {
        return None;
    }
    proc_mount_v1_0(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn pod() -> PodBuilder {
        PodBuilder::new()
            .container("a", |_| {})
            .container("b", |c| {
                sc(c);
            })
            .container("c", |c| sc(c).proc_mount = Some("Default".into()))
            .container("d", |c| sc(c).proc_mount = Some("Unmasked".into()))
            .container("e", |c| sc(c).proc_mount = Some("other".into()))
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("procMount", detail))
    }

    const DETAIL: &str =
        r#"containers "d", "e" must not set securityContext.procMount to "Unmasked", "other""#;

    /// Upstream's cases: forbidden with `hostUsers: true`, allowed with `false` (v1.35+).
    #[test]
    fn upstream_cases() {
        assert_eq!(run(&CHECK, 35, &pod().host_users(true)), forbidden(DETAIL));
        assert_eq!(run(&CHECK, 35, &pod().host_users(false)), None);
    }

    /// The user-namespace relaxation is not applied before v1.35.
    #[test]
    fn relaxation_starts_at_v1_35() {
        assert_eq!(run(&CHECK, 0, &pod().host_users(false)), forbidden(DETAIL));
        assert_eq!(run(&CHECK, 34, &pod().host_users(false)), forbidden(DETAIL));
        assert_eq!(run(&CHECK, 35, &pod()), forbidden(DETAIL), "hostUsers unset is not relaxed");
        assert_eq!(run(&CHECK, 37, &pod().host_users(false)), None);
    }

    #[test]
    fn single_and_ephemeral() {
        let pod = PodBuilder::new()
            .ephemeral_container("e", |c| sc(c).proc_mount = Some("Unmasked".into()))
            .init_container("i", |c| sc(c).proc_mount = Some("Unmasked".into()));
        assert_eq!(
            run(&CHECK, 0, &pod),
            forbidden(
                r#"containers "i", "e" must not set securityContext.procMount to "Unmasked""#
            )
        );
        let one =
            PodBuilder::new().ephemeral_container("e", |c| sc(c).proc_mount = Some("".into()));
        assert_eq!(
            run(&CHECK, 37, &one),
            forbidden(r#"container "e" must not set securityContext.procMount to """#)
        );
    }
}
