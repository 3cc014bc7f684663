//! `seccompProfile_baseline` (baseline, v1.0+; replaced at the restricted level from v1.19 by
//! `seccompProfile_restricted`).
//!
//! A seccomp profile, where one is given, must be the runtime default or a profile loaded on
//! the node; running unconfined is forbidden.
//!
//! **Restricted fields (v1.0–v1.18):**
//! `metadata.annotations['seccomp.security.alpha.kubernetes.io/pod']`,
//! `metadata.annotations['container.seccomp.security.alpha.kubernetes.io/*']` (for containers of
//! the pod).
//!
//! **Allowed values (v1.0–v1.18):** `runtime/default`, `docker/default`, `localhost/*`,
//! undefined.
//!
//! **Restricted fields (v1.19+):** `spec.securityContext.seccompProfile.type`,
//! `spec.containers[*].securityContext.seccompProfile.type`,
//! `spec.initContainers[*].securityContext.seccompProfile.type`,
//! `spec.ephemeralContainers[*].securityContext.seccompProfile.type`.
//!
//! **Allowed values (v1.19+):** `RuntimeDefault`, `Localhost`, undefined.
//!
//! **Implementations:** v1.0 reads the alpha annotations; v1.19 ignores them and reads the
//! fields.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::model::level::Level;
use crate::model::pod::{
    Container, SECCOMP_CONTAINER_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION, SeccompProfile,
};
use crate::pss::checks::containers_where;
use crate::pss::msg::{annotation_entry, detail, joined, pluralize, quoted, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "seccompProfile_baseline",
    control: "Seccomp",
    summary: "The seccomp profile (field, or annotations before v1.19) must not be Unconfined.",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { min: 0, check: seccomp_profile_baseline_v1_0, overrides: &[] },
        VersionedCheck { min: 19, check: seccomp_profile_baseline_v1_19, overrides: &[] },
    ],
};

pub(super) const REASON: &str = "seccompProfile";

fn allowed_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

fn seccomp_profile_baseline_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_entry = pod
        .annotations
        .get_key_value(SECCOMP_POD_ANNOTATION)
        .filter(|(_, v)| !allowed_annotation(v));
    // Container annotations count only for containers the pod has. Walking the annotations
    // (rather than building one key per container) keeps the allowed path allocation-free.
    let container_entries = pod
        .annotations
        .range::<str, _>((Bound::Included(SECCOMP_CONTAINER_ANNOTATION_PREFIX), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(SECCOMP_CONTAINER_ANNOTATION_PREFIX))
        .filter(|(k, v)| {
            let name = &k[SECCOMP_CONTAINER_ANNOTATION_PREFIX.len()..];
            !allowed_annotation(v) && pod.spec.all_containers().any(|c| c.name == name)
        });
    if pod_entry.is_none() && container_entries.clone().next().is_none() {
        return None;
    }
    let entries: BTreeSet<String> = pod_entry
        .into_iter()
        .chain(container_entries)
        .map(|(k, v)| annotation_entry(k, v))
        .collect();
    Some(Forbidden::new(
        REASON,
        detail!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", entries.len()),
            joined(&entries, ", ")
        ),
    ))
}

/// `RuntimeDefault` or `Localhost`.
pub(super) fn valid_type(p: &SeccompProfile) -> bool {
    matches!(p.type_.as_str(), "RuntimeDefault" | "Localhost")
}

pub(super) fn container_profile(c: &Container) -> Option<&SeccompProfile> {
    c.security_context.as_ref()?.seccomp_profile.as_ref()
}

