//! `appArmorProfile` (baseline, v1.0+).
//!
//! The runtime's default AppArmor profile must not be overridden with an unconfined or other
//! arbitrary profile; only the runtime default or a profile loaded on the node is acceptable.
//!
//! **Restricted fields:**
//! `metadata.annotations['container.apparmor.security.beta.kubernetes.io/*']`;
//! `spec.securityContext.appArmorProfile.type`,
//! `spec.containers[*].securityContext.appArmorProfile.type`,
//! `spec.initContainers[*].securityContext.appArmorProfile.type`,
//! `spec.ephemeralContainers[*].securityContext.appArmorProfile.type`.
//!
//! **Allowed values:** annotations: empty, `runtime/default`, `localhost/*`, undefined;
//! fields: `RuntimeDefault`, `Localhost`, undefined.
//!
//! **Implementations:** a single v1.0 implementation. The field part was added upstream to the
//! v1.0 implementation (1.30 library), so it applies at every policy version.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::model::level::Level;
use crate::model::pod::{APPARMOR_ANNOTATION_PREFIX, AppArmorProfile, Container};
use crate::pss::checks::containers_where;
use crate::pss::msg::{annotation_entry, detail, pluralize, quoted, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "appArmorProfile",
    control: "AppArmor",
    summary: "The AppArmor profile (field or deprecated annotation) must not be unconfined: only the runtime default or a localhost profile.",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: app_armor_profile_v1_0, overrides: &[] }],
};

/// A field profile that is present but of a type other than `RuntimeDefault`/`Localhost`.
fn bad_field(p: Option<&AppArmorProfile>) -> bool {
    p.is_some_and(|p| !matches!(p.type_.as_str(), "RuntimeDefault" | "Localhost"))
}

fn container_profile(c: &Container) -> Option<&AppArmorProfile> {
    c.security_context.as_ref()?.app_armor_profile.as_ref()
}

fn allowed_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

