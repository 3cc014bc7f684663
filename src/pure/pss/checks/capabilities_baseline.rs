//! `capabilities_baseline` (baseline, v1.0+; replaced at the restricted level from v1.22 by
//! `capabilities_restricted`).
//!
//! Containers may only add capabilities from the container runtime's default set; adding
//! `NET_RAW` or anything more powerful is forbidden.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.capabilities.add`,
//! `spec.initContainers[*].securityContext.capabilities.add`,
//! `spec.ephemeralContainers[*].securityContext.capabilities.add`.
//!
//! **Allowed values:** undefined/empty, or entries from `AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`,
//! `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`,
//! `SETUID`, `SYS_CHROOT` (exact, case-sensitive names).
//!
//! **Implementations:** a single v1.0 implementation.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::level::Level;
use crate::model::pod::Container;
use crate::pss::checks::containers_where;
use crate::pss::msg::{containers, detail_buffer, quoted};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "capabilities_baseline",
    control: "Capabilities",
    summary: "Containers must not add capabilities beyond the default set of container runtimes.",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: capabilities_baseline_v1_0, overrides: &[] }],
};

/// The capabilities Baseline lets containers add (the container runtime defaults).
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The container's `capabilities.add` entries (empty when unset).
pub(super) fn added(c: &Container) -> &[String] {
    c.security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|caps| caps.add.as_deref())
        .unwrap_or_default()
}

/// Appends `C(names) must not include Q(sorted distinct caps) in
/// securityContext.capabilities.add` to `out`, for the containers named and the added
/// capabilities `allowed` rejects.
pub(super) fn write_forbidden_add(
    out: &mut String,
    pod: &PodView<'_>,
    names: &[&str],
    allowed: impl Fn(&str) -> bool,
) {
    let caps: BTreeSet<&str> = pod
        .spec
        .all_containers()
        .flat_map(added)
        .map(String::as_str)
        .filter(|cap| !allowed(cap))
        .collect();
    let _ = write!(
        out,
        "{} must not include {} in securityContext.capabilities.add",
        containers(names),
        quoted(&caps)
    );
}

fn is_default(cap: &str) -> bool {
    DEFAULT_CAPABILITIES.contains(&cap)
}

fn capabilities_baseline_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad = containers_where(pod.spec, |c| added(c).iter().any(|cap| !is_default(cap)));
    if bad.is_empty() {
        return None;
    }
    let mut detail = detail_buffer();
    write_forbidden_add(&mut detail, pod, &bad, is_default);
    Some(Forbidden::new("non-default capabilities", detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Capabilities;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn add(caps: &[&str]) -> Option<Capabilities> {
        Some(Capabilities { add: Some(caps.iter().map(|s| (*s).to_owned()).collect()), drop: None })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("non-default capabilities", detail))
    }

    /// Upstream's "multiple containers" case.
    #[test]
    fn multiple_containers() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).capabilities = add(&["FOO", "BAR"]))
            .container("b", |c| sc(c).capabilities = add(&["BAR", "BAZ"]));
        assert_eq!(
            run(&CHECK, 0, &pod),
            forbidden(
                r#"containers "a", "b" must not include "BAR", "BAZ", "FOO" in securityContext.capabilities.add"#
            )
        );
    }

    #[test]
    fn default_set_is_allowed_and_drop_is_ignored() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).capabilities = add(DEFAULT_CAPABILITIES))
            .init_container("i", |c| {
                sc(c).capabilities =
                    Some(Capabilities { add: None, drop: Some(vec!["SYS_ADMIN".into()]) })
            })
            .ephemeral_container("e", |c| sc(c).capabilities = add(&[]));
        assert_eq!(run(&CHECK, 37, &pod), None);
    }

    /// Matching is exact: lower case and the `CAP_` prefix are not normalised.
    #[test]
    fn exact_case_sensitive_names() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).capabilities = add(&["chown", "CHOWN"]))
            .ephemeral_container("e", |c| sc(c).capabilities = add(&["CAP_CHOWN"]));
        assert_eq!(
            run(&CHECK, 0, &pod),
            forbidden(
                r#"containers "a", "e" must not include "CAP_CHOWN", "chown" in securityContext.capabilities.add"#
            )
        );
        let one = PodBuilder::new().init_container("i", |c| sc(c).capabilities = add(&["NET_RAW"]));
        assert_eq!(
            run(&CHECK, 37, &one),
            forbidden(
                r#"container "i" must not include "NET_RAW" in securityContext.capabilities.add"#
            )
        );
    }
}
