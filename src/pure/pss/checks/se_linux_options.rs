//! `seLinuxOptions` (baseline, v1.0+).
//!
//! The SELinux type may only be one of the container types, and a custom SELinux user or role
//! must not be set.
//!
//! **Restricted fields:** `spec.securityContext.seLinuxOptions.type`,
//! `spec.containers[*].securityContext.seLinuxOptions.type`,
//! `spec.initContainers[*].securityContext.seLinuxOptions.type`,
//! `spec.ephemeralContainers[*].securityContext.seLinuxOptions.type`; the same paths' `.user`
//! and `.role`.
//!
//! **Allowed values:** type: undefined/empty, `container_t`, `container_init_t`,
//! `container_kvm_t`, and from v1.31 `container_engine_t`; user and role: undefined/empty.
//! `level` is not checked.
//!
//! **Implementations:** v1.0; v1.31 also allows the type `container_engine_t`.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::level::Level;
use crate::model::pod::{Container, SeLinuxOptions};
use crate::pss::checks::containers_where;
use crate::pss::msg::{detail_buffer, pluralize, quoted, subjects};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "seLinuxOptions",
    control: "SELinux",
    summary: "SELinux options must not set a custom user or role, and the type only to container_t, container_init_t, container_kvm_t or container_engine_t.",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { min: 0, check: se_linux_options_v1_0, overrides: &[] },
        VersionedCheck { min: 31, check: se_linux_options_v1_31, overrides: &[] },
    ],
};

const TYPES_V1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const TYPES_V1_31: &[&str] =
    &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

fn se_linux_options_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    se_linux_options(pod, TYPES_V1_0)
}

fn se_linux_options_v1_31(pod: &PodView<'_>) -> Option<Forbidden> {
    se_linux_options(pod, TYPES_V1_31)
}

fn bad_type<'a>(o: &'a SeLinuxOptions, allowed: &[&str]) -> Option<&'a str> {
    (!allowed.contains(&o.type_.as_str())).then_some(o.type_.as_str())
}

fn invalid(o: &SeLinuxOptions, allowed: &[&str]) -> bool {
    bad_type(o, allowed).is_some() || !o.user.is_empty() || !o.role.is_empty()
}

fn container_options(c: &Container) -> Option<&SeLinuxOptions> {
    c.security_context.as_ref()?.se_linux_options.as_ref()
}

