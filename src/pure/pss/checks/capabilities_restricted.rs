//! `capabilities_restricted` (restricted, v1.22+; replaces `capabilities_baseline` at the
//! restricted level).
//!
//! Every container must drop all capabilities and may add back only `NET_BIND_SERVICE`.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.capabilities.drop`,
//! `spec.initContainers[*].securityContext.capabilities.drop`,
//! `spec.ephemeralContainers[*].securityContext.capabilities.drop`;
//! `spec.containers[*].securityContext.capabilities.add`,
//! `spec.initContainers[*].securityContext.capabilities.add`,
//! `spec.ephemeralContainers[*].securityContext.capabilities.add`.
//!
//! **Allowed values:** `drop` must contain `ALL`; `add` undefined/empty or only
//! `NET_BIND_SERVICE`.
//!
//! **Implementations:** v1.22 checks every container; v1.25 additionally admits any pod whose
//! `spec.os.name` is `windows`. Both override `capabilities_baseline`.

use crate::model::level::Level;
use crate::model::pod::Container;
use std::fmt::Write;

use crate::pss::checks::capabilities_baseline::{added, write_forbidden_add};
use crate::pss::checks::containers_where;
use crate::pss::msg::{containers, detail_buffer};
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "capabilities_restricted",
    control: "Capabilities (restricted)",
    summary: "Containers must drop ALL capabilities and may add back only NET_BIND_SERVICE (Windows pods exempt from v1.25).",
    level: Level::Restricted,
    versions: &[
        VersionedCheck {
            min: 22,
            check: capabilities_restricted_v1_22,
            overrides: &["capabilities_baseline"],
        },
        VersionedCheck {
            min: 25,
            check: capabilities_restricted_v1_25,
            overrides: &["capabilities_baseline"],
        },
    ],
};

fn drops_all(c: &Container) -> bool {
    c.security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|caps| caps.drop.as_deref())
        .is_some_and(|drop| drop.iter().any(|cap| cap == "ALL"))
}

fn allowed_add(cap: &str) -> bool {
    cap == "NET_BIND_SERVICE"
}

fn capabilities_restricted_v1_22(pod: &PodView<'_>) -> Option<Forbidden> {
    let missing_drop = containers_where(pod.spec, |c| !drops_all(c));
    let bad_add = containers_where(pod.spec, |c| added(c).iter().any(|cap| !allowed_add(cap)));
    if missing_drop.is_empty() && bad_add.is_empty() {
        return None;
    }
    // One or both parts, joined by "; ".
    let mut detail = detail_buffer();
    if !missing_drop.is_empty() {
        let _ = write!(
            detail,
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers(&missing_drop)
        );
    }
    if !bad_add.is_empty() {
        if !detail.is_empty() {
            detail.push_str("; ");
        }
        write_forbidden_add(&mut detail, pod, &bad_add, allowed_add);
    }
    Some(Forbidden::new("unrestricted capabilities", detail))
}

fn capabilities_restricted_v1_25(pod: &PodView<'_>) -> Option<Forbidden> {
    if pod.spec.is_windows() {
        return None;
    }
    capabilities_restricted_v1_22(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Capabilities;
    use crate::pss::testing::{PodBuilder, run, sc};

    fn caps(add: &[&str], drop: &[&str]) -> Option<Capabilities> {
        let list = |xs: &[&str]| Some(xs.iter().map(|s| (*s).to_owned()).collect());
        Some(Capabilities { add: list(add), drop: list(drop) })
    }

    fn forbidden(detail: &str) -> Option<Forbidden> {
        Some(Forbidden::new("unrestricted capabilities", detail))
    }

    /// Upstream's "multiple containers" case, at both implementations.
    #[test]
    fn multiple_containers() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).capabilities = caps(&["FOO", "BAR"], &[]))
            .container("b", |c| sc(c).capabilities = caps(&["BAR", "BAZ"], &[]))
            .container("c", |c| {
                sc(c).capabilities = caps(&["NET_BIND_SERVICE", "CHOWN"], &["ALL", "FOO"])
            });
        let detail = concat!(
            r#"containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; "#,
            r#"containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add"#
        );
        assert_eq!(run(&CHECK, 22, &pod), forbidden(detail));
        assert_eq!(run(&CHECK, 25, &pod), forbidden(detail));
    }

    /// No security context, or no capabilities, counts as not dropping ALL; `all` in lower case
    /// does not count either. Ephemeral containers are checked.
    #[test]
    fn missing_drop_all() {
        let pod = PodBuilder::new()
            .init_container("i", |_| {})
            .container("a", |c| sc(c).capabilities = None)
            .container("b", |c| sc(c).capabilities = caps(&[], &["all"]))
            .container("ok", |c| sc(c).capabilities = caps(&["NET_BIND_SERVICE"], &["ALL"]))
            .ephemeral_container("e", |c| sc(c).capabilities = caps(&[], &[]));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"containers "i", "a", "b", "e" must set securityContext.capabilities.drop=["ALL"]"#
            )
        );
    }

    #[test]
    fn only_forbidden_add() {
        let pod = PodBuilder::new()
            .container("ok", |c| sc(c).capabilities = caps(&[], &["ALL"]))
            .ephemeral_container("e", |c| sc(c).capabilities = caps(&["CHOWN"], &["ALL"]));
        assert_eq!(
            run(&CHECK, 37, &pod),
            forbidden(
                r#"container "e" must not include "CHOWN" in securityContext.capabilities.add"#
            )
        );
    }

    /// Upstream's Windows/Linux cases: the exemption applies from v1.25 only.
    #[test]
    fn windows_exemption_from_v1_25() {
        let windows = PodBuilder::new().os("windows").container("a", |_| {});
        let detail = r#"container "a" must set securityContext.capabilities.drop=["ALL"]"#;
        assert_eq!(run(&CHECK, 24, &windows), forbidden(detail));
        assert_eq!(run(&CHECK, 25, &windows), None);
        let linux = PodBuilder::new().os("linux").container("a", |_| {});
        assert_eq!(run(&CHECK, 25, &linux), forbidden(detail));
    }

    #[test]
    fn starts_at_v1_22() {
        assert!(CHECK.at(21).is_none());
        assert!(CHECK.at(22).is_some());
    }
}
