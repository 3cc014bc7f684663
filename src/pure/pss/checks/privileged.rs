//! `privileged` (baseline, v1.0+).
//!
//! Privileged containers disable most security mechanisms and must be disallowed.
//!
//! **Restricted fields:** `spec.containers[*].securityContext.privileged`,
//! `spec.initContainers[*].securityContext.privileged`,
//! `spec.ephemeralContainers[*].securityContext.privileged`.
//!
//! **Allowed values:** `false`, undefined/null.

use crate::model::level::Level;
use crate::pss::checks::containers_where;
use crate::pss::msg::containers_phrase;
use crate::pss::{Check, Forbidden, PodView, VersionedCheck};

pub static CHECK: Check = Check {
    id: "privileged",
    control: "Privileged Containers",
    summary: "Containers must not run privileged.",
    level: Level::Baseline,
    versions: &[VersionedCheck { min: 0, check: privileged_v1_0, overrides: &[] }],
};

fn privileged_v1_0(pod: &PodView<'_>) -> Option<Forbidden> {
    let bad = containers_where(pod.spec, |c| {
        c.security_context.as_ref().and_then(|s| s.privileged) == Some(true)
    });
    if bad.is_empty() {
        return None;
    }
    Some(Forbidden::new(
        "privileged",
        format!("{} must not set securityContext.privileged=true", containers_phrase(&bad)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{PodBuilder, run, sc};

    #[test]
    fn privileged_containers_are_named_in_visit_order() {
        let pod = PodBuilder::new()
            .container("a", |c| sc(c).privileged = Some(true))
            .init_container("i", |c| sc(c).privileged = Some(true))
            .container("b", |c| sc(c).privileged = Some(false))
            .ephemeral_container("e", |c| sc(c).privileged = Some(true));
        assert_eq!(
            run(&CHECK, 0, &pod),
            Some(Forbidden::new(
                "privileged",
                r#"containers "i", "a", "e" must not set securityContext.privileged=true"#
            ))
        );
        let ok = PodBuilder::new().container("a", |c| sc(c).privileged = Some(false));
        assert_eq!(run(&CHECK, 37, &ok), None);
    }
}