fn app_armor_profile_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let pod_profile = pod.spec.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref());
    let pod_bad = bad_field(pod_profile);
    let bad_containers = containers_where(pod.spec, |c| bad_field(container_profile(c)));
    let bad_annotations = pod
        .annotations
        .range::<str, _>((Bound::Included(APPARMOR_ANNOTATION_PREFIX), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(APPARMOR_ANNOTATION_PREFIX))
        .filter(|(_, v)| !allowed_annotation(v));
    if !pod_bad && bad_containers.is_empty() && bad_annotations.clone().next().is_none() {
        return None;
    }

    // Distinct bad field types first, then every bad annotation as `key="value"`, sorted.
    let mut types: BTreeSet<&str> = BTreeSet::new();
    if pod_bad {
        types.extend(pod_profile.map(|p| p.type_.as_str()));
    }
    types.extend(
        pod.spec
            .all_containers()
            .filter_map(container_profile)
            .filter(|p| bad_field(Some(p)))
            .map(|p| p.type_.as_str()),
    );
    let mut annotations: Vec<String> =
        bad_annotations.map(|(k, v)| annotation_entry(k, v)).collect();
    annotations.sort();
    let annotation_subject = pluralize("annotation", "annotations", annotations.len());
    let extra: &[&str] = if annotations.is_empty() { &[] } else { &[annotation_subject] };
    let count = types.len() + annotations.len();
    let values = types.iter().copied().chain(annotations.iter().map(String::as_str));
    Some(Forbidden::new(
        pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", count),
        detail!(
            "{} must not set AppArmor profile type to {}",
            subjects(pod_bad, &bad_containers, extra),
            quoted(values)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    const P: &str = APPARMOR_ANNOTATION_PREFIX;

    fn profile(t: &str) -> Option<AppArmorProfile> {
        Some(AppArmorProfile { type_: t.to_owned(), localhost_profile: None })
    }

    /// Upstream's allowed cases.
    #[test]
    fn allowed() {
        let pods = [
            PodBuilder::new()
                .annotation(&format!("{P}test"), "runtime/default")
                .annotation("env", "prod"),
            PodBuilder::new()
                .annotation(&format!("{P}test"), "localhost/sec-profile01")
                .annotation("env", "dev"),
            PodBuilder::new().annotation("env", "dev"),
            PodBuilder::new(),
            PodBuilder::new().pod_sc(|s| s.app_armor_profile = profile("RuntimeDefault")),
            PodBuilder::new().container("foo", |c| sc(c).app_armor_profile = profile("Localhost")),
        ];
        for (i, pod) in pods.iter().enumerate() {
            assert_eq!(run(&CHECK, 0, pod), None, "case {i}");
        }
    }

    /// Upstream's forbidden cases.
    #[test]
    fn forbidden_cases() {
        let unconfined_pod =
            PodBuilder::new().pod_sc(|s| s.app_armor_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 0, &unconfined_pod),
            Some(Forbidden::new(
                "forbidden AppArmor profile",
                r#"pod must not set AppArmor profile type to "Unconfined""#
            ))
        );
        let unconfined_container = PodBuilder::new()
            .pod_sc(|s| s.app_armor_profile = profile("RuntimeDefault"))
            .container("foo", |c| sc(c).app_armor_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 0, &unconfined_container),
            Some(Forbidden::new(
                "forbidden AppArmor profile",
                r#"container "foo" must not set AppArmor profile type to "Unconfined""#
            ))
        );
        let unconfined_init = PodBuilder::new()
            .pod_sc(|s| s.app_armor_profile = profile("RuntimeDefault"))
            .container("foo", |_| {})
            .init_container("bar", |c| sc(c).app_armor_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 0, &unconfined_init),
            Some(Forbidden::new(
                "forbidden AppArmor profile",
                r#"container "bar" must not set AppArmor profile type to "Unconfined""#
            ))
        );
        let annotations = PodBuilder::new()
            .annotation(P, "bogus")
            .annotation(&format!("{P}a"), "")
            .annotation(&format!("{P}b"), "runtime/default")
            .annotation(&format!("{P}c"), "localhost/")
            .annotation(&format!("{P}d"), "localhost/foo")
            .annotation(&format!("{P}e"), "unconfined")
            .annotation(&format!("{P}f"), "unknown");
        assert_eq!(
            run(&CHECK, 0, &annotations),
            Some(Forbidden::new(
                "forbidden AppArmor profiles",
                concat!(
                    r#"annotations must not set AppArmor profile type to "#,
                    r#""container.apparmor.security.beta.kubernetes.io/="bogus"", "#,
                    r#""container.apparmor.security.beta.kubernetes.io/e="unconfined"", "#,
                    r#""container.apparmor.security.beta.kubernetes.io/f="unknown"""#
                )
            ))
        );
    }

    /// Field types: anything but `RuntimeDefault`/`Localhost` is forbidden, including an empty
    /// type and case variants; distinct types are sorted; containers keep visit order and
    /// ephemeral containers count.
    #[test]
    fn field_types_pod_containers_and_annotation_together() {
        let pod = PodBuilder::new()
            .annotation(&format!("{P}x"), "unconfined")
            .pod_sc(|s| s.app_armor_profile = profile("Unconfined"))
            .container("c", |c| sc(c).app_armor_profile = profile("runtimedefault"))
            .container("ok", |c| sc(c).app_armor_profile = profile("Localhost"))
            .container("none", |c| sc(c).app_armor_profile = None)
            .ephemeral_container("e", |c| sc(c).app_armor_profile = profile(""))
            .init_container("i", |c| sc(c).app_armor_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new(
                "forbidden AppArmor profiles",
                concat!(
                    r#"pod and containers "i", "c", "e" and annotation must not set AppArmor "#,
                    r#"profile type to "", "Unconfined", "runtimedefault", "#,
                    r#""container.apparmor.security.beta.kubernetes.io/x="unconfined"""#
                )
            ))
        );
    }

    /// Two containers with the same bad type: one distinct value, so the reason is singular.
    #[test]
    fn reason_counts_distinct_field_types() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).app_armor_profile = profile("Unconfined"))
            .container("b", |c| sc(c).app_armor_profile = profile("Unconfined"));
        assert_eq!(
            run(&CHECK, 37, &pod),
            Some(Forbidden::new(
                "forbidden AppArmor profile",
                r#"containers "a", "b" must not set AppArmor profile type to "Unconfined""#
            ))
        );
    }

    /// The field check is part of v1.0, so it applies at every version (a fixture gap: the
    /// fixtures only use annotations).
    #[test]
    fn field_check_applies_at_every_version() {
        let pod = PodBuilder::new().pod_sc(|s| s.app_armor_profile = profile("Unconfined"));
        for v in [0, 29, 30, 37] {
            assert!(run(&CHECK, v, &pod).is_some(), "v1.{v}");
        }
    }

    /// Annotation values are quoted like Go's `%q`; keys are printed raw.
    #[test]
    fn annotation_values_use_go_quoting() {
        let pod = PodBuilder::new().annotation(&format!("{P}c"), "un\"conf\tined\u{1}");
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new(
                "forbidden AppArmor profile",
                r#"annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="un\"conf\tined\x01"""#
            ))
        );
    }

    /// Entries are sorted as whole `key="value"` strings, not by key.
    #[test]
    fn annotation_entries_sorted_as_strings() {
        let pod =
            PodBuilder::new().annotation(&format!("{P}a"), "x").annotation(&format!("{P}a!"), "y");
        let f = run(&CHECK, 0, &pod).unwrap();
        assert_eq!(
            f.detail,
            concat!(
                r#"annotations must not set AppArmor profile type to "#,
                r#""container.apparmor.security.beta.kubernetes.io/a!="y"", "#,
                r#""container.apparmor.security.beta.kubernetes.io/a="x"""#
            )
        );
    }
}