/// The v1.19 field check, which `seccompProfile_restricted` also runs first: the pod and the
/// containers that explicitly set a type other than `RuntimeDefault`/`Localhost`.
pub(super) fn seccomp_profile_baseline_v1_19(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_profile = pod.spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref());
    let pod_bad = pod_profile.is_some_and(|p| !valid_type(p));
    let containers =
        containers_where(pod.spec, |c| container_profile(c).is_some_and(|p| !valid_type(p)));
    if !pod_bad && containers.is_empty() {
        return None;
    }
    let types: BTreeSet<&str> = pod_profile
        .into_iter()
        .chain(pod.spec.all_containers().filter_map(container_profile))
        .filter(|p| !valid_type(p))
        .map(|p| p.type_.as_str())
        .collect();
    Some(Forbidden::new(
        REASON,
        detail!(
            "{} must not set securityContext.seccompProfile.type to {}",
            subjects(pod_bad, &containers, &[]),
            quoted(&types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    const C: &str = SECCOMP_CONTAINER_ANNOTATION_PREFIX;

    fn profile(t: &str) -> Option<SeccompProfile> {
        Some(SeccompProfile { type_: t.to_owned(), localhost_profile: None })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new(REASON, detail))
    }

    fn abc() -> PodBuilder {
        PodBuilder::new().container("a", |_| {}).container("b", |_| {}).container("c", |_| {})
    }

    /// Upstream's v1.0 cases.
    #[test]
    fn annotations_v1_0() {
        let pod_only = PodBuilder::new().annotation(SECCOMP_POD_ANNOTATION, "unconfined");
        assert_eq!(
            run(&CHECK, 0, &pod_only),
            forbidden(
                r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#
            )
        );
        let containers = abc()
            .annotation(&format!("{C}a"), "unconfined")
            .annotation(&format!("{C}b"), "unknown");
        assert_eq!(
            run(&CHECK, 0, &containers),
            forbidden(concat!(
                r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", "#,
                r#"container.seccomp.security.alpha.kubernetes.io/b="unknown""#
            ))
        );
        let both = containers.annotation(SECCOMP_POD_ANNOTATION, "unconfined");
        assert_eq!(
            run(&CHECK, 18, &both),
            forbidden(concat!(
                r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", "#,
                r#"container.seccomp.security.alpha.kubernetes.io/b="unknown", "#,
                r#"seccomp.security.alpha.kubernetes.io/pod="unconfined""#
            ))
        );
    }

    /// Only annotations of existing containers (ephemeral included) count; an empty value is
    /// forbidden; allowed values pass.
    #[test]
    fn annotation_details_v1_0() {
        let pod = PodBuilder::new()
            .container("a", |_| {})
            .ephemeral_container("e", |_| {})
            .annotation(&format!("{C}missing"), "unconfined")
            .annotation(&format!("{C}a"), "runtime/default")
            .annotation(&format!("{C}e"), "");
        assert_eq!(
            run(&CHECK, 0, &pod),
            forbidden(
                r#"forbidden annotation container.seccomp.security.alpha.kubernetes.io/e="""#
            )
        );
        let ok = PodBuilder::new()
            .container("a", |_| {})
            .init_container("i", |_| {})
            .annotation(SECCOMP_POD_ANNOTATION, "docker/default")
            .annotation(&format!("{C}a"), "localhost/profile.json")
            .annotation(&format!("{C}i"), "runtime/default");
        assert_eq!(run(&CHECK, 0, &ok), None);
        let empty_pod = PodBuilder::new().annotation(SECCOMP_POD_ANNOTATION, "");
        assert_eq!(
            run(&CHECK, 0, &empty_pod),
            forbidden(r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="""#)
        );
    }

    /// Upstream's v1.19 cases.
    #[test]
    fn fields_v1_19() {
        let pod_bad = PodBuilder::new()
            .pod_sc(|s| s.seccomp_profile = profile("Unconfined"))
            .container("a", |_| {});
        assert_eq!(
            run(&CHECK, 19, &pod_bad),
            forbidden(r#"pod must not set securityContext.seccompProfile.type to "Unconfined""#)
        );
        let with_containers = |pod_type: &str| {
            PodBuilder::new()
                .pod_sc(|s| s.seccomp_profile = profile(pod_type))
                .container("a", |_| {})
                .container("b", |c| {
                    sc(c);
                })
                .container("c", |c| sc(c).seccomp_profile = profile("Unconfined"))
                .container("d", |c| sc(c).seccomp_profile = profile("Unconfined"))
                .container("e", |c| sc(c).seccomp_profile = profile("RuntimeDefault"))
                .container("f", |c| sc(c).seccomp_profile = profile("RuntimeDefault"))
        };
        assert_eq!(
            run(&CHECK, 19, &with_containers("RuntimeDefault")),
            forbidden(
                r#"containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined""#
            )
        );
        assert_eq!(
            run(&CHECK, 19, &with_containers("Unconfined")),
            forbidden(
                r#"pod and containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined""#
            )
        );
    }

    /// Baseline does not require a profile; distinct types are sorted; ephemeral counts.
    #[test]
    fn fields_details() {
        assert_eq!(run(&CHECK, 37, &PodBuilder::new().container("a", |_| {})), None);
        let pod = PodBuilder::new()
            .ephemeral_container("e", |c| sc(c).seccomp_profile = profile("Unconfined"))
            .init_container("i", |c| sc(c).seccomp_profile = profile(""));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"containers "i", "e" must not set securityContext.seccompProfile.type to "", "Unconfined""#
            )
        );
    }

    /// v1.18 reads annotations only, v1.19 fields only.
    #[test]
    fn boundary_v1_18_v1_19() {
        let annotated = PodBuilder::new().annotation(SECCOMP_POD_ANNOTATION, "unconfined");
        assert!(run(&CHECK, 18, &annotated).is_some());
        assert_eq!(run(&CHECK, 19, &annotated), None);
        let field = PodBuilder::new().pod_sc(|s| s.seccomp_profile = profile("Unconfined"));
        assert_eq!(run(&CHECK, 18, &field), None);
        assert!(run(&CHECK, 19, &field).is_some());
    }
}