fn se_linux_options(pod: &PodView<'_>, allowed: &[&str]) -> Option<Forbidden> {
    let pod_opts = pod.spec.security_context.as_ref().and_then(|s| s.se_linux_options.as_ref());
    let pod_bad = pod_opts.is_some_and(|o| invalid(o, allowed));
    let containers =
        containers_where(pod.spec, |c| container_options(c).is_some_and(|o| invalid(o, allowed)));
    if !pod_bad && containers.is_empty() {
        return None;
    }
    let all: Vec<&SeLinuxOptions> = pod_opts
        .into_iter()
        .chain(pod.spec.all_containers().filter_map(container_options))
        .collect();
    let types: BTreeSet<&str> = all.iter().filter_map(|o| bad_type(o, allowed)).collect();
    let mut detail = detail_buffer();
    let _ = write!(
        detail,
        "{} set forbidden securityContext.seLinuxOptions: ",
        subjects(pod_bad, &containers, &[])
    );
    // The parts that apply, in this order, joined by "; ".
    let mut sep = "";
    if !types.is_empty() {
        let _ = write!(detail, "{} {}", pluralize("type", "types", types.len()), quoted(&types));
        sep = "; ";
    }
    if all.iter().any(|o| !o.user.is_empty()) {
        detail.push_str(sep);
        detail.push_str("user may not be set");
        sep = "; ";
    }
    if all.iter().any(|o| !o.role.is_empty()) {
        detail.push_str(sep);
        detail.push_str("role may not be set");
    }
    Some(Forbidden::new("seLinuxOptions", detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn opts(type_: &str, user: &str, role: &str) -> Option<SeLinuxOptions> {
        Some(SeLinuxOptions {
            type_: type_.to_owned(),
            user: user.to_owned(),
            role: role.to_owned(),
            level: String::new(),
        })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("seLinuxOptions", detail))
    }

    fn valid_containers(p: PodBuilder) -> PodBuilder {
        p.container("a", |c| sc(c).se_linux_options = opts("container_t", "", ""))
            .container("b", |c| sc(c).se_linux_options = opts("container_init_t", "", ""))
            .container("c", |c| sc(c).se_linux_options = opts("container_kvm_t", "", ""))
            .container("d", |c| sc(c).se_linux_options = opts("container_engine_t", "", ""))
    }

    fn invalid_containers(p: PodBuilder) -> PodBuilder {
        p.container("e", |c| sc(c).se_linux_options = opts("bar", "", ""))
            .container("f", |c| sc(c).se_linux_options = opts("", "bar", ""))
            .container("g", |c| sc(c).se_linux_options = opts("", "", "baz"))
    }

    /// Upstream's cases (written against v1.31).
    #[test]
    fn upstream_cases() {
        let bad_pod =
            || PodBuilder::new().pod_sc(|s| s.se_linux_options = opts("foo", "bar", "baz"));
        let cases = [
            (
                invalid_containers(valid_containers(bad_pod())),
                r#"pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set"#,
            ),
            (
                valid_containers(bad_pod()),
                r#"pod set forbidden securityContext.seLinuxOptions: type "foo"; user may not be set; role may not be set"#,
            ),
            (
                invalid_containers(valid_containers(
                    PodBuilder::new().pod_sc(|s| s.se_linux_options = opts("", "", "")),
                )),
                r#"containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: type "bar"; user may not be set; role may not be set"#,
            ),
            (
                PodBuilder::new().pod_sc(|s| s.se_linux_options = opts("bad", "", "")),
                r#"pod set forbidden securityContext.seLinuxOptions: type "bad""#,
            ),
            (
                PodBuilder::new().pod_sc(|s| s.se_linux_options = opts("", "bad", "")),
                "pod set forbidden securityContext.seLinuxOptions: user may not be set",
            ),
            (
                PodBuilder::new().pod_sc(|s| s.se_linux_options = opts("", "", "bad")),
                "pod set forbidden securityContext.seLinuxOptions: role may not be set",
            ),
        ];
        for (i, (pod, detail)) in cases.iter().enumerate() {
            assert_eq!(run(&CHECK, 31, pod), forbidden(detail), "case {i}");
        }
    }

    /// `container_engine_t` is forbidden at v1.30 and allowed from v1.31 (no fixture covers it).
    #[test]
    fn container_engine_t_from_v1_31() {
        let pod = PodBuilder::new().ephemeral_container("e", |c| {
            sc(c).se_linux_options = opts("container_engine_t", "", "")
        });
        assert_eq!(
            run(&CHECK, 30, &pod),
            forbidden(
                r#"container "e" set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
            )
        );
        assert_eq!(run(&CHECK, 31, &pod), None);
        assert_eq!(run(&CHECK, 37, &pod), None);
        let others = valid_containers(PodBuilder::new());
        assert_eq!(
            run(&CHECK, 0, &others),
            forbidden(
                r#"container "d" set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
            )
        );
    }

    /// `level` is free; an empty options struct is fine.
    #[test]
    fn level_is_not_checked() {
        let pod = PodBuilder::new()
            .pod_sc(|s| {
                s.se_linux_options =
                    Some(SeLinuxOptions { level: "s0:c123,c456".into(), ..Default::default() })
            })
            .init_container("i", |c| sc(c).se_linux_options = opts("", "", ""));
        assert_eq!(run(&CHECK, 0, &pod), None);
    }

    /// Types are distinct and sorted; containers keep visit order.
    #[test]
    fn distinct_types_visit_order() {
        let pod = PodBuilder::new()
            .ephemeral_container("e", |c| sc(c).se_linux_options = opts("z_t", "", ""))
            .container("c", |c| sc(c).se_linux_options = opts("a_t", "", ""))
            .init_container("i", |c| sc(c).se_linux_options = opts("z_t", "", ""));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"containers "i", "c", "e" set forbidden securityContext.seLinuxOptions: types "a_t", "z_t""#
            )
        );
    }
}
